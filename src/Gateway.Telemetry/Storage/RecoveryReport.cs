namespace FactoryGateway.Telemetry.Storage;

/// <summary>
/// What <see cref="SegmentLog.Open"/> found and repaired. A crash can leave only the tail segment torn
/// (a batch written but not yet fsynced, or a segment created but its header not yet durable); that tail
/// is cut back to its last valid record and described here. Anything else that is wrong fails the open
/// with <see cref="SegmentLogCorruptException"/>.
/// </summary>
public sealed record RecoveryReport
{
    /// <summary>Segment files found in the directory (before any torn one was removed).</summary>
    public required int SegmentsFound { get; init; }

    /// <summary>Valid records in the tail segment after recovery.</summary>
    public required int TailSegmentRecords { get; init; }

    /// <summary>Bytes cut from the tail (truncated or removed with a torn segment); 0 after a clean close.</summary>
    public required long BytesTruncated { get; init; }

    /// <summary>The position where the cut begins; null when nothing was cut.</summary>
    public long? TruncatedAt { get; init; }

    /// <summary>Why the tail was cut, e.g. "torn header at 4096: 7 of 24 bytes"; null when nothing was cut.</summary>
    public string? Reason { get; init; }

    /// <summary>The first position on disk.</summary>
    public required long HeadPosition { get; init; }

    /// <summary>The end of the recovered data, where the next record goes.</summary>
    public required long TailPosition { get; init; }

    /// <summary>The next record's sequence number.</summary>
    public required long NextSequence { get; init; }

    /// <summary>
    /// When the last record that survived was appended (Unix ns), null when the tail segment holds none: after a
    /// crash, whatever the process meant to append after it is what was lost.
    /// </summary>
    public long? LastRecordTimestamp { get; init; }

    /// <summary>
    /// Cursors that pointed beyond the recovered tail (possible only after a power loss under
    /// <see cref="FsyncPolicy.None"/>) and were moved back to it.
    /// </summary>
    public IReadOnlyList<string> CursorsRewound { get; init; } = [];

    /// <summary>True when the log opened exactly as it was left.</summary>
    public bool IsClean => BytesTruncated == 0 && Reason is null && CursorsRewound.Count == 0;
}
