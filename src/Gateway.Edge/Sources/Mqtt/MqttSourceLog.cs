using Microsoft.Extensions.Logging;

namespace FactoryGateway.Edge.Sources.Mqtt;

/// <summary>Log messages of the MQTT source (event ids 5300–5349). Credentials never appear.</summary>
internal static partial class MqttSourceLog
{
    [LoggerMessage(5300, LogLevel.Information, "MQTT source {Source}: {Host}:{Port} as {ClientId}, {JsonMappings} JSON mapping(s), Sparkplug {Sparkplug}")]
    public static partial void Starting(ILogger logger, string source, string host, int port, string clientId, int jsonMappings, bool sparkplug);

    [LoggerMessage(5301, LogLevel.Warning, "MQTT source {Source}: JSON payload on {Topic} skipped ({Reason}): {Detail}")]
    public static partial void MalformedJson(ILogger logger, string source, string topic, string reason, string? detail);

    [LoggerMessage(5302, LogLevel.Debug, "MQTT source {Source}: message on {Topic} matches no JSON mapping")]
    public static partial void Unmatched(ILogger logger, string source, string topic);

    [LoggerMessage(5303, LogLevel.Information, "MQTT source {Source}: device {Device} up")]
    public static partial void DeviceUp(ILogger logger, string source, string device);

    [LoggerMessage(5304, LogLevel.Information, "MQTT source {Source}: device {Device} down ({Reason})")]
    public static partial void DeviceDown(ILogger logger, string source, string device, string reason);

    [LoggerMessage(5305, LogLevel.Debug, "MQTT source {Source}: Sparkplug {Group}/{EdgeNode}/{Device} is not mapped to a device id; its metrics are ignored")]
    public static partial void SparkplugUnmapped(ILogger logger, string source, string group, string edgeNode, string? device);

    [LoggerMessage(5306, LogLevel.Debug, "MQTT source {Source}: metric {Metric} of device {Device} has a {DataType} value, which is not a signal value; skipped")]
    public static partial void UnsupportedValue(ILogger logger, string source, string device, string metric, string dataType);

    [LoggerMessage(5307, LogLevel.Warning, "MQTT source {Source}: the {Connection} connection to the broker was lost; its devices are down until they report again")]
    public static partial void BrokerConnectionLost(ILogger logger, string source, string connection);

    [LoggerMessage(5308, LogLevel.Warning, "MQTT source {Source}: the sink refused a sample of {Device} because the buffer is full (counted; more follow silently until it takes samples again)")]
    public static partial void BufferFull(ILogger logger, string source, string device);

    [LoggerMessage(5309, LogLevel.Information, "MQTT source {Source} stopped")]
    public static partial void Stopped(ILogger logger, string source);

    [LoggerMessage(5311, LogLevel.Debug, "MQTT source {Source}: a mapped field on {Topic} gave no sample: {Detail}")]
    public static partial void JsonFieldProblem(ILogger logger, string source, string topic, string detail);

    [LoggerMessage(5310, LogLevel.Debug, "MQTT source {Source}: Sparkplug {Kind} for {Group}/{EdgeNode}/{Device}: {Detail}")]
    public static partial void SparkplugEvent(ILogger logger, string source, string kind, string group, string edgeNode, string? device, string? detail);
}
