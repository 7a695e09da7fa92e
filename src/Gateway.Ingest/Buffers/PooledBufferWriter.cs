using System.Buffers;

namespace FactoryGateway.Ingest.Buffers;

/// <summary>
/// An <see cref="IBufferWriter{T}"/> over one array from <see cref="ArrayPool{T}.Shared"/>, grown by
/// doubling up to <see cref="MaxBytes"/>. Requests reuse it through a pool, so steady-state writes
/// allocate nothing.
/// </summary>
internal sealed class PooledBufferWriter : IBufferWriter<byte>, IDisposable
{
    private byte[] _buffer;
    private int _written;

    public PooledBufferWriter(int initialBytes, long maxBytes)
    {
        _buffer = ArrayPool<byte>.Shared.Rent(initialBytes);
        MaxBytes = maxBytes;
    }

    /// <summary>Writing beyond this throws <see cref="BufferLimitExceededException"/>.</summary>
    public long MaxBytes { get; set; }

    public int WrittenCount => _written;

    public ReadOnlyMemory<byte> WrittenMemory => _buffer.AsMemory(0, _written);

    public ReadOnlySpan<byte> WrittenSpan => _buffer.AsSpan(0, _written);

    public void Clear() => _written = 0;

    public void Advance(int count) => _written += count;

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsMemory(_written);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsSpan(_written);
    }

    public void Dispose()
    {
        byte[] buffer = _buffer;
        _buffer = [];
        if (buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private void Ensure(int sizeHint)
    {
        int needed = Math.Max(sizeHint, 1);
        if (_buffer.Length - _written >= needed)
        {
            return;
        }

        long wanted = Math.Max((long)_buffer.Length * 2, (long)_written + needed);
        if ((long)_written + needed > MaxBytes)
        {
            throw new BufferLimitExceededException(MaxBytes);
        }

        byte[] next = ArrayPool<byte>.Shared.Rent((int)Math.Min(wanted, Math.Min(MaxBytes + 16, Array.MaxLength)));
        _buffer.AsSpan(0, _written).CopyTo(next);
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = next;
    }
}

/// <summary>A body grew past its limit.</summary>
internal sealed class BufferLimitExceededException(long limit) : Exception($"more than {limit} bytes")
{
    public long Limit { get; } = limit;
}
