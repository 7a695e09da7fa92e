using System.IO.Compression;
using System.Net;
using System.Text;
using FactoryGateway.Telemetry.Influx;

namespace FactoryGateway.Telemetry.Tests.Influx;

/// <summary>
/// What InfluxDB 1.6.7 cannot show: the v2 request shape, 429/503 with Retry-After, oversized error bodies
/// and timeouts. An <see cref="HttpMessageHandler"/> answers in place of a server.
/// </summary>
public sealed class InfluxResponseTests
{
    private static readonly Uri s_base = new("http://influx.example:8086/");

    [Fact]
    public async Task A_v2_write_posts_to_api_v2_write_with_the_token_and_a_gzip_body()
    {
        StubHandler handler = StubHandler.Answering(HttpStatusCode.NoContent);
        using var http = new HttpClient(handler);
        var client = new InfluxWriteClient(http, InfluxTarget.ForV2(s_base, "acme works", "raw/telemetry", "s3cr3t"), TimeProvider.System);
        byte[] body = InfluxTestData.Lines("telemetry", 50);

        InfluxWriteResult result = await client.WriteAsync(body, gzip: true, TestContext.Current.CancellationToken);

        Assert.True(result.IsSuccess);
        (HttpRequestMessage request, byte[] sent) = Assert.Single(handler.Requests);
        Assert.Equal(HttpMethod.Post, request.Method);
        Assert.Equal("http://influx.example:8086/api/v2/write?org=acme%20works&bucket=raw%2Ftelemetry&precision=ns", request.RequestUri!.AbsoluteUri);
        Assert.Equal("Token s3cr3t", request.Headers.Authorization!.ToString());
        Assert.Equal(["gzip"], request.Content!.Headers.ContentEncoding);
        Assert.Equal("text/plain; charset=utf-8", request.Content.Headers.ContentType!.ToString());
        Assert.Equal(sent.Length, result.RequestBytes);
        using var gunzip = new GZipStream(new MemoryStream(sent), CompressionMode.Decompress);
        using var plain = new MemoryStream();
        await gunzip.CopyToAsync(plain, TestContext.Current.CancellationToken);
        Assert.Equal(body, plain.ToArray());
    }

    [Fact]
    public async Task A_v1_write_names_database_and_retention_policy_and_sends_credentials_as_basic_auth()
    {
        StubHandler handler = StubHandler.Answering(HttpStatusCode.NoContent);
        using var http = new HttpClient(handler);
        var target = InfluxTarget.ForV1(new Uri("https://proxy.example/influx"), "plant db", "one week", "gateway", "p@ss");
        var client = new InfluxWriteClient(http, target, TimeProvider.System);

        await client.WriteAsync("m v=1i 1\n"u8.ToArray(), gzip: false, TestContext.Current.CancellationToken);

        (HttpRequestMessage request, byte[] sent) = Assert.Single(handler.Requests);
        Assert.Equal("https://proxy.example/influx/write?db=plant%20db&rp=one%20week&precision=ns", request.RequestUri!.AbsoluteUri);
        Assert.Equal("Basic " + Convert.ToBase64String("gateway:p@ss"u8), request.Headers.Authorization!.ToString());
        Assert.Empty(request.Content!.Headers.ContentEncoding);
        Assert.Equal("m v=1i 1\n"u8.ToArray(), sent);
    }

    [Theory]
    [InlineData(429, InfluxResultKind.Throttled)]
    [InlineData(503, InfluxResultKind.Throttled)]
    [InlineData(500, InfluxResultKind.ServerError)]
    [InlineData(502, InfluxResultKind.ServerError)]
    [InlineData(413, InfluxResultKind.TooLarge)]
    [InlineData(400, InfluxResultKind.Rejected)]
    [InlineData(401, InfluxResultKind.Rejected)]
    [InlineData(403, InfluxResultKind.Rejected)]
    [InlineData(404, InfluxResultKind.Rejected)]
    [InlineData(422, InfluxResultKind.Rejected)]
    [InlineData(204, InfluxResultKind.Success)]
    [InlineData(200, InfluxResultKind.Success)]
    [InlineData(304, InfluxResultKind.UnexpectedStatus)]
    public async Task Statuses_map_to_result_kinds(int status, InfluxResultKind kind)
    {
        using var http = new HttpClient(StubHandler.Answering((HttpStatusCode)status, """{"error":"x"}"""));
        var client = new InfluxWriteClient(http, InfluxTarget.ForV1(s_base, "db"), TimeProvider.System);

        InfluxWriteResult result = await client.WriteAsync("m v=1i 1\n"u8.ToArray(), gzip: false, TestContext.Current.CancellationToken);

        Assert.Equal(kind, result.Kind);
        Assert.Equal(status, result.StatusCode);
        Assert.Equal(kind == InfluxResultKind.Success ? null : """{"error":"x"}""", result.Error);
    }

