namespace FactoryGateway.Telemetry.LineProtocol;

/// <summary>The unit of line-protocol timestamps, as named by the write API's <c>precision</c> parameter.</summary>
public enum TimestampPrecision
{
    Nanoseconds,
    Microseconds,
    Milliseconds,
    Seconds,
    Minutes,
    Hours,
}

public static class TimestampPrecisions
{
    /// <summary>
    /// Parses a <c>precision</c> query value: <c>n</c>/<c>ns</c>, <c>u</c>/<c>us</c>/<c>µ</c>, <c>ms</c>,
    /// <c>s</c> (InfluxDB v1 and v2), and <c>m</c>, <c>h</c> (v1). An absent value means nanoseconds.
    /// </summary>
    public static bool TryParse(string? value, out TimestampPrecision precision)
    {
        switch (value)
        {
            case null or "" or "n" or "ns":
                precision = TimestampPrecision.Nanoseconds;
                return true;
            case "u" or "us" or "µ" or "µs":
                precision = TimestampPrecision.Microseconds;
                return true;
            case "ms":
                precision = TimestampPrecision.Milliseconds;
                return true;
            case "s":
                precision = TimestampPrecision.Seconds;
                return true;
            case "m":
                precision = TimestampPrecision.Minutes;
                return true;
            case "h":
                precision = TimestampPrecision.Hours;
                return true;
            default:
                precision = default;
                return false;
        }
    }

    /// <summary>Nanoseconds per unit.</summary>
    public static long NanosecondsPerUnit(this TimestampPrecision precision) => precision switch
    {
        TimestampPrecision.Nanoseconds => 1,
        TimestampPrecision.Microseconds => 1_000,
        TimestampPrecision.Milliseconds => 1_000_000,
        TimestampPrecision.Seconds => 1_000_000_000,
        TimestampPrecision.Minutes => 60_000_000_000,
        TimestampPrecision.Hours => 3_600_000_000_000,
        _ => throw new ArgumentOutOfRangeException(nameof(precision), precision, "unknown precision"),
    };

    /// <summary>The short name used in the write API (<c>ns</c>, <c>us</c>, <c>ms</c>, <c>s</c>, <c>m</c>, <c>h</c>).</summary>
    public static string ToQueryValue(this TimestampPrecision precision) => precision switch
    {
        TimestampPrecision.Nanoseconds => "ns",
        TimestampPrecision.Microseconds => "us",
        TimestampPrecision.Milliseconds => "ms",
        TimestampPrecision.Seconds => "s",
        TimestampPrecision.Minutes => "m",
        TimestampPrecision.Hours => "h",
        _ => throw new ArgumentOutOfRangeException(nameof(precision), precision, "unknown precision"),
    };
}
