using System.Net.Security;
using FactoryGateway.Mqtt.Packets;

namespace FactoryGateway.Mqtt.Client;

/// <summary>What a full outgoing queue does with one more QoS 0 message.</summary>
public enum MqttOutgoingOverflowPolicy
{
    /// <summary>The publisher waits for room (backpressure to the application).</summary>
    Wait,

    /// <summary>The new message is dropped and counted (<see cref="MqttClientStats.OutgoingDropped"/>); the call returns <see cref="MqttPublishOutcome.Dropped"/>.</summary>
    DropNewest,
}

/// <summary>What a full incoming queue does with one more message from the broker.</summary>
public enum MqttIncomingOverflowPolicy
{
    /// <summary>Reading from the socket pauses until the handler makes room, so TCP pushes back to the broker. Dead-connection detection is suspended meanwhile.</summary>
    Backpressure,

    /// <summary>A QoS 0 message is dropped and counted (<see cref="MqttClientStats.IncomingDropped"/>); QoS 1 and 2 messages still wait, as they are bounded by <see cref="MqttClientOptions.ReceiveMaximum"/>.</summary>
    DropNewestQos0,
}

/// <summary>Options of <see cref="MqttClient"/>. <see cref="Validate"/> runs in the client's constructor.</summary>
public sealed record MqttClientOptions
{
    public required string Host { get; init; }

    public required int Port { get; init; }

    /// <summary>5.0 by default: reason codes on every acknowledgement and the flow-control properties.</summary>
    public MqttProtocolVersion ProtocolVersion { get; init; } = MqttProtocolVersion.V500;

    public required string ClientId { get; init; }

    /// <summary>True: start a new session (Clean Start / Clean Session). False: resume the broker's session for <see cref="ClientId"/>.</summary>
    public bool CleanStart { get; init; } = true;

    /// <summary>60 s: the common client default (mosquitto_pub/sub, Paho); a dead broker is noticed within about twice this.</summary>
    public TimeSpan KeepAlive { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>MQTT 5.0: how long the broker keeps the session after a disconnect. 0 (the protocol's default) ends it with the connection; <see cref="uint.MaxValue"/> never expires.</summary>
    public uint SessionExpiryInterval { get; init; }

    /// <summary>MQTT 5.0: at most this many unacknowledged QoS 1/2 messages from the broker. 100: enough to keep a LAN link busy while the handler's acceptance paces the broker.</summary>
    public ushort ReceiveMaximum { get; init; } = 100;

    /// <summary>Largest packet accepted from the broker (announced in 5.0). 1 MiB: an order of magnitude above any Sparkplug or JSON payload a retrofit device sends.</summary>
    public int MaximumPacketSize { get; init; } = 1024 * 1024;

    /// <summary>MQTT 5.0: how many topic aliases the broker may use towards this client. 0 (the protocol's default): none.</summary>
    public ushort TopicAliasMaximum { get; init; }

    /// <summary>MQTT 5.0: use topic aliases for outgoing messages when the broker allows them (its Topic Alias Maximum).</summary>
    public bool UseOutgoingTopicAliases { get; init; }

    public IReadOnlyList<MqttUserProperty> ConnectUserProperties { get; init; } = [];

    public string? UserName { get; init; }

    public ReadOnlyMemory<byte>? Password { get; init; }

    public MqttWill? Will { get; init; }

    /// <summary>
    /// When set, called for every CONNECT (the first and each reconnect) and its will used instead of
    /// <see cref="Will"/>: for wills that carry the time of their CONNECT (Sparkplug's STATE death certificate).
    /// </summary>
    public Func<MqttWill?>? WillFactory { get; init; }

    /// <summary>TLS through <see cref="SslStream"/> when set: target host, server certificate validation and an optional client certificate.</summary>
    public SslClientAuthenticationOptions? Tls { get; init; }

    /// <summary>TCP connect, TLS handshake and CONNACK together. 10 s: a LAN broker answers in milliseconds; a WAN one within a few seconds.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>A PINGREQ without any packet from the broker for this long marks the connection dead. Zero: the keep-alive interval itself (MQTT 5.0 §3.1.2.10 leaves "a reasonable amount of time" to the client).</summary>
    public TimeSpan PingTimeout { get; init; }

    /// <summary>
    /// Ceiling on QoS 1/2 messages sent and not yet acknowledged; an MQTT 5.0 broker's Receive Maximum
    /// lowers it. 20: mosquitto's default max_inflight_messages. MQTT 3.1.1 has no Receive Maximum to
    /// learn the broker's quota from: with a window of 100, a 3.1.1 QoS 2 stream through mosquitto 2.0.11
    /// acknowledged every message to the publisher yet delivered only 16 to the subscriber (interop tests),
    /// so the window must not exceed the broker's setting.
    /// </summary>
    public int MaxOutgoingInFlight { get; init; } = 20;

    /// <summary>Outgoing messages waiting for the writer. 10,000: about a second of a busy gateway's output.</summary>
    public int OutgoingQueueCapacity { get; init; } = 10_000;

    public MqttOutgoingOverflowPolicy OutgoingOverflowPolicy { get; init; } = MqttOutgoingOverflowPolicy.Wait;

    /// <summary>Received messages waiting for the handler. 1,000: ten times the default Receive Maximum, so QoS 1/2 never fill it.</summary>
    public int IncomingQueueCapacity { get; init; } = 1_000;

    public MqttIncomingOverflowPolicy IncomingOverflowPolicy { get; init; } = MqttIncomingOverflowPolicy.Backpressure;

    /// <summary>First reconnect delay. 100 ms: a broker restart on the same machine is back within a second.</summary>
    public TimeSpan ReconnectInitialDelay { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Longest reconnect delay. 30 s: a broker outage is retried twice a minute, forever; the client never gives up.</summary>
    public TimeSpan ReconnectMaxDelay { get; init; } = TimeSpan.FromSeconds(30);

    public void Validate()
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(Host);
        ArgumentOutOfRangeException.ThrowIfLessThan(Port, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(Port, 65_535);
        ArgumentNullException.ThrowIfNull(ClientId);
        if (ProtocolVersion is not (MqttProtocolVersion.V311 or MqttProtocolVersion.V500))
        {
            throw new ArgumentOutOfRangeException(nameof(ProtocolVersion), ProtocolVersion, "MQTT 3.1.1 or 5.0.");
        }

        if (KeepAlive < TimeSpan.Zero || KeepAlive.TotalSeconds > ushort.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(KeepAlive), KeepAlive, "0 to 65,535 seconds.");
        }

        ArgumentOutOfRangeException.ThrowIfZero(ReceiveMaximum);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaximumPacketSize, 64);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxOutgoingInFlight, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(MaxOutgoingInFlight, 65_000);
        ArgumentOutOfRangeException.ThrowIfLessThan(OutgoingQueueCapacity, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(IncomingQueueCapacity, 1);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(ConnectTimeout, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(PingTimeout, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(ReconnectInitialDelay, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(ReconnectMaxDelay, ReconnectInitialDelay);
        if (ProtocolVersion == MqttProtocolVersion.V311 && Password is not null && UserName is null)
        {
            throw new ArgumentException("MQTT 3.1.1 needs a user name when a password is given.", nameof(Password));
        }

        if (ProtocolVersion == MqttProtocolVersion.V311 && ClientId.Length == 0 && !CleanStart)
        {
            throw new ArgumentException("A persistent session needs a client id.", nameof(ClientId));
        }
    }
}