    [Fact]
    public async Task Retry_after_in_seconds_is_parsed()
    {
        using var http = new HttpClient(StubHandler.Answering(HttpStatusCode.TooManyRequests, "slow down",
            r => r.Headers.RetryAfter = new System.Net.Http.Headers.RetryConditionHeaderValue(TimeSpan.FromSeconds(7))));
        var client = new InfluxWriteClient(http, InfluxTarget.ForV1(s_base, "db"), TimeProvider.System);

        InfluxWriteResult result = await client.WriteAsync("m v=1i 1\n"u8.ToArray(), gzip: true, TestContext.Current.CancellationToken);

        Assert.Equal(InfluxResultKind.Throttled, result.Kind);
        Assert.Equal(TimeSpan.FromSeconds(7), result.RetryAfter);
        Assert.True(result.IsRetryable);
    }

    [Fact]
    public async Task Retry_after_as_a_date_is_measured_on_the_injected_clock()
    {
        var now = new DateTimeOffset(2026, 7, 1, 8, 0, 0, TimeSpan.Zero);
        using var http = new HttpClient(StubHandler.Answering(HttpStatusCode.ServiceUnavailable, "",
            r => r.Headers.RetryAfter = new System.Net.Http.Headers.RetryConditionHeaderValue(now.AddSeconds(90))));
        var client = new InfluxWriteClient(http, InfluxTarget.ForV1(s_base, "db"), new FixedTimeProvider(now));

        InfluxWriteResult result = await client.WriteAsync("m v=1i 1\n"u8.ToArray(), gzip: false, TestContext.Current.CancellationToken);

        Assert.Equal(InfluxResultKind.Throttled, result.Kind);
        Assert.Equal(TimeSpan.FromSeconds(90), result.RetryAfter);
    }

    [Fact]
    public async Task An_error_body_is_capped_at_2_KiB_on_a_character_boundary()
    {
        // 3-byte characters: 2048 is not a multiple of 3, so the cut must step back to a boundary.
        string body = new('€', 5_000);
        using var http = new HttpClient(StubHandler.Answering(HttpStatusCode.BadRequest, body));
        var client = new InfluxWriteClient(http, InfluxTarget.ForV1(s_base, "db"), TimeProvider.System);

        InfluxWriteResult result = await client.WriteAsync("m v=1i 1\n"u8.ToArray(), gzip: false, TestContext.Current.CancellationToken);

        Assert.NotNull(result.Error);
        Assert.EndsWith("…", result.Error, StringComparison.Ordinal);
        string kept = result.Error[..^1];
        Assert.Equal(new string('€', 2048 / 3), kept);
        Assert.True(Encoding.UTF8.GetByteCount(kept) <= InfluxWriteResult.MaxErrorBytes);
    }

    [Fact]
    public async Task A_request_that_outlives_its_timeout_is_a_network_error_result()
    {
        using var http = new HttpClient(new StubHandler(async (_, ct) =>
        {
            await Task.Delay(Timeout.InfiniteTimeSpan, ct);
            return new HttpResponseMessage(HttpStatusCode.NoContent);
        }));
        var client = new InfluxWriteClient(http, InfluxTarget.ForV1(s_base, "db"), TimeProvider.System, TimeSpan.FromMilliseconds(100));

        InfluxWriteResult result = await client.WriteAsync("m v=1i 1\n"u8.ToArray(), gzip: false, TestContext.Current.CancellationToken);

        Assert.Equal(InfluxResultKind.NetworkError, result.Kind);
        Assert.Contains("timed out", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cancellation_by_the_caller_throws()
    {
        using var http = new HttpClient(new StubHandler(async (_, ct) =>
        {
            await Task.Delay(Timeout.InfiniteTimeSpan, ct);
            return new HttpResponseMessage(HttpStatusCode.NoContent);
        }));
        var client = new InfluxWriteClient(http, InfluxTarget.ForV1(s_base, "db"), TimeProvider.System);
        using var cancel = new CancellationTokenSource();
        Task<InfluxWriteResult> write = client.WriteAsync("m v=1i 1\n"u8.ToArray(), gzip: false, cancel.Token);

        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => write);
    }
}
