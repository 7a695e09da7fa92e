using System.Buffers;
using System.Globalization;
using System.Text;
using FactoryGateway.Evidence;
using FactoryGateway.Evidence.Ledger;
using FactoryGateway.Metrics.Indicators;
using FactoryGateway.Telemetry.LineProtocol;

namespace FactoryGateway.Metrics.Tests.Indicators;

/// <summary>
/// Hand-computed indicators (spec §3–§4) for one enterprise over 2026Q3: 92 days, 66 scheduled weekdays
/// (Mon–Fri 08:00–20:00, Asia/Shanghai). The ledger rows come from real accumulation of telemetry lines.
/// </summary>
/// <remarks>
/// Devices (every one in a key process unless said otherwise):
/// <list type="bullet">
/// <item>cnc-1: NC machine tool, runs 08:00–16:00 on every scheduled day with parts → networked, in service.</item>
/// <item>cnc-2: NC machine tool, reports only on the first 40 scheduled days (61% &lt; 80%) → not networked, but
/// in service (≥ 50% reporting, 320 h run, 40 output days).</item>
/// <item>cnc-3: NC machine tool commissioned 2026-08-16: active 46 of 92 days (weight 0.5); runs every scheduled
/// day from then → networked, in service.</item>
/// <item>manual-1: conventional lathe with a sensor retrofit (project R1): connection heartbeats only →
/// flagged heartbeat_only, not networked.</item>
/// <item>robot-1: 6-axis robot (not a key process) with cycles every scheduled day → in service.</item>
/// <item>robot-2: 6-axis robot (not a key process), registered, no data → not in service.</item>
/// </list>
/// </remarks>
public sealed class IndicatorCalculatorTests
{
    private const string Ent = "91330402MA2B3C4D53";
    private const long Second = 1_000_000_000;

    private static readonly Lazy<(RegisterView Register, IReadOnlyList<LedgerDay> Rows, IReadOnlyList<LedgerRoot> Roots)> s_quarter = new(BuildQuarter);

    [Fact]
    public void Device_status_follows_spec_section_3()
    {
        IndicatorReport report = Compute();
        DeviceEvaluation cnc1 = Device(report, "cnc-1");
        Assert.Equal((1m, 66, 66, true, true), (cnc1.Weight, cnc1.ScheduledDays, cnc1.ReportingDays, cnc1.IsNetworked, cnc1.IsInService));
        Assert.Equal(66 * 8 * 3600m, cnc1.RunSeconds);

        DeviceEvaluation cnc2 = Device(report, "cnc-2");
        Assert.Equal((40, false, true), (cnc2.ReportingDays, cnc2.IsNetworked, cnc2.IsInService));
        Assert.Equal("40 of 66 scheduled day(s) reporting (needs 80%)", cnc2.NotNetworkedReason);

        DeviceEvaluation cnc3 = Device(report, "cnc-3");
        Assert.Equal((0.5m, 33, 33, true, true), (cnc3.Weight, cnc3.ScheduledDays, cnc3.ReportingDays, cnc3.IsNetworked, cnc3.IsInService));

        DeviceEvaluation manual = Device(report, "manual-1");
        Assert.Equal(IntegrityCheck.HeartbeatOnly, Assert.Single(manual.Flags).Flag);
        Assert.Equal((false, false), (manual.IsNetworked, manual.IsInService));

        DeviceEvaluation robot2 = Device(report, "robot-2");
        Assert.Equal("0 of 66 scheduled day(s) reporting (needs 80%)", robot2.NotNetworkedReason);
        Assert.Equal("not networked and 0 of 66 scheduled day(s) reporting (needs 50%)", robot2.NotInServiceReason);
    }

    [Theory]
    [InlineData("digital_networked_ratio", "2.5", "4.5", "0.555556")]    // cnc-1 + cnc-3 (½) + robot-1 of cnc-1, cnc-2, cnc-3 (½), robot-1, robot-2
    [InlineData("production_networked_ratio", "2.5", "5.5", "0.454545")] // the same over production devices: manual-1 joins the denominator
    [InlineData("equipment_digital_ratio", "4.5", "5.5", "0.818182")]    // every production device but manual-1 is digital
    [InlineData("key_process_nc_ratio", "2.5", "3.5", "0.714286")]       // cnc-1, cnc-2, cnc-3 (½) of them + manual-1
    [InlineData("equipment_nc_ratio", "3.5", "5.5", "0.636364")]         // + robot-1 in service
    [InlineData("robots_in_service", "1", "2", "1")]
    [InlineData("robots_registered", "2", "2", "2")]
    [InlineData("robot_density", "1", "100", "100")]                     // 1 robot ÷ 100 employees × 10,000
    [InlineData("retrofitted_devices", "0", "1", "0")]                   // manual-1 is flagged
    public void Indicators_equal_the_hand_computed_values(string id, string numerator, string denominator, string value)
    {
        IndicatorValue indicator = Assert.Single(Compute().Indicators, i => i.Id == id);
        Assert.Equal(decimal.Parse(numerator, CultureInfo.InvariantCulture), indicator.Numerator);
        Assert.Equal(decimal.Parse(denominator, CultureInfo.InvariantCulture), indicator.Denominator);
        Assert.Equal(decimal.Parse(value, CultureInfo.InvariantCulture), indicator.Value);
        Assert.Equal("fg-2026.1", indicator.FormulaSet);
        Assert.Equal("2026Q3", indicator.Window);
        Assert.Equal("register-hash", indicator.RegisterHash);
        Assert.False(indicator.Provisional);
        Assert.NotEmpty(indicator.LedgerRoots);
    }

