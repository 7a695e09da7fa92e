using System.Collections.Concurrent;
using FactoryGateway.OpcUa.Encoding;
using FactoryGateway.OpcUa.Services;

namespace FactoryGateway.OpcUa.Server;

/// <summary>Namespace-0 nodes (OPC 10000-6 NodeIds.csv) the server's address space is built from.</summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1720:Identifier contains type name", Justification = "The names are the data types of OPC 10000-3.")]
public static class UaNodeIds
{
    public static NodeId References { get; } = new(31u);
    public static NodeId NonHierarchicalReferences { get; } = new(32u);
    public static NodeId HierarchicalReferences { get; } = new(33u);
    public static NodeId HasChild { get; } = new(34u);
    public static NodeId Organizes { get; } = new(35u);
    public static NodeId HasEventSource { get; } = new(36u);
    public static NodeId HasModellingRule { get; } = new(37u);
    public static NodeId HasEncoding { get; } = new(38u);
    public static NodeId HasDescription { get; } = new(39u);
    public static NodeId HasTypeDefinition { get; } = new(40u);
    public static NodeId GeneratesEvent { get; } = new(41u);
    public static NodeId Aggregates { get; } = new(44u);
    public static NodeId HasSubtype { get; } = new(45u);
    public static NodeId HasProperty { get; } = new(46u);
    public static NodeId HasComponent { get; } = new(47u);
    public static NodeId HasNotifier { get; } = new(48u);
    public static NodeId HasOrderedComponent { get; } = new(49u);
    public static NodeId HasInterface { get; } = new(17603u);
    public static NodeId HasAddIn { get; } = new(17604u);

    public static NodeId BaseObjectType { get; } = new(58u);
    public static NodeId FolderType { get; } = new(61u);
    public static NodeId BaseVariableType { get; } = new(62u);
    public static NodeId BaseDataVariableType { get; } = new(63u);
    public static NodeId PropertyType { get; } = new(68u);
    public static NodeId ServerType { get; } = new(2004u);
    public static NodeId ServerCapabilitiesType { get; } = new(2013u);
    public static NodeId ServerStatusType { get; } = new(2138u);
    public static NodeId StateMachineType { get; } = new(2299u);
    public static NodeId StateType { get; } = new(2307u);
    public static NodeId StateVariableType { get; } = new(2755u);
    public static NodeId FiniteStateVariableType { get; } = new(2760u);
    public static NodeId FiniteStateMachineType { get; } = new(2771u);
    public static NodeId OperationLimitsType { get; } = new(11564u);

    public static NodeId BaseDataType { get; } = new(24u);
    public static NodeId Boolean { get; } = new(1u);
    public static NodeId Byte { get; } = new(3u);
    public static NodeId UInt16 { get; } = new(5u);
    public static NodeId Int32 { get; } = new(6u);
    public static NodeId UInt32 { get; } = new(7u);
    public static NodeId Int64 { get; } = new(8u);
    public static NodeId Double { get; } = new(11u);
    public static NodeId String { get; } = new(12u);
    public static NodeId DateTime { get; } = new(13u);
    public static NodeId NodeId { get; } = new(17u);
    public static NodeId QualifiedName { get; } = new(20u);
    public static NodeId LocalizedText { get; } = new(21u);
    public static NodeId Structure { get; } = new(22u);
    public static NodeId Number { get; } = new(26u);
    public static NodeId Integer { get; } = new(27u);
    public static NodeId UInteger { get; } = new(28u);
    public static NodeId Enumeration { get; } = new(29u);
    public static NodeId Duration { get; } = new(290u);
    public static NodeId UtcTime { get; } = new(294u);
    public static NodeId BuildInfo { get; } = new(338u);
    public static NodeId ServerState { get; } = new(852u);
    public static NodeId ServerStatusDataType { get; } = new(862u);

    public static NodeId RootFolder { get; } = new(84u);
    public static NodeId ObjectsFolder { get; } = new(85u);
    public static NodeId TypesFolder { get; } = new(86u);
    public static NodeId ViewsFolder { get; } = new(87u);
    public static NodeId ObjectTypesFolder { get; } = new(88u);
    public static NodeId VariableTypesFolder { get; } = new(89u);
    public static NodeId DataTypesFolder { get; } = new(90u);
    public static NodeId ReferenceTypesFolder { get; } = new(91u);
}

/// <summary>
/// The nodes a server exposes: the namespace table, the nodes by NodeId and a builder API for
/// Machinery-style models (folders, objects, variables, properties, types, references). Nodes are
/// added under a lock and read without one. <see cref="SetValue"/> stores a variable's value and
/// tells the monitored items on it.
/// </summary>
public sealed class UaAddressSpace
{
    /// <summary>The OPC UA namespace (index 0).</summary>
    public const string UaNamespace = "http://opcfoundation.org/UA/";

    private readonly ConcurrentDictionary<NodeId, UaNode> _nodes = new();
    private readonly Lock _sync = new();
    private string[] _namespaces;
    private readonly TimeProvider _time;

