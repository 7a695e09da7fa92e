using System.Buffers;
using System.Buffers.Binary;
using FactoryGateway.Telemetry.Storage;
using FactoryGateway.Testing;

namespace FactoryGateway.Telemetry.Tests.Storage;

public sealed class SegmentLogAppendTests
{
    [Fact]
    public async Task Appended_records_read_back_with_their_positions_and_sequence_numbers()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        using var directory = new TempDirectory("wal");
        await using SegmentLog log = SegmentLog.Open(LogTest.Options(directory));

        Assert.True(log.Recovery.IsClean);
        Assert.Equal(0, log.HeadPosition);
        Assert.Equal(LogTest.SegmentHeaderBytes, log.TailPosition);

        byte[][] payloads = [LogTest.Payload(0, 100), [], LogTest.Payload(2, 1), LogTest.Payload(3, 5000)];
        List<StoredRecord> appended = await LogTest.AppendAllAsync(log, payloads, ct);

        // Positions are byte offsets: the segment header, then each record's header and payload.
        Assert.Equal([32L, 32 + 124, 32 + 124 + 24, 32 + 124 + 24 + 25], appended.Select(r => r.Position));
        Assert.Equal([0L, 1, 2, 3], appended.Select(r => r.SequenceNumber));
        Assert.Equal(32 + 124 + 24 + 25 + 5024, log.TailPosition);
        LogTest.AssertSameRecords(appended, LogTest.ReadAll(log));

