using System.CommandLine;
using System.Globalization;
using FactoryGateway.Evidence;

namespace FactoryGateway.Cli;

/// <summary><c>fgw register import|export|freeze</c>: the asset register in the evidence store (docs/register.md).</summary>
internal static class RegisterCommand
{
    public static Command Create() => new("register", "The asset register: enterprises, employees, shift calendars, key processes, devices.")
    {
        CreateImport(),
        CreateExport(),
        CreateFreeze(),
    };

    private static Option<string> DataDir() => new("--data-dir") { Description = "The service's data directory (holds evidence.db).", Required = true };

    private static Command CreateImport()
    {
        Option<string> dataDir = DataDir();
        var files = new Argument<string[]>("file")
        {
            Description = "Register files: a JSON document, or CSV tables (one per file, told by the header). Each is imported whole or not at all, in order; the first rejected file stops the import.",
            Arity = ArgumentArity.OneOrMore,
        };
        var command = new Command("import", "Validate and import register files (JSON or CSV).") { dataDir, files };
        command.SetAction(parse =>
        {
            TextWriter output = parse.InvocationConfiguration.Output;
            TextWriter error = parse.InvocationConfiguration.Error;
            using EvidenceStore store = EvidenceStore.Open(parse.GetRequiredValue(dataDir));
            foreach (string file in parse.GetRequiredValue(files))
            {
                RegisterImportResult result;
                try
                {
                    result = store.Register.ImportFile(file);
                }
                catch (IOException e)
                {
                    error.WriteLine($"fgw register import: {e.Message}");
                    return 2;
                }
                catch (UnauthorizedAccessException e)
                {
                    error.WriteLine($"fgw register import: {e.Message}");
                    return 2;
                }

                if (!result.Succeeded)
                {
                    foreach (RegisterError e in result.Errors)
                    {
                        error.WriteLine(e.Message);
                    }

                    if (result.ErrorCount > result.Errors.Count)
                    {
                        error.WriteLine($"… and {result.ErrorCount - result.Errors.Count} more errors");
                    }

                    error.WriteLine($"fgw register import: {Path.GetFileName(file)} has {Count(result.ErrorCount, "error")}; nothing of it was imported.");
                    return 1;
                }

                output.WriteLine($"imported {Path.GetFileName(file)} ({result.Table}): {Describe(result)}");
            }

            return 0;
        });
        return command;
    }

    private static Command CreateExport()
    {
        Option<string> dataDir = DataDir();
        var format = new Option<string>("--format") { Description = "json (one document) or csv (one file per table, into the --out directory).", DefaultValueFactory = _ => "json" };
        format.AcceptOnlyFromAmong("json", "csv");
        var output = new Option<string?>("--out") { Description = "The file (json; default standard output) or directory (csv, required) to write." };
        var enterprise = new Option<string?>("--enterprise") { Description = "Export one enterprise (credit code) instead of all." };
        var command = new Command("export", "Write the register in the import format (importing it again changes nothing).") { dataDir, format, output, enterprise };
        command.SetAction(parse =>
        {
            TextWriter stdout = parse.InvocationConfiguration.Output;
            TextWriter error = parse.InvocationConfiguration.Error;
            using EvidenceStore store = EvidenceStore.Open(parse.GetRequiredValue(dataDir));
            string? code = parse.GetValue(enterprise);
            if (code is not null && store.Register.GetEnterprise(code) is null)
            {
                error.WriteLine($"fgw register export: enterprise \"{code}\" is not in the register.");
                return 2;
            }

            string? target = parse.GetValue(output);
            if (parse.GetValue(format) == "csv")
            {
                if (target is null)
                {
                    error.WriteLine("fgw register export: --format csv writes one file per table; name the directory with --out.");
                    return 2;
                }

                Directory.CreateDirectory(target);
                foreach (RegisterTable table in AssetRegister.CsvImportOrder)
                {
                    File.WriteAllBytes(Path.Combine(target, AssetRegister.CsvFileName(table)), store.Register.ExportCsv(table, code));
                }

                error.WriteLine($"fgw register export: wrote {string.Join(", ", AssetRegister.CsvImportOrder.Select(AssetRegister.CsvFileName))} (import them in that order)");
            }
            else
            {
                byte[] document = store.Register.ExportJson(code);
                if (target is null)
                {
                    stdout.Write(System.Text.Encoding.UTF8.GetString(document));
                }
                else
                {
                    File.WriteAllBytes(target, document);
                }
            }

            List<(string Enterprise, string Device)> undescribed = [.. store.Register.ListUndescribedDevices().Where(d => code is null || d.Enterprise == code)];
            if (undescribed.Count > 0)
            {
                error.WriteLine(
                    $"fgw register export: {Count(undescribed.Count, "registered device")} without a description (class, identity, commissioning date) not exported: "
                    + string.Join(", ", undescribed.Take(20).Select(d => $"{d.Enterprise}/{d.Device}")) + (undescribed.Count > 20 ? ", …" : ""));
            }

            return 0;
        });
        return command;
    }

