using System.Buffers;
using System.Text;
using FactoryGateway.Telemetry.LineProtocol;
using static FactoryGateway.Telemetry.Tests.LineProtocol.LineProtocolTestSupport;

namespace FactoryGateway.Telemetry.Tests.LineProtocol;

public sealed class LineProtocolWriterTests
{
    [Fact]
    public void Writes_a_machine_shaped_point()
    {
        var buffer = new ArrayBufferWriter<byte>();
        var writer = new LineProtocolWriter(buffer);

        writer.WriteMeasurement("telemetry").WriteTag("ent", "91330402MA2B3C4D53").WriteTag("dev", "cnc-0001")
            .WriteField("spindle_speed", 12000.5).WriteField("parts_total", 123456L).WriteField("count", 7UL)
            .WriteField("alarm", false).WriteStringField("program", "O1234")
            .WriteTimestamp(1795000000123456789);

        Assert.Equal(
            "telemetry,ent=91330402MA2B3C4D53,dev=cnc-0001 spindle_speed=12000.5,parts_total=123456i,count=7u,alarm=false,program=\"O1234\" 1795000000123456789\n",
            Encoding.UTF8.GetString(buffer.WrittenSpan));
        Assert.Equal(1, writer.PointsWritten);
    }

    [Theory]
    [InlineData("my meas,ure", "k", "v", "f", "my\\ meas\\,ure,k=v f=1i\n")]
    [InlineData("m=x", "k=1", "a b,c", "f=g", "m=x,k\\=1=a\\ b\\,c f\\=g=1i\n")]
    [InlineData("m\\", "k\\", "C:\\dir\\", "f\\x", "m\\\\,k\\\\=C:\\dir\\\\ f\\x=1i\n")]
    [InlineData("m\\,", "k", "a\\=b", "f", "m\\\\\\,,k=a\\\\\\=b f=1i\n")]
    [InlineData("设备", "车间", "一号线", "转速", "设备,车间=一号线 转速=1i\n")]
    public void Escapes_exactly_what_a_reader_would_misread(string measurement, string tagKey, string tagValue, string fieldKey, string expected)
    {
        var buffer = new ArrayBufferWriter<byte>();
        new LineProtocolWriter(buffer).WriteMeasurement(measurement).WriteTag(tagKey, tagValue).WriteField(fieldKey, 1L).EndLine();

        Assert.Equal(expected, Encoding.UTF8.GetString(buffer.WrittenSpan));
        ParsedPoint point = Assert.Single(ReadAll(Encoding.UTF8.GetString(buffer.WrittenSpan)));
        Assert.Equal(measurement, point.Measurement);
        Assert.Equal([new(tagKey, tagValue)], point.Tags);
        Assert.Equal(fieldKey, Assert.Single(point.Fields).Key);
    }

    [Theory]
    [InlineData("plain", "\"plain\"")]
    [InlineData("say \"hi\"", "\"say \\\"hi\\\"\"")]
    [InlineData("C:\\dir\\", "\"C:\\\\dir\\\\\"")]
    [InlineData("", "\"\"")]
    public void Quotes_and_escapes_string_fields(string value, string expected)
    {
        var buffer = new ArrayBufferWriter<byte>();
        new LineProtocolWriter(buffer).WriteMeasurement("m").WriteStringField("s", value).EndLine();

        Assert.Equal($"m s={expected}\n", Encoding.UTF8.GetString(buffer.WrittenSpan));
    }

    [Theory]
    [InlineData(double.NaN, "field \"f\" is NaN; line protocol has no NaN or infinity.")]
    [InlineData(double.PositiveInfinity, "field \"f\" is Infinity; line protocol has no NaN or infinity.")]
    [InlineData(double.NegativeInfinity, "field \"f\" is -Infinity; line protocol has no NaN or infinity.")]
    public void Refuses_nan_and_infinity(double value, string message)
    {
        var writer = new LineProtocolWriter(new ArrayBufferWriter<byte>()).WriteMeasurement("m");

        var error = Assert.Throws<LineProtocolWriteException>(() => writer.WriteField("f", value));

        Assert.Equal(message, error.Message);
    }

