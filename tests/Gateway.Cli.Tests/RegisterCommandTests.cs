using FactoryGateway.Testing;

namespace FactoryGateway.Cli.Tests;

/// <summary><c>fgw register import|export|freeze</c>, run as the real fgw process on a temporary data directory.</summary>
public sealed class RegisterCommandTests : IDisposable
{
    private const string Enterprise = "91330402MA2B3C4D53";

    private const string Document = """
        {
          "format": "fgw-register/1",
          "enterprises": [
            {
              "credit_code": "91330402MA2B3C4D53",
              "name": "嘉兴示例精密机械有限公司",
              "region": "330402",
              "industry": "C3484",
              "employees": [{ "month": "2026-07", "average_headcount": 212 }],
              "calendar": { "days": [{ "date": "2026-08-14", "kind": "planned_downtime" }] },
              "key_processes": [{ "process": "精加工", "key": true }],
              "devices": [
                {
                  "device": "cnc-01", "manufacturer": "DMG MORI", "model": "NLX 2500", "serial_number": "NLX25-001234",
                  "class": "cnc_machine_tool", "production": true, "digital": true, "nc": true, "key_process": true, "process": "精加工",
                  "commissioned": "2024-03-15", "purchase_price": "1250000.00", "ideal_cycle_s": "42.5"
                },
                {
                  "device": "robot-01", "product_instance_uri": "urn:fanuc:r-2000ic:E12345", "class": "industrial_robot",
                  "production": true, "digital": true, "nc": true, "robot_axes": 6, "commissioned": "2025-01-10"
                }
              ]
            }
          ]
        }
        """;

    private readonly TempDirectory _directory = new("fgw-register");

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task Import_export_and_import_again_gives_the_same_register_and_the_same_snapshot_hash()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        string document = Write("register.json", Document);
        string first = _directory.Combine("first");
        string second = _directory.Combine("second");
        string export1 = _directory.Combine("export1.json");
        string export2 = _directory.Combine("export2.json");

        CommandResult imported = await FgwProcess.RunAsync(ct, "register", "import", "--data-dir", first, document);
        Assert.True(imported.ExitCode == 0, imported.Output);
        Assert.Contains("imported register.json (register): 1 enterprise, 1 employee month, 1 weekly shift pattern, 1 calendar day, 1 key process, 2 devices", imported.Output, StringComparison.Ordinal);

        Assert.Equal(0, (await FgwProcess.RunAsync(ct, "register", "export", "--data-dir", first, "--out", export1)).ExitCode);
        CommandResult again = await FgwProcess.RunAsync(ct, "register", "import", "--data-dir", second, export1);
        Assert.True(again.ExitCode == 0, again.Output);
        Assert.Equal(0, (await FgwProcess.RunAsync(ct, "register", "export", "--data-dir", second, "--out", export2)).ExitCode);
        Assert.Equal(File.ReadAllText(export1), File.ReadAllText(export2));

