using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Runtime.CompilerServices;

namespace FactoryGateway.Telemetry.LineProtocol;

/// <summary>
/// Writes InfluxDB line protocol into an <see cref="IBufferWriter{T}"/>: measurement, tags, fields,
/// then a timestamp or <see cref="EndLine"/>. Escaping is exact (see <see cref="LineProtocolText"/>),
/// nothing is allocated per point, and a value the protocol cannot carry — NaN or ±infinity, a line
/// break, an empty name, a measurement starting with <c>#</c> or a tab, a timestamp that is not a whole number
/// of nanoseconds — is refused with <see cref="LineProtocolWriteException"/>, never dropped or altered.
/// </summary>
public sealed class LineProtocolWriter
{
    // Longest text of a formatted double ("R" round-trip form) or a 64-bit integer with its suffix.
    private const int MaxNumberBytes = 32;

    private IBufferWriter<byte> _output;
    private State _state;

    public LineProtocolWriter(IBufferWriter<byte> output)
    {
        _output = output;
    }

    private enum State
    {
        LineStart,
        AfterMeasurement,
        AfterField,
    }

    /// <summary>Points completed since construction or <see cref="Reset"/>.</summary>
    public long PointsWritten { get; private set; }

    /// <summary>Starts over on <paramref name="output"/>, discarding any unfinished point state.</summary>
    public void Reset(IBufferWriter<byte> output)
    {
        _output = output;
        _state = State.LineStart;
        PointsWritten = 0;
    }

    public LineProtocolWriter WriteMeasurement(ReadOnlySpan<char> measurement)
    {
        using var utf8 = new Utf8Scratch(measurement, stackalloc byte[Utf8Scratch.StackBytes]);
        return WriteMeasurement(utf8.Bytes);
    }

    public LineProtocolWriter WriteMeasurement(ReadOnlySpan<byte> measurement)
    {
        Expect(State.LineStart, "WriteMeasurement");
        CheckName(measurement, "measurement");
        if (measurement[0] == '#')
        {
            Fail("measurement", measurement, "starts with '#', which would make the line a comment");
        }

        if (measurement[0] == '\t')
        {
            Fail("measurement", measurement, "starts with a tab, which a reader skips as leading whitespace");
        }

        WriteEscaped(measurement, LineProtocolCharacters.MeasurementEscapes, LineProtocolCharacters.MeasurementEscapesAndBreaks, "measurement");
        _state = State.AfterMeasurement;
        return this;
    }

    public LineProtocolWriter WriteTag(ReadOnlySpan<char> key, ReadOnlySpan<char> value)
    {
        using var utf8Key = new Utf8Scratch(key, stackalloc byte[Utf8Scratch.StackBytes]);
        using var utf8Value = new Utf8Scratch(value, stackalloc byte[Utf8Scratch.StackBytes]);
        return WriteTag(utf8Key.Bytes, utf8Value.Bytes);
    }

