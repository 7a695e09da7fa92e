using FactoryGateway.Mqtt.Packets;

namespace FactoryGateway.Mqtt.Client;

/// <summary>A message to publish.</summary>
public sealed record MqttApplicationMessage
{
    public required string Topic { get; init; }

    public ReadOnlyMemory<byte> Payload { get; init; }

    public MqttQos Qos { get; init; }

    public bool Retain { get; init; }

    /// <summary>MQTT 5.0 properties of the message (user properties, content type, expiry, …); ignored in 3.1.1.</summary>
    public MqttProperties? Properties { get; init; }
}

/// <summary>A message received from the broker; <see cref="Topic"/> is resolved from a topic alias where one was used.</summary>
public sealed record MqttReceivedMessage
{
    public required string Topic { get; init; }

    public ReadOnlyMemory<byte> Payload { get; init; }

    public MqttQos Qos { get; init; }

    public bool Retain { get; init; }

    /// <summary>The broker may have sent it before (a redelivery after a reconnect).</summary>
    public bool Dup { get; init; }

    public MqttProperties Properties { get; init; } = new();
}

public enum MqttPublishOutcome
{
    /// <summary>QoS 0: accepted into the outgoing queue (MQTT gives no acknowledgement).</summary>
    Queued,

    /// <summary>QoS 1/2: the broker acknowledged it (PUBACK, or PUBREC then PUBCOMP) with a success code.</summary>
    Acknowledged,

    /// <summary>The broker answered with a failure reason code (MQTT 5.0).</summary>
    Refused,

    /// <summary>The outgoing queue was full under <see cref="MqttOutgoingOverflowPolicy.DropNewest"/>.</summary>
    Dropped,

    /// <summary>Larger than the broker's Maximum Packet Size; not sent.</summary>
    TooLarge,
}

public sealed record MqttPublishResult(MqttPublishOutcome Outcome, MqttReasonCode ReasonCode = MqttReasonCode.Success, string? ReasonString = null);

/// <summary>The broker refused CONNECT (CONNACK with a failure code) when the client was started.</summary>
public sealed class MqttConnectException : Exception
{
    public MqttConnectException(MqttReasonCode reasonCode, string message)
        : base(message)
    {
        ReasonCode = reasonCode;
    }

    public MqttConnectException()
    {
    }

    public MqttConnectException(string message)
        : base(message)
    {
    }

    public MqttConnectException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public MqttReasonCode ReasonCode { get; }
}

/// <summary>Counters of one client since it was created.</summary>
public sealed record MqttClientStats
{
    public long Connects { get; init; }

    public long ConnectionLosses { get; init; }

    public long ConnectFailures { get; init; }

    public long MessagesPublished { get; init; }

    public long MessagesAcknowledged { get; init; }

    public long MessagesRefused { get; init; }

    public long MessagesResent { get; init; }

    public long OutgoingDropped { get; init; }

    public long MessagesReceived { get; init; }

    public long IncomingDropped { get; init; }

    public long DuplicatesSuppressed { get; init; }

    public long HandlerFailures { get; init; }

    public long PingTimeouts { get; init; }

    public long ProtocolErrors { get; init; }

    public long Resubscribes { get; init; }

    /// <summary>Outgoing PUBLISH packets sent with a topic alias instead of the topic name.</summary>
    public long TopicAliasesUsed { get; init; }

    /// <summary>Writes to the connection (flushes of the outgoing pipe): packets sent per flush say how well the writer batches.</summary>
    public long Flushes { get; init; }
}
