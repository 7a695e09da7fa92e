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
        Assert.Contains("[not built]    Gateway.Edge", text, StringComparison.Ordinal);
        Assert.Contains("6 gzip batches from edge-01 accepted: 1440 points", text, StringComparison.Ordinal);
        Assert.Contains("204 (X-FG-Duplicate: true)", text, StringComparison.Ordinal);
        Assert.Contains("a malformed line: 400 {\"code\":\"invalid\",\"message\":\"line 1 col 43: invalid integer field value", text, StringComparison.Ordinal);
        Assert.Contains("enterprise A writing as enterprise B: 403", text, StringComparison.Ordinal);
        Assert.Contains("\"dev\":\"press-01\",\"points\":360", text, StringComparison.Ordinal);
        Assert.Contains("/metrics: fgw_ingest_points_accepted_total 1440", text, StringComparison.Ordinal);
    }
}
