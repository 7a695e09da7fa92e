using System.Buffers;

namespace FactoryGateway.Telemetry.Storage;

/// <summary>One record as read back from the log.</summary>
/// <param name="Position">The record's logical position (pass it to a cursor to re-read from here).</param>
/// <param name="SequenceNumber">The record's sequence number (0-based, contiguous).</param>
/// <param name="TimestampNanoseconds">Append time, nanoseconds since the Unix epoch (UTC), read once per group commit.</param>
/// <param name="Payload">The payload; valid until the <see cref="LogReadBatch"/> it came from is disposed.</param>
public readonly record struct LogRecord(long Position, long SequenceNumber, long TimestampNanoseconds, ReadOnlyMemory<byte> Payload);

/// <summary>
/// Records read by <see cref="SegmentLog.ReadBatch"/>, every one already CRC-checked, held in one pooled
/// buffer: enumerating them allocates nothing. Dispose the batch to return the buffer; payloads are
/// invalid afterwards.
/// </summary>
public sealed class LogReadBatch : IDisposable
{
    private byte[]? _buffer;
    private readonly int _length;

    internal LogReadBatch(byte[]? buffer, int length, long firstPosition, int count, long nextPosition)
    {
        _buffer = buffer;
        _length = length;
        FirstPosition = firstPosition;
        Count = count;
        NextPosition = nextPosition;
    }

    /// <summary>The position of the first record (or <see cref="NextPosition"/> when empty).</summary>
    public long FirstPosition { get; }

    /// <summary>The number of records.</summary>
    public int Count { get; }

    /// <summary>Where to read next: the position after the last record (a cursor value).</summary>
    public long NextPosition { get; }

    /// <summary>The bytes the records take in the log, headers included.</summary>
    public int Bytes => _length;

    public Enumerator GetEnumerator()
    {
        ObjectDisposedException.ThrowIf(_buffer is null && Count > 0, this);
        return new Enumerator(_buffer, _length, FirstPosition);
    }

    public void Dispose()
    {
        byte[]? buffer = _buffer;
        _buffer = null;
        if (buffer is not null)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Walks the records in the batch's buffer.</summary>
    public struct Enumerator
    {
        private readonly byte[]? _buffer;
        private readonly int _length;
        private readonly long _firstPosition;
        private int _next;
        private LogRecord _current;

        internal Enumerator(byte[]? buffer, int length, long firstPosition)
        {
            _buffer = buffer;
            _length = length;
            _firstPosition = firstPosition;
            _next = 0;
            _current = default;
        }

        public readonly LogRecord Current => _current;

        public bool MoveNext()
        {
            if (_buffer is null || _next >= _length)
            {
                return false;
            }

            ReadOnlySpan<byte> header = _buffer.AsSpan(_next, LogFormat.RecordHeaderSize);
            int payloadLength = (int)LogFormat.DeclaredPayloadLength(header);
            _current = new LogRecord(
                _firstPosition + _next,
                LogFormat.ReadSequence(header),
                LogFormat.ReadTimestamp(header),
                new ReadOnlyMemory<byte>(_buffer, _next + LogFormat.RecordHeaderSize, payloadLength));
            _next += LogFormat.RecordHeaderSize + payloadLength;
            return true;
        }
    }
}