        CommandResult frozen1 = await FgwProcess.RunAsync(ct, "register", "freeze", "--data-dir", first, "--window", "2026Q3");
        CommandResult frozen2 = await FgwProcess.RunAsync(ct, "register", "freeze", "--data-dir", second, "--window", "2026Q3", "--enterprise", Enterprise);
        CommandResult frozen3 = await FgwProcess.RunAsync(ct, "register", "freeze", "--data-dir", second, "--window", "2026Q3");
        Assert.True(frozen1.ExitCode == 0, frozen1.Output);
        string hash = Hash(frozen1.Output);
        Assert.Equal(hash, Hash(frozen3.Output));
        Assert.NotEqual(hash, Hash(frozen2.Output)); // another scope
        Assert.Contains($"register snapshot * 2026Q3 sha256:{hash} frozen ", frozen1.Output, StringComparison.Ordinal);
        Assert.Contains("(1 enterprise, 2 active devices)", frozen1.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_file_with_a_bad_row_is_reported_and_nothing_of_it_is_imported()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        string data = _directory.Combine("data");
        string document = Write("register.json", Document);
        string devices = Write("devices.csv",
            "enterprise,device,product_instance_uri,class,commissioned,robot_axes\n"
            + $"{Enterprise},agv-01,urn:agv:1,agv,2025-02-01,\n"
            + $"{Enterprise},agv-02,urn:agv:2,agv,2025-13-01,\n"
            + $"{Enterprise},robot-02,urn:robot:2,industrial_robot,2025-02-01,0\n");
        string employees = Write("employees.csv", $"enterprise,month,average_headcount\n{Enterprise},2026-08,215\n");

        CommandResult result = await FgwProcess.RunAsync(ct, "register", "import", "--data-dir", data, document, devices, employees);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("imported register.json (register)", result.Output, StringComparison.Ordinal);
        Assert.Contains("devices.csv row 3 column commissioned: \"2025-13-01\" is not a date (YYYY-MM-DD)", result.Output, StringComparison.Ordinal);
        Assert.Contains("devices.csv row 4 column robot_axes: \"0\" is not a positive integer", result.Output, StringComparison.Ordinal);
        Assert.Contains("fgw register import: devices.csv has 2 errors; nothing of it was imported.", result.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("employees.csv", result.Output, StringComparison.Ordinal); // the first rejected file stops the import

        CommandResult export = await FgwProcess.RunAsync(ct, "register", "export", "--data-dir", data);
        Assert.Equal(0, export.ExitCode);
        Assert.Contains("\"device\": \"cnc-01\"", export.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("agv-01", export.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("\"month\": \"2026-08\"", export.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_CSV_export_imports_back_table_by_table()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        string first = _directory.Combine("first");
        string second = _directory.Combine("second");
        string tables = _directory.Combine("tables");
        Assert.Equal(0, (await FgwProcess.RunAsync(ct, "register", "import", "--data-dir", first, Write("register.json", Document))).ExitCode);

        CommandResult exported = await FgwProcess.RunAsync(ct, "register", "export", "--data-dir", first, "--format", "csv", "--out", tables);
        Assert.True(exported.ExitCode == 0, exported.Output);
        string[] files = ["enterprises.csv", "employees.csv", "shift_weeks.csv", "calendar_days.csv", "key_processes.csv", "devices.csv"];
        CommandResult imported = await FgwProcess.RunAsync(ct, ["register", "import", "--data-dir", second, .. files.Select(f => Path.Combine(tables, f))]);
        Assert.True(imported.ExitCode == 0, imported.Output);

        CommandResult a = await FgwProcess.RunAsync(ct, "register", "export", "--data-dir", first);
        CommandResult b = await FgwProcess.RunAsync(ct, "register", "export", "--data-dir", second);
        Assert.Equal(a.Output, b.Output);
        Assert.Contains("\"purchase_price\": \"1250000.00\"", a.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Usage_errors_exit_with_2()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        string data = _directory.Combine("data");

        CommandResult window = await FgwProcess.RunAsync(ct, "register", "freeze", "--data-dir", data, "--window", "2026Q5");
        CommandResult missing = await FgwProcess.RunAsync(ct, "register", "import", "--data-dir", data, _directory.Combine("nope.json"));
        CommandResult csv = await FgwProcess.RunAsync(ct, "register", "export", "--data-dir", data, "--format", "csv");

        Assert.Equal(2, window.ExitCode);
        Assert.Contains("fgw register freeze: \"2026Q5\" is not a window: write a month 2026-07, a quarter 2026Q3 or a year 2026.", window.Output, StringComparison.Ordinal);
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains("fgw register import: Could not find file", missing.Output, StringComparison.Ordinal);
        Assert.Equal(2, csv.ExitCode);
        Assert.Contains("--format csv writes one file per table; name the directory with --out.", csv.Output, StringComparison.Ordinal);
    }

    private static string Hash(string output)
    {
        int start = output.IndexOf("sha256:", StringComparison.Ordinal) + "sha256:".Length;
        return output.Substring(start, 64);
    }

    private string Write(string name, string content)
    {
        string path = _directory.Combine(name);
        File.WriteAllText(path, content);
        return path;
    }
}