    /// <summary>Creates an address space with the namespace-0 base nodes; <paramref name="applicationUri"/> is namespace 1.</summary>
    public UaAddressSpace(string applicationUri, TimeProvider? time = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(applicationUri);
        _namespaces = [UaNamespace, applicationUri];
        _time = time ?? TimeProvider.System;
        UaBaseNodes.Add(this);
    }

    /// <summary>The namespace table (Server.NamespaceArray).</summary>
    public IReadOnlyList<string> NamespaceUris => Volatile.Read(ref _namespaces);

    public int NodeCount => _nodes.Count;

    /// <summary>Raised after a client wrote a variable's value (on the connection's reader thread).</summary>
    public event EventHandler<UaValueWrittenEventArgs>? ValueWritten;

    /// <summary>The index of a namespace URI, added to the table when new.</summary>
    public ushort RegisterNamespace(string uri)
    {
        ArgumentException.ThrowIfNullOrEmpty(uri);
        lock (_sync)
        {
            int index = Array.IndexOf(_namespaces, uri);
            if (index >= 0)
            {
                return (ushort)index;
            }

            _namespaces = [.. _namespaces, uri];
            return (ushort)(_namespaces.Length - 1);
        }
    }

    /// <summary>A numeric NodeId in the namespace <paramref name="namespaceUri"/> (registered when new).</summary>
    public NodeId Id(string namespaceUri, uint identifier) => new(identifier, RegisterNamespace(namespaceUri));

    /// <summary>A string NodeId in the namespace <paramref name="namespaceUri"/> (registered when new).</summary>
    public NodeId Id(string namespaceUri, string identifier) => new(identifier, RegisterNamespace(namespaceUri));

    /// <summary>A browse name in the namespace <paramref name="namespaceUri"/> (registered when new).</summary>
    public QualifiedName Name(string namespaceUri, string name) => new(RegisterNamespace(namespaceUri), name);

    public UaNode? Find(NodeId nodeId) => nodeId is null ? null : _nodes.GetValueOrDefault(nodeId);

    public UaNode Get(NodeId nodeId) => Find(nodeId) ?? throw new KeyNotFoundException($"node {nodeId} is not in the address space.");

    /// <summary>Adds a node; a NodeId already in use throws.</summary>
    public UaNode Add(UaNode node)
    {
        ArgumentNullException.ThrowIfNull(node);
        if (!_nodes.TryAdd(node.NodeId, node))
        {
            throw new ArgumentException($"node {node.NodeId} already exists.", nameof(node));
        }

        return node;
    }

    /// <summary>Adds a reference and its inverse on the target (when the target is here).</summary>
    public void AddReference(NodeId source, NodeId referenceType, NodeId target)
    {
        UaNode from = Get(source);
        lock (_sync)
        {
            from.AddReferenceCore(new UaReference(referenceType, true, target));
            Find(target)?.AddReferenceCore(new UaReference(referenceType, false, source));
        }
    }

    /// <summary>Adds an object (or, with NodeClass ObjectType etc., any node) below <paramref name="parent"/>.</summary>
    public UaNode AddObject(NodeId parent, NodeId nodeId, QualifiedName browseName, NodeId typeDefinition, NodeId? referenceType = null, string? description = null)
    {
        UaNode node = Add(new UaNode(nodeId, NodeClass.Object, browseName, Text(browseName)) { Description = description is null ? null : new LocalizedText(null, description) });
        AddReference(nodeId, UaNodeIds.HasTypeDefinition, typeDefinition);
        AddReference(parent, referenceType ?? UaNodeIds.HasComponent, nodeId);
        return node;
    }

    /// <summary>Adds a FolderType object organised by <paramref name="parent"/>.</summary>
    public UaNode AddFolder(NodeId parent, NodeId nodeId, QualifiedName browseName, string? description = null) =>
        AddObject(parent, nodeId, browseName, UaNodeIds.FolderType, UaNodeIds.Organizes, description);

    /// <summary>Adds a variable (BaseDataVariableType, HasComponent unless told otherwise) with an initial value.</summary>
    public UaNode AddVariable(
        NodeId parent, NodeId nodeId, QualifiedName browseName, NodeId dataType, Variant initialValue,
        NodeId? referenceType = null, NodeId? typeDefinition = null, int valueRank = -1, bool writable = false, double minimumSamplingInterval = 0)
    {
        UaNode node = Add(new UaNode(nodeId, NodeClass.Variable, browseName, Text(browseName))
        {
            DataType = dataType,
            ValueRank = valueRank,
            AccessLevel = writable ? (byte)3 : (byte)1,
            MinimumSamplingInterval = minimumSamplingInterval,
        });
        node.SetValueCore(new DataValue(initialValue, default, Now, Now));
        AddReference(nodeId, UaNodeIds.HasTypeDefinition, typeDefinition ?? UaNodeIds.BaseDataVariableType);
        AddReference(parent, referenceType ?? UaNodeIds.HasComponent, nodeId);
        return node;
    }

