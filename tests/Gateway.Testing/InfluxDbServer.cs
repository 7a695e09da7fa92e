using System.Globalization;
using System.Net;
using System.Text.Json;

namespace FactoryGateway.Testing;

/// <summary>
/// A real InfluxDB 1.x (<c>influxd -config &lt;temp file&gt;</c>) on free loopback ports with its data in
/// a temporary directory. Use as an xunit fixture; it can be stopped, killed and started again on the
/// same port and data for outage tests.
/// </summary>
public sealed class InfluxDbServer : IAsyncLifetime
{
    // influxd creates its stores and opens the HTTP listener in well under a second here; the deadline
    // leaves room for a loaded CI machine.
    private static readonly TimeSpan s_startDeadline = TimeSpan.FromSeconds(60);

    private readonly TempDirectory _dir = new("influxdb");
    private readonly long? _maxBodySize;
    private ServerProcess? _process;

    public InfluxDbServer()
        : this(maxBodySize: null)
    {
    }

    private InfluxDbServer(long? maxBodySize)
    {
        _maxBodySize = maxBodySize;
    }

    /// <summary>
    /// A server whose <c>[http] max-body-size</c> is <paramref name="bytes"/>: larger write bodies are answered
    /// 413 (InfluxDB 1.6.7 applies the limit to the body as sent, so to the compressed size of a gzip body).
    /// Call <see cref="InitializeAsync"/> to start it.
    /// </summary>
    public static InfluxDbServer WithMaxBodySize(long bytes) => new(bytes);

    public int HttpPort { get; private set; }

    /// <summary>The RPC (backup/restore) port; bound to loopback so that it never collides with 8088.</summary>
    public int RpcPort { get; private set; }

    public Uri Url => new($"http://127.0.0.1:{HttpPort}/");

    /// <summary>A client for the server's HTTP API, for test set-up and assertions.</summary>
    public HttpClient Http { get; private set; } = new();

    public ServerProcess Process => _process ?? throw new InvalidOperationException("influxd is not running.");

    public async ValueTask InitializeAsync()
    {
        string influxd = Prerequisites.InfluxD;
        for (int attempt = 1; ; attempt++)
        {
            HttpPort = FreeTcpPort.Next();
            RpcPort = FreeTcpPort.Next();
            try
            {
                await StartOnCurrentPortsAsync(influxd);
                return;
            }
            catch (ServerStartException) when (attempt < 3 && _process is not null && _process.Output.Contains("address already in use", StringComparison.Ordinal))
            {
                // Another process took a port between FreeTcpPort.Next() and the bind; try new ports.
            }
        }
    }

    /// <summary>Starts the server again on the same ports and data directory.</summary>
    public Task StartAsync() => StartOnCurrentPortsAsync(Prerequisites.InfluxD);

    /// <summary>Stops the server cleanly (SIGTERM).</summary>
    public async Task StopAsync()
    {
        if (_process is not null)
        {
            await _process.DisposeAsync();
            _process = null;
        }
    }

    /// <summary>Kills the server (SIGKILL), as a crash would.</summary>
    public async Task KillAsync()
    {
        if (_process is not null)
        {
            await _process.KillAsync();
            await _process.DisposeAsync();
            _process = null;
        }
    }

    public async Task CreateDatabaseAsync(string database, CancellationToken cancellationToken = default)
    {
        using JsonDocument result = await QueryAsync(null, $"CREATE DATABASE \"{database}\"", cancellationToken);
    }

    /// <summary>Runs an InfluxQL statement through <c>POST /query</c>; fails with the server's answer and output on an error.</summary>
    public async Task<JsonDocument> QueryAsync(string? database, string query, CancellationToken cancellationToken = default)
    {
        var form = new Dictionary<string, string> { ["q"] = query, ["epoch"] = "ns" };
        if (database is not null)
        {
            form["db"] = database;
        }

        using var content = new FormUrlEncodedContent(form);
        using HttpResponseMessage response = await Http.PostAsync(new Uri(Url, "query"), content, cancellationToken);
        string body = await response.Content.ReadAsStringAsync(cancellationToken);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            throw new InvalidOperationException($"InfluxDB /query answered {(int)response.StatusCode}: {body}{Environment.NewLine}{Process.Describe()}");
        }

        JsonDocument document = JsonDocument.Parse(body);
        if (document.RootElement.GetProperty("results")[0].TryGetProperty("error", out JsonElement error))
        {
            document.Dispose();
            throw new InvalidOperationException($"InfluxDB query '{query}' failed: {error.GetString()}");
        }

        return document;
    }

    /// <summary>Counts the points of <paramref name="measurement"/> that have <paramref name="field"/>.</summary>
    public async Task<long> CountAsync(string database, string measurement, string field, CancellationToken cancellationToken = default)
    {
        using JsonDocument result = await QueryAsync(database, $"SELECT COUNT(\"{field}\") FROM \"{measurement}\"", cancellationToken);
        JsonElement statement = result.RootElement.GetProperty("results")[0];
        if (!statement.TryGetProperty("series", out JsonElement series))
        {
            return 0;
        }

        return series[0].GetProperty("values")[0][1].GetInt64();
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        Http.Dispose();
        _dir.Dispose();
    }

    private async Task StartOnCurrentPortsAsync(string influxd)
    {
        string config = _dir.Combine("influxdb.conf");
        await File.WriteAllTextAsync(config, RenderConfig());
        _process = ServerProcess.Start("influxd", influxd, ["-config", config], _dir.Path);
        Http.Dispose();
        Http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var ping = new Uri(Url, "ping");
        await Readiness.WaitAsync(_process, s_startDeadline, async ct =>
        {
            using HttpResponseMessage response = await Http.GetAsync(ping, ct);
            return response.StatusCode == HttpStatusCode.NoContent ? null : $"GET /ping answered {(int)response.StatusCode}";
        });
    }

    // No [udp], [graphite], [collectd] or [opentsdb] sections: InfluxDB 1.6.7 fails to start with an
    // empty [udp] section, and the tests use HTTP only. max-body-size is influxd's own default (25 MB)
    // unless WithMaxBodySize set one.
    private string RenderConfig() => string.Create(CultureInfo.InvariantCulture, $"""
        reporting-disabled = true
        bind-address = "127.0.0.1:{RpcPort}"

        [meta]
          dir = "{_dir.Combine("meta")}"
          retention-autocreate = true
          logging-enabled = false

        [data]
          dir = "{_dir.Combine("data")}"
          wal-dir = "{_dir.Combine("wal")}"
          query-log-enabled = false
          wal-fsync-delay = "0s"
          index-version = "inmem"

        [retention]
          enabled = false

        [shard-precreation]
          enabled = false

        [monitor]
          store-enabled = false

        [http]
          enabled = true
          bind-address = "127.0.0.1:{HttpPort}"
          auth-enabled = false
          log-enabled = false
          write-tracing = false
          max-body-size = {_maxBodySize ?? 25_000_000}

        [continuous_queries]
          enabled = false

        [logging]
          level = "warn"
        """);
}
