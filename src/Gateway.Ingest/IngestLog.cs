using Microsoft.Extensions.Logging;

namespace FactoryGateway.Ingest;

/// <summary>Log messages of the ingest service (event ids 1000–1099).</summary>
internal static partial class IngestLog
{
    [LoggerMessage(1000, LogLevel.Information, "WAL opened at {Directory}: head {Head}, tail {Tail}, {Segments} segment(s); recovery: {Recovery}")]
    public static partial void WalOpened(ILogger logger, string directory, long head, long tail, int segments, string recovery);

    [LoggerMessage(1001, LogLevel.Warning, "WAL recovery cut a torn tail: {Bytes} byte(s) at {Position}: {Reason}")]
    public static partial void WalTailCut(ILogger logger, long bytes, long? position, string? reason);

    [LoggerMessage(1002, LogLevel.Information, "Edge sequences restored: {Edges} edge(s) from the checkpoint, {Replayed} WAL record(s) replayed from position {Position}")]
    public static partial void EdgesRestored(ILogger logger, int edges, int replayed, long position);

    [LoggerMessage(1003, LogLevel.Debug, "Write rejected ({Status} {Reason}) for token {TokenId}: {Message}")]
    public static partial void WriteRejected(ILogger logger, int status, string reason, string tokenId, string message);

    [LoggerMessage(1004, LogLevel.Warning, "WAL is full ({Bytes} of {Max} bytes): writes get 503 until consumers catch up")]
    public static partial void WalFull(ILogger logger, long bytes, long max);

    [LoggerMessage(1005, LogLevel.Warning, "Edge {EdgeId} skipped batches {From}..{To}: recorded as a gap")]
    public static partial void SequenceGap(ILogger logger, string edgeId, long from, long to);

    [LoggerMessage(1006, LogLevel.Error, "Edge-sequence checkpoint failed")]
    public static partial void CheckpointFailed(ILogger logger, Exception exception);

    [LoggerMessage(1008, LogLevel.Critical, "WAL consumer {Consumer} stopped with an error; its cursor stays and the WAL keeps its data until it runs again")]
    public static partial void ConsumerFailed(ILogger logger, string consumer, Exception exception);

    [LoggerMessage(1007, LogLevel.Error, "Recording unregistered devices failed")]
    public static partial void UnregisteredFailed(ILogger logger, Exception exception);

    [LoggerMessage(1009, LogLevel.Error, "Recording writes refused for future timestamps failed")]
    public static partial void FutureRefusalsFailed(ILogger logger, Exception exception);
}
