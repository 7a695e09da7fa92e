using System.Buffers.Binary;
using FactoryGateway.Telemetry.Storage;
using FactoryGateway.Testing;

namespace FactoryGateway.Telemetry.Tests.Storage;

/// <summary>A record as appended or read back, with its payload copied out of any pooled buffer.</summary>
internal sealed record StoredRecord(long Position, long SequenceNumber, byte[] Payload);

/// <summary>Shared helpers of the segment log tests.</summary>
internal static class LogTest
{
    /// <summary>How long a test waits for something that should happen at once.</summary>
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    public const int SegmentHeaderBytes = 32;
    public const int RecordHeaderBytes = 24;

    public static SegmentLogOptions Options(TempDirectory directory, long segmentBytes = 64 * 1024, long? maxTotalBytes = null) => new()
    {
        Directory = directory.Path,
        SegmentBytes = segmentBytes,
        MaxTotalBytes = maxTotalBytes ?? 1024 * segmentBytes,
    };

    /// <summary>A payload that names its index (first 4 bytes) and fills the rest with a pattern derived from it.</summary>
    public static byte[] Payload(int index, int length)
    {
        var payload = new byte[length];
        for (int i = 0; i < length; i++)
        {
            payload[i] = (byte)((index * 31) + (i * 7));
        }

        if (length >= 4)
        {
            BinaryPrimitives.WriteInt32LittleEndian(payload, index);
        }

        return payload;
    }

    public static async Task<List<StoredRecord>> AppendAllAsync(SegmentLog log, IEnumerable<byte[]> payloads, CancellationToken cancellationToken)
    {
        var stored = new List<StoredRecord>();
        foreach (byte[] payload in payloads)
        {
            LogAppendResult result = await log.AppendAsync(payload, cancellationToken);
            Assert.Equal(LogAppendStatus.Appended, result.Status);
            stored.Add(new StoredRecord(result.Position, result.SequenceNumber, payload));
        }

        return stored;
    }

    /// <summary>Reads every durable record from <paramref name="from"/> (default: the head) in small batches.</summary>
    public static List<StoredRecord> ReadAll(SegmentLog log, long? from = null, int maxRecords = 7, int maxBytes = 4096)
    {
        var records = new List<StoredRecord>();
        long position = from ?? log.HeadPosition;
        while (true)
        {
            using LogReadBatch batch = log.ReadBatch(position, maxRecords, maxBytes);
            foreach (LogRecord record in batch)
            {
                records.Add(new StoredRecord(record.Position, record.SequenceNumber, record.Payload.ToArray()));
            }

            if (batch.Count == 0 && batch.NextPosition == log.TailPosition)
            {
                return records;
            }

            position = batch.NextPosition;
        }
    }

    public static void AssertSameRecords(IReadOnlyList<StoredRecord> expected, IReadOnlyList<StoredRecord> actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (int i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected[i].Position, actual[i].Position);
            Assert.Equal(expected[i].SequenceNumber, actual[i].SequenceNumber);
            Assert.Equal(expected[i].Payload, actual[i].Payload);
        }
    }

    public static string[] SegmentFiles(TempDirectory directory) =>
        [.. Directory.GetFiles(directory.Path, "*.seg").Select(Path.GetFileName).Order(StringComparer.Ordinal)!];

    public static string SegmentPath(TempDirectory directory, long basePosition) =>
        directory.Combine($"{basePosition:D20}.seg");

    public static void FlipByte(string path, long offset)
    {
        using FileStream file = File.Open(path, FileMode.Open, FileAccess.ReadWrite);
        file.Position = offset;
        int value = file.ReadByte();
        file.Position = offset;
        file.WriteByte((byte)(value ^ 0x5A));
    }
}
