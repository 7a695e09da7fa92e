namespace FactoryGateway.Telemetry.Storage;

/// <summary>When the segment log forces appended data to stable storage.</summary>
public enum FsyncPolicy
{
    /// <summary>
    /// Group commit: every batch of concurrent appends is written and fsynced once before any append in
    /// it completes. An append that completed survives a process kill or power loss.
    /// </summary>
    Always = 0,

    /// <summary>
    /// Never fsync segment data, new segments or directories; an append completes once its bytes are
    /// handed to the kernel. UNSAFE: a power loss (not a process kill) can lose completed appends and tear
    /// earlier segments, which the next open then reports as corruption. Cursor files are still written
    /// durably (they are rare; a cursor left ahead of lost data is moved back on open). For benchmarks
    /// and throw-away data only.
    /// </summary>
    None = 1,
}

/// <summary>Options of a <see cref="SegmentLog"/>; checked by <see cref="Validate"/> when the log opens.</summary>
public sealed class SegmentLogOptions
{
    /// <summary>The smallest <see cref="SegmentBytes"/>: room for the headers and a useful payload.</summary>
    public const long MinSegmentBytes = 4 * 1024;

    /// <summary>
    /// The largest <see cref="SegmentBytes"/>: payloads are int-sized spans, and a larger segment makes the
    /// open-time recovery scan and the deletion granularity coarser than any use here needs.
    /// </summary>
    public const long MaxSegmentBytes = 1L << 30;

    /// <summary>
    /// The directory holding the segments, the cursor files and the lock file; created when missing.
    /// No default: the host decides where its data lives.
    /// </summary>
    public string Directory { get; set; } = "";

    /// <summary>
    /// The size at which the log starts a new segment. 64 MiB bounds the recovery scan on open (the tail
    /// segment is read and checksummed whole: well under a second even on eMMC at ~100 MB/s) and the
    /// deletion granularity (consumed data lingers at most one segment); Kafka's 1 GiB default is sized
    /// for servers, not for the edge boxes this log also runs on.
    /// </summary>
    public long SegmentBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>
    /// The disk bound over all segment files, headers included; an append that would exceed it returns
    /// <see cref="LogAppendStatus.Full"/>. 4 GiB = 64 default segments: about 2 h of a downstream outage
    /// at 500 KB/s of line protocol, a mid-sized plant's rate. Size it as outage to ride out × ingest rate.
    /// Must be at least twice <see cref="SegmentBytes"/> so that a full log always holds a sealed segment
    /// that consumers can free.
    /// </summary>
    public long MaxTotalBytes { get; set; } = 4L * 1024 * 1024 * 1024;

    /// <summary>Group commit (<see cref="FsyncPolicy.Always"/>, the default) or no fsync at all (benchmarks only).</summary>
    public FsyncPolicy FsyncPolicy { get; set; } = FsyncPolicy.Always;

    /// <summary>
    /// Capacity of the bounded queue of appends waiting for the writer. Overflow policy: Wait (the appender
    /// waits asynchronously for room; its cancellation token cancels the wait). 1024 is far above the
    /// ingest's concurrent request limit, so the queue fills only while the disk stalls, and then it pushes
    /// back on the callers instead of holding their payloads in memory without bound.
    /// </summary>
    public int AppendQueueCapacity { get; set; } = 1024;

    /// <summary>
    /// The most payload bytes one group commit takes from the queue (a single larger record still goes
    /// alone). 4 MiB bounds the writer's staging buffer and the time an append waits behind others: about
    /// 20 ms of sequential write at 200 MB/s, a modest SSD.
    /// </summary>
    public int MaxBatchBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>
    /// Delete whole segments behind the slowest registered cursor whenever a cursor moves (default true,
    /// so a log with consumers never needs an operator). With no registered cursor nothing is deleted
    /// automatically; <see cref="SegmentLog.TruncateBefore"/> deletes explicitly.
    /// </summary>
    public bool DeleteConsumedSegments { get; set; } = true;

    /// <summary>
    /// Checksum every record of every segment on open, not only the tail segment (default false: a 4 GiB
    /// log would add seconds to every start, and readers check every record's CRC anyway). Sealed
    /// segments' headers and lengths are always checked.
    /// </summary>
    public bool VerifyAllSegmentsOnOpen { get; set; }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid option and why.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Directory))
        {
            throw Invalid(nameof(Directory), "must name the log's directory", Directory);
        }

        if (SegmentBytes is < MinSegmentBytes or > MaxSegmentBytes)
        {
            throw Invalid(nameof(SegmentBytes), $"must be between {MinSegmentBytes} and {MaxSegmentBytes} bytes", SegmentBytes);
        }

        if (MaxTotalBytes < 2 * SegmentBytes)
        {
            throw Invalid(nameof(MaxTotalBytes), $"must be at least twice SegmentBytes ({2 * SegmentBytes} bytes), or a full log could hold no sealed segment to free", MaxTotalBytes);
        }

        if (!Enum.IsDefined(FsyncPolicy))
        {
            throw Invalid(nameof(FsyncPolicy), "must be Always or None", FsyncPolicy);
        }

        if (AppendQueueCapacity is < 1 or > 1_000_000)
        {
            throw Invalid(nameof(AppendQueueCapacity), "must be between 1 and 1000000", AppendQueueCapacity);
        }

        if (MaxBatchBytes < 1)
        {
            throw Invalid(nameof(MaxBatchBytes), "must be positive", MaxBatchBytes);
        }
    }

    private static ArgumentException Invalid(string option, string reason, object value) =>
        new($"SegmentLogOptions.{option} {reason} (was {value}).", option);
}
