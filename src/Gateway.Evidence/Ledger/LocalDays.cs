namespace FactoryGateway.Evidence.Ledger;

/// <summary>
/// Local days as integers: day <c>d</c> of an enterprise with UTC offset <c>o</c> is
/// [d × 86,400 s − o, (d + 1) × 86,400 s − o) in Unix time. Integer arithmetic only.
/// </summary>
public static class LocalDays
{
    public const long NanosecondsPerDay = 86_400L * 1_000_000_000;
    public const long NanosecondsPerMinute = 60L * 1_000_000_000;

    /// <summary>The default enterprise time zone: Asia/Shanghai, UTC+8, no daylight saving (spec §1).</summary>
    public const int DefaultOffsetMinutes = 480;

    /// <summary><see cref="DateOnly.DayNumber"/> of 1970-01-01.</summary>
    public static readonly int EpochDayNumber = new DateOnly(1970, 1, 1).DayNumber;

    /// <summary>The local day of Unix time <paramref name="unixNanoseconds"/>.</summary>
    public static int DayOf(long unixNanoseconds, int offsetMinutes)
    {
        long local = unixNanoseconds + (offsetMinutes * NanosecondsPerMinute);
        long day = local / NanosecondsPerDay;
        return (int)(local % NanosecondsPerDay < 0 ? day - 1 : day); // floor, also before 1970
    }

    /// <summary>The Unix time at which local day <paramref name="day"/> starts.</summary>
    public static long StartOf(int day, int offsetMinutes) => (day * NanosecondsPerDay) - (offsetMinutes * NanosecondsPerMinute);

    /// <summary>The local day of a date.</summary>
    public static int DayOf(DateOnly date) => date.DayNumber - EpochDayNumber;
}
