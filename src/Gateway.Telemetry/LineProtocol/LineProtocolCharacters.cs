using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace FactoryGateway.Telemetry.LineProtocol;

/// <summary>
/// Byte classes of the InfluxDB line protocol (docs.influxdata.com, "Line protocol", special
/// characters and escaping).
/// </summary>
internal static class LineProtocolCharacters
{
    /// <summary>Ends or escapes a measurement: comma (tag set follows), space (field set follows), backslash.</summary>
    public static readonly SearchValues<byte> MeasurementStops = SearchValues.Create(", \\"u8);

    /// <summary>Ends or escapes a tag key, tag value or field key: comma, equals sign, space, backslash.</summary>
    public static readonly SearchValues<byte> KeyStops = SearchValues.Create(",= \\"u8);

    /// <summary>Ends or escapes a quoted string field value: double quote, backslash.</summary>
    public static readonly SearchValues<byte> StringStops = SearchValues.Create("\"\\"u8);

    /// <summary>Ends an unquoted field value (number or boolean): comma (next field), space (timestamp follows).</summary>
    public static readonly SearchValues<byte> ValueStops = SearchValues.Create(", "u8);

    /// <summary>
    /// The index of the first of <paramref name="a"/>–<paramref name="d"/> in <paramref name="span"/>, or -1
    /// (repeat a byte to look for fewer): what <c>span.IndexOfAny(<paramref name="stops"/>)</c> returns, with
    /// the bytes as constants in the caller's code. A line's elements are short (3–20 bytes), so the general
    /// search's call and setup cost more than its 16-byte compare; here one unaligned 16-byte load, four
    /// compares and a mask find the stop of almost every element. Spans under 16 bytes (a line's last bytes)
    /// take <paramref name="stops"/>, which must hold exactly the same bytes.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int IndexOfAny(ReadOnlySpan<byte> span, byte a, byte b, byte c, byte d, SearchValues<byte> stops)
    {
        if (!Vector128.IsHardwareAccelerated || span.Length < Vector128<byte>.Count)
        {
            return span.IndexOfAny(stops);
        }

        ref byte start = ref MemoryMarshal.GetReference(span);
        nuint last = (nuint)(span.Length - Vector128<byte>.Count);
        nuint offset = 0;
        while (true)
        {
            Vector128<byte> block = Vector128.LoadUnsafe(ref start, offset);
            Vector128<byte> hits = Vector128.Equals(block, Vector128.Create(a)) | Vector128.Equals(block, Vector128.Create(b))
                | Vector128.Equals(block, Vector128.Create(c)) | Vector128.Equals(block, Vector128.Create(d));
            uint mask = hits.ExtractMostSignificantBits();
            if (mask != 0)
            {
                return (int)offset + BitOperations.TrailingZeroCount(mask);
            }

            if (offset == last)
            {
                return -1;
            }

            // The last block overlaps the one before: its earlier bytes were already found free of stops.
            offset = Math.Min(offset + (nuint)Vector128<byte>.Count, last);
        }
    }

    /// <summary>Characters the writer escapes in a measurement.</summary>
    public static readonly SearchValues<byte> MeasurementEscapes = SearchValues.Create(", \\"u8);

    /// <summary>Characters the writer escapes in tag keys, tag values and field keys.</summary>
    public static readonly SearchValues<byte> KeyEscapes = SearchValues.Create(",= \\"u8);

    /// <summary><see cref="MeasurementEscapes"/> plus line breaks: the writer's one-scan fast-path check.</summary>
    public static readonly SearchValues<byte> MeasurementEscapesAndBreaks = SearchValues.Create(", \\\r\n"u8);

    /// <summary><see cref="KeyEscapes"/> plus line breaks: the writer's one-scan fast-path check.</summary>
    public static readonly SearchValues<byte> KeyEscapesAndBreaks = SearchValues.Create(",= \\\r\n"u8);

    /// <summary>Characters the writer escapes in a string field value.</summary>
    public static readonly SearchValues<byte> StringEscapes = SearchValues.Create("\"\\"u8);

    /// <summary><see cref="StringEscapes"/> plus line breaks: the writer's one-scan fast-path check for string values.</summary>
    public static readonly SearchValues<byte> StringEscapesAndBreaks = SearchValues.Create("\"\\\r\n"u8);

    /// <summary>Characters no line-protocol element can carry: a newline ends the line.</summary>
    public static readonly SearchValues<byte> LineBreaks = SearchValues.Create("\r\n"u8);
}
