using FactoryGateway.Telemetry.Storage;
using FactoryGateway.Testing;

namespace FactoryGateway.Telemetry.Tests.Storage;

/// <summary>
/// Crash recovery. A crash (kill or power loss) can leave the tail torn at any byte after the last
/// fsync; these tests cut and damage the files the way a crash or bad media would and reopen.
/// </summary>
public sealed class SegmentLogRecoveryTests
{
    private const string FirstSegment = "00000000000000000000.seg";

    [Fact]
    public async Task Reopening_after_a_clean_close_continues_positions_and_sequence_numbers()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        using var directory = new TempDirectory("wal");
        SegmentLogOptions options = LogTest.Options(directory, segmentBytes: 4096);
        List<StoredRecord> first;
        long tail;
        await using (SegmentLog log = SegmentLog.Open(options))
        {
            first = await LogTest.AppendAllAsync(log, [.. Enumerable.Range(0, 12).Select(i => LogTest.Payload(i, 900))], ct);
            tail = log.TailPosition;
        }

        await using SegmentLog reopened = SegmentLog.Open(options);

        RecoveryReport report = reopened.Recovery;
        Assert.True(report.IsClean);
        Assert.Equal(LogTest.SegmentFiles(directory).Length, report.SegmentsFound);
        Assert.True(report.SegmentsFound > 1);
        Assert.Equal(4, report.TailSegmentRecords); // 4 records of 924 bytes fill a 4 KiB segment
        Assert.Equal(12, report.NextSequence);
        Assert.Equal(tail, report.TailPosition);
        Assert.Equal(0, report.BytesTruncated);
        Assert.Null(report.TruncatedAt);
        Assert.Null(report.Reason);

