using System.Globalization;
using FactoryGateway.Evidence.Ledger;

namespace FactoryGateway.Metrics.Indicators;

/// <summary>
/// Evaluates registered devices over a window from their ledger rows (spec §3 status, §6 flags). Pure:
/// the same register, rows, calendar and parameters give the same evaluations.
/// </summary>
public sealed class DeviceEvaluator
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
    /// Evaluates every device of <paramref name="devices"/> over <paramref name="window"/>.
    /// <paramref name="rows"/> are the ledger rows of these devices (any order; rows outside the window are ignored).
    /// <paramref name="resolved"/> are the flags an operator has resolved for a device (they no longer count).
    /// </summary>
    public IReadOnlyList<DeviceEvaluation> Evaluate(
        IndicatorWindow window,
        IReadOnlyList<RegisteredDevice> devices,
        IReadOnlyList<DeviceDayRow> rows,
        Func<RegisteredDevice, IntegrityCheck, bool>? resolved = null)
    {
        ArgumentNullException.ThrowIfNull(window);
        ArgumentNullException.ThrowIfNull(devices);
        ArgumentNullException.ThrowIfNull(rows);
        var byDevice = rows
            .Where(r => r.Day >= window.FromDay && r.Day < window.ToDay)
            .GroupBy(r => (r.Enterprise, r.Device))
            .ToDictionary(g => g.Key, g => g.OrderBy(r => r.Day).ToList());
        Dictionary<(string, string), List<string>> clones = Clones(byDevice);
        Dictionary<(string, string), List<string>> duplicates = DuplicateIdentities(devices, byDevice);
        var evaluations = new List<DeviceEvaluation>(devices.Count);
        foreach (RegisteredDevice device in devices)
        {
            List<DeviceDayRow> deviceRows = byDevice.GetValueOrDefault((device.Enterprise, device.Device)) ?? [];
            evaluations.Add(EvaluateOne(window, device, deviceRows, clones, duplicates, resolved));
        }

        return evaluations;
    }

    private DeviceEvaluation EvaluateOne(
        IndicatorWindow window,
        RegisteredDevice device,
        List<DeviceDayRow> rows,
        Dictionary<(string, string), List<string>> clones,
        Dictionary<(string, string), List<string>> duplicates,
        Func<RegisteredDevice, IntegrityCheck, bool>? resolved)
    {
        DateOnly activeFrom = Max(window.From, device.Commissioned ?? window.From);
        DateOnly activeTo = Min(window.To, device.Retired ?? window.To);
        int activeDays = Math.Max(0, activeTo.DayNumber - activeFrom.DayNumber);
        decimal weight = window.Days == 0 ? 0 : (decimal)activeDays / window.Days;

        // Scheduled days of the active period and their shift minutes.
        var scheduled = new Dictionary<int, int>();
        var weeks = new HashSet<(int Year, int Week)>();
        for (DateOnly day = activeFrom; day < activeTo; day = day.AddDays(1))
        {
            _calendar.GetShiftMinutes(device.Enterprise, day, _shift);
            int minutes = _shift.Count(m => m);
            if (minutes > 0)
            {
                scheduled[LocalDays.DayOf(day)] = minutes;
                weeks.Add(IsoWeek(day));
            }
        }

        int reporting = 0;
        int substantiveDays = 0;
        int outputDays = 0;
        int heartbeatOnlyDays = 0;
        int testModeDays = 0;
        long runNs = 0;
        long runTestNs = 0;
        long parts = 0;
        long good = 0;
        long cycles = 0;
        int regular = 0;
        long backfill = 0;
        int resets = 0;
        double powerOn = 0;
        bool reportsPowerOn = false;
        DateOnly? lastSubstantive = null;
        var substantiveWeeks = new HashSet<(int, int)>();
        var serials = new HashSet<string>(StringComparer.Ordinal);
        var uris = new HashSet<string>(StringComparer.Ordinal);
        var thumbprints = new HashSet<string>(StringComparer.Ordinal);
        int activeFromDay = LocalDays.DayOf(activeFrom);
        int activeToDay = LocalDays.DayOf(activeTo);
        foreach (DeviceDayRow row in rows)
        {
            backfill += row.Backfill; // counted on the arrival day, whether or not the device was active then
            if (row.Day < activeFromDay || row.Day >= activeToDay)
            {
                continue;
            }

            long dayRun = row.StateNanosecondsOf(MachineState.Run);
            long dayRunTest = row.StateNanosecondsOf(MachineState.RunTest);
            runNs += dayRun;
            runTestNs += dayRunTest;
            parts += row.PartsDelta;
            good += row.GoodDelta;
            cycles += row.CyclesDelta;
            regular += row.RegularTransitions;
            resets += row.CounterResets;
            if (row.PowerOnDeltaSeconds > 0)
            {
                reportsPowerOn = true;
                powerOn += row.PowerOnDeltaSeconds;
            }

            if (dayRunTest > dayRun)
            {
                testModeDays++;
            }

            if (row.Substantive > 0)
            {
                substantiveDays++;
                substantiveWeeks.Add(IsoWeek(row.Date));
                lastSubstantive = row.Date;
            }
            else if (row.Samples + row.Events > 0)
            {
                heartbeatOnlyDays++;
            }

            if (scheduled.TryGetValue(row.Day, out int shiftMinutes))
            {
                if (row.Substantive > 0 && row.CoveredShiftMinutes >= _parameters.ReportingCoverageShare * shiftMinutes)
                {
                    reporting++;
                }

                if (dayRun > 0 && HasOutput(device, row))
                {
                    outputDays++;
                }
            }

            foreach (string identity in row.Identities)
            {
                AddIdentity(identity, "serial_number=", serials);
                AddIdentity(identity, "product_instance_uri=", uris);
                AddIdentity(identity, "cert_thumbprint=", thumbprints);
            }
        }

        long scheduledSeconds = scheduled.Values.Sum(m => (long)m) * 60;
        bool everyWeek = weeks.IsSubsetOf(substantiveWeeks);
        bool identityConsistent = (device.SerialNumber is null || serials.All(s => s == device.SerialNumber))
            && (device.ProductInstanceUri is null || uris.All(u => u == device.ProductInstanceUri));

        // §6 flags.
        decimal runSeconds = runNs / NanosecondsPerSecond;
        var flags = new List<RaisedFlag>();
        void Raise(IntegrityCheck flag, string evidence)
        {
            if (resolved is null || !resolved(device, flag))
            {
                flags.Add(new RaisedFlag(flag, evidence));
            }
        }

        if (heartbeatOnlyDays > 0 && heartbeatOnlyDays >= _parameters.HeartbeatOnlyShare * reporting)
        {
            Raise(IntegrityCheck.HeartbeatOnly, Invariant($"{heartbeatOnlyDays} day(s) with data but nothing substantive against {reporting} reporting day(s) (limit {_parameters.HeartbeatOnlyShare * 100:0.#}%)"));
        }

        if (testModeDays >= _parameters.TestModeDays)
        {
            Raise(IntegrityCheck.TestModePadding, Invariant($"run_test above run on {testModeDays} day(s) (limit {_parameters.TestModeDays})"));
        }

        if (runSeconds >= _parameters.NoOutputRunHours * 3600 && parts == 0 && cycles == 0)
        {
            Raise(IntegrityCheck.NoOutput, Invariant($"{runSeconds / 3600:0.#} h run with no parts or cycles"));
        }

        if (clones.TryGetValue((device.Enterprise, device.Device), out List<string>? twins))
        {
            Raise(IntegrityCheck.Clone, $"per-minute state vectors identical to {string.Join(", ", twins)} on {_parameters.CloneDays}+ day(s)");
        }

        if (duplicates.TryGetValue((device.Enterprise, device.Device), out List<string>? others))
        {
            Raise(IntegrityCheck.DuplicateIdentity, $"identity also under {string.Join(", ", others)}");
        }

        if (regular >= _parameters.SyntheticTransitions)
        {
            Raise(IntegrityCheck.SyntheticTiming, Invariant($"{regular} state transitions at a fixed period within sub-millisecond jitter (limit {_parameters.SyntheticTransitions})"));
        }

        if (backfill > 0)
        {
            Raise(IntegrityCheck.Backfill, Invariant($"{backfill} sample(s) arrived more than the backfill age after their source time"));
        }

        if (resets > 0)
        {
            Raise(IntegrityCheck.CounterRegression, Invariant($"monotone counters decreased {resets} time(s) with no declared reset"));
        }

        if (serials.Count > 1 || thumbprints.Count > 1)
        {
            Raise(IntegrityCheck.IdentityChange, $"identities seen: {string.Join(", ", serials.Concat(thumbprints).Order(StringComparer.Ordinal))}");
        }

        if (reportsPowerOn && (decimal)powerOn * (1 + _parameters.PowerTolerance) < runSeconds)
        {
            Raise(IntegrityCheck.PowerInconsistent, Invariant($"{runSeconds:0} s run against {powerOn:0} s of power-on growth"));
        }

        // §3 status.
        bool flagged = flags.Count > 0;
        string? notNetworked = weight == 0 ? "not active in the window"
            : scheduled.Count == 0 ? "no scheduled day while active"
            : reporting < _parameters.NetworkedReportingShare * scheduled.Count ? Invariant($"{reporting} of {scheduled.Count} scheduled day(s) reporting (needs {_parameters.NetworkedReportingShare * 100:0.#}%)")
            : !everyWeek ? "an ISO week with scheduled days has no substantive data"
            : !identityConsistent ? "identity seen differs from the register"
            : flagged ? $"flagged: {string.Join(", ", flags.Select(f => f.Name))}"
            : null;
        bool networked = notNetworked is null;

        decimal minRun = Math.Max(_parameters.InServiceMinRunHours * 3600, _parameters.InServiceMinRunShare * scheduledSeconds);
        string? notInService = weight == 0 ? "not active in the window"
            : flagged ? $"flagged: {string.Join(", ", flags.Select(f => f.Name))}"
            : !networked && reporting < _parameters.InServiceReportingShare * scheduled.Count ? Invariant($"not networked and {reporting} of {scheduled.Count} scheduled day(s) reporting (needs {_parameters.InServiceReportingShare * 100:0.#}%)")
            : runSeconds < minRun ? Invariant($"{runSeconds / 3600:0.#} h run (needs {minRun / 3600:0.#} h)")
            : outputDays < _parameters.InServiceMinDays ? Invariant($"run with output on {outputDays} scheduled day(s) (needs {_parameters.InServiceMinDays})")
            : null;

        return new DeviceEvaluation
        {
            Device = device,
            Weight = weight,
            ScheduledDays = scheduled.Count,
            ScheduledSeconds = scheduledSeconds,
            ReportingDays = reporting,
            SubstantiveDays = substantiveDays,
            EveryWeekSubstantive = everyWeek,
            IdentityConsistent = identityConsistent,
            Flags = flags,
            IsNetworked = networked,
            IsInService = notInService is null,
            RunSeconds = runSeconds,
            RunTestSeconds = runTestNs / NanosecondsPerSecond,
            OutputDays = outputDays,
            Parts = parts,
            GoodParts = good,
            Cycles = cycles,
            LastSubstantiveDay = lastSubstantive,
            NotNetworkedReason = notNetworked,
            NotInServiceReason = notInService,
        };
    }

    // Output evidence (§3): parts for machine tools, cycles for robots and PLC lines, either for the rest.
    private static bool HasOutput(RegisteredDevice device, DeviceDayRow row) => device.Class switch
    {
        DeviceClass.CncMachineTool => row.PartsDelta > 0,
        DeviceClass.IndustrialRobot or DeviceClass.PlcAutomated => row.CyclesDelta > 0,
        _ => row.PartsDelta > 0 || row.CyclesDelta > 0,
    };

    // Devices whose per-minute state vectors are identical on at least CloneDays days (days with at least
    // CloneMinTransitions transitions, so that flat idle days prove nothing).
    private Dictionary<(string, string), List<string>> Clones(Dictionary<(string Enterprise, string Device), List<DeviceDayRow>> byDevice)
    {
        var sameDays = new Dictionary<((string, string) A, (string, string) B), int>();
        var byDigest = new Dictionary<(int Day, string Digest), List<(string, string)>>();
        foreach (((string, string) key, List<DeviceDayRow> rows) in byDevice)
        {
            foreach (DeviceDayRow row in rows)
            {
                if (row.Transitions < _parameters.CloneMinTransitions)
                {
                    continue;
                }

                string digest = Convert.ToHexString(MinuteStates.Digest(row.Minutes));
                if (!byDigest.TryGetValue((row.Day, digest), out List<(string, string)>? same))
                {
                    byDigest[(row.Day, digest)] = same = [];
                }

                same.Add(key);
            }
        }

        foreach (List<(string Enterprise, string Device)> same in byDigest.Values.Where(s => s.Count > 1))
        {
            for (int i = 0; i < same.Count; i++)
            {
                for (int j = i + 1; j < same.Count; j++)
                {
                    var pair = (same[i], same[j]);
                    sameDays[pair] = sameDays.GetValueOrDefault(pair) + 1;
                }
            }
        }

        var clones = new Dictionary<(string, string), List<string>>();
        foreach ((((string Enterprise, string Device) a, (string Enterprise, string Device) b), int days) in sameDays)
        {
            if (days >= _parameters.CloneDays)
            {
                Add(clones, a, Name(b));
                Add(clones, b, Name(a));
            }
        }

        return clones;
    }

    // The same identity (register serial / product instance URI, or one seen in the rows) under two device ids.
    private static Dictionary<(string, string), List<string>> DuplicateIdentities(
        IReadOnlyList<RegisteredDevice> devices, Dictionary<(string Enterprise, string Device), List<DeviceDayRow>> byDevice)
    {
        var owners = new Dictionary<string, HashSet<(string, string)>>(StringComparer.Ordinal);
        void Own(string identity, (string, string) device)
        {
            if (!owners.TryGetValue(identity, out HashSet<(string, string)>? set))
            {
                owners[identity] = set = [];
            }

            set.Add(device);
        }

        foreach (RegisteredDevice device in devices)
        {
            if (device.SerialNumber is { Length: > 0 } serial)
            {
                Own("serial_number=" + serial, (device.Enterprise, device.Device));
            }

            if (device.ProductInstanceUri is { Length: > 0 } uri)
            {
                Own("product_instance_uri=" + uri, (device.Enterprise, device.Device));
            }
        }

        foreach (((string, string) key, List<DeviceDayRow> rows) in byDevice)
        {
            foreach (string identity in rows.SelectMany(r => r.Identities).Distinct(StringComparer.Ordinal))
            {
                Own(identity, key);
            }
        }

        var duplicates = new Dictionary<(string, string), List<string>>();
        foreach (HashSet<(string Enterprise, string Device)> set in owners.Values.Where(s => s.Count > 1))
        {
            foreach ((string, string) device in set)
            {
                foreach ((string, string) other in set.Where(o => o != device))
                {
                    if (!duplicates.TryGetValue(device, out List<string>? list) || !list.Contains(Name(other)))
                    {
                        Add(duplicates, device, Name(other));
                    }
                }
            }
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

    private static void AddIdentity(string identity, string prefix, HashSet<string> set)
    {
        if (identity.StartsWith(prefix, StringComparison.Ordinal))
        {
            set.Add(identity[prefix.Length..]);
        }
    }

    private static (int, int) IsoWeek(DateOnly day)
    {
        DateTime date = day.ToDateTime(TimeOnly.MinValue);
        return (ISOWeek.GetYear(date), ISOWeek.GetWeekOfYear(date));
    }

    private static DateOnly Max(DateOnly a, DateOnly b) => a > b ? a : b;

    private static DateOnly Min(DateOnly a, DateOnly b) => a < b ? a : b;

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