    [Fact]
    public void Excluded_devices_carry_their_reason()
    {
        IndicatorValue ratio = Assert.Single(Compute().Indicators, i => i.Id == "key_process_nc_ratio");
        Assert.Equal([$"{Ent}/cnc-1", $"{Ent}/cnc-2", $"{Ent}/cnc-3"], ratio.Counted);
        ExcludedDevice manual = Assert.Single(ratio.Excluded);
        Assert.Equal(("manual-1", "not NC"), (manual.Device, manual.Reason));
    }

    [Fact]
    public void Work_share_cycle_time_and_utilization_are_ratios_of_sums()
    {
        IndicatorReport report = Compute();
        // Key-process run time: cnc-1 66 days, cnc-2 40 days, cnc-3 33 days, 8 h each; manual-1 has none.
        IndicatorValue share = Assert.Single(report.Indicators, i => i.Id == "key_process_nc_work_share");
        Assert.Equal(1m, share.Value);
        Assert.Equal((66 + 40 + 33) * 8 * 3600m, share.Numerator);
        // Parts: one every 2 minutes of run, 240 a day, except that a device's very first count has no
        // predecessor to be a delta of: 139 machine-days × 240 − 3 parts in 139 × 8 h.
        IndicatorValue cycle = Assert.Single(report.Indicators, i => i.Id == "cycle_time_s");
        Assert.Equal((139 * 8 * 3600m, 139 * 240 - 3m), (cycle.Numerator, cycle.Denominator));
        Assert.Equal(Math.Round(4_003_200m / 33_357m, 6), cycle.Value);
        // Utilization over production devices: run / scheduled seconds.
        IndicatorValue utilization = Assert.Single(report.Indicators, i => i.Id == "utilization");
        decimal run = (66 + 40 + 33 + 66) * 8 * 3600m;
        decimal scheduled = ((66 * 5) + 33) * 12 * 3600m; // five devices all quarter, cnc-3 from 2026-08-16 (33 days)
        Assert.Equal(run, utilization.Numerator);
        Assert.Equal(scheduled, utilization.Denominator);
    }

    [Fact]
    public void A_region_adds_numerators_and_denominators_of_its_enterprises()
    {
        (RegisterView register, IReadOnlyList<LedgerDay> rows, IReadOnlyList<LedgerRoot> roots) = s_quarter.Value;
        var calculator = new IndicatorCalculator(new IndicatorParameters(), DefaultShiftCalendar.Instance);
        IndicatorReport county = calculator.Compute(IndicatorScope.Region("330402"), IndicatorWindow.Parse("2026Q3"), register, rows, roots);
        IndicatorReport city = calculator.Compute(IndicatorScope.Region("330400"), IndicatorWindow.Parse("2026Q3"), register, rows, roots);
        IndicatorReport other = calculator.Compute(IndicatorScope.Region("330411"), IndicatorWindow.Parse("2026Q3"), register, rows, roots);
        Assert.Equal([Ent], county.Enterprises);
        Assert.Equal([Ent], city.Enterprises);
        Assert.Empty(other.Enterprises);
        Assert.Equal(0.714286m, Assert.Single(city.Indicators, i => i.Id == "key_process_nc_ratio").Value);
        Assert.Null(Assert.Single(other.Indicators, i => i.Id == "key_process_nc_ratio").Value);
    }

    [Fact]
    public void Computing_a_quarter_twice_gives_identical_results()
    {
        string first = Describe(Compute());
        string second = Describe(Compute());
        Assert.Equal(first, second);
    }

    private static string Describe(IndicatorReport report) => string.Join('\n', report.Indicators.Select(i =>
        $"{i.Id}|{i.Numerator}|{i.Denominator}|{i.Value}|{string.Join(',', i.Counted)}|{string.Join(',', i.Excluded)}|{string.Join(',', i.LedgerRoots)}"));

