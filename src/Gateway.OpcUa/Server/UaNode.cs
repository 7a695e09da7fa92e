using FactoryGateway.OpcUa.Encoding;
using FactoryGateway.OpcUa.Services;

namespace FactoryGateway.OpcUa.Server;

/// <summary>One reference of a node: its type, direction and the node at the other end (OPC 10000-3 §4.3.4).</summary>
public readonly record struct UaReference(NodeId ReferenceTypeId, bool IsForward, NodeId TargetId);

/// <summary>
/// A node of the server's address space (OPC 10000-3 §5). One class carries the attributes of every
/// node class; the attributes a node class does not have are not readable (BadAttributeIdInvalid).
/// References are an immutable array swapped on change, so Browse reads them without a lock.
/// </summary>
public sealed class UaNode
{
    private UaReference[] _references = [];
    private volatile DataValue _value = new();
    private ServerMonitoredItem[] _monitors = [];

    internal UaNode(NodeId nodeId, NodeClass nodeClass, QualifiedName browseName, LocalizedText displayName)
    {
        NodeId = nodeId;
        NodeClass = nodeClass;
        BrowseName = browseName;
        DisplayName = displayName;
    }

    public NodeId NodeId { get; }

    public NodeClass NodeClass { get; }

    public QualifiedName BrowseName { get; }

    public LocalizedText DisplayName { get; }

    public LocalizedText? Description { get; init; }

    /// <summary>Variables and VariableTypes: the data type's NodeId.</summary>
    public NodeId DataType { get; init; } = NodeId.Null;

    /// <summary>Variables and VariableTypes: -1 scalar, 1 one-dimensional array, -2 any (OPC 10000-3 §5.6.2).</summary>
    public int ValueRank { get; init; } = -1;

    /// <summary>Variables: CurrentRead (1) and optionally CurrentWrite (2).</summary>
    public byte AccessLevel { get; init; } = 1;

    /// <summary>Variables: the fastest rate the value changes at, in ms (0 = the server reports each change).</summary>
    public double MinimumSamplingInterval { get; init; }

    /// <summary>Types and ReferenceTypes.</summary>
    public bool IsAbstract { get; init; }

    /// <summary>ReferenceTypes.</summary>
    public bool Symmetric { get; init; }

    /// <summary>ReferenceTypes: the name of the inverse direction.</summary>
    public LocalizedText? InverseName { get; init; }

    /// <summary>Objects: 0 (this server raises no events).</summary>
    public byte EventNotifier { get; init; }

    /// <summary>
    /// A value computed on each read (Server.ServerStatus.CurrentTime and the like). Monitored items on
    /// such a variable are sampled at their sampling interval instead of being told of changes.
    /// </summary>
    public Func<DataValue>? ValueSource { get; init; }

    /// <summary>The variable's current value (a computed variable's is computed now).</summary>
    public DataValue Value => ValueSource?.Invoke() ?? _value;

    public IReadOnlyList<UaReference> References => Volatile.Read(ref _references);

    internal bool IsWritable => (AccessLevel & 2) != 0;

    internal ServerMonitoredItem[] Monitors => Volatile.Read(ref _monitors);

    internal void SetValueCore(DataValue value) => _value = value;

    internal void AddReferenceCore(UaReference reference)
    {
        UaReference[] current = _references;
        if (Array.IndexOf(current, reference) < 0)
        {
            _references = [.. current, reference];
        }
    }

    internal void AddMonitor(ServerMonitoredItem item)
    {
        while (true)
        {
            ServerMonitoredItem[] current = Volatile.Read(ref _monitors);
            if (Interlocked.CompareExchange(ref _monitors, [.. current, item], current) == current)
            {
                return;
            }
        }
    }

    internal void RemoveMonitor(ServerMonitoredItem item)
    {
        while (true)
        {
            ServerMonitoredItem[] current = Volatile.Read(ref _monitors);
            ServerMonitoredItem[] next = Array.FindAll(current, m => m != item);
            if (Interlocked.CompareExchange(ref _monitors, next, current) == current)
            {
                return;
            }
        }
    }

    public override string ToString() => $"{NodeClass} {NodeId} {BrowseName}";
}