        LogAppendResult next = await reopened.AppendAsync(LogTest.Payload(12, 10), ct);
        Assert.Equal(12, next.SequenceNumber);
        Assert.Equal(LogAppendStatus.Appended, next.Status);
        LogTest.AssertSameRecords([.. first, new StoredRecord(next.Position, 12, LogTest.Payload(12, 10))], LogTest.ReadAll(reopened));
    }

    [Fact]
    public async Task A_tail_torn_at_any_byte_of_the_last_record_is_cut_back_to_the_record_before()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        using var directory = new TempDirectory("wal");
        SegmentLogOptions options = LogTest.Options(directory);
        List<StoredRecord> appended;
        await using (SegmentLog log = SegmentLog.Open(options))
        {
            appended = await LogTest.AppendAllAsync(log, [.. Enumerable.Range(0, 5).Select(i => LogTest.Payload(i, 30 + i))], ct);
        }

        string path = directory.Combine(FirstSegment);
        byte[] original = await File.ReadAllBytesAsync(path, ct);
        long lastStart = appended[^1].Position; // segment base 0: positions are file offsets
        Assert.Equal(lastStart + 24 + 34, original.Length);

        // Every length from the last record's start (a clean cut) to one byte short of its end.
        for (long cut = lastStart; cut < original.Length; cut++)
        {
            await File.WriteAllBytesAsync(path, original[..(int)cut], ct);

            await using SegmentLog log = SegmentLog.Open(options);

            RecoveryReport report = log.Recovery;
            long torn = cut - lastStart;
            string? expectedReason = torn switch
            {
                0 => null,
                < 24 => $"torn header at {lastStart}: {torn} of 24 bytes; {torn} bytes truncated from {FirstSegment}",
                _ => $"torn record at {lastStart}: header declares 34 payload bytes, {torn - 24} present; {torn} bytes truncated from {FirstSegment}",
            };
            Assert.Equal(expectedReason, report.Reason);
            Assert.Equal(torn, report.BytesTruncated);
            Assert.Equal(torn == 0 ? null : lastStart, report.TruncatedAt);
            Assert.Equal(4, report.TailSegmentRecords);
            Assert.Equal(lastStart, report.TailPosition);
            Assert.Equal(lastStart, new FileInfo(path).Length);
            LogTest.AssertSameRecords(appended[..4], LogTest.ReadAll(log));

            // The log goes on where the last good record ended.
            LogAppendResult next = await log.AppendAsync(LogTest.Payload(99, 5), ct);
            Assert.Equal((lastStart, 4L), (next.Position, next.SequenceNumber));
        }
    }

    [Fact]
    public async Task A_flipped_byte_in_the_last_record_is_a_CRC_mismatch_that_is_truncated_and_reported()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        using var directory = new TempDirectory("wal");
        SegmentLogOptions options = LogTest.Options(directory);
        List<StoredRecord> appended = await AppendAndCloseAsync(options, count: 5, payloadLength: 200, ct);
        string path = directory.Combine(FirstSegment);
        long lastStart = appended[^1].Position;

        // A payload byte, then (after a fresh copy) a byte of the sequence number inside the header.
        foreach (long offset in new[] { lastStart + 24 + 150, lastStart + 9 })
        {
            byte[] original = await File.ReadAllBytesAsync(path, ct);
            LogTest.FlipByte(path, offset);

            await using (SegmentLog log = SegmentLog.Open(options))
            {
                RecoveryReport report = log.Recovery;
                Assert.StartsWith($"CRC mismatch at {lastStart}: stored 0x", report.Reason, StringComparison.Ordinal);
                Assert.EndsWith($"224 bytes truncated from {FirstSegment}", report.Reason, StringComparison.Ordinal);
                Assert.Equal(224, report.BytesTruncated);
                Assert.Equal(lastStart, report.TruncatedAt);
                Assert.Equal(4, report.TailSegmentRecords);
                LogTest.AssertSameRecords(appended[..4], LogTest.ReadAll(log));
            }

            await File.WriteAllBytesAsync(path, original, ct);
        }
    }

    [Fact]
    public async Task A_garbage_length_in_the_last_record_header_is_detected()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        using var directory = new TempDirectory("wal");
        SegmentLogOptions options = LogTest.Options(directory);
        List<StoredRecord> appended = await AppendAndCloseAsync(options, count: 3, payloadLength: 100, ct);
        string path = directory.Combine(FirstSegment);
        long lastStart = appended[^1].Position;

        // Lower length: the record looks complete, but the CRC covers the length. Higher: it overruns the file.
        LogTest.FlipByte(path, lastStart); // 100 ^ 0x5A = 62
        await using (SegmentLog log = SegmentLog.Open(options))
        {
            Assert.StartsWith($"CRC mismatch at {lastStart}", log.Recovery.Reason, StringComparison.Ordinal);
            Assert.Equal(2, log.Recovery.TailSegmentRecords);
        }

        await AppendAndCloseAsync(options, count: 1, payloadLength: 100, ct);
        LogTest.FlipByte(path, lastStart + 3); // high byte of the length
        await using (SegmentLog log = SegmentLog.Open(options))
        {
            Assert.StartsWith($"implausible length at {lastStart}: header declares 1509949540 payload bytes", log.Recovery.Reason, StringComparison.Ordinal);
            Assert.Equal(2, log.Recovery.TailSegmentRecords);
        }
    }

    [Fact]
    public async Task A_zero_filled_tail_is_truncated()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        using var directory = new TempDirectory("wal");
        SegmentLogOptions options = LogTest.Options(directory);
        List<StoredRecord> appended = await AppendAndCloseAsync(options, count: 3, payloadLength: 100, ct);
        string path = directory.Combine(FirstSegment);
        long end = new FileInfo(path).Length;
        // A file system may extend a file before its data blocks reach the disk: zeros after a crash.
        await using (FileStream file = File.Open(path, FileMode.Append))
        {
            await file.WriteAsync(new byte[4096], ct);
        }

        await using SegmentLog log = SegmentLog.Open(options);

        Assert.StartsWith($"CRC mismatch at {end}: stored 0x00000000, computed 0x", log.Recovery.Reason, StringComparison.Ordinal);
        Assert.Equal(4096, log.Recovery.BytesTruncated);
        LogTest.AssertSameRecords(appended, LogTest.ReadAll(log));
    }

    [Fact]
    public async Task A_damaged_record_inside_the_tail_segment_cuts_the_tail_from_there_and_says_how_much()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        using var directory = new TempDirectory("wal");
        SegmentLogOptions options = LogTest.Options(directory);
        List<StoredRecord> appended = await AppendAndCloseAsync(options, count: 5, payloadLength: 100, ct);
        string path = directory.Combine(FirstSegment);
        long length = new FileInfo(path).Length;
        LogTest.FlipByte(path, appended[2].Position + 50);

        await using SegmentLog log = SegmentLog.Open(options);

        // Without a resynchronisation marker nothing after a bad record can be trusted; the report
        // makes the loss visible (bytes and position) rather than silent.
        Assert.StartsWith($"CRC mismatch at {appended[2].Position}", log.Recovery.Reason, StringComparison.Ordinal);
        Assert.Equal(length - appended[2].Position, log.Recovery.BytesTruncated);
        Assert.Equal(2, log.Recovery.TailSegmentRecords);
        LogTest.AssertSameRecords(appended[..2], LogTest.ReadAll(log));
    }

    [Fact]
    public async Task A_new_segment_whose_header_never_reached_the_disk_is_removed()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        using var directory = new TempDirectory("wal");
        SegmentLogOptions options = LogTest.Options(directory, segmentBytes: 4096);
        List<StoredRecord> appended = await AppendAndCloseAsync(options, count: 6, payloadLength: 1500, ct);
        string[] before = LogTest.SegmentFiles(directory);
        long tail = appended[^1].Position + 24 + 1500;
        // The crash hit while the next segment was being created: ten bytes of its header exist.
        string torn = LogTest.SegmentPath(directory, tail);
        await File.WriteAllBytesAsync(torn, "FGWSEG01\0\0"u8.ToArray(), ct);

        await using SegmentLog log = SegmentLog.Open(options);

        RecoveryReport report = log.Recovery;
        Assert.Equal($"torn segment header in {tail:D20}.seg (10 bytes: segment header is 10 of 32 bytes); segment removed", report.Reason);
        Assert.Equal(10, report.BytesTruncated);
        Assert.Equal(tail, report.TruncatedAt);
        Assert.Equal(before.Length + 1, report.SegmentsFound);
        Assert.Equal(before, LogTest.SegmentFiles(directory));
        Assert.Equal(tail, log.TailPosition);
        LogTest.AssertSameRecords(appended, LogTest.ReadAll(log));

        LogAppendResult next = await log.AppendAsync(LogTest.Payload(6, 1500), ct);
        Assert.Equal(6, next.SequenceNumber);
        Assert.Equal(tail + 32, next.Position); // rotated into a fresh segment with the same name
    }

    [Fact]
    public async Task A_torn_first_segment_of_a_new_log_is_recreated_empty()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        using var directory = new TempDirectory("wal");
        await File.WriteAllBytesAsync(directory.Combine(FirstSegment), new byte[5], ct);

        await using SegmentLog log = SegmentLog.Open(LogTest.Options(directory));

        Assert.Equal($"torn segment header in {FirstSegment} (5 bytes: segment header is 5 of 32 bytes); segment removed", log.Recovery.Reason);
        Assert.Equal(0, log.Recovery.NextSequence);
        Assert.Equal(32, (await log.AppendAsync(new byte[1], ct)).Position);
    }

    [Fact]
    public async Task A_tail_segment_holding_only_its_header_continues_the_sequence_from_its_header()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        using var directory = new TempDirectory("wal");
        SegmentLogOptions options = LogTest.Options(directory, segmentBytes: 4096);
        List<StoredRecord> appended = await AppendAndCloseAsync(options, count: 7, payloadLength: 1500, ct);
        string last = directory.Combine(LogTest.SegmentFiles(directory)[^1]);
        int inLast = appended.Count(r => r.Position > long.Parse(Path.GetFileName(last)[..20], System.Globalization.CultureInfo.InvariantCulture));
        // The crash came right after the rotation: the new segment's header is durable, no record is.
        using (FileStream file = File.Open(last, FileMode.Open))
        {
            file.SetLength(32);
        }

        await using SegmentLog log = SegmentLog.Open(options);

        Assert.Equal(7 - inLast, log.Recovery.NextSequence);
        Assert.Equal(0, log.Recovery.TailSegmentRecords);
        Assert.Equal(7 - inLast, (await log.AppendAsync(new byte[1], ct)).SequenceNumber);
    }

    [Fact]
    public async Task A_sealed_segment_cut_short_fails_the_open_with_a_clear_error()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        using var directory = new TempDirectory("wal");
        SegmentLogOptions options = LogTest.Options(directory, segmentBytes: 4096);
        await AppendAndCloseAsync(options, count: 10, payloadLength: 1000, ct);
        string[] files = LogTest.SegmentFiles(directory);
        string first = directory.Combine(files[0]);
        long length = new FileInfo(first).Length;
        using (FileStream file = File.Open(first, FileMode.Open))
        {
            file.SetLength(length - 1);
        }

        SegmentLogCorruptException error = Assert.Throws<SegmentLogCorruptException>(() => SegmentLog.Open(options));

        Assert.Equal(first, error.FilePath);
        Assert.Equal(length - 1, error.Position);
        Assert.Equal($"Segment log corrupt in {first}: sealed segment ends at position {length - 1} but the next segment {files[1]} begins at {length}; it was cut short, extended or overwritten.", error.Message);
        Assert.Equal(length - 1, new FileInfo(first).Length); // reported, not repaired
    }

    [Fact]
    public async Task A_damaged_record_in_a_sealed_segment_is_an_error_on_read_and_on_a_verifying_open()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        using var directory = new TempDirectory("wal");
        SegmentLogOptions options = LogTest.Options(directory, segmentBytes: 4096);
        List<StoredRecord> appended = await AppendAndCloseAsync(options, count: 10, payloadLength: 1000, ct);
        string first = directory.Combine(LogTest.SegmentFiles(directory)[0]);
        long damaged = appended[1].Position;
        LogTest.FlipByte(first, damaged + 24 + 500);

        await using (SegmentLog log = SegmentLog.Open(options))
        {
            // The default open checks sealed segments' headers and lengths only; the reader checks every CRC.
            Assert.True(log.Recovery.IsClean);
            using (LogReadBatch before = log.ReadBatch(log.HeadPosition, 1, 1 << 20))
            {
                Assert.Equal(appended[0].Payload, before.ToList()[0].Payload.ToArray());
            }

            SegmentLogCorruptException onRead = Assert.Throws<SegmentLogCorruptException>(() => log.ReadBatch(appended[1].Position, 10, 1 << 20));
            Assert.Equal(damaged, onRead.Position);
            Assert.StartsWith($"CRC mismatch at {damaged}: stored 0x", onRead.Reason, StringComparison.Ordinal);
            Assert.Throws<SegmentLogCorruptException>(() => LogTest.ReadAll(log));
        }

        options.VerifyAllSegmentsOnOpen = true;
        SegmentLogCorruptException onOpen = Assert.Throws<SegmentLogCorruptException>(() => SegmentLog.Open(options));
        Assert.Equal(first, onOpen.FilePath);
        Assert.Equal(damaged, onOpen.Position);
        Assert.StartsWith($"sealed segment: CRC mismatch at {damaged}", onOpen.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_verifying_open_of_an_undamaged_log_is_clean()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        using var directory = new TempDirectory("wal");
        SegmentLogOptions options = LogTest.Options(directory, segmentBytes: 4096);
        List<StoredRecord> appended = await AppendAndCloseAsync(options, count: 10, payloadLength: 1000, ct);
        options.VerifyAllSegmentsOnOpen = true;

        await using SegmentLog log = SegmentLog.Open(options);

        Assert.True(log.Recovery.IsClean);
        LogTest.AssertSameRecords(appended, LogTest.ReadAll(log));
    }

    [Fact]
    public async Task A_damaged_sealed_segment_header_fails_the_open()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        using var directory = new TempDirectory("wal");
        SegmentLogOptions options = LogTest.Options(directory, segmentBytes: 4096);
        await AppendAndCloseAsync(options, count: 10, payloadLength: 1000, ct);
        string second = directory.Combine(LogTest.SegmentFiles(directory)[1]);
        LogTest.FlipByte(second, 20); // inside the base sequence number

        SegmentLogCorruptException error = Assert.Throws<SegmentLogCorruptException>(() => SegmentLog.Open(options));

        Assert.Equal(second, error.FilePath);
        Assert.StartsWith("segment header CRC mismatch", error.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Open_creates_missing_directories_and_syncs_each_new_entry()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        using var directory = new TempDirectory("wal");
        SegmentLogOptions options = LogTest.Options(directory);
        options.Directory = directory.Combine("data", "ingest", "wal");

        await using SegmentLog log = SegmentLog.Open(options);

        Assert.True(File.Exists(Path.Combine(options.Directory, FirstSegment)));
        // Three parents for three new directories, then the first segment's header and its directory.
        Assert.Equal(3 + 2, log.GetStats().Fsyncs);
        Assert.True((await log.AppendAsync(new byte[3], ct)).IsAppended);
    }

    [Fact]
    public async Task A_directory_opens_once_at_a_time()
    {
        using var directory = new TempDirectory("wal");
        SegmentLogOptions options = LogTest.Options(directory);
        await using (SegmentLog log = SegmentLog.Open(options))
        {
            IOException error = Assert.Throws<IOException>(() => SegmentLog.Open(options));
            Assert.Contains("is already open", error.Message, StringComparison.Ordinal);
        }

        await using SegmentLog again = SegmentLog.Open(options);
        Assert.True(again.Recovery.IsClean);
    }

    private static async Task<List<StoredRecord>> AppendAndCloseAsync(SegmentLogOptions options, int count, int payloadLength, CancellationToken ct)
    {
        await using SegmentLog log = SegmentLog.Open(options);
        int start = (int)log.Recovery.NextSequence;
        return await LogTest.AppendAllAsync(log, [.. Enumerable.Range(start, count).Select(i => LogTest.Payload(i, payloadLength))], ct);
    }
}
