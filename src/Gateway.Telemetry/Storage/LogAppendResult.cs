namespace FactoryGateway.Telemetry.Storage;

/// <summary>The outcome of <see cref="SegmentLog.AppendAsync(ReadOnlyMemory{byte}, CancellationToken)"/>.</summary>
public enum LogAppendStatus
{
    /// <summary>The record is durable (per the log's <see cref="FsyncPolicy"/>) at <see cref="LogAppendResult.Position"/>.</summary>
    Appended = 0,

    /// <summary>
    /// The record would take the log beyond <see cref="SegmentLogOptions.MaxTotalBytes"/>; nothing was
    /// written. Space returns when consumers advance their cursors (the ingest answers 503 + Retry-After).
    /// </summary>
    Full = 1,
}

/// <summary>The outcome of an append: a status and, when appended, where the record is.</summary>
/// <param name="Status">Appended or Full.</param>
/// <param name="Position">The record's logical position; -1 unless appended.</param>
/// <param name="SequenceNumber">The record's sequence number; -1 unless appended.</param>
public readonly record struct LogAppendResult(LogAppendStatus Status, long Position, long SequenceNumber)
{
    public static LogAppendResult Full => new(LogAppendStatus.Full, -1, -1);

    public bool IsAppended => Status == LogAppendStatus.Appended;

    public static LogAppendResult Appended(long position, long sequenceNumber) => new(LogAppendStatus.Appended, position, sequenceNumber);
}
