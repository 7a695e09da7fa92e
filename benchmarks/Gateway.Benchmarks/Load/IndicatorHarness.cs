using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using FactoryGateway.Evidence;
using FactoryGateway.Evidence.Ledger;
using FactoryGateway.Metrics.Indicators;
using Microsoft.Data.Sqlite;

namespace FactoryGateway.Benchmarks.Load;

/// <summary>
/// The indicator computation at city scale: a ledger of N devices × D days (default 50,000 × 92, a quarter)
/// in SQLite, then every enterprise's and every region's (county and city) indicators of the quarter, timed
/// from the first ledger read to the last report. Goal (issue 4): ≤ 2 s.
/// </summary>
/// <remarks>
/// <c>dotnet run -c Release --project benchmarks/Gateway.Benchmarks -- indicators [--devices 50000]
/// [--enterprises 1000] [--runs 3] [--rows] [--data-dir DIR]</c> (with a data directory the ledger is kept
/// there and, when it exists, reused instead of written again). The rows are synthetic but shaped like real ones (a row per device and
/// day, weekday production with run time and output, quieter weekends, a few devices that never report), and
/// written straight into the ledger table with their month rollups, as sealing writes them: the
/// accumulator's own cost is measured elsewhere. The window is read from the rollups
/// (<see cref="LedgerStore.ReadWindow"/>), or with <c>--rows</c> from the rows (<see cref="LedgerStore.ReadDays"/>).
/// </remarks>
internal static class IndicatorHarness
{
    private const int CountiesPerCity = 5;

    public static async Task<int> RunAsync(string[] args)
    {
        int devices = (int)Option(args, "--devices", 50_000);
        int enterprises = (int)Option(args, "--enterprises", 1_000);
        int runs = (int)Option(args, "--runs", 3);
        bool fromRows = args.Contains("--rows");
        bool busy = args.Contains("--busy");
        IndicatorWindow window = IndicatorWindow.Parse("2026Q3");
        int dataDir = Array.IndexOf(args, "--data-dir");
        string? kept = dataDir >= 0 && dataDir + 1 < args.Length ? Path.GetFullPath(args[dataDir + 1]) : null;
        bool reuse = kept is not null && File.Exists(Path.Combine(kept, "evidence.db"));
        string root = kept ?? Directory.CreateTempSubdirectory("fgw-indicators-").FullName;
        try
        {
            using EvidenceStore store = EvidenceStore.Open(root);
            RegisterView register = Register(devices, enterprises);
            long started = Stopwatch.GetTimestamp();
            long rows = reuse ? (long)devices * window.Days : Fill(store, register, window, busy);
            TimeSpan fill = Stopwatch.GetElapsedTime(started);
            long bytes = new FileInfo(store.DatabasePath).Length + (File.Exists(store.DatabasePath + "-wal") ? new FileInfo(store.DatabasePath + "-wal").Length : 0);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"indicators: {rows:N0} ledger rows ({devices:N0} devices × {window.Days} days, {enterprises:N0} enterprises) {(reuse ? "reused" : "written")} in {fill.TotalSeconds:0.0} s; evidence.db {bytes / 1e6:0} MB"));

