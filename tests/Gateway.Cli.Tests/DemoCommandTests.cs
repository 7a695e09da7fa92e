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
        Assert.Contains("[not built]    Gateway.Ingest", text, StringComparison.Ordinal);
        Assert.Contains("wrote 1440 points of canonical telemetry", text, StringComparison.Ordinal);
        Assert.Contains("read back and validated 1440 points, 4320 fields", text, StringComparison.Ordinal);
        Assert.Contains("line 1 col 66: invalid integer field value", text, StringComparison.Ordinal);
    }
}
