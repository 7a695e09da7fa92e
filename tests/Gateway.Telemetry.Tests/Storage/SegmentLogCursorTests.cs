using FactoryGateway.Telemetry.Storage;
using FactoryGateway.Testing;

namespace FactoryGateway.Telemetry.Tests.Storage;

public sealed class SegmentLogCursorTests
{
    [Fact]
    public async Task A_cursor_persists_across_reopen()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        using var directory = new TempDirectory("wal");
        SegmentLogOptions options = LogTest.Options(directory);
        long position;
        await using (SegmentLog log = SegmentLog.Open(options))
        {
            Assert.Null(log.GetCursor("influx-forwarder"));
            Assert.Equal(log.HeadPosition, log.RegisterCursor("influx-forwarder"));
            List<StoredRecord> appended = await LogTest.AppendAllAsync(log, [.. Enumerable.Range(0, 5).Select(i => LogTest.Payload(i, 50))], ct);
            position = appended[3].Position;
            log.SetCursor("influx-forwarder", appended[1].Position);
            log.SetCursor("influx-forwarder", position);
            log.SetCursor("evidence", log.TailPosition);
            Assert.Equal(position, log.GetCursor("influx-forwarder"));
            Assert.Equal(position, log.RegisterCursor("influx-forwarder")); // registering again keeps the position
        }

        // One 24-byte file per cursor, no temp file left behind.
        Assert.Equal(["evidence.cursor", "influx-forwarder.cursor"], Directory.GetFiles(directory.Path, "*.cursor*").Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Equal(24, new FileInfo(directory.Combine("evidence.cursor")).Length);

        await using SegmentLog reopened = SegmentLog.Open(options);
        Assert.Equal(position, reopened.GetCursor("influx-forwarder"));
        Assert.Equal(reopened.TailPosition, reopened.GetCursor("evidence"));
        Assert.Equal(2, reopened.GetCursors().Count);
        using LogReadBatch batch = reopened.ReadBatch(position, 10, 1 << 20);
        Assert.Equal([3, 4], batch.ToList().Select(r => r.FirstInt()));
    }

    [Fact]
    public async Task Cursor_names_and_positions_are_checked()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        using var directory = new TempDirectory("wal");
        await using SegmentLog log = SegmentLog.Open(LogTest.Options(directory));
        await log.AppendAsync(new byte[10], ct);

        foreach (string bad in new[] { "", "Influx", "../escape", "a b", "x.cursor", new string('a', 65) })
        {
            ArgumentException error = Assert.Throws<ArgumentException>(() => log.SetCursor(bad, log.HeadPosition));
            Assert.Equal("name", error.ParamName);
        }

