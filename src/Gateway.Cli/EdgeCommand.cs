using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using FactoryGateway.Edge;
using FactoryGateway.Edge.Config;
using FactoryGateway.Edge.Health;
using FactoryGateway.Edge.Sources;
using FactoryGateway.Edge.Sources.OpcUa;
using Microsoft.Extensions.Logging;

namespace FactoryGateway.Cli;

/// <summary>
/// <c>fgw edge run --config FILE</c>: the edge agent (sources → disk buffer → ingest), with its health endpoint;
/// <c>fgw edge status [--url]</c>: what a running agent reports, per device.
/// </summary>
internal static class EdgeCommand
{
    public static Command Create()
    {
        var config = new Option<string>("--config") { Description = "The edge configuration, JSON or YAML (FGW_EDGE_ environment variables override it).", Required = true };
        var run = new Command("run", "Run the edge agent until SIGINT/SIGTERM.") { config };
        run.SetAction(async (parse, cancellationToken) => await RunAsync(parse.GetValue(config)!, parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error, cancellationToken));

        var url = new Option<string>("--url") { Description = "The agent's health endpoint.", DefaultValueFactory = _ => new HealthOptions().Urls };
        var json = new Option<bool>("--json") { Description = "Print the agent's JSON as it is." };
        var status = new Command("status", "Show a running agent's devices, buffer and uplink.") { url, json };
        status.SetAction(async (parse, cancellationToken) => await StatusAsync(parse.GetValue(url)!, parse.GetValue(json), parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error, cancellationToken));

        var file = new Argument<string>("FILE") { Description = "OPC Publisher's publishednodes.json." };
        var secrets = new Option<bool>("--include-secrets") { Description = "Copy user names' passwords into the output (default: left out; set them with FGW_EDGE_OpcUa__N__Identity__Password)." };
        var import = new Command("import-publishednodes", "Print the OpcUa section of an edge configuration made from OPC Publisher's publishednodes.json; what cannot be carried over is listed on stderr.") { file, secrets };
        import.SetAction(parse => ImportPublishedNodes(parse.GetValue(file)!, parse.GetValue(secrets), parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error));

        var dataDir = new Option<string>("--data-dir") { Description = "The edge's DataDirectory (its PKI is under pki/opcua).", Required = true };
        var certificate = new Argument<string?>("CERT") { Description = "A thumbprint or certificate file to trust; without it, the rejected certificates are listed.", Arity = ArgumentArity.ZeroOrOne };
        var trust = new Command("trust", "Trust an OPC UA server certificate the edge rejected (moves it from rejected/ to trusted/).") { dataDir, certificate };
        trust.SetAction(parse => Trust(parse.GetValue(dataDir)!, parse.GetValue(certificate), parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error));

        return new Command("edge", "The edge agent: OPC UA and MQTT devices in, canonical signals out to the ingest, nothing lost.") { run, status, import, trust };
    }

    private static int ImportPublishedNodes(string path, bool includeSecrets, TextWriter output, TextWriter error)
    {
        PublishedNodesImport import;
        try
        {
            import = PublishedNodes.Import(File.ReadAllText(path));
        }
        catch (Exception e) when (e is FormatException or IOException or UnauthorizedAccessException)
        {
            error.WriteLine($"fgw edge import-publishednodes: {path}: {e.Message}");
            return 2;
        }

        foreach (PublishedNodesIssue issue in import.Issues)
        {
            error.WriteLine($"fgw edge import-publishednodes: {path}: {issue}");
        }

        output.WriteLine(PublishedNodes.ToEdgeConfigJson(import, includeSecrets));
        return 0;
    }

    private static int Trust(string dataDirectory, string? certificate, TextWriter output, TextWriter error)
    {
        if (certificate is null)
        {
            IReadOnlyList<OpcUaTrustResult> rejected = OpcUaTrust.ListRejected(dataDirectory);
            output.WriteLine(rejected.Count == 0 ? "no rejected server certificates" : "rejected server certificates (trust one with fgw edge trust --data-dir DIR THUMBPRINT):");
            foreach (OpcUaTrustResult r in rejected)
            {
                output.WriteLine($"  {r.Thumbprint}  {r.Subject}");
            }

            return 0;
        }

        try
        {
            OpcUaTrustResult trusted = OpcUaTrust.Trust(dataDirectory, certificate);
            output.WriteLine($"trusted {trusted.Thumbprint} ({trusted.Subject}){(trusted.WasRejected ? ", moved out of rejected/" : "")}; the edge connects at its next attempt");
            return 0;
        }
        catch (ArgumentException e)
        {
            error.WriteLine($"fgw edge trust: {e.Message}");
            return 2;
        }
    }

