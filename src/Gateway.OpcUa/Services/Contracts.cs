using FactoryGateway.OpcUa.Encoding;

namespace FactoryGateway.OpcUa.Services;

/// <summary>OPC 10000-4 §7.20.</summary>
public enum MessageSecurityMode
{
    Invalid = 0,
    None = 1,
    Sign = 2,
    SignAndEncrypt = 3,
}

/// <summary>OPC 10000-4 §7.42.</summary>
public enum UserTokenType
{
    Anonymous = 0,
    UserName = 1,
    Certificate = 2,
    IssuedToken = 3,
}

/// <summary>OPC 10000-4 §7.2.</summary>
public enum ApplicationType
{
    Server = 0,
    Client = 1,
    ClientAndServer = 2,
    DiscoveryServer = 3,
}

/// <summary>OPC 10000-3 §8.29.</summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1720:Identifier contains type name", Justification = "The names are the node classes of OPC 10000-3.")]
public enum NodeClass
{
    Unspecified = 0,
    Object = 1,
    Variable = 2,
    Method = 4,
    ObjectType = 8,
    VariableType = 16,
    ReferenceType = 32,
    DataType = 64,
    View = 128,
}

/// <summary>OPC 10000-4 §7.5.</summary>
public enum BrowseDirection
{
    Forward = 0,
    Inverse = 1,
    Both = 2,
}

/// <summary>OPC 10000-4 §7.40.</summary>
public enum TimestampsToReturn
{
    Source = 0,
    Server = 1,
    Both = 2,
    Neither = 3,
}

/// <summary>OPC 10000-4 §7.21.</summary>
public enum MonitoringMode
{
    Disabled = 0,
    Sampling = 1,
    Reporting = 2,
}

/// <summary>OPC 10000-4 §7.22.2: which changes are reported.</summary>
public enum DataChangeTrigger
{
    Status = 0,
    StatusValue = 1,
    StatusValueTimestamp = 2,
}

/// <summary>OPC 10000-4 §7.22.2.</summary>
public enum DeadbandType
{
    None = 0,
    Absolute = 1,
    Percent = 2,
}

/// <summary>OPC 10000-5 §12.6 ServerState.</summary>
public enum ServerState
{
    Running = 0,
    Failed = 1,
    NoConfiguration = 2,
    Suspended = 3,
    Shutdown = 4,
    Test = 5,
    CommunicationFault = 6,
    Unknown = 7,
}

/// <summary>Attribute ids (OPC 10000-6 §A.1) this client reads.</summary>
public static class AttributeIds
{
    public const uint NodeId = 1;
    public const uint NodeClass = 2;
    public const uint BrowseName = 3;
    public const uint DisplayName = 4;
    public const uint Description = 5;
    public const uint EventNotifier = 12;
    public const uint Value = 13;
    public const uint DataType = 14;
    public const uint ValueRank = 15;
    public const uint AccessLevel = 17;
    public const uint MinimumSamplingInterval = 19;
}

/// <summary>Well-known namespace-0 nodes (OPC 10000-6 NodeIds.csv) this client uses.</summary>
public static class WellKnownNodes
{
    public static NodeId RootFolder { get; } = new(84u);
    public static NodeId ObjectsFolder { get; } = new(85u);
    public static NodeId Server { get; } = new(2253u);
    public static NodeId ServerNamespaceArray { get; } = new(2255u);
    public static NodeId ServerStatus { get; } = new(2256u);
    public static NodeId ServerStatusState { get; } = new(2259u);
    public static NodeId ServerStatusCurrentTime { get; } = new(2258u);
    public static NodeId HierarchicalReferences { get; } = new(33u);
    public static NodeId Organizes { get; } = new(35u);
    public static NodeId HasComponent { get; } = new(47u);
    public static NodeId HasEventSource { get; } = new(36u);
    public static NodeId HasNotifier { get; } = new(48u);
    public static NodeId BaseEventType { get; } = new(2041u);
    public static NodeId BaseModelChangeEventType { get; } = new(2132u);
    public static NodeId GeneralModelChangeEventType { get; } = new(2133u);
    public static NodeId ConditionType { get; } = new(2782u);
    public static NodeId ConditionRefresh { get; } = new(3875u);
    public static NodeId RefreshStartEventType { get; } = new(2787u);
    public static NodeId RefreshEndEventType { get; } = new(2788u);
    public static NodeId AlarmConditionType { get; } = new(2915u);
    public static NodeId MaxNodesPerRead { get; } = new(11705u);
    public static NodeId MaxNodesPerBrowse { get; } = new(11710u);
    public static NodeId MaxNodesPerRegisterNodes { get; } = new(11711u);
    public static NodeId MaxNodesPerTranslateBrowsePathsToNodeIds { get; } = new(11712u);
    public static NodeId MaxMonitoredItemsPerCall { get; } = new(11714u);
}

