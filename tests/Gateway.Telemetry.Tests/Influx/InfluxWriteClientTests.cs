using System.Text;
using System.Text.Json;
using FactoryGateway.Telemetry.Influx;
using FactoryGateway.Testing;

namespace FactoryGateway.Telemetry.Tests.Influx;

/// <summary>The write and query clients against a real InfluxDB 1.6.7.</summary>
public sealed class InfluxWriteClientTests(InfluxDbServer influx) : IClassFixture<InfluxDbServer>, IDisposable
{
    private readonly HttpClient _http = new();

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Written_points_are_counted_exactly_by_InfluxDB(bool gzip)
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        string database = gzip ? "roundtrip_gzip" : "roundtrip_plain";
        await influx.CreateDatabaseAsync(database, ct);
        var client = new InfluxWriteClient(_http, InfluxTarget.ForV1(influx.Url, database), TimeProvider.System);
        byte[] body = InfluxTestData.Lines("telemetry", 3_000);

        InfluxWriteResult result = await client.WriteAsync(body, gzip, ct);

        Assert.Equal(InfluxResultKind.Success, result.Kind);
        Assert.Equal(204, result.StatusCode);
        Assert.Null(result.Error);
        Assert.Equal(3_000, await influx.CountAsync(database, "telemetry", "seq", ct));
        if (gzip)
        {
            Assert.True(result.RequestBytes < body.Length / 4, $"gzip sent {result.RequestBytes} of {body.Length} bytes");
        }
        else
        {
            Assert.Equal(body.Length, result.RequestBytes);
        }
    }

    [Fact]
    public async Task Values_and_timestamps_survive_the_round_trip_exactly()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        await influx.CreateDatabaseAsync("exact", ct);
        var client = new InfluxWriteClient(_http, InfluxTarget.ForV1(influx.Url, "exact"), TimeProvider.System);
        const string Line = "telemetry,dev=cnc-01 spindle_speed=1200.25,parts_total=-42i,note=\"a \\\"quoted\\\" word\",ok=true 1795000000123456789\n";

        InfluxWriteResult result = await client.WriteAsync(Encoding.UTF8.GetBytes(Line), gzip: true, ct);

        Assert.True(result.IsSuccess, result.Error);
        var query = new InfluxQueryClient(_http, InfluxTarget.ForV1(influx.Url, "exact"), TimeProvider.System);
        InfluxQueryResult answer = await query.QueryAsync("SELECT spindle_speed, parts_total, note, ok FROM telemetry", ct);
        Assert.True(answer.IsSuccess, answer.Error);
        using JsonDocument json = JsonDocument.Parse(answer.Json!);
        JsonElement row = json.RootElement.GetProperty("results")[0].GetProperty("series")[0].GetProperty("values")[0];
        Assert.Equal(1_795_000_000_123_456_789, row[0].GetInt64());
        Assert.Equal(1200.25, row[1].GetDouble());
        Assert.Equal(-42, row[2].GetInt64());
        Assert.Equal("a \"quoted\" word", row[3].GetString());
        Assert.True(row[4].GetBoolean());
    }

    [Fact]
    public async Task Bad_line_protocol_is_a_rejected_400_result_with_InfluxDBs_message()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        await influx.CreateDatabaseAsync("bad", ct);
        var client = new InfluxWriteClient(_http, InfluxTarget.ForV1(influx.Url, "bad"), TimeProvider.System);

        InfluxWriteResult result = await client.WriteAsync("telemetry spindle_speed= 1\n"u8.ToArray(), gzip: false, ct);

        Assert.Equal(InfluxResultKind.Rejected, result.Kind);
        Assert.Equal(400, result.StatusCode);
        Assert.False(result.IsRetryable);
        Assert.Contains("unable to parse 'telemetry spindle_speed= 1'", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_field_type_conflict_is_a_400_partial_write_that_reports_the_dropped_points()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        await influx.CreateDatabaseAsync("conflict", ct);
        var client = new InfluxWriteClient(_http, InfluxTarget.ForV1(influx.Url, "conflict"), TimeProvider.System);
        Assert.True((await client.WriteAsync("m f=1i 1\n"u8.ToArray(), gzip: true, ct)).IsSuccess);

        InfluxWriteResult result = await client.WriteAsync("m f=2i 2\nm f=\"x\" 3\nm f=4i 4\n"u8.ToArray(), gzip: true, ct);

        Assert.Equal(InfluxResultKind.Rejected, result.Kind);
        Assert.Equal(400, result.StatusCode);
        Assert.Contains("partial write: field type conflict", result.Error, StringComparison.Ordinal);
        Assert.Contains("dropped=1", result.Error, StringComparison.Ordinal);
        Assert.Equal(3, await influx.CountAsync("conflict", "m", "f", ct)); // the other two were written
    }

    [Fact]
    public async Task An_unknown_database_is_a_rejected_404_result()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        var client = new InfluxWriteClient(_http, InfluxTarget.ForV1(influx.Url, "no_such_db"), TimeProvider.System);

        InfluxWriteResult result = await client.WriteAsync(InfluxTestData.Lines("telemetry", 10), gzip: true, ct);

        Assert.Equal(InfluxResultKind.Rejected, result.Kind);
        Assert.Equal(404, result.StatusCode);
        Assert.Contains("database not found", result.Error, StringComparison.Ordinal);
        Assert.Contains("no_such_db", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_retention_policy_in_the_target_is_used()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        await influx.CreateDatabaseAsync("rp", ct);
        using (await influx.QueryAsync("rp", "CREATE RETENTION POLICY \"week\" ON \"rp\" DURATION 7d REPLICATION 1", ct))
        {
        }

        var client = new InfluxWriteClient(_http, InfluxTarget.ForV1(influx.Url, "rp", retentionPolicy: "week"), TimeProvider.System);
        Assert.True((await client.WriteAsync(InfluxTestData.Lines("telemetry", 5, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1_000_000), gzip: false, ct)).IsSuccess);

        Assert.Equal(5, await CountAsync("rp", "SELECT COUNT(seq) FROM \"rp\".\"week\".\"telemetry\"", ct));
        Assert.Equal(0, await CountAsync("rp", "SELECT COUNT(seq) FROM \"rp\".\"autogen\".\"telemetry\"", ct));
    }

    [Fact]
    public async Task A_failed_query_statement_is_reported_inside_a_successful_answer()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        var query = new InfluxQueryClient(_http, InfluxTarget.ForV1(influx.Url, "missing_db"), TimeProvider.System);

        InfluxQueryResult answer = await query.QueryAsync("SELECT * FROM telemetry", ct);

        Assert.Equal(InfluxResultKind.Success, answer.Kind);
        Assert.Contains("database not found", answer.Json, StringComparison.Ordinal);
    }

    public void Dispose() => _http.Dispose();

    private async Task<long> CountAsync(string database, string query, CancellationToken cancellationToken)
    {
        using JsonDocument result = await influx.QueryAsync(database, query, cancellationToken);
        JsonElement statement = result.RootElement.GetProperty("results")[0];
        return statement.TryGetProperty("series", out JsonElement series) ? series[0].GetProperty("values")[0][1].GetInt64() : 0;
    }
}
