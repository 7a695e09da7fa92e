using System.Buffers;
using System.Globalization;
using System.Text;
using FactoryGateway.Telemetry.LineProtocol;
using static FactoryGateway.Telemetry.Tests.LineProtocol.LineProtocolTestSupport;

namespace FactoryGateway.Telemetry.Tests.LineProtocol;

/// <summary>
/// The writer's fast paths: names copied and checked in one pass by length class (1–3, 4–7, 8–16
/// and longer than 16 bytes), integers formatted without the BCL, one span per element.
/// </summary>
public sealed class LineProtocolWriterFastPathTests
{
    public static TheoryData<bool, char> SpecialBytes =>
        new() { { true, ',' }, { true, ' ' }, { true, '\\' }, { true, '=' }, { false, ',' }, { false, ' ' }, { false, '\\' }, { false, '=' } };

    [Theory]
    [MemberData(nameof(SpecialBytes))]
    public void Names_of_every_length_are_escaped_wherever_the_special_byte_is(bool measurement, char special)
    {
        for (int length = 1; length <= 40; length++)
        {
            AssertWrittenAsEscaped(measurement, new string('a', length));
            for (int position = 0; position < length; position++)
            {
                var name = new StringBuilder(new string('a', length)) { [position] = special };
                AssertWrittenAsEscaped(measurement, name.ToString());
            }
        }
    }

    [Theory]
    [InlineData('\n')]
    [InlineData('\r')]
    public void Line_breaks_are_refused_at_every_position_of_names_of_every_length(char lineBreak)
    {
        for (int length = 1; length <= 40; length++)
        {
            for (int position = 0; position < length; position++)
            {
                string name = new StringBuilder(new string('a', length)) { [position] = lineBreak }.ToString();
                var writer = new LineProtocolWriter(new ArrayBufferWriter<byte>());

                Assert.EndsWith(
                    "contains a line break; line protocol cannot carry one.",
                    Assert.Throws<LineProtocolWriteException>(() => writer.WriteMeasurement(name)).Message,
                    StringComparison.Ordinal);
                writer.WriteMeasurement("m");
                Assert.StartsWith("tag key ", Assert.Throws<LineProtocolWriteException>(() => writer.WriteTag(name, "v")).Message, StringComparison.Ordinal);
                Assert.StartsWith("tag value ", Assert.Throws<LineProtocolWriteException>(() => writer.WriteTag("k", name)).Message, StringComparison.Ordinal);
                Assert.StartsWith("field key ", Assert.Throws<LineProtocolWriteException>(() => writer.WriteField(name, 1L)).Message, StringComparison.Ordinal);
            }
        }
    }

    [Fact]
    public void Integers_and_timestamps_are_written_as_the_runtime_formats_them()
    {
        var values = new List<long> { 0, long.MinValue, long.MaxValue, long.MinValue + 1, -1 };
        ulong power = 1;
        for (int exponent = 0; exponent <= 19; exponent++, power *= 10)
        {
            for (long delta = -2; delta <= 2; delta++)
            {
                values.Add(unchecked((long)(power + (ulong)delta)));
                values.Add(unchecked(-(long)(power + (ulong)delta)));
            }
        }

        foreach (long value in values)
        {
            var buffer = new ArrayBufferWriter<byte>();
            new LineProtocolWriter(buffer).WriteMeasurement("m"u8).WriteField("i"u8, value).WriteField("u"u8, unchecked((ulong)value)).WriteTimestamp(value);

            string i = value.ToString(CultureInfo.InvariantCulture);
            string u = unchecked((ulong)value).ToString(CultureInfo.InvariantCulture);
            Assert.Equal($"m i={i}i,u={u}u {i}\n", Encoding.UTF8.GetString(buffer.WrittenSpan));
        }
    }

    [Theory]
    [InlineData(0.005, "0.005")]
    [InlineData(-0.025, "-0.025")]
    [InlineData(-0.001, "-0.001")]
    [InlineData(1234567.125, "1234567.125")]
    [InlineData(100.01, "100.01")]
    [InlineData(-12000.5, "-12000.5")]
    [InlineData(123456789012.5, "123456789012.5")]
    [InlineData(9007199254740.5, "9007199254740.5")]
    [InlineData(1e15, "1000000000000000")]
    [InlineData(0.0001, "0.0001")]
    [InlineData(1e-7, "1E-07")]
    public void Short_decimals_keep_their_text(double value, string expected)
    {
        var buffer = new ArrayBufferWriter<byte>();
        new LineProtocolWriter(buffer).WriteMeasurement("m").WriteField("f", value).EndLine();

        Assert.Equal($"m f={expected}\n", Encoding.UTF8.GetString(buffer.WrittenSpan));
        double read = (double)Assert.Single(Assert.Single(ReadAll(Encoding.UTF8.GetString(buffer.WrittenSpan))).Fields).Value;
        Assert.Equal(BitConverter.DoubleToInt64Bits(value), BitConverter.DoubleToInt64Bits(read));
    }

    [Fact]
    public void A_refused_element_leaves_nothing_in_the_output()
    {
        var buffer = new ArrayBufferWriter<byte>();
        LineProtocolWriter writer = new LineProtocolWriter(buffer).WriteMeasurement("m").WriteTag("k", "v");
        int before = buffer.WrittenCount;

        Assert.Throws<LineProtocolWriteException>(() => writer.WriteTag("k2", "a\nb"));
        Assert.Throws<LineProtocolWriteException>(() => writer.WriteTag("k\r2", "v"));
        Assert.Throws<LineProtocolWriteException>(() => writer.WriteField("f\n", 1L));
        Assert.Throws<LineProtocolWriteException>(() => writer.WriteField("f", double.NaN));
        Assert.Throws<LineProtocolWriteException>(() => writer.WriteStringField("s", "a\nb"));
        Assert.Equal(before, buffer.WrittenCount);

        writer.WriteField("f", 1L).WriteTimestamp(5);
        Assert.Equal("m,k=v f=1i 5\n", Encoding.UTF8.GetString(buffer.WrittenSpan));
    }

