
namespace FactoryGateway.Testing;

/// <summary>
/// A real mosquitto broker (<c>mosquitto -c &lt;temp file&gt;</c>) on a free loopback port with its
/// persistence in a temporary directory. It can be stopped and started again on the same port and
/// persistence for restart tests.
/// </summary>
public sealed class MosquittoServer : IAsyncLifetime
{
    private static readonly TimeSpan s_startDeadline = TimeSpan.FromSeconds(30);

    private readonly TempDirectory _dir = new("mosquitto");
    private readonly string _extraConfiguration;
    private readonly string _logTypes;
    private ServerProcess? _process;

    public MosquittoServer()
        : this(string.Empty)
    {
    }

    private MosquittoServer(string extraConfiguration, string logTypes = "all")
    {
        _extraConfiguration = extraConfiguration;
        _logTypes = logTypes;
    }

    /// <summary>A broker whose mosquitto.conf has <paramref name="extraConfiguration"/> appended; call <see cref="InitializeAsync"/> to start it.</summary>
    public static MosquittoServer WithConfiguration(string extraConfiguration) => new(extraConfiguration);

    /// <summary>
    /// A broker for load runs: it logs errors, warnings, notices and subscriptions only (not every
    /// PUBLISH, as <c>log_type all</c> does), so logging neither slows the broker nor costs the harness.
    /// </summary>
    public static MosquittoServer ForLoad(string extraConfiguration = "") => new(extraConfiguration, "error\nlog_type warning\nlog_type notice\nlog_type subscribe");

    public int Port { get; private set; }

    public static string Host => "127.0.0.1";

    public ServerProcess Process => _process ?? throw new InvalidOperationException("mosquitto is not running.");

    public async ValueTask InitializeAsync()
    {
        string mosquitto = Prerequisites.Mosquitto;
        for (int attempt = 1; ; attempt++)
        {
            Port = FreeTcpPort.Next();
            try
            {
                await StartOnCurrentPortAsync(mosquitto);
                return;
            }
            catch (ServerStartException) when (attempt < 3 && _process is not null && _process.Output.Contains("Address already in use", StringComparison.OrdinalIgnoreCase))
            {
            }
        }
    }

    /// <summary>Starts the broker again on the same port and persistence directory.</summary>
    public Task StartAsync() => StartOnCurrentPortAsync(Prerequisites.Mosquitto);

    /// <summary>Stops the broker cleanly (SIGTERM: it saves its persistence file).</summary>
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

    /// <summary>Waits for a broker log line, for example "Received SUBSCRIBE from &lt;client id&gt;".</summary>
    public Task<string> WaitForLogAsync(string fragment, CancellationToken cancellationToken) =>
        Process.WaitForLineAsync(line => line.Contains(fragment, StringComparison.Ordinal), cancellationToken);

    private async Task StartOnCurrentPortAsync(string mosquitto)
    {
        string config = _dir.Combine("mosquitto.conf");
        await File.WriteAllTextAsync(config, RenderConfig());
        _process = ServerProcess.Start("mosquitto", mosquitto, ["-c", config], _dir.Path);
        await Readiness.WaitAsync(_process, s_startDeadline, ct => MqttProbe.ConnectAsync(Host, Port, ct));
    }


    // log_dest stderr: mosquitto block-buffers stdout when it is not a terminal, which would hide the
    // log lines tests wait for. max_queued_messages 0 (no limit): the default of 1000 drops QoS 1
    // messages for a slow subscriber, and the tests count every message.
    private string RenderConfig() => $"""
        listener {Port} {Host}
        allow_anonymous true
        persistence true
        persistence_location {_dir.Path}/
        user {Environment.UserName}
        log_dest stderr
        log_type {_logTypes}
        connection_messages true
        max_queued_messages 0
        {_extraConfiguration}

        """;
}
