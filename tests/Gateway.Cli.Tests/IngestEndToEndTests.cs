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

    [Fact]
    public async Task Tags_in_any_order_reach_influxdb_as_the_series_a_direct_write_of_the_same_lines_makes()
    {
        // The ingest forwards each line with its tags in key order and the token's enterprise added in its place;
        // InfluxDB must see exactly the series (and values) it makes of the lines as sent.
        const string ViaIngest = "keyorder";
        const string Direct = "keyorderdirect";
        await influx.CreateDatabaseAsync(ViaIngest, Ct);
        await influx.CreateDatabaseAsync(Direct, Ct);
        using var dir = new TempDirectory("fgw-keyorder");
        string token = await FgwProcess.CreateTokenAsync(dir.Path, "enterprise", Enterprise, Ct);
        int port = FreeTcpPort.Next();
        await using ServerProcess ingest = await FgwProcess.StartIngestAsync(port, dir.Path, influx.Url, ViaIngest, Ct);
        string[] sent =
        [
            $"telemetry,ent={Enterprise},dev=cnc-01,edge=e1,cls=cnc parts_total=1i 1795000000000000000", // a machine's order
            "telemetry,line=l2,dev=cnc-02 parts_total=2i 1795000001000000000", // no ent: the token's is added
            $"telemetry,cls=robot,dev=rb-01,edge=e1,ent={Enterprise} parts_total=3i 1795000002000000000", // already in order
            $"telemetry,ent={Enterprise},dev=cnc\\ 03,area=hall\\,2 parts_total=4i 1795000003000000000", // escapes
        ];
        // The direct write carries the ent tag the ingest adds to the second line, in the sender's place for it.
        string direct = string.Join('\n', sent).Replace("line=l2,dev=cnc-02", $"line=l2,ent={Enterprise},dev=cnc-02", StringComparison.Ordinal);

        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        using var request = new HttpRequestMessage(HttpMethod.Post, $"http://127.0.0.1:{port}/api/v2/write?org=f&bucket=factory&precision=ns")
        {
            Content = new StringContent(string.Join('\n', sent)),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Token", token);
        using (HttpResponseMessage response = await client.SendAsync(request, Ct))
        {
            Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        }

        using (HttpResponseMessage response = await client.PostAsync(new Uri(influx.Url, $"/write?db={Direct}&precision=ns"), new StringContent(direct), Ct))
        {
            Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        }

        Assert.Equal(sent.Length, await WaitForCountAsync(ViaIngest, sent.Length, ingest));
        string[] expected = await SeriesAsync(Direct);
        Assert.Equal(
            [
                "telemetry,area=hall\\,2,dev=cnc\\ 03,ent=91330402MA2B3C4D53",
                "telemetry,cls=cnc,dev=cnc-01,edge=e1,ent=91330402MA2B3C4D53",
                "telemetry,cls=robot,dev=rb-01,edge=e1,ent=91330402MA2B3C4D53",
                "telemetry,dev=cnc-02,ent=91330402MA2B3C4D53,line=l2",
            ],
            expected);
        Assert.Equal(expected, await SeriesAsync(ViaIngest));
        Assert.Equal(await ValuesAsync(Direct), await ValuesAsync(ViaIngest));
        using var metricsClient = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        string metrics = await metricsClient.GetStringAsync("/metrics", Ct);
        Assert.Contains("fgw_ingest_points_tags_sorted_total 3\n", metrics, StringComparison.Ordinal);
        Assert.Contains("fgw_ingest_points_ent_added_total 1\n", metrics, StringComparison.Ordinal);
    }

    private async Task<string[]> SeriesAsync(string database)
    {
        using System.Text.Json.JsonDocument result = await influx.QueryAsync(database, "SHOW SERIES", Ct);
        return [.. result.RootElement.GetProperty("results")[0].GetProperty("series")[0].GetProperty("values").EnumerateArray().Select(v => v[0].GetString()!).Order(StringComparer.Ordinal)];
    }

    private async Task<string> ValuesAsync(string database)
    {
        using System.Text.Json.JsonDocument result = await influx.QueryAsync(database, "SELECT * FROM telemetry", Ct);
        return result.RootElement.GetProperty("results")[0].GetProperty("series")[0].GetRawText();
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
