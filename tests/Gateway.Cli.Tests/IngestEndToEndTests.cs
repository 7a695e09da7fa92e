using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using FactoryGateway.Testing;

namespace FactoryGateway.Cli.Tests;

/// <summary>
/// The composed ingest (<c>fgw ingest run</c>, a real process) in front of a real InfluxDB 1.6.7:
/// every acknowledged point arrives exactly once across a SIGKILL of the ingest and an InfluxDB outage.
/// </summary>
public sealed class IngestEndToEndTests(InfluxDbServer influx) : IClassFixture<InfluxDbServer>
{
    private const string Enterprise = "91330402MA2B3C4D53";
    private const int PointsPerBatch = 500;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Every_acknowledged_point_reaches_influxdb_across_a_sigkill_of_the_ingest()
    {
        const string Database = "sigkill";
        await influx.CreateDatabaseAsync(Database, Ct);
        using var dir = new TempDirectory("fgw-sigkill");
        string token = await FgwProcess.CreateTokenAsync(dir.Path, "enterprise", Enterprise, Ct);
        int port = FreeTcpPort.Next();
        using var writer = new EdgeWriter(port, token, "edge-kill");

        ServerProcess ingest = await FgwProcess.StartIngestAsync(port, dir.Path, influx.Url, Database, Ct);
        for (int batch = 1; batch <= 20; batch++)
        {
            Assert.Equal(HttpStatusCode.NoContent, await writer.SendAsync(batch, Ct));
        }

        // Kill -9 with a batch in flight: its outcome is unknown to the edge, which sends it again.
        Task<HttpStatusCode?> inFlight = writer.TrySendAsync(21, Ct);
        await ingest.KillAsync();
        await ingest.DisposeAsync();
        await inFlight;

        await using ServerProcess restarted = await FgwProcess.StartIngestAsync(port, dir.Path, influx.Url, Database, Ct);
        for (int batch = 21; batch <= 40; batch++)
        {
            Assert.Equal(HttpStatusCode.NoContent, await writer.SendAsync(batch, Ct));
        }

        long count = await WaitForCountAsync(Database, 40 * PointsPerBatch, restarted);
        Assert.Equal(40 * PointsPerBatch, count);
        Assert.Equal(40 * PointsPerBatch, await DistinctTimestampsAsync(Database));
    }

    [Fact]
    public async Task An_influxdb_outage_of_30_seconds_mid_stream_loses_nothing()
    {
        const string Database = "outage";
        await influx.CreateDatabaseAsync(Database, Ct);
        using var dir = new TempDirectory("fgw-outage");
        string token = await FgwProcess.CreateTokenAsync(dir.Path, "enterprise", Enterprise, Ct);
        int port = FreeTcpPort.Next();
        using var writer = new EdgeWriter(port, token, "edge-outage");
        await using ServerProcess ingest = await FgwProcess.StartIngestAsync(port, dir.Path, influx.Url, Database, Ct);

        int batch = 0;
        while (batch < 10)
        {
            Assert.Equal(HttpStatusCode.NoContent, await writer.SendAsync(++batch, Ct));
        }

        await influx.StopAsync();
        // The outage is the scenario: the edge keeps writing for 30 s while InfluxDB is down.
        var outage = System.Diagnostics.Stopwatch.StartNew();
        while (outage.Elapsed < TimeSpan.FromSeconds(30))
        {
            Assert.Equal(HttpStatusCode.NoContent, await writer.SendAsync(++batch, Ct));
            await Task.Delay(TimeSpan.FromMilliseconds(100), Ct); // an edge's send interval: pacing, not synchronisation
        }

        await influx.StartAsync();
        int end = batch + 10;
        while (batch < end)
        {
            Assert.Equal(HttpStatusCode.NoContent, await writer.SendAsync(++batch, Ct));
        }

        long count = await WaitForCountAsync(Database, batch * PointsPerBatch, ingest);
        Assert.Equal(batch * PointsPerBatch, count);
        Assert.Equal(batch * PointsPerBatch, await DistinctTimestampsAsync(Database));
        string metrics = await writer.GetStringAsync("/metrics", Ct);
        Assert.Matches("fgw_forwarder_errors_total\\{status=\"network\"\\} [1-9]", metrics);
    }

    private async Task<long> WaitForCountAsync(string database, long expected, ServerProcess ingest)
    {
        var deadline = DateTime.UtcNow.AddSeconds(90);
        long count = 0;
        while (DateTime.UtcNow < deadline)
        {
            count = await influx.CountAsync(database, "telemetry", "parts_total", Ct);
            if (count >= expected)
            {
                return count;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(200), Ct); // polling interval of a deadline loop
        }

        Assert.Fail($"InfluxDB has {count} of {expected} points after 90 s.{Environment.NewLine}{ingest.Describe()}");
        return count;
    }

    private async Task<long> DistinctTimestampsAsync(string database)
    {
        // parts_total is the batch-local index; the timestamp is unique per point, so COUNT(DISTINCT) over a
        // field that equals the timestamp's offset tells duplicates apart from overwrites.
        using System.Text.Json.JsonDocument result = await influx.QueryAsync(database, "SELECT COUNT(DISTINCT(\"uid\")) FROM telemetry", Ct);
        return result.RootElement.GetProperty("results")[0].GetProperty("series")[0].GetProperty("values")[0][1].GetInt64();
    }

    /// <summary>Writes numbered batches as an edge agent does: X-FG-Edge and X-FG-Seq, the same body on a retry.</summary>
    private sealed class EdgeWriter(int port, string token, string edge) : IDisposable
    {
        private readonly HttpClient _client = new() { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(30) };

        public Task<string> GetStringAsync(string path, CancellationToken cancellationToken) => _client.GetStringAsync(path, cancellationToken);

        public void Dispose() => _client.Dispose();

        public async Task<HttpStatusCode> SendAsync(int sequence, CancellationToken cancellationToken) =>
            await TrySendAsync(sequence, cancellationToken) ?? throw new HttpRequestException($"batch {sequence} got no answer");

        public async Task<HttpStatusCode?> TrySendAsync(int sequence, CancellationToken cancellationToken)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v2/write?org=f&bucket=factory&precision=ns") { Content = new StringContent(Body(sequence)) };
            request.Headers.Authorization = new AuthenticationHeaderValue("Token", token);
            request.Headers.Add("X-FG-Edge", edge);
            request.Headers.Add("X-FG-Seq", sequence.ToString(CultureInfo.InvariantCulture));
            try
            {
                using HttpResponseMessage response = await _client.SendAsync(request, cancellationToken);
                return response.StatusCode;
            }
            catch (HttpRequestException)
            {
                return null;
            }
        }

        private string Body(int sequence)
        {
            var body = new StringBuilder(PointsPerBatch * 120);
            long start = 1_795_000_000_000_000_000 + (sequence * 1_000_000_000L);
            for (int i = 0; i < PointsPerBatch; i++)
            {
                long uid = (sequence * 10_000L) + i;
                body.Append(CultureInfo.InvariantCulture, $"telemetry,ent={Enterprise},dev=cnc-01,edge={edge} parts_total={i}i,uid={uid}i {start + (i * 1_000_000L)}\n");
            }

            return body.ToString();
        }
    }
}
