using Microsoft.Extensions.Logging;

namespace FactoryGateway.Mqtt.Sparkplug;

/// <summary>Log messages of the Sparkplug B host application (event ids 3100–3149).</summary>
internal static partial class SparkplugHostLog
{
    [LoggerMessage(3100, LogLevel.Information, "Sparkplug host {HostId} online (STATE published, timestamp {Timestamp})")]
    public static partial void StateOnline(ILogger logger, string hostId, long timestamp);

    [LoggerMessage(3101, LogLevel.Information, "Sparkplug host {HostId} offline (STATE published before disconnecting)")]
    public static partial void StateOffline(ILogger logger, string hostId);

    [LoggerMessage(3102, LogLevel.Information, "Sparkplug edge node {GroupId}/{EdgeNodeId} born (bdSeq {BdSeq}, {Metrics} metrics)")]
    public static partial void NodeBirth(ILogger logger, string groupId, string edgeNodeId, ulong? bdSeq, int metrics);

    [LoggerMessage(3103, LogLevel.Information, "Sparkplug edge node {GroupId}/{EdgeNodeId} dead (bdSeq {BdSeq})")]
    public static partial void NodeDeath(ILogger logger, string groupId, string edgeNodeId, ulong? bdSeq);

    [LoggerMessage(3104, LogLevel.Information, "Sparkplug edge node {GroupId}/{EdgeNodeId}: NDEATH with bdSeq {DeathBdSeq} ignored, the current birth has bdSeq {BirthBdSeq}")]
    public static partial void StaleDeath(ILogger logger, string groupId, string edgeNodeId, ulong? deathBdSeq, ulong? birthBdSeq);

    [LoggerMessage(3105, LogLevel.Warning, "Sparkplug edge node {GroupId}/{EdgeNodeId}: seq {Received} after {Previous}; requesting a rebirth")]
    public static partial void SequenceGap(ILogger logger, string groupId, string edgeNodeId, ulong? received, int previous);

    [LoggerMessage(3106, LogLevel.Information, "Sparkplug edge node {GroupId}/{EdgeNodeId}: Rebirth requested ({Reason})")]
    public static partial void RebirthRequested(ILogger logger, string groupId, string edgeNodeId, string reason);

    [LoggerMessage(3107, LogLevel.Warning, "Sparkplug message on {Topic} skipped: {Reason}")]
    public static partial void MalformedPayload(ILogger logger, string topic, string reason);

    [LoggerMessage(3108, LogLevel.Warning, "Sparkplug {GroupId}/{EdgeNodeId}/{DeviceId}: metric {Metric} is not in the birth certificate")]
    public static partial void UnknownMetric(ILogger logger, string groupId, string edgeNodeId, string? deviceId, string metric);

    [LoggerMessage(3109, LogLevel.Information, "Sparkplug device {GroupId}/{EdgeNodeId}/{DeviceId} {State}")]
    public static partial void DeviceState(ILogger logger, string groupId, string edgeNodeId, string deviceId, string state);

    [LoggerMessage(3110, LogLevel.Warning, "Sparkplug host {HostId}: STATE offline seen for this host while it runs; publishing online again")]
    public static partial void StateOverwritten(ILogger logger, string hostId);
}