    [Theory]
    [InlineData("1767225600.25", TimestampPrecision.Seconds, 1767225600250000000L)]
    [InlineData("1767225600123.456789", TimestampPrecision.Milliseconds, 1767225600123456789L)]
    [InlineData("-1.5", TimestampPrecision.Microseconds, -1500L)]
    [InlineData("42", TimestampPrecision.Nanoseconds, 42L)]
    public void Writes_fractional_epochs_that_are_whole_nanoseconds(string value, TimestampPrecision unit, long nanoseconds)
    {
        var buffer = new ArrayBufferWriter<byte>();
        new LineProtocolWriter(buffer).WriteMeasurement("m").WriteField("f", 1L).WriteTimestamp(decimal.Parse(value, System.Globalization.CultureInfo.InvariantCulture), unit);

        Assert.Equal($"m f=1i {nanoseconds}\n", Encoding.UTF8.GetString(buffer.WrittenSpan));
    }

    [Theory]
    [InlineData("1767225600.0000000001", TimestampPrecision.Seconds, "timestamp 1767225600.0000000001 s is not a whole number of nanoseconds.")]
    [InlineData("0.5", TimestampPrecision.Nanoseconds, "timestamp 0.5 ns is not a whole number of nanoseconds.")]
    [InlineData("9223372037", TimestampPrecision.Seconds, "timestamp 9223372037 s is out of range.")]
    public void Refuses_timestamps_that_are_not_whole_nanoseconds_or_out_of_range(string value, TimestampPrecision unit, string message)
    {
        var writer = new LineProtocolWriter(new ArrayBufferWriter<byte>()).WriteMeasurement("m").WriteField("f", 1L);

        var error = Assert.Throws<LineProtocolWriteException>(() => writer.WriteTimestamp(decimal.Parse(value, System.Globalization.CultureInfo.InvariantCulture), unit));

        Assert.Equal(message, error.Message);
    }

    [Fact]
    public void Writes_a_date_time_offset_exactly()
    {
        var buffer = new ArrayBufferWriter<byte>();
        new LineProtocolWriter(buffer).WriteMeasurement("m").WriteField("f", 1L)
            .WriteTimestamp(new DateTimeOffset(2026, 11, 21, 8, 0, 0, TimeSpan.FromHours(8)).AddTicks(1234567));

        Assert.Equal("m f=1i 1795219200123456700\n", Encoding.UTF8.GetString(buffer.WrittenSpan));
    }

    [Theory]
    [InlineData("#comment", "measurement \"#comment\" starts with '#', which would make the line a comment.")]
    [InlineData("a\nb", "measurement \"a\\nb\" contains a line break; line protocol cannot carry one.")]
    [InlineData("\tm", "measurement \"\\tm\" starts with a tab, which a reader skips as leading whitespace.")]
    [InlineData("", "the measurement is empty.")]
    public void Refuses_measurements_a_reader_would_not_read_back(string measurement, string message)
    {
        var writer = new LineProtocolWriter(new ArrayBufferWriter<byte>());

        var error = Assert.Throws<LineProtocolWriteException>(() => writer.WriteMeasurement(measurement));

        Assert.Equal(message, error.Message);
    }

    [Fact]
    public void Refuses_empty_tag_values_line_breaks_and_lone_surrogates()
    {
        var writer = new LineProtocolWriter(new ArrayBufferWriter<byte>()).WriteMeasurement("m");

        Assert.Equal(
            "tag \"dev\" has an empty value; InfluxDB refuses empty tag values (omit the tag instead).",
            Assert.Throws<LineProtocolWriteException>(() => writer.WriteTag("dev", "")).Message);
        Assert.Equal(
            "field \"s\" has a line break in its string value; line protocol cannot carry one.",
            Assert.Throws<LineProtocolWriteException>(() => writer.WriteStringField("s", "a\r\nb")).Message);
        Assert.StartsWith(
            "text ",
            Assert.Throws<LineProtocolWriteException>(() => writer.WriteTag("k", "\ud800")).Message,
            StringComparison.Ordinal);
    }

