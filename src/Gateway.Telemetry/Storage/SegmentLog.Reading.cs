using System.Buffers;

namespace FactoryGateway.Telemetry.Storage;

public sealed partial class SegmentLog
{
    /// <summary>
    /// Reads up to <paramref name="maxRecords"/> durable records, and up to <paramref name="maxBytes"/> bytes
    /// of them (headers included), starting at <paramref name="from"/>: a record's position, or a
    /// <see cref="LogReadBatch.NextPosition"/>, <see cref="HeadPosition"/> or cursor value. A batch never
    /// crosses a segment boundary; its first record is returned even when larger than
    /// <paramref name="maxBytes"/>, so a reader always progresses. An empty batch means no durable record at
    /// or after <paramref name="from"/> yet: wait with <see cref="WaitForAppendAsync"/> on its
    /// <see cref="LogReadBatch.NextPosition"/>. Dispose the batch to return its pooled buffer.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">
    /// <paramref name="from"/> is beyond the durable tail or before the head (its segment was deleted).
    /// </exception>
    /// <exception cref="SegmentLogCorruptException">
    /// A record fails its length or CRC check: the segment is damaged, or <paramref name="from"/> was not a record boundary.
    /// </exception>
    public LogReadBatch ReadBatch(long from, int maxRecords, int maxBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxRecords, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBytes, 1);
        ObjectDisposedException.ThrowIf(_closed, this);

        // The tail first, then the segments: a commit publishes a new segment before a tail inside it.
        long durable = Volatile.Read(ref _durableEnd);
        Segment[] segments = Volatile.Read(ref _segments);
        if (from > durable)
        {
            throw new ArgumentOutOfRangeException(nameof(from), from, $"Position {from} is beyond the log's durable tail {durable}.");
        }

        int index = FindSegment(segments, from);
        if (index < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(from), from, $"Position {from} is before the log's head {segments[0].BasePosition}: its segment was deleted.");
        }

        long start;
        long end;
        while (true)
        {
            Segment candidate = segments[index];
            start = Math.Max(from, candidate.BasePosition + LogFormat.SegmentHeaderSize);
            end = index + 1 < segments.Length ? Math.Min(segments[index + 1].BasePosition, durable) : durable;
            if (start < end || index + 1 >= segments.Length || segments[index + 1].BasePosition >= durable)
            {
                break;
            }

            index++; // `from` is this segment's end, which is the next segment's start
        }

        if (start >= end)
        {
            // Nothing durable here yet. Skip a segment header only as far as the durable tail: a commit may
            // have published a new segment whose first record is not durable yet.
            long next = Math.Min(start, durable);
            return new LogReadBatch(null, 0, next, 0, next);
        }

        return ReadRecords(segments[index], start, end, maxRecords, maxBytes);
    }

    private LogReadBatch ReadRecords(Segment segment, long start, long end, int maxRecords, int maxBytes)
    {
        long available = end - start;
        int length = (int)Math.Min(available, Math.Max(maxBytes, LogFormat.RecordHeaderSize));
        byte[] buffer = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            Read(segment, buffer.AsSpan(0, length), start);
            int offset = 0;
            int count = 0;
            long previousSequence = 0;
            while (count < maxRecords && length - offset >= LogFormat.RecordHeaderSize)
            {
                long position = start + offset;
                long payloadLength = LogFormat.DeclaredPayloadLength(buffer.AsSpan(offset));
                long recordSize = LogFormat.RecordHeaderSize + payloadLength;
                if (recordSize > available - offset)
                {
                    throw new SegmentLogCorruptException(segment.Path, position,
                        $"record at {position} declares {payloadLength} payload bytes, but only {available - offset - LogFormat.RecordHeaderSize} durable bytes follow its header (a damaged segment, or {position} is not a record boundary)");
                }

                if (offset + recordSize > length)
                {
                    if (count > 0)
                    {
                        break;
                    }

                    // The first record alone is larger than maxBytes: read it whole.
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = ArrayPool<byte>.Shared.Rent((int)recordSize);
                    length = (int)recordSize;
                    Read(segment, buffer.AsSpan(0, length), start);
                }

                ReadOnlySpan<byte> record = buffer.AsSpan(offset, (int)recordSize);
                long expectedSequence = count == 0 ? LogFormat.ReadSequence(record) : previousSequence + 1;
                if (LogFormat.CheckRecord(record, position, expectedSequence) is { } problem)
                {
                    throw new SegmentLogCorruptException(segment.Path, position,
                        count == 0 ? $"{problem} (a damaged segment, or {position} is not a record boundary)" : problem);
                }

                previousSequence = expectedSequence;
                offset += (int)recordSize;
                count++;
            }

            if (count == 0)
            {
                throw new SegmentLogCorruptException(segment.Path, start, $"torn header at {start} inside the durable data");
            }

            return new LogReadBatch(buffer, offset, start, count, start + offset);
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }
    }

    private void Read(Segment segment, Span<byte> destination, long position)
    {
        int read;
        try
        {
            read = Segment.ReadAtMost(segment.Handle, destination, position - segment.BasePosition);
        }
        catch (ObjectDisposedException) when (!_closed)
        {
            throw new ArgumentOutOfRangeException(nameof(position), position, $"Position {position} is before the log's head {HeadPosition}: its segment was deleted while being read.");
        }

        if (read < destination.Length)
        {
            throw new SegmentLogCorruptException(segment.Path, position + read,
                $"segment ends at {segment.BasePosition + read + (position - segment.BasePosition)}, inside durable data that reaches {position + destination.Length}");
        }
    }

    // The last segment whose base position is at or before the position, or -1.
    private static int FindSegment(Segment[] segments, long position)
    {
        int low = 0;
        int high = segments.Length - 1;
        int found = -1;
        while (low <= high)
        {
            int middle = low + ((high - low) / 2);
            if (segments[middle].BasePosition <= position)
            {
                found = middle;
                low = middle + 1;
            }
            else
            {
                high = middle - 1;
            }
        }

        return found;
    }
}
