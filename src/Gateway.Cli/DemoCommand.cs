using System.Buffers;
using System.CommandLine;
using System.Globalization;
using System.IO.Compression;
using System.Net.Http.Headers;
using FactoryGateway.Evidence;
using FactoryGateway.Ingest;
using FactoryGateway.Ingest.Http;
using FactoryGateway.Telemetry.LineProtocol;
using FactoryGateway.Telemetry.Storage;
using Microsoft.Extensions.Logging.Abstractions;

namespace FactoryGateway.Cli;

/// <summary>
/// <c>fgw demo</c>: runs the end-to-end slice that exists, on embedded defaults (a temporary data
/// directory, loopback only), and says plainly which stages of the product are not built yet.
/// </summary>
internal static class DemoCommand
{
    private const string EnterpriseA = "91330402MA2B3C4D53";
    private const string EnterpriseB = "91330421MA2C3D4E5E";

    public static Command Create()
    {
        var command = new Command("demo", "Run the FactoryGateway demo on embedded defaults.");
        command.SetAction((parseResult, cancellationToken) => RunAsync(parseResult.InvocationConfiguration.Output, cancellationToken));
        return command;
    }

    public static async Task<int> RunAsync(TextWriter output, CancellationToken cancellationToken)
    {
        output.WriteLine("FactoryGateway demo");
        output.WriteLine();
        output.WriteLine("Pipeline stages and what exists of them today:");
        foreach (DemoStage stage in DemoStage.All)
        {
            output.WriteLine($"  {$"[{stage.Status}]",-14} {stage.Name}: {stage.Description}");
        }

        output.WriteLine();
        string dataDirectory = Directory.CreateTempSubdirectory("fgw-demo-").FullName;
        string quarterDirectory = Directory.CreateTempSubdirectory("fgw-demo-quarter-").FullName;
        try
        {
            await RunIngestSliceAsync(output, dataDirectory, cancellationToken);
            output.WriteLine();
            output.WriteLine("A quarter of two factories (Gateway.Ingest → evidence ledger → Gateway.Metrics), simulated telemetry on an accelerated clock:");
            try
            {
                await DemoQuarter.RunAsync(output, quarterDirectory, cancellationToken);
            }
            catch (Exception error) when (error is InvalidOperationException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
            {
                output.WriteLine($"  the quarter could not be completed: {error.Message}");
                return 1;
            }
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(dataDirectory, recursive: true);
            Directory.Delete(quarterDirectory, recursive: true);
        }

        output.WriteLine("Not there yet: claims and signed verification reports, the simulated factory (which will drive fgw edge in");
        output.WriteLine("this demo). Each joins this demo as it is built. To forward to a");
        output.WriteLine("real InfluxDB, run: fgw ingest run --data-dir DIR --influx-url http://127.0.0.1:8086 --influx-db factory");
        return 0;
    }

    /// <summary>
    /// One shift hour of canonical telemetry from a small line of machines, sent as an edge agent sends
    /// it (gzip line protocol, token, X-FG-Edge/X-FG-Seq) to a real ingest on a loopback port: accepted
    /// into the WAL, a replay recognised, bad writes refused, an unregistered device listed.
    /// </summary>
    private static async Task RunIngestSliceAsync(TextWriter output, string dataDirectory, CancellationToken cancellationToken)
    {
        using EvidenceStore evidence = EvidenceStore.Open(dataDirectory);
        string tokenA = evidence.Tokens.CreateToken(TokenRole.Enterprise, EnterpriseA, null, "demo enterprise A");
        string admin = evidence.Tokens.CreateToken(TokenRole.Admin, null, null, "demo admin");
        string[] devices = ["cnc-01", "cnc-02", "robot-01", "press-01"];
        foreach (string device in devices[..3])
        {
            evidence.Devices.RegisterDevice(EnterpriseA, device);
        }

        await using IngestServer server = await IngestServer.StartAsync(
            "http://127.0.0.1:0", new IngestOptions { DataDirectory = dataDirectory }, evidence.Tokens, evidence.Devices,
            wal => [new ParkedConsumer("forwarder")], metrics: null, TimeProvider.System, NullLoggerFactory.Instance, cancellationToken);
        using var http = new HttpClient { BaseAddress = server.Addresses[0] };
        output.WriteLine($"Ingest slice (Gateway.Telemetry + Gateway.Ingest + Gateway.Evidence), listening on {server.Addresses[0]}:");

        long start = new DateTimeOffset(2026, 7, 1, 8, 0, 0, TimeSpan.FromHours(8)).ToUnixTimeMilliseconds() * 1_000_000;
        int points = 0;
        int batches = 0;
        for (int minute = 0; minute < 60; minute += 10)
        {
            byte[] body = ShiftBatch(devices, start, minute, out int lines);
            (int status, _) = await SendAsync(http, tokenA, Gzip(body), gzip: true, ++batches, cancellationToken);
            points += status == 204 ? lines : 0;
        }

        SegmentLogStats wal = server.Service.Wal.GetStats();
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  {batches} gzip batches from edge-01 accepted: {points} points of one shift hour from {devices.Length} devices, durable in the WAL ({wal.Appends} appends, each fsynced before its 204)"));

        (int replay, string duplicate) = await SendAsync(http, tokenA, Gzip(ShiftBatch(devices, start, 50, out _)), gzip: true, batches, cancellationToken);
        output.WriteLine($"  the edge resends batch {batches} after a lost answer: {replay}{duplicate} — acknowledged, not counted again");

        (int bad, string badBody) = await SendAsync(http, tokenA, "telemetry,dev=cnc-01 state=4i,parts_total=12x3i 1782864000000000000\n"u8.ToArray(), gzip: false, sequence: null, cancellationToken);
        output.WriteLine($"  a malformed line: {bad} {badBody}");
        (int forbidden, string forbiddenBody) = await SendAsync(http, tokenA, System.Text.Encoding.UTF8.GetBytes($"telemetry,ent={EnterpriseB},dev=cnc-09 state=4i 1782864000000000000\n"), gzip: false, sequence: null, cancellationToken);
        output.WriteLine($"  enterprise A writing as enterprise B: {forbidden} {forbiddenBody}");

        string unregistered = await WaitForUnregisteredAsync(http, admin, "press-01", cancellationToken);
        output.WriteLine($"  devices not in the register (kept, listed): {unregistered}");
        string metrics = await http.GetStringAsync("/metrics", cancellationToken);
        foreach (string line in metrics.Split('\n').Where(l => l.StartsWith("fgw_ingest_points_accepted_total", StringComparison.Ordinal)
            || l.StartsWith("fgw_ingest_edge_duplicate_batches_total", StringComparison.Ordinal)
            || l.StartsWith("fgw_ingest_requests_rejected_total{", StringComparison.Ordinal)))
        {
            output.WriteLine($"  /metrics: {line}");
        }
    }

    private static byte[] ShiftBatch(string[] devices, long start, int fromMinute, out int lines)
    {
        var body = new ArrayBufferWriter<byte>();
        var writer = new LineProtocolWriter(body);
        for (int second = fromMinute * 60; second < (fromMinute + 10) * 60; second += 10)
        {
            foreach (string device in devices)
            {
                writer.WriteMeasurement("telemetry").WriteTag("ent", EnterpriseA).WriteTag("dev", device).WriteTag("edge", "edge-01")
                    .WriteField("state", second % 600 < 540 ? 4L : 3L)
                    .WriteField(device.StartsWith("robot", StringComparison.Ordinal) ? "cycles" : "parts_total", (long)(second / 45))
                    .WriteField("spindle_current_a", 12.5 + ((second % 60) / 8.0))
                    .WriteTimestamp(start + (second * 1_000_000_000L));
            }
        }

        lines = (int)writer.PointsWritten;
        return body.WrittenSpan.ToArray();
    }

    private static async Task<(int Status, string Detail)> SendAsync(HttpClient http, string token, byte[] body, bool gzip, int? sequence, CancellationToken cancellationToken)
    {
        using var content = new ByteArrayContent(body);
        if (gzip)
        {
            content.Headers.ContentEncoding.Add("gzip");
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v2/write?org=demo&bucket=factory&precision=ns") { Content = content };
        request.Headers.Authorization = new AuthenticationHeaderValue("Token", token);
        if (sequence is int seq)
        {
            request.Headers.Add("X-FG-Edge", "edge-01");
            request.Headers.Add("X-FG-Seq", seq.ToString(CultureInfo.InvariantCulture));
        }

        using HttpResponseMessage response = await http.SendAsync(request, cancellationToken);
        string detail = response.Headers.Contains("X-FG-Duplicate") ? " (X-FG-Duplicate: true)" : await response.Content.ReadAsStringAsync(cancellationToken);
        return ((int)response.StatusCode, detail);
    }

    private static async Task<string> WaitForUnregisteredAsync(HttpClient http, string token, string device, CancellationToken cancellationToken)
    {
        // Sightings are recorded off the request path; give them a moment, within a deadline.
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(TimeSpan.FromSeconds(10));
        string body = "";
        while (!deadline.IsCancellationRequested && !body.Contains(device, StringComparison.Ordinal))
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/unregistered");
            request.Headers.Authorization = new AuthenticationHeaderValue("Token", token);
            using HttpResponseMessage response = await http.SendAsync(request, cancellationToken);
            body = await response.Content.ReadAsStringAsync(cancellationToken);
            await Task.Delay(TimeSpan.FromMilliseconds(20), cancellationToken); // polling interval within the deadline
        }

        return body;
    }

    internal static byte[] Gzip(byte[] plain)
    {
        using var compressed = new MemoryStream();
        using (var gzip = new GZipStream(compressed, CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(plain);
        }

        return compressed.ToArray();
    }
}

/// <summary>One stage of the product pipeline as the demo reports it.</summary>
internal sealed record DemoStage(string Name, string Description, string Status = "not built")
{
    public static IReadOnlyList<DemoStage> All { get; } =
    [
        new("Gateway.OpcUa", "OPC UA client (None, Basic256Sha256, Aes128_Sha256_RsaOaep, Aes256_Sha256_RsaPss; PKI; reconnect with subscription transfer) and a server subset (None, Basic256Sha256)", "built"),
        new("Gateway.Mqtt", "MQTT 3.1.1/5.0 client, Sparkplug B host application, JSON payload mapping", "built"),
        new("Gateway.Edge", "edge agent: OPC UA (machine-tool, robot, Machinery and current-sensor profiles) and MQTT (JSON, Sparkplug B) sources, normaliser, disk buffer, uplink, health (fgw edge run)", "built"),
        new("Gateway.Telemetry", "line protocol, segment log (WAL), InfluxDB client", "built"),
        new("Gateway.Ingest", "InfluxDB-compatible write API, WAL, exactly-once edge batches, InfluxDB forwarder, evidence accumulator", "built"),
        new("Gateway.Evidence", "tokens, asset register with frozen snapshots, sealed and hash-chained device-day ledger", "built"),
        new("Gateway.Metrics", "indicators, flags, policy targets and the query API (fgw metrics serve) are built; claims and signed reports are not yet", "partly built"),
        new("Gateway.Simulator", "simulated factory with fraud scenarios on an accelerated clock"),
    ];
}