    public LineProtocolWriter WriteTag(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
    {
        Expect(State.AfterMeasurement, "WriteTag");
        CheckName(key, "tag key");
        if (value.IsEmpty)
        {
            Fail("tag", key, "has an empty value; InfluxDB refuses empty tag values (omit the tag instead)");
        }

        WriteByte((byte)',');
        WriteEscaped(key, LineProtocolCharacters.KeyEscapes, LineProtocolCharacters.KeyEscapesAndBreaks, "tag key");
        WriteByte((byte)'=');
        WriteEscaped(value, LineProtocolCharacters.KeyEscapes, LineProtocolCharacters.KeyEscapesAndBreaks, "tag value");
        return this;
    }

    public LineProtocolWriter WriteField(ReadOnlySpan<char> key, double value)
    {
        using var utf8 = new Utf8Scratch(key, stackalloc byte[Utf8Scratch.StackBytes]);
        return WriteField(utf8.Bytes, value);
    }

    public LineProtocolWriter WriteField(ReadOnlySpan<byte> key, double value)
    {
        if (!double.IsFinite(value))
        {
            Fail("field", key, $"is {value.ToString(CultureInfo.InvariantCulture)}; line protocol has no NaN or infinity");
        }

        BeginField(key);
        Span<byte> span = _output.GetSpan(MaxNumberBytes);
        int written = TryFormatShortDecimal(value, span);
        // The default format is the shortest text that round-trips exactly (.NET Core 3.0 and later).
        if (written == 0 && !value.TryFormat(span, out written, default, CultureInfo.InvariantCulture))
        {
            throw new InvalidOperationException("a double did not fit in 32 bytes");
        }

        _output.Advance(written);
        return this;
    }

    /// <summary>
    /// Fast path for the values machines report (12000.5, 850.25, 3): when <paramref name="value"/>
    /// equals m / 10^k exactly for an integer m below 2^53 and k ≤ 3, writes m with a decimal point
    /// k digits from the right. That text parses back to the same double: the double nearest to
    /// m / 10^k is the one the division produced. Returns 0 when the fast path does not apply.
    /// </summary>
    private static int TryFormatShortDecimal(double value, Span<byte> destination)
    {
        const double MaxExact = 9_007_199_254_740_992; // 2^53
        double scale = 1;
        for (int k = 0; k <= 3; k++, scale *= 10)
        {
            double scaled = value * scale;
            if (Math.Abs(scaled) >= MaxExact)
            {
                return 0;
            }

            if (scaled != Math.Floor(scaled) || scaled / scale != value || (scaled == 0 && double.IsNegative(value)))
            {
                continue;
            }

            long m = (long)scaled;
            bool negative = m < 0;
            ulong magnitude = negative ? (ulong)(-m) : (ulong)m;
            int digits = CountDigits(magnitude);
            int integerDigits = Math.Max(digits - k, 1);
            int length = (negative ? 1 : 0) + integerDigits + (k > 0 ? 1 + k : 0);
            int position = length;
            for (int i = 0; i < k; i++)
            {
                destination[--position] = (byte)('0' + (magnitude % 10));
                magnitude /= 10;
            }

            if (k > 0)
            {
                destination[--position] = (byte)'.';
            }

            do
            {
                destination[--position] = (byte)('0' + (magnitude % 10));
                magnitude /= 10;
            }
            while (magnitude != 0);

            while (position > (negative ? 1 : 0))
            {
                destination[--position] = (byte)'0';
            }

            if (negative)
            {
                destination[0] = (byte)'-';
            }

            return length;
        }

        return 0;
    }

    private static int CountDigits(ulong value)
    {
        int digits = 1;
        while (value >= 10)
        {
            value /= 10;
            digits++;
        }

        return digits;
    }

    public LineProtocolWriter WriteField(ReadOnlySpan<char> key, long value)
    {
        using var utf8 = new Utf8Scratch(key, stackalloc byte[Utf8Scratch.StackBytes]);
        return WriteField(utf8.Bytes, value);
    }

    public LineProtocolWriter WriteField(ReadOnlySpan<byte> key, long value)
    {
        BeginField(key);
        Span<byte> span = _output.GetSpan(MaxNumberBytes);
        value.TryFormat(span, out int written, default, CultureInfo.InvariantCulture);
        span[written] = (byte)'i';
        _output.Advance(written + 1);
        return this;
    }

    public LineProtocolWriter WriteField(ReadOnlySpan<char> key, ulong value)
    {
        using var utf8 = new Utf8Scratch(key, stackalloc byte[Utf8Scratch.StackBytes]);
        return WriteField(utf8.Bytes, value);
    }

    public LineProtocolWriter WriteField(ReadOnlySpan<byte> key, ulong value)
    {
        BeginField(key);
        Span<byte> span = _output.GetSpan(MaxNumberBytes);
        value.TryFormat(span, out int written, default, CultureInfo.InvariantCulture);
        span[written] = (byte)'u';
        _output.Advance(written + 1);
        return this;
    }

    public LineProtocolWriter WriteField(ReadOnlySpan<char> key, bool value)
    {
        using var utf8 = new Utf8Scratch(key, stackalloc byte[Utf8Scratch.StackBytes]);
        return WriteField(utf8.Bytes, value);
    }

    public LineProtocolWriter WriteField(ReadOnlySpan<byte> key, bool value)
    {
        BeginField(key);
        WriteRaw(value ? "true"u8 : "false"u8);
        return this;
    }

    /// <summary>Writes a string field; <paramref name="value"/> is quoted and its <c>"</c> and <c>\</c> escaped.</summary>
    public LineProtocolWriter WriteStringField(ReadOnlySpan<char> key, ReadOnlySpan<char> value)
    {
        using var utf8Key = new Utf8Scratch(key, stackalloc byte[Utf8Scratch.StackBytes]);
        using var utf8Value = new Utf8Scratch(value, stackalloc byte[Utf8Scratch.StackBytes]);
        return WriteStringField(utf8Key.Bytes, utf8Value.Bytes);
    }

    public LineProtocolWriter WriteStringField(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
    {
        if (value.IndexOfAny(LineProtocolCharacters.LineBreaks) >= 0)
        {
            Fail("field", key, "has a line break in its string value; line protocol cannot carry one");
        }

        BeginField(key);
        Span<byte> span = _output.GetSpan((value.Length * 2) + 2);
        span[0] = (byte)'"';
        int written = 1;
        ReadOnlySpan<byte> rest = value;
        while (true)
        {
            int i = rest.IndexOfAny(LineProtocolCharacters.StringEscapes);
            if (i < 0)
            {
                rest.CopyTo(span[written..]);
                written += rest.Length;
                break;
            }

            rest[..i].CopyTo(span[written..]);
            written += i;
            span[written++] = (byte)'\\';
            span[written++] = rest[i];
            rest = rest[(i + 1)..];
        }

        span[written++] = (byte)'"';
        _output.Advance(written);
        return this;
    }

    /// <summary>Ends the point with a timestamp in nanoseconds since the Unix epoch.</summary>
    public void WriteTimestamp(long unixNanoseconds)
    {
        Expect(State.AfterField, "WriteTimestamp");
        Span<byte> span = _output.GetSpan(MaxNumberBytes);
        span[0] = (byte)' ';
        unixNanoseconds.TryFormat(span[1..], out int written, default, CultureInfo.InvariantCulture);
        span[written + 1] = (byte)'\n';
        _output.Advance(written + 2);
        Completed();
    }

    /// <summary>Ends the point with <paramref name="timestamp"/>, exactly (ticks are 100 ns).</summary>
    public void WriteTimestamp(DateTimeOffset timestamp) =>
        WriteTimestamp(checked((timestamp.UtcTicks - DateTime.UnixEpoch.Ticks) * 100));

    /// <summary>
    /// Ends the point with a timestamp given in <paramref name="unit"/>s, for sources that report
    /// fractional epochs (for example <c>1767225600.25</c> seconds). Decimal arithmetic keeps it exact;
    /// a value that is not a whole number of nanoseconds, or out of range, is refused.
    /// </summary>
    public void WriteTimestamp(decimal value, TimestampPrecision unit)
    {
        decimal nanoseconds;
        try
        {
            nanoseconds = value * unit.NanosecondsPerUnit();
        }
        catch (OverflowException)
        {
            throw new LineProtocolWriteException($"timestamp {value.ToString(CultureInfo.InvariantCulture)} {unit.ToQueryValue()} is out of range.");
        }

        if (nanoseconds != decimal.Truncate(nanoseconds))
        {
            throw new LineProtocolWriteException(
                $"timestamp {value.ToString(CultureInfo.InvariantCulture)} {unit.ToQueryValue()} is not a whole number of nanoseconds.");
        }

        if (nanoseconds is < long.MinValue or > long.MaxValue)
        {
            throw new LineProtocolWriteException($"timestamp {value.ToString(CultureInfo.InvariantCulture)} {unit.ToQueryValue()} is out of range.");
        }

        WriteTimestamp((long)nanoseconds);
    }

    /// <summary>Ends the point without a timestamp: the receiver stamps its arrival time.</summary>
    public void EndLine()
    {
        Expect(State.AfterField, "EndLine");
        WriteByte((byte)'\n');
        Completed();
    }

    private void Completed()
    {
        _state = State.LineStart;
        PointsWritten++;
    }

    private void BeginField(ReadOnlySpan<byte> key)
    {
        CheckName(key, "field key");
        switch (_state)
        {
            case State.AfterMeasurement:
                WriteByte((byte)' ');
                break;
            case State.AfterField:
                WriteByte((byte)',');
                break;
            default:
                throw new InvalidOperationException("WriteField needs a measurement first.");
        }

        WriteEscaped(key, LineProtocolCharacters.KeyEscapes, LineProtocolCharacters.KeyEscapesAndBreaks, "field key");
        WriteByte((byte)'=');
        _state = State.AfterField;
    }

    /// <summary>
    /// Copies an element, escaping its special bytes with a backslash. A backslash itself is doubled
    /// only where a reader would otherwise take it as an escape: before a special byte, before another
    /// backslash, or at the end of the element.
    /// </summary>
    private void WriteEscaped(ReadOnlySpan<byte> value, SearchValues<byte> specials, SearchValues<byte> specialsAndBreaks, string element)
    {
        // One scan for the common case: nothing to escape and no line break.
        int first = value.IndexOfAny(specialsAndBreaks);
        if (first < 0)
        {
            WriteRaw(value);
            return;
        }

        if (value[first..].IndexOfAny(LineProtocolCharacters.LineBreaks) >= 0)
        {
            Fail(element, value, "contains a line break; line protocol cannot carry one");
        }

        Span<byte> span = _output.GetSpan(value.Length * 2);
        value[..first].CopyTo(span);
        int written = first;
        for (int i = first; i < value.Length; i++)
        {
            byte b = value[i];
            if (b == '\\')
            {
                bool escape = i + 1 == value.Length || value[i + 1] == '\\' || specials.Contains(value[i + 1]);
                if (escape)
                {
                    span[written++] = (byte)'\\';
                }
            }
            else if (specials.Contains(b))
            {
                span[written++] = (byte)'\\';
            }

            span[written++] = b;
        }

        _output.Advance(written);
    }

    private void WriteRaw(ReadOnlySpan<byte> bytes)
    {
        Span<byte> span = _output.GetSpan(bytes.Length);
        bytes.CopyTo(span);
        _output.Advance(bytes.Length);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void WriteByte(byte b)
    {
        _output.GetSpan(1)[0] = b;
        _output.Advance(1);
    }

    private void Expect(State state, string operation)
    {
        if (_state != state)
        {
            throw new InvalidOperationException($"{operation} is out of order: a point is measurement, tags, fields, then a timestamp or EndLine.");
        }
    }

    private static void CheckName(ReadOnlySpan<byte> name, string element)
    {
        if (name.IsEmpty)
        {
            throw new LineProtocolWriteException($"the {element} is empty.");
        }
    }

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Fail(string element, ReadOnlySpan<byte> name, string reason) =>
        throw new LineProtocolWriteException($"{element} {LineProtocolThrow.Quote(name)} {reason}.");
}

/// <summary>A point cannot be written as line protocol; the message names the element and the reason.</summary>
public sealed class LineProtocolWriteException : ArgumentException
{
    public LineProtocolWriteException(string message)
        : base(message)
    {
    }

    public LineProtocolWriteException()
    {
    }

    public LineProtocolWriteException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>UTF-8 bytes of a char span: on the stack when short, from the array pool otherwise.</summary>
internal ref struct Utf8Scratch
{
    /// <summary>Stack bytes a caller provides: enough for names and tag values of up to 85 chars.</summary>
    public const int StackBytes = 256;

    private byte[]? _rented;

    public Utf8Scratch(ReadOnlySpan<char> text, Span<byte> stackBuffer)
    {
        int max = System.Text.Encoding.UTF8.GetMaxByteCount(text.Length);
        Span<byte> buffer = stackBuffer;
        if (max > stackBuffer.Length)
        {
            int exact = System.Text.Encoding.UTF8.GetByteCount(text);
            if (exact > stackBuffer.Length)
            {
                _rented = ArrayPool<byte>.Shared.Rent(exact);
                buffer = _rented;
            }
        }

        if (System.Text.Unicode.Utf8.FromUtf16(text, buffer, out _, out int written, replaceInvalidSequences: false) != OperationStatus.Done)
        {
            Dispose();
            throw new LineProtocolWriteException($"text {LineProtocolThrow.Quote(System.Text.Encoding.UTF8.GetBytes(text.ToString()))} is not valid UTF-16 (a lone surrogate); it would not survive as UTF-8.");
        }

        Bytes = buffer[..written];
    }

    public ReadOnlySpan<byte> Bytes { get; }

    public void Dispose()
    {
        if (_rented is not null)
        {
            ArrayPool<byte>.Shared.Return(_rented);
            _rented = null;
        }
    }
}
