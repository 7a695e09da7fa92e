using System.Buffers;
using System.Text;
using FactoryGateway.Evidence;
using FactoryGateway.Evidence.Ledger;
using FactoryGateway.Metrics.Indicators;
using FactoryGateway.Telemetry.LineProtocol;

namespace FactoryGateway.Metrics.Tests.Indicators;

/// <summary>
/// Every integrity flag of spec §6 the ledger can show, each raised by the smallest telemetry that should
/// raise it and not raised by the same telemetry one step short of its parameter. Window: 2026-07.
/// </summary>
public sealed class IntegrityFlagTests
{
    private const string Ent = "91330402MA2B3C4D53";
    private const long Second = 1_000_000_000;
    private const long Minute = 60 * Second;
    private static readonly IndicatorWindow s_july = IndicatorWindow.Parse("2026-07");

    [Theory]
    [InlineData(5, true)]
    [InlineData(4, false)]
    public void Test_mode_padding_needs_run_test_above_run_on_five_days(int days, bool raised)
    {
        var lines = new List<(string, long)>();
        foreach (long eight in Weekdays(days))
        {
            lines.Add(($"telemetry,ent={Ent},dev=m state=5i {eight}", eight)); // run_test 08:00–08:01
            lines.Add(($"telemetry,ent={Ent},dev=m state=4i {eight + Minute}", eight + Minute));
            lines.Add(($"telemetry,ent={Ent},dev=m state=3i {eight + Minute + (30 * Second)}", eight + Minute));
        }

        // Each day: run_test 60 s, run 30 s, idle after.
        Assert.Equal(raised, Flags(lines).Contains(IntegrityCheck.TestModePadding));
    }

    [Theory]
    [InlineData(40 * 60, 0, true)]   // 40 h of run, no output
    [InlineData(40 * 60, 1, false)]  // one part
    [InlineData(39 * 60, 0, false)]  // under 40 h
    public void No_output_needs_forty_hours_of_run_without_parts_or_cycles(int runMinutes, int parts, bool raised)
    {
        var lines = new List<(string, long)>();
        int left = runMinutes;
        int count = 0;
        foreach (long eight in Weekdays(10))
        {
            int today = Math.Min(left, 8 * 60);
            for (int m = 0; m <= today; m += 2)
            {
                long t = eight + (m * Minute);
                string state = m < today ? "4i" : "3i";
                lines.Add(($"telemetry,ent={Ent},dev=m state={state},parts_total={(count < parts && m == 2 ? ++count : count)}i {t}", t));
            }

            left -= today;
        }

        Assert.Equal(raised, Flags(lines).Contains(IntegrityCheck.NoOutput));
    }

    [Theory]
    [InlineData(3, true)]
    [InlineData(2, false)]
    public void Clone_needs_identical_state_vectors_with_transitions_on_three_days(int sameDays, bool raised)
    {
        var lines = new List<(string, long)>();
        int day = 0;
        foreach (long eight in Weekdays(4))
        {
            foreach (string device in new[] { "a", "b" })
            {
                // Six transitions a day; b's pattern shifts by a minute on the days that should differ.
                long shift = device == "b" && day >= sameDays ? Minute : 0;
                for (int i = 0; i <= 12; i++)
                {
                    long t = eight + shift + (i * 2 * Minute);
                    lines.Add(($"telemetry,ent={Ent},dev={device} state={(i % 4 < 2 ? 4 : 3)}i {t}", t));
                }
            }

            day++;
        }

        IReadOnlyList<DeviceEvaluation> devices = Evaluate(lines, Register("a", "b"));
        Assert.Equal(raised, devices.All(d => d.Flags.Any(f => f.Flag == IntegrityCheck.Clone)));
        Assert.Equal(raised, devices.Any(d => d.Flags.Any(f => f.Flag == IntegrityCheck.Clone)));
    }

    // Kinds of day for the correlation half of the clone test (08:00–20:00, a state sample every minute).
    public enum CloneDay
    {
        /// <summary>b copies a's day 90 s later: its per-minute vector is a's shifted by two minutes.</summary>
        Shifted,

        /// <summary>b copies a's day 90 s later with 2 minutes of one idle stretch changed to run.</summary>
        ShiftedEdited,

        /// <summary>b runs its own day: other stretch lengths, about as many transitions (compared, not alike).</summary>
        Different,

        /// <summary>Both run 08:00–13:00 then idle, b 90 s later: one transition, under the clone tests' minimum of 5.</summary>
        Flat,
    }

