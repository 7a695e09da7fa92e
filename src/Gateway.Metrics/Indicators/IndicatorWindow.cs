using FactoryGateway.Evidence;
using FactoryGateway.Evidence.Ledger;

namespace FactoryGateway.Metrics.Indicators;

/// <summary>
/// A reporting window as local days [<see cref="FromDay"/>, <see cref="ToDay"/>): the register's
/// <see cref="Window"/> (a month <c>2026-07</c>, quarter <c>2026Q3</c> or year <c>2026</c>) seen as ledger days.
/// </summary>
public sealed record IndicatorWindow(string Label, DateOnly From, DateOnly To)
{
    public int FromDay => LocalDays.DayOf(From);

    public int ToDay => LocalDays.DayOf(To);

    public int Days => ToDay - FromDay;

    /// <exception cref="FormatException">Not a month, quarter or year.</exception>
    public static IndicatorWindow Parse(string label) => Of(Window.Parse(label));

    public static IndicatorWindow Of(Window window)
    {
        ArgumentNullException.ThrowIfNull(window);
        return new IndicatorWindow(window.Label, window.FirstDay, window.EndDay);
    }

    public override string ToString() => Label;
}
