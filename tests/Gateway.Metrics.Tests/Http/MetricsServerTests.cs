using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using FactoryGateway.Evidence;
using FactoryGateway.Metrics.Http;
using FactoryGateway.Metrics.Indicators;
using FactoryGateway.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace FactoryGateway.Metrics.Tests.Http;

/// <summary>
/// <c>GET /api/v1/indicators</c> over real HTTP: who may read what (enterprise, bureau by region, admin), the
/// JSON and CSV bodies, and InfluxDB-shaped errors.
/// </summary>
public sealed class MetricsServerTests : IAsyncLifetime
{
    private const string Nanhu = "91330402MA2B3C4D53";     // 南湖区 330402, Jiaxing 330400
    private const string Jiashan = "91330421MA2C3D4E5E";   // 嘉善县 330421, Jiaxing 330400
    private const string Fuzhou = "91350100M000100Y43";    // 鼓楼区 350102, Fuzhou 350100

    private readonly TempDirectory _directory = new("metrics-api");
    private readonly HttpClient _http = new();
    private EvidenceStore? _store;
    private MetricsServer? _server;
    private readonly Dictionary<string, string> _tokens = [];

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _store = EvidenceStore.Open(_directory.Path);
        RegisterImportResult imported = _store.Register.ImportJson(Encoding.UTF8.GetBytes($$"""
            {
              "format": "fgw-register/1",
              "enterprises": [
                {{Enterprise(Nanhu, "330402")}},
                {{Enterprise(Jiashan, "330421")}},
                {{Enterprise(Fuzhou, "350102")}}
              ]
            }
            """), "register.json");
        Assert.True(imported.Succeeded, string.Join("; ", imported.Errors));
        _tokens["admin"] = _store.Tokens.CreateToken(TokenRole.Admin, null, null, "test admin");
        _tokens["nanhu"] = _store.Tokens.CreateToken(TokenRole.Enterprise, Nanhu, null, "Nanhu enterprise");
        _tokens["bureau-330402"] = _store.Tokens.CreateToken(TokenRole.Bureau, null, "330402", "Nanhu district bureau");
        _tokens["bureau-330400"] = _store.Tokens.CreateToken(TokenRole.Bureau, null, "330400", "Jiaxing city bureau");
        _server = await MetricsServer.StartAsync("http://127.0.0.1:0", _store, NullLoggerFactory.Instance, Ct);
        _http.BaseAddress = _server.Addresses[0];
    }

    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }

        _http.Dispose();
        _store?.Dispose();
        _directory.Dispose();
    }

    [Theory]
    [InlineData("admin", "enterprise=" + Fuzhou, 200)]
    [InlineData("admin", "region=350100", 200)]
    [InlineData("nanhu", "enterprise=" + Nanhu, 200)]
    [InlineData("nanhu", "enterprise=" + Jiashan, 403)]
    [InlineData("nanhu", "region=330402", 403)]
    [InlineData("bureau-330402", "enterprise=" + Nanhu, 200)]
    [InlineData("bureau-330402", "region=330402", 200)]
    [InlineData("bureau-330402", "enterprise=" + Jiashan, 403)]
    [InlineData("bureau-330402", "region=330400", 403)]
    [InlineData("bureau-330400", "enterprise=" + Jiashan, 200)]
    [InlineData("bureau-330400", "region=330400", 200)]
    [InlineData("bureau-330400", "region=330421", 200)]
    [InlineData("bureau-330400", "enterprise=" + Fuzhou, 403)]
    [InlineData("bureau-330400", "region=350100", 403)]
    public async Task Each_token_reads_its_own_scope_only(string who, string scope, int status)
    {
        HttpResponseMessage response = await GetAsync(who, $"/api/v1/indicators?{scope}&window=2026Q3");

        Assert.Equal(status, (int)response.StatusCode);
        using JsonDocument body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct));
        if (status == 200)
        {
            Assert.Equal(scope.Replace('=', ' '), body.RootElement.GetProperty("scope").GetString());
            Assert.Equal("2026Q3", body.RootElement.GetProperty("window").GetString());
            Assert.Contains(body.RootElement.GetProperty("indicators").EnumerateArray(), i => i.GetProperty("id").GetString() == "key_process_nc_ratio");
        }
        else
        {
            Assert.Equal("forbidden", body.RootElement.GetProperty("code").GetString());
        }
    }

    [Fact]
    public async Task An_enterprise_outside_the_register_is_not_found_for_an_admin_and_forbidden_for_a_bureau()
    {
        const string Unknown = "91110108MA01ABCDEN";
        Assert.Equal(HttpStatusCode.NotFound, (await GetAsync("admin", $"/api/v1/indicators?enterprise={Unknown}&window=2026Q3")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await GetAsync("bureau-330400", $"/api/v1/indicators?enterprise={Unknown}&window=2026Q3")).StatusCode);
    }

    [Theory]
    [InlineData(null, "missing token: send Authorization: Token <token>")]
    [InlineData("fgw_0000000000000000_notavalidsecretnotavalidsecretnotavalidsecr", "invalid or revoked token")]
    public async Task A_request_without_a_valid_token_is_unauthorized(string? token, string message)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/indicators?enterprise={Nanhu}&window=2026Q3");
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Token", token);
        }

        HttpResponseMessage response = await _http.SendAsync(request, Ct);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal($$"""{"code":"unauthorized","message":"{{message}}"}""", await response.Content.ReadAsStringAsync(Ct));
    }

    [Theory]
    [InlineData("window=2026Q3", "give exactly one of enterprise=CODE or region=CODE")]
    [InlineData("enterprise=" + Nanhu + "&region=330402&window=2026Q3", "give exactly one of enterprise=CODE or region=CODE")]
    [InlineData("enterprise=" + Nanhu + "&window=2026Q5", "window=2026Q5 is not a window: give a month 2026-07, a quarter 2026Q3 or a year 2026")]
    [InlineData("enterprise=" + Nanhu, "window= is not a window: give a month 2026-07, a quarter 2026Q3 or a year 2026")]
    [InlineData("enterprise=" + Nanhu + "&window=2026Q3&format=xml", "format=xml: give json or csv")]
    [InlineData("region=33040&window=2026Q3", "region=33040 is not a 6-digit region code")]
    public async Task A_malformed_query_gets_a_400_that_says_what_is_wrong(string query, string message)
    {
        HttpResponseMessage response = await GetAsync("admin", "/api/v1/indicators?" + query);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal($$"""{"code":"invalid","message":"{{message}}"}""", await response.Content.ReadAsStringAsync(Ct));
    }

    [Theory]
    [InlineData("&format=csv", null)]
    [InlineData("", "text/csv")]
    public async Task Csv_has_one_line_per_indicator(string format, string? accept)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/indicators?region=330400&window=2026-07{format}");
        request.Headers.Authorization = new AuthenticationHeaderValue("Token", _tokens["bureau-330400"]);
        if (accept is not null)
        {
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(accept));
        }

        HttpResponseMessage response = await _http.SendAsync(request, Ct);
        string csv = await response.Content.ReadAsStringAsync(Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/csv; charset=utf-8", response.Content.Headers.ContentType!.ToString());
        string[] lines = csv.Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(IndicatorReports.CsvHeader, lines[0]);
        Assert.Contains(lines, l => l.StartsWith("region 330400,2026-07,key_process_nc_ratio,0,0,2,ratio,0,2,", StringComparison.Ordinal));
        IndicatorReport report = IndicatorReports.Compute(_store!, IndicatorScope.Region("330400"), Window.Parse("2026-07"), null);
        Assert.Equal(report.Indicators.Count + 1, lines.Length);
    }

    [Fact]
    public async Task Health_needs_no_token() =>
        Assert.Equal("""{"name":"factorygateway-metrics","status":"pass"}""", await _http.GetStringAsync("/health", Ct));

    private async Task<HttpResponseMessage> GetAsync(string who, string path)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Token", _tokens[who]);
        return await _http.SendAsync(request, Ct);
    }

    private static string Enterprise(string code, string region) => $$"""
        {
          "credit_code": "{{code}}", "name": "企业 {{code[^4..]}}", "region": "{{region}}",
          "employees": [ { "month": "2026-07", "average_headcount": 120 } ],
          "key_processes": [ { "process": "精加工", "key": true } ],
          "devices": [
            { "device": "cnc-01", "product_instance_uri": "urn:test:{{code}}:1", "class": "cnc_machine_tool", "production": true, "digital": true, "nc": true,
              "key_process": true, "process": "精加工", "commissioned": "2024-03-15" }
          ]
        }
        """;
}
