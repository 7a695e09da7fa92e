namespace FactoryGateway.Telemetry.Storage;

/// <summary>
/// A read-only snapshot of a <see cref="SegmentLog"/>'s counters. Each value is read atomically; the
/// snapshot as a whole is not (an append may land between two reads).
/// </summary>
/// <param name="BytesOnDisk">Bytes in all segment files, headers included (what <see cref="SegmentLogOptions.MaxTotalBytes"/> bounds).</param>
/// <param name="Segments">Segment files, the active one included.</param>
/// <param name="HeadPosition">The first position still on disk.</param>
/// <param name="TailPosition">The end of the durable data: readers see everything before it.</param>
/// <param name="NextSequence">The sequence number the next durable record will get.</param>
/// <param name="Appends">Records appended since open.</param>
/// <param name="AppendedBytes">Payload bytes appended since open.</param>
/// <param name="Commits">Group commits (batches written) since open.</param>
/// <param name="Fsyncs">fsync calls since open: segment data, new segments, directories and cursor files.</param>
/// <param name="FullRejections">Appends answered <see cref="LogAppendStatus.Full"/> since open.</param>
/// <param name="SegmentsDeleted">Segments deleted behind the cursors since open.</param>
public sealed record SegmentLogStats(
    long BytesOnDisk,
    int Segments,
    long HeadPosition,
    long TailPosition,
    long NextSequence,
    long Appends,
    long AppendedBytes,
    long Commits,
    long Fsyncs,
    long FullRejections,
    long SegmentsDeleted);
