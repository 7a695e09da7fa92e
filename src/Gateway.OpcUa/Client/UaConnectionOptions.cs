using FactoryGateway.OpcUa.Encoding;
using FactoryGateway.OpcUa.Services;

namespace FactoryGateway.OpcUa.Client;

/// <summary>One element of a browse path: a browse name qualified by its namespace URI (not by an index, which a server may renumber).</summary>
public sealed record UaBrowseName(string NamespaceUri, string Name)
{
    public override string ToString() => $"{NamespaceUri}:{Name}";
}

/// <summary>
/// A node named so that it survives a server restart: an <see cref="ExpandedNodeId"/> in text form
/// (<c>nsu=urn:plant:line7;s=Spindle.Speed</c>; <c>ns=</c> and namespace 0 work too, but an <c>ns=</c>
/// index is taken as it is), or a browse path of namespace-URI-qualified browse names from a starting
/// node (by default the Objects folder). The connection resolves it again after every reconnect:
/// <c>nsu=</c> through the server's NamespaceArray, a path with TranslateBrowsePathsToNodeIds.
/// </summary>
public sealed record UaNodeReference
{
    private UaNodeReference(ExpandedNodeId? nodeId, ExpandedNodeId? startingNode, IReadOnlyList<UaBrowseName> path)
    {
        NodeId = nodeId;
        StartingNode = startingNode;
        Path = path;
    }

    /// <summary>The node id, or null for a browse path.</summary>
    public ExpandedNodeId? NodeId { get; }

    /// <summary>Where a browse path starts, or null for a node id.</summary>
    public ExpandedNodeId? StartingNode { get; }

    /// <summary>The browse path (empty for a node id).</summary>
    public IReadOnlyList<UaBrowseName> Path { get; }

    public bool IsBrowsePath => NodeId is null;

    /// <summary>Parses an ExpandedNodeId text form (<c>[nsu=uri;|ns=n;](i=|s=|g=|b=)id</c>); throws <see cref="FormatException"/>.</summary>
    public static UaNodeReference Parse(string nodeId) => new(ExpandedNodeId.Parse(nodeId), null, []);

    /// <summary>A browse path from the Objects folder (or <paramref name="startingNode"/>, an ExpandedNodeId text form).</summary>
    public static UaNodeReference FromBrowsePath(IReadOnlyList<UaBrowseName> path, string? startingNode = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (path.Count == 0 || path.Any(p => p is null || string.IsNullOrEmpty(p.Name) || p.NamespaceUri is null))
        {
            throw new ArgumentException("a browse path needs at least one element, each with a name and a namespace URI.", nameof(path));
        }

        ExpandedNodeId start = startingNode is null ? new ExpandedNodeId(WellKnownNodes.ObjectsFolder) : ExpandedNodeId.Parse(startingNode);
        return new UaNodeReference(null, start, [.. path]);
    }

    public bool Equals(UaNodeReference? other) =>
        other is not null && Equals(NodeId, other.NodeId) && Equals(StartingNode, other.StartingNode) && Path.SequenceEqual(other.Path);

    public override int GetHashCode() => HashCode.Combine(NodeId, StartingNode, Path.Count);

    public override string ToString() => NodeId?.ToString() ?? $"{StartingNode}/{string.Join('/', Path)}";
}

/// <summary>
/// One monitored item of a declared subscription; <see cref="Key"/> is what the consumer knows it by. An item on
/// <see cref="AttributeIds.EventNotifier"/> with an <see cref="EventFilter"/> delivers events (<see cref="UaEvents"/>);
/// after creating a subscription with such an item the connection calls ConditionRefresh.
/// </summary>
public sealed record UaMonitoredItemSpec(string Key, UaNodeReference Node)
{
    /// <summary>The attribute to monitor: Value (the default) or EventNotifier.</summary>
    public uint AttributeId { get; init; } = AttributeIds.Value;

    /// <summary>Milliseconds; -1 = the publishing interval (the default), 0 = the fastest the server supports.</summary>
    public double SamplingInterval { get; init; } = -1;

    /// <summary>Default 1: the latest value per publishing interval, as telemetry needs.</summary>
    public uint QueueSize { get; init; } = 1;

    public MonitoringFilter? Filter { get; init; }

    public bool IsEventItem => AttributeId == AttributeIds.EventNotifier;
}

/// <summary>A subscription the connection keeps alive: its settings and its monitored items.</summary>
public sealed record UaSubscriptionSpec(string Name, IReadOnlyList<UaMonitoredItemSpec> Items)
{
    public UaSubscriptionOptions Options { get; init; } = new();
}

/// <summary>What the delivery channel does when the consumer falls behind.</summary>
public enum UaDeliveryOverflowPolicy
{
    /// <summary>The subscription pumps wait (counted in <see cref="UaConnection.DeliveryFullWaits"/>): backpressure reaches the Publish pipeline, so the server's queues and discard policy decide; nothing is dropped in the client.</summary>
    Wait = 0,

    /// <summary>The oldest queued event is dropped (counted in <see cref="UaConnection.DroppedEvents"/>) so the newest always gets in.</summary>
    DropOldest = 1,
}

/// <summary>Settings of a <see cref="UaConnection"/>. Validated by its constructor.</summary>
public sealed class UaConnectionOptions
{
    /// <summary>The server's endpoint, <c>opc.tcp://host:port/path</c>. Required.</summary>
    public string EndpointUrl { get; set; } = string.Empty;

