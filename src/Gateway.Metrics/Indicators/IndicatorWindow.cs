using System.Globalization;
using FactoryGateway.Evidence.Ledger;

namespace FactoryGateway.Metrics.Indicators;

/// <summary>
/// A reporting window: a calendar month (<c>2026-07</c>), quarter (<c>2026Q3</c>) or year (<c>2026</c>), as
/// local days [<see cref="FromDay"/>, <see cref="ToDay"/>) in the enterprise's time zone (spec §1).
/// </summary>
public sealed record IndicatorWindow(string Label, DateOnly From, DateOnly To)
{
    public int FromDay => LocalDays.DayOf(From);

    public int ToDay => LocalDays.DayOf(To);

    public int Days => ToDay - FromDay;

    /// <exception cref="FormatException">Not a month, quarter or year.</exception>
    public static IndicatorWindow Parse(string label)
    {
        ArgumentNullException.ThrowIfNull(label);
        string text = label.Trim();
        if (text.Length == 6 && text[4] is 'Q' or 'q' && int.TryParse(text.AsSpan(0, 4), NumberStyles.None, CultureInfo.InvariantCulture, out int qYear) && text[5] is >= '1' and <= '4')
        {
            int quarter = text[5] - '0';
            var from = new DateOnly(qYear, ((quarter - 1) * 3) + 1, 1);
            return new IndicatorWindow($"{qYear}Q{quarter}", from, from.AddMonths(3));
        }

        if (text.Length == 7 && text[4] == '-' && DateOnly.TryParseExact(text + "-01", "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out DateOnly month))
        {
            return new IndicatorWindow(text, month, month.AddMonths(1));
        }

        if (text.Length == 4 && int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int year) && year >= 1970)
        {
            return new IndicatorWindow(text, new DateOnly(year, 1, 1), new DateOnly(year + 1, 1, 1));
        }

        throw new FormatException($"window \"{label}\" is not a month (2026-07), quarter (2026Q3) or year (2026).");
    }

    public bool Contains(DateOnly day) => day >= From && day < To;

    public override string ToString() => Label;
}
