namespace FactoryGateway.Telemetry.LineProtocol;

/// <summary>
/// Size limits the line-protocol reader enforces before it parses. Every limit is named in the error
/// that reports it. Validate with <see cref="Validate"/> at start-up.
/// </summary>
public sealed class LineProtocolLimits
{
    /// <summary>
    /// Longest line, in bytes, without its newline. Default 64 KiB: about 400 times a machine-shaped
    /// line (~150 B); it also bounds the copy made of a line that spans two buffer segments.
    /// </summary>
    public int MaxLineBytes { get; set; } = 64 * 1024;

    /// <summary>
    /// Most tags on one line. Default 64: the canonical schema uses 3–5 tags; InfluxDB itself sets
    /// no per-line limit, but every tag is a series-index entry, so a runaway tag set is refused early.
    /// </summary>
    public int MaxTagsPerLine { get; set; } = 64;

    /// <summary>Most fields on one line. Default 1,024: a machine reports tens of signals per sample.</summary>
    public int MaxFieldsPerLine { get; set; } = 1024;

    /// <summary>
    /// Largest request body, in bytes, after gzip decoding. Default 25,000,000: InfluxDB 1.x's
    /// <c>[http] max-body-size</c> default, so a client tuned for InfluxDB fits.
    /// </summary>
    public long MaxBodyBytes { get; set; } = 25_000_000;

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first limit that is out of range.</summary>
    public LineProtocolLimits Validate()
    {
        Check(MaxLineBytes, 16, 16 * 1024 * 1024, nameof(MaxLineBytes));
        Check(MaxTagsPerLine, 0, 65_536, nameof(MaxTagsPerLine));
        Check(MaxFieldsPerLine, 1, 65_536, nameof(MaxFieldsPerLine));
        Check(MaxBodyBytes, MaxLineBytes, 4L * 1024 * 1024 * 1024, nameof(MaxBodyBytes));
        return this;
    }

    private static void Check(long value, long min, long max, string name)
    {
        if (value < min || value > max)
        {
            throw new ArgumentOutOfRangeException(name, value, $"LineProtocolLimits.{name} must be between {min} and {max}; it is {value}.");
        }
    }
}
