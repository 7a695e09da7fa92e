using FactoryGateway.Telemetry.Influx;
using FactoryGateway.Testing;

namespace FactoryGateway.Telemetry.Tests.Influx;

/// <summary>The write client against a real InfluxDB that is stopped, restarted, or limits body sizes; each test has its own server.</summary>
public sealed class InfluxWriteClientOutageTests
{
    [Fact]
    public async Task A_stopped_server_is_a_network_error_result_and_the_restarted_server_takes_the_write()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        await using var influx = new InfluxDbServer();
        await influx.InitializeAsync();
        await influx.CreateDatabaseAsync("outage", ct);
        using var http = new HttpClient();
        var client = new InfluxWriteClient(http, InfluxTarget.ForV1(influx.Url, "outage"), TimeProvider.System);
        byte[] body = InfluxTestData.Lines("telemetry", 100);
        Assert.True((await client.WriteAsync(body, gzip: true, ct)).IsSuccess);

        await influx.StopAsync();
        InfluxWriteResult down = await client.WriteAsync(body, gzip: true, ct);

        Assert.Equal(InfluxResultKind.NetworkError, down.Kind);
        Assert.Equal(0, down.StatusCode);
        Assert.True(down.IsRetryable);
        Assert.Contains("HttpRequestException", down.Error, StringComparison.Ordinal);

        await influx.StartAsync();
        InfluxWriteResult up = await client.WriteAsync(InfluxTestData.Lines("telemetry", 100, InfluxTestData.StartNanoseconds + 1), gzip: true, ct);
        Assert.True(up.IsSuccess, up.Error);
        Assert.Equal(200, await influx.CountAsync("outage", "telemetry", "seq", ct));
    }

    [Fact]
    public async Task A_body_over_max_body_size_is_a_too_large_result_and_a_smaller_one_is_written()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        await using InfluxDbServer influx = InfluxDbServer.WithMaxBodySize(4096);
        await influx.InitializeAsync();
        await influx.CreateDatabaseAsync("limit", ct);
        using var http = new HttpClient();
        var client = new InfluxWriteClient(http, InfluxTarget.ForV1(influx.Url, "limit"), TimeProvider.System);

        InfluxWriteResult tooLarge = await client.WriteAsync(InfluxTestData.Lines("telemetry", 200), gzip: false, ct);
        InfluxWriteResult small = await client.WriteAsync(InfluxTestData.Lines("telemetry", 20), gzip: false, ct);

        Assert.Equal(InfluxResultKind.TooLarge, tooLarge.Kind);
        Assert.Equal(413, tooLarge.StatusCode);
        Assert.Contains("Request Entity Too Large", tooLarge.Error, StringComparison.Ordinal);
        Assert.True(small.IsSuccess, small.Error);
        Assert.Equal(20, await influx.CountAsync("limit", "telemetry", "seq", ct));
    }
}
