using System.Buffers;
using System.Text;
using FactoryGateway.Telemetry.LineProtocol;
using static FactoryGateway.Telemetry.Tests.LineProtocol.LineProtocolTestSupport;

namespace FactoryGateway.Telemetry.Tests.LineProtocol;

/// <summary>
/// Property tests: generated points written by <see cref="LineProtocolWriter"/> read back equal through
/// <see cref="LineProtocolReader"/>, whatever their names, values and the segmentation of the body.
/// The generator favours the characters the protocol treats specially.
/// </summary>
public sealed class LineProtocolRoundTripTests
{
    // Characters that exercise escaping, plus ordinary ASCII and CJK text.
    private const string Alphabet = "abcXYZ019_-., =\\\"#\t'/:设备主轴";

    public static TheoryData<int> Seeds => [.. Enumerable.Range(1, 25)];

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Generated_points_survive_writer_then_reader(int seed)
    {
        var random = new Random(seed);
        var expected = new List<ParsedPoint>();
        var buffer = new ArrayBufferWriter<byte>();
        var writer = new LineProtocolWriter(buffer);
        for (int line = 1; line <= 200; line++)
        {
            expected.Add(WriteRandomPoint(writer, random, line));
        }

        byte[] body = buffer.WrittenSpan.ToArray();
        Assert.Equal(expected, ReadAll(new ReadOnlySequence<byte>(body)));
        int[] cuts = [.. Enumerable.Range(0, 20).Select(_ => random.Next(1, body.Length))];
        Assert.Equal(expected, ReadAll(Split(body, cuts)));
    }

    private static ParsedPoint WriteRandomPoint(LineProtocolWriter writer, Random random, int lineNumber)
    {
        string measurement = RandomText(random, 1, 12);
        if (measurement[0] is '#' or '\t')
        {
            measurement = "m" + measurement;
        }

        writer.WriteMeasurement(measurement);
        var tags = new List<KeyValuePair<string, string>>();
        foreach (string key in Enumerable.Range(0, random.Next(0, 5)).Select(i => $"{RandomText(random, 1, 6)}{i}").ToArray())
        {
            string value = RandomText(random, 1, 16);
            writer.WriteTag(key, value);
            tags.Add(new(key, value));
        }

        var fields = new List<ParsedField>();
        int fieldCount = random.Next(1, 6);
        for (int i = 0; i < fieldCount; i++)
        {
            string key = $"{RandomText(random, 1, 8)}{i}";
            switch (random.Next(5))
            {
                case 0:
                    double d = RandomDouble(random);
                    writer.WriteField(key, d);
                    fields.Add(new(key, FieldKind.Float, d));
                    break;
                case 1:
                    long l = random.Next(4) == 0 ? (random.Next(2) == 0 ? long.MinValue : long.MaxValue) : random.NextInt64(long.MinValue, long.MaxValue);
                    writer.WriteField(key, l);
                    fields.Add(new(key, FieldKind.Integer, l));
                    break;
                case 2:
                    ulong u = random.Next(4) == 0 ? ulong.MaxValue : (ulong)random.NextInt64() * 2;
                    writer.WriteField(key, u);
                    fields.Add(new(key, FieldKind.UnsignedInteger, u));
                    break;
                case 3:
                    bool b = random.Next(2) == 0;
                    writer.WriteField(key, b);
                    fields.Add(new(key, FieldKind.Boolean, b));
                    break;
                default:
                    string s = RandomText(random, 0, 24);
                    writer.WriteStringField(key, s);
                    fields.Add(new(key, FieldKind.String, s));
                    break;
            }
        }

        long? timestamp = null;
        if (random.Next(4) == 0)
        {
            writer.EndLine();
        }
        else
        {
            timestamp = random.Next(4) == 0 ? random.NextInt64(long.MinValue, long.MaxValue) : 1_795_000_000_000_000_000 + random.NextInt64(1_000_000_000_000);
            writer.WriteTimestamp(timestamp.Value);
        }

        return new ParsedPoint(measurement, tags, fields, timestamp, lineNumber);
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

    private static double RandomDouble(Random random) => random.Next(6) switch
    {
        0 => double.MaxValue * (random.Next(2) == 0 ? 1 : -1),
        1 => double.Epsilon,
        2 => -0.0,
        3 => Math.Round(random.NextDouble() * 10_000, 2),
        _ => BitConverter.Int64BitsToDouble(random.NextInt64()) is var d && double.IsFinite(d) ? d : 1.5,
    };
}
