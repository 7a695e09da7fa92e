using System.Buffers;
using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace FactoryGateway.Telemetry.LineProtocol;

/// <summary>
/// Writes InfluxDB line protocol into an <see cref="IBufferWriter{T}"/>: measurement, tags, fields,
/// then a timestamp or <see cref="EndLine"/>. Escaping is exact (see <see cref="LineProtocolText"/>),
/// nothing is allocated per point, and a value the protocol cannot carry — NaN or ±infinity, a line
/// break, an empty name, a measurement starting with <c>#</c> or a tab, a timestamp that is not a whole number
/// of nanoseconds — is refused with <see cref="LineProtocolWriteException"/>, never dropped or altered.
/// </summary>
/// <remarks>
/// Each call asks the output for one span big enough for its whole element (separator, escaped name,
/// value), writes into it and advances once, so a refused element leaves nothing behind. Names are
/// copied and checked for bytes that need escaping in the same pass; only names that have one take
/// the escaping path.
/// </remarks>
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

    /// <summary>"00" to "99": two digits per lookup when formatting integers.</summary>
    private static ReadOnlySpan<byte> TwoDigits =>
        "00010203040506070809101112131415161718192021222324252627282930313233343536373839"u8 +
        "40414243444546474849505152535455565758596061626364656667686970717273747576777879"u8 +
        "8081828384858687888990919293949596979899"u8;

    private static ReadOnlySpan<ulong> PowersOf10 =>
    [
        1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000, 1_000_000_000, 10_000_000_000,
        100_000_000_000, 1_000_000_000_000, 10_000_000_000_000, 100_000_000_000_000, 1_000_000_000_000_000,
        10_000_000_000_000_000, 100_000_000_000_000_000, 1_000_000_000_000_000_000, 10_000_000_000_000_000_000,
    ];

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
        if (_state != State.LineStart)
        {
            ThrowOutOfOrder("WriteMeasurement");
        }

        if (measurement.IsEmpty)
        {
            ThrowEmpty("measurement");
        }

        if (measurement[0] == '#')
        {
            Fail("measurement", measurement, "starts with '#', which would make the line a comment");
        }

        if (measurement[0] == '\t')
        {
            Fail("measurement", measurement, "starts with a tab, which a reader skips as leading whitespace");
        }

        Span<byte> span = GetSpan(measurement.Length * 2);
        int written = WriteName(measurement, span, measurement: true, "measurement");
        _output.Advance(written);
        _state = State.AfterMeasurement;
        return this;
    }

    /// <summary>
    /// Starts a point with a measurement and tag set validated and escaped once, in place of
    /// <see cref="WriteMeasurement(ReadOnlySpan{byte})"/> and <see cref="WriteTag(ReadOnlySpan{byte}, ReadOnlySpan{byte})"/>
    /// calls; further tags may follow.
    /// </summary>
    public LineProtocolWriter WriteSeriesKey(LineProtocolSeriesKey seriesKey)
    {
        ArgumentNullException.ThrowIfNull(seriesKey);
        if (_state != State.LineStart)
        {
            ThrowOutOfOrder("WriteSeriesKey");
        }

        ReadOnlySpan<byte> text = seriesKey.Utf8;
        Span<byte> span = GetSpan(text.Length);
        text.CopyTo(span);
        _output.Advance(text.Length);
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
        if (_state != State.AfterMeasurement)
        {
            ThrowOutOfOrder("WriteTag");
        }

        if (key.IsEmpty)
        {
            ThrowEmpty("tag key");
        }

        if (value.IsEmpty)
        {
            Fail("tag", key, "has an empty value; InfluxDB refuses empty tag values (omit the tag instead)");
        }

        Span<byte> span = GetSpan(((key.Length + value.Length) * 2) + 2);
        span[0] = (byte)',';
        int written = 1 + WriteName(key, span[1..], measurement: false, "tag key");
        span[written++] = (byte)'=';
        written += WriteName(value, span[written..], measurement: false, "tag value");
        _output.Advance(written);
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

        Span<byte> span = BeginField(key, MaxNumberBytes, out int written);
        Span<byte> number = span[written..];
        int length = TryFormatShortDecimal(value, number);
        // The default format is the shortest text that round-trips exactly (.NET Core 3.0 and later).
        if (length == 0 && !value.TryFormat(number, out length, default, CultureInfo.InvariantCulture))
        {
            throw new InvalidOperationException("a double did not fit in 32 bytes");
        }

        EndField(written + length);
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

            return FormatDecimal((long)scaled, k, destination);
        }

        return 0;
    }

    /// <summary>Writes m / 10^k (k ≤ 3) as digits with a decimal point k digits from the right, e.g. 120005, 1 → "12000.5".</summary>
    private static int FormatDecimal(long m, int k, Span<byte> destination)
    {
        int written = 0;
        if (m < 0)
        {
            destination[written++] = (byte)'-';
        }

        ulong magnitude = m < 0 ? 0 - (ulong)m : (ulong)m;
        if (k == 0)
        {
            return written + FormatDigits(magnitude, destination[written..]);
        }

        ulong integer = k switch
        {
            1 => magnitude / 10,
            2 => magnitude / 100,
            _ => magnitude / 1000,
        };
        uint fraction = (uint)(magnitude - (integer * PowersOf10[k]));
        written += FormatDigits(integer, destination[written..]);
        destination[written] = (byte)'.';
        for (int i = k; i > 0; i--)
        {
            destination[written + i] = (byte)('0' + (fraction % 10));
            fraction /= 10;
        }

        return written + 1 + k;
    }

    public LineProtocolWriter WriteField(ReadOnlySpan<char> key, long value)
    {
        using var utf8 = new Utf8Scratch(key, stackalloc byte[Utf8Scratch.StackBytes]);
        return WriteField(utf8.Bytes, value);
    }

    public LineProtocolWriter WriteField(ReadOnlySpan<byte> key, long value)
    {
        Span<byte> span = BeginField(key, MaxNumberBytes, out int written);
        written += FormatInteger(value, span[written..]);
        span[written++] = (byte)'i';
        EndField(written);
        return this;
    }

    public LineProtocolWriter WriteField(ReadOnlySpan<char> key, ulong value)
    {
        using var utf8 = new Utf8Scratch(key, stackalloc byte[Utf8Scratch.StackBytes]);
        return WriteField(utf8.Bytes, value);
    }

    public LineProtocolWriter WriteField(ReadOnlySpan<byte> key, ulong value)
    {
        Span<byte> span = BeginField(key, MaxNumberBytes, out int written);
        written += FormatDigits(value, span[written..]);
        span[written++] = (byte)'u';
        EndField(written);
        return this;
    }

    public LineProtocolWriter WriteField(ReadOnlySpan<char> key, bool value)
    {
        using var utf8 = new Utf8Scratch(key, stackalloc byte[Utf8Scratch.StackBytes]);
        return WriteField(utf8.Bytes, value);
    }

    public LineProtocolWriter WriteField(ReadOnlySpan<byte> key, bool value)
    {
        ReadOnlySpan<byte> text = value ? "true"u8 : "false"u8;
        Span<byte> span = BeginField(key, text.Length, out int written);
        text.CopyTo(span[written..]);
        EndField(written + text.Length);
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
        // One scan for the common case: nothing to escape and no line break.
        int first = value.IndexOfAny(LineProtocolCharacters.StringEscapesAndBreaks);
        if (first >= 0 && value[first..].IndexOfAny(LineProtocolCharacters.LineBreaks) >= 0)
        {
            Fail("field", key, "has a line break in its string value; line protocol cannot carry one");
        }

        Span<byte> span = BeginField(key, (value.Length * 2) + 2, out int written);
        span[written++] = (byte)'"';
        if (first < 0)
        {
            value.CopyTo(span[written..]);
            written += value.Length;
        }
        else
        {
            written += WriteStringEscaped(value, first, span[written..]);
        }

        span[written++] = (byte)'"';
        EndField(written);
        return this;
    }

    private static int WriteStringEscaped(ReadOnlySpan<byte> value, int first, Span<byte> destination)
    {
        value[..first].CopyTo(destination);
        int written = first;
        ReadOnlySpan<byte> rest = value[first..];
        while (true)
        {
            int i = rest.IndexOfAny(LineProtocolCharacters.StringEscapes);
            if (i < 0)
            {
                rest.CopyTo(destination[written..]);
                return written + rest.Length;
            }

            rest[..i].CopyTo(destination[written..]);
            written += i;
            destination[written++] = (byte)'\\';
            destination[written++] = rest[i];
            rest = rest[(i + 1)..];
        }
    }

    /// <summary>Ends the point with a timestamp in nanoseconds since the Unix epoch.</summary>
    public void WriteTimestamp(long unixNanoseconds)
    {
        if (_state != State.AfterField)
        {
            ThrowOutOfOrder("WriteTimestamp");
        }

        Span<byte> span = GetSpan(MaxNumberBytes);
        span[0] = (byte)' ';
        int written = 1 + FormatInteger(unixNanoseconds, span[1..]);
        span[written++] = (byte)'\n';
        _output.Advance(written);
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
        if (_state != State.AfterField)
        {
            ThrowOutOfOrder("EndLine");
        }

        GetSpan(1)[0] = (byte)'\n';
        _output.Advance(1);
        Completed();
    }

    private void Completed()
    {
        _state = State.LineStart;
        PointsWritten++;
    }

    /// <summary>
    /// Gets a span for a field of at most <paramref name="valueBytes"/> value bytes and writes its
    /// separator, escaped key and <c>=</c>; <paramref name="written"/> is where the value goes.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private Span<byte> BeginField(ReadOnlySpan<byte> key, int valueBytes, out int written)
    {
        if (key.IsEmpty)
        {
            ThrowEmpty("field key");
        }

        State state = _state;
        if (state == State.LineStart)
        {
            ThrowFieldBeforeMeasurement();
        }

        Span<byte> span = GetSpan((key.Length * 2) + 2 + valueBytes);
        span[0] = state == State.AfterField ? (byte)',' : (byte)' ';
        written = 1 + WriteName(key, span[1..], measurement: false, "field key");
        span[written++] = (byte)'=';
        return span;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void EndField(int written)
    {
        _output.Advance(written);
        _state = State.AfterField;
    }

    /// <summary>A span of at least <paramref name="length"/> bytes; the fast paths below write into it without further bounds checks.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private Span<byte> GetSpan(int length)
    {
        Span<byte> span = _output.GetSpan(length);
        if (span.Length < length)
        {
            ThrowShortSpan(length, span.Length);
        }

        return span;
    }

    /// <summary>
    /// Copies a non-empty name into <paramref name="destination"/> (room for twice its length),
    /// escaped if it has to be; returns the bytes written.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int WriteName(ReadOnlySpan<byte> name, Span<byte> destination, bool measurement, string element)
    {
        Debug.Assert(!name.IsEmpty && destination.Length >= name.Length * 2);
        if (CopyIfPlain(name, ref MemoryMarshal.GetReference(destination), measurement))
        {
            return name.Length;
        }

        return measurement
            ? WriteEscaped(name, destination, LineProtocolCharacters.MeasurementEscapes, element)
            : WriteEscaped(name, destination, LineProtocolCharacters.KeyEscapes, element);
    }

    /// <summary>
    /// Copies a non-empty name to <paramref name="destination"/> (room for its length) and returns
    /// whether it had no byte to escape and no line break. Names are short (3–20 bytes): instead of a
    /// search then a copy, the bytes are loaded once as two overlapping 8- or 4-byte words (or 16-byte
    /// vectors above 16 bytes), stored, and compared against the special bytes as one vector.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool CopyIfPlain(ReadOnlySpan<byte> name, ref byte destination, bool measurement)
    {
        int length = name.Length;
        ref byte source = ref MemoryMarshal.GetReference(name);
        if (!Vector128.IsHardwareAccelerated)
        {
            if (name.IndexOfAny(measurement ? LineProtocolCharacters.MeasurementEscapesAndBreaks : LineProtocolCharacters.KeyEscapesAndBreaks) >= 0)
            {
                return false;
            }

            name.CopyTo(MemoryMarshal.CreateSpan(ref destination, length));
            return true;
        }

        Vector128<byte> bytes;
        if (length >= 8)
        {
            if (length > 16)
            {
                return CopyLongIfPlain(ref source, ref destination, length, measurement);
            }

            ulong head = Unsafe.ReadUnaligned<ulong>(ref source);
            ulong tail = Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref source, length - 8));
            Unsafe.WriteUnaligned(ref destination, head);
            Unsafe.WriteUnaligned(ref Unsafe.Add(ref destination, length - 8), tail);
            bytes = Vector128.Create(head, tail).AsByte();
        }
        else if (length >= 4)
        {
            uint head = Unsafe.ReadUnaligned<uint>(ref source);
            uint tail = Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref source, length - 4));
            Unsafe.WriteUnaligned(ref destination, head);
            Unsafe.WriteUnaligned(ref Unsafe.Add(ref destination, length - 4), tail);
            bytes = Vector128.Create(head, tail, head, tail).AsByte();
        }
        else
        {
            // 1 to 3 bytes: the first, middle and last cover them all. Zero bytes in the other lanes are not special.
            byte first = source;
            byte middle = Unsafe.Add(ref source, length >> 1);
            byte last = Unsafe.Add(ref source, length - 1);
            destination = first;
            Unsafe.Add(ref destination, length >> 1) = middle;
            Unsafe.Add(ref destination, length - 1) = last;
            bytes = Vector128.CreateScalar(first | ((uint)middle << 8) | ((uint)last << 16)).AsByte();
        }

        return Specials(bytes, measurement) == Vector128<byte>.Zero;
    }

    private static bool CopyLongIfPlain(ref byte source, ref byte destination, int length, bool measurement)
    {
        Vector128<byte> found = Vector128<byte>.Zero;
        nuint last = (nuint)(length - Vector128<byte>.Count);
        for (nuint offset = 0; offset < last; offset += (nuint)Vector128<byte>.Count)
        {
            Vector128<byte> bytes = Vector128.LoadUnsafe(ref source, offset);
            bytes.StoreUnsafe(ref destination, offset);
            found |= Specials(bytes, measurement);
        }

        // The last 16 bytes, overlapping the previous block.
        Vector128<byte> tail = Vector128.LoadUnsafe(ref source, last);
        tail.StoreUnsafe(ref destination, last);
        found |= Specials(tail, measurement);
        return found == Vector128<byte>.Zero;
    }

    /// <summary>
    /// Lanes of <paramref name="bytes"/> that need the escaping path: <see cref="LineProtocolCharacters.MeasurementEscapesAndBreaks"/>
    /// or <see cref="LineProtocolCharacters.KeyEscapesAndBreaks"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<byte> Specials(Vector128<byte> bytes, bool measurement)
    {
        Vector128<byte> found = Vector128.Equals(bytes, Vector128.Create((byte)','))
            | Vector128.Equals(bytes, Vector128.Create((byte)' '))
            | Vector128.Equals(bytes, Vector128.Create((byte)'\\'))
            | Vector128.Equals(bytes, Vector128.Create((byte)'\n'))
            | Vector128.Equals(bytes, Vector128.Create((byte)'\r'));
        return measurement ? found : found | Vector128.Equals(bytes, Vector128.Create((byte)'='));
    }

    /// <summary>
    /// Copies an element, escaping its special bytes with a backslash. A backslash itself is doubled
    /// only where a reader would otherwise take it as an escape: before a special byte, before another
    /// backslash, or at the end of the element.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static int WriteEscaped(ReadOnlySpan<byte> value, Span<byte> destination, SearchValues<byte> specials, string element)
    {
        if (value.IndexOfAny(LineProtocolCharacters.LineBreaks) >= 0)
        {
            Fail(element, value, "contains a line break; line protocol cannot carry one");
        }

        int written = 0;
        for (int i = 0; i < value.Length; i++)
        {
            byte b = value[i];
            if (b == '\\')
            {
                bool escape = i + 1 == value.Length || value[i + 1] == '\\' || specials.Contains(value[i + 1]);
                if (escape)
                {
                    destination[written++] = (byte)'\\';
                }
            }
            else if (specials.Contains(b))
            {
                destination[written++] = (byte)'\\';
            }

            destination[written++] = b;
        }

        return written;
    }

    /// <summary>Writes <paramref name="value"/> in decimal, with a leading minus sign when negative.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int FormatInteger(long value, Span<byte> destination)
    {
        if (value >= 0)
        {
            return FormatDigits((ulong)value, destination);
        }

        destination[0] = (byte)'-';
        return 1 + FormatDigits(0 - (ulong)value, destination[1..]);
    }

    /// <summary>
    /// Writes the decimal digits of <paramref name="value"/>: eight at a time while it is 9 digits or
    /// more (two independent 4-digit halves), then two at a time from a table.
    /// </summary>
    private static int FormatDigits(ulong value, Span<byte> destination)
    {
        int digits = CountDigits(value);
        if ((uint)digits > (uint)destination.Length)
        {
            ThrowShortSpan(digits, destination.Length);
        }

        ref byte end = ref Unsafe.Add(ref MemoryMarshal.GetReference(destination), digits);
        while (value >= 100_000_000)
        {
            ulong quotient = value / 100_000_000;
            uint block = (uint)(value - (quotient * 100_000_000));
            value = quotient;
            uint high = block / 10_000;
            uint low = block - (high * 10_000);
            end = ref Unsafe.Subtract(ref end, 8);
            WriteFourDigits(high, ref end);
            WriteFourDigits(low, ref Unsafe.Add(ref end, 4));
        }

        uint rest = (uint)value;
        while (rest >= 100)
        {
            uint quotient = rest / 100;
            end = ref Unsafe.Subtract(ref end, 2);
            WriteTwoDigits(rest - (quotient * 100), ref end);
            rest = quotient;
        }

        if (rest >= 10)
        {
            WriteTwoDigits(rest, ref Unsafe.Subtract(ref end, 2));
        }
        else
        {
            Unsafe.Subtract(ref end, 1) = (byte)('0' + rest);
        }

        return digits;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void WriteFourDigits(uint value, ref byte destination)
    {
        uint high = value / 100;
        WriteTwoDigits(high, ref destination);
        WriteTwoDigits(value - (high * 100), ref Unsafe.Add(ref destination, 2));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void WriteTwoDigits(uint value, ref byte destination)
    {
        Debug.Assert(value < 100);
        Unsafe.WriteUnaligned(ref destination, Unsafe.ReadUnaligned<ushort>(ref Unsafe.Add(ref MemoryMarshal.GetReference(TwoDigits), value * 2)));
    }

    /// <summary>Decimal digits of <paramref name="value"/> (1 for 0): log2 estimates log10, one table lookup corrects it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int CountDigits(ulong value)
    {
        value |= 1;
        int estimate = ((BitOperations.Log2(value) + 1) * 1233) >> 12;
        return estimate + 1 - (value < PowersOf10[estimate] ? 1 : 0);
    }

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowOutOfOrder(string operation) =>
        throw new InvalidOperationException($"{operation} is out of order: a point is measurement, tags, fields, then a timestamp or EndLine.");

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowFieldBeforeMeasurement() =>
        throw new InvalidOperationException("WriteField needs a measurement first.");

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowEmpty(string element) =>
        throw new LineProtocolWriteException($"the {element} is empty.");

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowShortSpan(int requested, int length) =>
        throw new InvalidOperationException($"the output returned a span of {length} bytes for a request of {requested}.");

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
