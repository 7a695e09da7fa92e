using System.Buffers;
using System.Text.Json;
using FactoryGateway.Metrics.Indicators;
using FactoryGateway.Telemetry.Influx;
using FactoryGateway.Testing;

namespace FactoryGateway.Metrics.Tests.Indicators;

/// <summary>Indicator series written to a real InfluxDB 1.6.7 and read back as a dashboard would query them.</summary>
public sealed class IndicatorSeriesTests(InfluxDbServer influx) : IClassFixture<InfluxDbServer>
{
    private const string Database = "indicators";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_quarter_report_reads_back_by_enterprise_indicator_and_window()
    {
        IndicatorReport report = IndicatorCalculatorTests.Compute();
        var body = new ArrayBufferWriter<byte>();
        int points = IndicatorSeries.Write(report, "330402", body);
        Assert.Equal(report.Indicators.Count(i => i.Value is not null), points);

        await influx.CreateDatabaseAsync(Database, Ct);
        var client = new InfluxWriteClient(influx.Http, InfluxTarget.ForV1(influx.Url, Database), TimeProvider.System);
        InfluxWriteResult written = await client.WriteAsync(body.WrittenMemory, gzip: true, Ct);
        Assert.True(written.IsSuccess, written.Error);

        using JsonDocument result = await influx.QueryAsync(Database,
            "SELECT value, numerator, denominator, counted, excluded, provisional FROM indicator "
            + "WHERE ent = '91330402MA2B3C4D53' AND indicator = 'key_process_nc_ratio' AND \"window\" = '2026Q3' AND region = '330402'", Ct);
        JsonElement row = result.RootElement.GetProperty("results")[0].GetProperty("series")[0].GetProperty("values")[0];
        // 2026-07-01T00:00 in UTC+8 is 2026-06-30T16:00Z.
        Assert.Equal(1_782_835_200_000_000_000, row[0].GetInt64());
        Assert.Equal(0.714286, row[1].GetDouble());
        Assert.Equal(2.5, row[2].GetDouble());
        Assert.Equal(3.5, row[3].GetDouble());
        Assert.Equal(3, row[4].GetInt64());
        Assert.Equal(1, row[5].GetInt64());
        Assert.False(row[6].GetBoolean());

        // Writing the same window again overwrites instead of adding points.
        Assert.True((await client.WriteAsync(body.WrittenMemory, gzip: false, Ct)).IsSuccess);
        Assert.Equal(points, await influx.CountAsync(Database, IndicatorSeries.Measurement, "value", Ct));
    }
}
