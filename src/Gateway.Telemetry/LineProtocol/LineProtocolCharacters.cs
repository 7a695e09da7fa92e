using System.Buffers;

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