/// <summary>
/// A path of browse names from a starting node (OPC 10000-4 §7.26), following hierarchical
/// references forward, for TranslateBrowsePathsToNodeIds.
/// </summary>
public sealed record BrowsePath(NodeId StartingNode, IReadOnlyList<QualifiedName> Path);

/// <summary>A node a browse path led to; <see cref="RemainingPathIndex"/> is uint.MaxValue when the whole path was followed.</summary>
public sealed record BrowsePathTarget(ExpandedNodeId TargetId, uint RemainingPathIndex);

public sealed record BrowsePathResult(StatusCode Status, IReadOnlyList<BrowsePathTarget> Targets);

/// <summary>
/// The server's per-call operation limits (Server.ServerCapabilities.OperationLimits, OPC 10000-5
/// §6.3.11) this client sizes its batches by; 0 means the server sets no limit.
/// </summary>
public sealed record OperationLimits(uint MaxNodesPerRead, uint MaxNodesPerBrowse, uint MaxNodesPerRegisterNodes, uint MaxNodesPerTranslateBrowsePathsToNodeIds, uint MaxMonitoredItemsPerCall)
{
    public static OperationLimits None { get; } = new(0, 0, 0, 0, 0);
}

public sealed record ApplicationDescription(
    string? ApplicationUri, string? ProductUri, LocalizedText ApplicationName, ApplicationType ApplicationType,
    string? GatewayServerUri, string? DiscoveryProfileUri, IReadOnlyList<string?> DiscoveryUrls);

public sealed record UserTokenPolicy(string? PolicyId, UserTokenType TokenType, string? IssuedTokenType, string? IssuerEndpointUrl, string? SecurityPolicyUri);

/// <summary>An endpoint a server offers (OPC 10000-4 §7.14).</summary>
public sealed record EndpointDescription(
    string? EndpointUrl, ApplicationDescription Server, ReadOnlyMemory<byte> ServerCertificate, MessageSecurityMode SecurityMode,
    string? SecurityPolicyUri, IReadOnlyList<UserTokenPolicy> UserIdentityTokens, string? TransportProfileUri, byte SecurityLevel);

/// <summary>One reference found by Browse (OPC 10000-4 §7.30).</summary>
public sealed record ReferenceDescription(
    NodeId ReferenceTypeId, bool IsForward, ExpandedNodeId NodeId, QualifiedName BrowseName, LocalizedText DisplayName,
    NodeClass NodeClass, ExpandedNodeId TypeDefinition);

/// <summary>The references of one browsed node; a non-empty <see cref="ContinuationPoint"/> means more follow (BrowseNext).</summary>
public sealed record BrowseResult(StatusCode Status, ReadOnlyMemory<byte> ContinuationPoint, IReadOnlyList<ReferenceDescription> References);

/// <summary>What to browse (OPC 10000-4 §5.8.2): by default forward hierarchical references with every result field.</summary>
public sealed record BrowseDescription(NodeId NodeId)
{
    public BrowseDirection Direction { get; init; } = BrowseDirection.Forward;

    public NodeId ReferenceTypeId { get; init; } = WellKnownNodes.HierarchicalReferences;

