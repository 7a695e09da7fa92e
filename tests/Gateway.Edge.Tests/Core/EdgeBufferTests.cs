using System.Text;
using FactoryGateway.Edge.Buffer;
using FactoryGateway.Edge.Config;
using FactoryGateway.Telemetry.Storage;
using FactoryGateway.Testing;

namespace FactoryGateway.Edge.Tests.Core;

/// <summary>The disk buffer: bounded, in order, never evicting unsent data, and honest about what a crash cut.</summary>
public sealed class EdgeBufferTests
{
    private static BufferOptions Options(long maxBytes = 8 * 1024 * 1024, BufferOverflowPolicy overflow = BufferOverflowPolicy.RefuseNew) =>
        new() { FlushInterval = TimeSpan.FromMinutes(1), SegmentBytes = 64 * 1024, MaxBytes = maxBytes, Overflow = overflow };

    [Fact]
    public async Task Lines_are_kept_in_order_across_a_reopen_in_records_of_at_most_the_batch_size()
    {
        using var dir = new TempDirectory("edge-buffer");
        await using (EdgeBuffer buffer = EdgeBuffer.Open(dir.Path, Options(), recordLines: 100))
        {
            for (int i = 0; i < 1_000; i++)
            {
                Assert.True(buffer.TryAdd(Encoding.UTF8.GetBytes($"m v={i}i {i}\n")));
            }

            await buffer.FlushAsync(TestContext.Current.CancellationToken);
        }

        await using EdgeBuffer reopened = EdgeBuffer.Open(dir.Path, Options(), recordLines: 100);
        Assert.True(reopened.Recovery.IsClean);
        List<string> records = Records(reopened.Log);
        Assert.All(records, r => Assert.True(r.Count(c => c == '\n') <= 100));
        Assert.Equal(Enumerable.Range(0, 1_000).Select(i => $"m v={i}i {i}"), records.SelectMany(r => r.Split('\n', StringSplitOptions.RemoveEmptyEntries)));
    }

    [Fact]
    public async Task When_the_disk_bound_is_reached_new_lines_are_refused_and_counted_and_nothing_unsent_is_evicted()
    {
        using var dir = new TempDirectory("edge-buffer-full");
        await using EdgeBuffer buffer = EdgeBuffer.Open(dir.Path, Options(maxBytes: 128 * 1024), recordLines: 500);
        string padding = new('x', 200);
        int taken = 0;
        int refused = 0;
        for (int i = 0; i < 5_000 && refused == 0; i++)
        {
            if (buffer.TryAdd(Encoding.UTF8.GetBytes($"m s=\"{padding}\",n={i}i {i}\n")))
            {
                taken++;
            }
            else
            {
                refused++;
            }

            if (i % 100 == 99)
            {
                await buffer.FlushAsync(TestContext.Current.CancellationToken);
            }
        }

        Assert.True(buffer.IsFull);
        Assert.Equal(1, refused);
        Assert.Equal(1, buffer.Refused);
        // Everything taken is on disk or still waiting in memory, in order: nothing was dropped to make room.
        List<string> onDisk = [.. Records(buffer.Log).SelectMany(r => r.Split('\n', StringSplitOptions.RemoveEmptyEntries))];
        Assert.Equal(Enumerable.Range(0, onDisk.Count).Select(i => $"n={i}i"), onDisk.Select(l => l.Split(',')[1].Split(' ')[0]));
        Assert.Equal(taken, onDisk.Count + buffer.PendingLines);
    }

    [Fact]
    public async Task After_a_crash_the_reopen_cuts_the_torn_tail_and_says_when_the_last_record_kept_was_written()
    {
        using var dir = new TempDirectory("edge-buffer-torn");
        var clock = new ManualTimeProvider(new DateTimeOffset(2026, 7, 1, 8, 0, 0, TimeSpan.Zero));
        await using (EdgeBuffer buffer = EdgeBuffer.Open(dir.Path, Options(), recordLines: 100, clock))
        {
            buffer.TryAdd("m v=1i 1\n"u8);
            await buffer.FlushAsync(TestContext.Current.CancellationToken);
            clock.Advance(TimeSpan.FromSeconds(5));
            buffer.TryAdd("m v=2i 2\n"u8);
            await buffer.FlushAsync(TestContext.Current.CancellationToken);
        }

        // A record half written when the process died.
        string tail = Directory.GetFiles(dir.Path, "*.seg").Max()!;
        await File.AppendAllBytesAsync(tail, [40, 0, 0, 0, 1, 2, 3], TestContext.Current.CancellationToken);

        await using EdgeBuffer reopened = EdgeBuffer.Open(dir.Path, Options(), recordLines: 100, clock);
        Assert.Equal(7, reopened.Recovery.BytesTruncated);
        Assert.Equal(new DateTimeOffset(2026, 7, 1, 8, 0, 5, TimeSpan.Zero), reopened.LastRecordTime);
        Assert.Equal(["m v=1i 1\n", "m v=2i 2\n"], Records(reopened.Log));
    }

    private static List<string> Records(SegmentLog log)
    {
        var records = new List<string>();
        long position = log.HeadPosition;
        while (position < log.TailPosition)
        {
            using LogReadBatch batch = log.ReadBatch(position, 1000, 1 << 24);
            foreach (LogRecord record in batch)
            {
                records.Add(Encoding.UTF8.GetString(record.Payload.Span));
            }

            position = batch.NextPosition;
        }

        return records;
    }
}