    internal static IndicatorReport Compute()
    {
        (RegisterView register, IReadOnlyList<LedgerDay> rows, IReadOnlyList<LedgerRoot> roots) = s_quarter.Value;
        return new IndicatorCalculator(new IndicatorParameters(), DefaultShiftCalendar.Instance)
            .Compute(IndicatorScope.Enterprise(Ent), IndicatorWindow.Parse("2026Q3"), register, rows, roots);
    }

    private static DeviceEvaluation Device(IndicatorReport report, string device) => Assert.Single(report.Devices, d => d.Device.Device == device);

    private static (RegisterView, IReadOnlyList<LedgerDay>, IReadOnlyList<LedgerRoot>) BuildQuarter()
    {
        var robotCommissioned = new DateOnly(2024, 1, 1);
        IndicatorDevice[] devices =
        [
            new() { Enterprise = Ent, Device = "cnc-1", Class = DeviceClass.CncMachineTool, Production = true, Digital = true, Nc = true, KeyProcess = true },
            new() { Enterprise = Ent, Device = "cnc-2", Class = DeviceClass.CncMachineTool, Production = true, Digital = true, Nc = true, KeyProcess = true },
            new() { Enterprise = Ent, Device = "cnc-3", Class = DeviceClass.CncMachineTool, Production = true, Digital = true, Nc = true, KeyProcess = true, Commissioned = new DateOnly(2026, 8, 16) },
            new() { Enterprise = Ent, Device = "manual-1", Class = DeviceClass.Conventional, Production = true, KeyProcess = true, RetrofitProject = "R1" },
            new() { Enterprise = Ent, Device = "robot-1", Class = DeviceClass.IndustrialRobot, Production = true, Digital = true, Nc = true, RobotAxes = 6, Commissioned = robotCommissioned },
            new() { Enterprise = Ent, Device = "robot-2", Class = DeviceClass.IndustrialRobot, Production = true, Digital = true, Nc = true, RobotAxes = 6, Commissioned = robotCommissioned },
        ];
        var enterprise = new IndicatorEnterprise
        {
            Code = Ent,
            Region = "330402",
            Employees = new Dictionary<DateOnly, decimal> { [new(2026, 7, 1)] = 100, [new(2026, 8, 1)] = 100, [new(2026, 9, 1)] = 100 },
        };

        using var reader = new LineProtocolReader(new LineProtocolLimits());
        var evidence = new EvidenceAccumulation(new LedgerParameters(), DefaultShiftCalendar.Instance);
        int scheduledDay = 0;
        var parts = new Dictionary<string, long>();
        for (DateOnly day = new(2026, 7, 1); day < new DateOnly(2026, 10, 1); day = day.AddDays(1))
        {
            if (day.DayOfWeek is DayOfWeek.Saturday or DayOfWeek.Sunday)
            {
                continue;
            }

            scheduledDay++;
            var body = new StringBuilder();
            long eight = LocalDays.StartOf(LocalDays.DayOf(day), LocalDays.DefaultOffsetMinutes) + (8 * 3600 * Second);
            for (int slot = 0; slot < 360; slot++) // every 2 minutes, 08:00–19:58
            {
                long t = eight + (slot * 120 * Second);
                bool running = slot < 240; // 08:00–16:00
                Machine("cnc-1");
                if (scheduledDay <= 40)
                {
                    Machine("cnc-2");
                }

                if (day >= new DateOnly(2026, 8, 16))
                {
                    Machine("cnc-3");
                }

                body.Append(CultureInfo.InvariantCulture, $"connection,ent={Ent},dev=manual-1 up=true {t}\n");
                long cycles = parts["robot-1"] = parts.GetValueOrDefault("robot-1") + (running ? 1 : 0);
                body.Append(CultureInfo.InvariantCulture, $"telemetry,ent={Ent},dev=robot-1 state={(running ? 4 : 3)}i,cycles={cycles}i {t}\n");

                void Machine(string device)
                {
                    long count = parts[device] = parts.GetValueOrDefault(device) + (running ? 1 : 0);
                    body.Append(CultureInfo.InvariantCulture, $"telemetry,ent={Ent},dev={device} state={(running ? 4 : 3)}i,parts_total={count}i {t}\n");
                }
            }

            evidence.Apply(new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes(body.ToString())), eight + (12 * 3600 * Second), reader);
        }

        evidence.AdvanceWatermark(LocalDays.StartOf(LocalDays.DayOf(new DateOnly(2026, 10, 10)), LocalDays.DefaultOffsetMinutes));
        LedgerChanges changes = evidence.TakeChanges();
        return (new RegisterView([enterprise], devices, "register-hash"), [.. changes.Rows.Select(LedgerDay.From)], changes.Roots);
    }
}