    /// <summary>Adds a read-only property (PropertyType, HasProperty).</summary>
    public UaNode AddProperty(NodeId parent, NodeId nodeId, QualifiedName browseName, NodeId dataType, Variant value, int valueRank = -1) =>
        AddVariable(parent, nodeId, browseName, dataType, value, UaNodeIds.HasProperty, UaNodeIds.PropertyType, valueRank);

    /// <summary>Adds a variable whose value is computed on every read.</summary>
    public UaNode AddComputedVariable(NodeId parent, NodeId nodeId, QualifiedName browseName, NodeId dataType, Func<DataValue> source, NodeId? referenceType = null, NodeId? typeDefinition = null, int valueRank = -1)
    {
        UaNode node = Add(new UaNode(nodeId, NodeClass.Variable, browseName, Text(browseName)) { DataType = dataType, ValueRank = valueRank, ValueSource = source });
        AddReference(nodeId, UaNodeIds.HasTypeDefinition, typeDefinition ?? UaNodeIds.BaseDataVariableType);
        AddReference(parent, referenceType ?? UaNodeIds.HasComponent, nodeId);
        return node;
    }

    /// <summary>Adds an ObjectType, VariableType, DataType or ReferenceType as a subtype of <paramref name="superType"/>.</summary>
    public UaNode AddType(NodeClass nodeClass, NodeId nodeId, QualifiedName browseName, NodeId? superType, bool isAbstract = false, string? inverseName = null, bool symmetric = false)
    {
        if (nodeClass is not (NodeClass.ObjectType or NodeClass.VariableType or NodeClass.DataType or NodeClass.ReferenceType))
        {
            throw new ArgumentOutOfRangeException(nameof(nodeClass), nodeClass, "a type is an ObjectType, VariableType, DataType or ReferenceType.");
        }

        UaNode node = Add(new UaNode(nodeId, nodeClass, browseName, Text(browseName))
        {
            IsAbstract = isAbstract,
            Symmetric = symmetric,
            InverseName = inverseName is null ? null : new LocalizedText(null, inverseName),
            ValueRank = -2,
            DataType = nodeClass == NodeClass.VariableType ? UaNodeIds.BaseDataType : NodeId.Null,
        });
        if (superType is not null)
        {
            AddReference(superType, UaNodeIds.HasSubtype, nodeId);
        }

        return node;
    }

    /// <summary>
    /// Sets a variable's value, status and source timestamp (the server timestamp is now) and tells
    /// the monitored items on it. Throws for an unknown node or one that is not a variable.
    /// </summary>
    public void SetValue(NodeId nodeId, Variant value, DateTime sourceTimestamp, StatusCode status = default)
    {
        UaNode node = Get(nodeId);
        if (node.NodeClass != NodeClass.Variable || node.ValueSource is not null)
        {
            throw new InvalidOperationException($"{node} is not a variable with a stored value.");
        }

        var dataValue = new DataValue(value, status, DateTime.SpecifyKind(sourceTimestamp, DateTimeKind.Utc), Now);
        node.SetValueCore(dataValue);
        foreach (ServerMonitoredItem item in node.Monitors)
        {
            item.OnValueChanged(dataValue);
        }
    }

    internal DateTime Now => _time.GetUtcNow().UtcDateTime;

    internal void RaiseWritten(UaNode node, DataValue value) => ValueWritten?.Invoke(this, new UaValueWrittenEventArgs(node.NodeId, value));

    /// <summary>True when <paramref name="type"/> is <paramref name="baseType"/> or one of its subtypes (HasSubtype, forward).</summary>
    public bool IsSubtypeOf(NodeId type, NodeId baseType)
    {
        NodeId? current = type;
        for (int depth = 0; current is not null && depth < 32; depth++)
        {
            if (current == baseType)
            {
                return true;
            }

            current = SuperType(current);
        }

        return false;
    }

    private NodeId? SuperType(NodeId type)
    {
        UaNode? node = Find(type);
        if (node is null)
        {
            return null;
        }

        foreach (UaReference r in node.References)
        {
            if (!r.IsForward && r.ReferenceTypeId == UaNodeIds.HasSubtype)
            {
                return r.TargetId;
            }
        }

        return null;
    }

    /// <summary>The node a forward HasTypeDefinition reference points to, or null.</summary>
    public static NodeId? TypeDefinition(UaNode node)
    {
        ArgumentNullException.ThrowIfNull(node);
        foreach (UaReference r in node.References)
        {
            if (r.IsForward && r.ReferenceTypeId == UaNodeIds.HasTypeDefinition)
            {
                return r.TargetId;
            }
        }

        return null;
    }

    internal static LocalizedText Text(QualifiedName name) => new(null, name.Name);
}

/// <summary>A client wrote a variable (Write service).</summary>
public sealed class UaValueWrittenEventArgs(NodeId nodeId, DataValue value) : EventArgs
{
    public NodeId NodeId { get; } = nodeId;

    public DataValue Value { get; } = value;
}
