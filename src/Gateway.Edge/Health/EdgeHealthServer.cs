using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using FactoryGateway.Edge.Signals;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace FactoryGateway.Edge.Health;

/// <summary>
/// The edge's health endpoint on Kestrel: <c>GET /health</c> (up or not), <c>GET /status</c> (JSON of
/// <see cref="EdgeStatus"/>, what <c>fgw edge status</c> prints) and <c>GET /metrics</c> (Prometheus text: per
/// device connected, last data age, samples; buffer bytes and refusals; uplink lag, batches and responses by status).
/// </summary>
public sealed class EdgeHealthServer : IAsyncDisposable
{
    private static readonly JsonSerializerOptions s_json = new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, // application/json, never embedded in HTML
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
    };

    private readonly WebApplication _app;

    private EdgeHealthServer(WebApplication app) => _app = app;

    /// <summary>The addresses Kestrel bound (with the real port when 0 was asked for).</summary>
    public IReadOnlyList<Uri> Addresses { get; private set; } = [];

    public static async Task<EdgeHealthServer> StartAsync(string urls, Func<EdgeStatus> status, ILoggerFactory loggerFactory, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(urls);
        ArgumentNullException.ThrowIfNull(status);
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
            kestrel.Limits.MaxRequestBodySize = 0; // nothing is read from bodies
        });
        WebApplication app = builder.Build();
        app.MapGet("/health", () => Results.Json(new { name = "factorygateway-edge", status = "pass" }));
        app.MapGet("/status", () => Results.Text(JsonSerializer.Serialize(status(), s_json), "application/json", Encoding.UTF8));
        app.MapGet("/metrics", () => Results.Text(Prometheus(status()), "text/plain; version=0.0.4", Encoding.UTF8));
        var server = new EdgeHealthServer(app);
        await app.StartAsync(cancellationToken);
        server.Addresses = [.. app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Select(a => new Uri(a))];
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    /// <summary>The Prometheus exposition of <paramref name="status"/>.</summary>
    public static string Prometheus(EdgeStatus status)
    {
        ArgumentNullException.ThrowIfNull(status);
        var text = new StringBuilder();
        Family(text, "fgw_edge_device_connected", "gauge", "1 while the device's source connection is up");
        foreach (DeviceHealth d in status.Devices)
        {
            Sample(text, "fgw_edge_device_connected", Labels(d), d.Connected ? 1 : 0);
        }

        Family(text, "fgw_edge_device_last_data_age_seconds", "gauge", "seconds since the device's last sample (absent before any)");
        foreach (DeviceHealth d in status.Devices.Where(d => d.LastDataAge is not null))
        {
            Sample(text, "fgw_edge_device_last_data_age_seconds", Labels(d), d.LastDataAge!.Value.TotalSeconds);
        }

        Family(text, "fgw_edge_device_samples_total", "counter", "samples taken into the buffer");
        foreach (DeviceHealth d in status.Devices)
        {
            Sample(text, "fgw_edge_device_samples_total", Labels(d), d.Samples);
        }

        Family(text, "fgw_edge_device_samples_per_second", "gauge", "samples taken per second over the last minute");
        foreach (DeviceHealth d in status.Devices)
        {
            Sample(text, "fgw_edge_device_samples_per_second", Labels(d), d.SamplesPerSecond);
        }

        Family(text, "fgw_edge_device_stale_total", "counter", "samples not taken because they repeated a value already taken");
        foreach (DeviceHealth d in status.Devices)
        {
            Sample(text, "fgw_edge_device_stale_total", Labels(d), d.Stale);
        }

        Family(text, "fgw_edge_device_bad_items", "gauge", "items (nodes, topics, metrics) of the device whose status is not Good");
        foreach (DeviceHealth d in status.Devices)
        {
            Sample(text, "fgw_edge_device_bad_items", Labels(d), d.BadItems.Count);
        }

        Family(text, "fgw_edge_buffer_bytes", "gauge", "bytes of the disk buffer's segment files");
        Sample(text, "fgw_edge_buffer_bytes", "", status.Buffer.BytesOnDisk);
        Family(text, "fgw_edge_buffer_max_bytes", "gauge", "the disk buffer's bound");
        Sample(text, "fgw_edge_buffer_max_bytes", "", status.Buffer.MaxBytes);
        Family(text, "fgw_edge_buffer_full", "gauge", "1 while the buffer refuses or holds back new data");
        Sample(text, "fgw_edge_buffer_full", "", status.Buffer.Full ? 1 : 0);
        Family(text, "fgw_edge_buffer_refused_total", "counter", "sample lines refused because the buffer was full");
        Sample(text, "fgw_edge_buffer_refused_total", "", status.Buffer.Refused);
        Family(text, "fgw_edge_uplink_pending_bytes", "gauge", "buffer bytes the ingest has not acknowledged");
        Sample(text, "fgw_edge_uplink_pending_bytes", "", status.Uplink.PendingBytes);
        Family(text, "fgw_edge_uplink_lag_seconds", "gauge", "age of the oldest unacknowledged buffer record");
        Sample(text, "fgw_edge_uplink_lag_seconds", "", status.Uplink.Lag.TotalSeconds);
        Family(text, "fgw_edge_uplink_batches_total", "counter", "batches the ingest acknowledged");
        Sample(text, "fgw_edge_uplink_batches_total", "", status.Uplink.Batches);
        Family(text, "fgw_edge_uplink_lines_total", "counter", "lines the ingest acknowledged");
        Sample(text, "fgw_edge_uplink_lines_total", "", status.Uplink.Lines);
        Family(text, "fgw_edge_uplink_dead_lettered_lines_total", "counter", "lines the ingest refused for good, kept in the dead-letter directory");
        Sample(text, "fgw_edge_uplink_dead_lettered_lines_total", "", status.Uplink.DeadLetteredLines);
        Family(text, "fgw_edge_uplink_responses_total", "counter", "ingest responses by HTTP status (0: no response)");
        foreach ((int code, long count) in status.Uplink.ResponsesByStatus.OrderBy(p => p.Key))
        {
            Sample(text, "fgw_edge_uplink_responses_total", $"status=\"{code.ToString(CultureInfo.InvariantCulture)}\"", count);
        }

        return text.ToString();
    }

    private static string Labels(DeviceHealth d) => $"device=\"{Escape(d.Device)}\",source=\"{Escape(d.Source)}\"";

    private static string Escape(string value) => value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);

    private static void Family(StringBuilder text, string name, string type, string help) =>
        text.Append("# HELP ").Append(name).Append(' ').Append(help).Append('\n').Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n');

    private static void Sample(StringBuilder text, string name, string labels, double value)
    {
        text.Append(name);
        if (labels.Length > 0)
        {
            text.Append('{').Append(labels).Append('}');
        }

        text.Append(' ').Append(value.ToString("R", CultureInfo.InvariantCulture)).Append('\n');
    }

    internal static string StatusName(uint status) => SignalQuality.IsGood(status) ? "Good" : SignalQuality.IsUncertain(status) ? "Uncertain" : "Bad";
}
