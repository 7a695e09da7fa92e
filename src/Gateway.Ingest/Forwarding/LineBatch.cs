namespace FactoryGateway.Ingest.Forwarding;

/// <summary>
/// The lines of the next write request, concatenated in one buffer with the end offset of every line, so
/// that the batch can be sent whole or as any run of lines (the halves of a split) without copying. The
/// buffers are allocated once per forwarder, grow to the largest batch and are reused: no allocation per batch.
/// </summary>
internal sealed class LineBatch
{
    private const byte NewLine = (byte)'\n';

    private byte[] _buffer;
    private readonly int[] _lineEnds;
    private readonly long[] _lineRecords;
    private int _length;
    private int _lines;

    public LineBatch(int maxLines, int initialBytes)
    {
        _lineEnds = new int[maxLines];
        _lineRecords = new long[maxLines];
        _buffer = new byte[initialBytes];
    }

    public int Lines => _lines;

    public int Bytes => _length;

    /// <summary>The WAL position of the record line <paramref name="line"/> came from (for the dead-letter header).</summary>
    public long RecordPosition(int line) => _lineRecords[line];

    /// <summary>The bytes of lines [<paramref name="first"/>, <paramref name="first"/> + <paramref name="count"/>).</summary>
    public ReadOnlyMemory<byte> Slice(int first, int count)
    {
        int start = first == 0 ? 0 : _lineEnds[first - 1];
        int end = _lineEnds[first + count - 1];
        return _buffer.AsMemory(start, end - start);
    }

    /// <summary>
    /// Appends whole lines from <paramref name="body"/> (of the WAL record at <paramref name="recordPosition"/>) while the batch stays within <paramref name="maxLines"/>
    /// and <paramref name="maxBytes"/> (an empty batch takes one line whatever its size, so a batch always
    /// progresses). Empty lines are skipped; a last line without a newline gets one. Returns the bytes of
    /// <paramref name="body"/> consumed; fewer than its length means the batch is full.
    /// </summary>
    public int Append(ReadOnlySpan<byte> body, long recordPosition, int maxLines, int maxBytes)
    {
        int consumed = 0;
        while (consumed < body.Length && _lines < maxLines)
        {
            ReadOnlySpan<byte> rest = body[consumed..];
            int newline = rest.IndexOf(NewLine);
            int lineLength = newline < 0 ? rest.Length : newline + 1;
            if (lineLength == 1 && newline == 0)
            {
                consumed++; // an empty line is no point
                continue;
            }

            int size = newline < 0 ? lineLength + 1 : lineLength;
            if (_lines > 0 && _length + size > maxBytes)
            {
                break;
            }

            EnsureCapacity(_length + size);
            rest[..lineLength].CopyTo(_buffer.AsSpan(_length));
            _length += lineLength;
            if (newline < 0)
            {
                _buffer[_length++] = NewLine;
            }

            _lineEnds[_lines] = _length;
            _lineRecords[_lines] = recordPosition;
            _lines++;
            consumed += lineLength;
        }

        return consumed;
    }

    public void Clear()
    {
        _length = 0;
        _lines = 0;
    }

    private void EnsureCapacity(int bytes)
    {
        if (bytes > _buffer.Length)
        {
            // The old buffer is left to the GC, not pooled: a request that InfluxDB answered early may still be reading it.
            Array.Resize(ref _buffer, (int)Math.Min(Array.MaxLength, Math.Max(bytes, 2L * _buffer.Length)));
        }
    }
}