    [Theory]
    [InlineData(new[] { CloneDay.Shifted, CloneDay.Shifted, CloneDay.Shifted }, true)]
    [InlineData(new[] { CloneDay.Shifted, CloneDay.ShiftedEdited, CloneDay.Shifted, CloneDay.Different }, true)]
    [InlineData(new[] { CloneDay.Shifted, CloneDay.Shifted, CloneDay.Different, CloneDay.Different }, false)]
    [InlineData(new[] { CloneDay.Different, CloneDay.Different, CloneDay.Different, CloneDay.Different }, false)]
    [InlineData(new[] { CloneDay.Shifted, CloneDay.Shifted, CloneDay.Flat, CloneDay.Flat }, false)]
    public void Clone_by_correlation_needs_r_of_at_least_0_99_on_three_busy_days(CloneDay[] days, bool raised)
    {
        var lines = new List<(string, long)>();
        int[] own = [17, 23, 11, 31, 19, 29, 13, 37, 41, 19];
        int[] other = [29, 13, 23, 19, 37, 11, 31, 17, 19, 41];
        int d = 0;
        foreach (long eight in Weekdays(days.Length))
        {
            CloneDay kind = days[d++];
            int[] flat = [300, 420];
            Day(lines, "a", eight, kind == CloneDay.Flat ? flat : own, edit: false);
            long shifted = eight + (90 * Second);
            switch (kind)
            {
                case CloneDay.Different:
                    Day(lines, "b", eight, other, edit: false);
                    break;
                case CloneDay.Flat:
                    Day(lines, "b", shifted, flat, edit: false);
                    break;
                default:
                    Day(lines, "b", shifted, own, edit: kind == CloneDay.ShiftedEdited);
                    break;
            }
        }

        IReadOnlyList<DeviceEvaluation> devices = Evaluate(lines, Register("a", "b"));
        Assert.Equal([raised, raised], devices.Select(e => e.Flags.Any(f => f.Flag == IntegrityCheck.Clone)));
        if (raised)
        {
            string evidence = devices[0].Flags.Single(f => f.Flag == IntegrityCheck.Clone).Evidence;
            Assert.Matches($@"^per-minute states correlated with {Ent}/b \(r ≥ (0\.99\d\d|1\.0000) on 3 day\(s\)\)", evidence);
            Assert.Contains("(Pearson, limit r ≥ 0.99 on 3+ day(s), lag within ±2 min)", evidence, StringComparison.Ordinal);
            Assert.DoesNotContain("digest", evidence, StringComparison.Ordinal);
            Assert.StartsWith($"per-minute states correlated with {Ent}/a (r ≥ ", devices[1].Flags.Single(f => f.Flag == IntegrityCheck.Clone).Evidence, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void The_correlation_half_finds_a_shifted_copy_only_with_its_lag_and_flat_days_only_below_the_transition_minimum()
    {
        // The same telemetry as above, judged with other parameters: the test can fail both ways.
        var lines = new List<(string, long)>();
        int[] own = [17, 23, 11, 31, 19, 29, 13, 37, 41, 19];
        int[] flat = [300, 420];
        int d = 0;
        foreach (long eight in Weekdays(3))
        {
            Day(lines, "a", eight, d == 2 ? flat : own, edit: false);
            Day(lines, "b", eight + (90 * Second), d == 2 ? flat : own, edit: false);
            d++;
        }

        static bool Clone(IReadOnlyList<DeviceEvaluation> devices) => devices.All(e => e.Flags.Any(f => f.Flag == IntegrityCheck.Clone));
        Assert.False(Clone(Evaluate(lines, Register("a", "b"))));
        Assert.True(Clone(Evaluate(lines, Register("a", "b"), parameters: new IndicatorParameters { CloneMinTransitions = 1 })));
        Assert.False(Clone(Evaluate(lines, Register("a", "b"), parameters: new IndicatorParameters { CloneMinTransitions = 1, ClonePearsonMaxLagMinutes = 0 })));
    }

    [Fact]
    public void A_shifted_copy_is_found_in_a_crowd_of_look_alikes_larger_than_the_comparison_bound()
    {
        // Twenty devices run a's day with their own phase (5 minutes apart: r about 0.8, not clones), so all
        // have about a's run count; z copies a's day 90 s later. With two comparisons per device in each order,
        // the run-count order (ties in device order: a, c00 … c19, z) never pairs a with z: only the order by
        // the first state change does.
        var lines = new List<(string, long)>();
        int[] own = [17, 23, 11, 31, 19, 29, 13, 37, 41, 19];
        string[] crowd = [.. Enumerable.Range(0, 20).Select(i => $"c{i:00}")];
        foreach (long eight in Weekdays(3))
        {
            Day(lines, "a", eight, own, edit: false);
            Day(lines, "z", eight + (90 * Second), own, edit: false);
            for (int i = 0; i < crowd.Length; i++)
            {
                Day(lines, crowd[i], eight + ((i + 1) * 5 * Minute), own, edit: false);
            }
        }

        var bounded = new IndicatorParameters { CloneMaxComparisons = 2 };
        IReadOnlyList<DeviceEvaluation> devices = Evaluate(lines, Register(["a", .. crowd, "z"]), parameters: bounded);
        Assert.Equal([.. crowd.Select(_ => false), true, true], devices.Select(e => e.Flags.Any(f => f.Flag == IntegrityCheck.Clone)).Order().ToArray());
        Assert.StartsWith($"per-minute states correlated with {Ent}/z (r ≥ ", devices.Single(e => e.Device.Device == "a").Flags.Single(f => f.Flag == IntegrityCheck.Clone).Evidence, StringComparison.Ordinal);
    }

    [Fact]
    public void A_crowd_of_identical_copies_is_flagged_whole_each_with_at_most_the_bound_of_twins()
    {
        var lines = new List<(string, long)>();
        int[] own = [17, 23, 11, 31, 19, 29, 13, 37, 41, 19];
        string[] copies = [.. Enumerable.Range(0, 7).Select(i => $"k{i}")];
        foreach (long eight in Weekdays(3))
        {
            foreach (string copy in copies)
            {
                Day(lines, copy, eight, own, edit: false);
            }
        }

        IReadOnlyList<DeviceEvaluation> devices = Evaluate(lines, Register(copies), parameters: new IndicatorParameters { CloneMaxComparisons = 2 });
        string[] evidence = [.. devices.Select(e => e.Flags.Single(f => f.Flag == IntegrityCheck.Clone).Evidence)];
        Assert.StartsWith($"per-minute state vectors identical to {Ent}/k1, {Ent}/k2 on 3+ day(s) (digest)", evidence[0], StringComparison.Ordinal);
        Assert.StartsWith($"per-minute state vectors identical to {Ent}/k1, {Ent}/k2, {Ent}/k4, {Ent}/k5 on 3+ day(s) (digest)", evidence[3], StringComparison.Ordinal);
        Assert.StartsWith($"per-minute state vectors identical to {Ent}/k4, {Ent}/k5 on 3+ day(s) (digest)", evidence[6], StringComparison.Ordinal);
    }

    // A device's shift 08:00–20:00 from `start`: run and idle alternating in stretches of the given minutes
    // (repeated), a state sample every minute; `edit` turns the first 2 minutes of the second idle stretch to run.
    private static void Day(List<(string, long)> lines, string device, long start, int[] stretches, bool edit)
    {
        int minute = 0;
        for (int s = 0; minute < 720; s++)
        {
            int length = stretches[s % stretches.Length];
            for (int i = 0; i < length && minute < 720; i++, minute++)
            {
                bool run = s % 2 == 0 || (edit && s == 3 && i < 2);
                long t = start + (minute * Minute);
                lines.Add(($"telemetry,ent={Ent},dev={device} state={(run ? 4 : 3)}i {t}", t));
            }
        }
    }

    [Fact]
    public void Duplicate_identity_is_the_same_serial_under_two_devices()
    {
        long t = Weekdays(1).First();
        List<(string, long)> lines =
        [
            ($"identity,ent={Ent},dev=a serial_number=\"SN-7\" {t}", t),
            ($"identity,ent={Ent},dev=b serial_number=\"SN-7\" {t}", t),
            ($"identity,ent={Ent},dev=c serial_number=\"SN-8\" {t}", t),
        ];
        IReadOnlyList<DeviceEvaluation> devices = Evaluate(lines, Register("a", "b", "c"));
        Assert.Equal([true, true, false], devices.Select(d => d.Flags.Any(f => f.Flag == IntegrityCheck.DuplicateIdentity)));
        Assert.Equal($"identity also under {Ent}/b", devices[0].Flags.Single(f => f.Flag == IntegrityCheck.DuplicateIdentity).Evidence);
    }

    [Theory]
    [InlineData(50, true)]
    [InlineData(49, false)]
    public void Synthetic_timing_needs_fifty_regular_transitions(int regular, bool raised)
    {
        // n + 1 transitions every 7 s exactly: the first interval has no predecessor, the rest are regular.
        long eight = Weekdays(1).First();
        var lines = new List<(string, long)> { ($"telemetry,ent={Ent},dev=m state=3i {eight}", eight) };
        for (int i = 1; i <= regular + 1; i++)
        {
            long t = eight + (i * 7 * Second);
            lines.Add(($"telemetry,ent={Ent},dev=m state={(i % 2 == 1 ? 4 : 3)}i {t}", t));
        }

        Assert.Equal(raised, Flags(lines).Contains(IntegrityCheck.SyntheticTiming));
    }

    [Fact]
    public void Backfill_counter_regression_identity_change_and_power_inconsistency()
    {
        long eight = Weekdays(1).First();
        List<(string, long)> lines =
        [
            // A sample eight days older than its arrival: backfill.
            ($"telemetry,ent={Ent},dev=m parts_total=1i {eight - (8 * 86_400 * Second)}", eight),
            // A counter that falls: regression.
            ($"telemetry,ent={Ent},dev=m parts_total=10i,power_on_s=1000 {eight}", eight),
            ($"telemetry,ent={Ent},dev=m parts_total=4i,state=4i {eight + Minute}", eight + Minute),
            // Two serial numbers: identity change.
            ($"identity,ent={Ent},dev=m serial_number=\"SN-1\" {eight + (2 * Minute)}", eight + (2 * Minute)),
            ($"identity,ent={Ent},dev=m serial_number=\"SN-2\" {eight + (3 * Minute)}", eight + (3 * Minute)),
            // Run from 08:01 to 08:09 (480 s, evidence every 2 min) while power-on grows 100 s: inconsistent.
            ($"telemetry,ent={Ent},dev=m state=4i {eight + (3 * Minute)}", eight + (3 * Minute)),
            ($"telemetry,ent={Ent},dev=m state=4i {eight + (5 * Minute)}", eight + (5 * Minute)),
            ($"telemetry,ent={Ent},dev=m state=4i,power_on_s=1100 {eight + (7 * Minute)}", eight + (7 * Minute)),
            ($"telemetry,ent={Ent},dev=m state=3i {eight + (9 * Minute)}", eight + (9 * Minute)),
        ];

        HashSet<IntegrityCheck> flags = Flags(lines);
        Assert.Equal(
            [IntegrityCheck.Backfill, IntegrityCheck.CounterRegression, IntegrityCheck.IdentityChange, IntegrityCheck.PowerInconsistent],
            flags.Order());
    }

    [Fact]
    public void A_resolved_flag_no_longer_counts_and_is_listed_with_its_resolution()
    {
        long eight = Weekdays(1).First();
        List<(string, long)> lines = [($"connection,ent={Ent},dev=m up=true {eight}", eight)];
        Assert.Contains(IntegrityCheck.HeartbeatOnly, Flags(lines));

        FlagResolution resolution = Resolution(1, "heartbeat_only", "2026Q3", ResolutionAction.Resolve);
        DeviceEvaluation resolved = Evaluate(lines, Register("m"), new ResolutionBook([resolution])).Single();

        Assert.Empty(resolved.Flags);
        ResolvedFlag listed = Assert.Single(resolved.ResolvedFlags);
        Assert.Equal((IntegrityCheck.HeartbeatOnly, resolution), (listed.Flag.Flag, listed.Resolution));
    }

    [Theory]
    [InlineData("2026Q3", null, true)]            // the quarter covers July
    [InlineData("2026-08", null, false)]          // another month does not
    [InlineData("2026", null, true)]              // the year covers it
    [InlineData("2026Q3", "2026-07", false)]      // taken back for July
    [InlineData("2026Q3", "2026-08", true)]       // taken back for August only
    [InlineData("2026-07", "2026Q3", false)]      // a later reopen over a wider window
    public void The_latest_resolution_whose_window_covers_the_report_decides(string resolvedFor, string? reopenedFor, bool counts)
    {
        long eight = Weekdays(1).First();
        List<(string, long)> lines = [($"connection,ent={Ent},dev=m up=true {eight}", eight)];
        List<FlagResolution> book = [Resolution(1, "heartbeat_only", resolvedFor, ResolutionAction.Resolve)];
        if (reopenedFor is not null)
        {
            book.Add(Resolution(2, "heartbeat_only", reopenedFor, ResolutionAction.Reopen));
        }

        DeviceEvaluation device = Evaluate(lines, Register("m"), new ResolutionBook(book)).Single();

        Assert.Equal(counts, device.Flags.Count == 0);
        Assert.Equal(counts, device.ResolvedFlags.Count == 1);
    }

    [Fact]
    public void A_resolution_of_another_flag_or_device_changes_nothing()
    {
        long eight = Weekdays(1).First();
        List<(string, long)> lines = [($"connection,ent={Ent},dev=m up=true {eight}", eight)];
        var book = new ResolutionBook([Resolution(1, "clone", "2026Q3", ResolutionAction.Resolve), Resolution(2, "heartbeat_only", "2026Q3", ResolutionAction.Resolve) with { Device = "n" }]);

        Assert.Contains(Evaluate(lines, Register("m"), book).Single().Flags, f => f.Flag == IntegrityCheck.HeartbeatOnly);
    }

    [Fact]
    public void Future_timestamp_is_raised_for_a_device_whose_writes_the_ingest_refused_in_the_window()
    {
        long eight = Weekdays(1).First();
        List<(string, long)> lines = [($"telemetry,ent={Ent},dev=m state=4i {eight}", eight), ($"telemetry,ent={Ent},dev=n state=4i {eight}", eight)];
        var refused = new Dictionary<(string, string), long> { [(Ent, "m")] = 2 };

        IReadOnlyList<DeviceEvaluation> devices = Evaluate(lines, Register("m", "n"), futureRefusals: refused);

        RaisedFlag flag = Assert.Single(devices.Single(d => d.Device.Device == "m").Flags, f => f.Flag == IntegrityCheck.FutureTimestamp);
        Assert.Equal("future_timestamp", flag.Name);
        Assert.StartsWith("2 write(s) refused at the ingest", flag.Evidence, StringComparison.Ordinal);
        Assert.DoesNotContain(devices.Single(d => d.Device.Device == "n").Flags, f => f.Flag == IntegrityCheck.FutureTimestamp);
    }

    private static FlagResolution Resolution(long sequence, string flag, string window, ResolutionAction action)
    {
        var span = Window.Parse(window);
        return new FlagResolution
        {
            Sequence = sequence,
            Enterprise = Ent,
            Device = "m",
            Flag = flag,
            FromDay = LocalDays.DayOf(span.FirstDay),
            ToDay = LocalDays.DayOf(span.EndDay),
            Window = window,
            Action = action,
            Actor = "op",
            Reason = "checked",
            AtUnixNanoseconds = 0,
            PreviousHash = new byte[32],
            Hash = new byte[32],
        };
    }

    private static HashSet<IntegrityCheck> Flags(List<(string Line, long Arrival)> lines) =>
        [.. Evaluate(lines, Register("m")).Single().Flags.Select(f => f.Flag)];

    private static IndicatorDevice[] Register(params string[] devices) =>
        [.. devices.Select(d => new IndicatorDevice { Enterprise = Ent, Device = d, Class = DeviceClass.CncMachineTool, Production = true, Digital = true, Nc = true })];

    private static IReadOnlyList<DeviceEvaluation> Evaluate(
        List<(string Line, long Arrival)> lines,
        IndicatorDevice[] devices,
        ResolutionBook? resolutions = null,
        IReadOnlyDictionary<(string, string), long>? futureRefusals = null,
        IndicatorParameters? parameters = null)
    {
        using var reader = new LineProtocolReader(new LineProtocolLimits());
        var evidence = new EvidenceAccumulation(new LedgerParameters(), DefaultShiftCalendar.Instance);
        foreach ((string line, long arrival) in lines.OrderBy(l => l.Arrival))
        {
            evidence.Apply(new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes(line)), arrival, reader);
        }

        evidence.AdvanceWatermark(LocalDays.StartOf(LocalDays.DayOf(new DateOnly(2026, 8, 10)), LocalDays.DefaultOffsetMinutes));
        return new DeviceEvaluator(parameters ?? new IndicatorParameters(), DefaultShiftCalendar.Instance).Evaluate(s_july, devices, [.. evidence.TakeChanges().Rows.Select(LedgerDay.From)], resolutions, futureRefusals);
    }

    // 08:00 local of the first `count` weekdays of July 2026.
    private static IEnumerable<long> Weekdays(int count)
    {
        int found = 0;
        for (DateOnly day = new(2026, 7, 1); found < count; day = day.AddDays(1))
        {
            if (day.DayOfWeek is not (DayOfWeek.Saturday or DayOfWeek.Sunday))
            {
                found++;
                yield return LocalDays.StartOf(LocalDays.DayOf(day), LocalDays.DefaultOffsetMinutes) + (8 * 3600 * Second);
            }
        }
    }
}
