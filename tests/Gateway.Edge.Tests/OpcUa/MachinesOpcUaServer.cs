using System.Globalization;
using FactoryGateway.Testing;

namespace FactoryGateway.Edge.Tests.OpcUa;

/// <summary>
/// The node-opcua machines peer (<c>tests/peers/opcua-machines.mjs</c>): a machine tool, a robot and a current sensor laid
/// out as the companion specifications define them, on a free loopback port with its PKI in a temporary directory.
/// </summary>
public sealed class MachinesOpcUaServer : IAsyncLifetime
{
    // node-opcua creates its application certificate (an RSA key) on first start: a few seconds here.
    private static readonly TimeSpan s_startDeadline = TimeSpan.FromSeconds(90);

    private readonly TempDirectory _dir = new("opcua-machines");
    private ServerProcess? _process;
    private int _commands;

    public int Port { get; private set; }

    /// <summary>Options after the port and PKI (for example <c>--serial MT-0002</c>); may change between stop and start.</summary>
    public IReadOnlyList<string> ExtraArguments { get; set; } = [];

    public string EndpointUrl { get; private set; } = string.Empty;

    public async ValueTask InitializeAsync()
    {
        Prerequisites.PeerModule("node-opcua");
        for (int attempt = 1; ; attempt++)
        {
            Port = FreeTcpPort.Next();
            try
            {
                await StartAsync();
                return;
            }
            catch (ServerStartException) when (attempt < 3 && _process is not null && _process.Output.Contains("EADDRINUSE", StringComparison.Ordinal))
            {
            }
        }
    }

    /// <summary>Kills the server at once, as a crash would.</summary>
    public async Task KillAsync()
    {
        if (_process is not null)
        {
            await _process.KillAsync();
            await _process.DisposeAsync();
            _process = null;
        }
    }

    /// <summary>Starts the server (again) on the same port and PKI.</summary>
    public async Task StartAsync()
    {
        string script = Path.Combine(RepositoryLayout.PeersDirectory, "opcua-machines.mjs");
        _process = ServerProcess.Start(
            "opcua-machines", Prerequisites.Node, [script, "--port", Port.ToString(CultureInfo.InvariantCulture), "--pki", _dir.Combine("pki"), .. ExtraArguments], RepositoryLayout.PeersDirectory);
        using var deadline = new CancellationTokenSource(s_startDeadline);
        string ready;
        try
        {
            ready = await _process.WaitForLineAsync(line => line.StartsWith("READY ", StringComparison.Ordinal), deadline.Token);
        }
        catch (OperationCanceledException)
        {
            throw new ServerStartException($"opcua-machines did not print READY within {s_startDeadline.TotalSeconds} s.{Environment.NewLine}{_process.Describe()}");
        }

        EndpointUrl = ready["READY ".Length..].Trim();
        await Readiness.WaitAsync(_process, s_startDeadline, async ct =>
        {
            UaTcpAcknowledge ack = await UaTcpProbe.HelloAsync("127.0.0.1", Port, EndpointUrl, ct);
            return ack.ProtocolVersion == 0 ? null : $"Acknowledge with protocol version {ack.ProtocolVersion}";
        });
    }

    /// <summary>Sends a command to the peer (see the script's header: <c>alarm SpindleOverload on</c>, <c>add-machine Lathe2</c>…) and waits until it is done.</summary>
    public async Task CommandAsync(string command)
    {
        ServerProcess process = _process ?? throw new InvalidOperationException("the server is not running.");
        // A sequence tag makes each answer unique, so a repeated command waits for its own answer.
        string line = $"{command} #{Interlocked.Increment(ref _commands)}";
        await process.SendLineAsync(line);
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        string answer = await process.WaitForLineAsync(l => l.TrimEnd() == "OK " + line || l.StartsWith("ERROR " + line + ":", StringComparison.Ordinal), deadline.Token);
        if (answer.StartsWith("ERROR", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"opcua-machines refused '{command}': {answer}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_process is not null)
        {
            await _process.DisposeAsync();
            _process = null;
        }

        _dir.Dispose();
    }
}
