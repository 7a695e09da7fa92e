using System.Buffers;
using System.Buffers.Text;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;

namespace FactoryGateway.Telemetry.LineProtocol;

/// <summary>The type of a line-protocol field value.</summary>
[SuppressMessage("Naming", "CA1720:Identifier contains type name", Justification = "The line protocol's own names for its value types.")]
public enum FieldKind : byte
{
    Float,
    Integer,
    UnsignedInteger,
    String,
    Boolean,
}

/// <summary>
/// One validated line-protocol point. It is a view over the reader's buffer, valid until the next
/// read: everything in it was checked when it was read, so its accessors do not fail.
/// Element spans (<see cref="Measurement"/>, tag and field keys and values) are raw, still escaped;
/// <see cref="LineProtocolText.Unescape"/> and <see cref="LineProtocolText.UnescapeMeasurement"/> decode them.
/// </summary>
public readonly ref struct LineProtocolLine
{
    private readonly ReadOnlySpan<byte> _line;
    private readonly ReadOnlySpan<int> _tagBounds;
    private readonly int _measurementStart;
    private readonly int _measurementEnd;
    private readonly int _tagsStart;
    private readonly int _tagsEnd;
    private readonly int _fieldsStart;
    private readonly int _fieldsEnd;

    internal LineProtocolLine(
        ReadOnlySpan<byte> line,
        int lineNumber,
        int measurementStart,
        int measurementEnd,
        int tagsStart,
        int tagsEnd,
        int tagCount,
        bool tagsSorted,
        ReadOnlySpan<int> tagBounds,
        int fieldsStart,
        int fieldsEnd,
        int fieldCount,
        long? timestamp,
        bool hasEscapes)
    {
        _line = line;
        LineNumber = lineNumber;
        _measurementStart = measurementStart;
        _measurementEnd = measurementEnd;
        _tagsStart = tagsStart;
        _tagsEnd = tagsEnd;
        TagCount = tagCount;
        TagsSorted = tagsSorted;
        _tagBounds = tagBounds;
        _fieldsStart = fieldsStart;
        _fieldsEnd = fieldsEnd;
        FieldCount = fieldCount;
        Timestamp = timestamp;
        HasEscapes = hasEscapes;
    }

    /// <summary>1-based line number within the body that was read.</summary>
    public int LineNumber { get; }

    /// <summary>The whole line as received, without its line break.</summary>
    public ReadOnlySpan<byte> Text => _line;

    /// <summary>The measurement, raw (escaped).</summary>
    public ReadOnlySpan<byte> Measurement => _line[_measurementStart.._measurementEnd];

    /// <summary>Measurement and tag set (<c>m,k=v,k=v</c>): the series key as written.</summary>
    public ReadOnlySpan<byte> SeriesKey => _line[_measurementStart..(_tagsStart < 0 ? _measurementEnd : _tagsEnd)];

    /// <summary>Measurement, tags and fields: the line without the timestamp and surrounding whitespace.</summary>
    public ReadOnlySpan<byte> SeriesAndFields => _line[_measurementStart.._fieldsEnd];

    /// <summary>The raw tag set (<c>k=v,k=v</c>), empty when the line has no tags.</summary>
    public ReadOnlySpan<byte> TagSet => _tagsStart < 0 ? default : _line[_tagsStart.._tagsEnd];

    /// <summary>The raw field set (<c>k=v,k=v</c>).</summary>
    public ReadOnlySpan<byte> FieldSet => _line[_fieldsStart.._fieldsEnd];

    public int TagCount { get; }

    /// <summary>
    /// True when the tags are in key order as InfluxDB wants them (Go's <c>bytes.Compare</c> of the raw keys; equal
    /// keys count as ordered), so that InfluxDB need not sort them; <see cref="WriteSeriesKeyInKeyOrder"/> writes an unordered set in order.
    /// </summary>
    public bool TagsSorted { get; }

    public int FieldCount { get; }

    /// <summary>The timestamp in nanoseconds since the Unix epoch, already scaled from the request's precision; null when the line has none.</summary>
    public long? Timestamp { get; }

    /// <summary>True when a measurement, key or value contains a backslash escape (slow path for consumers).</summary>
    public bool HasEscapes { get; }

    public TagEnumerator Tags => new(_line, _tagBounds);

    public FieldEnumerator Fields => new(FieldSet);

    /// <summary>Finds the raw value of the tag whose raw key is <paramref name="key"/>.</summary>
    public bool TryGetTag(ReadOnlySpan<byte> key, out ReadOnlySpan<byte> value)
    {
        foreach (LineProtocolTag tag in Tags)
        {
            if (tag.Key.SequenceEqual(key))
            {
                value = tag.Value;
                return true;
            }
        }

        value = default;
        return false;
    }

    /// <summary>
    /// Writes the measurement and the tags in key order (raw keys compared as bytes, as Go's <c>bytes.Compare</c>
    /// does: InfluxDB's series-key order), with <paramref name="addKey"/>=<paramref name="addValue"/> added in its
    /// place when <paramref name="addKey"/> is not empty. Tags with equal keys keep their order. Both must be raw
    /// (escaped) bytes; the line's own elements are copied as they are.
    /// </summary>
    public void WriteSeriesKeyInKeyOrder(IBufferWriter<byte> output, ReadOnlySpan<byte> addKey, ReadOnlySpan<byte> addValue)
    {
        ArgumentNullException.ThrowIfNull(output);
        const int StackTags = 64;
        if (TagCount <= StackTags)
        {
            WriteInKeyOrder(output, addKey, addValue, stackalloc int[TagCount]);
            return;
        }

        int[] rented = ArrayPool<int>.Shared.Rent(TagCount);
        try
        {
            WriteInKeyOrder(output, addKey, addValue, rented.AsSpan(0, TagCount));
        }
        finally
        {
            ArrayPool<int>.Shared.Return(rented);
        }
    }

    private void WriteInKeyOrder(IBufferWriter<byte> output, ReadOnlySpan<byte> addKey, ReadOnlySpan<byte> addValue, Span<int> order)
    {
        ReadOnlySpan<byte> measurement = Measurement;
        int tags = order.Length;

        // A stable insertion sort of the tags' indexes by raw key: a line has a handful of tags.
        for (int t = 0; t < tags; t++)
        {
            ReadOnlySpan<byte> key = TagKey(t);
            int at = t;
            while (at > 0 && LineProtocolText.CompareKeys(TagKey(order[at - 1]), key) > 0)
            {
                order[at] = order[at - 1];
                at--;
            }

            order[at] = t;
        }

        // One span for the whole key: the measurement, then ",key=value" per tag with the added one in its place.
        int length = measurement.Length + (tags == 0 ? 0 : _tagsEnd - _tagsStart + 1) + (addKey.IsEmpty ? 0 : addKey.Length + addValue.Length + 2);
        Span<byte> destination = output.GetSpan(length);
        measurement.CopyTo(destination);
        int written = measurement.Length;
        bool added = addKey.IsEmpty;
        foreach (int t in order)
        {
            if (!added && LineProtocolText.CompareKeys(TagKey(t), addKey) > 0)
            {
                written += WriteTag(destination[written..], addKey, addValue);
                added = true;
            }

            destination[written++] = (byte)',';
            ReadOnlySpan<byte> tag = _line[_tagBounds[3 * t].._tagBounds[(3 * t) + 2]]; // key=value
            tag.CopyTo(destination[written..]);
            written += tag.Length;
        }

        if (!added)
        {
            written += WriteTag(destination[written..], addKey, addValue);
        }

        output.Advance(written);

        static int WriteTag(Span<byte> destination, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
        {
            destination[0] = (byte)',';
            key.CopyTo(destination[1..]);
            destination[key.Length + 1] = (byte)'=';
            value.CopyTo(destination[(key.Length + 2)..]);
            return key.Length + value.Length + 2;
        }
    }

    // The raw key of tag number `tag`, from the reader's bounds (key start, key end, value end per tag).
    private ReadOnlySpan<byte> TagKey(int tag) => _line[_tagBounds[3 * tag].._tagBounds[(3 * tag) + 1]];

    /// <summary>Enumerates a validated tag set.</summary>
    public ref struct TagEnumerator
    {
        private readonly ReadOnlySpan<byte> _line;
        private readonly ReadOnlySpan<int> _bounds;
        private int _next;

        internal TagEnumerator(ReadOnlySpan<byte> line, ReadOnlySpan<int> bounds)
        {
            _line = line;
            _bounds = bounds;
            Current = default;
        }

        public LineProtocolTag Current { get; private set; }

        public readonly TagEnumerator GetEnumerator() => this;

        public bool MoveNext()
        {
            if (_next >= _bounds.Length)
            {
                return false;
            }

            // The reader's bounds of the tag (key start, key end, value end): no rescan of the tag set.
            Current = new LineProtocolTag(_line[_bounds[_next].._bounds[_next + 1]], _line[(_bounds[_next + 1] + 1).._bounds[_next + 2]]);
            _next += 3;
            return true;
        }
    }

    /// <summary>Enumerates a validated field set.</summary>
    public ref struct FieldEnumerator
    {
        private ReadOnlySpan<byte> _rest;

        internal FieldEnumerator(ReadOnlySpan<byte> fieldSet)
        {
            _rest = fieldSet;
            Current = default;
        }

        public LineProtocolField Current { get; private set; }

        public readonly FieldEnumerator GetEnumerator() => this;

        public bool MoveNext()
        {
            if (_rest.IsEmpty)
            {
                return false;
            }

            int equals = LineProtocolText.IndexOfUnescaped(_rest, (byte)'=');
            ReadOnlySpan<byte> key = _rest[..equals];
            ReadOnlySpan<byte> value = _rest[(equals + 1)..];
            int end;
            FieldKind kind;
            switch (value[0])
            {
                case (byte)'"':
                    end = LineProtocolText.EndOfQuotedString(value) + 1;
                    kind = FieldKind.String;
                    break;
                default:
                    end = value.IndexOf((byte)',');
                    if (end < 0)
                    {
                        end = value.Length;
                    }

                    // Numbers start with a digit, '-' or '.'; only booleans start with t, T, f or F.
                    kind = value[0] is (byte)'t' or (byte)'T' or (byte)'f' or (byte)'F' ? FieldKind.Boolean
                        : value[end - 1] == 'i' ? FieldKind.Integer
                        : value[end - 1] == 'u' ? FieldKind.UnsignedInteger
                        : FieldKind.Float;
                    break;
            }

            Current = new LineProtocolField(key, value[..end], kind);
            _rest = end < value.Length ? value[(end + 1)..] : default;
            return true;
        }
    }
}

/// <summary>A tag of a validated line: raw (escaped) key and value.</summary>
public readonly ref struct LineProtocolTag(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
{
    public ReadOnlySpan<byte> Key { get; } = key;

    public ReadOnlySpan<byte> Value { get; } = value;
}

/// <summary>A field of a validated line: raw (escaped) key, raw value text and its kind.</summary>
public readonly ref struct LineProtocolField(ReadOnlySpan<byte> key, ReadOnlySpan<byte> rawValue, FieldKind kind)
{
    public ReadOnlySpan<byte> Key { get; } = key;

    /// <summary>The value as written: <c>1.5</c>, <c>42i</c>, <c>7u</c>, <c>"text"</c> (with quotes), <c>true</c>.</summary>
    public ReadOnlySpan<byte> RawValue { get; } = rawValue;

    public FieldKind Kind { get; } = kind;

    public double AsDouble()
    {
        if (Kind != FieldKind.Float)
        {
            ThrowKind(FieldKind.Float);
        }

        return LineProtocolNumbers.TryParseShortDecimal(RawValue, out double value)
            ? value
            : double.Parse(RawValue, NumberStyles.Float, CultureInfo.InvariantCulture);
    }

    public long AsInteger()
    {
        if (Kind != FieldKind.Integer)
        {
            ThrowKind(FieldKind.Integer);
        }

        return Utf8Parser.TryParse(RawValue[..^1], out long value, out _) ? value : throw new InvalidOperationException("unreachable: validated integer");
    }

    public ulong AsUnsignedInteger()
    {
        if (Kind != FieldKind.UnsignedInteger)
        {
            ThrowKind(FieldKind.UnsignedInteger);
        }

        return Utf8Parser.TryParse(RawValue[..^1], out ulong value, out _) ? value : throw new InvalidOperationException("unreachable: validated unsigned integer");
    }

    public bool AsBoolean()
    {
        if (Kind != FieldKind.Boolean)
        {
            ThrowKind(FieldKind.Boolean);
        }

        return RawValue[0] is (byte)'t' or (byte)'T';
    }

    /// <summary>The string value, unescaped (<c>\"</c> → <c>"</c>, <c>\\</c> → <c>\</c>).</summary>
    public string AsString()
    {
        if (Kind != FieldKind.String)
        {
            ThrowKind(FieldKind.String);
        }

        ReadOnlySpan<byte> inner = RawValue[1..^1];
        if (inner.IndexOf((byte)'\\') < 0)
        {
            return Encoding.UTF8.GetString(inner);
        }

        byte[] rented = ArrayPool<byte>.Shared.Rent(inner.Length);
        try
        {
            int length = LineProtocolText.UnescapeString(inner, rented);
            return Encoding.UTF8.GetString(rented, 0, length);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    private void ThrowKind(FieldKind wanted) =>
        throw new InvalidOperationException($"field {Encoding.UTF8.GetString(Key)} is {Kind}, not {wanted}.");
}
