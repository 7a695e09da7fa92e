using System.Buffers;
using System.Text;
using FactoryGateway.Telemetry.LineProtocol;
using static FactoryGateway.Telemetry.Tests.LineProtocol.LineProtocolTestSupport;

namespace FactoryGateway.Telemetry.Tests.LineProtocol;

public sealed class LineProtocolSeriesKeyTests
{
    // Characters that exercise escaping, plus ordinary ASCII and CJK text (no line breaks: those are refused).
    private const string Alphabet = "abcXYZ019_-., =\\\"#\t'/:设备主轴";

    [Fact]
    public void Writes_a_machine_shaped_point_from_a_cached_key()
    {
        var key = new LineProtocolSeriesKey("telemetry", new("ent", "91330402MA2B3C4D53"), new("dev", "cnc 01"), new("edge", "edge-01"));
        var buffer = new ArrayBufferWriter<byte>();
        var writer = new LineProtocolWriter(buffer);

        writer.WriteSeriesKey(key).WriteField("spindle_speed", 12000.5).WriteTimestamp(1795000000123456789);
        writer.WriteSeriesKey(key).WriteTag("cls", "cnc").WriteField("parts_total", 7L).EndLine();

        Assert.Equal(
            "telemetry,ent=91330402MA2B3C4D53,dev=cnc\\ 01,edge=edge-01 spindle_speed=12000.5 1795000000123456789\n"
            + "telemetry,ent=91330402MA2B3C4D53,dev=cnc\\ 01,edge=edge-01,cls=cnc parts_total=7i\n",
            Encoding.UTF8.GetString(buffer.WrittenSpan));
        Assert.Equal(2, writer.PointsWritten);
        Assert.Equal(3, key.TagCount);
        Assert.Equal("telemetry,ent=91330402MA2B3C4D53,dev=cnc\\ 01,edge=edge-01", key.ToString());
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void A_key_is_exactly_what_the_measurement_and_tag_calls_write(int seed)
    {
        var random = new Random(seed);
        for (int i = 0; i < 300; i++)
        {
            string measurement = RandomText(random, 1, 20);
            if (measurement[0] is '#' or '\t')
            {
                measurement = "m" + measurement;
            }

            KeyValuePair<string, string>[] tags = [.. Enumerable.Range(0, random.Next(0, 5)).Select(_ => new KeyValuePair<string, string>(RandomText(random, 1, 20), RandomText(random, 1, 20)))];
            var expected = new ArrayBufferWriter<byte>();
            LineProtocolWriter reference = new LineProtocolWriter(expected).WriteMeasurement(measurement);
            foreach (KeyValuePair<string, string> tag in tags)
            {
                reference.WriteTag(tag.Key, tag.Value);
            }

            reference.WriteField("f", 1L).EndLine();
            var actual = new ArrayBufferWriter<byte>();
            new LineProtocolWriter(actual).WriteSeriesKey(new LineProtocolSeriesKey(measurement, tags)).WriteField("f", 1L).EndLine();

            Assert.Equal(Encoding.UTF8.GetString(expected.WrittenSpan), Encoding.UTF8.GetString(actual.WrittenSpan));
            ParsedPoint point = Assert.Single(ReadAll(Encoding.UTF8.GetString(actual.WrittenSpan)));
            Assert.Equal(measurement, point.Measurement);
            Assert.Equal(tags, point.Tags);
        }
    }

    [Fact]
    public void Refuses_what_the_writer_refuses()
    {
        Assert.Equal(
            "measurement \"#m\" starts with '#', which would make the line a comment.",
            Assert.Throws<LineProtocolWriteException>(() => new LineProtocolSeriesKey("#m")).Message);
        Assert.Equal(
            "tag \"dev\" has an empty value; InfluxDB refuses empty tag values (omit the tag instead).",
            Assert.Throws<LineProtocolWriteException>(() => new LineProtocolSeriesKey("m", new KeyValuePair<string, string>("dev", ""))).Message);
        Assert.Equal(
            "tag value \"a\\nb\" contains a line break; line protocol cannot carry one.",
            Assert.Throws<LineProtocolWriteException>(() => new LineProtocolSeriesKey("m", new KeyValuePair<string, string>("dev", "a\nb"))).Message);
        Assert.Equal("the tag key is empty.", Assert.Throws<LineProtocolWriteException>(() => new LineProtocolSeriesKey("m", new KeyValuePair<string, string>("", "v"))).Message);
        Assert.StartsWith(
            "text ",
            Assert.Throws<LineProtocolWriteException>(() => new LineProtocolSeriesKey("m", new KeyValuePair<string, string>("k", "\ud800"))).Message,
            StringComparison.Ordinal);
    }

    [Fact]
    public void Refuses_a_key_in_the_middle_of_a_point()
    {
        var key = new LineProtocolSeriesKey("m");
        var writer = new LineProtocolWriter(new ArrayBufferWriter<byte>());

        writer.WriteSeriesKey(key);
        Assert.Throws<InvalidOperationException>(() => writer.WriteSeriesKey(key));
        Assert.Throws<InvalidOperationException>(() => writer.EndLine());
        writer.WriteField("f", 1L);
        Assert.Throws<InvalidOperationException>(() => writer.WriteSeriesKey(key));
        Assert.Throws<ArgumentNullException>(() => new LineProtocolWriter(new ArrayBufferWriter<byte>()).WriteSeriesKey(null!));
    }

    [Fact]
    public void Writing_with_a_key_allocates_nothing_per_point()
    {
        var key = new LineProtocolSeriesKey("telemetry", new("ent", "91330402MA2B3C4D53"), new("dev", "cnc 0001"));
        var buffer = new ArrayBufferWriter<byte>(1 << 20);
        var writer = new LineProtocolWriter(buffer);
        WritePoints(writer, key, 10);
        buffer.ResetWrittenCount();

        long before = GC.GetAllocatedBytesForCurrentThread();
        WritePoints(writer, key, 5_000);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, allocated);

        static void WritePoints(LineProtocolWriter writer, LineProtocolSeriesKey key, int count)
        {
            for (int i = 0; i < count; i++)
            {
                writer.WriteSeriesKey(key).WriteField("spindle_speed"u8, 12000.5 + i).WriteField("parts_total"u8, (long)i).WriteTimestamp(1795000000123456789 + i);
            }
        }
    }

    private static string RandomText(Random random, int min, int max)
    {
        int length = random.Next(min, max + 1);
        var text = new StringBuilder(length);
        for (int i = 0; i < length; i++)
        {
            text.Append(Alphabet[random.Next(Alphabet.Length)]);
        }

        return text.ToString();
    }
}
