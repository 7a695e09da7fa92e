using FactoryGateway.Mqtt.Packets;
using Microsoft.Extensions.Logging;

namespace FactoryGateway.Mqtt.Client;

/// <summary>Log messages of the MQTT client (event ids 3000–3049).</summary>
internal static partial class MqttClientLog
{
    [LoggerMessage(3000, LogLevel.Information, "MQTT {ClientId} connected to {Host}:{Port} (MQTT {Version}, session present: {SessionPresent}, receive maximum {ReceiveMaximum}, resent {Resent})")]
    public static partial void Connected(ILogger logger, string clientId, string host, int port, MqttProtocolVersion version, bool sessionPresent, int receiveMaximum, int resent);

    [LoggerMessage(3001, LogLevel.Warning, "MQTT {ClientId} could not connect to {Host}:{Port} (attempt {Attempt}); retrying in {Delay}")]
    public static partial void ConnectFailed(ILogger logger, string clientId, string host, int port, int attempt, TimeSpan delay, Exception exception);

    [LoggerMessage(3002, LogLevel.Warning, "MQTT {ClientId} lost its connection: {Reason}")]
    public static partial void ConnectionLost(ILogger logger, string clientId, string reason);

    [LoggerMessage(3003, LogLevel.Warning, "MQTT {ClientId}: no answer to PINGREQ for {Elapsed}; closing the connection as dead")]
    public static partial void PingTimeout(ILogger logger, string clientId, TimeSpan elapsed);

    [LoggerMessage(3004, LogLevel.Error, "MQTT {ClientId}: protocol violation by the broker: {Message}")]
    public static partial void ProtocolViolation(ILogger logger, string clientId, string message);

    [LoggerMessage(3005, LogLevel.Error, "MQTT {ClientId}: the message handler failed for {Topic}; the message is not acknowledged and the connection is closed so the broker redelivers it")]
    public static partial void HandlerFailed(ILogger logger, string clientId, string topic, Exception exception);

    [LoggerMessage(3006, LogLevel.Warning, "MQTT {ClientId}: the broker refused subscription {Filter} with {ReasonCode}")]
    public static partial void SubscriptionRefused(ILogger logger, string clientId, string filter, MqttReasonCode reasonCode);

    [LoggerMessage(3007, LogLevel.Information, "MQTT {ClientId}: session not present; resubscribing {Count} filter(s)")]
    public static partial void Resubscribing(ILogger logger, string clientId, int count);

    [LoggerMessage(3008, LogLevel.Warning, "MQTT {ClientId}: the broker disconnected with {ReasonCode}: {ReasonString}")]
    public static partial void ServerDisconnect(ILogger logger, string clientId, MqttReasonCode reasonCode, string? reasonString);

    [LoggerMessage(3009, LogLevel.Information, "MQTT {ClientId} disconnected")]
    public static partial void Disconnected(ILogger logger, string clientId);

    [LoggerMessage(3010, LogLevel.Debug, "MQTT {ClientId}: incoming queue full; dropped a QoS 0 message on {Topic}")]
    public static partial void IncomingDropped(ILogger logger, string clientId, string topic);
}
