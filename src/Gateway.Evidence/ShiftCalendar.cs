using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;

namespace FactoryGateway.Evidence;

/// <summary>One shift of a local day: [<see cref="StartMinute"/>, <see cref="EndMinute"/>) in minutes after local midnight.</summary>
public readonly record struct ShiftSpan
{
    /// <summary>Creates a span; 0 ≤ start &lt; end ≤ 1440.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The span is empty or leaves the day.</exception>
    public ShiftSpan(int startMinute, int endMinute)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(startMinute);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(endMinute, ShiftCalendar.MinutesPerDay);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(endMinute, startMinute);
        StartMinute = startMinute;
        EndMinute = endMinute;
    }

    /// <summary>Minutes after local midnight when the shift starts.</summary>
    public int StartMinute { get; }

    /// <summary>Minutes after local midnight when the shift ends (exclusive; 1440 = midnight at the end of the day).</summary>
    public int EndMinute { get; }

    /// <summary>The shift's length in minutes.</summary>
    public int Minutes => EndMinute - StartMinute;

    /// <inheritdoc />
    public override string ToString() => string.Create(
        CultureInfo.InvariantCulture,
        $"{StartMinute / 60:D2}:{StartMinute % 60:D2}-{EndMinute / 60:D2}:{EndMinute % 60:D2}");
}

/// <summary>What a per-date entry of a <see cref="ShiftCalendar"/> declares.</summary>
public enum CalendarDayKind
{
    /// <summary>A declared planned-downtime day: no production, 0 scheduled minutes.</summary>
    PlannedDowntime,

    /// <summary>An extra production day (or a day with different shifts): its own shifts replace the week's.</summary>
    ExtraProduction,
}

/// <summary>A per-date override of the weekly pattern.</summary>
public sealed record CalendarDay
{
    /// <summary>The local date.</summary>
    public required DateOnly Date { get; init; }

    /// <summary>Planned downtime or extra production.</summary>
    public required CalendarDayKind Kind { get; init; }

    /// <summary>The day's shifts: empty for planned downtime; for extra production at least one.</summary>
    public required IReadOnlyList<ShiftSpan> Shifts { get; init; }

    /// <summary>Why (free text, optional).</summary>
    public string? Note { get; init; }

    /// <summary>True when every field equals <paramref name="other"/>'s (shift lists compared element by element).</summary>
    public bool Equals(CalendarDay? other) =>
        other is not null && Date == other.Date && Kind == other.Kind && Shifts.SequenceEqual(other.Shifts) && string.Equals(Note, other.Note, StringComparison.Ordinal);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Date, Kind, Shifts.Count, Note);
}

/// <summary>
/// An enterprise's shift calendar (indicator spec §1): a weekly pattern of shifts per weekday, overridden on
/// given dates by declared planned-downtime days and extra production days. Immutable.
/// </summary>
public sealed class ShiftCalendar : IEquatable<ShiftCalendar>
{
    /// <summary>Minutes in a local day (fixed-offset zones have no 23- or 25-hour days).</summary>
    public const int MinutesPerDay = 1440;

    private readonly IReadOnlyList<ShiftSpan>[] _week;
    private readonly SortedDictionary<DateOnly, CalendarDay> _days;

    /// <summary>Creates a calendar from the shifts of each weekday (indexed by <see cref="DayOfWeek"/>) and the per-date overrides.</summary>
    /// <exception cref="ArgumentException">A weekday's shifts overlap or are unordered, a date repeats, or an override is inconsistent.</exception>
    public ShiftCalendar(IReadOnlyDictionary<DayOfWeek, IReadOnlyList<ShiftSpan>> week, IEnumerable<CalendarDay> days)
    {
        ArgumentNullException.ThrowIfNull(week);
        ArgumentNullException.ThrowIfNull(days);
        _week = new IReadOnlyList<ShiftSpan>[7];
        for (int d = 0; d < 7; d++)
        {
            IReadOnlyList<ShiftSpan> shifts = week.TryGetValue((DayOfWeek)d, out IReadOnlyList<ShiftSpan>? given) ? given : [];
            if (!TryCheckOrdered(shifts, out string reason))
            {
                throw new ArgumentException($"{(DayOfWeek)d}: {reason}", nameof(week));
            }

            _week[d] = [.. shifts];
        }

        _days = [];
        foreach (CalendarDay day in days)
        {
            if (!TryCheckDay(day, out string reason))
            {
                throw new ArgumentException($"{day.Date:yyyy-MM-dd}: {reason}", nameof(days));
            }

            if (!_days.TryAdd(day.Date, day))
            {
                throw new ArgumentException($"{day.Date:yyyy-MM-dd} is given twice.", nameof(days));
            }
        }
    }

