using System.Buffers;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Unicode;

namespace FactoryGateway.Telemetry.LineProtocol;

/// <summary>
/// Reads InfluxDB line protocol from a <see cref="ReadOnlySequence{T}"/> one validated point at a time:
/// measurement, tag set, field set (float, integer <c>i</c>, unsigned <c>u</c>, string, boolean),
/// optional timestamp scaled from the request's precision to nanoseconds, every escaping rule,
/// comments (<c>#</c>) and blank lines, CRLF line ends, and UTF-8 validation. A line in one buffer
/// segment is parsed in place; a line that spans segments is copied once into a buffer the reader
/// keeps, so reading allocates nothing per line in steady state.
/// </summary>
/// <remarks>Not thread-safe: one reader per request or connection, reset with <see cref="Reset"/>.</remarks>
public sealed class LineProtocolReader : IDisposable
{
    private readonly LineProtocolLimits _limits;
    private readonly bool _validateValues;
    private byte[]? _scratch;
    // Each tag of the current line as three offsets (key start, key end, value end), for LineProtocolLine.
    private int[] _tagBounds = new int[3 * 16];
    private int _lineNumber;
    private long _nanosecondsPerUnit = 1;
    private TimestampPrecision _precision;

    public LineProtocolReader(LineProtocolLimits limits)
        : this(limits, LineProtocolValidation.Full)
    {
    }

    /// <param name="limits">Line, tag and field limits; validated here.</param>
    /// <param name="validation">
    /// <see cref="LineProtocolValidation.Full"/> for input from clients; <see cref="LineProtocolValidation.Structure"/>
    /// only for bodies this process validated before (the ingest's WAL), where UTF-8 and field values are
    /// not checked again.
    /// </param>
    public LineProtocolReader(LineProtocolLimits limits, LineProtocolValidation validation)
    {
        _limits = limits.Validate();
        _validateValues = validation == LineProtocolValidation.Full;
    }

    /// <summary>Lines read so far, including blank and comment lines.</summary>
    public int LineNumber => _lineNumber;

    public TimestampPrecision Precision => _precision;

    /// <summary>Starts a new body: line numbers restart at 1 and timestamps are read in <paramref name="precision"/>.</summary>
    public void Reset(TimestampPrecision precision)
    {
        _lineNumber = 0;
        _precision = precision;
        _nanosecondsPerUnit = precision.NanosecondsPerUnit();
    }

    /// <summary>
    /// Reads the next point. Returns <see langword="false"/> when no complete line is left: at the end
    /// of the data, or, when <paramref name="isFinalBlock"/> is <see langword="false"/>, when the rest has
    /// no line break yet (the partial line is not consumed; complete blank and comment lines before it
    /// are). A line without a trailing line break is complete only in the final block.
    /// </summary>
    /// <exception cref="LineProtocolException">The line is malformed or over a limit; the message names line, column and reason.</exception>
    public bool TryRead(ref SequenceReader<byte> reader, bool isFinalBlock, out LineProtocolLine line)
    {
        while (!reader.End)
        {
            ReadOnlySpan<byte> text;
            ReadOnlySpan<byte> unread = reader.UnreadSpan;
            int cap = _limits.MaxLineBytes + 2; // room for "\r\n" after a line of the maximum length
            int newline = unread[..Math.Min(unread.Length, cap)].IndexOf((byte)'\n');
            if (newline >= 0)
            {
                // Fast path: the whole line is in the current segment.
                text = unread[..newline];
                reader.Advance(newline + 1);
            }
            else if (unread.Length >= cap)
            {
                LineTooLong(_lineNumber + 1);
                text = default;
            }
            else if (TryReadMultiSegment(ref reader, isFinalBlock, out ReadOnlySequence<byte> lineSequence))
            {
                text = lineSequence.IsSingleSegment ? lineSequence.FirstSpan : CopyToScratch(lineSequence);
            }
            else
            {
                line = default;
                return false;
            }

            _lineNumber++;
            if (!text.IsEmpty && text[^1] == '\r')
            {
                text = text[..^1];
            }

            if (text.Length > _limits.MaxLineBytes)
            {
                LineTooLong(_lineNumber);
            }

            int start = text.IndexOfAnyExcept((byte)' ', (byte)'\t');
            if (start < 0 || text[start] == '#')
            {
                continue; // blank line or comment
            }

            line = Parse(text, start);
            return true;
        }

        line = default;
        return false;
    }

