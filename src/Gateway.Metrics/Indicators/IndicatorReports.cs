using System.Globalization;
using System.Text;
using FactoryGateway.Evidence;

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
            store.Ledger.ReadWindow(indicatorWindow.FromDay, indicatorWindow.ToDay),
            store.Ledger.ReadRoots(enterprise, indicatorWindow.FromDay, indicatorWindow.ToDay),
            new ResolutionBook(store.Resolutions.Read(enterprise)));
        return calculator.Compute(scope, evaluation);
    }

    /// <summary>The report as an object for a snake_case JSON serializer: indicators with their evidence, and every device.</summary>
    public static object ToJson(IndicatorReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        return new
        {
            scope = report.Scope.ToString(),
            window = report.Window.Label,
            formula_set = report.FormulaSet,
            enterprises = report.Enterprises,
            indicators = report.Indicators,
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
