using System.Buffers;
using System.Globalization;
using System.Text;
using FactoryGateway.Evidence;
using FactoryGateway.Evidence.Ledger;
using FactoryGateway.Metrics.Indicators;
using FactoryGateway.Telemetry.LineProtocol;
using FactoryGateway.Testing;
using Microsoft.Data.Sqlite;

namespace FactoryGateway.Metrics.Tests.Indicators;

/// <summary>
/// A window evaluated from the ledger's month rollups (<see cref="LedgerStore.ReadWindow"/>, in parallel) gives
/// exactly what evaluating it from the rows (<see cref="LedgerStore.ReadDays"/>) gives: every device
/// evaluation and every field of every indicator of every enterprise, county and city. The ledgers come from
/// real accumulation, saved checkpoint by checkpoint (rollups rewritten as days seal), with the quarter's last
/// days still open.
/// </summary>
public sealed class RollupEvaluationTests : IDisposable
{
    private const string EnterpriseA = "91330402MA2B3C4D53"; // 330402
    private const string EnterpriseB = "91330421MA2C3D4E5E"; // 330421
    private const string EnterpriseC = "91330501MA2D3E4F5G"; // 330501, another city
    private const long Second = 1_000_000_000;

    private static readonly DateOnly s_first = new(2026, 7, 1);
    private static readonly DateOnly s_end = new(2026, 10, 1);
    private static readonly DeviceClass[] s_classes = [DeviceClass.CncMachineTool, DeviceClass.IndustrialRobot, DeviceClass.PlcAutomated, DeviceClass.Conventional];

