using FactoryGateway.OpcUa.Encoding;

namespace FactoryGateway.OpcUa.Services;

/// <summary>
/// Decoders and encoders of the structures this client uses. The decoders are total: any fault is a
/// <see cref="UaDecodeException"/> from the decoder.
/// </summary>
public static class StructureCodec
{
    internal static bool IsKnown(uint encodingId) =>
        encodingId is ServiceIds.DataChangeNotification or ServiceIds.StatusChangeNotification or ServiceIds.ServerStatusDataType
            or ServiceIds.EventNotificationList or ServiceIds.EventFilterResult;

    internal static object? Decode(uint encodingId, ref UaBinaryDecoder decoder) => encodingId switch
    {
        ServiceIds.DataChangeNotification => ReadDataChangeNotification(ref decoder),
        ServiceIds.StatusChangeNotification => ReadStatusChangeNotification(ref decoder),
        ServiceIds.ServerStatusDataType => ReadServerStatus(ref decoder),
        ServiceIds.EventNotificationList => ReadEventNotificationList(ref decoder),
        ServiceIds.EventFilterResult => ReadEventFilterResult(ref decoder),
        _ => null,
    };

    public static DataChangeNotification ReadDataChangeNotification(ref UaBinaryDecoder decoder)
    {
        int count = decoder.ReadArrayLength("DataChangeNotification.MonitoredItems", 5);
        var items = new MonitoredItemNotification[count];
        for (int i = 0; i < items.Length; i++)
        {
            uint handle = decoder.ReadUInt32("MonitoredItemNotification.ClientHandle");
            items[i] = new MonitoredItemNotification(handle, decoder.ReadDataValue("MonitoredItemNotification.Value"));
        }

        decoder.ReadDiagnosticInfoArray("DataChangeNotification.DiagnosticInfos");
        return new DataChangeNotification(items);
    }

