using System.CommandLine;

namespace FactoryGateway.Cli.Tests;

public sealed class DemoCommandTests
{
    [Fact]
    public async Task The_demo_runs_and_says_which_stages_are_not_built()
    {
        using var output = new StringWriter();
        int exitCode = await Program.BuildRootCommand().Parse(["demo"]).InvokeAsync(
            new InvocationConfiguration { Output = output }, TestContext.Current.CancellationToken);

        string text = output.ToString();
        Assert.Equal(0, exitCode);
        Assert.Contains("[built]        Gateway.Edge", text, StringComparison.Ordinal);
        Assert.Contains("6 gzip batches from edge-01 accepted: 1440 points", text, StringComparison.Ordinal);
        Assert.Contains("204 (X-FG-Duplicate: true)", text, StringComparison.Ordinal);
        Assert.Contains("a malformed line: 400 {\"code\":\"invalid\",\"message\":\"line 1 col 43: invalid integer field value", text, StringComparison.Ordinal);
        Assert.Contains("enterprise A writing as enterprise B: 403", text, StringComparison.Ordinal);
        Assert.Contains("\"dev\":\"press-01\",\"points\":360", text, StringComparison.Ordinal);
        Assert.Contains("/metrics: fgw_ingest_points_accepted_total 1440", text, StringComparison.Ordinal);

        // The quarter: through the ingest into the sealed ledger, then the indicators (24 devices × 66 working
        // days, less cnc-05's 43 silent days after July).
        Assert.Contains("66 working days of 2026Q3 sent by two edges on an accelerated clock: 554,760 lines", text, StringComparison.Ordinal);
        Assert.Contains("ledger: 1,541 device-day rows sealed into 132 enterprise-day Merkle roots; fgw ledger verify: intact", text, StringComparison.Ordinal);
        Assert.Matches(@"key_process_nc_ratio\s+0\.625\s+5\s+8\s+5\s+3\s+ratio", text);
        Assert.Contains("91330402MA2B3C4D53/cnc-05            cnc_machine_tool       1    66     23    243.0  not networked: 23 of 66 scheduled day(s) reporting (needs 80%)", text, StringComparison.Ordinal);
        Assert.Contains("flagged: heartbeat_only (66 day(s) with data but nothing substantive", text, StringComparison.Ordinal);
        Assert.Contains("flagged: clone (per-minute state vectors identical to 91330421MA2C3D4E5E/cnc-14", text, StringComparison.Ordinal);
        Assert.Contains("  key_process_nc_ratio              0.6  (9 / 15)", text, StringComparison.Ordinal);
        Assert.Contains("  robot_density                  156.25  (5 / 320)", text, StringComparison.Ordinal);
    }
}
