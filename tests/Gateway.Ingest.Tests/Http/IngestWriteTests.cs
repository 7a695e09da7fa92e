using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using FactoryGateway.Ingest.Wal;

namespace FactoryGateway.Ingest.Tests.Http;

/// <summary>The InfluxDB-compatible write API, over real HTTP to a real Kestrel.</summary>
public sealed class IngestWriteTests
{
    private const string Device = "telemetry,ent=91330402MA2B3C4D53,dev=cnc-01,edge=e1";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_v2_write_is_durable_in_the_wal_as_canonical_line_protocol_before_204()
    {
        await using IngestTestHost host = await IngestTestHost.StartAsync();

        // Tags unordered, ordered, unordered without ent, ordered with ent: the canonical form has every tag set in
        // InfluxDB's key order and the token's enterprise added in its place.
        using HttpResponseMessage response = await host.Client.SendAsync(
            host.Write("/api/v2/write?org=o&bucket=factory&precision=s",
                $"{Device} state=4i 1795000000\ntelemetry,dev=cnc-02 state=3i 1795000001\ntelemetry,line=l2,dev=cnc-03 state=2i 1795000002\n"
                + "telemetry,dev=cnc-04,edge=e1,ent=91330402MA2B3C4D53 state=1i 1795000003\n"), Ct);

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        IngestRecord record = Assert.Single(host.ReadWal());
        Assert.Equal(4, record.PointCount);
        Assert.Equal("factory", record.Target);
        Assert.Equal(TestTokens.EnterpriseA, record.Enterprise);
        Assert.Equal(
            "telemetry,dev=cnc-01,edge=e1,ent=91330402MA2B3C4D53 state=4i 1795000000000000000\n"
            + "telemetry,dev=cnc-02,ent=91330402MA2B3C4D53 state=3i 1795000001000000000\n"
            + "telemetry,dev=cnc-03,ent=91330402MA2B3C4D53,line=l2 state=2i 1795000002000000000\n"
            + "telemetry,dev=cnc-04,edge=e1,ent=91330402MA2B3C4D53 state=1i 1795000003000000000\n",
            Encoding.UTF8.GetString(record.Body.Span));
        string metrics = await host.Client.GetStringAsync("/metrics", Ct);
        Assert.Contains("fgw_ingest_points_tags_sorted_total 2\n", metrics, StringComparison.Ordinal);
        Assert.Contains("fgw_ingest_points_ent_added_total 2\n", metrics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_line_without_timestamp_gets_the_arrival_time()
    {
        await using IngestTestHost host = await IngestTestHost.StartAsync();
        long before = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1_000_000;

        using HttpResponseMessage response = await host.Client.SendAsync(host.Write("/api/v2/write?bucket=b", $"{Device} state=4i"), Ct);

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        IngestRecord record = Assert.Single(host.ReadWal());
        long stamped = long.Parse(Encoding.UTF8.GetString(record.Body.Span).Trim().Split(' ')[^1]);
        Assert.Equal(record.ArrivalNanoseconds, stamped);
        Assert.True(stamped >= before);
    }

    [Theory]
    [InlineData("/write?db=factory&u=ignored&p=", null)]
    [InlineData("/write?db=factory&rp=autogen", "Basic")]
    [InlineData("/write?db=factory", "Token")]
    public async Task V1_clients_write_with_the_token_as_password_or_header(string path, string? scheme)
    {
        await using IngestTestHost host = await IngestTestHost.StartAsync();
        using HttpRequestMessage request = host.Write(scheme is null ? path + Uri.EscapeDataString(host.Token(TestTokens.TokenA)) : path, $"{Device} state=4i 1795000000000000000", token: null);
        if (scheme == "Basic")
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"user:{host.Token(TestTokens.TokenA)}")));
        }
        else if (scheme == "Token")
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Token", host.Token(TestTokens.TokenA));
        }

        using HttpResponseMessage response = await host.Client.SendAsync(request, Ct);

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.StartsWith("factory", Assert.Single(host.ReadWal()).Target, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null, 401, "unauthorized", "missing token: send Authorization: Token <token>")]
    [InlineData("fgw_0123456789abcdef_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", 401, "unauthorized", "invalid or revoked token")]
    [InlineData("no-such-token", 401, "unauthorized", "invalid or revoked token")]
    [InlineData(TestTokens.Bureau, 403, "forbidden", "bureau tokens are read-only")]
    [InlineData(TestTokens.TokenB, 403, "forbidden", "line 1: ent tag \"91330402MA2B3C4D53\" is not the token's enterprise")]
    public async Task Writes_that_are_not_allowed_are_refused_and_nothing_is_applied(string? token, int status, string code, string message)
    {
        await using IngestTestHost host = await IngestTestHost.StartAsync();

        using HttpResponseMessage response = await host.Client.SendAsync(host.Write("/api/v2/write?bucket=b", $"{Device} state=4i 1", token), Ct);

        await AssertErrorAsync(response, status, code, message);
        Assert.Empty(host.ReadWal());
    }

    [Fact]
    public async Task Malformed_line_protocol_gets_400_with_its_position_and_nothing_of_the_request_is_applied()
    {
        await using IngestTestHost host = await IngestTestHost.StartAsync();
        long tail = host.Wal.TailPosition;

        using HttpResponseMessage response = await host.Client.SendAsync(
            host.Write("/api/v2/write?bucket=b", $"{Device} state=4i 1\n{Device} state=3i 2\n{Device} parts_total=12x3i 3\n"), Ct);

        await AssertErrorAsync(response, 400, "invalid", "line 3 col 65: invalid integer field value: \"12x3i\"");
        Assert.Equal(tail, host.Wal.TailPosition);
        Assert.Equal(1, host.Server.Service.Metrics.RequestsRejected["malformed"].Value);
    }

    [Fact]
    public async Task A_timestamp_more_than_five_minutes_ahead_is_refused()
    {
        await using IngestTestHost host = await IngestTestHost.StartAsync();
        long future = (DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 3600) * 1_000_000_000;

        using HttpResponseMessage response = await host.Client.SendAsync(host.Write("/api/v2/write?bucket=b", $"{Device} state=4i 1\n{Device} state=4i {future}"), Ct);

        string body = await response.Content.ReadAsStringAsync(Ct);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("\"message\":\"line 2: timestamp " + future, body, StringComparison.Ordinal);
        Assert.Contains("ahead of the ingest clock (limit 300 s)", body, StringComparison.Ordinal);
        Assert.Empty(host.ReadWal());
    }

    [Fact]
    public async Task Writes_refused_for_future_timestamps_are_counted_against_the_device_for_the_flag()
    {
        await using IngestTestHost host = await IngestTestHost.StartAsync();
        long now = DateTimeOffset.UtcNow.ToUnixTimeSeconds() * 1_000_000_000;
        long future = now + (3600 * 1_000_000_000L);
        for (int i = 0; i < 3; i++)
        {
            using HttpResponseMessage refused = await host.Client.SendAsync(host.Write("/api/v2/write?bucket=b", $"telemetry,dev=cnc-07 state=4i {future}"), Ct);
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        }

        int today = FactoryGateway.Evidence.Ledger.LocalDays.DayOf(now, FactoryGateway.Evidence.Ledger.LocalDays.DefaultOffsetMinutes);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        IReadOnlyDictionary<(string Enterprise, string Device), long> counts;
        while (true)
        {
            counts = host.Register.CountFutureTimestamps(today - 1, today + 2); // recorded off the request path
            if (counts.GetValueOrDefault((TestTokens.EnterpriseA, "cnc-07")) >= 3 || DateTime.UtcNow > deadline)
            {
                break;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(20), Ct); // polling interval within the deadline
        }

        Assert.Equal(3, counts[(TestTokens.EnterpriseA, "cnc-07")]);
        Assert.Single(counts);
        Assert.Empty(host.ReadWal());
    }

    [Fact]
    public async Task A_gzip_body_is_accepted_and_a_gzip_bomb_is_refused_with_413()
    {
        await using IngestTestHost host = await IngestTestHost.StartAsync(o => o.Limits.MaxBodyBytes = 100_000);

        using HttpResponseMessage ok = await host.Client.SendAsync(Gzip(host.Write("/api/v2/write?bucket=b", $"{Device} state=4i 1\n{Device} state=3i 2\n")), Ct);
        Assert.Equal(HttpStatusCode.NoContent, ok.StatusCode);
        Assert.Equal(2, Assert.Single(host.ReadWal()).PointCount);

        string huge = string.Concat(Enumerable.Repeat($"{Device} state=4i 1\n", 5_000));
        using HttpResponseMessage bomb = await host.Client.SendAsync(Gzip(host.Write("/api/v2/write?bucket=b", huge)), Ct);
        await AssertErrorAsync(bomb, 413, "request too large", "the body exceeds 100000 bytes (MaxBodyBytes) after decoding");

        using HttpResponseMessage plain = await host.Client.SendAsync(host.Write("/api/v2/write?bucket=b", huge), Ct);
        await AssertErrorAsync(plain, 413, "request too large", "the body exceeds 100000 bytes (MaxBodyBytes) after decoding");
        Assert.Single(host.ReadWal());
    }

    [Theory]
    [InlineData("/api/v2/write?org=o", "bucket is required: /api/v2/write?org=<org>&bucket=<bucket>")]
    [InlineData("/write?rp=x", "database is required: /write?db=<database>")]
    [InlineData("/api/v2/write?bucket=b&precision=fortnight", "precision \"fortnight\" is not one of ns, us, ms, s, m, h")]
    public async Task Bad_parameters_get_400(string path, string message)
    {
        await using IngestTestHost host = await IngestTestHost.StartAsync();

        using HttpResponseMessage response = await host.Client.SendAsync(host.Write(path, $"{Device} state=4i 1"), Ct);

        await AssertErrorAsync(response, 400, "invalid", message);
    }

    [Fact]
    public async Task V1_errors_also_carry_the_error_key_influxdb_1_clients_read()
    {
        await using IngestTestHost host = await IngestTestHost.StartAsync();

        using HttpResponseMessage response = await host.Client.SendAsync(host.Write("/write?db=d", "m"), Ct);

        using JsonDocument json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct));
        Assert.Equal("line 1 col 2: missing fields: \"m\"", json.RootElement.GetProperty("error").GetString());
    }

    [Fact]
    public async Task Metrics_count_accepted_and_rejected_points_in_prometheus_text()
    {
        await using IngestTestHost host = await IngestTestHost.StartAsync();
        using (HttpResponseMessage ok = await host.Client.SendAsync(host.Write("/api/v2/write?bucket=b", $"{Device} state=4i 1\n{Device} state=3i 2"), Ct))
        using (HttpResponseMessage bad = await host.Client.SendAsync(host.Write("/api/v2/write?bucket=b", "m f="), Ct))
        {
            Assert.Equal(HttpStatusCode.NoContent, ok.StatusCode);
            Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        }

        string metrics = await host.Client.GetStringAsync("/metrics", Ct);

        Assert.Contains("# TYPE fgw_ingest_points_accepted_total counter\nfgw_ingest_points_accepted_total 2\n", metrics, StringComparison.Ordinal);
        Assert.Contains("fgw_ingest_requests_rejected_total{reason=\"malformed\"} 1\n", metrics, StringComparison.Ordinal);
        Assert.Contains("fgw_ingest_requests_total{status=\"204\"} 1\n", metrics, StringComparison.Ordinal);
        Assert.Contains("fgw_wal_appends_total 1\n", metrics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Health_ready_and_ping_answer()
    {
        await using IngestTestHost host = await IngestTestHost.StartAsync();

        using HttpResponseMessage ping = await host.Client.GetAsync("/ping", Ct);
        using HttpResponseMessage health = await host.Client.GetAsync("/health", Ct);
        using HttpResponseMessage ready = await host.Client.GetAsync("/ready", Ct);

        Assert.Equal(HttpStatusCode.NoContent, ping.StatusCode);
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Contains("\"status\":\"ready\"", await ready.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unsupported_content_encoding_gets_415()
    {
        await using IngestTestHost host = await IngestTestHost.StartAsync();
        using HttpRequestMessage request = host.Write("/api/v2/write?bucket=b", $"{Device} state=4i 1");
        request.Content!.Headers.ContentEncoding.Add("br");

        using HttpResponseMessage response = await host.Client.SendAsync(request, Ct);

        await AssertErrorAsync(response, 415, "invalid", "Content-Encoding \"br\" is not supported; send identity or gzip");
    }

    internal static async Task AssertErrorAsync(HttpResponseMessage response, int status, string code, string message)
    {
        string body = await response.Content.ReadAsStringAsync(Ct);
        Assert.True((int)response.StatusCode == status, $"expected {status}, got {(int)response.StatusCode}: {body}");
        Assert.StartsWith("application/json", response.Content.Headers.ContentType?.ToString(), StringComparison.Ordinal);
        using JsonDocument json = JsonDocument.Parse(body);
        Assert.Equal(code, json.RootElement.GetProperty("code").GetString());
        Assert.Equal(message, json.RootElement.GetProperty("message").GetString());
    }

    private static HttpRequestMessage Gzip(HttpRequestMessage request)
    {
        byte[] plain = request.Content!.ReadAsByteArrayAsync().GetAwaiter().GetResult();
        var compressed = new MemoryStream();
        using (var gzip = new GZipStream(compressed, CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(plain);
        }

        request.Content = new ByteArrayContent(compressed.ToArray());
        request.Content.Headers.ContentEncoding.Add("gzip");
        return request;
    }
}

/// <summary>Devices that send data but are not in the register are stored and listed.</summary>
public sealed class UnregisteredDeviceTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Points_from_unregistered_devices_are_kept_and_listed_per_tenant()
    {
        await using IngestTestHost host = await IngestTestHost.StartAsync();
        host.Register.RegisterDevice(TestTokens.EnterpriseA, "cnc-01");

        using (HttpResponseMessage a = await host.Client.SendAsync(host.Write("/api/v2/write?bucket=b", "telemetry,dev=cnc-01 state=4i 1\ntelemetry,dev=ghost-07 state=4i 1\ntelemetry,dev=ghost-07 state=3i 2"), Ct))
        using (HttpResponseMessage b = await host.Client.SendAsync(host.Write("/api/v2/write?bucket=b", "telemetry,dev=press-09 state=4i 1", TestTokens.TokenB), Ct))
        {
            Assert.Equal(System.Net.HttpStatusCode.NoContent, a.StatusCode);
            Assert.Equal(System.Net.HttpStatusCode.NoContent, b.StatusCode);
        }

        Assert.Equal(4, host.ReadWal().Sum(r => r.PointCount));
        string forA = await ListAsync(host, TestTokens.TokenA, expectDevice: "ghost-07");
        Assert.DoesNotContain("cnc-01", forA, StringComparison.Ordinal);
        Assert.DoesNotContain("press-09", forA, StringComparison.Ordinal);
        Assert.Contains("\"points\":2", forA, StringComparison.Ordinal);
        string forAdmin = await ListAsync(host, TestTokens.Admin, expectDevice: "press-09");
        Assert.Contains("ghost-07", forAdmin, StringComparison.Ordinal);
        // The bureau of 330402 sees enterprise A (registered in 330402) but not B (330421).
        string forBureau = await ListAsync(host, TestTokens.Bureau, expectDevice: "ghost-07");
        Assert.DoesNotContain("press-09", forBureau, StringComparison.Ordinal);
        Assert.Contains("fgw_ingest_points_unregistered_total 3\n", await host.Client.GetStringAsync("/metrics", Ct), StringComparison.Ordinal);
    }

    /// <summary>Polls the list until <paramref name="expectDevice"/> appears: sightings are recorded off the request path.</summary>
    private static async Task<string> ListAsync(IngestTestHost host, string token, string expectDevice)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/unregistered");
            request.Headers.Authorization = new("Token", host.Token(token));
            using HttpResponseMessage response = await host.Client.SendAsync(request, Ct);
            string body = await response.Content.ReadAsStringAsync(Ct);
            Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
            if (body.Contains(expectDevice, StringComparison.Ordinal) || DateTime.UtcNow > deadline)
            {
                Assert.Contains(expectDevice, body, StringComparison.Ordinal);
                return body;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(20), Ct); // polling interval within the deadline
        }
    }
}