            var calculator = new IndicatorCalculator(new IndicatorParameters(), DefaultShiftCalendar.Instance);
            string[] counties = [.. register.Enterprises.Select(e => e.Region).Distinct().Order(StringComparer.Ordinal)];
            string[] cities = [.. counties.Select(c => c[..4] + "00").Distinct().Order(StringComparer.Ordinal)];
            Console.WriteLine();
            Console.WriteLine($"indicators, {DateTime.UtcNow:yyyy-MM-dd}: {rows:N0} rows, {enterprises:N0} enterprise reports + {counties.Length} county + {cities.Length} city reports of 2026Q3 on {Environment.ProcessorCount} cores, read from the {(fromRows ? "rows" : "month rollups")}");
            Console.WriteLine("| run | read + evaluate (s) | all reports (s) | total (s) | process CPU (s) | rows/s | allocated (MB) | GC pauses (s) | devices networked | flagged clone |");
            Console.WriteLine("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
            await Task.Yield();
            for (int run = 1; run <= runs; run++)
            {
                long allocated = GC.GetTotalAllocatedBytes(precise: true);
                TimeSpan paused = GC.GetTotalPauseDuration();
                TimeSpan cpu = Environment.CpuUsage.TotalTime;
                long start = Stopwatch.GetTimestamp();
                IReadOnlyList<LedgerRoot> roots = store.Ledger.ReadRoots(null, window.FromDay, window.ToDay);
                WindowEvaluation evaluation = fromRows
                    ? calculator.Evaluate(window, register, store.Ledger.ReadDays(window.FromDay, window.ToDay), roots)
                    : calculator.Evaluate(window, register, store.Ledger.ReadWindow(window.FromDay, window.ToDay), roots);
                TimeSpan evaluate = Stopwatch.GetElapsedTime(start);
                IndicatorScope[] scopes = [.. register.Enterprises.Select(e => IndicatorScope.Enterprise(e.Code)), .. counties.Concat(cities).Select(IndicatorScope.Region)];
                if (calculator.Compute(scopes, evaluation).Count(r => r.Indicators.Count > 0) != scopes.Length)
                {
                    throw new InvalidOperationException("a report has no indicators.");
                }
                TimeSpan total = Stopwatch.GetElapsedTime(start);
                TimeSpan used = Environment.CpuUsage.TotalTime - cpu; // the machine is shared: CPU time tells what wall time hides
                int networked = evaluation.Devices.Count(d => d.IsNetworked);
                int clones = evaluation.Devices.Count(d => d.Flags.Any(f => f.Flag == IntegrityCheck.Clone));
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {run} | {evaluate.TotalSeconds:0.00} | {(total - evaluate).TotalSeconds:0.00} | {total.TotalSeconds:0.00} | {used.TotalSeconds:0.00} | {rows / total.TotalSeconds:N0} | {(GC.GetTotalAllocatedBytes(precise: true) - allocated) / 1e6:0} | {(GC.GetTotalPauseDuration() - paused).TotalSeconds:0.00} | {networked:N0} | {clones:N0} |"));
            }

            return 0;
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            if (kept is null)
            {
                Directory.Delete(root, recursive: true);
            }
        }
    }

    // Enterprises spread over two cities of five counties each; devices spread over the enterprises.
    private static RegisterView Register(int devices, int enterprises)
    {
        string[] counties = [.. Enumerable.Range(0, 2 * CountiesPerCity).Select(i => string.Create(CultureInfo.InvariantCulture, $"33{4 + (i / CountiesPerCity)}0{(i % CountiesPerCity) + 1:00}"))];
        var employees = new Dictionary<DateOnly, decimal> { [new(2026, 7, 1)] = 400, [new(2026, 8, 1)] = 410, [new(2026, 9, 1)] = 405 };
        IndicatorEnterprise[] list = [.. Enumerable.Range(0, enterprises).Select(i => new IndicatorEnterprise
        {
            Code = string.Create(CultureInfo.InvariantCulture, $"E{i:00000000000000000}"), // 18 characters, one code per enterprise
            Region = counties[i % counties.Length],
            Employees = employees,
        })];
        IndicatorDevice[] registered = [.. Enumerable.Range(0, devices).Select(i =>
        {
            DeviceClass kind = (i % 10) switch
            {
                < 4 => DeviceClass.CncMachineTool,
                4 => DeviceClass.IndustrialRobot,
                < 7 => DeviceClass.PlcAutomated,
                _ => DeviceClass.Conventional,
            };
            bool digital = kind != DeviceClass.Conventional;
            return new IndicatorDevice
            {
                Enterprise = list[i % enterprises].Code,
                Device = string.Create(CultureInfo.InvariantCulture, $"dev-{i:000000}"),
                Class = kind,
                Production = true,
                Digital = digital,
                Nc = digital,
                KeyProcess = i % 3 == 0,
                RobotAxes = kind == DeviceClass.IndustrialRobot ? 6 : null,
                Commissioned = i % 50 == 0 ? new DateOnly(2026, 8, 16) : new DateOnly(2024, 1, 1),
                RetrofitProject = kind == DeviceClass.Conventional && i % 4 == 0 ? "R-2026" : null,
            };
        })];
        return new RegisterView(list, registered, "benchmark");
    }

    private static long Fill(EvidenceStore store, RegisterView register, IndicatorWindow window, bool busy)
    {
        using var connection = new SqliteConnection($"Data Source={store.DatabasePath}");
        connection.Open();
        using (SqliteCommand pragma = connection.CreateCommand())
        {
            pragma.CommandText = "PRAGMA synchronous = OFF;"; // a benchmark fixture, not evidence
            pragma.ExecuteNonQuery();
        }

        using SqliteTransaction transaction = connection.BeginTransaction();
        using SqliteCommand insert = connection.CreateCommand();
        insert.Transaction = transaction;
        insert.CommandText = """
            INSERT INTO ledger_rows (enterprise, device, day, offset_min, formula_set, samples, substantive, events, non_good,
                off_ns, down_ns, setup_ns, idle_ns, run_ns, run_test_ns, parts_delta, good_delta, cycles_delta, power_on_delta_s,
                energy_delta_kwh, counter_resets, program_changes, first_ns, last_ns, max_lag_ns, late, backfill, out_of_order,
                transitions, regular_transitions, identities, minutes, minute_digest, covered_min, scheduled_min, covered_shift_min,
                sealed, hash, prev_hash, summary)
            VALUES ($e, $d, $day, 480, 'fg-2026.1', $samples, $substantive, 720, 0, 0, 0, 0, $idle, $run, 0, $parts, $good, $cycles,
                $power, 0.0, 0, 2, 0, 0, 1000000, 0, 0, 0, $transitions, 0, '[]', $minutes, $digest, $covered, $scheduled,
                $covered, 1, $hash, $hash, $summary);
            """;
        string[] names = ["$e", "$d", "$day", "$samples", "$substantive", "$idle", "$run", "$parts", "$good", "$cycles", "$power", "$transitions", "$digest", "$covered", "$scheduled", "$hash", "$summary", "$minutes"];
        foreach (string name in names)
        {
            insert.Parameters.Add(new SqliteParameter { ParameterName = name });
        }

        insert.Prepare();
        using SqliteCommand month = connection.CreateCommand();
        month.Transaction = transaction;
        month.CommandText = "INSERT INTO ledger_months (enterprise, device, month, days, rollup, minutes) VALUES ($e, $d, $month, $days, $rollup, $minutes);";
        foreach (string name in (string[])["$e", "$d", "$month", "$days", "$rollup", "$minutes"])
        {
            month.Parameters.Add(new SqliteParameter { ParameterName = name });
        }

        month.Prepare();
        var sealedDays = new List<LedgerDayFigures>(31);
        void WriteMonth(IndicatorDevice device)
        {
            int first = LedgerMonth.MonthOf(sealedDays[0].Day);
            month.Parameters[0].Value = device.Enterprise;
            month.Parameters[1].Value = device.Device;
            month.Parameters[2].Value = first;
            month.Parameters[3].Value = sealedDays.Count;
            month.Parameters[4].Value = LedgerMonth.Encode(first, sealedDays);
            month.Parameters[5].Value = LedgerMonth.EncodeMinutes(first, sealedDays);
            month.ExecuteNonQuery();
            sealedDays.Clear();
        }

        long rows = 0;
        byte[] hash = RandomNumberGenerator.GetBytes(32);
        byte[] weekdayMinutes = Vector(runMinutes: 8 * 60);
        byte[] weekendMinutes = Vector(runMinutes: 60);
        byte[] silentMinutes = Vector(runMinutes: 0);
        int index = 0;
        foreach (IndicatorDevice device in register.Devices)
        {
            bool silent = index++ % 97 == 0; // about 1% never report beyond heartbeats
            // --busy: weekdays alternate run and idle in stretches of 20–59 minutes from a device's own offset, so
            // every weekday takes part in the clone tests (the devices of an enterprise with the same stretch
            // length are compared); without it a day has 2 transitions, under the clone tests' minimum.
            int stretch = 20 + (index * 7 % 40);
            (byte[] Minutes, int Transitions) busyDay = Alternating(stretch, index * 13 % stretch);
            for (int day = window.FromDay; day < window.ToDay; day++)
            {
                DateOnly date = DateOnly.FromDayNumber(LocalDays.EpochDayNumber + day);
                bool weekday = date.DayOfWeek is not (DayOfWeek.Saturday or DayOfWeek.Sunday);
                long run = silent ? 0 : weekday ? 8L * 3600 * 1_000_000_000 : 3600L * 1_000_000_000;
                long output = run / (120L * 1_000_000_000);
                SqliteParameterCollection p = insert.Parameters;
                p[0].Value = device.Enterprise;
                p[1].Value = device.Device;
                p[2].Value = day;
                p[3].Value = silent ? 0 : 3000;
                p[4].Value = silent ? 0 : 500;
                p[5].Value = 4L * 3600 * 1_000_000_000;
                p[6].Value = run;
                p[7].Value = device.Class == DeviceClass.CncMachineTool ? output : 0;
                p[8].Value = device.Class == DeviceClass.CncMachineTool ? output * 98 / 100 : 0;
                p[9].Value = device.Class is DeviceClass.IndustrialRobot or DeviceClass.PlcAutomated ? output : 0;
                p[10].Value = run / 1e9 * 1.05;
                bool busyToday = busy && weekday && !silent;
                int transitions = busyToday ? busyDay.Transitions : silent ? 0 : 2;
                p[11].Value = transitions;
                p[12].Value = SHA256.HashData(BitConverter.GetBytes(((long)index << 20) + day));
                p[13].Value = weekday ? 700 : 0;
                p[14].Value = weekday ? 720 : 0;
                p[15].Value = hash;
                byte[] summary = new LedgerDay
                {
                    Enterprise = device.Enterprise,
                    Device = device.Device,
                    Day = day,
                    Samples = silent ? 0 : 3000,
                    Events = 720,
                    Substantive = silent ? 0 : 500,
                    CoveredShiftMinutes = weekday ? 700 : 0,
                    RunNanoseconds = run,
                    PartsDelta = device.Class == DeviceClass.CncMachineTool ? output : 0,
                    GoodDelta = device.Class == DeviceClass.CncMachineTool ? output * 98 / 100 : 0,
                    CyclesDelta = device.Class is DeviceClass.IndustrialRobot or DeviceClass.PlcAutomated ? output : 0,
                    PowerOnDeltaSeconds = run / 1e9 * 1.05,
                    Transitions = transitions,
                    MinuteDigest = (byte[])p[12].Value!,
                }.ToSummary();
                p[16].Value = summary;
                byte[] minutes = silent ? silentMinutes : busyToday ? busyDay.Minutes : weekday ? weekdayMinutes : weekendMinutes;
                p[17].Value = minutes;
                insert.ExecuteNonQuery();
                rows++;

                // The month rollup, as sealing writes it: from the sealed rows' summaries.
                if (sealedDays.Count > 0 && LedgerMonth.MonthOf(day) != LedgerMonth.MonthOf(sealedDays[0].Day))
                {
                    WriteMonth(device);
                }

                sealedDays.Add(LedgerDayFigures.FromSummary(day, summary, []) with { MinuteRuns = minutes });
            }

            WriteMonth(device);
        }

        transaction.Commit();
        return rows;
    }

    // A day's encoded minute vector: covered 08:00–20:00, run for the first runMinutes, idle after.
    private static byte[] Vector(int runMinutes)
    {
        byte[] minutes = MinuteStates.CreateEmpty();
        minutes.AsSpan(8 * 60, 12 * 60).Fill((byte)MachineState.Idle);
        minutes.AsSpan(8 * 60, runMinutes).Fill((byte)MachineState.Run);
        return MinuteStates.Encode(minutes);
    }

    // A day covered 08:00–20:00 alternating run and idle every stretch minutes (the first stretch offset minutes short).
    private static (byte[] Minutes, int Transitions) Alternating(int stretch, int offset)
    {
        byte[] minutes = MinuteStates.CreateEmpty();
        int transitions = 0;
        for (int m = 8 * 60; m < 20 * 60; m++)
        {
            minutes[m] = (byte)((m - (8 * 60) + offset) / stretch % 2 == 0 ? MachineState.Run : MachineState.Idle);
            transitions += m > 8 * 60 && minutes[m] != minutes[m - 1] ? 1 : 0;
        }

        return (MinuteStates.Encode(minutes), transitions);
    }

    private static long Option(string[] args, string name, long fallback)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? long.Parse(args[i + 1], NumberStyles.AllowThousands, CultureInfo.InvariantCulture) : fallback;
    }
}
