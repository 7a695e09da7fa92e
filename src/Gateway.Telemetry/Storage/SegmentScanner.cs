using System.Buffers;

namespace FactoryGateway.Telemetry.Storage;

/// <summary>The outcome of scanning a segment's records from its start.</summary>
/// <param name="ValidLength">File length up to the end of the last valid record.</param>
/// <param name="Records">Valid records.</param>
/// <param name="NextSequence">The sequence number after the last valid record.</param>
/// <param name="Failure">Why the scan stopped before the file's end; null when every byte was a valid record.</param>
/// <param name="LastTimestamp">The append time (Unix ns) of the last valid record; null when there is none.</param>
internal readonly record struct ScanResult(long ValidLength, int Records, long NextSequence, string? Failure, long? LastTimestamp);

/// <summary>Reads a segment record by record in 1 MiB chunks, checking every length, CRC and sequence number.</summary>
internal static class SegmentScanner
{
    private const int ChunkBytes = 1 << 20;

    public static ScanResult Scan(Segment segment)
    {
        long fileLength = segment.Length;
        long offset = LogFormat.SegmentHeaderSize;
        long sequence = segment.BaseSequence;
        int records = 0;
        long? lastTimestamp = null;

        byte[] buffer = ArrayPool<byte>.Shared.Rent(ChunkBytes);
        long bufferStart = 0; // file offset of buffer[0]
        int bufferLength = 0;
        try
        {
            while (offset < fileLength)
            {
                long position = segment.BasePosition + offset;
                long remaining = fileLength - offset;
                if (remaining < LogFormat.RecordHeaderSize)
                {
                    return Stop($"torn header at {position}: {remaining} of {LogFormat.RecordHeaderSize} bytes");
                }

                Ensure(offset, LogFormat.RecordHeaderSize);
                long payloadLength = LogFormat.DeclaredPayloadLength(buffer.AsSpan((int)(offset - bufferStart)));
                if (payloadLength > SegmentLogOptions.MaxSegmentBytes)
                {
                    return Stop($"implausible length at {position}: header declares {payloadLength} payload bytes");
                }

                long recordSize = LogFormat.RecordHeaderSize + payloadLength;
                if (recordSize > remaining)
                {
                    return Stop($"torn record at {position}: header declares {payloadLength} payload bytes, {remaining - LogFormat.RecordHeaderSize} present");
                }

                Ensure(offset, (int)recordSize);
                string? problem = LogFormat.CheckRecord(buffer.AsSpan((int)(offset - bufferStart), (int)recordSize), position, sequence);
                if (problem is not null)
                {
                    return Stop(problem);
                }

                lastTimestamp = LogFormat.ReadTimestamp(buffer.AsSpan((int)(offset - bufferStart)));
                offset += recordSize;
                sequence++;
                records++;
            }

            return new ScanResult(offset, records, sequence, null, lastTimestamp);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        ScanResult Stop(string reason) => new(offset, records, sequence, reason, lastTimestamp);

        // Makes file bytes [from, from + count) available in the buffer; count never exceeds what the file holds.
        void Ensure(long from, int count)
        {
            if (from >= bufferStart && from + count <= bufferStart + bufferLength)
            {
                return;
            }

            if (count > buffer.Length)
            {
                ArrayPool<byte>.Shared.Return(buffer);
                buffer = ArrayPool<byte>.Shared.Rent(count);
            }

            int toRead = (int)Math.Min(buffer.Length, fileLength - from);
            int read = Segment.ReadAtMost(segment.Handle, buffer.AsSpan(0, toRead), from);
            if (read < count)
            {
                throw new EndOfStreamException($"{segment.Path} ended at {from + read} while reading {count} bytes at {from}.");
            }

            bufferStart = from;
            bufferLength = read;
        }
    }
}
