using System.CommandLine;
using System.Globalization;
using FactoryGateway.Evidence;
using FactoryGateway.Evidence.Ledger;
using FactoryGateway.Metrics.Indicators;

namespace FactoryGateway.Cli;

/// <summary>
/// <c>fgw flags resolve|reopen|list</c>: operators' decisions on integrity flags (spec §6), recorded in the
/// ledger's append-only, hash-chained resolution log.
/// </summary>
internal static class FlagsCommand
{
    public static Command Create()
    {
        var command = new Command("flags", "Record and list operators' resolutions of integrity flags (who, why, when).")
        {
            Decision("resolve", ResolutionAction.Resolve, "Resolve a device's flag for a window: the device counts again in that window's indicators, and reports show the resolution."),
            Decision("reopen", ResolutionAction.Reopen, "Take a resolution back for a window: the flag counts again."),
            List(),
        };
        return command;
    }

    private static Command Decision(string name, ResolutionAction action, string description)
    {
        var dataDir = new Option<string>("--data-dir") { Description = "The service's data directory (holds evidence.db).", Required = true };
        var enterprise = new Option<string>("--enterprise") { Description = "The enterprise's unified social credit code.", Required = true };
        var device = new Option<string>("--device") { Description = "The device id as registered.", Required = true };
        var flag = new Option<string>("--flag") { Description = $"The flag: {string.Join(", ", Enum.GetValues<IntegrityCheck>().Select(FlagNames.Of))}.", Required = true };
        var window = new Option<string>("--window") { Description = "The window it covers: a month (2026-07), quarter (2026Q3) or year (2026); report windows inside it follow it.", Required = true };
        var by = new Option<string>("--by") { Description = "Who decides (name or role).", Required = true };
        var reason = new Option<string>("--reason") { Description = "Why: what was checked.", Required = true };
        var command = new Command(name, description) { dataDir, enterprise, device, flag, window, by, reason };
        command.SetAction(parse =>
        {
            TextWriter output = parse.InvocationConfiguration.Output;
            TextWriter error = parse.InvocationConfiguration.Error;
            string flagName = parse.GetRequiredValue(flag);
            if (!Enum.GetValues<IntegrityCheck>().Any(f => FlagNames.Of(f) == flagName))
            {
                error.WriteLine($"fgw flags {name}: \"{flagName}\" is not a flag; the flags are {string.Join(", ", Enum.GetValues<IntegrityCheck>().Select(FlagNames.Of))}.");
                return 2;
            }

            if (!Window.TryParse(parse.GetRequiredValue(window), TimeZones.ChinaStandardTimeOffsetMinutes, out Window? span))
            {
                error.WriteLine($"fgw flags {name}: \"{parse.GetRequiredValue(window)}\" is not a window: write a month 2026-07, a quarter 2026Q3 or a year 2026.");
                return 2;
            }

            using EvidenceStore store = EvidenceStore.Open(parse.GetRequiredValue(dataDir));
            FlagResolution recorded;
            try
            {
                recorded = store.Resolutions.Record(new FlagResolutionRequest
                {
                    Enterprise = parse.GetRequiredValue(enterprise),
                    Device = parse.GetRequiredValue(device),
                    Flag = flagName,
                    Window = span,
                    Action = action,
                    Actor = parse.GetRequiredValue(by),
                    Reason = parse.GetRequiredValue(reason),
                });
            }
            catch (ArgumentException rejected)
            {
                error.WriteLine($"fgw flags {name}: {rejected.Message}");
                return 1;
            }

            output.WriteLine(Describe(recorded));
            return 0;
        });
        return command;
    }

    private static Command List()
    {
        var dataDir = new Option<string>("--data-dir") { Description = "The service's data directory (holds evidence.db).", Required = true };
        var enterprise = new Option<string?>("--enterprise") { Description = "Only this enterprise's resolutions." };
        var command = new Command("list", "List every recorded resolution in order.") { dataDir, enterprise };
        command.SetAction(parse =>
        {
            using EvidenceStore store = EvidenceStore.Open(parse.GetRequiredValue(dataDir));
            IReadOnlyList<FlagResolution> all = store.Resolutions.Read(parse.GetValue(enterprise));
            TextWriter output = parse.InvocationConfiguration.Output;
            foreach (FlagResolution resolution in all)
            {
                output.WriteLine(Describe(resolution));
            }

            output.WriteLine($"{all.Count} resolution(s)");
            return 0;
        });
        return command;
    }

    internal static string Describe(FlagResolution r) => string.Create(CultureInfo.InvariantCulture,
        $"#{r.Sequence} {r.At:yyyy-MM-dd HH:mm:ss}Z {FlagResolution.ActionName(r.Action)} {r.Flag} of {r.Enterprise}/{r.Device} for {r.Window} by {r.Actor}: {r.Reason} (hash {Convert.ToHexStringLower(r.Hash)[..16]}…)");
}
