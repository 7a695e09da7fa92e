using FactoryGateway.OpcUa.Encoding;

namespace FactoryGateway.OpcUa.Services;

/// <summary>
/// Decoders and encoders of the structures this client uses. The decoders are total: any fault is a
/// <see cref="UaDecodeException"/> from the decoder.
/// </summary>
public static class StructureCodec
{
    internal static bool IsKnown(uint encodingId) =>
        encodingId is ServiceIds.DataChangeNotification or ServiceIds.StatusChangeNotification or ServiceIds.ServerStatusDataType;

    internal static object? Decode(uint encodingId, ref UaBinaryDecoder decoder) => encodingId switch
    {
        ServiceIds.DataChangeNotification => ReadDataChangeNotification(ref decoder),
        ServiceIds.StatusChangeNotification => ReadStatusChangeNotification(ref decoder),
        ServiceIds.ServerStatusDataType => ReadServerStatus(ref decoder),
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

/// <summary>A DataChangeNotification wrapped for encoding into a NotificationMessage.</summary>
public sealed class DataChangeNotificationBody(DataChangeNotification value) : IUaEncodable
{
    public uint BinaryEncodingId => ServiceIds.DataChangeNotification;

    public void Encode(UaBinaryEncoder encoder) => StructureCodec.WriteDataChangeNotification(encoder, value);
}
