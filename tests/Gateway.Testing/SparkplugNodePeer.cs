using System.Globalization;

namespace FactoryGateway.Testing;

/// <summary>
/// A Sparkplug B edge node run by npm <c>sparkplug-client</c> from a script in <c>tests/peers</c>, driven by commands
/// on its standard input: <c>sparkplug-edge.mjs</c> (device <c>dev1</c>) or <c>sparkplug-press.mjs</c> (device
/// <c>press</c> with a nameplate in its birth certificate).
/// </summary>
public sealed class SparkplugNodePeer : IAsyncDisposable
{
    private static readonly TimeSpan s_deadline = TimeSpan.FromSeconds(30);

    private readonly ServerProcess _process;
    private int _commands;

    private SparkplugNodePeer(ServerProcess process, string group, string node)
    {
        _process = process;
        Group = group;
        Node = node;
    }

    public string Group { get; }

    public string Node { get; }

    public ServerProcess Process => _process;

    /// <summary>Starts <c>sparkplug-edge.mjs</c>; it publishes NBIRTH and DBIRTH as soon as it is connected.</summary>
    public static SparkplugNodePeer StartEdge(int port, string group, string node) => Start("sparkplug-edge", port, group, node);

    /// <summary>Starts <c>sparkplug-press.mjs</c>; it publishes NBIRTH and DBIRTH as soon as it is connected.</summary>
    public static SparkplugNodePeer StartPress(int port, string group, string node) => Start("sparkplug-press", port, group, node);

    /// <summary>Waits for the n-th birth (NBIRTH + DBIRTH published).</summary>
    public Task WaitForBirthAsync(int n, CancellationToken cancellationToken) => WaitForLineAsync($"BIRTH {n}", cancellationToken);

    /// <summary>Runs one command of the script (ndata, ddata, ddeath, dbirth, gap, stop, …) and waits until the node has published it.</summary>
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

    private static SparkplugNodePeer Start(string script, int port, string group, string node)
    {
        Prerequisites.PeerModule("sparkplug-client");
        ServerProcess process = ServerProcess.Start(
            script,
            Prerequisites.Node,
            [Path.Combine(RepositoryLayout.PeersDirectory, script + ".mjs"), "--port", port.ToString(CultureInfo.InvariantCulture), "--group", group, "--node", node, "--client-id", $"{script}-{Guid.NewGuid():N}"],
            RepositoryLayout.PeersDirectory);
        return new SparkplugNodePeer(process, group, node);
    }
}