    private static async Task<int> RunAsync(string configFile, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        EdgeOptions options;
        try
        {
            options = EdgeConfiguration.Load(configFile);
        }
        catch (EdgeConfigurationException invalid)
        {
            error.WriteLine($"fgw edge run: {invalid.Message}");
            return 2;
        }

        using ILoggerFactory loggers = ServiceLogging.CreateConsole();
        IReadOnlyList<IEdgeSource> sources = EdgeSources.Create(options, loggers);
        await using EdgeAgent agent = EdgeAgent.Create(options, sources, loggers);
        if (agent.Buffer.UncleanStop || !agent.Buffer.Recovery.IsClean)
        {
            Telemetry.Storage.RecoveryReport recovery = agent.Buffer.Recovery;
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"fgw edge: the last run did not stop cleanly; the buffer cut {recovery.BytesTruncated} byte(s){(recovery.Reason is null ? "" : $" ({recovery.Reason})")}; the last record kept was written at {agent.Buffer.LastRecordTime:O}: samples of at most one flush interval ({options.Buffer.FlushInterval.TotalSeconds:0.###} s) after it were lost"));
        }

        await using EdgeHealthServer health = await EdgeHealthServer.StartAsync(options.Health.Urls, agent.GetStatus, loggers, cancellationToken);
        agent.Start();
        output.WriteLine($"fgw edge: {options.EdgeId} running, {sources.Count} source(s), sending to {options.Ingest.Url} as {agent.Uplink.EdgeHeader}; health on {string.Join(", ", health.Addresses)}");
        try
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }
        catch (OperationCanceledException)
        {
            // SIGINT/SIGTERM.
        }

        output.WriteLine("fgw edge: stopping; what is unsent stays in the buffer");
        return 0;
    }

    private static async Task<int> StatusAsync(string url, bool raw, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        string body;
        try
        {
            body = await http.GetStringAsync(new Uri(new Uri(url.Split(';')[0].TrimEnd('/') + "/"), "status"), cancellationToken);
        }
        catch (HttpRequestException e)
        {
            error.WriteLine($"fgw edge status: no agent answers at {url}: {e.Message}");
            return 1;
        }

        if (raw)
        {
            output.WriteLine(body);
            return 0;
        }

        using JsonDocument document = JsonDocument.Parse(body);
        JsonElement root = document.RootElement;
        JsonElement buffer = root.GetProperty("buffer");
        JsonElement uplink = root.GetProperty("uplink");
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"edge {root.GetProperty("edge_id").GetString()} ({root.GetProperty("enterprise").GetString()}), sending as {uplink.GetProperty("edge_header").GetString()}"));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"buffer: {buffer.GetProperty("bytes_on_disk").GetInt64() / 1048576.0:0.0} of {buffer.GetProperty("max_bytes").GetInt64() / 1048576.0:0} MiB{(buffer.GetProperty("full").GetBoolean() ? " FULL" : "")}, {buffer.GetProperty("refused").GetInt64()} refused ({buffer.GetProperty("overflow").GetString()})"));
        string? lastError = uplink.GetProperty("last_error").GetString();
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"uplink: batch {uplink.GetProperty("acknowledged_sequence").GetInt64()} acknowledged, {uplink.GetProperty("pending_bytes").GetInt64() / 1024.0:0.0} KiB waiting, lag {Seconds(uplink.GetProperty("lag"))}{(lastError is null ? "" : $", last error: {lastError}")}"));
        output.WriteLine();
        output.WriteLine($"{"device",-24} {"source",-20} {"state",-12} {"last data",10} {"samples/s",10} {"bad items",9}");
        foreach (JsonElement device in root.GetProperty("devices").EnumerateArray())
        {
            string age = device.GetProperty("last_data_age").ValueKind == JsonValueKind.Null ? "never" : Seconds(device.GetProperty("last_data_age"));
            JsonElement bad = device.GetProperty("bad_items");
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{device.GetProperty("device").GetString(),-24} {device.GetProperty("source").GetString(),-20} {(device.GetProperty("connected").GetBoolean() ? "connected" : "DISCONNECTED"),-12} {age,10} {device.GetProperty("samples_per_second").GetDouble(),10:0.0} {bad.GetArrayLength(),9}"));
            foreach (JsonElement item in bad.EnumerateArray())
            {
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"    {item.GetProperty("item").GetString()}: 0x{item.GetProperty("status").GetUInt32():X8} {item.GetProperty("reason").GetString()}"));
            }
        }

        return 0;
    }

    private static string Seconds(JsonElement timeSpan) =>
        TimeSpan.TryParse(timeSpan.GetString(), CultureInfo.InvariantCulture, out TimeSpan t) ? string.Create(CultureInfo.InvariantCulture, $"{t.TotalSeconds:0.0} s") : "?";
}
