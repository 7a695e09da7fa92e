using System.Buffers;
using System.Globalization;
using System.Text;
using FactoryGateway.Telemetry.LineProtocol;
using static FactoryGateway.Telemetry.Tests.LineProtocol.LineProtocolTestSupport;

namespace FactoryGateway.Telemetry.Tests.LineProtocol;

public sealed class LineProtocolReaderTests
{
    private const string MachineLine =
        "telemetry,ent=91330402MA2B3C4D53,dev=cnc-0001,edge=edge-01,cls=cnc spindle_speed=12000.5,feed_rate=850.25,parts_total=123456i,program=\"O1234\",alarm=false 1795000000123456789";

    [Fact]
    public void Elements_of_every_length_end_at_their_first_unescaped_stop_wherever_it_falls_in_a_16_byte_block()
    {
        // Names of 1–48 bytes with an escaped special at the start, the middle or the end, so that every stop
        // (and every escape) lands at every offset of the reader's 16-byte blocks: in a long line, and in a
        // short one whose stops fall in the line's last bytes (the last, overlapping block). The long line's
        // final integer (20 bytes, no timestamp) ends it without any stop.
        var body = new StringBuilder();
        var expected = new List<(string Measurement, KeyValuePair<string, string>[] Tags, string[] Fields, long? Timestamp)>();
        foreach (int length in Enumerable.Range(1, 48))
        {
            foreach (int at in new[] { 0, length / 2, length - 1 })
            {
                foreach (char special in ", =")
                {
                    string plain = new('a', length);
                    string name = plain.Remove(at, 1).Insert(at, special.ToString());
                    string escaped = plain.Remove(at, 1).Insert(at, "\\" + special);
                    string measurement = special == '=' ? name : escaped; // '=' needs no escape in a measurement
                    body.Append(CultureInfo.InvariantCulture, $"m{measurement},k{escaped}=v{escaped} f{escaped}=1i,g=1234567890123456789i\n");
                    expected.Add(("m" + name, [new("k" + name, "v" + name)], ["f" + name, "g"], null));
                    body.Append(CultureInfo.InvariantCulture, $"m{measurement} f{escaped}=1i {length}\n");
                    expected.Add(("m" + name, [], ["f" + name], length));
                }
            }
        }

        byte[] bytes = Encoding.UTF8.GetBytes(body.ToString());
        foreach (ReadOnlySequence<byte> sequence in new[] { new ReadOnlySequence<byte>(bytes), Split(bytes, 7, 4096, 9000, 20_000) })
        {
            List<ParsedPoint> points = ReadAll(sequence);
            Assert.Equal(expected.Count, points.Count);
            for (int i = 0; i < points.Count; i++)
            {
                Assert.Equal(expected[i].Measurement, points[i].Measurement);
                Assert.Equal(expected[i].Tags, points[i].Tags);
                Assert.Equal(expected[i].Fields, points[i].Fields.Select(f => f.Key));
                Assert.Equal(expected[i].Timestamp, points[i].Timestamp);
            }
        }
    }

    [Fact]
    public void Reads_a_machine_shaped_line()
    {
        ParsedPoint point = Assert.Single(ReadAll(MachineLine));

        Assert.Equal("telemetry", point.Measurement);
        Assert.Equal(
            [new("ent", "91330402MA2B3C4D53"), new("dev", "cnc-0001"), new("edge", "edge-01"), new("cls", "cnc")],
            point.Tags);
        Assert.Equal(
            [
                new ParsedField("spindle_speed", FieldKind.Float, 12000.5),
                new ParsedField("feed_rate", FieldKind.Float, 850.25),
                new ParsedField("parts_total", FieldKind.Integer, 123456L),
                new ParsedField("program", FieldKind.String, "O1234"),
                new ParsedField("alarm", FieldKind.Boolean, false),
            ],
            point.Fields);
        Assert.Equal(1795000000123456789, point.Timestamp);
    }

