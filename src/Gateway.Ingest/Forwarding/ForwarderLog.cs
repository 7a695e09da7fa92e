using Microsoft.Extensions.Logging;

namespace FactoryGateway.Ingest.Forwarding;

/// <summary>The InfluxDB forwarder's log messages. Event ids 2100–2149 belong to the forwarder.</summary>
internal static partial class ForwarderLog
{
    [LoggerMessage(EventId = 2100, Level = LogLevel.Information,
        Message = "InfluxDB forwarder '{Cursor}' started at WAL position {Position} (durable tail {Tail}), writing to {Target} with Content-Encoding {Encoding}.")]
    public static partial void Started(ILogger logger, string cursor, long position, long tail, string target, string encoding);

    [LoggerMessage(EventId = 2101, Level = LogLevel.Information,
        Message = "InfluxDB forwarder '{Cursor}' stopped at WAL position {Position}.")]
    public static partial void Stopped(ILogger logger, string cursor, long position);

    [LoggerMessage(EventId = 2102, Level = LogLevel.Warning,
        Message = "InfluxDB write of {Lines} lines failed ({Failure}); retrying in {Delay} and until it succeeds (the WAL keeps the points).")]
    public static partial void WriteFailing(ILogger logger, int lines, string failure, TimeSpan delay);

    [LoggerMessage(EventId = 2103, Level = LogLevel.Debug,
        Message = "InfluxDB write of {Lines} lines failed again ({Failure}); retry {Attempt} in {Delay}.")]
    public static partial void WriteRetry(ILogger logger, int lines, string failure, int attempt, TimeSpan delay);

    [LoggerMessage(EventId = 2104, Level = LogLevel.Information,
        Message = "InfluxDB write succeeded again after {Retries} retries over {Duration}.")]
    public static partial void WriteRecovered(ILogger logger, int retries, TimeSpan duration);

    [LoggerMessage(EventId = 2105, Level = LogLevel.Warning,
        Message = "InfluxDB refused a {Bytes}-byte body of {Lines} lines as too large (413: {Error}); sending it in halves. Set ForwarderOptions.MaxBatchBytes below the server's body limit (InfluxDB 1.x: [http] max-body-size) to avoid the extra requests; further splits are logged at Debug level.")]
    public static partial void SplitTooLarge(ILogger logger, long bytes, int lines, string? error);

    [LoggerMessage(EventId = 2109, Level = LogLevel.Debug,
        Message = "InfluxDB refused a {Bytes}-byte body of {Lines} lines as too large (413); sending it in halves.")]
    public static partial void SplitTooLargeAgain(ILogger logger, long bytes, int lines);

    [LoggerMessage(EventId = 2106, Level = LogLevel.Debug,
        Message = "InfluxDB rejected part of {Lines} lines ({Status}: {Error}); sending them in halves to isolate the rejected lines.")]
    public static partial void SplitRejected(ILogger logger, int lines, int status, string? error);

    [LoggerMessage(EventId = 2107, Level = LogLevel.Error,
        Message = "InfluxDB rejected {Lines} lines ({Status}: {Error}); they were written to the dead-letter file {Path} and forwarding moves on.")]
    public static partial void DeadLettered(ILogger logger, int lines, int status, string? error, string path);

    [LoggerMessage(EventId = 2108, Level = LogLevel.Error,
        Message = "WAL record at position {Position} (sequence {Sequence}) is not an ingest record ({Error}); its payload was kept in {Path} and it is skipped.")]
    public static partial void Undecodable(ILogger logger, long position, long sequence, string error, string path);
}
