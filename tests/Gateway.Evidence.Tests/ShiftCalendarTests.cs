namespace FactoryGateway.Evidence.Tests;

public sealed class ShiftCalendarTests
{
    private static readonly DateOnly s_wednesday = new(2026, 7, 1);
    private static readonly DateOnly s_saturday = new(2026, 7, 4);
    private static readonly DateOnly s_sunday = new(2026, 7, 5);

    [Fact]
    public void The_default_calendar_is_Monday_to_Friday_720_minutes()
    {
        ShiftCalendar calendar = ShiftCalendar.Default;

        Assert.Equal(720, calendar.ScheduledMinutes(s_wednesday));
        Assert.Equal(0, calendar.ScheduledMinutes(s_saturday));
        Assert.Equal(0, calendar.ScheduledMinutes(s_sunday));
        Assert.True(calendar.IsScheduled(s_wednesday));
        Assert.False(calendar.IsScheduled(s_sunday));
        Assert.Equal([new ShiftSpan(480, 1200)], calendar.ShiftsOn(s_wednesday));
    }

    [Fact]
    public void A_downtime_day_has_no_minutes_and_an_extra_day_has_its_shifts()
    {
        var calendar = new ShiftCalendar(ShiftCalendar.DefaultWeek,
        [
            new CalendarDay { Date = s_wednesday, Kind = CalendarDayKind.PlannedDowntime, Shifts = [], Note = "maintenance" },
            new CalendarDay { Date = s_saturday, Kind = CalendarDayKind.ExtraProduction, Shifts = [new ShiftSpan(480, 720), new ShiftSpan(780, 1020)] },
        ]);

        Assert.Equal(0, calendar.ScheduledMinutes(s_wednesday));
        Assert.True(calendar.IsPlannedDowntime(s_wednesday));
        Assert.Equal(480, calendar.ScheduledMinutes(s_saturday));
        Assert.False(calendar.IsPlannedDowntime(s_saturday));
        Assert.Equal(720, calendar.ScheduledMinutes(s_wednesday.AddDays(1)));
        Assert.Equal(0, calendar.ScheduledMinutes(s_sunday));
    }

    [Fact]
    public void A_weekly_pattern_can_have_several_shifts_and_a_night_to_midnight()
    {
        Assert.True(ShiftCalendar.TryParseShifts("06:00-14:00,14:00-22:00,22:00-24:00", out IReadOnlyList<ShiftSpan>? shifts, out _));
        var calendar = new ShiftCalendar(new Dictionary<DayOfWeek, IReadOnlyList<ShiftSpan>> { [DayOfWeek.Saturday] = shifts }, []);

        Assert.Equal(1080, calendar.ScheduledMinutes(s_saturday));
        Assert.Equal(0, calendar.ScheduledMinutes(s_wednesday));
        Assert.Equal("06:00-14:00,14:00-22:00,22:00-24:00", ShiftCalendar.FormatShifts(shifts));
    }

    [Theory]
    [InlineData("20:00-08:00", "shift \"20:00-08:00\" ends before it starts (a night shift is written as two shifts, to 24:00 and from 00:00 the next day)")]
    [InlineData("8:00-20:00", "\"8:00-20:00\" is not a shift (HH:MM-HH:MM, several separated by commas)")]
    [InlineData("08:00-24:30", "\"08:00-24:30\" is not a shift (HH:MM-HH:MM, several separated by commas)")]
    [InlineData("08:00-12:00,11:00-20:00", "shift 11:00-20:00 starts before the shift 08:00-12:00 before it ends (list shifts in order, without overlap)")]
    public void Malformed_shifts_are_rejected_with_the_reason(string text, string reason)
    {
        Assert.False(ShiftCalendar.TryParseShifts(text, out _, out string actual));
        Assert.Equal(reason, actual);
    }

    [Fact]
    public void Within_keeps_only_the_overrides_of_the_window()
    {
        var calendar = new ShiftCalendar(ShiftCalendar.DefaultWeek,
        [
            new CalendarDay { Date = new DateOnly(2026, 6, 30), Kind = CalendarDayKind.PlannedDowntime, Shifts = [] },
            new CalendarDay { Date = s_wednesday, Kind = CalendarDayKind.PlannedDowntime, Shifts = [] },
        ]);

        ShiftCalendar july = calendar.Within(Window.Parse("2026-07"));

        Assert.Equal([s_wednesday], july.Days.Select(d => d.Date));
        Assert.Equal(0, july.ScheduledMinutes(s_wednesday));
    }
}
