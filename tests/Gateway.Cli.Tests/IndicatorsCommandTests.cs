using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using FactoryGateway.Evidence;
using FactoryGateway.Evidence.Ledger;
using FactoryGateway.Telemetry.LineProtocol;
using FactoryGateway.Testing;

namespace FactoryGateway.Cli.Tests;

/// <summary>
/// <c>fgw indicators</c> on a register imported with <c>fgw register import</c> and a ledger of July 2026:
/// two NC machine tools in key processes, one running every scheduled day and one silent.
/// </summary>
public sealed class IndicatorsCommandTests
{
    private const string Enterprise = "91330402MA2B3C4D53";

    private const string RegisterJson = $$"""
            {
              "format": "fgw-register/1",
              "enterprises": [
                {
                  "credit_code": "{{Enterprise}}", "name": "嘉兴示例精密机械有限公司", "region": "330402",
                  "employees": [ { "month": "2026-07", "average_headcount": 200 } ],
                  "key_processes": [ { "process": "精加工", "key": true } ],
                  "devices": [
                    { "device": "cnc-01", "product_instance_uri": "urn:dmg:nlx2500:1", "class": "cnc_machine_tool", "production": true, "digital": true, "nc": true,
                      "key_process": true, "process": "精加工", "commissioned": "2024-03-15" },
                    { "device": "cnc-02", "product_instance_uri": "urn:dmg:nlx2500:2", "class": "cnc_machine_tool", "production": true, "digital": true, "nc": true,
                      "key_process": true, "process": "精加工", "commissioned": "2024-03-15" }
                  ]
                }
              ]
            }
            """;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Indicators_of_an_enterprise_and_its_city_from_the_register_and_the_ledger()
    {
        using var dir = new TempDirectory("fgw-indicators");
        string register = dir.Combine("register.json");
        await File.WriteAllTextAsync(register, RegisterJson, Ct);
        CommandResult imported = await FgwProcess.RunAsync(Ct, "register", "import", "--data-dir", dir.Path, register);
        Assert.True(imported.ExitCode == 0, imported.Output);
        WriteJulyLedger(dir.Path);

        CommandResult text = await FgwProcess.RunAsync(Ct, "indicators", "--data-dir", dir.Path, "--enterprise", Enterprise, "--window", "2026-07");
        Assert.True(text.ExitCode == 0, text.Output);
        Assert.Contains($"enterprise {Enterprise} — window 2026-07 (2026-07-01 to 2026-07-31), formula set fg-2026.1", text.Output, StringComparison.Ordinal);
        Assert.Matches(@"key_process_nc_ratio\s+0\.5\s+1\s+2\s+1\s+1\s+ratio", text.Output);
        Assert.Contains($"{Enterprise}/cnc-02", text.Output, StringComparison.Ordinal);
        Assert.Contains("not networked: 0 of 23 scheduled day(s) reporting (needs 80%)", text.Output, StringComparison.Ordinal);

        string file = dir.Combine("city.json");
        CommandResult json = await FgwProcess.RunAsync(Ct, "indicators", "--data-dir", dir.Path, "--region", "330400", "--window", "2026-07", "--json", "--out", file);
        Assert.True(json.ExitCode == 0, json.Output);
        using JsonDocument report = JsonDocument.Parse(await File.ReadAllBytesAsync(file, Ct));
        Assert.Equal("region 330400", report.RootElement.GetProperty("scope").GetString());
        JsonElement ratio = report.RootElement.GetProperty("indicators").EnumerateArray().Single(i => i.GetProperty("id").GetString() == "key_process_nc_ratio");
        Assert.Equal(0.5m, ratio.GetProperty("value").GetDecimal());
        Assert.Equal(64, ratio.GetProperty("register_hash").GetString()!.Length);
        Assert.Equal($"{Enterprise}/cnc-02", ratio.GetProperty("excluded")[0].GetProperty("enterprise").GetString() + "/" + ratio.GetProperty("excluded")[0].GetProperty("device").GetString());
        Assert.Equal(23, ratio.GetProperty("ledger_roots").GetArrayLength()); // one root per day with rows: the 23 weekdays of July
    }

