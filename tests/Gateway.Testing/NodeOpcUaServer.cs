namespace FactoryGateway.Testing;

/// <summary>
/// A node-opcua server (<c>tests/peers/opcua-server.mjs</c>): a third-party OPC UA peer on a free
/// loopback port, its PKI in a temporary directory (node-opcua otherwise writes under the home
/// directory).
/// </summary>
public sealed class NodeOpcUaServer : IAsyncLifetime
{
    // node-opcua creates its application certificate (an RSA key) on first start: a few seconds here.
    private static readonly TimeSpan s_startDeadline = TimeSpan.FromSeconds(90);

    private readonly TempDirectory _dir = new("node-opcua");
    private ServerProcess? _process;

    public int Port { get; private set; }

    /// <summary>
    /// Options passed to the script after the port and PKI (for example <c>--bulk 1000</c> or
    /// <c>--users alice:secret</c>); none by default. May be changed between <see cref="StopAsync"/>
    /// and <see cref="StartAsync"/> to restart the server differently on the same port.
    /// </summary>
    public IReadOnlyList<string> ExtraArguments { get; set; } = [];

    /// <summary>The endpoint URL the server printed when it became ready.</summary>
    public string EndpointUrl { get; private set; } = string.Empty;

    public ServerProcess Process => _process ?? throw new InvalidOperationException("the node-opcua server is not running.");

    public async ValueTask InitializeAsync()
    {
        string node = Prerequisites.Node;
        Prerequisites.PeerModule("node-opcua");
        for (int attempt = 1; ; attempt++)
        {
            Port = FreeTcpPort.Next();
            try
            {
                await StartOnCurrentPortAsync(node);
                return;
            }
            catch (ServerStartException) when (attempt < 3 && _process is not null && _process.Output.Contains("EADDRINUSE", StringComparison.Ordinal))
            {
            }
        }
    }

    /// <summary>Starts the server again on the same port and PKI.</summary>
    public Task StartAsync() => StartOnCurrentPortAsync(Prerequisites.Node);

    public async Task StopAsync()
    {
        if (_process is not null)
        {
            await _process.DisposeAsync();
            _process = null;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _dir.Dispose();
    }

    private async Task StartOnCurrentPortAsync(string node)
    {
        string script = Path.Combine(RepositoryLayout.PeersDirectory, "opcua-server.mjs");
        _process = ServerProcess.Start(
            "node-opcua", node, [script, "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--pki", _dir.Combine("pki"), .. ExtraArguments], RepositoryLayout.PeersDirectory);
        using var deadline = new CancellationTokenSource(s_startDeadline);
        string ready;
        try
        {
            ready = await _process.WaitForLineAsync(line => line.StartsWith("READY ", StringComparison.Ordinal), deadline.Token);
        }
        catch (OperationCanceledException)
        {
            throw new ServerStartException($"node-opcua did not print READY within {s_startDeadline.TotalSeconds} s.{Environment.NewLine}{_process.Describe()}");
        }

        EndpointUrl = ready["READY ".Length..].Trim();
        // The READY line is printed after listen(); a UA-TCP Hello answered with Acknowledge proves it.
        await Readiness.WaitAsync(_process, s_startDeadline, async ct =>
        {
            UaTcpAcknowledge ack = await UaTcpProbe.HelloAsync("127.0.0.1", Port, EndpointUrl, ct);
            return ack.ProtocolVersion == 0 ? null : $"Acknowledge with protocol version {ack.ProtocolVersion}";
        });
    }
}