    public static void WriteDataChangeNotification(UaBinaryEncoder encoder, DataChangeNotification value)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        ArgumentNullException.ThrowIfNull(value);
        encoder.WriteArray(value.MonitoredItems, static (e, item) =>
        {
            e.WriteUInt32(item.ClientHandle);
            e.WriteDataValue(item.Value);
        });
        encoder.WriteInt32(-1); // DiagnosticInfos
    }

    /// <summary>Reads an EventNotificationList (OPC 10000-4 §7.25.3): per event its client handle and its selected fields.</summary>
    public static EventNotificationList ReadEventNotificationList(ref UaBinaryDecoder decoder)
    {
        // An EventFieldList is at least a handle and an array length.
        EventFieldList[] events = decoder.ReadArray("EventNotificationList.Events", static (ref UaBinaryDecoder d, string f) =>
        {
            uint handle = d.ReadUInt32("EventFieldList.ClientHandle");
            Variant[] fields = d.ReadArray("EventFieldList.EventFields", static (ref UaBinaryDecoder x, string g) => x.ReadVariant(g), 1);
            return new EventFieldList(handle, fields);
        }, 8);
        return new EventNotificationList(events);
    }

    public static void WriteEventNotificationList(UaBinaryEncoder encoder, EventNotificationList value)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        ArgumentNullException.ThrowIfNull(value);
        encoder.WriteArray(value.Events, static (e, item) =>
        {
            e.WriteUInt32(item.ClientHandle);
            e.WriteArray(item.EventFields, static (w, v) => w.WriteVariant(v));
        });
    }

    /// <summary>Writes an EventFilter body: the select clauses (SimpleAttributeOperand) and an empty ContentFilter where clause.</summary>
    public static void WriteEventFilter(UaBinaryEncoder encoder, EventFilter value)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        ArgumentNullException.ThrowIfNull(value);
        encoder.WriteArray(value.SelectClauses, static (e, operand) =>
        {
            e.WriteNodeId(operand.TypeDefinitionId);
            e.WriteArray(operand.BrowsePath, static (w, name) => w.WriteQualifiedName(name));
            e.WriteUInt32(operand.AttributeId);
            e.WriteString(operand.IndexRange);
        });
        if (value.OfType is not { } type)
        {
            encoder.WriteInt32(0); // WhereClause.Elements: none
            return;
        }

        // One ContentFilterElement: FilterOperator OfType with one LiteralOperand holding the type's NodeId.
        encoder.WriteInt32(1);
        encoder.WriteInt32(OfTypeOperator);
        encoder.WriteInt32(1);
        encoder.WriteExtensionObject(new ExtensionObject(new LiteralOperandBody(new Variant(type))));
    }

    // OPC 10000-4 §7.7.3 FilterOperator OfType.
    private const int OfTypeOperator = 14;

    /// <summary>Reads an EventFilter body (what a server receives); the where clause must be empty.</summary>
    public static EventFilter ReadEventFilter(ref UaBinaryDecoder decoder)
    {
        SimpleAttributeOperand[] select = decoder.ReadArray("EventFilter.SelectClauses", static (ref UaBinaryDecoder d, string f) =>
        {
            NodeId type = d.ReadNodeId("SimpleAttributeOperand.TypeDefinitionId");
            QualifiedName[] path = d.ReadArray("SimpleAttributeOperand.BrowsePath", static (ref UaBinaryDecoder x, string g) => x.ReadQualifiedName(g), 3);
            uint attribute = d.ReadUInt32("SimpleAttributeOperand.AttributeId");
            return new SimpleAttributeOperand(type, path, attribute) { IndexRange = d.ReadString("SimpleAttributeOperand.IndexRange") };
        }, 11);
        int where = decoder.ReadArrayLength("EventFilter.WhereClause.Elements", 8);
        if (where == 0)
        {
            return new EventFilter(select);
        }

        int position = decoder.AbsolutePosition;
        int op = decoder.ReadInt32("ContentFilterElement.FilterOperator");
        ExtensionObject[] operands = decoder.ReadArray("ContentFilterElement.FilterOperands", static (ref UaBinaryDecoder x, string f) => x.ReadExtensionObject(f), 5);
        if (where != 1 || op != OfTypeOperator || operands.Length != 1 || operands[0].TypeId != new NodeId(ServiceIds.LiteralOperand))
        {
            throw new UaDecodeException(position, "EventFilter.WhereClause", "only a where clause of one OfType element with a literal operand is supported.");
        }

        var literal = new UaBinaryDecoder(operands[0].Body, decoder.Limits);
        return literal.ReadVariant("LiteralOperand.Value").Value is NodeId type
            ? new EventFilter(select) { OfType = type }
            : throw new UaDecodeException(position, "EventFilter.WhereClause", "the OfType operand is not a NodeId.");
    }

    /// <summary>Reads an EventFilterResult (OPC 10000-4 §7.22.3); the where clause's element results are kept as their status codes.</summary>
    public static EventFilterResult ReadEventFilterResult(ref UaBinaryDecoder decoder)
    {
        StatusCode[] select = decoder.ReadStatusCodeArray("EventFilterResult.SelectClauseResults");
        decoder.ReadDiagnosticInfoArray("EventFilterResult.SelectClauseDiagnosticInfos");
        StatusCode[] where = decoder.ReadArray("ContentFilterResult.ElementResults", static (ref UaBinaryDecoder d, string f) =>
        {
            StatusCode status = d.ReadStatusCode("ContentFilterElementResult.StatusCode");
            d.ReadStatusCodeArray("ContentFilterElementResult.OperandStatusCodes");
            d.ReadDiagnosticInfoArray("ContentFilterElementResult.OperandDiagnosticInfos");
            return status;
        }, 12);
        decoder.ReadDiagnosticInfoArray("ContentFilterResult.ElementDiagnosticInfos");
        return new EventFilterResult(select, where);
    }

    public static void WriteEventFilterResult(UaBinaryEncoder encoder, EventFilterResult value)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        ArgumentNullException.ThrowIfNull(value);
        encoder.WriteArray(value.SelectClauseResults, static (e, s) => e.WriteStatusCode(s));
        encoder.WriteInt32(-1); // SelectClauseDiagnosticInfos
        encoder.WriteArray(value.WhereClauseResults, static (e, s) =>
        {
            e.WriteStatusCode(s);
            e.WriteInt32(-1); // OperandStatusCodes
            e.WriteInt32(-1); // OperandDiagnosticInfos
        });
        encoder.WriteInt32(-1); // ElementDiagnosticInfos
    }

    public static StatusChangeNotification ReadStatusChangeNotification(ref UaBinaryDecoder decoder)
    {
        StatusCode status = decoder.ReadStatusCode("StatusChangeNotification.Status");
        decoder.ReadDiagnosticInfo("StatusChangeNotification.DiagnosticInfo");
        return new StatusChangeNotification(status);
    }

    public static ServerStatus ReadServerStatus(ref UaBinaryDecoder decoder)
    {
        DateTime start = decoder.ReadDateTime("ServerStatus.StartTime");
        DateTime current = decoder.ReadDateTime("ServerStatus.CurrentTime");
        var state = (ServerState)decoder.ReadEnum("ServerStatus.State", 0, 7);
        var build = new BuildInfo(
            decoder.ReadString("BuildInfo.ProductUri"), decoder.ReadString("BuildInfo.ManufacturerName"), decoder.ReadString("BuildInfo.ProductName"),
            decoder.ReadString("BuildInfo.SoftwareVersion"), decoder.ReadString("BuildInfo.BuildNumber"), decoder.ReadDateTime("BuildInfo.BuildDate"));
        uint seconds = decoder.ReadUInt32("ServerStatus.SecondsTillShutdown");
        return new ServerStatus(start, current, state, build, seconds, decoder.ReadLocalizedText("ServerStatus.ShutdownReason"));
    }

    public static ApplicationDescription ReadApplicationDescription(ref UaBinaryDecoder d) => new(
        d.ReadString("ApplicationDescription.ApplicationUri"), d.ReadString("ApplicationDescription.ProductUri"),
        d.ReadLocalizedText("ApplicationDescription.ApplicationName"), (ApplicationType)d.ReadEnum("ApplicationDescription.ApplicationType", 0, 3),
        d.ReadString("ApplicationDescription.GatewayServerUri"), d.ReadString("ApplicationDescription.DiscoveryProfileUri"),
        d.ReadStringArray("ApplicationDescription.DiscoveryUrls"));

    public static void WriteApplicationDescription(UaBinaryEncoder e, ApplicationDescription value)
    {
        ArgumentNullException.ThrowIfNull(e);
        ArgumentNullException.ThrowIfNull(value);
        e.WriteString(value.ApplicationUri);
        e.WriteString(value.ProductUri);
        e.WriteLocalizedText(value.ApplicationName);
        e.WriteInt32((int)value.ApplicationType);
        e.WriteString(value.GatewayServerUri);
        e.WriteString(value.DiscoveryProfileUri);
        e.WriteArray(value.DiscoveryUrls, static (w, s) => w.WriteString(s));
    }

    public static EndpointDescription ReadEndpointDescription(ref UaBinaryDecoder d)
    {
        string? url = d.ReadString("EndpointDescription.EndpointUrl");
        ApplicationDescription server = ReadApplicationDescription(ref d);
        ReadOnlyMemory<byte> certificate = d.ReadByteString("EndpointDescription.ServerCertificate");
        var mode = (MessageSecurityMode)d.ReadEnum("EndpointDescription.SecurityMode", 0, 3);
        string? policy = d.ReadString("EndpointDescription.SecurityPolicyUri");
        UserTokenPolicy[] tokens = d.ReadArray("EndpointDescription.UserIdentityTokens", static (ref UaBinaryDecoder x, string f) => new UserTokenPolicy(
            x.ReadString(f), (UserTokenType)x.ReadEnum(f, 0, 3), x.ReadString(f), x.ReadString(f), x.ReadString(f)), 20);
        string? transport = d.ReadString("EndpointDescription.TransportProfileUri");
        return new EndpointDescription(url, server, certificate, mode, policy, tokens, transport, d.ReadByte("EndpointDescription.SecurityLevel"));
    }

    public static ReferenceDescription ReadReferenceDescription(ref UaBinaryDecoder d) => new(
        d.ReadNodeId("ReferenceDescription.ReferenceTypeId"), d.ReadBoolean("ReferenceDescription.IsForward"),
        d.ReadExpandedNodeId("ReferenceDescription.NodeId"), d.ReadQualifiedName("ReferenceDescription.BrowseName"),
        d.ReadLocalizedText("ReferenceDescription.DisplayName"), (NodeClass)d.ReadEnum("ReferenceDescription.NodeClass", 0, 128),
        d.ReadExpandedNodeId("ReferenceDescription.TypeDefinition"));

    public static BrowseResult ReadBrowseResult(ref UaBinaryDecoder d)
    {
        StatusCode status = d.ReadStatusCode("BrowseResult.StatusCode");
        ReadOnlyMemory<byte> continuation = d.ReadByteString("BrowseResult.ContinuationPoint");
        ReferenceDescription[] refs = d.ReadArray("BrowseResult.References", static (ref UaBinaryDecoder x, string f) => ReadReferenceDescription(ref x), 14);
        return new BrowseResult(status, continuation, refs);
    }

    /// <summary>Reads a NotificationMessage (OPC 10000-4 §7.25).</summary>
    public static NotificationMessage ReadNotificationMessage(ref UaBinaryDecoder d)
    {
        uint sequence = d.ReadUInt32("NotificationMessage.SequenceNumber");
        DateTime publishTime = d.ReadDateTime("NotificationMessage.PublishTime");
        ExtensionObject[] data = d.ReadArray("NotificationMessage.NotificationData", static (ref UaBinaryDecoder x, string f) => x.ReadExtensionObject(f), 3);
        return new NotificationMessage(sequence, publishTime, data);
    }

    /// <summary>Reads a PublishResponse body after its ResponseHeader.</summary>
    public static PublishResult ReadPublishResult(ref UaBinaryDecoder d)
    {
        uint subscriptionId = d.ReadUInt32("PublishResponse.SubscriptionId");
        uint[] available = d.ReadUInt32Array("PublishResponse.AvailableSequenceNumbers");
        bool more = d.ReadBoolean("PublishResponse.MoreNotifications");
        NotificationMessage message = ReadNotificationMessage(ref d);
        StatusCode[] results = d.ReadStatusCodeArray("PublishResponse.Results");
        d.ReadDiagnosticInfoArray("PublishResponse.DiagnosticInfos");
        return new PublishResult(subscriptionId, available, more, message, results);
    }

    /// <summary>
    /// Writes a whole PublishResponse message body (type id, ResponseHeader and fields) — what a server
    /// sends; used by the simulator's server subset, the benchmarks and the tests.
    /// </summary>
    public static void WritePublishResponse(UaBinaryEncoder e, uint requestHandle, DateTime timestamp, uint subscriptionId, NotificationMessage message, IReadOnlyList<uint>? available = null)
    {
        ArgumentNullException.ThrowIfNull(e);
        ArgumentNullException.ThrowIfNull(message);
        e.WriteNodeId(new NodeId(ServiceIds.PublishResponse));
        WriteResponseHeader(e, requestHandle, timestamp, default);
        e.WriteUInt32(subscriptionId);
        e.WriteArray(available ?? [message.SequenceNumber], static (w, n) => w.WriteUInt32(n));
        e.WriteBoolean(false);
        e.WriteUInt32(message.SequenceNumber);
        e.WriteDateTime(message.PublishTime);
        e.WriteArray(message.NotificationData, static (w, x) => w.WriteExtensionObject(x));
        e.WriteInt32(-1); // Results
        e.WriteInt32(-1); // DiagnosticInfos
    }

    public static void WriteResponseHeader(UaBinaryEncoder e, uint requestHandle, DateTime timestamp, StatusCode serviceResult)
    {
        ArgumentNullException.ThrowIfNull(e);
        e.WriteDateTime(timestamp);
        e.WriteUInt32(requestHandle);
        e.WriteStatusCode(serviceResult);
        e.WriteDiagnosticInfo(null);
        e.WriteInt32(-1); // StringTable
        e.WriteExtensionObject(null);
    }
}

/// <summary>A LiteralOperand (OPC 10000-4 §7.7.4.3) of a content filter element.</summary>
internal sealed class LiteralOperandBody(Variant value) : IUaEncodable
{
    public uint BinaryEncodingId => ServiceIds.LiteralOperand;

    public void Encode(UaBinaryEncoder encoder) => encoder.WriteVariant(value);
}

/// <summary>An EventNotificationList wrapped for encoding into a NotificationMessage.</summary>
public sealed class EventNotificationListBody(EventNotificationList value) : IUaEncodable
{
    public uint BinaryEncodingId => ServiceIds.EventNotificationList;

    public void Encode(UaBinaryEncoder encoder) => StructureCodec.WriteEventNotificationList(encoder, value);
}

/// <summary>A DataChangeNotification wrapped for encoding into a NotificationMessage.</summary>
public sealed class DataChangeNotificationBody(DataChangeNotification value) : IUaEncodable
{
    public uint BinaryEncodingId => ServiceIds.DataChangeNotification;

    public void Encode(UaBinaryEncoder encoder) => StructureCodec.WriteDataChangeNotification(encoder, value);
}
