using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace FactoryGateway.Evidence;

/// <summary>The calendar unit of a <see cref="Window"/>.</summary>
public enum WindowKind
{
    /// <summary>A calendar month, written <c>2026-07</c>.</summary>
    Month,

    /// <summary>A calendar quarter, written <c>2026Q3</c>.</summary>
    Quarter,

    /// <summary>A calendar year, written <c>2026</c>.</summary>
    Year,
}

/// <summary>
/// A reporting window W of the indicator spec §1: a calendar month, quarter or year in an enterprise's time
/// zone, as the half-open local-day range [<see cref="FirstDay"/>, <see cref="EndDay"/>) and the matching
/// UTC range [<see cref="StartUnixNanoseconds"/>, <see cref="EndUnixNanoseconds"/>).
/// </summary>
/// <remarks>
/// Time zones here have a fixed offset (no DST; Asia/Shanghai is UTC+8), so a local midnight is
/// <c>days since 1970-01-01 × 86,400 s − offset</c>, all in <see cref="long"/> arithmetic: nothing passes
/// through floating point.
/// </remarks>
public sealed record Window
{


    private Window(WindowKind kind, int year, int index, int utcOffsetMinutes)
    {
        Kind = kind;
        Year = year;
        Index = index;
        UtcOffsetMinutes = utcOffsetMinutes;
        (FirstDay, EndDay) = kind switch
        {
            WindowKind.Month => (new DateOnly(year, index, 1), new DateOnly(year, index, 1).AddMonths(1)),
            WindowKind.Quarter => (new DateOnly(year, ((index - 1) * 3) + 1, 1), new DateOnly(year, ((index - 1) * 3) + 1, 1).AddMonths(3)),
            _ => (new DateOnly(year, 1, 1), new DateOnly(year, 1, 1).AddYears(1)),
        };
        StartUnixNanoseconds = LocalMidnightUnixNanoseconds(FirstDay, utcOffsetMinutes);
        EndUnixNanoseconds = LocalMidnightUnixNanoseconds(EndDay, utcOffsetMinutes);
    }

    /// <summary>Month, quarter or year.</summary>
    public WindowKind Kind { get; }

    /// <summary>The calendar year.</summary>
    public int Year { get; }

    /// <summary>The month (1–12) of a month window, the quarter (1–4) of a quarter window, 1 for a year.</summary>
    public int Index { get; }

    /// <summary>The time zone's offset from UTC in minutes (480 for Asia/Shanghai).</summary>
    public int UtcOffsetMinutes { get; }

    /// <summary>The first local day in the window.</summary>
    public DateOnly FirstDay { get; }

    /// <summary>The first local day after the window (exclusive end).</summary>
    public DateOnly EndDay { get; }

    /// <summary>Local midnight of <see cref="FirstDay"/>, Unix nanoseconds (inclusive).</summary>
    public long StartUnixNanoseconds { get; }

    /// <summary>Local midnight of <see cref="EndDay"/>, Unix nanoseconds (exclusive).</summary>
    public long EndUnixNanoseconds { get; }

    /// <summary>The window's label: <c>2026-07</c>, <c>2026Q3</c> or <c>2026</c>.</summary>
    public string Label => Kind switch
    {
        WindowKind.Month => string.Create(CultureInfo.InvariantCulture, $"{Year:D4}-{Index:D2}"),
        WindowKind.Quarter => string.Create(CultureInfo.InvariantCulture, $"{Year:D4}Q{Index}"),
        _ => Year.ToString("D4", CultureInfo.InvariantCulture),
    };

    /// <summary>The number of local days in the window.</summary>
    public int DayCount => EndDay.DayNumber - FirstDay.DayNumber;

    /// <summary>The months the window covers, as <c>YYYY-MM</c> labels in order.</summary>
    public IReadOnlyList<string> Months
    {
        get
        {
            var months = new List<string>();
            for (DateOnly month = FirstDay; month < EndDay; month = month.AddMonths(1))
            {
                months.Add(string.Create(CultureInfo.InvariantCulture, $"{month.Year:D4}-{month.Month:D2}"));
            }

            return months;
        }
    }

