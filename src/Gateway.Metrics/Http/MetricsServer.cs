using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using FactoryGateway.Evidence;
using FactoryGateway.Metrics.Indicators;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FactoryGateway.Metrics.Http;

/// <summary>
/// <c>fgw metrics serve</c>: the indicators over HTTP for dashboards and bureaus, on Kestrel.
/// <c>GET /api/v1/indicators?enterprise=CODE|region=CODE&amp;window=2026Q3[&amp;format=json|csv]</c> (CSV also by
/// <c>Accept: text/csv</c>) and <c>GET /health</c>. Every request to the API carries a token
/// (<c>Authorization: Token …</c> or <c>Bearer …</c>): an enterprise token reads its own enterprise only, a
/// bureau token any enterprise or region inside its region, an admin token anything. Errors are
/// InfluxDB-shaped JSON (<c>{"code":"invalid","message":"…"}</c>).
/// </summary>
public sealed class MetricsServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private MetricsServer(WebApplication app) => _app = app;

    /// <summary>The addresses Kestrel bound (with the real port when 0 was asked for).</summary>
    public IReadOnlyList<Uri> Addresses { get; private set; } = [];

    /// <summary>Starts Kestrel on <paramref name="urls"/> (e.g. <c>http://127.0.0.1:0</c>; <c>https://</c> with Kestrel's certificate settings).</summary>
    public static async Task<MetricsServer> StartAsync(string urls, EvidenceStore store, ILoggerFactory loggerFactory, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(urls);
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        // Settings are read once at start. Reloading them on change (the host's default) watches the content
        // root, the working directory, recursively with inotify: every directory and file the service or
        // anything else creates below it then costs a watch and an event.
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = ["--hostBuilder:reloadConfigOnChange=false"] });
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(loggerFactory);
        builder.WebHost.UseUrls(urls);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = 0; // the API reads nothing from bodies
        });
        WebApplication app = builder.Build();
        new Endpoints(store, loggerFactory.CreateLogger<MetricsServer>()).Map(app);
        var server = new MetricsServer(app);
        await app.StartAsync(cancellationToken);
        server.Addresses = [.. app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Select(a => new Uri(a))];
        return server;
    }

    /// <summary>Completes when the host is asked to stop (Ctrl+C, SIGTERM).</summary>
    public Task WaitForShutdownAsync(CancellationToken cancellationToken) => _app.WaitForShutdownAsync(cancellationToken);

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private sealed class Endpoints(EvidenceStore store, ILogger logger)
    {
        private static readonly Lazy<Policies.PolicyTargets> s_targets = new(Policies.PolicyTargets.Load);

        private static readonly JsonSerializerOptions s_json = new()
        {
            Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, // bodies are application/json, never embedded in HTML
            PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        };

        public void Map(WebApplication app)
        {
            app.MapGet("/health", context => WriteAsync(context, 200, new { name = "factorygateway-metrics", status = "pass" }));
            app.MapGet("/api/v1/indicators", IndicatorsAsync);
        }

        private async Task IndicatorsAsync(HttpContext context)
        {
            HttpRequest request = context.Request;
            TokenPrincipal? principal = Authenticate(request, out string? authError);
            if (principal is null)
            {
                await ErrorAsync(context, 401, "unauthorized", authError!);
                return;
            }

            string? enterprise = Single(request, "enterprise");
            string? region = Single(request, "region");
            string? label = Single(request, "window");
            string format = Single(request, "format") ?? (request.Headers.Accept.ToString().Contains("text/csv", StringComparison.OrdinalIgnoreCase) ? "csv" : "json");
            if ((enterprise is null) == (region is null))
            {
                await ErrorAsync(context, 400, "invalid", "give exactly one of enterprise=CODE or region=CODE");
                return;
            }

            if (label is null || !Window.TryParse(label, TimeZones.ChinaStandardTimeOffsetMinutes, out Window? window))
            {
                await ErrorAsync(context, 400, "invalid", $"window={label ?? ""} is not a window: give a month 2026-07, a quarter 2026Q3 or a year 2026");
                return;
            }

            if (format is not ("json" or "csv"))
            {
                await ErrorAsync(context, 400, "invalid", $"format={format}: give json or csv");
                return;
            }

            if (region is not null && !RegionCode.IsValid(region))
            {
                await ErrorAsync(context, 400, "invalid", $"region={region} is not a 6-digit region code");
                return;
            }

            IndicatorScope scope = enterprise is not null ? IndicatorScope.Enterprise(enterprise) : IndicatorScope.Region(region!);
            string? refusal = Refusal(principal, enterprise, region, out bool unknown);
            if (refusal is not null)
            {
                MetricsLog.Refused(logger, principal.TokenId, scope.ToString(), refusal);
                await ErrorAsync(context, unknown ? 404 : 403, unknown ? "not found" : "forbidden", refusal);
                return;
            }

            IndicatorReport report = IndicatorReports.Compute(store, scope, window, enterprise);
            MetricsLog.Served(logger, principal.TokenId, scope.ToString(), window.Label, format);
            if (format == "csv")
            {
                context.Response.StatusCode = 200;
                context.Response.ContentType = "text/csv; charset=utf-8";
                var text = new StringWriter(System.Globalization.CultureInfo.InvariantCulture);
                IndicatorReports.WriteCsv(report, text);
                await context.Response.WriteAsync(text.ToString(), Encoding.UTF8, context.RequestAborted);
                return;
            }

            await WriteAsync(context, 200, IndicatorReports.ToJson(report, IndicatorReports.Targets(report, s_targets.Value)));
        }

        // Why the principal may not read the scope (null when it may). Enterprise tokens read their own
        // enterprise; bureau tokens what lies in their region; admins anything. Only an admin learns that an
        // enterprise is not in the register: anyone else gets the same refusal as for one outside their scope.
        private string? Refusal(TokenPrincipal principal, string? enterprise, string? region, out bool unknown)
        {
            unknown = false;
            if (enterprise is not null)
            {
                Enterprise? registered = store.Register.GetEnterprise(enterprise);
                bool allowed = principal.Role switch
                {
                    TokenRole.Admin => true,
                    TokenRole.Enterprise => string.Equals(principal.Enterprise, enterprise, StringComparison.Ordinal),
                    TokenRole.Bureau => registered is not null && Within(registered.Region, principal.Region!),
                    _ => false,
                };
                if (!allowed)
                {
                    return principal.Role == TokenRole.Enterprise
                        ? "an enterprise token reads its own enterprise only"
                        : $"enterprise {enterprise} is not in region {principal.Region}";
                }

                if (registered is null)
                {
                    unknown = true;
                    return $"enterprise {enterprise} is not in the register";
                }

                return null;
            }

            return principal.Role switch
            {
                TokenRole.Admin => null,
                TokenRole.Bureau when Within(region!, principal.Region!) => null,
                TokenRole.Bureau => $"region {region} is not inside region {principal.Region}",
                _ => "an enterprise token cannot read regions",
            };
        }

        // A county is inside itself and inside its city (code ending in 00), a city inside its province (0000).
        private static bool Within(string code, string area) =>
            string.Equals(code, area, StringComparison.Ordinal)
            || (area.EndsWith("0000", StringComparison.Ordinal) && code.StartsWith(area[..2], StringComparison.Ordinal))
            || (area.EndsWith("00", StringComparison.Ordinal) && code.StartsWith(area[..4], StringComparison.Ordinal));

        private TokenPrincipal? Authenticate(HttpRequest request, out string? error)
        {
            TokenStore.TryReadAuthorizationHeader(request.Headers.Authorization.ToString(), out ReadOnlySpan<char> token);
            if (token.IsEmpty)
            {
                error = "missing token: send Authorization: Token <token>";
                return null;
            }

            TokenPrincipal? principal = store.Tokens.Authenticate(token);
            error = principal is null ? "invalid or revoked token" : null;
            return principal;
        }

        private static string? Single(HttpRequest request, string name) =>
            request.Query.TryGetValue(name, out Microsoft.Extensions.Primitives.StringValues values) && values.Count > 0 && !string.IsNullOrWhiteSpace(values[^1]) ? values[^1] : null;

        private static Task ErrorAsync(HttpContext context, int status, string code, string message) =>
            WriteAsync(context, status, new { code, message });

        private static async Task WriteAsync(HttpContext context, int status, object body)
        {
            context.Response.StatusCode = status;
            context.Response.ContentType = "application/json; charset=utf-8";
            await JsonSerializer.SerializeAsync(context.Response.Body, body, s_json, context.RequestAborted);
        }
    }
}

internal static partial class MetricsLog
{
    [LoggerMessage(2300, LogLevel.Information, "Indicators served to token {TokenId}: {Scope}, window {Window}, {Format}")]
    public static partial void Served(ILogger logger, string tokenId, string scope, string window, string format);

    [LoggerMessage(2301, LogLevel.Information, "Indicators refused to token {TokenId}: {Scope}: {Reason}")]
    public static partial void Refused(ILogger logger, string tokenId, string scope, string reason);
}
