using System.Net;
using System.Text;
using System.Text.Json;
using FactoryGateway.Testing;

namespace FactoryGateway.Telemetry.Tests;

/// <summary>Proves the InfluxDB fixture: a real influxd that takes writes, answers queries and restarts.</summary>
public sealed class InfluxDbFixtureTests(InfluxDbServer influx) : IClassFixture<InfluxDbServer>
{
    private const string Database = "fixture";

    [Fact]
    public async Task A_point_written_through_write_is_read_back_through_query()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        await influx.CreateDatabaseAsync(Database, ct);

        const long Timestamp = 1_795_000_000_123_456_789;
        using var body = new StringContent($"telemetry,ent=91330402MA2B3C4D53,dev=cnc-01 spindle_speed=1200.5,parts_total=42i {Timestamp}", Encoding.UTF8);
        using HttpResponseMessage write = await influx.Http.PostAsync(new Uri(influx.Url, $"write?db={Database}&precision=ns"), body, ct);
        Assert.Equal(HttpStatusCode.NoContent, write.StatusCode);

        using JsonDocument result = await influx.QueryAsync(Database, "SELECT spindle_speed, parts_total, dev FROM telemetry", ct);
        JsonElement series = result.RootElement.GetProperty("results")[0].GetProperty("series")[0];
        JsonElement row = series.GetProperty("values")[0];
        Assert.Equal(Timestamp, row[0].GetInt64());
        Assert.Equal(1200.5, row[1].GetDouble());
        Assert.Equal(42, row[2].GetInt64());
        Assert.Equal("cnc-01", row[3].GetString());
    }

    [Fact]
    public async Task Data_survives_a_restart_on_the_same_port()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        await influx.CreateDatabaseAsync("restart", ct);
        using var body = new StringContent("m v=1i 1\nm v=2i 2\nm v=3i 3", Encoding.UTF8);
        using HttpResponseMessage write = await influx.Http.PostAsync(new Uri(influx.Url, "write?db=restart&precision=ns"), body, ct);
        Assert.Equal(HttpStatusCode.NoContent, write.StatusCode);
        int port = influx.HttpPort;

        await influx.StopAsync();
        await influx.StartAsync();

        Assert.Equal(port, influx.HttpPort);
        Assert.Equal(3, await influx.CountAsync("restart", "m", "v", ct));
    }
}