        SegmentLogStats stats = log.GetStats();
        Assert.Equal(4, stats.Appends);
        Assert.Equal(5101, stats.AppendedBytes);
        Assert.Equal(log.TailPosition, stats.BytesOnDisk);
        Assert.Equal(1, stats.Segments);
        Assert.Equal(4, stats.NextSequence);
        Assert.Equal(["00000000000000000000.seg"], LogTest.SegmentFiles(directory));
    }

    [Fact]
    public async Task Records_carry_the_append_time_from_the_injected_clock_in_nanoseconds()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        using var directory = new TempDirectory("wal");
        var now = new DateTimeOffset(2025, 11, 21, 8, 30, 15, TimeSpan.Zero).AddTicks(1234567);
        await using SegmentLog log = SegmentLog.Open(LogTest.Options(directory), new FixedTime(now));

        LogAppendResult result = await log.AppendAsync(LogTest.Payload(1, 10), ct);

        using LogReadBatch batch = log.ReadBatch(result.Position, 1, 1024);
        LogRecord record = Assert.Single(batch.ToList());
        Assert.Equal(1_763_713_815_123_456_700L, record.TimestampNanoseconds);
    }

    [Fact]
    public async Task Concurrent_appenders_are_group_committed_and_every_record_is_durable()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        using var directory = new TempDirectory("wal");
        const int AppenderCount = 8;
        const int AppendsEach = 2000;
        await using SegmentLog log = SegmentLog.Open(LogTest.Options(directory, segmentBytes: 1024 * 1024));

        Task<List<StoredRecord>>[] appenders = [.. Enumerable.Range(0, AppenderCount).Select(appender => Task.Run(async () =>
        {
            var mine = new List<StoredRecord>(AppendsEach);
            for (int i = 0; i < AppendsEach; i++)
            {
                byte[] payload = LogTest.Payload((appender * AppendsEach) + i, 64 + (i % 32));
                LogAppendResult result = await log.AppendAsync(payload, ct);
                Assert.Equal(LogAppendStatus.Appended, result.Status);
                mine.Add(new StoredRecord(result.Position, result.SequenceNumber, payload));
            }

            return mine;
        }, ct))];
        List<StoredRecord>[] results = await Task.WhenAll(appenders).WaitAsync(TimeSpan.FromMinutes(5), ct);

        // Each appender awaited its appends one by one, so its positions ascend.
        foreach (List<StoredRecord> mine in results)
        {
            Assert.True(mine.Zip(mine.Skip(1)).All(pair => pair.First.Position < pair.Second.Position));
        }

        List<StoredRecord> all = [.. results.SelectMany(r => r).OrderBy(r => r.Position)];
        Assert.Equal(AppenderCount * AppendsEach, all.Select(r => r.Position).Distinct().Count());
        Assert.Equal(Enumerable.Range(0, AppenderCount * AppendsEach).Select(i => (long)i), all.Select(r => r.SequenceNumber));
        LogTest.AssertSameRecords(all, LogTest.ReadAll(log, maxRecords: 500, maxBytes: 64 * 1024));

        SegmentLogStats stats = log.GetStats();
        Assert.Equal(AppenderCount * AppendsEach, stats.Appends);
        Assert.True(stats.Segments >= 2, $"expected a rotation, found {stats.Segments} segment(s)");
        // Group commit: one fsync covers many appends.
        Assert.True(stats.Commits < stats.Appends, $"{stats.Commits} commits for {stats.Appends} appends");
        Assert.True(stats.Fsyncs < stats.Appends, $"{stats.Fsyncs} fsyncs for {stats.Appends} appends");
        TestContext.Current.TestOutputHelper?.WriteLine($"{stats.Appends} appends in {stats.Commits} commits, {stats.Fsyncs} fsyncs");
    }

    [Fact]
    public async Task Records_rotate_into_new_segments_and_reads_cross_the_boundaries()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        using var directory = new TempDirectory("wal");
        await using SegmentLog log = SegmentLog.Open(LogTest.Options(directory, segmentBytes: 4096));

        byte[][] payloads = [.. Enumerable.Range(0, 60).Select(i => LogTest.Payload(i, (i * 97) % 1500))];
        List<StoredRecord> appended = await LogTest.AppendAllAsync(log, payloads, ct);

        string[] files = LogTest.SegmentFiles(directory);
        Assert.True(files.Length > 5, $"only {files.Length} segments");
        Assert.Equal(files.Length, log.GetStats().Segments);
        long[] bases = [.. files.Select(f => long.Parse(f[..20], System.Globalization.CultureInfo.InvariantCulture))];
        for (int i = 0; i < bases.Length; i++)
        {
            long length = new FileInfo(directory.Combine(files[i])).Length;
            Assert.True(length <= 4096, $"{files[i]} is {length} bytes");
            // A segment's end is the next segment's base, and its first record sits right after its header.
            if (i + 1 < bases.Length)
            {
                Assert.Equal(bases[i + 1], bases[i] + length);
            }

            Assert.Contains(appended, r => r.Position == bases[i] + LogTest.SegmentHeaderBytes);
        }

        LogTest.AssertSameRecords(appended, LogTest.ReadAll(log, maxRecords: 3, maxBytes: 2000));
        LogTest.AssertSameRecords(appended, LogTest.ReadAll(log, maxRecords: 1000, maxBytes: 1 << 20));
        // Reading from a segment's end position continues in the next segment.
        using LogReadBatch next = log.ReadBatch(bases[1], 1, 1);
        Assert.Equal(bases[1] + LogTest.SegmentHeaderBytes, next.FirstPosition);
    }

    [Fact]
    public async Task A_payload_larger_than_a_segment_allows_is_rejected_and_the_largest_allowed_fits()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        using var directory = new TempDirectory("wal");
        await using SegmentLog log = SegmentLog.Open(LogTest.Options(directory, segmentBytes: 4096));
        Assert.Equal(4096 - 32 - 24, log.MaxPayloadBytes);
        await log.AppendAsync(LogTest.Payload(0, 10), ct);

        ArgumentException error = await Assert.ThrowsAsync<ArgumentException>(async () => await log.AppendAsync(new byte[log.MaxPayloadBytes + 1], ct));
        Assert.Equal("payload", error.ParamName);
        Assert.Contains("4041-byte payload exceeds the segment log's limit of 4040 bytes", error.Message, StringComparison.Ordinal);

        byte[] largest = LogTest.Payload(1, log.MaxPayloadBytes);
        LogAppendResult result = await log.AppendAsync(largest, ct);
        Assert.Equal(32 + 24 + 10 + 32, result.Position); // alone in the second segment, which begins where the first ends
        Assert.Equal(2, log.GetStats().Segments);
        using LogReadBatch batch = log.ReadBatch(result.Position, 10, 100);
        Assert.Equal(largest, Assert.Single(batch.ToList()).Payload.ToArray());
    }

    [Fact]
    public async Task MaxBatchBytes_bounds_a_group_commit_and_an_outsized_record_still_goes_alone()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        using var directory = new TempDirectory("wal");
        SegmentLogOptions options = LogTest.Options(directory, segmentBytes: 1024 * 1024);
        options.MaxBatchBytes = 1; // every batch closes after its first record
        await using SegmentLog log = SegmentLog.Open(options);

        await Task.WhenAll(Enumerable.Range(0, 4).Select(w => Task.Run(async () =>
        {
            for (int i = 0; i < 50; i++)
            {
                Assert.True((await log.AppendAsync(LogTest.Payload(i, 100), ct)).IsAppended);
            }
        }, ct))).WaitAsync(LogTest.Deadline, ct);
        Assert.Equal(200, log.GetStats().Commits);

        // Far larger than the staging buffer starts (64 KiB): it grows for this record and shrinks after.
        List<StoredRecord> appended = await LogTest.AppendAllAsync(log, [LogTest.Payload(1000, 900 * 1024), LogTest.Payload(1001, 10)], ct);
        LogTest.AssertSameRecords(appended, LogTest.ReadAll(log, appended[0].Position, maxRecords: 10, maxBytes: 1024));
    }

    [Fact]
    public async Task A_multi_segment_sequence_payload_is_stored_contiguously()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        using var directory = new TempDirectory("wal");
        await using SegmentLog log = SegmentLog.Open(LogTest.Options(directory));
        byte[] whole = LogTest.Payload(7, 3000);
        var first = new Chunk(whole.AsMemory(0, 1000));
        Chunk last = first.Append(whole.AsMemory(1000, 1)).Append(whole.AsMemory(1001, 1999));
        var sequence = new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
        Assert.False(sequence.IsSingleSegment);

        LogAppendResult result = await log.AppendAsync(sequence, ct);

        using LogReadBatch batch = log.ReadBatch(result.Position, 1, 1);
        Assert.Equal(whole, Assert.Single(batch.ToList()).Payload.ToArray());
    }

    [Fact]
    public async Task ReadBatch_honours_its_record_and_byte_limits_but_always_returns_a_first_record()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        using var directory = new TempDirectory("wal");
        await using SegmentLog log = SegmentLog.Open(LogTest.Options(directory));
        List<StoredRecord> appended = await LogTest.AppendAllAsync(log, [.. Enumerable.Range(0, 10).Select(i => LogTest.Payload(i, 100))], ct);

        using (LogReadBatch two = log.ReadBatch(log.HeadPosition, 2, 1 << 20))
        {
            Assert.Equal(2, two.Count);
            Assert.Equal(appended[2].Position, two.NextPosition);
            Assert.Equal(248, two.Bytes);
        }

        using (LogReadBatch byBytes = log.ReadBatch(appended[3].Position, 100, 3 * 124))
        {
            Assert.Equal(3, byBytes.Count);
            Assert.Equal(appended[6].Position, byBytes.NextPosition);
        }

        using (LogReadBatch tiny = log.ReadBatch(appended[9].Position, 100, 1))
        {
            Assert.Equal(appended[9].Payload, Assert.Single(tiny.ToList()).Payload.ToArray());
            Assert.Equal(log.TailPosition, tiny.NextPosition);
        }

        using (LogReadBatch atTail = log.ReadBatch(log.TailPosition, 100, 1 << 20))
        {
            Assert.Equal(0, atTail.Count);
            Assert.Equal(log.TailPosition, atTail.NextPosition);
        }

        ArgumentOutOfRangeException beyond = Assert.Throws<ArgumentOutOfRangeException>(() => log.ReadBatch(log.TailPosition + 1, 1, 1));
        Assert.Contains("beyond the log's durable tail", beyond.Message, StringComparison.Ordinal);
        SegmentLogCorruptException notABoundary = Assert.Throws<SegmentLogCorruptException>(() => log.ReadBatch(appended[1].Position + 3, 1, 1 << 20));
        Assert.Contains("is not a record boundary", notABoundary.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WaitForAppendAsync_completes_when_a_record_becomes_durable_and_returns_false_on_close()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        using var directory = new TempDirectory("wal");
        SegmentLog log = SegmentLog.Open(LogTest.Options(directory));
        await using (log)
        {
            long tail = log.TailPosition;
            Task<bool> waiting = log.WaitForAppendAsync(tail, ct);
            Assert.False(waiting.IsCompleted);

            LogAppendResult appended = await log.AppendAsync(LogTest.Payload(1, 10), ct);

            Assert.True(await waiting.WaitAsync(LogTest.Deadline, ct));
            Assert.Equal(tail, appended.Position);
            Assert.True(await log.WaitForAppendAsync(tail, ct)); // already durable: completes at once

            Task<bool> pending = log.WaitForAppendAsync(log.TailPosition, ct);
            Assert.False(pending.IsCompleted);
            await log.DisposeAsync();
            Assert.False(await pending.WaitAsync(LogTest.Deadline, ct));
        }

        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await log.AppendAsync(new byte[1], ct));
        Assert.Throws<ObjectDisposedException>(() => log.ReadBatch(0, 1, 1));
    }

    [Fact]
    public async Task A_reader_that_waits_between_batches_follows_a_busy_writer_to_the_end()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        using var directory = new TempDirectory("wal");
        SegmentLogOptions options = LogTest.Options(directory, segmentBytes: 64 * 1024);
        options.FsyncPolicy = FsyncPolicy.None; // commits as fast as possible: the most chances to lose a wake-up
        const int RecordCount = 5000;
        await using SegmentLog log = SegmentLog.Open(options);

        Task<int> reader = Task.Run(async () =>
        {
            int seen = 0;
            long position = log.HeadPosition;
            while (seen < RecordCount)
            {
                Assert.True(await log.WaitForAppendAsync(position, ct));
                using LogReadBatch batch = log.ReadBatch(position, 16, 1 << 20);
                foreach (LogRecord record in batch)
                {
                    Assert.Equal(seen++, record.SequenceNumber);
                }

                position = batch.NextPosition;
            }

            return seen;
        }, ct);
        Task writers = Task.WhenAll(Enumerable.Range(0, 2).Select(w => Task.Run(async () =>
        {
            for (int i = w; i < RecordCount; i += 2)
            {
                await log.AppendAsync(LogTest.Payload(i, 20), ct);
            }
        }, ct)));

        await writers.WaitAsync(LogTest.Deadline, ct);
        Assert.Equal(RecordCount, await reader.WaitAsync(LogTest.Deadline, ct));
    }

    [Fact]
    public async Task WaitForAppendAsync_is_cancellable()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        using var directory = new TempDirectory("wal");
        await using SegmentLog log = SegmentLog.Open(LogTest.Options(directory));
        using var cancellation = CancellationTokenSource.CreateLinkedTokenSource(ct);

        Task<bool> waiting = log.WaitForAppendAsync(log.TailPosition, cancellation.Token);
        await cancellation.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting.WaitAsync(LogTest.Deadline, ct));
    }

    [Fact]
    public async Task FsyncPolicy_None_appends_without_any_fsync()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        using var directory = new TempDirectory("wal");
        SegmentLogOptions options = LogTest.Options(directory, segmentBytes: 4096);
        options.FsyncPolicy = FsyncPolicy.None;
        List<StoredRecord> appended;
        await using (SegmentLog log = SegmentLog.Open(options))
        {
            appended = await LogTest.AppendAllAsync(log, [.. Enumerable.Range(0, 20).Select(i => LogTest.Payload(i, 700))], ct);
            Assert.Equal(0, log.GetStats().Fsyncs);
            Assert.True(log.GetStats().Segments > 1);
        }

        await using SegmentLog reopened = SegmentLog.Open(options);
        Assert.True(reopened.Recovery.IsClean);
        LogTest.AssertSameRecords(appended, LogTest.ReadAll(reopened));
    }

    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }

    private sealed class Chunk : ReadOnlySequenceSegment<byte>
    {
        public Chunk(ReadOnlyMemory<byte> memory)
        {
            Memory = memory;
        }

        public Chunk Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Chunk(memory) { RunningIndex = RunningIndex + Memory.Length };
            Next = next;
            return next;
        }
    }
}

internal static class LogReadBatchExtensions
{
    /// <summary>Copies a batch's records out (test convenience; the payloads still point into the batch).</summary>
    public static List<LogRecord> ToList(this LogReadBatch batch)
    {
        var records = new List<LogRecord>(batch.Count);
        foreach (LogRecord record in batch)
        {
            records.Add(record);
        }

        return records;
    }

    public static int FirstInt(this LogRecord record) => BinaryPrimitives.ReadInt32LittleEndian(record.Payload.Span);
}
