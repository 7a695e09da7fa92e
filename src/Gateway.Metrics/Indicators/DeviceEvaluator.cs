using System.Globalization;
using FactoryGateway.Evidence;
using FactoryGateway.Evidence.Ledger;

namespace FactoryGateway.Metrics.Indicators;

/// <summary>
/// Evaluates registered devices over a window from their ledger rows (spec §3 status, §6 flags). Pure:
/// the same register, rows, calendar and parameters give the same evaluations.
/// </summary>
public sealed partial class DeviceEvaluator
{
    private const decimal NanosecondsPerSecond = 1_000_000_000m;

    private readonly IndicatorParameters _parameters;
    private readonly IShiftCalendarSource _calendar;
    private readonly bool[] _shift = new bool[MinuteStates.MinutesPerDay];

    public DeviceEvaluator(IndicatorParameters parameters, IShiftCalendarSource calendar)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(calendar);
        _parameters = parameters;
        _calendar = calendar;
    }

    /// <summary>
    /// Evaluates every device of <paramref name="devices"/> over <paramref name="window"/> from
    /// <paramref name="days"/>, the ledger's indicator view (streamed once; best ordered by enterprise and
    /// device, as <see cref="LedgerStore.ReadDays"/> returns it; days outside the window are ignored). Rows of
    /// unregistered devices take part in the cross-device flags (clone, duplicate identity) only.
    /// <paramref name="resolutions"/> holds the flags operators resolved (reported with the resolution; they no longer count);
    /// <paramref name="futureRefusals"/> the ingest's count of writes refused for future timestamps, per device, in the window.
    /// </summary>
    public IReadOnlyList<DeviceEvaluation> Evaluate(
        IndicatorWindow window,
        IReadOnlyList<IndicatorDevice> devices,
        IEnumerable<LedgerDay> days,
        ResolutionBook? resolutions = null,
        IReadOnlyDictionary<(string Enterprise, string Device), long>? futureRefusals = null)
    {
        ArgumentNullException.ThrowIfNull(window);
        ArgumentNullException.ThrowIfNull(devices);
        ArgumentNullException.ThrowIfNull(days);
        (Dictionary<(string, string), Totals> accumulators, Dictionary<string, HashSet<(string, string)>> owners) = Prepare(window, devices);
        var digests = new Dictionary<(int Day, UInt128 Digest), List<(string, string)>>();
        var series = new Dictionary<(string Enterprise, int Day), List<Series>>();
        var numbers = new Dictionary<(string, string), int>();
        var keys = new List<(string, string)>();

        Totals? current = null;
        (string, string) currentKey = ("", "");
        int currentNumber = -1;
        foreach (LedgerDay day in days)
        {
            if (day.Day < window.FromDay || day.Day >= window.ToDay)
            {
                continue;
            }

            var key = (day.Enterprise, day.Device);
            if (current is null || key != currentKey)
            {
                current = accumulators.GetValueOrDefault(key);
                currentKey = key;
                if (!numbers.TryGetValue(key, out currentNumber))
                {
                    numbers[key] = currentNumber = keys.Count;
                    keys.Add(key);
                }
            }

            LedgerDayFigures figures = day.ToFigures();
            current?.Add(figures, _parameters);
            if (day.Transitions >= _parameters.CloneMinTransitions)
            {
                if (figures.HasDigest)
                {
                    var digest = (day.Day, figures.DigestKey);
                    if (!digests.TryGetValue(digest, out List<(string, string)>? same))
                    {
                        digests[digest] = same = [];
                    }

                    same.Add(key);
                }

                AddSeries(series, (day.Enterprise, day.Day), currentNumber, figures);
            }

            foreach (string identity in day.Identities)
            {
                if (identity.StartsWith("serial_number=", StringComparison.Ordinal) || identity.StartsWith("product_instance_uri=", StringComparison.Ordinal)
                    || identity.StartsWith("cert_thumbprint=", StringComparison.Ordinal))
                {
                    Own(owners, identity, key);
                }
            }
        }

        Dictionary<(string, string), string> clones = Clones(digests.Values, Correlate([.. series.Values]).Select(p => (keys[p.A], keys[p.B], p.R)));
        Dictionary<(string, string), List<string>> duplicates = Duplicates(owners);
        var evaluations = new List<DeviceEvaluation>(devices.Count);
        foreach (IndicatorDevice device in devices)
        {
            evaluations.Add(Finish(accumulators[(device.Enterprise, device.Device)], window, clones, duplicates, resolutions ?? ResolutionBook.Empty, futureRefusals));
        }

        return evaluations;
    }

    // Scheduled shift minutes of every day of the window for one enterprise's calendar.
    private int[] Schedule(string enterprise, IndicatorWindow window)
    {
        var minutes = new int[window.Days];
        for (int i = 0; i < minutes.Length; i++)
        {
            _calendar.GetShiftMinutes(enterprise, window.From.AddDays(i), _shift);
            minutes[i] = _shift.AsSpan().Count(true);
        }

        return minutes;
    }

    private DeviceEvaluation Finish(
        Totals t,
        IndicatorWindow window,
        Dictionary<(string, string), string> clones,
        Dictionary<(string, string), List<string>> duplicates,
        ResolutionBook resolutions,
        IReadOnlyDictionary<(string Enterprise, string Device), long>? futureRefusals)
    {
        IndicatorDevice device = t.Device;
        decimal runSeconds = t.RunNs / NanosecondsPerSecond;
        var flags = new List<RaisedFlag>();
        var resolvedFlags = new List<ResolvedFlag>();
        void Raise(IntegrityCheck flag, string evidence)
        {
            if (resolutions.Find(device, flag, window) is { } resolution)
            {
                resolvedFlags.Add(new ResolvedFlag(new RaisedFlag(flag, evidence), resolution));
            }
            else
            {
                flags.Add(new RaisedFlag(flag, evidence));
            }
        }

        if (t.HeartbeatOnlyDays > 0 && t.HeartbeatOnlyDays >= _parameters.HeartbeatOnlyShare * t.Reporting)
        {
            Raise(IntegrityCheck.HeartbeatOnly, Invariant($"{t.HeartbeatOnlyDays} day(s) with data but nothing substantive against {t.Reporting} reporting day(s) (limit {_parameters.HeartbeatOnlyShare * 100:0.#}%)"));
        }

        if (t.TestModeDays >= _parameters.TestModeDays)
        {
            Raise(IntegrityCheck.TestModePadding, Invariant($"run_test above run on {t.TestModeDays} day(s) (limit {_parameters.TestModeDays})"));
        }

        if (runSeconds >= _parameters.NoOutputRunHours * 3600 && t.Parts == 0 && t.Cycles == 0)
        {
            Raise(IntegrityCheck.NoOutput, Invariant($"{runSeconds / 3600:0.#} h run with no parts or cycles"));
        }

        if (clones.TryGetValue((device.Enterprise, device.Device), out string? twins))
        {
            Raise(IntegrityCheck.Clone, twins);
        }

        if (duplicates.TryGetValue((device.Enterprise, device.Device), out List<string>? others))
        {
            Raise(IntegrityCheck.DuplicateIdentity, $"identity also under {string.Join(", ", others)}");
        }

        if (t.Regular >= _parameters.SyntheticTransitions)
        {
            Raise(IntegrityCheck.SyntheticTiming, Invariant($"{t.Regular} state transitions at a fixed period within sub-millisecond jitter (limit {_parameters.SyntheticTransitions})"));
        }

        if (t.Backfill > 0)
        {
            Raise(IntegrityCheck.Backfill, Invariant($"{t.Backfill} sample(s) arrived more than the backfill age after their source time"));
        }

        if (futureRefusals is not null && futureRefusals.TryGetValue((device.Enterprise, device.Device), out long refused) && refused > 0)
        {
            Raise(IntegrityCheck.FutureTimestamp, Invariant($"{refused} write(s) refused at the ingest for source times more than 5 min ahead of its clock"));
        }

        if (t.Resets > 0)
        {
            Raise(IntegrityCheck.CounterRegression, Invariant($"monotone counters decreased {t.Resets} time(s) with no declared reset"));
        }

        if (t.Serials.Count > 1 || t.Thumbprints.Count > 1)
        {
            Raise(IntegrityCheck.IdentityChange, $"identities seen: {string.Join(", ", t.Serials.Concat(t.Thumbprints).Order(StringComparer.Ordinal))}");
        }

        if (t.ReportsPowerOn && (decimal)t.PowerOn * (1 + _parameters.PowerTolerance) < runSeconds)
        {
            Raise(IntegrityCheck.PowerInconsistent, Invariant($"{runSeconds:0} s run against {t.PowerOn:0} s of power-on growth"));
        }

        bool everyWeek = (t.ScheduledWeeks & ~t.SubstantiveWeeks) == 0;
        bool identityConsistent = (device.SerialNumber is null || t.Serials.All(s => s == device.SerialNumber))
            && (device.ProductInstanceUri is null || t.Uris.All(u => u == device.ProductInstanceUri));

        // §3 status.
        bool flagged = flags.Count > 0;
        string? notNetworked = t.Weight == 0 ? "not active in the window"
            : t.ScheduledDays == 0 ? "no scheduled day while active"
            : t.Reporting < _parameters.NetworkedReportingShare * t.ScheduledDays ? Invariant($"{t.Reporting} of {t.ScheduledDays} scheduled day(s) reporting (needs {_parameters.NetworkedReportingShare * 100:0.#}%)")
            : !everyWeek ? "an ISO week with scheduled days has no substantive data"
            : !identityConsistent ? "identity seen differs from the register"
            : flagged ? $"flagged: {string.Join(", ", flags.Select(f => f.Name))}"
            : null;
        bool networked = notNetworked is null;

        decimal minRun = Math.Max(_parameters.InServiceMinRunHours * 3600, _parameters.InServiceMinRunShare * t.ScheduledSeconds);
        string? notInService = t.Weight == 0 ? "not active in the window"
            : flagged ? $"flagged: {string.Join(", ", flags.Select(f => f.Name))}"
            : !networked && t.Reporting < _parameters.InServiceReportingShare * t.ScheduledDays ? Invariant($"not networked and {t.Reporting} of {t.ScheduledDays} scheduled day(s) reporting (needs {_parameters.InServiceReportingShare * 100:0.#}%)")
            : runSeconds < minRun ? Invariant($"{runSeconds / 3600:0.#} h run (needs {minRun / 3600:0.#} h)")
            : t.OutputDays < _parameters.InServiceMinDays ? Invariant($"run with output on {t.OutputDays} scheduled day(s) (needs {_parameters.InServiceMinDays})")
            : null;

        return new DeviceEvaluation
        {
            Device = device,
            Weight = t.Weight,
            ScheduledDays = t.ScheduledDays,
            ScheduledSeconds = t.ScheduledSeconds,
            ReportingDays = t.Reporting,
            SubstantiveDays = t.SubstantiveDays,
            EveryWeekSubstantive = everyWeek,
            IdentityConsistent = identityConsistent,
            Flags = flags,
            ResolvedFlags = resolvedFlags,
            IsNetworked = networked,
            IsInService = notInService is null,
            RunSeconds = runSeconds,
            RunTestSeconds = t.RunTestNs / NanosecondsPerSecond,
            OutputDays = t.OutputDays,
            Parts = t.Parts,
            GoodParts = t.Good,
            Cycles = t.Cycles,
            LastSubstantiveDay = t.LastSubstantive,
            NotNetworkedReason = notNetworked,
            NotInServiceReason = notInService,
        };
    }

    // Output evidence (§3): parts for machine tools, cycles for robots and PLC lines, either for the rest.
    private static bool HasOutput(IndicatorDevice device, in LedgerDayFigures day) => device.Class switch
    {
        DeviceClass.CncMachineTool => day.PartsDelta > 0,
        DeviceClass.IndustrialRobot or DeviceClass.PlcAutomated => day.CyclesDelta > 0,
        _ => day.PartsDelta > 0 || day.CyclesDelta > 0,
    };

    private static void Own(Dictionary<string, HashSet<(string, string)>> owners, string identity, (string, string) device)
    {
        if (!owners.TryGetValue(identity, out HashSet<(string, string)>? set))
        {
            owners[identity] = set = [];
        }

        set.Add(device);
    }

    // The same identity (register serial / product instance URI, or one seen in the rows) under two device ids.
    private static Dictionary<(string, string), List<string>> Duplicates(Dictionary<string, HashSet<(string, string)>> owners)
    {
        var duplicates = new Dictionary<(string, string), List<string>>();
        foreach (HashSet<(string, string)> set in owners.Values.Where(s => s.Count > 1))
        {
            foreach ((string, string) device in set)
            {
                foreach ((string, string) other in set.Where(o => o != device).OrderBy(o => Name(o), StringComparer.Ordinal))
                {
                    if (!duplicates.TryGetValue(device, out List<string>? list) || !list.Contains(Name(other)))
                    {
                        Add(duplicates, device, Name(other));
                    }
                }
            }
        }

        foreach (List<string> others in duplicates.Values)
        {
            others.Sort(StringComparer.Ordinal); // the same list whatever order the identities were seen in
        }

        return duplicates;
    }

    private static void Add(Dictionary<(string, string), List<string>> map, (string, string) key, string value)
    {
        if (!map.TryGetValue(key, out List<string>? list))
        {
            map[key] = list = [];
        }

        list.Add(value);
    }

    private static string Name((string Enterprise, string Device) device) => $"{device.Enterprise}/{device.Device}";

    private static DateOnly Max(DateOnly a, DateOnly b) => a > b ? a : b;

    private static DateOnly Min(DateOnly a, DateOnly b) => a < b ? a : b;

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    /// <summary>One device's running totals while the window's days stream past.</summary>
    private sealed class Totals
    {
        private readonly int[] _schedule;
        private readonly int _windowFromDay;
        private readonly int _activeFromDay;
        private readonly int _activeToDay;
        private readonly int _firstMonday;

        public Totals(IndicatorDevice device, IndicatorWindow window, int[] schedule)
        {
            Device = device;
            _schedule = schedule;
            _windowFromDay = window.FromDay;
            DateOnly from = Max(window.From, device.Commissioned ?? window.From);
            DateOnly to = Min(window.To, device.Retired?.AddDays(1) ?? window.To); // the retired date is the last active day
            _activeFromDay = LocalDays.DayOf(from);
            _activeToDay = Math.Max(_activeFromDay, LocalDays.DayOf(to));
            Weight = window.Days == 0 ? 0 : (decimal)(_activeToDay - _activeFromDay) / window.Days;
            _firstMonday = window.From.DayNumber - (((int)window.From.DayOfWeek + 6) % 7);
            for (int day = _activeFromDay; day < _activeToDay; day++)
            {
                int minutes = schedule[day - _windowFromDay];
                if (minutes > 0)
                {
                    ScheduledDays++;
                    ScheduledSeconds += minutes * 60L;
                    ScheduledWeeks |= Week(day);
                }
            }
        }

        public IndicatorDevice Device { get; }

        public decimal Weight { get; }

        public int ScheduledDays { get; }

        public long ScheduledSeconds { get; }

        /// <summary>ISO weeks of the window (bit i: the i-th week from the window's first Monday) with a scheduled day.</summary>
        public ulong ScheduledWeeks { get; }

        public ulong SubstantiveWeeks { get; private set; }

        public int Reporting { get; private set; }

        public int SubstantiveDays { get; private set; }

        public int OutputDays { get; private set; }

        public int HeartbeatOnlyDays { get; private set; }

        public int TestModeDays { get; private set; }

        public long RunNs { get; private set; }

        public long RunTestNs { get; private set; }

        public long Parts { get; private set; }

        public long Good { get; private set; }

        public long Cycles { get; private set; }

        public int Regular { get; private set; }

        public long Backfill { get; private set; }

        public int Resets { get; private set; }

        public double PowerOn { get; private set; }

        public bool ReportsPowerOn { get; private set; }

        public DateOnly? LastSubstantive { get; private set; }

        public HashSet<string> Serials { get; } = new(StringComparer.Ordinal);

        public HashSet<string> Uris { get; } = new(StringComparer.Ordinal);

        public HashSet<string> Thumbprints { get; } = new(StringComparer.Ordinal);

        public void Add(in LedgerDayFigures day, IndicatorParameters parameters)
        {
            Backfill += day.Backfill; // counted on the arrival day, whether or not the device was active then
            if (day.Day < _activeFromDay || day.Day >= _activeToDay)
            {
                return;
            }

            RunNs += day.RunNanoseconds;
            RunTestNs += day.RunTestNanoseconds;
            Parts += day.PartsDelta;
            Good += day.GoodDelta;
            Cycles += day.CyclesDelta;
            Regular += day.RegularTransitions;
            Resets += day.CounterResets;
            if (day.PowerOnDeltaSeconds > 0)
            {
                ReportsPowerOn = true;
                PowerOn += day.PowerOnDeltaSeconds;
            }

            if (day.RunTestNanoseconds > day.RunNanoseconds)
            {
                TestModeDays++;
            }

            if (day.Substantive > 0)
            {
                SubstantiveDays++;
                SubstantiveWeeks |= Week(day.Day);
                LastSubstantive = day.Date;
            }
            else if (day.Samples + day.Events > 0)
            {
                HeartbeatOnlyDays++;
            }

            int shiftMinutes = _schedule[day.Day - _windowFromDay];
            if (shiftMinutes > 0)
            {
                if (day.Substantive > 0 && day.CoveredShiftMinutes >= parameters.ReportingCoverageShare * shiftMinutes)
                {
                    Reporting++;
                }

                if (day.RunNanoseconds > 0 && HasOutput(Device, day))
                {
                    OutputDays++;
                }
            }

            foreach (string identity in day.Identities)
            {
                Keep(identity, "serial_number=", Serials);
                Keep(identity, "product_instance_uri=", Uris);
                Keep(identity, "cert_thumbprint=", Thumbprints);
            }
        }

        private ulong Week(int day) => 1UL << ((day + LocalDays.EpochDayNumber - _firstMonday) / 7);

        private static void Keep(string identity, string prefix, HashSet<string> set)
        {
            if (identity.StartsWith(prefix, StringComparison.Ordinal))
            {
                set.Add(identity[prefix.Length..]);
            }
        }
    }
}
