using System.Buffers;
using System.Runtime.CompilerServices;
using System.Text;

namespace FactoryGateway.Telemetry.LineProtocol;

/// <summary>
/// Escaping rules of the line protocol. In a measurement, tag key, tag value or field key, a
/// backslash followed by one of that element's special characters (comma, space, equals sign) or by
/// another backslash stands for that character; any other backslash is literal. In a string field
/// value, <c>\"</c> and <c>\\</c> stand for <c>"</c> and <c>\</c>; any other backslash is literal.
/// </summary>
public static class LineProtocolText
{
    /// <summary>Decodes a raw tag key, tag value or field key (escapes: comma, space, equals sign, backslash).</summary>
    public static string Unescape(ReadOnlySpan<byte> raw) => Decode(raw, LineProtocolCharacters.KeyEscapes);

    /// <summary>Decodes a raw measurement (escapes: comma, space, backslash; <c>\=</c> is literal).</summary>
    public static string UnescapeMeasurement(ReadOnlySpan<byte> raw) => Decode(raw, LineProtocolCharacters.MeasurementEscapes);

    /// <summary>Decodes a raw tag key, tag value or field key into <paramref name="destination"/> (at least as long as the input); returns the length.</summary>
    public static int UnescapeKey(ReadOnlySpan<byte> raw, Span<byte> destination) => UnescapeInto(raw, destination, LineProtocolCharacters.KeyEscapes);

    private static string Decode(ReadOnlySpan<byte> raw, SearchValues<byte> escapable)
    {
        if (raw.IndexOf((byte)'\\') < 0)
        {
            return Encoding.UTF8.GetString(raw);
        }

        byte[] rented = ArrayPool<byte>.Shared.Rent(raw.Length);
        try
        {
            int length = UnescapeInto(raw, rented, escapable);
            return Encoding.UTF8.GetString(rented, 0, length);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    private static int UnescapeInto(ReadOnlySpan<byte> raw, Span<byte> destination, SearchValues<byte> escapable)
    {
        int written = 0;
        for (int i = 0; i < raw.Length; i++)
        {
            byte b = raw[i];
            if (b == '\\' && i + 1 < raw.Length && escapable.Contains(raw[i + 1]))
            {
                b = raw[++i];
            }

            destination[written++] = b;
        }

        return written;
    }

    /// <summary>Decodes the inside of a quoted string field value (without its quotes); returns the length.</summary>
    public static int UnescapeString(ReadOnlySpan<byte> raw, Span<byte> destination)
    {
        int written = 0;
        for (int i = 0; i < raw.Length; i++)
        {
            byte b = raw[i];
            if (b == '\\' && i + 1 < raw.Length && raw[i + 1] is (byte)'"' or (byte)'\\')
            {
                b = raw[++i];
            }

            destination[written++] = b;
        }

        return written;
    }

    /// <summary>
    /// Orders two raw keys as Go's <c>bytes.Compare</c> does (InfluxDB's tag order): byte by byte, a prefix first.
    /// A plain loop: tag keys are a few bytes, and most differ in their first.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static int CompareKeys(ReadOnlySpan<byte> left, ReadOnlySpan<byte> right)
    {
        int common = Math.Min(left.Length, right.Length);
        for (int i = 0; i < common; i++)
        {
            int difference = left[i] - right[i];
            if (difference != 0)
            {
                return difference;
            }
        }

        return left.Length - right.Length;
    }

    /// <summary>Index of the first <paramref name="value"/> in <paramref name="raw"/> not preceded by an escaping backslash, or -1.</summary>
    internal static int IndexOfUnescaped(ReadOnlySpan<byte> raw, byte value)
    {
        int offset = 0;
        while (true)
        {
            int i = raw[offset..].IndexOfAny(value, (byte)'\\');
            if (i < 0)
            {
                return -1;
            }

            i += offset;
            if (raw[i] == value)
            {
                return i;
            }

            offset = i + 2; // skip the escaped byte
            if (offset >= raw.Length)
            {
                return -1;
            }
        }
    }

    /// <summary>Index of the closing quote of a quoted string value that starts at index 0, or -1.</summary>
    internal static int EndOfQuotedString(ReadOnlySpan<byte> value)
    {
        int offset = 1;
        while (offset < value.Length)
        {
            int i = value[offset..].IndexOfAny(LineProtocolCharacters.StringStops);
            if (i < 0)
            {
                return -1;
            }

            i += offset;
            if (value[i] == '"')
            {
                return i;
            }

            // A backslash: it escapes the next byte only when that is a quote or a backslash.
            offset = i + 1 < value.Length && value[i + 1] is (byte)'"' or (byte)'\\' ? i + 2 : i + 1;
        }

        return -1;
    }
}
