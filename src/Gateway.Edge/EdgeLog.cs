using Microsoft.Extensions.Logging;

namespace FactoryGateway.Edge;

/// <summary>Logging of the edge agent's core: buffer, normaliser, uplink, health (event ids 5000–5049).</summary>
internal static partial class EdgeLog
{
    [LoggerMessage(EventId = 5000, Level = LogLevel.Warning, Message = "The last run did not stop cleanly: the disk buffer cut {Bytes} byte(s) ({Reason}); the last record kept was written at {LastRecord}, and samples of at most one flush interval after it were lost")]
    public static partial void BufferRecovered(ILogger logger, long bytes, string reason, string lastRecord);

    [LoggerMessage(EventId = 5001, Level = LogLevel.Error, Message = "Disk buffer is full ({MaxBytes} bytes); overflow policy {Policy}: new samples are not taken until the uplink frees room")]
    public static partial void BufferFull(ILogger logger, long maxBytes, Config.BufferOverflowPolicy policy);

    [LoggerMessage(EventId = 5002, Level = LogLevel.Information, Message = "Disk buffer has room again; {Refused} sample line(s) refused so far")]
    public static partial void BufferHasRoom(ILogger logger, long refused);

    [LoggerMessage(EventId = 5003, Level = LogLevel.Critical, Message = "Disk buffer stopped after an I/O failure; restart the agent to recover the log")]
    public static partial void BufferFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 5010, Level = LogLevel.Information, Message = "Device {Device} connected")]
    public static partial void DeviceUp(ILogger logger, string device);

    [LoggerMessage(EventId = 5011, Level = LogLevel.Warning, Message = "Device {Device} disconnected: {Reason}")]
    public static partial void DeviceDown(ILogger logger, string device, string reason);

    [LoggerMessage(EventId = 5012, Level = LogLevel.Information, Message = "Device {Device} identity changed: {Identity}")]
    public static partial void IdentityChanged(ILogger logger, string device, Signals.DeviceIdentity identity);

    [LoggerMessage(EventId = 5013, Level = LogLevel.Warning, Message = "Device {Device} item {Item} is unavailable: status 0x{Status:X8} {Reason}")]
    public static partial void ItemBad(ILogger logger, string device, string item, uint status, string reason);

    [LoggerMessage(EventId = 5014, Level = LogLevel.Warning, Message = "A source named device {Device}, which is not configured; its data is not taken")]
    public static partial void UnknownDevice(ILogger logger, string device);

    [LoggerMessage(EventId = 5020, Level = LogLevel.Information, Message = "Uplink to {Url} as {Edge}: resuming at batch {Sequence}, {Bytes} byte(s) waiting")]
    public static partial void UplinkStarted(ILogger logger, string url, string edge, long sequence, long bytes);

    [LoggerMessage(EventId = 5021, Level = LogLevel.Warning, Message = "Uplink batch {Sequence} failed ({Reason}); retrying in {DelayMs} ms")]
    public static partial void UplinkRetry(ILogger logger, long sequence, string reason, long delayMs);

    [LoggerMessage(EventId = 5022, Level = LogLevel.Error, Message = "Uplink batch {Sequence} refused by the ingest with {Status}: {Reason}; {Lines} line(s) written to the dead-letter file {File}")]
    public static partial void UplinkDeadLetter(ILogger logger, long sequence, int status, string reason, int lines, string file);

    [LoggerMessage(EventId = 5023, Level = LogLevel.Error, Message = "Uplink is not authorised by the ingest ({Status}): {Reason}; check the token. Retrying in {DelayMs} ms")]
    public static partial void UplinkUnauthorised(ILogger logger, int status, string reason, long delayMs);

    [LoggerMessage(EventId = 5024, Level = LogLevel.Warning, Message = "Uplink batch {Sequence} was too large for the ingest (413); split to {Records} record(s)")]
    public static partial void UplinkSplit(ILogger logger, long sequence, int records);

    [LoggerMessage(EventId = 5025, Level = LogLevel.Information, Message = "Uplink is through again after an outage of {Seconds:0.0} s; {Bytes} buffer byte(s) still to send")]
    public static partial void UplinkRecovered(ILogger logger, double seconds, long bytes);

    [LoggerMessage(EventId = 5030, Level = LogLevel.Error, Message = "Source {Source} stopped with an error")]
    public static partial void SourceFailed(ILogger logger, string source, Exception exception);

    [LoggerMessage(EventId = 5031, Level = LogLevel.Information, Message = "Edge {Edge} running: {Sources} source(s), {Devices} device(s); health on {Urls}")]
    public static partial void AgentStarted(ILogger logger, string edge, int sources, int devices, string urls);
}
