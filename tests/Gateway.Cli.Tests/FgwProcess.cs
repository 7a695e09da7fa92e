using System.Globalization;
using FactoryGateway.Testing;

namespace FactoryGateway.Cli.Tests;

/// <summary>Runs the real <c>fgw</c> command (the built fgw.dll beside the tests) as a child process.</summary>
internal static class FgwProcess
{
    private static readonly TimeSpan s_deadline = TimeSpan.FromSeconds(60);

    private static string Dotnet => Prerequisites.Require("dotnet", "install the .NET 10 SDK");

    private static string FgwDll => Path.Combine(AppContext.BaseDirectory, "fgw.dll");

    public static async Task<CommandResult> RunAsync(CancellationToken cancellationToken, params string[] arguments) =>
        await CommandRunner.RunAsync(Dotnet, [FgwDll, .. arguments], s_deadline, cancellationToken);

    /// <summary>Starts <c>fgw</c> with <paramref name="arguments"/> and <paramref name="environment"/>, in <paramref name="workingDirectory"/>.</summary>
    public static ServerProcess Start(string name, string workingDirectory, IReadOnlyDictionary<string, string> environment, params string[] arguments) =>
        ServerProcess.Start(name, Dotnet, [FgwDll, .. arguments], workingDirectory, environment);

    /// <summary>Creates a token with <c>fgw tokens create</c> and returns it (the last line printed).</summary>
    public static async Task<string> CreateTokenAsync(string dataDirectory, string role, string? enterprise, CancellationToken cancellationToken)
    {
        string[] scope = enterprise is null ? [] : ["--enterprise", enterprise];
        CommandResult result = await RunAsync(cancellationToken, ["tokens", "create", "--data-dir", dataDirectory, "--role", role, .. scope]);
        Assert.True(result.ExitCode == 0, result.Output);
        return result.Output.TrimEnd().Split('\n')[^1].Trim();
    }

    /// <summary>Starts <c>fgw ingest run</c> on <paramref name="port"/> and waits until it listens.</summary>
    public static Task<ServerProcess> StartIngestAsync(int port, string dataDirectory, Uri influx, string database, CancellationToken cancellationToken) =>
        StartIngestAsync(port, dataDirectory, ["--influx-url", influx.ToString().TrimEnd('/'), "--influx-db", database], cancellationToken);

    /// <summary>Starts <c>fgw ingest run</c> without an InfluxDB target (the forwarder parked) and waits until it listens.</summary>
    public static Task<ServerProcess> StartIngestAsync(int port, string dataDirectory, CancellationToken cancellationToken, IReadOnlyDictionary<string, string>? environment = null) =>
        StartIngestAsync(port, dataDirectory, [], cancellationToken, environment);

    private static async Task<ServerProcess> StartIngestAsync(int port, string dataDirectory, string[] target, CancellationToken cancellationToken, IReadOnlyDictionary<string, string>? environment = null)
    {
        ServerProcess process = ServerProcess.Start(
            "fgw-ingest",
            Dotnet,
            [FgwDll, "ingest", "run", "--urls", $"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}", "--data-dir", dataDirectory, .. target],
            workingDirectory: null,
            environment);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(s_deadline);
        try
        {
            await process.WaitForLineAsync(line => line.StartsWith("fgw ingest: listening on", StringComparison.Ordinal), deadline.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new ServerStartException($"fgw ingest did not listen within {s_deadline.TotalSeconds} s.{Environment.NewLine}{process.Describe()}");
        }

        return process;
    }
}