    [Fact]
    public void Writes_only_inside_the_spans_the_output_hands_out()
    {
        var output = new ExactSpanWriter();
        var writer = new LineProtocolWriter(output);
        var reference = new ArrayBufferWriter<byte>();
        var referenceWriter = new LineProtocolWriter(reference);

        foreach (LineProtocolWriter w in new[] { writer, referenceWriter })
        {
            w.WriteMeasurement("telemetry").WriteTag("ent", "91330402MA2B3C4D53").WriteTag("dev", "cnc 0001,a=b\\")
                .WriteField("spindle_speed", 12000.5).WriteField("x", 1e300).WriteField("n", long.MinValue).WriteField("u", ulong.MaxValue)
                .WriteField("ok", true).WriteStringField("program", "say \"hi\" \\").WriteTimestamp(long.MinValue);
            w.WriteSeriesKey(new LineProtocolSeriesKey("m", new KeyValuePair<string, string>("k", "v"))).WriteField("f", -0.0).EndLine();
        }

        Assert.Equal(Encoding.UTF8.GetString(reference.WrittenSpan), Encoding.UTF8.GetString([.. output.Written]));
        Assert.True(output.GuardsIntact, "the writer wrote past the end of a span it was given");
    }

    [Fact]
    public void An_output_that_hands_out_a_span_shorter_than_asked_is_refused()
    {
        var writer = new LineProtocolWriter(new ShortSpanWriter());

        var error = Assert.Throws<InvalidOperationException>(() => writer.WriteMeasurement("telemetry"));

        Assert.Equal("the output returned a span of 4 bytes for a request of 18.", error.Message);
    }

    private static void AssertWrittenAsEscaped(bool measurement, string name)
    {
        var buffer = new ArrayBufferWriter<byte>();
        var writer = new LineProtocolWriter(buffer);
        if (measurement)
        {
            writer.WriteMeasurement(name).WriteField("f", 1L).EndLine();
            Assert.Equal($"{Escape(name, ", ")} f=1i\n", Encoding.UTF8.GetString(buffer.WrittenSpan));
            Assert.Equal(name, Assert.Single(ReadAll(Encoding.UTF8.GetString(buffer.WrittenSpan))).Measurement);
            return;
        }

        writer.WriteMeasurement("m").WriteTag(name, name).WriteField(name, 1L).EndLine();
        string escaped = Escape(name, ",= ");
        Assert.Equal($"m,{escaped}={escaped} {escaped}=1i\n", Encoding.UTF8.GetString(buffer.WrittenSpan));
        ParsedPoint point = Assert.Single(ReadAll(Encoding.UTF8.GetString(buffer.WrittenSpan)));
        Assert.Equal([new(name, name)], point.Tags);
        Assert.Equal(name, Assert.Single(point.Fields).Key);
    }

    /// <summary>The escaping rule, written out plainly: specials get a backslash; a backslash is doubled before a special, a backslash or the end.</summary>
    private static string Escape(string name, string specials)
    {
        var text = new StringBuilder();
        for (int i = 0; i < name.Length; i++)
        {
            char c = name[i];
            if (c == '\\' ? i + 1 == name.Length || name[i + 1] == '\\' || specials.Contains(name[i + 1], StringComparison.Ordinal) : specials.Contains(c, StringComparison.Ordinal))
            {
                text.Append('\\');
            }

            text.Append(c);
        }

        return text.ToString();
    }

    /// <summary>Hands out spans of exactly the size asked for, each followed by guard bytes that must stay untouched.</summary>
    private sealed class ExactSpanWriter : IBufferWriter<byte>
    {
        private const int GuardBytes = 32;
        private const byte Guard = 0xA5;
        private readonly List<byte[]> _handedOut = [];
        private byte[] _current = [];
        private int _size;

        public List<byte> Written { get; } = [];

        public bool GuardsIntact => _handedOut.TrueForAll(array => array.AsSpan(array.Length - GuardBytes).IndexOfAnyExcept(Guard) < 0);

        public void Advance(int count)
        {
            Assert.InRange(count, 0, _size);
            Written.AddRange(_current.AsSpan(0, count));
        }

        public Memory<byte> GetMemory(int sizeHint = 0) => throw new NotSupportedException();

        public Span<byte> GetSpan(int sizeHint = 0)
        {
            _size = Math.Max(sizeHint, 1);
            _current = new byte[_size + GuardBytes];
            _current.AsSpan().Fill(Guard);
            _handedOut.Add(_current);
            return _current.AsSpan(0, _size);
        }
    }

    /// <summary>Breaks the <see cref="IBufferWriter{T}"/> contract: a span of 4 bytes whatever was asked.</summary>
    private sealed class ShortSpanWriter : IBufferWriter<byte>
    {
        private readonly byte[] _buffer = new byte[4];

        public void Advance(int count)
        {
        }

        public Memory<byte> GetMemory(int sizeHint = 0) => _buffer;

        public Span<byte> GetSpan(int sizeHint = 0) => _buffer;
    }
}