        ArgumentOutOfRangeException beyond = Assert.Throws<ArgumentOutOfRangeException>(() => log.SetCursor("ok", log.TailPosition + 1));
        Assert.Contains($"must lie between the head 0 and the durable tail {log.TailPosition}", beyond.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => log.SetCursor("ok", -1));
        Assert.Null(log.GetCursor("ok"));
    }

    [Fact]
    public async Task A_damaged_cursor_file_fails_the_open()
    {
        using var directory = new TempDirectory("wal");
        SegmentLogOptions options = LogTest.Options(directory);
        await using (SegmentLog log = SegmentLog.Open(options))
        {
            log.SetCursor("evidence", log.TailPosition);
        }

        string path = directory.Combine("evidence.cursor");
        LogTest.FlipByte(path, 9);

        SegmentLogCorruptException error = Assert.Throws<SegmentLogCorruptException>(() => SegmentLog.Open(options));
        Assert.Equal(path, error.FilePath);
        Assert.StartsWith("cursor CRC mismatch", error.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_full_log_rejects_appends_until_the_cursors_advance_and_free_a_segment()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        using var directory = new TempDirectory("wal");
        // 1000-byte payloads are 1024-byte records: 3 per 4 KiB segment (32 + 3 * 1024 = 3104 bytes).
        await using SegmentLog log = SegmentLog.Open(LogTest.Options(directory, segmentBytes: 4096, maxTotalBytes: 8192));
        log.RegisterCursor("influx-forwarder");
        log.RegisterCursor("evidence");

        var results = new List<LogAppendResult>();
        for (int i = 0; i < 8; i++)
        {
            results.Add(await log.AppendAsync(LogTest.Payload(i, 1000), ct));
        }

        // 3104 + 3104 + (32 + 1024) = 7264 bytes; the eighth record would make 8288 > 8192.
        Assert.All(results[..7], r => Assert.Equal(LogAppendStatus.Appended, r.Status));
        Assert.Equal(LogAppendResult.Full, results[7]);
        SegmentLogStats stats = log.GetStats();
        Assert.Equal((7264L, 3, 1L, 7L), (stats.BytesOnDisk, stats.Segments, stats.FullRejections, stats.Appends));
        Assert.Equal(7264, new DirectoryInfo(directory.Path).GetFiles("*.seg").Sum(f => f.Length));

        // One consumer past the first segment is not enough: the other still pins it.
        long secondSegment = results[3].Position - LogTest.SegmentHeaderBytes;
        log.SetCursor("influx-forwarder", log.TailPosition);
        Assert.Equal(LogAppendStatus.Full, (await log.AppendAsync(LogTest.Payload(7, 1000), ct)).Status);
        Assert.Equal(3, log.GetStats().Segments);

        log.SetCursor("evidence", results[3].Position);

        stats = log.GetStats();
        Assert.Equal((2, 1L, 7264L - 3104, secondSegment), (stats.Segments, stats.SegmentsDeleted, stats.BytesOnDisk, stats.HeadPosition));
        Assert.Equal(LogAppendStatus.Appended, (await log.AppendAsync(LogTest.Payload(7, 1000), ct)).Status);
        Assert.Equal(2, log.GetStats().FullRejections);
        ArgumentOutOfRangeException deleted = Assert.Throws<ArgumentOutOfRangeException>(() => log.ReadBatch(results[0].Position, 1, 1));
        Assert.Contains("its segment was deleted", deleted.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_cursors_nothing_is_deleted_automatically_and_TruncateBefore_deletes_whole_segments_only()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        using var directory = new TempDirectory("wal");
        await using SegmentLog log = SegmentLog.Open(LogTest.Options(directory, segmentBytes: 4096));
        List<StoredRecord> appended = await LogTest.AppendAllAsync(log, [.. Enumerable.Range(0, 9).Select(i => LogTest.Payload(i, 1000))], ct);
        Assert.Equal(3, log.GetStats().Segments);

        // A position inside the second segment frees only the first.
        LogTruncation truncation = log.TruncateBefore(appended[4].Position);
        Assert.Equal(new LogTruncation(1, 3104, appended[3].Position - 32), truncation);
        Assert.Equal(appended[3].Position - 32, log.HeadPosition);

        // A registered cursor bounds the truncation; the active segment is never deleted.
        log.SetCursor("evidence", appended[5].Position);
        Assert.Equal(0, log.TruncateBefore(log.TailPosition).SegmentsDeleted);
        log.SetCursor("evidence", log.TailPosition);
        Assert.Equal(1, log.GetStats().Segments);
        Assert.Equal(0, log.TruncateBefore(long.MaxValue).SegmentsDeleted);
        Assert.Equal([$"{appended[6].Position - 32:D20}.seg"], LogTest.SegmentFiles(directory));
        LogTest.AssertSameRecords(appended[6..], LogTest.ReadAll(log));
    }

    [Fact]
    public async Task Removing_a_cursor_unpins_the_log()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        using var directory = new TempDirectory("wal");
        await using SegmentLog log = SegmentLog.Open(LogTest.Options(directory, segmentBytes: 4096));
        log.RegisterCursor("retired");
        await LogTest.AppendAllAsync(log, [.. Enumerable.Range(0, 9).Select(i => LogTest.Payload(i, 1000))], ct);
        log.SetCursor("evidence", log.TailPosition);
        Assert.Equal(3, log.GetStats().Segments);

        Assert.True(log.RemoveCursor("retired"));

        Assert.False(log.RemoveCursor("retired"));
        Assert.Equal(1, log.GetStats().Segments);
        Assert.False(File.Exists(directory.Combine("retired.cursor")));
    }

    [Fact]
    public async Task A_consumer_gets_every_record_in_order_and_resumes_from_its_cursor_after_reopen()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        using var directory = new TempDirectory("wal");
        SegmentLogOptions options = LogTest.Options(directory, segmentBytes: 4096);
        var consumer = new CollectingConsumer("influx-forwarder");
        await using (SegmentLog log = SegmentLog.Open(options))
        {
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
            Task running = log.RunConsumerAsync(consumer, maxRecords: 4, maxBytes: 3000, stop.Token);
            await LogTest.AppendAllAsync(log, [.. Enumerable.Range(0, 30).Select(i => LogTest.Payload(i, 500))], ct);

            await consumer.WaitForAsync(30, ct);
            Assert.Equal(log.TailPosition, log.GetCursor("influx-forwarder"));
            await stop.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => running.WaitAsync(LogTest.Deadline, ct));
            await LogTest.AppendAllAsync(log, [.. Enumerable.Range(30, 5).Select(i => LogTest.Payload(i, 500))], ct);
            // The consumer's cursor moved through the log, so consumed segments were deleted behind it.
            Assert.True(log.GetStats().SegmentsDeleted > 0);
        }

        await using (SegmentLog log = SegmentLog.Open(options))
        {
            Task running = log.RunConsumerAsync(consumer, maxRecords: 100, maxBytes: 1 << 20, ct);
            await consumer.WaitForAsync(35, ct);
            await log.DisposeAsync();
            await running.WaitAsync(LogTest.Deadline, ct); // a closed log ends the loop
        }

        Assert.Equal(Enumerable.Range(0, 35), consumer.Received);
    }

    private sealed class CollectingConsumer(string name) : ILogConsumer
    {
        private readonly Lock _lock = new();
        private readonly List<int> _received = [];
        private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public string Name => name;

        public List<int> Received
        {
            get
            {
                lock (_lock)
                {
                    return [.. _received];
                }
            }
        }

        public ValueTask ConsumeAsync(LogReadBatch batch, CancellationToken cancellationToken)
        {
            TaskCompletionSource changed;
            lock (_lock)
            {
                foreach (LogRecord record in batch)
                {
                    _received.Add(record.FirstInt());
                }

                changed = _changed;
                _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
            }

            changed.SetResult();
            return ValueTask.CompletedTask;
        }

        public async Task WaitForAsync(int count, CancellationToken cancellationToken)
        {
            while (true)
            {
                Task changed;
                lock (_lock)
                {
                    if (_received.Count >= count)
                    {
                        return;
                    }

                    changed = _changed.Task;
                }

                await changed.WaitAsync(LogTest.Deadline, cancellationToken);
            }
        }
    }
}