    private readonly TempDirectory _directory = new("rollups");

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        _directory.Dispose();
    }

    [Fact]
    public void A_demo_like_quarter_evaluates_identically_from_rollups_and_from_rows()
    {
        Spec[] devices =
        [
            new(EnterpriseA, "cnc-01", DeviceClass.CncMachineTool, Phase: 0),
            new(EnterpriseA, "cnc-02", DeviceClass.CncMachineTool, Phase: 3, Serial: "SN-02"),
            new(EnterpriseA, "cnc-03", DeviceClass.CncMachineTool, Phase: 5, Commissioned: new DateOnly(2026, 8, 16)), // enters mid-quarter
            new(EnterpriseA, "cnc-04", DeviceClass.CncMachineTool, Phase: 7, StopsAfter: new DateOnly(2026, 7, 31)),
            new(EnterpriseA, "cnc-05", DeviceClass.CncMachineTool, Phase: 9, HeartbeatOnly: true),
            new(EnterpriseA, "robot-01", DeviceClass.IndustrialRobot, Phase: 11, Weekends: true), // also works on days without a shift
            new(EnterpriseA, "plc-01", DeviceClass.PlcAutomated, Phase: 13),
            new(EnterpriseA, "manual-01", DeviceClass.Conventional, Phase: 0, HeartbeatOnly: true, Retrofit: "R1"),
            new(EnterpriseB, "cnc-11", DeviceClass.CncMachineTool, Phase: 1),
            new(EnterpriseB, "cnc-12", DeviceClass.CncMachineTool, Phase: 1, CopyOf: "cnc-11"), // a copy of cnc-11's stream: clone
            new(EnterpriseB, "cnc-13", DeviceClass.CncMachineTool, Phase: 1, CopyOf: "cnc-11", ShiftSeconds: 75), // a copy 75 s later: clone by correlation
            new(EnterpriseB, "robot-11", DeviceClass.IndustrialRobot, Phase: 4, Serial: "SN-02"), // cnc-02's serial: duplicate identity
            new(EnterpriseB, "robot-12", DeviceClass.IndustrialRobot, Phase: 6, Reports: false), // registered, never reports
            new(EnterpriseB, "ghost-01", DeviceClass.CncMachineTool, Phase: 0, Registered: false), // unregistered copy of cnc-01
        ];

        AssertIdentical(devices);
    }

    [Fact]
    public void A_synthetic_quarter_evaluates_identically_from_rollups_and_from_rows()
    {
        var random = new Random(20261122);
        string[] enterprises = [EnterpriseA, EnterpriseB, EnterpriseC];
        var devices = new List<Spec>();
        for (int i = 0; i < 12; i++)
        {
            DeviceClass kind = s_classes[random.Next(s_classes.Length)];
            devices.Add(new Spec(
                enterprises[random.Next(enterprises.Length)],
                string.Create(CultureInfo.InvariantCulture, $"d-{i:00}"),
                kind,
                Phase: random.Next(0, 1000),
                Commissioned: random.Next(4) == 0 ? s_first.AddDays(random.Next(1, 80)) : null,
                StopsAfter: random.Next(5) == 0 ? s_first.AddDays(random.Next(10, 90)) : null,
                HeartbeatOnly: random.Next(8) == 0,
                Weekends: random.Next(3) == 0,
                Serial: random.Next(4) == 0 ? "SN-" + random.Next(3).ToString(CultureInfo.InvariantCulture) : null,
                Registered: random.Next(10) != 0,
                Reports: random.Next(12) != 0));
        }

        // Two copies of reporting devices: a clone within an enterprise and one across enterprises.
        devices[3] = devices[3] with { Reports = true, HeartbeatOnly = false };
        devices[5] = devices[5] with { Reports = true, HeartbeatOnly = false };
        devices.Add(devices[3] with { Device = "copy-03", CopyOf = devices[3].Device });
        devices.Add(devices[5] with { Enterprise = EnterpriseC, Device = "copy-05", CopyOf = devices[5].Device });
        devices.Add(devices[3] with { Device = "late-03", CopyOf = devices[3].Device, ShiftSeconds = 100 });
        AssertIdentical([.. devices]);
    }

    private sealed record Spec(
        string Enterprise,
        string Device,
        DeviceClass Class,
        int Phase,
        DateOnly? Commissioned = null,
        DateOnly? StopsAfter = null,
        bool HeartbeatOnly = false,
        bool Weekends = false,
        string? Serial = null,
        string? CopyOf = null,
        string? Retrofit = null,
        bool Registered = true,
        bool Reports = true,
        int ShiftSeconds = 0);

    private void AssertIdentical(Spec[] specs)
    {
        using EvidenceStore store = EvidenceStore.Open(_directory.Path);
        Accumulate(store, specs);
        RegisterView register = Register(specs);
        var calculator = new IndicatorCalculator(new IndicatorParameters(), DefaultShiftCalendar.Instance);
        string[] counties = [.. register.Enterprises.Select(e => e.Region).Distinct()];
        IndicatorScope[] scopes =
        [
            .. register.Enterprises.Select(e => IndicatorScope.Enterprise(e.Code)),
            .. counties.Select(IndicatorScope.Region),
            .. counties.Select(c => c[..4] + "00").Distinct().Select(IndicatorScope.Region),
        ];

        foreach (string label in (string[])["2026Q3", "2026-08", "2026-09"])
        {
            var window = IndicatorWindow.Parse(label);
            IReadOnlyList<LedgerRoot> roots = store.Ledger.ReadRoots(null, window.FromDay, window.ToDay);
            WindowEvaluation fromRows = calculator.Evaluate(window, register, store.Ledger.ReadDays(window.FromDay, window.ToDay), roots);
            LedgerWindow ledger = store.Ledger.ReadWindow(window.FromDay, window.ToDay);
            WindowEvaluation fromRollups = calculator.Evaluate(window, register, ledger, roots);

            Assert.NotEmpty(ledger.Devices);
            Assert.Equal(fromRows.UnsealedEnterprises.Order(StringComparer.Ordinal), fromRollups.UnsealedEnterprises.Order(StringComparer.Ordinal));
            Assert.Equal(fromRows.Devices.Select(Describe), fromRollups.Devices.Select(Describe));
            foreach (IndicatorScope scope in scopes)
            {
                IndicatorReport rows = calculator.Compute(scope, fromRows);
                IndicatorReport rollups = calculator.Compute(scope, fromRollups);
                Assert.Equal(rows.Enterprises, rollups.Enterprises);
                Assert.Equal(rows.Devices.Select(Describe), rollups.Devices.Select(Describe));
                Assert.Equal(rows.Indicators.Select(Describe), rollups.Indicators.Select(Describe));
            }

            if (label == "2026Q3")
            {
                // The scenario shows what it is meant to: open days, a device entering mid-quarter, clones.
                Assert.NotEmpty(fromRows.UnsealedEnterprises);
                Assert.Contains(fromRollups.Devices, d => d.Weight is > 0 and < 1);
                Assert.Contains(fromRollups.Devices, d => d.Flags.Any(f => f.Flag == IntegrityCheck.Clone && f.Evidence.Contains("(digest)", StringComparison.Ordinal)));
                Assert.Contains(fromRollups.Devices, d => d.Flags.Any(f => f.Flag == IntegrityCheck.Clone && f.Evidence.Contains("(Pearson", StringComparison.Ordinal)));
                Assert.Contains(fromRollups.Devices, d => d.IsNetworked);
            }
        }
    }

    // Every spec'd device's telemetry every 2 minutes of the shift, day by day (arrival at the day's 20:00, so days seal as the quarter goes),
    // saved once a week: the month rollups are rewritten as their days seal.
    private static void Accumulate(EvidenceStore store, Spec[] specs)
    {
        using var reader = new LineProtocolReader(new LineProtocolLimits());
        var evidence = new EvidenceAccumulation(new LedgerParameters(), DefaultShiftCalendar.Instance);
        var counters = new Dictionary<string, long>(StringComparer.Ordinal);
        long position = 0;
        for (DateOnly day = s_first; day < s_end; day = day.AddDays(1))
        {
            bool weekend = day.DayOfWeek is DayOfWeek.Saturday or DayOfWeek.Sunday;
            var body = new StringBuilder();
            long midnight = LocalDays.StartOf(LocalDays.DayOf(day), LocalDays.DefaultOffsetMinutes);
            foreach (Spec spec in specs)
            {
                Spec source = spec.CopyOf is { } copied ? specs.First(s => s.Device == copied) : spec;
                if (!spec.Reports || (weekend && !source.Weekends) || day < (source.Commissioned ?? s_first) || day > (source.StopsAfter ?? s_end))
                {
                    continue;
                }

                string tags = $"ent={spec.Enterprise},dev={spec.Device}";
                if (spec.Serial is { } serial)
                {
                    body.Append(CultureInfo.InvariantCulture, $"identity,{tags} serial_number=\"{serial}\" {midnight + (8 * 3600 * Second)}\n");
                }

                string signal = source.Class switch
                {
                    DeviceClass.CncMachineTool => "parts_total",
                    DeviceClass.Conventional => "spindle_on_s",
                    _ => "cycles",
                };
                for (int slot = 0; slot < 360; slot++) // every 2 minutes, 08:00–19:58, a few ms late (real clocks jitter)
                {
                    long t = midnight + (8 * 3600 * Second) + (slot * 120 * Second) + (((slot * slot * 7919) + day.DayNumber) % 997 * 1_000_000) + (spec.ShiftSeconds * Second);
                    if (source.HeartbeatOnly)
                    {
                        body.Append(CultureInfo.InvariantCulture, $"connection,{tags} up=true {t}\n");
                        continue;
                    }

                    // Runs and idles in stretches set by the phase: several transitions a day, the same vector for a copy.
                    bool running = ((slot + source.Phase) / (10 + (source.Phase % 7))) % 2 == 0;
                    long count = counters[spec.Device] = counters.GetValueOrDefault(spec.Device) + (running ? 1 : 0);
                    body.Append(CultureInfo.InvariantCulture, $"telemetry,{tags} state={(running ? 4 : 3)}i,{signal}={count}i,power_on_s={count * 120}i {t}\n");
                }
            }

            if (body.Length > 0)
            {
                evidence.Apply(new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes(body.ToString())), midnight + (20 * 3600 * Second), reader);
            }

            if (day.DayOfWeek == DayOfWeek.Sunday || day == s_end.AddDays(-1))
            {
                store.Ledger.Save("evidence", ++position, evidence.TakeChanges());
            }
        }
    }

    private static RegisterView Register(Spec[] specs)
    {
        var employees = new Dictionary<DateOnly, decimal> { [new(2026, 7, 1)] = 120, [new(2026, 8, 1)] = 125, [new(2026, 9, 1)] = 130 };
        IndicatorEnterprise[] enterprises = [.. specs.Select(s => s.Enterprise).Distinct().Order(StringComparer.Ordinal).Select(code => new IndicatorEnterprise
        {
            Code = code,
            Region = code[2..8],
            Employees = employees,
        })];
        IndicatorDevice[] devices = [.. specs.Where(s => s.Registered).Select(s => new IndicatorDevice
        {
            Enterprise = s.Enterprise,
            Device = s.Device,
            Class = s.Class,
            Production = true,
            Digital = s.Class != DeviceClass.Conventional,
            Nc = s.Class != DeviceClass.Conventional,
            KeyProcess = s.Phase % 2 == 0,
            RobotAxes = s.Class == DeviceClass.IndustrialRobot ? 6 : null,
            Commissioned = s.Commissioned ?? new DateOnly(2024, 1, 1),
            RetrofitProject = s.Retrofit,
            SerialNumber = s.Serial,
            IdealCycleSeconds = s.Class == DeviceClass.CncMachineTool ? 100 : null,
        })];
        return new RegisterView(enterprises, devices, "register-hash");
    }

    private static string Describe(DeviceEvaluation e) =>
        $"{e with { Flags = [], ResolvedFlags = [] }} flags [{string.Join("; ", e.Flags.Select(f => $"{f.Name}: {f.Evidence}"))}]"
        + $" resolved [{string.Join("; ", e.ResolvedFlags.Select(r => $"{r.Flag.Name}: {r.Flag.Evidence} ({r.Resolution})"))}]";

    private static string Describe(IndicatorValue v) =>
        $"{v.Id}|{v.FormulaSet}|{v.Window}|{v.Scope}|{v.Numerator}|{v.Denominator}|{v.Value}|{v.Unit}|{v.RegisterHash}|{v.Provisional}|{v.Note}"
        + $"|counted {string.Join(',', v.Counted)}|excluded {string.Join(',', v.Excluded)}|roots {string.Join(',', v.LedgerRoots)}";
}
