using System.Globalization;
using FactoryGateway.Testing;

namespace FactoryGateway.Cli.Tests;

/// <summary><c>fgw ingest run</c> takes its settings from appsettings.json, FGW_ environment variables and options, in that order.</summary>
public sealed class IngestConfigurationTests
{
    private static readonly TimeSpan s_deadline = TimeSpan.FromSeconds(60);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Appsettings_and_environment_configure_the_service_and_options_win()
    {
        using var dir = new TempDirectory("fgw-config");
        int filePort = FreeTcpPort.Next();
        int optionPort = FreeTcpPort.Next();
        await File.WriteAllTextAsync(
            Path.Combine(dir.Path, "appsettings.json"),
            $$"""{ "Urls": "http://127.0.0.1:{{filePort}}", "Ingest": { "DataDirectory": "from-file" } }""",
            Ct);
        var environment = new Dictionary<string, string> { ["FGW_Ingest__DataDirectory"] = Path.Combine(dir.Path, "from-env") };

        await using ServerProcess fromFile = FgwProcess.Start("fgw-config", dir.Path, environment, "ingest", "run");
        string listening = await fromFile.WaitForLineAsync(l => l.StartsWith("fgw ingest: listening", StringComparison.Ordinal), Ct).WaitAsync(s_deadline, Ct);
        Assert.Contains($"127.0.0.1:{filePort}", listening, StringComparison.Ordinal);
        Assert.Contains("from-env", listening, StringComparison.Ordinal);
        Assert.Contains("no InfluxDB target", listening, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(dir.Path, "from-env", "evidence.db")));
        await fromFile.StopAsync(TimeSpan.FromSeconds(20));

        await using ServerProcess fromOption = FgwProcess.Start(
            "fgw-config", dir.Path, environment, "ingest", "run", "--urls", $"http://127.0.0.1:{optionPort.ToString(CultureInfo.InvariantCulture)}");
        string second = await fromOption.WaitForLineAsync(l => l.StartsWith("fgw ingest: listening", StringComparison.Ordinal), Ct).WaitAsync(s_deadline, Ct);
        Assert.Contains($"127.0.0.1:{optionPort}", second, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_invalid_setting_is_named_with_its_reason()
    {
        using var dir = new TempDirectory("fgw-config-bad");
        var environment = new Dictionary<string, string> { ["FGW_Ingest__WalMaxBytes"] = "1000" };

        await using ServerProcess process = FgwProcess.Start("fgw-config", dir.Path, environment, "ingest", "run", "--data-dir", dir.Combine("data"));
        await process.Exited.WaitAsync(s_deadline, Ct);

        Assert.Equal(2, process.ExitCode);
        Assert.Contains("fgw ingest run: IngestOptions.WalMaxBytes must be at least twice WalSegmentBytes", process.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Tokens_for_an_invalid_credit_code_are_refused()
    {
        using var dir = new TempDirectory("fgw-tokens");

        CommandResult result = await FgwProcess.RunAsync(Ct, "tokens", "create", "--data-dir", dir.Path, "--role", "enterprise", "--enterprise", "91330402MA2B3C4D5E");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("is not a valid unified social credit code", result.Output, StringComparison.Ordinal);
    }
}