    [Theory]
    [InlineData("m f=1", FieldKind.Float, 1.0)]
    [InlineData("m f=-1.5", FieldKind.Float, -1.5)]
    [InlineData("m f=.5", FieldKind.Float, 0.5)]
    [InlineData("m f=5.", FieldKind.Float, 5.0)]
    [InlineData("m f=1e3", FieldKind.Float, 1000.0)]
    [InlineData("m f=1E+3", FieldKind.Float, 1000.0)]
    [InlineData("m f=2.5e-3", FieldKind.Float, 0.0025)]
    [InlineData("m f=01", FieldKind.Float, 1.0)]
    [InlineData("m f=-0", FieldKind.Float, -0.0)]
    [InlineData("m f=1.7976931348623157e308", FieldKind.Float, double.MaxValue)]
    [InlineData("m f=4.9e-324", FieldKind.Float, double.Epsilon)]
    [InlineData("m f=-0.000000000000000000000000000000000000000001", FieldKind.Float, -1e-42)]
    [InlineData("m f=-9223372036854775808i", FieldKind.Integer, long.MinValue)]
    [InlineData("m f=9223372036854775807i", FieldKind.Integer, long.MaxValue)]
    [InlineData("m f=0i", FieldKind.Integer, 0L)]
    [InlineData("m f=18446744073709551615u", FieldKind.UnsignedInteger, ulong.MaxValue)]
    [InlineData("m f=000000000000000000018446744073709551615u", FieldKind.UnsignedInteger, ulong.MaxValue)]
    [InlineData("m f=-00000000000000000009223372036854775808i", FieldKind.Integer, long.MinValue)]
    [InlineData("m f=0u", FieldKind.UnsignedInteger, 0UL)]
    [InlineData("m f=t", FieldKind.Boolean, true)]
    [InlineData("m f=T", FieldKind.Boolean, true)]
    [InlineData("m f=true", FieldKind.Boolean, true)]
    [InlineData("m f=True", FieldKind.Boolean, true)]
    [InlineData("m f=TRUE", FieldKind.Boolean, true)]
    [InlineData("m f=f", FieldKind.Boolean, false)]
    [InlineData("m f=F", FieldKind.Boolean, false)]
    [InlineData("m f=false", FieldKind.Boolean, false)]
    [InlineData("m f=False", FieldKind.Boolean, false)]
    [InlineData("m f=FALSE", FieldKind.Boolean, false)]
    [InlineData("m f=\"\"", FieldKind.String, "")]
    [InlineData("m f=\"a b,c=d\"", FieldKind.String, "a b,c=d")]
    [InlineData("m f=\"say \\\"hi\\\"\"", FieldKind.String, "say \"hi\"")]
    [InlineData("m f=\"back\\\\slash\"", FieldKind.String, "back\\slash")]
    [InlineData("m f=\"literal \\n backslash\"", FieldKind.String, "literal \\n backslash")]
    [InlineData("m f=\"主轴转速\"", FieldKind.String, "主轴转速")]
    public void Reads_every_field_type(string line, FieldKind kind, object value)
    {
        ParsedField field = Assert.Single(Assert.Single(ReadAll(line)).Fields);

        Assert.Equal(kind, field.Kind);
        Assert.Equal(value, field.Value);
    }

    [Theory]
    [InlineData("my\\ meas\\,ure f=1", "my meas,ure")]
    [InlineData("m\\=x f=1", "m\\=x")]
    [InlineData("m\\\\ f=1", "m\\")]
    [InlineData("m\\x f=1", "m\\x")]
    [InlineData("设备 f=1", "设备")]
    public void Unescapes_measurements(string line, string measurement) =>
        Assert.Equal(measurement, Assert.Single(ReadAll(line)).Measurement);

    [Fact]
    public void Unescapes_tag_keys_tag_values_and_field_keys()
    {
        ParsedPoint point = Assert.Single(ReadAll("m,tag\\ key=tag\\,val\\=ue,path=C:\\dir\\\\ field\\=key=1i"));

        Assert.Equal([new("tag key", "tag,val=ue"), new("path", "C:\\dir\\")], point.Tags);
        Assert.Equal("field=key", Assert.Single(point.Fields).Key);
    }

    [Theory]
    [InlineData(TimestampPrecision.Nanoseconds, "1795000000123456789", 1795000000123456789)]
    [InlineData(TimestampPrecision.Microseconds, "1795000000123456", 1795000000123456000)]
    [InlineData(TimestampPrecision.Milliseconds, "1795000000123", 1795000000123000000)]
    [InlineData(TimestampPrecision.Seconds, "1795000000", 1795000000000000000)]
    [InlineData(TimestampPrecision.Minutes, "29916666", 1794999960000000000)]
    [InlineData(TimestampPrecision.Hours, "498611", 1794999600000000000)]
    [InlineData(TimestampPrecision.Seconds, "-1", -1000000000)]
    [InlineData(TimestampPrecision.Nanoseconds, "-9223372036854775808", long.MinValue)]
    public void Scales_timestamps_to_nanoseconds_exactly(TimestampPrecision precision, string timestamp, long nanoseconds) =>
        Assert.Equal(nanoseconds, Assert.Single(ReadAll($"m f=1 {timestamp}", precision)).Timestamp);