    /// <summary>The default calendar of spec §1: Monday to Friday 08:00–20:00 (720 min), no overrides.</summary>
    public static ShiftCalendar Default { get; } = new(DefaultWeek, []);

    /// <summary>The default weekly pattern: Monday to Friday 08:00–20:00.</summary>
    public static IReadOnlyDictionary<DayOfWeek, IReadOnlyList<ShiftSpan>> DefaultWeek => new Dictionary<DayOfWeek, IReadOnlyList<ShiftSpan>>
    {
        [DayOfWeek.Monday] = [DefaultShift],
        [DayOfWeek.Tuesday] = [DefaultShift],
        [DayOfWeek.Wednesday] = [DefaultShift],
        [DayOfWeek.Thursday] = [DefaultShift],
        [DayOfWeek.Friday] = [DefaultShift],
    };

    /// <summary>08:00–20:00, the default production shift and the default of an extra production day.</summary>
    public static ShiftSpan DefaultShift => new(8 * 60, 20 * 60);

    /// <summary>The per-date overrides, in date order.</summary>
    public IReadOnlyCollection<CalendarDay> Days => _days.Values;

    /// <summary>The weekly shifts of <paramref name="day"/>.</summary>
    public IReadOnlyList<ShiftSpan> WeekShifts(DayOfWeek day) => _week[(int)day];

    /// <summary>The shifts on local date <paramref name="date"/>: the override's when there is one, else the weekday's.</summary>
    public IReadOnlyList<ShiftSpan> ShiftsOn(DateOnly date) =>
        _days.TryGetValue(date, out CalendarDay? day) ? day.Shifts : _week[(int)date.DayOfWeek];

    /// <summary>Scheduled shift minutes on local date <paramref name="date"/>; 0 on a non-production day.</summary>
    public int ScheduledMinutes(DateOnly date)
    {
        int minutes = 0;
        foreach (ShiftSpan shift in ShiftsOn(date))
        {
            minutes += shift.Minutes;
        }

        return minutes;
    }

    /// <summary>Sets <paramref name="minutes"/>[m] for each minute m of local <paramref name="date"/> inside a shift, clears the others.</summary>
    /// <exception cref="ArgumentException"><paramref name="minutes"/> does not hold <see cref="MinutesPerDay"/> entries.</exception>
    public void GetShiftMinutes(DateOnly date, Span<bool> minutes)
    {
        if (minutes.Length != MinutesPerDay)
        {
            throw new ArgumentException($"the span must hold {MinutesPerDay} minutes (was {minutes.Length}).", nameof(minutes));
        }

        minutes.Clear();
        foreach (ShiftSpan shift in ShiftsOn(date))
        {
            minutes[shift.StartMinute..shift.EndMinute].Fill(true);
        }
    }

    /// <summary>True when <paramref name="date"/> is a scheduled production day (at least one shift minute).</summary>
    public bool IsScheduled(DateOnly date) => ScheduledMinutes(date) > 0;

    /// <summary>True when <paramref name="date"/> is a declared planned-downtime day.</summary>
    public bool IsPlannedDowntime(DateOnly date) => _days.TryGetValue(date, out CalendarDay? day) && day.Kind == CalendarDayKind.PlannedDowntime;

    /// <summary>The calendar with only the overrides dated inside <paramref name="window"/>.</summary>
    public ShiftCalendar Within(Window window)
    {
        ArgumentNullException.ThrowIfNull(window);
        return new ShiftCalendar(WeekDictionary(), _days.Values.Where(d => window.Contains(d.Date)));
    }

