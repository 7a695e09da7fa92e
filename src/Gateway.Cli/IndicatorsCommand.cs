using System.CommandLine;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using FactoryGateway.Evidence;
using FactoryGateway.Evidence.Ledger;
using FactoryGateway.Metrics.Indicators;
using FactoryGateway.Metrics.Policies;

namespace FactoryGateway.Cli;

/// <summary>
/// <c>fgw indicators --data-dir DIR (--enterprise CODE | --region CODE) --window 2026Q3 [--json]</c>: the
/// spec §4 indicators of an enterprise or region from the frozen register and the ledger.
/// </summary>
internal static class IndicatorsCommand
{
    private static readonly JsonSerializerOptions s_json = new()
    {
        WriteIndented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
    };

    public static Command Create()
    {
        var dataDir = new Option<string>("--data-dir") { Description = "The service's data directory (holds evidence.db).", Required = true };
        var enterprise = new Option<string?>("--enterprise") { Description = "An enterprise's unified social credit code." };
        var region = new Option<string?>("--region") { Description = "A 6-digit county code, or a city code ending in 00 (its counties added up)." };
        var window = new Option<string>("--window") { Description = "A month (2026-07), quarter (2026Q3) or year (2026).", Required = true };
        var json = new Option<bool>("--json") { Description = "Print the report as JSON (every value with its counted and excluded devices)." };
        var outFile = new Option<string?>("--out") { Description = "Write the report to this file instead of standard output." };
        var command = new Command("indicators", "Compute the indicators of an enterprise or a region over a window, with counted and excluded devices and the flags raised.")
        {
            dataDir, enterprise, region, window, json, outFile,
        };
        command.SetAction(parse =>
        {
            TextWriter output = parse.InvocationConfiguration.Output;
            TextWriter error = parse.InvocationConfiguration.Error;
            string? code = parse.GetValue(enterprise);
            string? area = parse.GetValue(region);
            if ((code is null) == (area is null))
            {
                error.WriteLine("fgw indicators: give exactly one of --enterprise CODE or --region CODE.");
                return 2;
            }

            if (!Window.TryParse(parse.GetRequiredValue(window), TimeZones.ChinaStandardTimeOffsetMinutes, out Window? span))
            {
                error.WriteLine($"fgw indicators: \"{parse.GetRequiredValue(window)}\" is not a window: write a month 2026-07, a quarter 2026Q3 or a year 2026.");
                return 2;
            }

            using EvidenceStore store = EvidenceStore.Open(parse.GetRequiredValue(dataDir));
            if (code is not null && store.Register.GetEnterprise(code) is null)
            {
                error.WriteLine($"fgw indicators: enterprise {code} is not in the register.");
                return 1;
            }

            IndicatorReport report = IndicatorReports.Compute(store, code is not null ? IndicatorScope.Enterprise(code) : IndicatorScope.Region(area!), span, code);
            var text = new StringWriter(CultureInfo.InvariantCulture);
            if (parse.GetValue(json))
            {
                text.WriteLine(JsonSerializer.Serialize(IndicatorReports.ToJson(report, Targets(report)), s_json));
            }
            else
            {
                Print(report, text);
                PrintTargets(Targets(report), text);
            }

            if (parse.GetValue(outFile) is { } path)
            {
                File.WriteAllText(path, text.ToString());
                output.WriteLine($"fgw indicators: {report.Scope}, window {report.Window.Label}: {report.Indicators.Count} indicators written to {path}");
            }
            else
            {
                output.Write(text.ToString());
            }

            return 0;
        });
        return command;
    }

    internal static void Print(IndicatorReport report, TextWriter output)
    {
        IndicatorValue first = report.Indicators[0];
        output.WriteLine($"{report.Scope} — window {report.Window.Label} ({report.Window.From:yyyy-MM-dd} to {report.Window.To.AddDays(-1):yyyy-MM-dd}), formula set {report.FormulaSet}");
        output.WriteLine($"register snapshot {first.RegisterHash}; {first.LedgerRoots.Count} enterprise-day ledger root(s){(first.Provisional ? "; PROVISIONAL: some days are not sealed yet" : "")}");
        output.WriteLine();
        output.WriteLine($"{"indicator",-28} {"value",12} {"numerator",12} {"denominator",12}  counted  excluded  unit");
        foreach (IndicatorValue value in report.Indicators)
        {
            string shown = value.Value is { } v ? v.ToString("0.####", CultureInfo.InvariantCulture) : "n/a";
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{value.Id,-28} {shown,12} {value.Numerator,12:0.####} {value.Denominator,12:0.####}  {value.Counted.Count,7}  {value.Excluded.Count,8}  {value.Unit}{(value.Note is null ? "" : "  — " + value.Note)}"));
        }

        output.WriteLine();
        output.WriteLine($"{"device",-36} {"class",-17} {"weight",6} {"sched",5} {"report",6} {"run h",8}  status");
        foreach (DeviceEvaluation device in report.Devices)
        {
            string status = device.IsFlagged ? "flagged: " + string.Join(", ", device.Flags.Select(f => $"{f.Name} ({f.Evidence})"))
                : device.IsNetworked && device.IsInService ? "networked, in service"
                : device.IsNetworked ? $"networked; not in service: {device.NotInServiceReason}"
                : device.IsInService ? $"in service; not networked: {device.NotNetworkedReason}"
                : $"not networked: {device.NotNetworkedReason}";
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{device.Device.Enterprise + "/" + device.Device.Device,-36} {DeviceClasses.Name(device.Device.Class),-17} {device.Weight,6:0.##} {device.ScheduledDays,5} {device.ReportingDays,6} {device.RunSeconds / 3600,8:0.0}  {status}"));
            foreach (ResolvedFlag resolved in device.ResolvedFlags)
            {
                FlagResolution r = resolved.Resolution;
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{"",-36} resolved: {resolved.Flag.Name} ({resolved.Flag.Evidence}) — #{r.Sequence} by {r.Actor} on {r.At:yyyy-MM-dd} for {r.Window}: {r.Reason}"));
            }
        }
    }

    private static IReadOnlyList<TargetProgress> Targets(IndicatorReport report) => IndicatorReports.Targets(report, PolicyTargets.Load());

    internal static void PrintTargets(IReadOnlyList<TargetProgress> targets, TextWriter output)
    {
        if (targets.Count == 0)
        {
            return;
        }

        output.WriteLine();
        output.WriteLine($"{"policy target",-40} {"indicator",-24} {"target",10} {"actual",12} {"progress",9}  verdict");
        foreach (TargetProgress progress in targets)
        {
            PolicyTarget target = progress.Target;
            string verdict = progress.Verdict switch
            {
                TargetVerdict.Met => "met",
                TargetVerdict.NotMet => "not met",
                _ => "insufficient data" + (progress.Reason is null ? "" : ": " + progress.Reason),
            };
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{target.Id,-40} {target.Indicator,-24} {target.Comparison.WireName() + " " + target.Value.ToString("0.####", CultureInfo.InvariantCulture),10} {(progress.Actual is { } a ? a.ToString("0.####", CultureInfo.InvariantCulture) : "n/a"),12} {(progress.Progress is { } p ? p.ToString("0.###", CultureInfo.InvariantCulture) : "n/a"),9}  {verdict}"));
        }
    }
}
