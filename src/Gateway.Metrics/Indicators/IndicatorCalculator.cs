using System.Globalization;
using FactoryGateway.Evidence;
using FactoryGateway.Evidence.Ledger;

namespace FactoryGateway.Metrics.Indicators;

/// <summary>What a report covers: one enterprise, or a region (a county code, or a city code ending in <c>00</c>).</summary>
public sealed record IndicatorScope(string Kind, string Code)
{
    public static IndicatorScope Enterprise(string code) => new("enterprise", code);

    public static IndicatorScope Region(string code) => new("region", code);

    public bool Includes(IndicatorEnterprise enterprise) => Kind == "enterprise"
        ? enterprise.Code == Code
        : enterprise.Region == Code || (Code.EndsWith("00", StringComparison.Ordinal) && enterprise.Region.StartsWith(Code[..4], StringComparison.Ordinal));

    public override string ToString() => $"{Kind} {Code}";
}

/// <summary>A device left out of an indicator's numerator, and why.</summary>
public sealed record ExcludedDevice(string Enterprise, string Device, string Reason);

/// <summary>
/// One indicator value (spec §4) with everything needed to recompute it: numerator, denominator, the
/// devices counted and those excluded with the reason, the register snapshot hash and the ledger roots.
/// </summary>
public sealed record IndicatorValue
{
    public required string Id { get; init; }

    public required string FormulaSet { get; init; }

    public required string Window { get; init; }

    public required string Scope { get; init; }

    public required decimal Numerator { get; init; }

    public required decimal Denominator { get; init; }

    /// <summary>Numerator ÷ denominator (× 10,000 for robot density), rounded to 6 places; null when the denominator is 0.</summary>
    public required decimal? Value { get; init; }

    public string Unit { get; init; } = "ratio";

    public required IReadOnlyList<string> Counted { get; init; }

    public required IReadOnlyList<ExcludedDevice> Excluded { get; init; }

    public required string RegisterHash { get; init; }

    public required IReadOnlyList<string> LedgerRoots { get; init; }

    /// <summary>True when some day of the window is not sealed yet: the value may still change.</summary>
    public required bool Provisional { get; init; }

    public string? Note { get; init; }
}

/// <summary>Every registered device evaluated over one window, with the window's ledger roots.</summary>
public sealed record WindowEvaluation(
    IndicatorWindow Window,
    RegisterView Register,
    IReadOnlyList<DeviceEvaluation> Devices,
    IReadOnlyList<LedgerRoot> Roots,
    IReadOnlySet<string> UnsealedEnterprises);

/// <summary>The indicators of one scope and window, and the device evaluations behind them.</summary>
public sealed record IndicatorReport(
    IndicatorScope Scope,
    IndicatorWindow Window,
    string FormulaSet,
    IReadOnlyList<IndicatorValue> Indicators,
    IReadOnlyList<DeviceEvaluation> Devices,
    IReadOnlyList<string> Enterprises);

/// <summary>
/// Computes the indicators of spec §4 for an enterprise or a region over a window, from the frozen register
/// and the ledger rows. Regional figures add numerators and denominators, never average ratios. Ratio
/// denominators weigh each device by its active share of the window (a device commissioned or retired
/// mid-window counts for the days it was active); counts (robots, connected devices, retrofitted devices)
/// count whole devices.
/// </summary>
public sealed class IndicatorCalculator
{
    private readonly IndicatorParameters _parameters;
    private readonly IShiftCalendarSource _calendar;

