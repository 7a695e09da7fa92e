using System.Buffers;
using System.Text;
using FactoryGateway.Telemetry.LineProtocol;
using FactoryGateway.Testing;

namespace FactoryGateway.Telemetry.Tests.LineProtocol;

/// <summary>A parsed point, materialised so that tests can compare it.</summary>
internal sealed record ParsedPoint(string Measurement, IReadOnlyList<KeyValuePair<string, string>> Tags, IReadOnlyList<ParsedField> Fields, long? Timestamp, int LineNumber)
{
    public bool Equals(ParsedPoint? other) =>
        other is not null && Measurement == other.Measurement && Tags.SequenceEqual(other.Tags) && Fields.SequenceEqual(other.Fields)
        && Timestamp == other.Timestamp && LineNumber == other.LineNumber;

    public override int GetHashCode() => HashCode.Combine(Measurement, Timestamp, LineNumber);

    public override string ToString() =>
        $"{Measurement} [{string.Join(", ", Tags.Select(t => $"{t.Key}={t.Value}"))}] [{string.Join(", ", Fields)}] {Timestamp} (line {LineNumber})";
}

internal sealed record ParsedField(string Key, FieldKind Kind, object Value);

internal static class LineProtocolTestSupport
{
    public static List<ParsedPoint> ReadAll(string body, TimestampPrecision precision = TimestampPrecision.Nanoseconds, LineProtocolLimits? limits = null) =>
        ReadAll(new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes(body)), precision, limits);

    public static List<ParsedPoint> ReadAll(ReadOnlySequence<byte> body, TimestampPrecision precision = TimestampPrecision.Nanoseconds, LineProtocolLimits? limits = null)
    {
        using var reader = new LineProtocolReader(limits ?? new LineProtocolLimits());
        reader.Reset(precision);
        var sequence = new SequenceReader<byte>(body);
        var points = new List<ParsedPoint>();
        while (reader.TryRead(ref sequence, isFinalBlock: true, out LineProtocolLine line))
        {
            points.Add(Materialise(line));
        }

        Assert.True(sequence.End, "the reader stopped before the end of the body");
        return points;
    }

    public static ParsedPoint Materialise(LineProtocolLine line)
    {
        var tags = new List<KeyValuePair<string, string>>();
        foreach (LineProtocolTag tag in line.Tags)
        {
            tags.Add(new(LineProtocolText.Unescape(tag.Key), LineProtocolText.Unescape(tag.Value)));
        }

        var fields = new List<ParsedField>();
        foreach (LineProtocolField field in line.Fields)
        {
            object value = field.Kind switch
            {
                FieldKind.Float => field.AsDouble(),
                FieldKind.Integer => field.AsInteger(),
                FieldKind.UnsignedInteger => field.AsUnsignedInteger(),
                FieldKind.Boolean => field.AsBoolean(),
                FieldKind.String => field.AsString(),
                _ => throw new InvalidOperationException(),
            };
            fields.Add(new ParsedField(LineProtocolText.Unescape(field.Key), field.Kind, value));
        }

        Assert.Equal(line.TagCount, tags.Count);
        Assert.Equal(line.FieldCount, fields.Count);
        return new ParsedPoint(LineProtocolText.UnescapeMeasurement(line.Measurement), tags, fields, line.Timestamp, line.LineNumber);
    }

    /// <summary>A sequence of several segments, cut at the given offsets.</summary>
    public static ReadOnlySequence<byte> Split(byte[] data, params int[] cuts) => SequenceSegments.Split(data, cuts);
}
