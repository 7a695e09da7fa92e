using System.Globalization;
using System.Text;
using FactoryGateway.Evidence;
using FactoryGateway.Metrics.Policies;

namespace FactoryGateway.Metrics.Indicators;

/// <summary>
/// Reports as the CLI and the HTTP API give them: computed from an evidence store (frozen register,
/// ledger, flag resolutions), and rendered as JSON-ready objects or CSV.
/// </summary>
public static class IndicatorReports
{
    /// <summary>Freezes the register for the window (a report cites the snapshot's hash) and computes the scope's report.</summary>
    /// <param name="store">The evidence store.</param>
    /// <param name="scope">An enterprise or a region.</param>
    /// <param name="window">A month, quarter or year.</param>
    /// <param name="enterprise">The enterprise whose register alone is frozen; null for a region (the whole register).</param>
    public static IndicatorReport Compute(EvidenceStore store, IndicatorScope scope, Window window, string? enterprise)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(scope);
        ArgumentNullException.ThrowIfNull(window);
        RegisterSnapshot snapshot = store.Register.Freeze(enterprise, window);
        var indicatorWindow = IndicatorWindow.Of(window);
        var calculator = new IndicatorCalculator(new IndicatorParameters(), store.Register.ShiftCalendars);
        WindowEvaluation evaluation = calculator.Evaluate(
            indicatorWindow,
            RegisterViews.From(snapshot),
            store.Ledger.ReadDays(indicatorWindow.FromDay, indicatorWindow.ToDay),
            store.Ledger.ReadRoots(enterprise, indicatorWindow.FromDay, indicatorWindow.ToDay),
            new ResolutionBook(store.Resolutions.Read(enterprise)),
            store.Devices.CountFutureTimestamps(indicatorWindow.FromDay, indicatorWindow.ToDay));
        return calculator.Compute(scope, evaluation);
    }

    /// <summary>
    /// Progress against the seed policies' goals for a region report: every measurable goal set for exactly
    /// that region whose span covers the window's year and that a window's level decides (basis <c>level</c>
    /// or <c>each_year</c>), from the report's numerator and denominator (never an average of ratios). Goals
    /// added over years (<c>added_in_year</c>, <c>cumulative</c>), before/after goals and award thresholds
    /// need other inputs and are not listed. Empty for an enterprise report.
    /// </summary>
    public static IReadOnlyList<TargetProgress> Targets(IndicatorReport report, PolicyTargets targets)
    {
        ArgumentNullException.ThrowIfNull(report);
        ArgumentNullException.ThrowIfNull(targets);
        if (report.Scope.Kind != "region")
        {
            return [];
        }

        var progress = new List<TargetProgress>();
        foreach (PolicyTarget target in targets.ForRegionAndYear(report.Scope.Code, report.Window.From.Year))
        {
            if (!target.Measurable || target.Kind != TargetKind.Goal || target.Basis is not (TargetBasis.Level or TargetBasis.EachYear)
                || report.Indicators.FirstOrDefault(i => i.Id == target.Indicator) is not { } value)
            {
                continue;
            }

            progress.Add(target.Unit is TargetUnit.Ratio or TargetUnit.Per10kEmployees
                ? TargetProgress.OfRatio(target, value.Numerator, value.Denominator)
                : TargetProgress.Of(target, value.Value ?? value.Numerator));
        }

        return progress;
    }

    /// <summary>Target progress as an object for a snake_case JSON serializer.</summary>
    public static object ToJson(TargetProgress progress)
    {
        ArgumentNullException.ThrowIfNull(progress);
        return new
        {
            target = progress.Target.Id,
            policy = progress.Target.Policy,
            indicator = progress.Target.Indicator,
            region = progress.Target.Region,
            years = progress.Target.YearFrom == progress.Target.YearTo
                ? progress.Target.YearFrom.ToString(CultureInfo.InvariantCulture)
                : string.Create(CultureInfo.InvariantCulture, $"{progress.Target.YearFrom}-{progress.Target.YearTo}"),
            comparison = progress.Target.Comparison.WireName(),
            target_value = progress.Target.Value,
            unit = progress.Target.Unit.WireName(),
            actual = progress.Actual,
            numerator = progress.Numerator,
            denominator = progress.Denominator,
            progress = progress.Progress,
            verdict = progress.Verdict switch
            {
                TargetVerdict.Met => "met",
                TargetVerdict.NotMet => "not_met",
                _ => "insufficient_data",
            },
            reason = progress.Reason,
        };
    }

    /// <summary>The report as an object for a snake_case JSON serializer: indicators with their evidence, and every device.</summary>
    public static object ToJson(IndicatorReport report) => ToJson(report, []);

    /// <summary>The report with its target progress (<see cref="Targets"/>) as an object for a snake_case JSON serializer.</summary>
    public static object ToJson(IndicatorReport report, IReadOnlyList<TargetProgress> targets)
    {
        ArgumentNullException.ThrowIfNull(report);
        ArgumentNullException.ThrowIfNull(targets);
        return new
        {
            scope = report.Scope.ToString(),
            window = report.Window.Label,
            formula_set = report.FormulaSet,
            enterprises = report.Enterprises,
            indicators = report.Indicators,
            targets = targets.Select(ToJson),
            devices = report.Devices.Select(d => new
            {
                enterprise = d.Device.Enterprise,
                device = d.Device.Device,
                @class = DeviceClasses.Name(d.Device.Class),
                weight = d.Weight,
                scheduled_days = d.ScheduledDays,
                reporting_days = d.ReportingDays,
                run_seconds = d.RunSeconds,
                networked = d.IsNetworked,
                in_service = d.IsInService,
                not_networked = d.NotNetworkedReason,
                not_in_service = d.NotInServiceReason,
                flags = d.Flags.Select(f => new { flag = f.Name, evidence = f.Evidence }),
                resolved_flags = d.ResolvedFlags.Select(f => new
                {
                    flag = f.Flag.Name,
                    evidence = f.Flag.Evidence,
                    resolution = f.Resolution.Sequence,
                    window = f.Resolution.Window,
                    by = f.Resolution.Actor,
                    reason = f.Resolution.Reason,
                    at = f.Resolution.At,
                    hash = Convert.ToHexStringLower(f.Resolution.Hash),
                }),
            }),
        };
    }

    /// <summary>The CSV header <see cref="WriteCsv"/> writes.</summary>
    public const string CsvHeader = "scope,window,indicator,value,numerator,denominator,unit,counted,excluded,provisional,register_hash,formula_set,note";

    /// <summary>One line per indicator (RFC 4180: CRLF line ends, fields with a comma, quote or line break quoted).</summary>
    public static void WriteCsv(IndicatorReport report, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(report);
        ArgumentNullException.ThrowIfNull(output);
        output.Write(CsvHeader);
        output.Write("\r\n");
        foreach (IndicatorValue value in report.Indicators)
        {
            string[] fields =
            [
                report.Scope.ToString(),
                report.Window.Label,
                value.Id,
                value.Value?.ToString(CultureInfo.InvariantCulture) ?? "",
                value.Numerator.ToString(CultureInfo.InvariantCulture),
                value.Denominator.ToString(CultureInfo.InvariantCulture),
                value.Unit,
                value.Counted.Count.ToString(CultureInfo.InvariantCulture),
                value.Excluded.Count.ToString(CultureInfo.InvariantCulture),
                value.Provisional ? "true" : "false",
                value.RegisterHash,
                value.FormulaSet,
                value.Note ?? "",
            ];
            output.Write(string.Join(',', fields.Select(Quote)));
            output.Write("\r\n");
        }
    }

    private static string Quote(string field)
    {
        if (field.AsSpan().IndexOfAny(",\"\r\n") < 0)
        {
            return field;
        }

        var quoted = new StringBuilder(field.Length + 2).Append('"');
        quoted.Append(field.Replace("\"", "\"\"", StringComparison.Ordinal));
        return quoted.Append('"').ToString();
    }
}