    /// <summary>A month window.</summary>
    public static Window ForMonth(int year, int month, int utcOffsetMinutes = TimeZones.ChinaStandardTimeOffsetMinutes)
    {
        CheckYear(year);
        ArgumentOutOfRangeException.ThrowIfLessThan(month, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(month, 12);
        CheckOffset(utcOffsetMinutes);
        return new Window(WindowKind.Month, year, month, utcOffsetMinutes);
    }

    /// <summary>A quarter window.</summary>
    public static Window ForQuarter(int year, int quarter, int utcOffsetMinutes = TimeZones.ChinaStandardTimeOffsetMinutes)
    {
        CheckYear(year);
        ArgumentOutOfRangeException.ThrowIfLessThan(quarter, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(quarter, 4);
        CheckOffset(utcOffsetMinutes);
        return new Window(WindowKind.Quarter, year, quarter, utcOffsetMinutes);
    }

    /// <summary>A year window.</summary>
    public static Window ForYear(int year, int utcOffsetMinutes = TimeZones.ChinaStandardTimeOffsetMinutes)
    {
        CheckYear(year);
        CheckOffset(utcOffsetMinutes);
        return new Window(WindowKind.Year, year, 1, utcOffsetMinutes);
    }

    /// <summary>Parses <c>2026-07</c>, <c>2026Q3</c> or <c>2026</c>.</summary>
    /// <exception cref="FormatException">The label is none of these.</exception>
    public static Window Parse(string label, int utcOffsetMinutes = TimeZones.ChinaStandardTimeOffsetMinutes) =>
        TryParse(label, utcOffsetMinutes, out Window? window)
            ? window
            : throw new FormatException($"\"{label}\" is not a window: write a month 2026-07, a quarter 2026Q3 or a year 2026.");

    /// <summary>Parses <c>2026-07</c>, <c>2026Q3</c> or <c>2026</c>; false for anything else.</summary>
    public static bool TryParse([NotNullWhen(true)] string? label, int utcOffsetMinutes, [NotNullWhen(true)] out Window? window)
    {
        window = null;
        CheckOffset(utcOffsetMinutes);
        if (label is null || label.Length < 4 || !TryDigits(label.AsSpan(0, 4), out int year) || year < 1971 || year > 9998)
        {
            return false;
        }

        if (label.Length == 4)
        {
            window = new Window(WindowKind.Year, year, 1, utcOffsetMinutes);
        }
        else if (label.Length == 6 && label[4] == 'Q' && label[5] is >= '1' and <= '4')
        {
            window = new Window(WindowKind.Quarter, year, label[5] - '0', utcOffsetMinutes);
        }
        else if (label.Length == 7 && label[4] == '-' && TryDigits(label.AsSpan(5, 2), out int month) && month is >= 1 and <= 12)
        {
            window = new Window(WindowKind.Month, year, month, utcOffsetMinutes);
        }

        return window is not null;
    }

    /// <summary>Unix nanoseconds of local midnight at the start of <paramref name="day"/> in a zone <paramref name="utcOffsetMinutes"/> east of UTC.</summary>
    public static long LocalMidnightUnixNanoseconds(DateOnly day, int utcOffsetMinutes) =>
        Ledger.LocalDays.StartOf(Ledger.LocalDays.DayOf(day), utcOffsetMinutes);

    /// <summary>The same calendar window in a zone <paramref name="utcOffsetMinutes"/> east of UTC.</summary>
    public Window WithOffset(int utcOffsetMinutes)
    {
        CheckOffset(utcOffsetMinutes);
        return utcOffsetMinutes == UtcOffsetMinutes ? this : new Window(Kind, Year, Index, utcOffsetMinutes);
    }

    /// <summary>True when local day <paramref name="day"/> is inside the window.</summary>
    public bool Contains(DateOnly day) => day >= FirstDay && day < EndDay;

    /// <summary>True when the instant <paramref name="unixNanoseconds"/> is inside [start, end).</summary>
    public bool ContainsInstant(long unixNanoseconds) => unixNanoseconds >= StartUnixNanoseconds && unixNanoseconds < EndUnixNanoseconds;

    /// <summary>The local days of the window, in order.</summary>
    public IEnumerable<DateOnly> Days
    {
        get
        {
            for (DateOnly day = FirstDay; day < EndDay; day = day.AddDays(1))
            {
                yield return day;
            }
        }
    }

    /// <inheritdoc />
    public override string ToString() => Label;

    private static bool TryDigits(ReadOnlySpan<char> text, out int value)
    {
        value = 0;
        foreach (char c in text)
        {
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }

            value = (value * 10) + (c - '0');
        }

        return true;
    }

    private static void CheckYear(int year)
    {
        // 1971 keeps every local midnight of the window after the Unix epoch; 9998 keeps EndDay representable.
        ArgumentOutOfRangeException.ThrowIfLessThan(year, 1971);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(year, 9998);
    }

    private static void CheckOffset(int utcOffsetMinutes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(utcOffsetMinutes, -14 * 60);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(utcOffsetMinutes, 14 * 60);
    }
}

/// <summary>
/// The time zones the register accepts: IANA names of zones with one fixed UTC offset today (no DST), so
/// windows and local days need no time-zone database.
/// </summary>
public static class TimeZones
{
    /// <summary>The default zone of an enterprise (indicator spec §1).</summary>
    public const string Default = "Asia/Shanghai";

    /// <summary>UTC+8, China Standard Time, in minutes.</summary>
    public const int ChinaStandardTimeOffsetMinutes = 480;

    private static readonly Dictionary<string, int> s_offsets = new(StringComparer.Ordinal)
    {
        ["Asia/Shanghai"] = ChinaStandardTimeOffsetMinutes,
        ["Asia/Urumqi"] = 360,
        ["Asia/Hong_Kong"] = ChinaStandardTimeOffsetMinutes,
        ["Asia/Macau"] = ChinaStandardTimeOffsetMinutes,
        ["Asia/Taipei"] = ChinaStandardTimeOffsetMinutes,
        ["UTC"] = 0,
    };

    /// <summary>The accepted names, for error messages.</summary>
    public static string Names => string.Join(", ", s_offsets.Keys);

    /// <summary>The UTC offset in minutes of <paramref name="name"/>; false when the register does not accept it.</summary>
    public static bool TryGetOffsetMinutes(string name, out int offsetMinutes) => s_offsets.TryGetValue(name, out offsetMinutes);
}
