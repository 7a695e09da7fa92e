namespace FactoryGateway.Evidence.Ledger;

/// <summary>
/// Where the accumulator learns an enterprise's time zone and scheduled shift minutes (the register's
/// shift calendar, spec §1). Implementations must be thread-safe and fast: they are asked once per
/// enterprise-day when rows are computed.
/// </summary>
public interface IShiftCalendarSource
{
    /// <summary>The enterprise's offset from UTC in minutes (no daylight saving in the supported zones).</summary>
    int OffsetMinutes(string enterprise);

    /// <summary>Sets <paramref name="minutes"/>[m] for each of the 1,440 minutes of <paramref name="day"/> that is in a scheduled shift.</summary>
    void GetShiftMinutes(string enterprise, DateOnly day, Span<bool> minutes);
}

/// <summary>
/// The default calendar of spec §1 for every enterprise: Asia/Shanghai (UTC+8), Monday to Friday
/// 08:00–20:00 (720 minutes), no planned downtime.
/// </summary>
public sealed class DefaultShiftCalendar : IShiftCalendarSource
{
    public static DefaultShiftCalendar Instance { get; } = new();

    public int OffsetMinutes(string enterprise) => LocalDays.DefaultOffsetMinutes;

    public void GetShiftMinutes(string enterprise, DateOnly day, Span<bool> minutes)
    {
        if (minutes.Length != MinuteStates.MinutesPerDay)
        {
            throw new ArgumentException($"the span must hold {MinuteStates.MinutesPerDay} minutes.", nameof(minutes));
        }

        minutes.Clear();
        if (day.DayOfWeek is not (DayOfWeek.Saturday or DayOfWeek.Sunday))
        {
            minutes[(8 * 60)..(20 * 60)].Fill(true);
        }
    }
}