    public IndicatorCalculator(IndicatorParameters parameters, IShiftCalendarSource calendar)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(calendar);
        _parameters = parameters;
        _calendar = calendar;
    }

    /// <summary>
    /// Evaluates every registered device over <paramref name="window"/> in one pass over the ledger's
    /// <paramref name="days"/>; <see cref="Compute(IndicatorScope, WindowEvaluation)"/> then reports any scope
    /// from it without reading the ledger again.
    /// </summary>
    public WindowEvaluation Evaluate(
        IndicatorWindow window,
        RegisterView register,
        IEnumerable<LedgerDay> days,
        IReadOnlyList<LedgerRoot> roots,
        ResolutionBook? resolutions = null,
        IReadOnlyDictionary<(string Enterprise, string Device), long>? futureRefusals = null)
    {
        ArgumentNullException.ThrowIfNull(window);
        ArgumentNullException.ThrowIfNull(register);
        ArgumentNullException.ThrowIfNull(days);
        ArgumentNullException.ThrowIfNull(roots);
        var unsealed = new HashSet<string>(StringComparer.Ordinal);
        IEnumerable<LedgerDay> watched = days.Select(day =>
        {
            if (!day.IsSealed && day.Day >= window.FromDay && day.Day < window.ToDay)
            {
                unsealed.Add(day.Enterprise);
            }

            return day;
        });
        IReadOnlyList<DeviceEvaluation> evaluations = new DeviceEvaluator(_parameters, _calendar).Evaluate(window, register.Devices, watched, resolutions, futureRefusals);
        return new WindowEvaluation(window, register, evaluations, [.. roots.Where(r => r.Day >= window.FromDay && r.Day < window.ToDay)], unsealed);
    }

    /// <summary>Evaluates and reports one scope: <see cref="Evaluate"/> then <see cref="Compute(IndicatorScope, WindowEvaluation)"/>.</summary>
    public IndicatorReport Compute(
        IndicatorScope scope,
        IndicatorWindow window,
        RegisterView register,
        IEnumerable<LedgerDay> days,
        IReadOnlyList<LedgerRoot> roots,
        ResolutionBook? resolutions = null) =>
        Compute(scope, Evaluate(window, register, days, roots, resolutions));

    /// <summary>The indicators of one enterprise or region from a window's evaluation.</summary>
    public IndicatorReport Compute(IndicatorScope scope, WindowEvaluation evaluation)
    {
        ArgumentNullException.ThrowIfNull(scope);
        ArgumentNullException.ThrowIfNull(evaluation);
        IndicatorWindow window = evaluation.Window;
        List<IndicatorEnterprise> enterprises = [.. evaluation.Register.Enterprises.Where(scope.Includes).OrderBy(e => e.Code, StringComparer.Ordinal)];
        var codes = new HashSet<string>(enterprises.Select(e => e.Code), StringComparer.Ordinal);
        List<DeviceEvaluation> evaluations = [.. evaluation.Devices
            .Where(e => codes.Contains(e.Device.Enterprise))
            .OrderBy(e => e.Device.Enterprise, StringComparer.Ordinal).ThenBy(e => e.Device.Device, StringComparer.Ordinal)];

        string[] rootList = [.. evaluation.Roots
            .Where(r => codes.Contains(r.Enterprise))
            .OrderBy(r => r.Enterprise, StringComparer.Ordinal).ThenBy(r => r.Day)
            .Select(r => string.Create(CultureInfo.InvariantCulture, $"{r.Enterprise}/{r.Date:yyyy-MM-dd}/{r.RootHex}"))];
        bool provisional = codes.Overlaps(evaluation.UnsealedEnterprises);

        var context = new Context(_parameters, window, scope, evaluation.Register.SnapshotHash, rootList, provisional);
        var values = new List<IndicatorValue>
        {
            context.Ratio("digital_networked_ratio", evaluations, e => e.Device.Digital, e => e.IsNetworked, e => e.NotNetworkedReason),
            context.Ratio("production_networked_ratio", evaluations, e => e.Device.Production, e => e.IsNetworked, e => e.NotNetworkedReason),
            context.Ratio("equipment_digital_ratio", evaluations, e => e.Device.Production, e => e.Device.Digital, _ => "not digital (declared in the register)"),
            context.Ratio("key_process_nc_ratio", evaluations, e => e.Device.KeyProcess, e => e.Device.Nc && e.IsInService, e => e.Device.Nc ? e.NotInServiceReason : "not NC"),
            context.Ratio("equipment_nc_ratio", evaluations, e => e.Device.Production, e => e.Device.Nc && e.IsInService, e => e.Device.Nc ? e.NotInServiceReason : "not NC"),
        };

        IndicatorValue workShare = context.Sum(
            "key_process_nc_work_share", evaluations, e => e.Device.KeyProcess && e.IsActive, e => e.Device.Nc ? e.RunSeconds : 0, e => e.RunSeconds, "ratio");
        decimal? keyNc = values[3].Value;
        if (workShare.Value is { } share && keyNc is { } ratio && (ratio - share) * 100 >= _parameters.WorkShareGapPoints)
        {
            workShare = workShare with { Note = Invariant($"work share is {(ratio - share) * 100:0.#} points below key_process_nc_ratio (flag at {_parameters.WorkShareGapPoints} points)") };
        }

        values.Add(workShare);

        DateOnly last = window.To.AddDays(-1);
        values.Add(context.Count("robots_in_service", evaluations, e => e.Device.IsRobot && e.IsActive, e => e.IsInService, e => e.NotInServiceReason));
        values.Add(context.Count("robots_registered", evaluations,
            e => e.Device.IsRobot && (e.Device.Commissioned is null || e.Device.Commissioned <= last) && (e.Device.Retired is null || e.Device.Retired >= last),
            e => e.Device.Commissioned is { } c && c.AddYears(_parameters.RobotStockYears) > last,
            e => e.Device.Commissioned is null ? "no commissioning date" : Invariant($"commissioned {e.Device.Commissioned:yyyy-MM-dd}, {_parameters.RobotStockYears}+ years before the window's end")));
        values.Add(RobotDensity(context, evaluations, enterprises, window));
        values.Add(context.Sum("utilization", evaluations, e => e.Device.Production && e.IsActive, e => e.RunSeconds, e => e.ScheduledSeconds, "ratio"));
        values.Add(context.Sum("availability", evaluations, e => e.Device.Production && e.IsActive, e => e.RunSeconds, e => e.ScheduledSeconds, "ratio"));
        values.Add(context.Sum("performance", evaluations, e => e.Device.Production && e.IsActive && e.Device.IdealCycleSeconds is > 0 && e.RunSeconds > 0,
            e => (decimal)e.Device.IdealCycleSeconds!.Value * e.Parts, e => e.RunSeconds, "ratio"));
        values.Add(context.Sum("quality", evaluations, e => e.Device.Production && e.IsActive && e.Parts > 0 && e.GoodParts > 0, e => e.GoodParts, e => e.Parts, "ratio"));
        values.Add(Oee(context, values));
        values.Add(context.Sum("cycle_time_s", evaluations, e => e.Device.Class == DeviceClass.CncMachineTool && e.IsActive && e.Parts > 0, e => e.RunSeconds, e => e.Parts, "s"));
        IndicatorValue quality = values.Single(v => v.Id == "quality");
        values.Add(quality with
        {
            Id = "defect_rate",
            Numerator = quality.Denominator - quality.Numerator,
            Value = quality.Value is { } q ? Math.Round(1 - q, 6) : null,
        });

        IndicatorValue connected = Connected(context, evaluations, window);
        values.Add(connected);
        string[] served = [.. connected.Counted.Select(c => c[..c.IndexOf('/', StringComparison.Ordinal)]).Distinct(StringComparer.Ordinal)];
        values.Add(connected with
        {
            Id = "enterprises_served",
            Numerator = served.Length,
            Denominator = enterprises.Count,
            Value = served.Length,
            Unit = "enterprises",
            Counted = served,
            Excluded = [.. enterprises.Where(e => !served.Contains(e.Code)).Select(e => new ExcludedDevice(e.Code, "*", "no connected device"))],
        });
        values.Add(context.Count("retrofitted_devices", evaluations, e => e.Device.RetrofitProject is not null && e.IsActive, e => e.IsNetworked && e.IsInService,
            e => e.NotNetworkedReason ?? e.NotInServiceReason));
        return new IndicatorReport(scope, window, _parameters.FormulaSet, values, evaluations, [.. enterprises.Select(e => e.Code)]);
    }

    private static IndicatorValue RobotDensity(Context context, List<DeviceEvaluation> evaluations, List<IndicatorEnterprise> enterprises, IndicatorWindow window)
    {
        decimal robots = evaluations.Count(e => e.Device.IsRobot && e.IsActive && e.IsInService);
        decimal employees = 0;
        var excluded = new List<ExcludedDevice>();
        foreach (IndicatorEnterprise enterprise in enterprises)
        {
            List<decimal> months = [];
            for (DateOnly month = new(window.From.Year, window.From.Month, 1); month < window.To; month = month.AddMonths(1))
            {
                if (enterprise.Employees.TryGetValue(month, out decimal headcount))
                {
                    months.Add(headcount);
                }
            }

            if (months.Count == 0)
            {
                excluded.Add(new ExcludedDevice(enterprise.Code, "*", "no monthly employee figure in the window: the enterprise adds no employees"));
                continue;
            }

            employees += months.Average();
        }

        return new IndicatorValue
        {
            Id = "robot_density",
            FormulaSet = context.Parameters.FormulaSet,
            Window = context.Window.Label,
            Scope = context.Scope.ToString(),
            Numerator = robots,
            Denominator = Math.Round(employees, 4),
            Value = employees == 0 ? null : Math.Round(robots / employees * 10_000m, 6),
            Unit = "robots per 10,000 employees",
            Counted = [.. evaluations.Where(e => e.Device.IsRobot && e.IsActive && e.IsInService).Select(Key)],
            Excluded = excluded,
            RegisterHash = context.RegisterHash,
            LedgerRoots = context.Roots,
            Provisional = context.Provisional,
        };
    }

    private static IndicatorValue Oee(Context context, List<IndicatorValue> values)
    {
        decimal? a = values.Single(v => v.Id == "availability").Value;
        decimal? p = values.Single(v => v.Id == "performance").Value;
        decimal? q = values.Single(v => v.Id == "quality").Value;
        decimal? oee = a is { } av && p is { } pv && q is { } qv ? Math.Round(av * pv * qv, 6) : null;
        return new IndicatorValue
        {
            Id = "oee",
            FormulaSet = context.Parameters.FormulaSet,
            Window = context.Window.Label,
            Scope = context.Scope.ToString(),
            Numerator = oee ?? 0,
            Denominator = 1,
            Value = oee,
            Counted = [],
            Excluded = [],
            RegisterHash = context.RegisterHash,
            LedgerRoots = context.Roots,
            Provisional = context.Provisional,
            Note = oee is null ? "needs availability, performance (ideal cycle times in the register) and quality" : "availability × performance × quality",
        };
    }

    private IndicatorValue Connected(Context context, List<DeviceEvaluation> evaluations, IndicatorWindow window)
    {
        DateOnly recentFrom = window.To.AddDays(-_parameters.ConnectedRecentDays);
        var identities = new HashSet<string>(StringComparer.Ordinal);
        var counted = new List<string>();
        var excluded = new List<ExcludedDevice>();
        foreach (DeviceEvaluation e in evaluations.Where(e => e.IsActive))
        {
            string identity = e.Device.ProductInstanceUri ?? (e.Device.SerialNumber is { } s ? "serial:" + s : $"{e.Device.Enterprise}/{e.Device.Device}");
            if (e.SubstantiveDays < _parameters.ConnectedMinDays)
            {
                excluded.Add(new ExcludedDevice(e.Device.Enterprise, e.Device.Device, Invariant($"substantive data on {e.SubstantiveDays} day(s) (needs {_parameters.ConnectedMinDays})")));
            }
            else if (e.LastSubstantiveDay is not { } lastDay || lastDay < recentFrom)
            {
                excluded.Add(new ExcludedDevice(e.Device.Enterprise, e.Device.Device, Invariant($"no substantive data in the window's last {_parameters.ConnectedRecentDays} days")));
            }
            else if (!identities.Add(identity))
            {
                excluded.Add(new ExcludedDevice(e.Device.Enterprise, e.Device.Device, "same identity as a device already counted"));
            }
            else
            {
                counted.Add(Key(e));
            }
        }

        return new IndicatorValue
        {
            Id = "connected_devices",
            FormulaSet = context.Parameters.FormulaSet,
            Window = window.Label,
            Scope = context.Scope.ToString(),
            Numerator = counted.Count,
            Denominator = evaluations.Count(e => e.IsActive),
            Value = counted.Count,
            Unit = "devices",
            Counted = counted,
            Excluded = excluded,
            RegisterHash = context.RegisterHash,
            LedgerRoots = context.Roots,
            Provisional = context.Provisional,
        };
    }

    private static string Key(DeviceEvaluation e) => $"{e.Device.Enterprise}/{e.Device.Device}";

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    private sealed record Context(IndicatorParameters Parameters, IndicatorWindow Window, IndicatorScope Scope, string RegisterHash, IReadOnlyList<string> Roots, bool Provisional)
    {
        // |in ∧ counted| / |in|, each device weighted by its active share of the window.
        public IndicatorValue Ratio(string id, List<DeviceEvaluation> evaluations, Func<DeviceEvaluation, bool> member, Func<DeviceEvaluation, bool> counted, Func<DeviceEvaluation, string?> reason)
        {
            List<DeviceEvaluation> members = [.. evaluations.Where(e => e.IsActive && member(e))];
            List<DeviceEvaluation> numerator = [.. members.Where(counted)];
            decimal num = numerator.Sum(e => e.Weight);
            decimal den = members.Sum(e => e.Weight);
            return Value(id, num, den, "ratio", numerator, members.Where(e => !counted(e)).Select(e => new ExcludedDevice(e.Device.Enterprise, e.Device.Device, reason(e) ?? "not counted")));
        }

        // A count of whole devices.
        public IndicatorValue Count(string id, List<DeviceEvaluation> evaluations, Func<DeviceEvaluation, bool> member, Func<DeviceEvaluation, bool> counted, Func<DeviceEvaluation, string?> reason)
        {
            List<DeviceEvaluation> members = [.. evaluations.Where(member)];
            List<DeviceEvaluation> numerator = [.. members.Where(counted)];
            IndicatorValue value = Value(id, numerator.Count, members.Count, "devices", numerator, members.Where(e => !counted(e)).Select(e => new ExcludedDevice(e.Device.Enterprise, e.Device.Device, reason(e) ?? "not counted")));
            return value with { Value = numerator.Count };
        }

        // Σ numerator / Σ denominator over the members (a ratio of sums, never a mean of ratios).
        public IndicatorValue Sum(string id, List<DeviceEvaluation> evaluations, Func<DeviceEvaluation, bool> member, Func<DeviceEvaluation, decimal> numerator, Func<DeviceEvaluation, decimal> denominator, string unit)
        {
            List<DeviceEvaluation> members = [.. evaluations.Where(member)];
            return Value(id, members.Sum(numerator), members.Sum(denominator), unit, members, []);
        }

        private IndicatorValue Value(string id, decimal numerator, decimal denominator, string unit, IEnumerable<DeviceEvaluation> counted, IEnumerable<ExcludedDevice> excluded) => new()
        {
            Id = id,
            FormulaSet = Parameters.FormulaSet,
            Window = Window.Label,
            Scope = Scope.ToString(),
            Numerator = Math.Round(numerator, 6),
            Denominator = Math.Round(denominator, 6),
            Value = denominator == 0 ? null : Math.Round(numerator / denominator, 6),
            Unit = unit,
            Counted = [.. counted.Select(Key)],
            Excluded = [.. excluded],
            RegisterHash = RegisterHash,
            LedgerRoots = Roots,
            Provisional = Provisional,
        };
    }
}
