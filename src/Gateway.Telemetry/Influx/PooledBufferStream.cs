using System.Buffers;

namespace FactoryGateway.Telemetry.Influx;

/// <summary>
/// A write-only stream into an <see cref="ArrayPool{T}"/> buffer that grows by doubling (the gzip output of a
/// request body). <see cref="Detach"/> hands the buffer to the caller, who returns it to the pool.
/// </summary>
internal sealed class PooledBufferStream : Stream
{
    private byte[]? _buffer;
    private int _length;

    public PooledBufferStream(int initialCapacity)
    {
        _buffer = ArrayPool<byte>.Shared.Rent(Math.Max(initialCapacity, 256));
    }

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => _buffer is not null;

    public override long Length => _length;

    public override long Position
    {
        get => _length;
        set => throw new NotSupportedException();
    }

    /// <summary>Takes the buffer (its first <paramref name="length"/> bytes are the data); the stream is empty afterwards.</summary>
    public byte[] Detach(out int length)
    {
        byte[] buffer = _buffer ?? throw new ObjectDisposedException(nameof(PooledBufferStream));
        length = _length;
        _buffer = null;
        _length = 0;
        return buffer;
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        byte[] target = _buffer ?? throw new ObjectDisposedException(nameof(PooledBufferStream));
        if (_length + buffer.Length > target.Length)
        {
            long wanted = Math.Max((long)_length + buffer.Length, 2L * target.Length);
            byte[] grown = ArrayPool<byte>.Shared.Rent((int)Math.Min(wanted, Array.MaxLength));
            target.AsSpan(0, _length).CopyTo(grown);
            ArrayPool<byte>.Shared.Return(target);
            _buffer = target = grown;
        }

        buffer.CopyTo(target.AsSpan(_length));
        _length += buffer.Length;
    }

    public override void WriteByte(byte value) => Write([value]);

    public override void Flush()
    {
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        byte[]? buffer = _buffer;
        _buffer = null;
        if (buffer is not null)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        base.Dispose(disposing);
    }
}
