using System.Net;
using System.Text;

namespace FactoryGateway.Ingest.Tests.Http;

/// <summary>A WAL nobody drains fills up: writers get 429 first, then 503, both with Retry-After; nothing is lost.</summary>
public sealed class BackpressureTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData(1.0, 503, "unavailable", "the ingest WAL is full")]
    [InlineData(0.5, 429, "too many requests", "the ingest WAL holds")]
    public async Task A_full_wal_answers_with_retry_after_and_keeps_what_it_acknowledged(double fraction, int status, string code, string message)
    {
        await using IngestTestHost host = await IngestTestHost.StartAsync(
            o =>
            {
                o.Limits.MaxBodyBytes = 100_000;
                o.WalSegmentBytes = 128 * 1024;
                o.WalMaxBytes = 256 * 1024;
                o.WalBackpressureFraction = fraction;
            },
            consumers: _ => [new ParkedConsumer("forwarder")]);
        string body = Batch(300); // ~30 KB of line protocol per request

        int accepted = 0;
        HttpResponseMessage? refused = null;
        for (int i = 0; i < 100 && refused is null; i++)
        {
            HttpResponseMessage response = await host.Client.SendAsync(host.Write("/api/v2/write?bucket=b", body), Ct);
            if (response.StatusCode == HttpStatusCode.NoContent)
            {
                accepted++;
                response.Dispose();
            }
            else
            {
                refused = response;
            }
        }

        Assert.NotNull(refused);
        using (refused)
        {
            Assert.Equal(status, (int)refused.StatusCode);
            Assert.Equal(TimeSpan.FromSeconds(5), refused.Headers.RetryAfter?.Delta);
            string json = await refused.Content.ReadAsStringAsync(Ct);
            Assert.Contains($"\"code\":\"{code}\"", json, StringComparison.Ordinal);
            Assert.Contains(message, json, StringComparison.Ordinal);
        }

        Assert.True(accepted > 0);
        Assert.Equal(accepted, host.ReadWal().Count);
        using HttpResponseMessage ready = await host.Client.GetAsync("/ready", Ct);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
    }

    private static string Batch(int lines)
    {
        var text = new StringBuilder();
        for (int i = 0; i < lines; i++)
        {
            text.Append("telemetry,ent=91330402MA2B3C4D53,dev=cnc-01 spindle_speed=12000.5,feed_rate=850.25,parts_total=").Append(i).Append("i 17950000000").Append(i).Append('\n');
        }

        return text.ToString();
    }
}
