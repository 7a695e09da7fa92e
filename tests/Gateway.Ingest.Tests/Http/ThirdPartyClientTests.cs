using FactoryGateway.Testing;

namespace FactoryGateway.Ingest.Tests.Http;

/// <summary>Clients nobody here wrote, writing to the ingest: the official InfluxDB JavaScript client and curl.</summary>
public sealed class ThirdPartyClientTests
{
    private static readonly TimeSpan s_deadline = TimeSpan.FromSeconds(120);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_influxdb_javascript_client_writes_gzip_batches_to_api_v2_write()
    {
        Prerequisites.PeerModule("@influxdata/influxdb-client");
        await using IngestTestHost host = await IngestTestHost.StartAsync();

        CommandResult result = await CommandRunner.RunAsync(
            Prerequisites.Node,
            [
                Path.Combine(RepositoryLayout.PeersDirectory, "influx-client-write.mjs"),
                "--url", host.Server.Addresses[0].ToString().TrimEnd('/'), "--token", host.Token(TestTokens.TokenA),
                "--org", "factory", "--bucket", "telemetry", "--points", "2500", "--batch", "1000",
            ],
            s_deadline,
            Ct);

        Assert.True(result.ExitCode == 0, result.Output);
        Assert.Contains("WROTE 2500", result.Output, StringComparison.Ordinal);
        List<Wal.IngestRecord> records = host.ReadWal();
        Assert.Equal(3, records.Count); // batches of 1000, 1000 and 500
        Assert.Equal(2500, records.Sum(r => r.PointCount));
        Assert.All(records, r => Assert.Equal("telemetry", r.Target));
        Assert.True(host.Server.Service.Metrics.BytesReceived.Value < host.Server.Service.Metrics.BytesDecoded.Value, "the client sent gzip bodies");
    }

    [Fact]
    public async Task Curl_writes_to_the_v1_endpoint_and_reads_an_influxdb_shaped_error()
    {
        string curl = Prerequisites.Require("curl", "apt-get install -y curl");
        await using IngestTestHost host = await IngestTestHost.StartAsync();
        string url = host.Server.Addresses[0].ToString().TrimEnd('/');

        CommandResult ok = await CommandRunner.RunAsync(
            curl,
            ["-sS", "-o", "/dev/null", "-w", "%{http_code}", "-XPOST", $"{url}/write?db=factory&precision=ms&u=client&p={host.Token(TestTokens.TokenA)}",
             "--data-binary", "telemetry,dev=curl-01 state=4i 1795000000000\ntelemetry,dev=curl-01 state=3i 1795000001000"],
            s_deadline,
            Ct);
        CommandResult bad = await CommandRunner.RunAsync(
            curl,
            ["-sS", "-XPOST", $"{url}/write?db=factory", "-H", $"Authorization: Token {host.Token(TestTokens.TokenA)}", "--data-binary", "telemetry state="],
            s_deadline,
            Ct);

        Assert.Equal("204", ok.Output.Trim());
        Assert.Equal(2, Assert.Single(host.ReadWal()).PointCount);
        Assert.Contains("{\"code\":\"invalid\",\"message\":\"line 1 col 17: missing field value: \\\"\\\"\"", bad.Output, StringComparison.Ordinal);
    }
}