    /// <summary>True when the week and the overrides are the same.</summary>
    public bool Equals(ShiftCalendar? other)
    {
        if (other is null)
        {
            return false;
        }

        for (int d = 0; d < 7; d++)
        {
            if (!_week[d].SequenceEqual(other._week[d]))
            {
                return false;
            }
        }

        return _days.Values.SequenceEqual(other._days.Values);
    }

    /// <inheritdoc />
    public override bool Equals(object? obj) => Equals(obj as ShiftCalendar);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(_days.Count, ScheduledMinutes(new DateOnly(2026, 1, 5)));

    /// <summary>Parses shifts written <c>08:00-12:00,13:00-20:00</c> (empty = no shift); the minutes may reach 24:00.</summary>
    public static bool TryParseShifts(string text, [NotNullWhen(true)] out IReadOnlyList<ShiftSpan>? shifts, out string reason)
    {
        ArgumentNullException.ThrowIfNull(text);
        shifts = null;
        var list = new List<ShiftSpan>();
        if (text.Length > 0)
        {
            foreach (string part in text.Split(','))
            {
                int dash = part.IndexOf('-', StringComparison.Ordinal);
                if (dash < 0 || !TryParseClock(part[..dash], out int start) || !TryParseClock(part[(dash + 1)..], out int end))
                {
                    reason = $"\"{part}\" is not a shift (HH:MM-HH:MM, several separated by commas)";
                    return false;
                }

                if (end <= start)
                {
                    reason = $"shift \"{part}\" ends before it starts (a night shift is written as two shifts, to 24:00 and from 00:00 the next day)";
                    return false;
                }

                list.Add(new ShiftSpan(start, end));
            }
        }

        if (!TryCheckOrdered(list, out reason))
        {
            return false;
        }

        shifts = list;
        return true;
    }

    /// <summary>Writes shifts as <see cref="TryParseShifts"/> reads them.</summary>
    public static string FormatShifts(IReadOnlyList<ShiftSpan> shifts)
    {
        ArgumentNullException.ThrowIfNull(shifts);
        var text = new StringBuilder();
        foreach (ShiftSpan shift in shifts)
        {
            text.Append(text.Length == 0 ? "" : ",").Append(shift.ToString());
        }

        return text.ToString();
    }

    internal static bool TryCheckDay(CalendarDay day, out string reason)
    {
        if (day.Kind == CalendarDayKind.PlannedDowntime && day.Shifts.Count != 0)
        {
            reason = "a planned-downtime day has no shifts";
            return false;
        }

        if (day.Kind == CalendarDayKind.ExtraProduction && day.Shifts.Count == 0)
        {
            reason = "an extra production day needs at least one shift";
            return false;
        }

        return TryCheckOrdered(day.Shifts, out reason);
    }

    internal Dictionary<DayOfWeek, IReadOnlyList<ShiftSpan>> WeekDictionary()
    {
        var week = new Dictionary<DayOfWeek, IReadOnlyList<ShiftSpan>>();
        for (int d = 0; d < 7; d++)
        {
            week[(DayOfWeek)d] = _week[d];
        }

        return week;
    }

    private static bool TryCheckOrdered(IReadOnlyList<ShiftSpan> shifts, out string reason)
    {
        for (int i = 1; i < shifts.Count; i++)
        {
            if (shifts[i].StartMinute < shifts[i - 1].EndMinute)
            {
                reason = $"shift {shifts[i]} starts before the shift {shifts[i - 1]} before it ends (list shifts in order, without overlap)";
                return false;
            }
        }

        reason = string.Empty;
        return true;
    }

    private static bool TryParseClock(string text, out int minutes)
    {
        minutes = 0;
        if (text.Length != 5 || text[2] != ':' || !char.IsAsciiDigit(text[0]) || !char.IsAsciiDigit(text[1])
            || !char.IsAsciiDigit(text[3]) || !char.IsAsciiDigit(text[4]))
        {
            return false;
        }

        int hours = ((text[0] - '0') * 10) + (text[1] - '0');
        int mins = ((text[3] - '0') * 10) + (text[4] - '0');
        if (mins > 59 || hours > 24 || (hours == 24 && mins != 0))
        {
            return false;
        }

        minutes = (hours * 60) + mins;
        return true;
    }
}
