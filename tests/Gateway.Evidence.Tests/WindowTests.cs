namespace FactoryGateway.Evidence.Tests;

public sealed class WindowTests
{
    [Fact]
    public void A_month_is_local_midnight_to_local_midnight_in_China_Standard_Time()
    {
        Window july = Window.Parse("2026-07");

        Assert.Equal(WindowKind.Month, july.Kind);
        Assert.Equal("2026-07", july.Label);
        Assert.Equal(new DateOnly(2026, 7, 1), july.FirstDay);
        Assert.Equal(new DateOnly(2026, 8, 1), july.EndDay);
        Assert.Equal(1_782_835_200_000_000_000, july.StartUnixNanoseconds); // 2026-06-30T16:00:00Z
        Assert.Equal(1_785_513_600_000_000_000, july.EndUnixNanoseconds);
        Assert.Equal(31, july.DayCount);
        Assert.Equal(["2026-07"], july.Months);
    }

    [Fact]
    public void A_quarter_and_a_year_cover_their_months()
    {
        Window q3 = Window.Parse("2026Q3");
        Window year = Window.Parse("2026");

        Assert.Equal(1_782_835_200_000_000_000, q3.StartUnixNanoseconds);
        Assert.Equal(1_790_784_000_000_000_000, q3.EndUnixNanoseconds); // 2026-10-01T00:00+08:00
        Assert.Equal(["2026-07", "2026-08", "2026-09"], q3.Months);
        Assert.Equal(92, q3.DayCount);
        Assert.Equal(1_767_196_800_000_000_000, year.StartUnixNanoseconds);
        Assert.Equal(1_798_732_800_000_000_000, year.EndUnixNanoseconds);
        Assert.Equal(12, year.Months.Count);
        Assert.Equal("2026Q3", Window.ForQuarter(2026, 3).Label);
        Assert.Equal(q3, Window.ForQuarter(2026, 3));
    }

    [Theory]
    [InlineData("2026-07", 0)]
    [InlineData("2026Q4", 360)]
    [InlineData("2027", -300)]
    public void Bounds_agree_with_DateTimeOffset_for_any_fixed_offset(string label, int offsetMinutes)
    {
        Window window = Window.Parse(label, offsetMinutes);
        TimeSpan offset = TimeSpan.FromMinutes(offsetMinutes);

        long expectedStart = new DateTimeOffset(window.FirstDay.ToDateTime(TimeOnly.MinValue), offset).ToUnixTimeSeconds() * 1_000_000_000;
        long expectedEnd = new DateTimeOffset(window.EndDay.ToDateTime(TimeOnly.MinValue), offset).ToUnixTimeSeconds() * 1_000_000_000;
        Assert.Equal(expectedStart, window.StartUnixNanoseconds);
        Assert.Equal(expectedEnd, window.EndUnixNanoseconds);
        Assert.Equal(label, window.Label);
    }

    [Theory]
    [InlineData("2026-13")]
    [InlineData("2026-00")]
    [InlineData("2026Q5")]
    [InlineData("2026q3")]
    [InlineData("26Q3")]
    [InlineData("2026-7")]
    [InlineData("")]
    public void Anything_else_is_not_a_window(string label)
    {
        Assert.False(Window.TryParse(label, 480, out _));
        FormatException error = Assert.Throws<FormatException>(() => Window.Parse(label));
        Assert.Equal($"\"{label}\" is not a window: write a month 2026-07, a quarter 2026Q3 or a year 2026.", error.Message);
    }

    [Fact]
    public void Days_and_instants_of_a_window()
    {
        Window july = Window.Parse("2026-07");

        Assert.Equal(31, july.Days.Count());
        Assert.Equal(new DateOnly(2026, 7, 31), july.Days.Last());
        Assert.True(july.ContainsInstant(july.StartUnixNanoseconds));
        Assert.False(july.ContainsInstant(july.EndUnixNanoseconds));
        Assert.False(july.ContainsInstant(july.StartUnixNanoseconds - 1));
    }

    [Theory]
    [InlineData("2026-01-01", null, 92, true)]     // active all of Q3
    [InlineData("2026-08-20", null, 42, true)]     // enters on 20 August: 12 + 30 days
    [InlineData("2025-01-01", "2026-07-01", 1, true)] // retired on the first day: that day counts
    [InlineData("2025-01-01", "2026-06-30", 0, false)]
    [InlineData("2026-10-01", null, 0, false)]     // commissioned after the window
    public void A_device_is_active_from_commissioning_to_retirement(string commissioned, string? retired, int days, bool active)
    {
        var device = new RegisteredDevice
        {
            Device = "cnc-01",
            ProductInstanceUri = "urn:x",
            Class = DeviceClass.CncMachineTool,
            Commissioned = DateOnly.Parse(commissioned, System.Globalization.CultureInfo.InvariantCulture),
            Retired = retired is null ? null : DateOnly.Parse(retired, System.Globalization.CultureInfo.InvariantCulture),
        };
        Window q3 = Window.Parse("2026Q3");

        Assert.Equal(days, device.ActiveDays(q3));
        Assert.Equal(active, device.IsActiveIn(q3));
    }

    [Fact]
    public void WithOffset_keeps_the_calendar_window_and_moves_the_instant()
    {
        Window shanghai = Window.Parse("2026Q3");
        Window utc = shanghai.WithOffset(0);

        Assert.Equal(shanghai.FirstDay, utc.FirstDay);
        Assert.Equal(shanghai.StartUnixNanoseconds + (8 * 3_600_000_000_000L), utc.StartUnixNanoseconds);
    }
}
