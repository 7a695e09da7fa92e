using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using FactoryGateway.Testing;

namespace FactoryGateway.Cli.Tests;

/// <summary>
/// The whole path in real processes: devices publish JSON through mosquitto (npm <c>mqtt</c> at a steady rate, or
/// <c>mosquitto_pub</c>), the edge
/// agent (<c>fgw edge run</c>) buffers and uplinks, the ingest (<c>fgw ingest run</c>) forwards to InfluxDB 1.6.7.
/// </summary>
public sealed class EdgeEndToEndTests(InfluxDbServer influx, MosquittoServer broker) : IClassFixture<InfluxDbServer>, IClassFixture<MosquittoServer>
{
    private const string Enterprise = "91330402MA2B3C4D53";
    private const int Rate = 20; // messages per second per device
    private const int OutageSeconds = 120; // issue item 8: the ingest down for two minutes
    private const int PerDevice = Rate * OutageSeconds;
    private static readonly TimeSpan s_deadline = TimeSpan.FromSeconds(90);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task With_the_ingest_down_for_two_minutes_while_devices_publish_every_sample_then_arrives_in_influxdb_once_and_in_order()
    {
        const string Database = "edge_e2e";
        await influx.CreateDatabaseAsync(Database, Ct);
        using var dir = new TempDirectory("fgw-edge-e2e");
        string ingestDir = Path.Combine(dir.Path, "ingest");
        string token = await FgwProcess.CreateTokenAsync(ingestDir, "enterprise", Enterprise, Ct);
        int ingestPort = FreeTcpPort.Next();
        int healthPort = FreeTcpPort.Next();
        string prefix = $"e2e{Guid.NewGuid():N}";
        string config = Path.Combine(dir.Path, "edge.json");
        await File.WriteAllTextAsync(config, EdgeConfig("edge-e2e", dir.Path, ingestPort, token, healthPort, prefix), Ct);

        await using ServerProcess edge = FgwProcess.Start("fgw-edge", dir.Path, new Dictionary<string, string>(), "edge", "run", "--config", config);
        await WaitAsync(edge.WaitForLineAsync(l => l.StartsWith("fgw edge: edge-e2e running", StringComparison.Ordinal), Ct), edge);
        await WaitAsync(broker.WaitForLogAsync(prefix, Ct), edge); // mosquitto logs each subscribed filter; the prefix is this test's

        // The ingest is down while the devices publish for two minutes of wall-clock time (and of device time: 50 ms apart).
        Prerequisites.PeerModule("mqtt");
        long start = (DateTimeOffset.UtcNow.AddMinutes(-10) - DateTimeOffset.UnixEpoch).Ticks / TimeSpan.TicksPerMillisecond;
        var outage = Stopwatch.StartNew();
        CommandResult published = await CommandRunner.RunAsync(
            Prerequisites.Node,
            [
                Path.Combine(RepositoryLayout.PeersDirectory, "mqtt-steady-publish.mjs"), "--port", broker.Port.ToString(CultureInfo.InvariantCulture), "--prefix", prefix,
                "--devices", "press-1,press-2", "--rate", Rate.ToString(CultureInfo.InvariantCulture), "--seconds", OutageSeconds.ToString(CultureInfo.InvariantCulture),
                "--start-ts", start.ToString(CultureInfo.InvariantCulture), "--step-ms", (1000 / Rate).ToString(CultureInfo.InvariantCulture),
            ],
            TimeSpan.FromSeconds(OutageSeconds + 60),
            Ct);
        Assert.True(published.ExitCode == 0 && published.Output.Contains($"PUBLISHED {2 * PerDevice} ", StringComparison.Ordinal), published.Output);

        using var health = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{healthPort.ToString(CultureInfo.InvariantCulture)}/") };
        JsonElement status = await WaitForStatusAsync(health, s => s.GetProperty("devices").EnumerateArray().All(d => d.GetProperty("samples").GetInt64() == PerDevice), edge);
        TimeSpan down = outage.Elapsed;
        Assert.True(down >= TimeSpan.FromSeconds(OutageSeconds), $"the ingest was down for {down}");

        // All of it waits in the buffer, and the uplink kept failing to reach the ingest (0: no response).
        JsonElement uplink = status.GetProperty("uplink");
        Assert.Equal(0, uplink.GetProperty("batches").GetInt64());
        long pendingBytes = uplink.GetProperty("pending_bytes").GetInt64();
        Assert.True(pendingBytes > 0);
        long failures = uplink.GetProperty("responses_by_status").GetProperty("0").GetInt64();
        Assert.True(failures > 0 && uplink.GetProperty("retries").GetInt64() > 0, uplink.ToString());
        Assert.Matches(@"fgw_edge_uplink_responses_total\{status=""0""\} [1-9]", await health.GetStringAsync("metrics", Ct));
        long bufferedLines = status.GetProperty("buffer").GetProperty("lines").GetInt64();

        var replay = Stopwatch.StartNew();
        await using ServerProcess ingest = await FgwProcess.StartIngestAsync(ingestPort, ingestDir, influx.Url, Database, Ct);
        status = await WaitForStatusAsync(health, s => s.GetProperty("uplink").GetProperty("pending_bytes").GetInt64() == 0, edge);
        TimeSpan acknowledged = replay.Elapsed;
        long count = await CountAsync(Database, 2 * PerDevice);
        TimeSpan inInflux = replay.Elapsed;
        Assert.Equal(2 * PerDevice, count);

        // Each device's sequence, in device-time order: 0, 1, 2, … with no gap and no duplicate, at the device's own times.
        foreach (string device in new[] { "press-1", "press-2" })
        {
            using JsonDocument values = await influx.QueryAsync(Database, $"SELECT parts_total FROM telemetry WHERE dev = '{device}'", Ct);
            JsonElement[] rows = [.. values.RootElement.GetProperty("results")[0].GetProperty("series")[0].GetProperty("values").EnumerateArray()];
            Assert.Equal(Enumerable.Range(0, PerDevice).Select(i => (long)i), rows.Select(v => v[1].GetInt64()));
            Assert.Equal(Enumerable.Range(0, PerDevice).Select(i => (start + (i * (1000 / Rate))) * 1_000_000), rows.Select(v => v[0].GetInt64()));
        }

        // The ingest took every line the edge buffered exactly once: no replayed batch, no sequence gap, and as many
        // points as the edge had acknowledged (read around it: a heartbeat line may be sent meanwhile).
        long linesBefore = status.GetProperty("uplink").GetProperty("lines").GetInt64();
        using var ingestHttp = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{ingestPort.ToString(CultureInfo.InvariantCulture)}/") };
        string metrics = await ingestHttp.GetStringAsync("metrics", Ct);
        long linesAfter = (await WaitForStatusAsync(health, s => s.GetProperty("uplink").GetProperty("pending_bytes").GetInt64() == 0, edge)).GetProperty("uplink").GetProperty("lines").GetInt64();
        Assert.Equal(0, Metric(metrics, "fgw_ingest_edge_duplicate_batches_total"));
        Assert.Equal(0, Metric(metrics, "fgw_ingest_edge_sequence_gaps_total"));
        Assert.InRange(Metric(metrics, "fgw_ingest_points_accepted_total"), linesBefore, linesAfter);
        Assert.True(linesBefore >= bufferedLines, $"{linesBefore} lines acknowledged, {bufferedLines} buffered during the outage");

        TestContext.Current.TestOutputHelper?.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"outage {down.TotalSeconds:0.0} s: {2 * PerDevice} samples ({bufferedLines} lines with connection lines) buffered, {pendingBytes} bytes pending, {failures} failed attempts; replay: acknowledged in {acknowledged.TotalSeconds:0.0} s ({status.GetProperty("uplink").GetProperty("batches").GetInt64()} batches, {status.GetProperty("uplink").GetProperty("bytes_sent").GetInt64()} gzip bytes), all in InfluxDB in {inInflux.TotalSeconds:0.0} s"));
    }

    // A Prometheus sample without labels.
    private static long Metric(string text, string name) =>
        long.Parse(text.Split('\n').Single(l => l.StartsWith(name + " ", StringComparison.Ordinal))[(name.Length + 1)..], CultureInfo.InvariantCulture);

    [Fact]
    public async Task After_a_sigkill_the_edge_says_the_last_run_did_not_stop_cleanly_and_what_it_had_buffered_still_arrives()
    {
        const string Database = "edge_sigkill";
        await influx.CreateDatabaseAsync(Database, Ct);
        using var dir = new TempDirectory("fgw-edge-kill");
        string ingestDir = Path.Combine(dir.Path, "ingest");
        string token = await FgwProcess.CreateTokenAsync(ingestDir, "enterprise", Enterprise, Ct);
        int ingestPort = FreeTcpPort.Next();
        int healthPort = FreeTcpPort.Next();
        string prefix = $"kill{Guid.NewGuid():N}";
        string config = Path.Combine(dir.Path, "edge.json");
        await File.WriteAllTextAsync(config, EdgeConfig("edge-kill", dir.Path, ingestPort, token, healthPort, prefix), Ct);
        using var health = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{healthPort.ToString(CultureInfo.InvariantCulture)}/") };

        ServerProcess edge = FgwProcess.Start("fgw-edge", dir.Path, new Dictionary<string, string>(), "edge", "run", "--config", config);
        await WaitAsync(edge.WaitForLineAsync(l => l.StartsWith("fgw edge: edge-kill running", StringComparison.Ordinal), Ct), edge);
        await WaitAsync(broker.WaitForLogAsync(prefix, Ct), edge); // mosquitto logs each subscribed filter; the prefix is this test's
        long start = (DateTimeOffset.UtcNow.AddMinutes(-10) - DateTimeOffset.UnixEpoch).Ticks / TimeSpan.TicksPerMillisecond;
        await PublishAsync(dir.Path, prefix, "press-1", start, 600);
        await WaitForStatusAsync(health, s => s.GetProperty("buffer").GetProperty("lines").GetInt64() >= 600, edge);
        await edge.KillAsync();
        await edge.DisposeAsync();

        await using ServerProcess again = FgwProcess.Start("fgw-edge", dir.Path, new Dictionary<string, string>(), "edge", "run", "--config", config);
        string said = await again.WaitForLineAsync(l => l.StartsWith("fgw edge: the last run did not stop cleanly", StringComparison.Ordinal), Ct).WaitAsync(s_deadline, Ct);
        Assert.Contains("the last record kept was written at", said, StringComparison.Ordinal);
        await using ServerProcess ingest = await FgwProcess.StartIngestAsync(ingestPort, ingestDir, influx.Url, Database, Ct);
        await WaitForStatusAsync(health, s => s.GetProperty("uplink").GetProperty("pending_bytes").GetInt64() == 0 && s.GetProperty("uplink").GetProperty("batches").GetInt64() > 0, again);
        Assert.Equal(600, await CountAsync(Database, 600));
    }

    private async Task PublishAsync(string directory, string prefix, string device, long start, int count)
    {
        string lines = Path.Combine(directory, $"{device}-{Guid.NewGuid():N}.txt");
        await File.WriteAllLinesAsync(lines, Enumerable.Range(0, count).Select(i => string.Create(CultureInfo.InvariantCulture, $$"""{"ts":{{start + (i * 100)}},"n":{{i}}}""")), Ct);
        CommandResult published = await CommandRunner.RunAsync(
            "/bin/sh",
            ["-c", $"{Prerequisites.MosquittoPub} -h {MosquittoServer.Host} -p {broker.Port.ToString(CultureInfo.InvariantCulture)} -q 1 -t {prefix}/{device}/telemetry -l < {lines}"],
            s_deadline,
            environment: null,
            Ct);
        Assert.True(published.ExitCode == 0, published.Output);
    }

    private async Task<long> CountAsync(string database, long expected)
    {
        long count = 0;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        deadline.CancelAfter(s_deadline);
        while (count < expected && !deadline.IsCancellationRequested)
        {
            count = await influx.CountAsync(database, "telemetry", "parts_total", Ct);
            if (count < expected)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(200), Ct); // polling interval of a deadline loop (the forwarder's 1 s batches)
            }
        }

        return count;
    }

    private string EdgeConfig(string edgeId, string directory, int ingestPort, string token, int healthPort, string prefix) => $$"""
        {
          "EdgeId": "{{edgeId}}",
          "Enterprise": "{{Enterprise}}",
          "DataDirectory": {{JsonSerializer.Serialize(Path.Combine(directory, "edge"))}},
          "Ingest": { "Url": "http://127.0.0.1:{{ingestPort}}", "Token": "{{token}}", "InitialRetryDelay": "00:00:00.2", "MaxRetryDelay": "00:00:01" },
          "Buffer": { "FlushInterval": "00:00:00.2" },
          "Health": { "Urls": "http://127.0.0.1:{{healthPort}}" },
          "Mqtt": [
            {
              "Name": "presses",
              "Host": "{{MosquittoServer.Host}}",
              "Port": {{broker.Port}},
              "Json": [ { "Topic": "{{prefix}}/{device}/telemetry", "Signals": { "n": "n" }, "SignalNames": { "n": "parts_total" }, "TimestampPath": "ts" } ],
              "Devices": [ { "Id": "press-1" }, { "Id": "press-2" } ]
            }
          ]
        }
        """;

    private static Task<JsonElement> WaitForStatusAsync(HttpClient health, Func<JsonElement, bool> condition, ServerProcess edge) =>
        StatusPolling.WaitAsync(health, "status", condition, s_deadline, TimeSpan.FromMilliseconds(100),
            last => $"the edge did not reach the expected state within {s_deadline.TotalSeconds} s: {last}{Environment.NewLine}{edge.Describe()}", Ct);

    private static async Task WaitAsync(Task task, ServerProcess edge)
    {
        try
        {
            await task.WaitAsync(s_deadline, Ct);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"not within {s_deadline.TotalSeconds} s{Environment.NewLine}{edge.Describe()}");
        }
    }
}