    public bool IncludeSubtypes { get; init; } = true;

    /// <summary>0 = every node class.</summary>
    public uint NodeClassMask { get; init; }

    /// <summary>0x3F = every field of ReferenceDescription.</summary>
    public uint ResultMask { get; init; } = 0x3F;
}

/// <summary>An attribute to read or monitor (OPC 10000-4 §7.29).</summary>
public sealed record ReadValueId(NodeId NodeId, uint AttributeId = AttributeIds.Value)
{
    public string? IndexRange { get; init; }

    public QualifiedName? DataEncoding { get; init; }
}

/// <summary>The filter of a monitored item (OPC 10000-4 §7.22): a data-change filter or an event filter.</summary>
public abstract record MonitoringFilter : IUaEncodable
{
    private protected MonitoringFilter()
    {
    }

    uint IUaEncodable.BinaryEncodingId => EncodingId;

    private protected abstract uint EncodingId { get; }

    void IUaEncodable.Encode(UaBinaryEncoder encoder) => Write(encoder);

    private protected abstract void Write(UaBinaryEncoder encoder);
}

/// <summary>The data-change filter of a monitored item (OPC 10000-4 §7.22.2), with an absolute or percent deadband.</summary>
public sealed record DataChangeFilter(DataChangeTrigger Trigger, DeadbandType DeadbandType = DeadbandType.None, double DeadbandValue = 0) : MonitoringFilter
{
    private protected override uint EncodingId => ServiceIds.DataChangeFilter;

    private protected override void Write(UaBinaryEncoder encoder)
    {
        encoder.WriteInt32((int)Trigger);
        encoder.WriteUInt32((uint)DeadbandType);
        encoder.WriteDouble(DeadbandValue);
    }
}

/// <summary>
/// One field of an event to select (OPC 10000-4 §7.7.4): the attribute of the node reached by <see cref="BrowsePath"/>
/// from an event of <see cref="TypeDefinitionId"/> (or a subtype). An empty path with the NodeId attribute on ConditionType
/// selects the ConditionId.
/// </summary>
public sealed record SimpleAttributeOperand(NodeId TypeDefinitionId, IReadOnlyList<QualifiedName> BrowsePath, uint AttributeId = AttributeIds.Value)
{
    public string? IndexRange { get; init; }

    /// <summary>A field of BaseEventType by its browse path (namespace 0 names).</summary>
    public static SimpleAttributeOperand Field(NodeId typeDefinitionId, params string[] path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return new SimpleAttributeOperand(typeDefinitionId, [.. path.Select(p => new QualifiedName(0, p))]);
    }

    public bool Equals(SimpleAttributeOperand? other) =>
        other is not null && TypeDefinitionId == other.TypeDefinitionId && BrowsePath.SequenceEqual(other.BrowsePath) && AttributeId == other.AttributeId && IndexRange == other.IndexRange;

    public override int GetHashCode() => HashCode.Combine(TypeDefinitionId, BrowsePath.Count, AttributeId);

    public override string ToString() => $"{TypeDefinitionId}/{string.Join('/', BrowsePath.Select(p => p.Name))}#{AttributeId}";
}

/// <summary>
/// The event filter of a monitored item on the EventNotifier attribute (OPC 10000-4 §7.22.3): the fields each event
/// notification carries, in this order. Without <see cref="OfType"/> the where clause is empty: every event of the
/// notifier is reported.
/// </summary>
public sealed record EventFilter(IReadOnlyList<SimpleAttributeOperand> SelectClauses) : MonitoringFilter
{
    /// <summary>When set, the where clause is one OfType element (OPC 10000-4 §7.7.3): only events of this type or a subtype.</summary>
    public NodeId? OfType { get; init; }

    private protected override uint EncodingId => ServiceIds.EventFilter;

    private protected override void Write(UaBinaryEncoder encoder) => StructureCodec.WriteEventFilter(encoder, this);

