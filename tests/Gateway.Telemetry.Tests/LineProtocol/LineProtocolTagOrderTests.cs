using System.Buffers;
using System.Globalization;
using System.Text;
using FactoryGateway.Telemetry.LineProtocol;

namespace FactoryGateway.Telemetry.Tests.LineProtocol;

/// <summary>
/// Tag order as InfluxDB wants it (Go's <c>bytes.Compare</c> of the raw keys): <see cref="LineProtocolLine.TagsSorted"/>
/// and <see cref="LineProtocolLine.WriteSeriesKeyInKeyOrder"/>.
/// </summary>
public sealed class LineProtocolTagOrderTests
{
    [Theory]
    [InlineData("m f=1", true)]
    [InlineData("m,a=1 f=1", true)]
    [InlineData("m,a=1,b=2,c=3 f=1", true)]
    [InlineData("m,a=1,a=2 f=1", true)] // equal keys are in order (InfluxDB refuses them as duplicates)
    [InlineData("m,ab=1,b=2 f=1", true)]
    [InlineData("m,b=1,ab=2 f=1", false)]
    [InlineData("m,a=1,aa=2 f=1", true)] // a prefix sorts first
    [InlineData("m,aa=1,a=2 f=1", false)]
    [InlineData("m,B=1,a=2 f=1", true)] // bytes, not culture: 'B' (0x42) < 'a' (0x61)
    [InlineData("m,a=1,B=2 f=1", false)]
    [InlineData("m,ent=E,dev=D,edge=e,cls=cnc f=1", false)]
    [InlineData("m,cls=cnc,dev=D,edge=e,ent=E f=1", true)]
    [InlineData("m,a\\ b=1,a\\,c=2 f=1", true)] // raw keys: "a\ b" < "a\,c" (' ' 0x20 < ',' 0x2C)
    [InlineData("m,a\\,c=1,a\\ b=2 f=1", false)]
    [InlineData("m,b=1,a=2,c=3 f=1", false)]
    public void A_line_knows_whether_its_tags_are_in_key_order(string text, bool sorted)
    {
        Assert.Equal(sorted, Read(text, line => line.TagsSorted));
    }

    [Theory]
    [InlineData("m f=1", "", "", "m")]
    [InlineData("m f=1", "ent", "E", "m,ent=E")]
    [InlineData("m,dev=D f=1", "ent", "E", "m,dev=D,ent=E")]
    [InlineData("m,line=L,dev=D f=1", "ent", "E", "m,dev=D,ent=E,line=L")]
    [InlineData("m,line=L,dev=D f=1", "", "", "m,dev=D,line=L")]
    [InlineData("m,z=1,y=2 f=1", "a", "0", "m,a=0,y=2,z=1")]
    [InlineData("m,b=2,a=1 f=1", "c", "3", "m,a=1,b=2,c=3")]
    [InlineData("telemetry,ent=E,dev=cnc-01,edge=e1,cls=cnc f=1", "", "", "telemetry,cls=cnc,dev=cnc-01,edge=e1,ent=E")]
    [InlineData("m,b=1,a=x,a=y f=1", "", "", "m,a=x,a=y,b=1")] // equal keys keep their order
    [InlineData("m\\ x\\,y,k\\=2=v\\,1,k\\ 1=v\\=2 f=1", "", "", "m\\ x\\,y,k\\ 1=v\\=2,k\\=2=v\\,1")] // escapes copied as they are, raw bytes compared
    [InlineData("m,a=1,b=2 f=1", "ab", "x", "m,a=1,ab=x,b=2")]
    public void The_series_key_is_written_with_its_tags_in_key_order(string text, string addKey, string addValue, string expected)
    {
        string written = Read(text, line =>
        {
            var output = new ArrayBufferWriter<byte>();
            line.WriteSeriesKeyInKeyOrder(output, Encoding.UTF8.GetBytes(addKey), Encoding.UTF8.GetBytes(addValue));
            return Encoding.UTF8.GetString(output.WrittenSpan);
        });

        Assert.Equal(expected, written);
        Assert.True(Read(written + " f=1", line => line.TagsSorted));
    }

    [Fact]
    public void More_tags_than_fit_on_the_stack_are_sorted_too()
    {
        // 100 tags (the writer keeps 64 on the stack, the reader's bounds start with room for 16) in reverse
        // order, with an added tag in the middle; and each found by key.
        string tags = string.Join(",", Enumerable.Range(0, 100).Reverse().Select(t => string.Create(CultureInfo.InvariantCulture, $"k{t:000}={t}")));

        string written = Read($"m,{tags} f=1", line =>
        {
            for (int t = 0; t < 100; t++)
            {
                Assert.True(line.TryGetTag(Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"k{t:000}")), out ReadOnlySpan<byte> value));
                Assert.Equal(t.ToString(CultureInfo.InvariantCulture), Encoding.UTF8.GetString(value));
            }

            var output = new ArrayBufferWriter<byte>();
            line.WriteSeriesKeyInKeyOrder(output, "k049x"u8, "added"u8);
            return Encoding.UTF8.GetString(output.WrittenSpan);
        }, new LineProtocolLimits { MaxTagsPerLine = 128 });

        string expected = "m," + string.Join(",", Enumerable.Range(0, 100).Select(t => string.Create(CultureInfo.InvariantCulture, $"k{t:000}={t}"))
            .SelectMany(tag => tag.StartsWith("k049=", StringComparison.Ordinal) ? new[] { tag, "k049x=added" } : [tag]));
        Assert.Equal(expected, written);
    }

    private static T Read<T>(string text, LineFunc<T> read, LineProtocolLimits? limits = null)
    {
        using var reader = new LineProtocolReader(limits ?? new LineProtocolLimits());
        reader.Reset(TimestampPrecision.Nanoseconds);
        var sequence = new SequenceReader<byte>(new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes(text)));
        Assert.True(reader.TryRead(ref sequence, isFinalBlock: true, out LineProtocolLine line));
        return read(line);
    }

    private delegate T LineFunc<out T>(LineProtocolLine line);
}
