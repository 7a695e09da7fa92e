using System.Globalization;

namespace FactoryGateway.Testing;

/// <summary>
/// An aedes MQTT broker (<c>tests/peers/aedes-broker.mjs</c>, npm <c>aedes</c>): a second, independent
/// broker implementation on a free loopback port, with in-memory persistence.
/// </summary>
public sealed class AedesServer : IAsyncLifetime
{
    private static readonly TimeSpan s_startDeadline = TimeSpan.FromSeconds(30);

    private ServerProcess? _process;

    public int Port { get; private set; }

    public static string Host => "127.0.0.1";

    public ServerProcess Process => _process ?? throw new InvalidOperationException("aedes is not running.");

    public async ValueTask InitializeAsync()
    {
        string node = Prerequisites.Node;
        Prerequisites.PeerModule("aedes");
        for (int attempt = 1; ; attempt++)
        {
            Port = FreeTcpPort.Next();
            try
            {
                await StartAsync(node);
                return;
            }
            catch (ServerStartException) when (attempt < 3 && _process is not null && _process.Output.Contains("EADDRINUSE", StringComparison.Ordinal))
            {
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_process is not null)
        {
            await _process.DisposeAsync();
            _process = null;
        }
    }

    private async Task StartAsync(string node)
    {
        string script = Path.Combine(RepositoryLayout.PeersDirectory, "aedes-broker.mjs");
        _process = ServerProcess.Start("aedes", node, [script, "--port", Port.ToString(CultureInfo.InvariantCulture)], RepositoryLayout.PeersDirectory);
        using var deadline = new CancellationTokenSource(s_startDeadline);
        try
        {
            await _process.WaitForLineAsync(line => line.StartsWith("READY ", StringComparison.Ordinal), deadline.Token);
        }
        catch (OperationCanceledException)
        {
            throw new ServerStartException($"aedes did not print READY within {s_startDeadline.TotalSeconds} s.{Environment.NewLine}{_process.Describe()}");
        }

        await Readiness.WaitAsync(_process, s_startDeadline, ct => MqttProbe.ConnectAsync(Host, Port, ct));
    }

}
