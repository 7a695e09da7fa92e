using System.Buffers;
using FactoryGateway.OpcUa.Encoding;
using FactoryGateway.OpcUa.Services;

namespace FactoryGateway.OpcUa.Server;

/// <summary>Status codes (OPC 10000-6 StatusCode.csv) the server answers with beyond those in <see cref="StatusCode"/>.</summary>
public static class UaServerStatus
{
    public const uint BadIndexRangeInvalid = 0x8036_0000;
    public const uint BadDataEncodingInvalid = 0x8038_0000;
    public const uint BadDataEncodingUnsupported = 0x8039_0000;
    public const uint BadNotReadable = 0x803A_0000;
    public const uint BadNotWritable = 0x803B_0000;
    public const uint BadMonitoringModeInvalid = 0x8041_0000;
    public const uint BadMonitoredItemIdInvalid = 0x8042_0000;
    public const uint BadMonitoredItemFilterUnsupported = 0x8044_0000;
    public const uint BadFilterNotAllowed = 0x8045_0000;
    public const uint BadReferenceTypeIdInvalid = 0x804C_0000;
    public const uint BadBrowseDirectionInvalid = 0x804D_0000;
    public const uint BadRequestTypeInvalid = 0x8053_0000;
    public const uint BadSecurityModeRejected = 0x8054_0000;
    public const uint BadSecurityPolicyRejected = 0x8055_0000;
    public const uint BadBrowseNameInvalid = 0x8060_0000;
    public const uint BadViewIdUnknown = 0x806B_0000;
    public const uint BadNoMatch = 0x806F_0000;
    public const uint BadMaxAgeInvalid = 0x8070_0000;
    public const uint BadWriteNotSupported = 0x8073_0000;
    public const uint BadTypeMismatch = 0x8074_0000;
    public const uint BadTimestampsToReturnInvalid = 0x802B_0000;
    public const uint BadDeadbandFilterInvalid = 0x808E_0000;
    public const uint BadTooManyMonitoredItems = 0x80DB_0000;
    public const uint BadSecurityModeInsufficient = 0x80E6_0000;

    /// <summary>InfoType DataValue with the Overflow bit (OPC 10000-4 §7.39.1): a queue dropped a value.</summary>
    public const uint OverflowInfoBits = 0x0000_0480;
}

/// <summary>The fields of a RequestHeader (OPC 10000-4 §7.32) the server uses.</summary>
internal readonly record struct UaRequestHeader(NodeId AuthenticationToken, uint RequestHandle, uint TimeoutHint);

/// <summary>Encodings of the request and response structures the server reads and writes (OPC 10000-4 §5, §7).</summary>
internal static class UaServerCodec
{
    public const uint FindServersRequest = 422;
    public const uint FindServersResponse = 425;
    public const uint WriteRequest = 673;
    public const uint WriteResponse = 676;
    public const uint CloseSecureChannelRequest = 452;

    public static UaRequestHeader ReadRequestHeader(ref UaBinaryDecoder d)
    {
        NodeId token = d.ReadNodeId("RequestHeader.AuthenticationToken");
        d.ReadDateTime("RequestHeader.Timestamp");
        uint handle = d.ReadUInt32("RequestHeader.RequestHandle");
        d.ReadUInt32("RequestHeader.ReturnDiagnostics");
        d.ReadString("RequestHeader.AuditEntryId");
        uint timeout = d.ReadUInt32("RequestHeader.TimeoutHint");
        d.ReadExtensionObject("RequestHeader.AdditionalHeader");
        return new UaRequestHeader(token, handle, timeout);
    }

    /// <summary>A response message body: its type id, a good ResponseHeader, and the fields <paramref name="body"/> writes.</summary>
    public static ReadOnlyMemory<byte> Response(uint responseId, uint requestHandle, DateTime now, Action<UaBinaryEncoder> body)
    {
        var output = new ArrayBufferWriter<byte>(256);
        var e = new UaBinaryEncoder(output);
        e.WriteNodeId(new NodeId(responseId));
        StructureCodec.WriteResponseHeader(e, requestHandle, now, default);
        body(e);
        return output.WrittenMemory;
    }

    public static ReadOnlyMemory<byte> ServiceFault(uint requestHandle, DateTime now, StatusCode status)
    {
        var output = new ArrayBufferWriter<byte>(64);
        var e = new UaBinaryEncoder(output);
        e.WriteNodeId(new NodeId(ServiceIds.ServiceFault));
        StructureCodec.WriteResponseHeader(e, requestHandle, now, status);
        return output.WrittenMemory;
    }

    public static void WriteEndpointDescription(UaBinaryEncoder e, EndpointDescription value)
    {
        e.WriteString(value.EndpointUrl);
        StructureCodec.WriteApplicationDescription(e, value.Server);
        e.WriteByteString(value.ServerCertificate.Span);
        e.WriteInt32((int)value.SecurityMode);
        e.WriteString(value.SecurityPolicyUri);
        e.WriteArray(value.UserIdentityTokens, static (w, t) =>
        {
            w.WriteString(t.PolicyId);
            w.WriteInt32((int)t.TokenType);
            w.WriteString(t.IssuedTokenType);
            w.WriteString(t.IssuerEndpointUrl);
            w.WriteString(t.SecurityPolicyUri);
        });
        e.WriteString(value.TransportProfileUri);
        e.WriteByte(value.SecurityLevel);
    }

    public static void WriteReferenceDescription(UaBinaryEncoder e, ReferenceDescription r)
    {
        e.WriteNodeId(r.ReferenceTypeId);
        e.WriteBoolean(r.IsForward);
        e.WriteExpandedNodeId(r.NodeId);
        e.WriteQualifiedName(r.BrowseName);
        e.WriteLocalizedText(r.DisplayName);
        e.WriteInt32((int)r.NodeClass);
        e.WriteExpandedNodeId(r.TypeDefinition);
    }

    public static void WriteBrowseResult(UaBinaryEncoder e, BrowseResult r)
    {
        e.WriteStatusCode(r.Status);
        e.WriteByteString(r.ContinuationPoint.Span);
        e.WriteArray(r.References, WriteReferenceDescription);
    }

    public static ReadValueId ReadReadValueId(ref UaBinaryDecoder d, string field) =>
        new(d.ReadNodeId(field), d.ReadUInt32(field))
        {
            IndexRange = d.ReadString(field),
            DataEncoding = d.ReadQualifiedName(field),
        };

    /// <summary>Writes a NotificationMessage (OPC 10000-4 §7.25).</summary>
    public static void WriteNotificationMessage(UaBinaryEncoder e, NotificationMessage message)
    {
        e.WriteUInt32(message.SequenceNumber);
        e.WriteDateTime(message.PublishTime);
        e.WriteArray(message.NotificationData, static (w, x) => w.WriteExtensionObject(x));
    }
}

/// <summary>StatusChangeNotification (encoding i=820) for a NotificationMessage.</summary>
internal sealed class StatusChangeNotificationBody(StatusCode status) : IUaEncodable
{
    public uint BinaryEncodingId => ServiceIds.StatusChangeNotification;

    public void Encode(UaBinaryEncoder encoder)
    {
        encoder.WriteStatusCode(status);
        encoder.WriteDiagnosticInfo(null);
    }
}