    public UaSessionOptions Session { get; set; } = new();

    /// <summary>The subscriptions and monitored items the connection keeps; names must be unique, and item keys unique within a subscription.</summary>
    public IList<UaSubscriptionSpec> Subscriptions { get; init; } = [];

    /// <summary>
    /// First delay before reconnecting. Default 1 s: the OPC Foundation .NET stack's
    /// SessionReconnectHandler default reconnect period.
    /// </summary>
    public TimeSpan InitialReconnectDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Longest delay between connection attempts; the delay doubles from <see cref="InitialReconnectDelay"/>
    /// up to this. Default 10 s: a restarted PLC or server is back in use within about 10 s of
    /// accepting connections, while a dead one sees at most six attempts a minute.
    /// </summary>
    public TimeSpan MaxReconnectDelay { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Share of each delay that is random (0 = none, 1 = anywhere from zero to the full delay). Default
    /// 0.5 ("equal jitter"): many gateways that lost the same server do not reconnect in lock step, and
    /// each still waits at least half the delay.
    /// </summary>
    public double ReconnectJitter { get; set; } = 0.5;

    /// <summary>
    /// After a lost connection, first ask the server to move the old session's subscriptions to the new
    /// session (TransferSubscriptions) before creating them again. Default true: OPC 10000-4 §6.7 names
    /// it the way to keep monitored items and queued notifications across a network outage.
    /// </summary>
    public bool TransferSubscriptions { get; set; } = true;

    /// <summary>
    /// Events buffered for the consumer (data messages, gaps, state changes). Default 1,024: at one
    /// NotificationMessage per subscription per second, about 17 minutes of a single subscription.
    /// </summary>
    public int DeliveryCapacity { get; set; } = 1024;

    /// <summary>Default <see cref="UaDeliveryOverflowPolicy.Wait"/>: an edge buffers to disk behind the consumer and must not lose samples.</summary>
    public UaDeliveryOverflowPolicy DeliveryOverflow { get; set; } = UaDeliveryOverflowPolicy.Wait;

    public UaConnectionOptions Validate()
    {
        if (!Uri.TryCreate(EndpointUrl, UriKind.Absolute, out Uri? url) || url.Scheme != "opc.tcp")
        {
            throw new ArgumentException($"UaConnectionOptions.EndpointUrl must be an opc.tcp:// URL; it is '{EndpointUrl}'.", nameof(EndpointUrl));
        }

        ArgumentNullException.ThrowIfNull(Session);
        Session.Validate();
        ArgumentNullException.ThrowIfNull(Subscriptions);
        Check(InitialReconnectDelay, TimeSpan.FromMilliseconds(10), TimeSpan.FromHours(1), nameof(InitialReconnectDelay));
        Check(MaxReconnectDelay, InitialReconnectDelay, TimeSpan.FromHours(1), nameof(MaxReconnectDelay));
        if (!(ReconnectJitter >= 0 && ReconnectJitter <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(ReconnectJitter), ReconnectJitter, "UaConnectionOptions.ReconnectJitter must be between 0 and 1.");
        }

        if (DeliveryCapacity is < 1 or > 1_000_000)
        {
            throw new ArgumentOutOfRangeException(nameof(DeliveryCapacity), DeliveryCapacity, "UaConnectionOptions.DeliveryCapacity must be between 1 and 1,000,000.");
        }

        if (!Enum.IsDefined(DeliveryOverflow))
        {
            throw new ArgumentOutOfRangeException(nameof(DeliveryOverflow), DeliveryOverflow, "UaConnectionOptions.DeliveryOverflow is not a known policy.");
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (UaSubscriptionSpec spec in Subscriptions)
        {
            ArgumentNullException.ThrowIfNull(spec);
            ArgumentNullException.ThrowIfNull(spec.Items);
            ArgumentNullException.ThrowIfNull(spec.Options);
            spec.Options.Validate();
            if (string.IsNullOrEmpty(spec.Name) || !names.Add(spec.Name))
            {
                throw new ArgumentException($"UaConnectionOptions.Subscriptions: subscription names must be non-empty and unique ('{spec.Name}').", nameof(Subscriptions));
            }

            var keys = new HashSet<string>(StringComparer.Ordinal);
            foreach (UaMonitoredItemSpec item in spec.Items)
            {
                ArgumentNullException.ThrowIfNull(item);
                ArgumentNullException.ThrowIfNull(item.Node);
                if (string.IsNullOrEmpty(item.Key) || !keys.Add(item.Key))
                {
                    throw new ArgumentException($"UaConnectionOptions.Subscriptions: item keys in subscription '{spec.Name}' must be non-empty and unique ('{item.Key}').", nameof(Subscriptions));
                }

                if (item.IsEventItem != item.Filter is EventFilter)
                {
                    throw new ArgumentException($"UaConnectionOptions.Subscriptions: item '{item.Key}' of subscription '{spec.Name}': an EventFilter goes with the EventNotifier attribute and only with it.", nameof(Subscriptions));
                }
            }
        }

        return this;
    }

    private static void Check(TimeSpan value, TimeSpan min, TimeSpan max, string name)
    {
        if (value < min || value > max)
        {
            throw new ArgumentOutOfRangeException(name, value, $"UaConnectionOptions.{name} must be between {min} and {max}; it is {value}.");
        }
    }
}
