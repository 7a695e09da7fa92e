using System.Globalization;
using FactoryGateway.Testing;

namespace FactoryGateway.Mqtt.Tests.Sparkplug;

/// <summary>
/// The npm <c>sparkplug-client</c> edge node (<c>tests/peers/sparkplug-edge.mjs</c>) with device <c>dev1</c>,
/// driven by commands on its standard input.
/// </summary>
internal sealed class SparkplugEdgeNode : IAsyncDisposable
{
    private static readonly TimeSpan s_deadline = TimeSpan.FromSeconds(30);

    private readonly ServerProcess _process;
    private int _commands;

    private SparkplugEdgeNode(ServerProcess process, string group, string node)
    {
        _process = process;
        Group = group;
        Node = node;
    }

    public string Group { get; }

    public string Node { get; }

    public ServerProcess Process => _process;

    /// <summary>Starts the edge node; it publishes NBIRTH and DBIRTH as soon as it is connected.</summary>
    public static SparkplugEdgeNode Start(int port, string group, string node)
    {
        Prerequisites.PeerModule("sparkplug-client");
        string script = Path.Combine(RepositoryLayout.PeersDirectory, "sparkplug-edge.mjs");
        ServerProcess process = ServerProcess.Start(
            "sparkplug-edge",
            Prerequisites.Node,
            [script, "--port", port.ToString(CultureInfo.InvariantCulture), "--group", group, "--node", node, "--client-id", $"edge-{Guid.NewGuid():N}"],
            RepositoryLayout.PeersDirectory);
        return new SparkplugEdgeNode(process, group, node);
    }

    /// <summary>Waits for the n-th birth (NBIRTH + DBIRTH published).</summary>
    public Task WaitForBirthAsync(int n, CancellationToken cancellationToken) =>
        WaitForLineAsync($"BIRTH {n}", cancellationToken);

    /// <summary>Runs one command (ndata, ddata, ddeath, gap, stale-ndeath, stop) and waits until the peer has published it.</summary>
    public async Task RunAsync(string command, CancellationToken cancellationToken)
    {
        int n = Interlocked.Increment(ref _commands);
        await _process.SendLineAsync(command);
        await WaitForLineAsync($"DONE {n} {command}", cancellationToken);
    }

    public async Task WaitForLineAsync(string line, CancellationToken cancellationToken)
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