    public bool Equals(EventFilter? other) => other is not null && SelectClauses.SequenceEqual(other.SelectClauses) && OfType == other.OfType;

    public override int GetHashCode() => SelectClauses.Count;
}

/// <summary>The server's verdict on each select clause of an <see cref="EventFilter"/> (OPC 10000-4 §7.22.3, encoding i=736).</summary>
public sealed record EventFilterResult(IReadOnlyList<StatusCode> SelectClauseResults, IReadOnlyList<StatusCode> WhereClauseResults);

/// <summary>One event: the fields its monitored item's <see cref="EventFilter"/> selected, in select-clause order (OPC 10000-4 §7.25.3).</summary>
public sealed record EventFieldList(uint ClientHandle, IReadOnlyList<Variant> EventFields);

/// <summary>The EventNotificationList structure (encoding i=916).</summary>
public sealed record EventNotificationList(IReadOnlyList<EventFieldList> Events);

/// <summary>A method to call (OPC 10000-4 §5.11.2.2).</summary>
public sealed record CallMethodRequest(NodeId ObjectId, NodeId MethodId, IReadOnlyList<Variant> InputArguments);

/// <summary>The result of one method call; <see cref="InputArgumentResults"/> may be empty.</summary>
public sealed record CallMethodResult(StatusCode Status, IReadOnlyList<StatusCode> InputArgumentResults, IReadOnlyList<Variant> OutputArguments);

/// <summary>A monitored item to create (OPC 10000-4 §5.13.2).</summary>
public sealed record MonitoredItemRequest(ReadValueId ItemToMonitor)
{
    public MonitoringMode MonitoringMode { get; init; } = MonitoringMode.Reporting;

    /// <summary>Handle echoed in notifications; 0 lets the subscription assign one.</summary>
    public uint ClientHandle { get; init; }

    /// <summary>Milliseconds; -1 = the publishing interval, 0 = the fastest the server supports.</summary>
    public double SamplingInterval { get; init; } = -1;

    public MonitoringFilter? Filter { get; init; }

    public uint QueueSize { get; init; } = 1;

    public bool DiscardOldest { get; init; } = true;
}

public sealed record MonitoredItemResult(uint ClientHandle, StatusCode Status, uint MonitoredItemId, double RevisedSamplingInterval, uint RevisedQueueSize)
{
    /// <summary>For an event item, the server's verdict on each select clause; null otherwise.</summary>
    public EventFilterResult? EventFilterResult { get; init; }
}

/// <summary>A value change of one monitored item.</summary>
public sealed record MonitoredItemNotification(uint ClientHandle, DataValue Value);

/// <summary>The DataChangeNotification structure (encoding i=811).</summary>
public sealed record DataChangeNotification(IReadOnlyList<MonitoredItemNotification> MonitoredItems);

/// <summary>The StatusChangeNotification structure (encoding i=820): the subscription's state changed.</summary>
public sealed record StatusChangeNotification(StatusCode Status);

/// <summary>One NotificationMessage; empty <see cref="NotificationData"/> is a keep-alive.</summary>
public sealed record NotificationMessage(uint SequenceNumber, DateTime PublishTime, IReadOnlyList<ExtensionObject> NotificationData)
{
    public bool IsKeepAlive => NotificationData.Count == 0;
}

/// <summary>The body of a PublishResponse (OPC 10000-4 §5.14.5).</summary>
public sealed record PublishResult(
    uint SubscriptionId, IReadOnlyList<uint> AvailableSequenceNumbers, bool MoreNotifications, NotificationMessage Message, IReadOnlyList<StatusCode> AcknowledgementResults);

public sealed record BuildInfo(string? ProductUri, string? ManufacturerName, string? ProductName, string? SoftwareVersion, string? BuildNumber, DateTime BuildDate);

/// <summary>The ServerStatusDataType structure (encoding i=864).</summary>
public sealed record ServerStatus(DateTime StartTime, DateTime CurrentTime, ServerState State, BuildInfo BuildInfo, uint SecondsTillShutdown, LocalizedText ShutdownReason);
