using System.Buffers;
using System.Text;

namespace FactoryGateway.Telemetry.LineProtocol;

/// <summary>
/// A measurement and tag set validated and escaped once, for points that repeat it: every sample of
/// one device carries the same <c>telemetry,ent=…,dev=…,edge=…</c>. <see cref="LineProtocolWriter.WriteSeriesKey"/>
/// copies it in one piece instead of checking and escaping each element again on every point. The
/// text is exactly what <see cref="LineProtocolWriter.WriteMeasurement(ReadOnlySpan{char})"/> and
/// <see cref="LineProtocolWriter.WriteTag(ReadOnlySpan{char}, ReadOnlySpan{char})"/> write, and the
/// constructor refuses what they refuse, with the same <see cref="LineProtocolWriteException"/>.
/// </summary>
public sealed class LineProtocolSeriesKey
{
    private readonly byte[] _utf8;

    public LineProtocolSeriesKey(string measurement, params ReadOnlySpan<KeyValuePair<string, string>> tags)
    {
        ArgumentNullException.ThrowIfNull(measurement);
        var buffer = new ArrayBufferWriter<byte>();
        LineProtocolWriter writer = new LineProtocolWriter(buffer).WriteMeasurement(measurement);
        foreach (KeyValuePair<string, string> tag in tags)
        {
            writer.WriteTag(tag.Key, tag.Value);
        }

        _utf8 = buffer.WrittenSpan.ToArray();
        TagCount = tags.Length;
    }

    /// <summary>Tags in the key.</summary>
    public int TagCount { get; }

    /// <summary>The escaped measurement and tags as written, e.g. <c>telemetry,ent=…,dev=cnc\ 01</c>.</summary>
    public ReadOnlySpan<byte> Utf8 => _utf8;

    /// <inheritdoc cref="Utf8"/>
    public override string ToString() => Encoding.UTF8.GetString(_utf8);
}
