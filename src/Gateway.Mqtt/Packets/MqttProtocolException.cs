using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Runtime.CompilerServices;

namespace FactoryGateway.Mqtt.Packets;

/// <summary>
/// A malformed packet or a protocol violation by the peer. <see cref="Exception.Message"/> reads
/// <c>PUBLISH topic name at byte 4: contains U+0000</c>: the packet, the field, the byte offset of
/// the field from the start of the packet, and the reason. <see cref="ReasonCode"/> is what an MQTT
/// 5.0 DISCONNECT reports for it (Malformed Packet, Protocol Error, Packet Too Large).
/// </summary>
public sealed class MqttProtocolException : Exception
{
    public MqttProtocolException(string packet, string field, long offset, string reason, MqttReasonCode reasonCode)
        : base(string.Create(CultureInfo.InvariantCulture, $"{packet} {field} at byte {offset}: {reason}"))
    {
        Packet = packet;
        Field = field;
        Offset = offset;
        Reason = reason;
        ReasonCode = reasonCode;
    }

    public MqttProtocolException()
    {
        Packet = Field = Reason = string.Empty;
        ReasonCode = MqttReasonCode.ProtocolError;
    }

    public MqttProtocolException(string message)
        : base(message)
    {
        Packet = Field = string.Empty;
        Reason = message;
        ReasonCode = MqttReasonCode.ProtocolError;
    }

    public MqttProtocolException(string message, Exception innerException)
        : base(message, innerException)
    {
        Packet = Field = string.Empty;
        Reason = message;
        ReasonCode = MqttReasonCode.ProtocolError;
    }

    /// <summary>The packet type name as the specification writes it (PUBLISH, CONNACK, …).</summary>
    public string Packet { get; }

    public string Field { get; }

    /// <summary>Byte offset of the offending field from the first byte of the packet.</summary>
    public long Offset { get; }

    public string Reason { get; }

    public MqttReasonCode ReasonCode { get; }
}

internal static class MqttThrow
{
    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Malformed(MqttPacketType? packet, string field, long offset, string reason) =>
        throw new MqttProtocolException(PacketName(packet), field, offset, reason, MqttReasonCode.MalformedPacket);

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void ProtocolError(MqttPacketType? packet, string field, long offset, string reason) =>
        throw new MqttProtocolException(PacketName(packet), field, offset, reason, MqttReasonCode.ProtocolError);

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void TooLarge(MqttPacketType? packet, long size, long limit) =>
        throw new MqttProtocolException(
            PacketName(packet),
            "remaining length",
            1,
            string.Create(CultureInfo.InvariantCulture, $"packet of {size} bytes exceeds the maximum packet size of {limit} bytes"),
            MqttReasonCode.PacketTooLarge);

    public static string PacketName(MqttPacketType? packet) => packet switch
    {
        null => "packet",
        MqttPacketType.ConnAck => "CONNACK",
        MqttPacketType.PubAck => "PUBACK",
        MqttPacketType.PubRec => "PUBREC",
        MqttPacketType.PubRel => "PUBREL",
        MqttPacketType.PubComp => "PUBCOMP",
        MqttPacketType.SubAck => "SUBACK",
        MqttPacketType.UnsubAck => "UNSUBACK",
        MqttPacketType.PingReq => "PINGREQ",
        MqttPacketType.PingResp => "PINGRESP",
        { } known when Enum.IsDefined(known) => known.ToString().ToUpperInvariant(),
        { } other => string.Create(CultureInfo.InvariantCulture, $"packet type {(int)other}"),
    };
}
