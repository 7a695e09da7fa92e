using FactoryGateway.Evidence.Ledger;
using FactoryGateway.Testing;

namespace FactoryGateway.Evidence.Tests;

public sealed class RegisterShiftCalendarsTests : IDisposable
{
    private const string Enterprise = EvidenceTest.Enterprise;
    private const string Other = EvidenceTest.OtherEnterprise;

    private readonly TempDirectory _directory = new("register-calendars");
    private readonly ManualTimeProvider _time = new(EvidenceTest.Start);
    private readonly EvidenceStore _store;

    public RegisterShiftCalendarsTests()
    {
        _store = EvidenceTest.Open(_directory, _time);
    }

    public void Dispose()
    {
        _store.Dispose();
        _directory.Dispose();
    }

    [Fact]
    public void An_enterprise_outside_the_register_gets_the_ledger_default()
    {
        RegisterShiftCalendars calendars = _store.Register.ShiftCalendars;
        bool[] expected = new bool[ShiftCalendar.MinutesPerDay];
        bool[] actual = new bool[ShiftCalendar.MinutesPerDay];

        for (DateOnly day = new(2026, 7, 1); day < new DateOnly(2026, 7, 15); day = day.AddDays(1))
        {
            DefaultShiftCalendar.Instance.GetShiftMinutes(Enterprise, day, expected);
            calendars.GetShiftMinutes(Enterprise, day, actual);
            Assert.Equal(expected, actual);
        }

        Assert.Equal(DefaultShiftCalendar.Instance.OffsetMinutes(Enterprise), calendars.OffsetMinutes(Enterprise));
    }

    [Fact]
    public void The_register_calendar_and_zone_are_used_and_a_change_is_seen_within_the_cache_lifetime()
    {
        Assert.True(_store.Register.ImportJson(RegisterSamples.JsonBytes, "register.json").Succeeded);
        _store.Register.UpsertEnterprise(_store.Register.GetEnterprise(Other)! with { TimeZone = "UTC" });
        RegisterShiftCalendars calendars = _store.Register.ShiftCalendars;
        bool[] minutes = new bool[ShiftCalendar.MinutesPerDay];

        calendars.GetShiftMinutes(Enterprise, new DateOnly(2026, 8, 16), minutes); // the extra Sunday, 08:00-12:00 and 13:00-17:00
        Assert.Equal(480, minutes.Count(m => m));
        Assert.True(minutes[8 * 60]);
        Assert.False(minutes[12 * 60]);
        calendars.GetShiftMinutes(Enterprise, new DateOnly(2026, 8, 14), minutes); // planned downtime
        Assert.DoesNotContain(true, minutes);
        Assert.Equal(0, calendars.OffsetMinutes(Other));
        Assert.Equal(480, calendars.OffsetMinutes(Enterprise));

        _store.Register.SetCalendar(Enterprise, ShiftCalendar.Default);
        calendars.GetShiftMinutes(Enterprise, new DateOnly(2026, 8, 16), minutes);
        Assert.Equal(480, minutes.Count(m => m)); // cached, within the documented bound
        _time.Advance(RegisterShiftCalendars.CacheLifetime);
        calendars.GetShiftMinutes(Enterprise, new DateOnly(2026, 8, 16), minutes);
        Assert.DoesNotContain(true, minutes); // an ordinary Sunday now
    }
}