    public void Dispose()
    {
        if (_scratch is not null)
        {
            ArrayPool<byte>.Shared.Return(_scratch);
            _scratch = null;
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool TryReadMultiSegment(ref SequenceReader<byte> reader, bool isFinalBlock, out ReadOnlySequence<byte> lineSequence)
    {
        SequenceReader<byte> probe = reader;
        if (probe.TryReadTo(out lineSequence, (byte)'\n', advancePastDelimiter: true))
        {
            if (lineSequence.Length > _limits.MaxLineBytes + 1)
            {
                LineTooLong(_lineNumber + 1);
            }
        }
        else
        {
            if (probe.Remaining > _limits.MaxLineBytes + 1)
            {
                LineTooLong(_lineNumber + 1);
            }

            if (!isFinalBlock)
            {
                lineSequence = default;
                return false;
            }

            lineSequence = probe.UnreadSequence;
            probe.AdvanceToEnd();
        }

        reader = probe;
        return true;
    }

    private ReadOnlySpan<byte> CopyToScratch(ReadOnlySequence<byte> lineSequence)
    {
        int length = (int)lineSequence.Length;
        if (_scratch is null || _scratch.Length < length)
        {
            if (_scratch is not null)
            {
                ArrayPool<byte>.Shared.Return(_scratch);
            }

            _scratch = ArrayPool<byte>.Shared.Rent(Math.Max(length, 4096));
        }

        lineSequence.CopyTo(_scratch);
        return _scratch.AsSpan(0, length);
    }

    private LineProtocolLine Parse(ReadOnlySpan<byte> text, int start)
    {
        int lineNumber = _lineNumber;
        if (_validateValues && !Utf8.IsValid(text))
        {
            InvalidUtf8(text, lineNumber);
        }

        bool escapes = false;

        // Measurement: up to an unescaped comma (tags follow) or space (fields follow).
        int i = ScanElement(text, start, measurement: true, lineNumber, ref escapes);
        if (i == start)
        {
            LineProtocolThrow.Error(lineNumber, start + 1, "missing measurement", text[start..]);
        }

        int measurementEnd = i;
        int tagsStart = -1;
        int tagsEnd = -1;
        int tagCount = 0;
        bool tagsSorted = true;
        if (i < text.Length && text[i] == ',')
        {
            tagsStart = i + 1;
            ReadOnlySpan<byte> previousKey = default;
            while (true)
            {
                i++; // the comma
                int keyStart = i;
                i = ScanElement(text, i, measurement: false, lineNumber, ref escapes);
                if (i == keyStart)
                {
                    LineProtocolThrow.Error(lineNumber, i + 1, "missing tag key", text[measurementEnd..]);
                }

                // InfluxDB's order (Go's bytes.Compare of the raw keys): a writer can pass a sorted tag set on as it is.
                ReadOnlySpan<byte> key = text[keyStart..i];
                if (tagsSorted && LineProtocolText.CompareKeys(previousKey, key) > 0)
                {
                    tagsSorted = false;
                }

                previousKey = key;

                if (i >= text.Length || text[i] != '=')
                {
                    LineProtocolThrow.Error(lineNumber, i + 1, "missing '=' after tag key", text[keyStart..i]);
                }

                i++;
                int valueStart = i;
                i = ScanElement(text, i, measurement: false, lineNumber, ref escapes);
                if (i == valueStart)
                {
                    LineProtocolThrow.Error(lineNumber, i + 1, "missing tag value", text[keyStart..i]);
                }

                if (i < text.Length && text[i] == '=')
                {
                    LineProtocolThrow.Error(lineNumber, i + 1, "unescaped '=' in tag value", text[keyStart..Math.Min(text.Length, i + 1)]);
                }

                if (++tagCount > _limits.MaxTagsPerLine)
                {
                    LineProtocolThrow.Error(lineNumber, keyStart + 1, $"more than {_limits.MaxTagsPerLine} tags (MaxTagsPerLine)");
                }

                if (3 * tagCount > _tagBounds.Length)
                {
                    Array.Resize(ref _tagBounds, 2 * _tagBounds.Length); // a line with more tags than any before; bounded by MaxTagsPerLine
                }

                int bound = 3 * (tagCount - 1);
                _tagBounds[bound] = keyStart;
                _tagBounds[bound + 1] = valueStart - 1;
                _tagBounds[bound + 2] = i;

                if (i < text.Length && text[i] == ',')
                {
                    continue;
                }

                break;
            }

            tagsEnd = i;
        }

        // One or more spaces, then the field set.
        if (i >= text.Length)
        {
            LineProtocolThrow.Error(lineNumber, i + 1, "missing fields", text[start..]);
        }

        i = SkipSpaces(text, i);
        if (i >= text.Length)
        {
            LineProtocolThrow.Error(lineNumber, i + 1, "missing fields", text[start..]);
        }

        int fieldsStart = i;
        int fieldCount = 0;
        while (true)
        {
            int keyStart = i;
            i = ScanElement(text, i, measurement: false, lineNumber, ref escapes);
            if (i == keyStart)
            {
                LineProtocolThrow.Error(lineNumber, i + 1, "missing field key", text[i..]);
            }

            if (i >= text.Length || text[i] != '=')
            {
                LineProtocolThrow.Error(lineNumber, i + 1, "missing '=' after field key", text[keyStart..i]);
            }

            i++;
            i = ScanFieldValue(text, i, lineNumber, _validateValues, ref escapes);
            if (++fieldCount > _limits.MaxFieldsPerLine)
            {
                LineProtocolThrow.Error(lineNumber, keyStart + 1, $"more than {_limits.MaxFieldsPerLine} fields (MaxFieldsPerLine)");
            }

            if (i < text.Length && text[i] == ',')
            {
                i++;
                continue;
            }

            break;
        }

        int fieldsEnd = i;
        long? timestamp = null;
        i = SkipSpaces(text, i);
        if (i < text.Length)
        {
            if (i == fieldsEnd)
            {
                // After a field value only ',' or a space may follow; anything else is part of a bad value.
                LineProtocolThrow.Error(lineNumber, i + 1, "invalid field value", text[fieldsEnd..]);
            }

            int end = text[i..].IndexOf((byte)' ');
            end = end < 0 ? text.Length : i + end;
            timestamp = ParseTimestamp(text[i..end], lineNumber, i + 1);
            int after = SkipSpaces(text, end);
            if (after < text.Length)
            {
                LineProtocolThrow.Error(lineNumber, after + 1, "unexpected data after timestamp", text[after..]);
            }
        }

        return new LineProtocolLine(text, lineNumber, start, measurementEnd, tagsStart, tagsEnd, tagCount, tagsSorted, _tagBounds.AsSpan(0, 3 * tagCount), fieldsStart, fieldsEnd, fieldCount, timestamp, escapes);
    }

    /// <summary>Scans a measurement or key from <paramref name="i"/> to the first unescaped stop byte (or the end).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int ScanElement(ReadOnlySpan<byte> text, int i, bool measurement, int lineNumber, ref bool escapes)
    {
        while (true)
        {
            // A measurement ends at ',' or ' '; a key or tag value also at '=' (',' stands in for it in the measurement's search).
            int next = measurement
                ? LineProtocolCharacters.IndexOfAny(text[i..], (byte)',', (byte)',', (byte)' ', (byte)'\\', LineProtocolCharacters.MeasurementStops)
                : LineProtocolCharacters.IndexOfAny(text[i..], (byte)',', (byte)'=', (byte)' ', (byte)'\\', LineProtocolCharacters.KeyStops);
            if (next < 0)
            {
                return text.Length;
            }

            i += next;
            if (text[i] != '\\')
            {
                return i;
            }

            if (i + 1 >= text.Length)
            {
                LineProtocolThrow.Error(lineNumber, i + 1, "line ends with an escape character '\\'");
            }

            escapes = true;
            i += 2;
        }
    }

    private static int ScanFieldValue(ReadOnlySpan<byte> text, int i, int lineNumber, bool validate, ref bool escapes)
    {
        if (i >= text.Length || text[i] is (byte)',' or (byte)' ')
        {
            LineProtocolThrow.Error(lineNumber, i + 1, "missing field value", text[i..]);
        }

        byte first = text[i];
        if (first == '"')
        {
            int close = LineProtocolText.EndOfQuotedString(text[i..]);
            if (close < 0)
            {
                LineProtocolThrow.Error(lineNumber, i + 1, "unterminated string field value", text[i..]);
            }

            if (text.Slice(i, close).IndexOf((byte)'\\') >= 0)
            {
                escapes = true;
            }

            int after = i + close + 1;
            if (after < text.Length && text[after] is not ((byte)',' or (byte)' '))
            {
                LineProtocolThrow.Error(lineNumber, after + 1, "unexpected data after string field value", text[i..]);
            }

            return after;
        }

        int length = LineProtocolCharacters.IndexOfAny(text[i..], (byte)',', (byte)',', (byte)' ', (byte)' ', LineProtocolCharacters.ValueStops);
        ReadOnlySpan<byte> value = length < 0 ? text[i..] : text.Slice(i, length);
        if (!validate)
        {
            return i + value.Length;
        }

        int column = i + 1;
        switch (first)
        {
            case (byte)'t' or (byte)'T' or (byte)'f' or (byte)'F':
                if (!IsBoolean(value))
                {
                    LineProtocolThrow.Error(lineNumber, column, "invalid boolean field value", value);
                }

                break;
            default:
                ValidateNumber(value, lineNumber, column);
                break;
        }

        return i + value.Length;
    }

    private static bool IsBoolean(ReadOnlySpan<byte> value) =>
        value.SequenceEqual("t"u8) || value.SequenceEqual("T"u8) || value.SequenceEqual("true"u8) || value.SequenceEqual("True"u8) || value.SequenceEqual("TRUE"u8)
        || value.SequenceEqual("f"u8) || value.SequenceEqual("F"u8) || value.SequenceEqual("false"u8) || value.SequenceEqual("False"u8) || value.SequenceEqual("FALSE"u8);

    private static void ValidateNumber(ReadOnlySpan<byte> value, int lineNumber, int column)
    {
        byte suffix = value[^1];
        if (suffix == 'i')
        {
            if (!TryParseInt64(value[..^1], out _, out bool overflow))
            {
                LineProtocolThrow.Error(lineNumber, column, overflow ? "integer field value out of range" : "invalid integer field value", value);
            }

            return;
        }

        if (suffix == 'u')
        {
            if (!TryParseUInt64(value[..^1], out _, out bool overflow))
            {
                LineProtocolThrow.Error(lineNumber, column, overflow ? "unsigned integer field value out of range" : "invalid unsigned integer field value", value);
            }

            return;
        }

        if (!IsFloatSyntax(value, out bool mayOverflow))
        {
            if (IsNonFiniteWord(value))
            {
                LineProtocolThrow.Error(lineNumber, column, "NaN and infinity are not valid field values", value);
            }

            LineProtocolThrow.Error(lineNumber, column, "invalid field value", value);
        }

        // Without an exponent, fewer than 309 integer digits cannot exceed double.MaxValue (1.8e308): the
        // conversion, the costliest step of validating a line, is only needed to catch an overflow.
        if (mayOverflow && (!double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double parsed) || !double.IsFinite(parsed)))
        {
            LineProtocolThrow.Error(lineNumber, column, "float field value out of range", value);
        }
    }

    private static bool IsNonFiniteWord(ReadOnlySpan<byte> value)
    {
        ReadOnlySpan<byte> unsigned = value is [(byte)'-' or (byte)'+', ..] ? value[1..] : value;
        return Ascii.EqualsIgnoreCase(unsigned, "nan"u8) || Ascii.EqualsIgnoreCase(unsigned, "inf"u8) || Ascii.EqualsIgnoreCase(unsigned, "infinity"u8);
    }

    /// <summary>Float grammar: <c>-?(digits[.digits*]|.digits)([eE][+-]?digits)?</c>.</summary>
    /// <param name="value">The field value.</param>
    /// <param name="mayOverflow">The value has an exponent or more than 308 integer digits, so it may round to infinity.</param>
    private static bool IsFloatSyntax(ReadOnlySpan<byte> value, out bool mayOverflow)
    {
        mayOverflow = false;
        int i = 0;
        if (value[0] == '-')
        {
            i++;
        }

        int intDigits = CountDigits(value, i);
        i += intDigits;
        int fracDigits = 0;
        if (i < value.Length && value[i] == '.')
        {
            i++;
            fracDigits = CountDigits(value, i);
            i += fracDigits;
        }

        if (intDigits == 0 && fracDigits == 0)
        {
            return false;
        }

        mayOverflow = intDigits > 308;
        if (i < value.Length && value[i] is (byte)'e' or (byte)'E')
        {
            mayOverflow = true;
            i++;
            if (i < value.Length && value[i] is (byte)'+' or (byte)'-')
            {
                i++;
            }

            int expDigits = CountDigits(value, i);
            if (expDigits == 0)
            {
                return false;
            }

            i += expDigits;
        }

        return i == value.Length;
    }

    private static int CountDigits(ReadOnlySpan<byte> value, int from)
    {
        int n = value[from..].IndexOfAnyExceptInRange((byte)'0', (byte)'9');
        return n < 0 ? value.Length - from : n;
    }

    private long ParseTimestamp(ReadOnlySpan<byte> value, int lineNumber, int column)
    {
        if (!TryParseInt64(value, out long units, out bool overflow))
        {
            LineProtocolThrow.Error(lineNumber, column, overflow ? "timestamp out of range" : "invalid timestamp", value);
        }

        if (_nanosecondsPerUnit == 1)
        {
            return units;
        }

        long high = Math.BigMul(units, _nanosecondsPerUnit, out long low);
        if (high != (low >> 63))
        {
            LineProtocolThrow.Error(lineNumber, column, $"timestamp out of range for precision {_precision.ToQueryValue()}", value);
        }

        return low;
    }

    /// <summary>Parses <c>-?[0-9]+</c> into an Int64 without allocating.</summary>
    internal static bool TryParseInt64(ReadOnlySpan<byte> digits, out long value, out bool overflow)
    {
        value = 0;
        overflow = false;
        bool negative = false;
        if (!digits.IsEmpty && digits[0] == '-')
        {
            negative = true;
            digits = digits[1..];
        }

        if (!TryParseUInt64(digits, out ulong magnitude, out overflow))
        {
            return false;
        }

        if (negative ? magnitude > (ulong)long.MaxValue + 1 : magnitude > long.MaxValue)
        {
            overflow = true;
            return false;
        }

        value = negative ? (long)(0 - magnitude) : (long)magnitude;
        return true;
    }

    private const int MaxSafeDigits = 19;

    /// <summary>Parses <c>[0-9]+</c> into a UInt64 without allocating.</summary>
    internal static bool TryParseUInt64(ReadOnlySpan<byte> digits, out ulong value, out bool overflow)
    {
        value = 0;
        overflow = false;
        if (digits.IsEmpty || digits.IndexOfAnyExceptInRange((byte)'0', (byte)'9') >= 0)
        {
            return false;
        }

        // Up to 19 digits cannot exceed UInt64.MaxValue (20 digits): a nanosecond timestamp takes 19, and
        // only the 20th digit needs the overflow check.
        ReadOnlySpan<byte> safe = digits.Length <= MaxSafeDigits ? digits : digits[..MaxSafeDigits];
        foreach (byte b in safe)
        {
            value = (value * 10) + (ulong)(b - '0');
        }

        foreach (byte b in digits[safe.Length..])
        {
            ulong digit = (ulong)(b - '0');
            if (value > (ulong.MaxValue - digit) / 10)
            {
                overflow = true;
                return false;
            }

            value = (value * 10) + digit;
        }

        return true;
    }

    /// <summary>Skips the spaces that separate tags, fields and timestamp (a tab is not a separator).</summary>
    private static int SkipSpaces(ReadOnlySpan<byte> text, int i)
    {
        if ((uint)(i + 1) < (uint)text.Length && text[i] == ' ' && text[i + 1] != ' ')
        {
            return i + 1; // the usual single space, without a search
        }

        int n = text[i..].IndexOfAnyExcept((byte)' ');
        return n < 0 ? text.Length : i + n;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void LineTooLong(int lineNumber) =>
        LineProtocolThrow.Error(lineNumber, _limits.MaxLineBytes + 1, $"line exceeds {_limits.MaxLineBytes} bytes (MaxLineBytes)");

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void InvalidUtf8(ReadOnlySpan<byte> text, int lineNumber)
    {
        int i = 0;
        while (i < text.Length)
        {
            if (Rune.DecodeFromUtf8(text[i..], out _, out int consumed) != OperationStatus.Done)
            {
                LineProtocolThrow.Error(lineNumber, i + 1, "invalid UTF-8", text.Slice(i, Math.Min(8, text.Length - i)));
            }

            i += consumed;
        }
    }
}