    [Fact]
    public async Task A_resolved_flag_is_listed_with_its_resolution_and_the_device_counts_again_until_it_is_reopened()
    {
        using var dir = new TempDirectory("fgw-flags");
        string register = dir.Combine("register.json");
        await File.WriteAllTextAsync(register, RegisterJson, Ct);
        Assert.Equal(0, (await FgwProcess.RunAsync(Ct, "register", "import", "--data-dir", dir.Path, register)).ExitCode);
        WriteJulyLedger(dir.Path, secondRunsWithoutOutput: true);

        CommandResult flagged = await FgwProcess.RunAsync(Ct, "indicators", "--data-dir", dir.Path, "--enterprise", Enterprise, "--window", "2026-07");
        Assert.True(flagged.ExitCode == 0, flagged.Output);
        Assert.Matches(@"digital_networked_ratio\s+0\.5\s+1\s+2\s+1\s+1\s+ratio", flagged.Output);
        Assert.Contains("flagged: no_output (184 h run with no parts or cycles)", flagged.Output, StringComparison.Ordinal);

        CommandResult resolved = await FgwProcess.RunAsync(Ct, "flags", "resolve", "--data-dir", dir.Path, "--enterprise", Enterprise, "--device", "cnc-02",
            "--flag", "no_output", "--window", "2026Q3", "--by", "王工 (南湖区经信局)", "--reason", "trial cuts of a new fixture; parts counted on paper, checked on site");
        Assert.True(resolved.ExitCode == 0, resolved.Output);
        Assert.Matches(@"^#1 \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ resolve no_output of 91330402MA2B3C4D53/cnc-02 for 2026Q3 by 王工 \(南湖区经信局\): trial cuts", resolved.Output);

        CommandResult counted = await FgwProcess.RunAsync(Ct, "indicators", "--data-dir", dir.Path, "--enterprise", Enterprise, "--window", "2026-07");
        Assert.Matches(@"digital_networked_ratio\s+1\s+2\s+2\s+2\s+0\s+ratio", counted.Output);
        Assert.Contains("resolved: no_output (184 h run with no parts or cycles) — #1 by 王工 (南湖区经信局) on ", counted.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("flagged:", counted.Output, StringComparison.Ordinal);

        // Taken back for August only: July (inside 2026Q3) stays resolved, August follows the reopen.
        CommandResult reopened = await FgwProcess.RunAsync(Ct, "flags", "reopen", "--data-dir", dir.Path, "--enterprise", Enterprise, "--device", "cnc-02",
            "--flag", "no_output", "--window", "2026-07", "--by", "李科长", "--reason", "the paper count did not match the delivery notes");
        Assert.True(reopened.ExitCode == 0, reopened.Output);
        CommandResult again = await FgwProcess.RunAsync(Ct, "indicators", "--data-dir", dir.Path, "--enterprise", Enterprise, "--window", "2026-07");
        Assert.Contains("flagged: no_output", again.Output, StringComparison.Ordinal);
        CommandResult quarter = await FgwProcess.RunAsync(Ct, "indicators", "--data-dir", dir.Path, "--enterprise", Enterprise, "--window", "2026Q3");
        Assert.Contains("resolved: no_output", quarter.Output, StringComparison.Ordinal);

        CommandResult list = await FgwProcess.RunAsync(Ct, "flags", "list", "--data-dir", dir.Path);
        Assert.Contains("#2 ", list.Output, StringComparison.Ordinal);
        Assert.Contains("2 resolution(s)", list.Output, StringComparison.Ordinal);
        CommandResult verify = await FgwProcess.RunAsync(Ct, "ledger", "verify", "--data-dir", dir.Path);
        Assert.Contains(", 2 flag resolution(s)", verify.Output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("no-output", "2026Q3", "cnc-01", 2, "\"no-output\" is not a flag; the flags are heartbeat_only, ")]
    [InlineData("no_output", "2026Q5", "cnc-01", 2, "\"2026Q5\" is not a window")]
    [InlineData("no_output", "2026Q3", "cnc-99", 1, "device cnc-99 of enterprise 91330402MA2B3C4D53 is not in the register.")]
    public async Task A_resolution_of_an_unknown_flag_window_or_device_is_refused(string flag, string window, string device, int exitCode, string message)
    {
        using var dir = new TempDirectory("fgw-flags-bad");
        string register = dir.Combine("register.json");
        await File.WriteAllTextAsync(register, RegisterJson, Ct);
        Assert.Equal(0, (await FgwProcess.RunAsync(Ct, "register", "import", "--data-dir", dir.Path, register)).ExitCode);

        CommandResult result = await FgwProcess.RunAsync(Ct, "flags", "resolve", "--data-dir", dir.Path, "--enterprise", Enterprise, "--device", device,
            "--flag", flag, "--window", window, "--by", "op", "--reason", "checked");

        Assert.Equal(exitCode, result.ExitCode);
        Assert.Contains(message, result.Output, StringComparison.Ordinal);
        Assert.Contains("0 resolution(s)", (await FgwProcess.RunAsync(Ct, "flags", "list", "--data-dir", dir.Path)).Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Metrics_serve_gives_a_bureau_the_numbers_the_cli_prints()
    {
        using var dir = new TempDirectory("fgw-metrics-serve");
        string register = dir.Combine("register.json");
        await File.WriteAllTextAsync(register, RegisterJson, Ct);
        Assert.Equal(0, (await FgwProcess.RunAsync(Ct, "register", "import", "--data-dir", dir.Path, register)).ExitCode);
        WriteJulyLedger(dir.Path);
        CommandResult created = await FgwProcess.RunAsync(Ct, "tokens", "create", "--data-dir", dir.Path, "--role", "bureau", "--region", "330400");
        Assert.True(created.ExitCode == 0, created.Output);
        string token = created.Output.TrimEnd().Split('\n')[^1].Trim();
        string cliFile = dir.Combine("cli.json");
        Assert.Equal(0, (await FgwProcess.RunAsync(Ct, "indicators", "--data-dir", dir.Path, "--region", "330400", "--window", "2026-07", "--json", "--out", cliFile)).ExitCode);

        int port = FreeTcpPort.Next();
        await using ServerProcess server = FgwProcess.Start("fgw-metrics", dir.Path, new Dictionary<string, string>(), "metrics", "serve", "--data-dir", dir.Path, "--urls", $"http://127.0.0.1:{port}");
        using (var deadline = CancellationTokenSource.CreateLinkedTokenSource(Ct))
        {
            deadline.CancelAfter(TimeSpan.FromSeconds(60));
            await server.WaitForLineAsync(line => line.StartsWith("fgw metrics: listening on", StringComparison.Ordinal), deadline.Token);
        }

        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/indicators?region=330400&window=2026-07");
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Token", token);
        using HttpResponseMessage response = await http.SendAsync(request, Ct);
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);

        using JsonDocument served = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct));
        using JsonDocument printed = JsonDocument.Parse(await File.ReadAllTextAsync(cliFile, Ct));
        JsonElement Ratio(JsonDocument d) => d.RootElement.GetProperty("indicators").EnumerateArray().Single(i => i.GetProperty("id").GetString() == "key_process_nc_ratio");
        Assert.Equal(0.5m, Ratio(served).GetProperty("value").GetDecimal());
        Assert.Equal(JsonSerializer.Serialize(Ratio(printed)), JsonSerializer.Serialize(Ratio(served)));
    }

    [Fact]
    public async Task Exactly_one_scope_is_required()
    {
        using var dir = new TempDirectory("fgw-indicators-usage");
        CommandResult result = await FgwProcess.RunAsync(Ct, "indicators", "--data-dir", dir.Path, "--window", "2026Q3");
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("give exactly one of --enterprise CODE or --region CODE", result.Output, StringComparison.Ordinal);
    }

    // cnc-01 runs 08:00–16:00 with a part every 2 minutes on each weekday of July; cnc-02 sends nothing, or
    // (secondRunsWithoutOutput) runs as cnc-01 does with a parts counter that never moves.
    private static void WriteJulyLedger(string dataDirectory, bool secondRunsWithoutOutput = false)
    {
        using EvidenceStore store = EvidenceStore.Open(dataDirectory);
        using var reader = new LineProtocolReader(new LineProtocolLimits());
        var evidence = new EvidenceAccumulation(new LedgerParameters(), DefaultShiftCalendar.Instance);
        long parts = 0;
        for (DateOnly day = new(2026, 7, 1); day < new DateOnly(2026, 8, 1); day = day.AddDays(1))
        {
            if (day.DayOfWeek is DayOfWeek.Saturday or DayOfWeek.Sunday)
            {
                continue;
            }

            long eight = LocalDays.StartOf(LocalDays.DayOf(day), LocalDays.DefaultOffsetMinutes) + (8 * 3600 * 1_000_000_000L);
            var body = new StringBuilder();
            for (int slot = 0; slot < 360; slot++)
            {
                bool running = slot < 240;
                parts += running ? 1 : 0;
                body.Append(CultureInfo.InvariantCulture, $"telemetry,ent={Enterprise},dev=cnc-01 state={(running ? 4 : 3)}i,parts_total={parts}i {eight + (slot * 120 * 1_000_000_000L)}\n");
                if (secondRunsWithoutOutput)
                {
                    body.Append(CultureInfo.InvariantCulture, $"telemetry,ent={Enterprise},dev=cnc-02 state={(running ? 4 : 3)}i,parts_total=7i {eight + (slot * 120 * 1_000_000_000L) + 1}\n");
                }
            }

            evidence.Apply(new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes(body.ToString())), eight, reader);
        }

        evidence.AdvanceWatermark(LocalDays.StartOf(LocalDays.DayOf(new DateOnly(2026, 8, 10)), LocalDays.DefaultOffsetMinutes));
        store.Ledger.Save("evidence", 0, evidence.TakeChanges());
    }
}
