using System.Globalization;
using FactoryGateway.Testing;

namespace FactoryGateway.Edge.Tests.Mqtt;

/// <summary>
/// The npm <c>sparkplug-client</c> edge node of <c>tests/peers/sparkplug-press.mjs</c> (device <c>press</c> with a
/// nameplate in its birth certificate), driven by commands on its standard input.
/// </summary>
internal sealed class SparkplugPress : IAsyncDisposable
{
    private static readonly TimeSpan s_deadline = TimeSpan.FromSeconds(30);

    private readonly ServerProcess _process;
    private int _commands;

    private SparkplugPress(ServerProcess process) => _process = process;

    public ServerProcess Process => _process;

    /// <summary>Starts the edge node; it publishes NBIRTH and DBIRTH as soon as it is connected.</summary>
    public static SparkplugPress Start(int port, string group, string node)
    {
        Prerequisites.PeerModule("sparkplug-client");
        ServerProcess process = ServerProcess.Start(
            "sparkplug-press",
            Prerequisites.Node,
            [Path.Combine(RepositoryLayout.PeersDirectory, "sparkplug-press.mjs"), "--port", port.ToString(CultureInfo.InvariantCulture), "--group", group, "--node", node, "--client-id", $"press-{Guid.NewGuid():N}"],
            RepositoryLayout.PeersDirectory);
        return new SparkplugPress(process);
    }

    public Task WaitForBirthAsync(int n, CancellationToken cancellationToken) => WaitForLineAsync($"BIRTH {n}", cancellationToken);

    /// <summary>Runs one command (ddata, ddata-bad, ndata, ddeath, dbirth, stop) and waits until the node has published it.</summary>
    public async Task RunAsync(string command, CancellationToken cancellationToken)
    {
        int n = Interlocked.Increment(ref _commands);
        await _process.SendLineAsync(command);
        await WaitForLineAsync($"DONE {n} {command}", cancellationToken);
    }

    private async Task WaitForLineAsync(string line, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(s_deadline);
        try
        {
            await _process.WaitForLineAsync(l => l == line, deadline.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"The edge node did not print '{line}' within {s_deadline.TotalSeconds} s.{Environment.NewLine}{_process.Describe()}");
        }
    }

    public ValueTask DisposeAsync() => _process.DisposeAsync();
}