    [Fact]
    public void Skips_comments_and_blank_lines_and_counts_them_as_lines()
    {
        List<ParsedPoint> points = ReadAll("# header\n\n   \n\tm f=1 1\r\n  # indented comment\nm f=2 2\n\n");

        Assert.Equal([4, 6], points.Select(p => p.LineNumber));
        Assert.Equal([1L, 2L], points.Select(p => p.Timestamp!.Value));
    }

    [Fact]
    public void Accepts_a_last_line_without_a_line_break_and_lines_without_timestamps()
    {
        List<ParsedPoint> points = ReadAll("m f=1\nm,t=v  f=2   \nm f=3 3  ");

        Assert.Equal([null, null, 3L], points.Select(p => p.Timestamp));
    }

    [Fact]
    public void Every_prefix_of_a_line_without_its_line_break_needs_more_data_and_consumes_nothing()
    {
        byte[] line = Encoding.UTF8.GetBytes(MachineLine + "\n");
        using var reader = new LineProtocolReader(new LineProtocolLimits());
        for (int length = 0; length < line.Length; length++)
        {
            reader.Reset(TimestampPrecision.Nanoseconds);
            var sequence = new SequenceReader<byte>(new ReadOnlySequence<byte>(line, 0, length));

            Assert.False(reader.TryRead(ref sequence, isFinalBlock: false, out _));
            Assert.Equal(0, sequence.Consumed);
        }

        reader.Reset(TimestampPrecision.Nanoseconds);
        var whole = new SequenceReader<byte>(new ReadOnlySequence<byte>(line));
        Assert.True(reader.TryRead(ref whole, isFinalBlock: false, out _));
        Assert.Equal(line.Length, whole.Consumed);
    }

    [Fact]
    public void A_body_split_into_segments_at_every_offset_reads_the_same_points()
    {
        string body = "# c\n" + MachineLine + "\nm,t=a\\ b f=\"x\\\"y\" 5\r\nm\\,n f=1u\n";
        byte[] bytes = Encoding.UTF8.GetBytes(body);
        List<ParsedPoint> expected = ReadAll(body);
        Assert.Equal(3, expected.Count);

        for (int cut = 1; cut < bytes.Length; cut++)
        {
            Assert.Equal(expected, ReadAll(Split(bytes, cut)));
        }

        Assert.Equal(expected, ReadAll(Split(bytes, [.. Enumerable.Range(1, bytes.Length)])));
    }

    [Fact]
    public void Partial_lines_across_reads_resume_where_they_stopped()
    {
        byte[] bytes = Encoding.UTF8.GetBytes("m f=1 1\nm f=2 2\nm f=3 3");
        using var reader = new LineProtocolReader(new LineProtocolLimits());
        reader.Reset(TimestampPrecision.Nanoseconds);

        var first = new SequenceReader<byte>(new ReadOnlySequence<byte>(bytes, 0, 12));
        Assert.True(reader.TryRead(ref first, isFinalBlock: false, out LineProtocolLine line1));
        Assert.Equal(1, line1.Timestamp);
        Assert.False(reader.TryRead(ref first, isFinalBlock: false, out _));
        Assert.Equal(8, first.Consumed);

        var rest = new SequenceReader<byte>(new ReadOnlySequence<byte>(bytes, 8, bytes.Length - 8));
        Assert.True(reader.TryRead(ref rest, isFinalBlock: true, out LineProtocolLine line2));
        Assert.Equal(2, line2.LineNumber);
        Assert.True(reader.TryRead(ref rest, isFinalBlock: true, out LineProtocolLine line3));
        Assert.Equal(3, line3.Timestamp);
        Assert.False(reader.TryRead(ref rest, isFinalBlock: true, out _));
    }

    [Fact]
    public void Exposes_the_raw_parts_of_a_line()
    {
        using var reader = new LineProtocolReader(new LineProtocolLimits());
        reader.Reset(TimestampPrecision.Nanoseconds);
        var sequence = new SequenceReader<byte>(new ReadOnlySequence<byte>("  m,ent=E1,dev=D\\ 1 a=1i,b=2  42  "u8.ToArray()));

        Assert.True(reader.TryRead(ref sequence, isFinalBlock: true, out LineProtocolLine line));

        Assert.Equal("m,ent=E1,dev=D\\ 1 a=1i,b=2", Encoding.UTF8.GetString(line.SeriesAndFields));
        Assert.Equal("ent=E1,dev=D\\ 1", Encoding.UTF8.GetString(line.TagSet));
        Assert.Equal("a=1i,b=2", Encoding.UTF8.GetString(line.FieldSet));
        Assert.True(line.TryGetTag("dev"u8, out ReadOnlySpan<byte> dev));
        Assert.Equal("D\\ 1", Encoding.UTF8.GetString(dev));
        Assert.False(line.TryGetTag("edge"u8, out _));
        Assert.True(line.HasEscapes);
        Assert.Equal(42, line.Timestamp);
    }

