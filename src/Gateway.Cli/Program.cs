using System.CommandLine;

namespace FactoryGateway.Cli;

/// <summary>The <c>fgw</c> command: composes the FactoryGateway components.</summary>
public static class Program
{
    public static Task<int> Main(string[] args) => BuildRootCommand().Parse(args).InvokeAsync();

    public static RootCommand BuildRootCommand()
    {
        var root = new RootCommand("FactoryGateway: measured, checkable smart-manufacturing indicators from shop-floor telemetry.");
        root.Subcommands.Add(DemoCommand.Create());
        root.Subcommands.Add(IngestCommand.Create());
        root.Subcommands.Add(EdgeCommand.Create());
        root.Subcommands.Add(IndicatorsCommand.Create());
        root.Subcommands.Add(LedgerCommand.Create());
        root.Subcommands.Add(FlagsCommand.Create());
        root.Subcommands.Add(MetricsCommand.Create());
        root.Subcommands.Add(TokensCommand.Create());
        root.Subcommands.Add(RegisterCommand.Create());
        return root;
    }
}