    private static Command CreateFreeze()
    {
        Option<string> dataDir = DataDir();
        var window = new Option<string>("--window") { Description = "The window: a month 2026-07, a quarter 2026Q3 or a year 2026 (each enterprise's own time zone).", Required = true };
        var enterprise = new Option<string?>("--enterprise") { Description = "Freeze one enterprise (credit code); default all." };
        var output = new Option<string?>("--out") { Description = "Also write the snapshot's canonical bytes to this file." };
        var command = new Command("freeze", "Freeze the register for a window and print its SHA-256; a frozen window is never changed.") { dataDir, window, enterprise, output };
        command.SetAction(parse =>
        {
            TextWriter error = parse.InvocationConfiguration.Error;
            string label = parse.GetRequiredValue(window);
            if (!Window.TryParse(label, TimeZones.ChinaStandardTimeOffsetMinutes, out Window? parsed))
            {
                error.WriteLine($"fgw register freeze: \"{label}\" is not a window: write a month 2026-07, a quarter 2026Q3 or a year 2026.");
                return 2;
            }

            using EvidenceStore store = EvidenceStore.Open(parse.GetRequiredValue(dataDir));
            RegisterSnapshot snapshot;
            try
            {
                snapshot = store.Register.Freeze(parse.GetValue(enterprise), parsed);
            }
            catch (ArgumentException e)
            {
                error.WriteLine($"fgw register freeze: {e.Message}");
                return 2;
            }

            if (parse.GetValue(output) is string path)
            {
                File.WriteAllBytes(path, snapshot.Canonical.ToArray());
            }

            DateTimeOffset frozen = DateTimeOffset.UnixEpoch.AddTicks(snapshot.FrozenUnixNanoseconds / 100);
            parse.InvocationConfiguration.Output.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"register snapshot {snapshot.Scope} {snapshot.Window} sha256:{snapshot.Hash} frozen {frozen:yyyy-MM-ddTHH:mm:ssZ} ({Count(snapshot.Enterprises.Count, "enterprise")}, {Count(snapshot.Enterprises.Sum(e => e.Devices.Count), "active device")})"));
            return 0;
        });
        return command;
    }

    private static string Describe(RegisterImportResult result)
    {
        var parts = new List<string>();
        Add(result.Enterprises, "enterprise");
        Add(result.EmployeeMonths, "employee month");
        Add(result.ShiftWeeks, "weekly shift pattern");
        Add(result.CalendarDays, "calendar day");
        Add(result.KeyProcesses, "key process", "key processes");
        Add(result.Devices, "device");
        return parts.Count == 0 ? "nothing to write" : string.Join(", ", parts);

        void Add(int count, string one, string? many = null)
        {
            if (count > 0)
            {
                parts.Add(Count(count, one, many));
            }
        }
    }

    private static string Count(int count, string one, string? many = null) =>
        string.Create(CultureInfo.InvariantCulture, $"{count} {(count == 1 ? one : many ?? one + "s")}");
}
