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

        Assert.Equal(0, exitCode);
        Assert.Contains("[not built] Gateway.Ingest", output.ToString(), StringComparison.Ordinal);
    }
}
