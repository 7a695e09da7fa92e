using System.Globalization;
using System.Text.Json;
using FactoryGateway.Testing;

namespace FactoryGateway.Cli.Tests;

/// <summary>
/// The whole path in real processes: devices publish JSON through mosquitto (with <c>mosquitto_pub</c>), the edge
/// agent (<c>fgw edge run</c>) buffers and uplinks, the ingest (<c>fgw ingest run</c>) forwards to InfluxDB 1.6.7.
/// </summary>
public sealed class EdgeEndToEndTests(InfluxDbServer influx, MosquittoServer broker) : IClassFixture<InfluxDbServer>, IClassFixture<MosquittoServer>
{
    private const string Enterprise = "91330402MA2B3C4D53";
    private const int PerDevice = 1_200; // two minutes of 10 Hz samples
    private static readonly TimeSpan s_deadline = TimeSpan.FromSeconds(90);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task With_the_ingest_down_two_minutes_of_samples_wait_in_the_edge_buffer_and_then_each_arrives_in_influxdb_once()
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

        // The devices publish two minutes of samples (device time, 100 ms apart) while the ingest is down.
        long start = ((DateTimeOffset.UtcNow.AddMinutes(-10) - DateTimeOffset.UnixEpoch).Ticks / TimeSpan.TicksPerMillisecond);
        foreach (string device in new[] { "press-1", "press-2" })
        {
            await PublishAsync(dir.Path, prefix, device, start, PerDevice);
        }

        using var health = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{healthPort.ToString(CultureInfo.InvariantCulture)}/") };
        JsonElement status = await WaitForStatusAsync(health, s => s.GetProperty("devices").EnumerateArray().All(d => d.GetProperty("samples").GetInt64() == PerDevice), edge);
        Assert.Equal(0, status.GetProperty("uplink").GetProperty("batches").GetInt64());
        Assert.True(status.GetProperty("uplink").GetProperty("pending_bytes").GetInt64() > 0);

        await using ServerProcess ingest = await FgwProcess.StartIngestAsync(ingestPort, ingestDir, influx.Url, Database, Ct);
        await WaitForStatusAsync(health, s => s.GetProperty("uplink").GetProperty("pending_bytes").GetInt64() == 0, edge);

        long count = await CountAsync(Database, 2 * PerDevice);
        Assert.Equal(2 * PerDevice, count);
        using JsonDocument values = await influx.QueryAsync(Database, "SELECT parts_total FROM telemetry WHERE dev = 'press-2'", Ct);
        JsonElement series = values.RootElement.GetProperty("results")[0].GetProperty("series")[0];
        Assert.Equal(Enumerable.Range(0, PerDevice).Select(i => (long)i), series.GetProperty("values").EnumerateArray().Select(v => v[1].GetInt64()));
        Assert.Equal((start + 100) * 1_000_000, series.GetProperty("values")[1][0].GetInt64()); // the device's own time, not the arrival
    }

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

    private static async Task<JsonElement> WaitForStatusAsync(HttpClient health, Func<JsonElement, bool> condition, ServerProcess edge)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        deadline.CancelAfter(s_deadline);
        string last = "";
        while (!deadline.IsCancellationRequested)
        {
            last = await health.GetStringAsync("status", Ct);
            using JsonDocument document = JsonDocument.Parse(last);
            if (condition(document.RootElement))
            {
                return document.RootElement.Clone();
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100), Ct); // polling interval of a deadline loop
        }

        throw new TimeoutException($"the edge did not reach the expected state within {s_deadline.TotalSeconds} s: {last}{Environment.NewLine}{edge.Describe()}");
    }

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
