namespace FactoryGateway.Mqtt.Packets;

/// <summary>A decoded or to-be-encoded MQTT control packet.</summary>
public abstract class MqttPacket
{
    public abstract MqttPacketType Type { get; }
}

/// <summary>The will message of CONNECT (MQTT 5.0 §3.1.3.2–3.1.3.4).</summary>
public sealed class MqttWill
{
    public required string Topic { get; init; }

    public ReadOnlyMemory<byte> Payload { get; init; }

    public MqttQos Qos { get; init; }

    public bool Retain { get; init; }

    public MqttProperties Properties { get; init; } = new();
}

public sealed class ConnectPacket : MqttPacket
{
    public override MqttPacketType Type => MqttPacketType.Connect;

    public MqttProtocolVersion ProtocolVersion { get; init; } = MqttProtocolVersion.V500;

    public string ClientId { get; init; } = string.Empty;

    /// <summary>Clean Start (5.0) / Clean Session (3.1.1).</summary>
    public bool CleanStart { get; init; } = true;

    public ushort KeepAliveSeconds { get; init; }

    public string? UserName { get; init; }

    public ReadOnlyMemory<byte>? Password { get; init; }

    public MqttWill? Will { get; init; }

    public MqttProperties Properties { get; init; } = new();
}

public sealed class ConnAckPacket : MqttPacket
{
    public override MqttPacketType Type => MqttPacketType.ConnAck;

    public bool SessionPresent { get; init; }

    /// <summary>The reason code (5.0) or connect return code (3.1.1; 0 = accepted).</summary>
    public MqttReasonCode ReasonCode { get; init; }

    public MqttProperties Properties { get; init; } = new();
}

public sealed class PublishPacket : MqttPacket
{
    public override MqttPacketType Type => MqttPacketType.Publish;

    public bool Dup { get; init; }

    public MqttQos Qos { get; init; }

    public bool Retain { get; init; }

    /// <summary>The topic name; empty only in MQTT 5.0 with a topic alias property.</summary>
    public string Topic { get; init; } = string.Empty;

    /// <summary>The packet identifier; 0 for QoS 0.</summary>
    public ushort PacketId { get; init; }

    public MqttProperties Properties { get; init; } = new();

    public ReadOnlyMemory<byte> Payload { get; init; }
}

/// <summary>PUBACK, PUBREC, PUBREL or PUBCOMP: a packet identifier, a reason code (5.0) and properties.</summary>
public sealed class PublishAckPacket : MqttPacket
{
    public PublishAckPacket(MqttPacketType type)
    {
        if (type is not (MqttPacketType.PubAck or MqttPacketType.PubRec or MqttPacketType.PubRel or MqttPacketType.PubComp))
        {
            throw new ArgumentOutOfRangeException(nameof(type), type, "Only PUBACK, PUBREC, PUBREL and PUBCOMP.");
        }

        Type = type;
    }

    public override MqttPacketType Type { get; }

    public ushort PacketId { get; init; }

    public MqttReasonCode ReasonCode { get; init; }

    public MqttProperties Properties { get; init; } = new();
}

/// <summary>One topic filter of SUBSCRIBE with its options (MQTT 5.0 §3.8.3.1).</summary>
public sealed record MqttSubscription(string TopicFilter, MqttQos Qos = MqttQos.AtLeastOnce)
{
    public bool NoLocal { get; init; }

    public bool RetainAsPublished { get; init; }

    public MqttRetainHandling RetainHandling { get; init; }
}

public sealed class SubscribePacket : MqttPacket
{
    public override MqttPacketType Type => MqttPacketType.Subscribe;

    public ushort PacketId { get; init; }

    public MqttProperties Properties { get; init; } = new();

    public IReadOnlyList<MqttSubscription> Subscriptions { get; init; } = [];
}

public sealed class SubAckPacket : MqttPacket
{
    public override MqttPacketType Type => MqttPacketType.SubAck;

    public ushort PacketId { get; init; }

    public MqttProperties Properties { get; init; } = new();

    /// <summary>One per topic filter: granted QoS (0–2) or a failure code (≥ 0x80).</summary>
    public IReadOnlyList<MqttReasonCode> ReasonCodes { get; init; } = [];
}

public sealed class UnsubscribePacket : MqttPacket
{
    public override MqttPacketType Type => MqttPacketType.Unsubscribe;

    public ushort PacketId { get; init; }

    public MqttProperties Properties { get; init; } = new();

    public IReadOnlyList<string> TopicFilters { get; init; } = [];
}

public sealed class UnsubAckPacket : MqttPacket
{
    public override MqttPacketType Type => MqttPacketType.UnsubAck;

    public ushort PacketId { get; init; }

    public MqttProperties Properties { get; init; } = new();

    /// <summary>One per topic filter in MQTT 5.0; empty in 3.1.1, which has no payload.</summary>
    public IReadOnlyList<MqttReasonCode> ReasonCodes { get; init; } = [];
}

public sealed class PingReqPacket : MqttPacket
{
    public static readonly PingReqPacket Instance = new();

    public override MqttPacketType Type => MqttPacketType.PingReq;
}

public sealed class PingRespPacket : MqttPacket
{
    public static readonly PingRespPacket Instance = new();

    public override MqttPacketType Type => MqttPacketType.PingResp;
}

public sealed class DisconnectPacket : MqttPacket
{
    public override MqttPacketType Type => MqttPacketType.Disconnect;

    /// <summary>MQTT 5.0 only; 3.1.1's DISCONNECT has no variable header.</summary>
    public MqttReasonCode ReasonCode { get; init; }

    public MqttProperties Properties { get; init; } = new();
}

/// <summary>AUTH, MQTT 5.0 only (§3.15).</summary>
public sealed class AuthPacket : MqttPacket
{
    public override MqttPacketType Type => MqttPacketType.Auth;

    public MqttReasonCode ReasonCode { get; init; }

    public MqttProperties Properties { get; init; } = new();
}