    [Fact]
    public void Refuses_calls_out_of_order()
    {
        var writer = new LineProtocolWriter(new ArrayBufferWriter<byte>());

        Assert.Throws<InvalidOperationException>(() => writer.WriteTag("k", "v"));
        Assert.Throws<InvalidOperationException>(() => writer.WriteField("f", 1L));
        writer.WriteMeasurement("m");
        Assert.Throws<InvalidOperationException>(() => writer.EndLine());
        writer.WriteField("f", 1L);
        Assert.Throws<InvalidOperationException>(() => writer.WriteTag("k", "v"));
    }

    [Fact]
    public void Writing_allocates_nothing_per_point()
    {
        var buffer = new ArrayBufferWriter<byte>(1 << 20);
        var writer = new LineProtocolWriter(buffer);
        WritePoints(writer, 5_000);

        // Steady state: the runtime's own tier-up work can land on this thread during a pass, so the
        // least of a few passes is what the writer allocates.
        long allocated = long.MaxValue;
        for (int pass = 0; pass < 5 && allocated != 0; pass++)
        {
            buffer.ResetWrittenCount();
            long before = GC.GetAllocatedBytesForCurrentThread();
            WritePoints(writer, 5_000);
            allocated = Math.Min(allocated, GC.GetAllocatedBytesForCurrentThread() - before);
        }

        Assert.Equal(0, allocated);

        static void WritePoints(LineProtocolWriter writer, int count)
        {
            for (int i = 0; i < count; i++)
            {
                writer.WriteMeasurement("telemetry"u8).WriteTag("ent"u8, "91330402MA2B3C4D53"u8).WriteTag("dev"u8, "cnc 0001"u8)
                    .WriteField("spindle_speed"u8, 12000.5 + i).WriteField("parts_total"u8, (long)i).WriteStringField("program"u8, "O1234"u8)
                    .WriteTimestamp(1795000000123456789 + i);
            }
        }
    }
}

public sealed class LineProtocolWriterDoubleTests
{
    [Theory]
    [InlineData(12000.5, "12000.5")]
    [InlineData(850.25, "850.25")]
    [InlineData(0.05, "0.05")]
    [InlineData(-0.05, "-0.05")]
    [InlineData(3.0, "3")]
    [InlineData(-7.125, "-7.125")]
    [InlineData(0.1, "0.1")]
    [InlineData(-0.0, "-0")]
    [InlineData(0.30000000000000004, "0.30000000000000004")]
    [InlineData(1e300, "1E+300")]
    [InlineData(9007199254740993.0, "9007199254740992")]
    public void Doubles_are_written_as_text_that_reads_back_bit_for_bit(double value, string expected)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        new FactoryGateway.Telemetry.LineProtocol.LineProtocolWriter(buffer).WriteMeasurement("m").WriteField("f", value).EndLine();
        string text = System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);

        Assert.Equal($"m f={expected}\n", text);
        double read = (double)Assert.Single(Assert.Single(LineProtocolTestSupport.ReadAll(text)).Fields).Value;
        Assert.Equal(BitConverter.DoubleToInt64Bits(value), BitConverter.DoubleToInt64Bits(read));
    }

    [Fact]
    public void Random_doubles_round_trip_bit_for_bit()
    {
        var random = new Random(7);
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        var writer = new FactoryGateway.Telemetry.LineProtocol.LineProtocolWriter(buffer);
        var values = new List<double>();
        for (int i = 0; i < 20_000; i++)
        {
            double value = (i % 4) switch
            {
                0 => Math.Round((random.NextDouble() - 0.5) * 1e6, random.Next(0, 5)),
                1 => (random.NextDouble() - 0.5) * Math.Pow(10, random.Next(-20, 20)),
                2 => random.Next(-100_000, 100_000) / 8.0,
                _ => BitConverter.Int64BitsToDouble(random.NextInt64()),
            };
            if (!double.IsFinite(value))
            {
                continue;
            }

            values.Add(value);
            writer.WriteMeasurement("m").WriteField("f", value).EndLine();
        }

        List<ParsedPoint> points = LineProtocolTestSupport.ReadAll(System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan));
        Assert.Equal(
            values.Select(BitConverter.DoubleToInt64Bits),
            points.Select(p => BitConverter.DoubleToInt64Bits((double)p.Fields[0].Value)));
    }
}