    [Fact]
    public void Reading_allocates_nothing_per_line_in_steady_state()
    {
        byte[] body = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat(MachineLine + "\n", 2_000)));
        ReadOnlySequence<byte> contiguous = new(body);
        ReadOnlySequence<byte> segmented = Split(body, [.. Enumerable.Range(1, 400).Select(i => i * 997)]);
        using var reader = new LineProtocolReader(new LineProtocolLimits());
        Count(reader, contiguous);
        Count(reader, segmented); // warm up: the scratch buffer for split lines is rented here

        long before = GC.GetAllocatedBytesForCurrentThread();
        int lines = Count(reader, contiguous) + Count(reader, segmented);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(4_000, lines);
        Assert.Equal(0, allocated);

        static int Count(LineProtocolReader reader, ReadOnlySequence<byte> body)
        {
            reader.Reset(TimestampPrecision.Nanoseconds);
            var sequence = new SequenceReader<byte>(body);
            int n = 0;
            while (reader.TryRead(ref sequence, isFinalBlock: true, out LineProtocolLine line))
            {
                foreach (LineProtocolField field in line.Fields)
                {
                    n += field.Kind == FieldKind.Integer ? (int)(field.AsInteger() & 0) : 0;
                }

                n++;
            }

            return n;
        }
    }

    [Fact]
    public void A_float_of_308_integer_digits_is_read_exactly()
    {
        string digits = new('9', 308);
        ParsedField field = Assert.Single(Assert.Single(ReadAll($"m f={digits}.25")).Fields);

        Assert.Equal(double.Parse(digits, System.Globalization.CultureInfo.InvariantCulture), (double)field.Value);
    }

    [Fact]
    public void Structure_validation_reads_valid_bodies_as_full_validation_does()
    {
        string body = string.Join("\n", MachineLine, "m,t=a\\ b f=\"主轴\",g=1e3,h=2u,i=t 17", "# comment", "", "m f=1.5e-3");
        using var full = new LineProtocolReader(new LineProtocolLimits());
        using var structure = new LineProtocolReader(new LineProtocolLimits(), LineProtocolValidation.Structure);

        Assert.Equal(Read(full, body), Read(structure, body));
    }

    [Theory]
    [InlineData("m f=NaN")]
    [InlineData("m f=1e400")]
    [InlineData("m f=12x3i")]
    [InlineData("m f=tru")]
    public void Structure_validation_leaves_field_values_to_the_full_check_that_came_before(string line)
    {
        using var full = new LineProtocolReader(new LineProtocolLimits());
        using var structure = new LineProtocolReader(new LineProtocolLimits(), LineProtocolValidation.Structure);

        Assert.Throws<LineProtocolException>(() => Read(full, line));
        structure.Reset(TimestampPrecision.Nanoseconds);
        var sequence = new SequenceReader<byte>(new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes(line)));
        Assert.True(structure.TryRead(ref sequence, isFinalBlock: true, out LineProtocolLine read));
        Assert.Equal(line, Encoding.UTF8.GetString(read.Text));
    }

    [Theory]
    [InlineData("m", "line 1 col 2: missing fields: \"m\"")]
    [InlineData("m f", "line 1 col 4: missing '=' after field key: \"f\"")]
    [InlineData("m f=1 x", "line 1 col 7: invalid timestamp: \"x\"")]
    public void Structure_validation_still_refuses_a_malformed_line(string line, string message)
    {
        using var structure = new LineProtocolReader(new LineProtocolLimits(), LineProtocolValidation.Structure);

        Assert.Equal(message, Assert.Throws<LineProtocolException>(() => Read(structure, line)).Message);
    }

    private static List<string> Read(LineProtocolReader reader, string body)
    {
        reader.Reset(TimestampPrecision.Nanoseconds);
        var sequence = new SequenceReader<byte>(new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes(body)));
        var lines = new List<string>();
        while (reader.TryRead(ref sequence, isFinalBlock: true, out LineProtocolLine line))
        {
            lines.Add($"{Materialise(line)} {Encoding.UTF8.GetString(line.Text)}");
        }

        return lines;
    }
}
