using System.CommandLine;
using FactoryGateway.Evidence;
using FactoryGateway.Ingest;
using FactoryGateway.Ingest.Evidence;
using FactoryGateway.Ingest.Forwarding;
using FactoryGateway.Ingest.Http;
using FactoryGateway.Telemetry.Influx;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace FactoryGateway.Cli;

/// <summary>
/// <c>fgw ingest run</c>: the ingest service. Settings come from, lowest first: built-in defaults,
/// <c>appsettings.json</c> in the working directory (or <c>--config FILE</c>), environment variables with
/// the <c>FGW_</c> prefix (<c>FGW_Ingest__DataDirectory</c>, <c>FGW_Influx__Url</c>, …), then options.
/// </summary>
internal static class IngestCommand
{
    /// <summary>Default listen address: loopback, beside InfluxDB's own 8086.</summary>
    public const string DefaultUrls = "http://127.0.0.1:9086";

    public static Command Create()
    {
        var config = new Option<string?>("--config") { Description = "A JSON settings file (default: appsettings.json in the working directory, if present)." };
        var urls = new Option<string?>("--urls") { Description = $"Listen address(es), ';'-separated (default {DefaultUrls})." };
        var dataDir = new Option<string?>("--data-dir") { Description = "Data directory: WAL, edge checkpoint, evidence.db, dead letters." };
        var influxUrl = new Option<string?>("--influx-url") { Description = "InfluxDB to forward to (e.g. http://127.0.0.1:8086). Without it points stay in the WAL." };
        var influxDb = new Option<string?>("--influx-db") { Description = "InfluxDB 1.x database (v1 /write)." };
        var influxRp = new Option<string?>("--influx-rp") { Description = "InfluxDB 1.x retention policy." };
        var influxOrg = new Option<string?>("--influx-org") { Description = "InfluxDB 2.x/3.x organisation (v2 /api/v2/write)." };
        var influxBucket = new Option<string?>("--influx-bucket") { Description = "InfluxDB 2.x/3.x bucket." };
        var influxToken = new Option<string?>("--influx-token") { Description = "InfluxDB 2.x/3.x token (better: FGW_Influx__Token)." };

        var run = new Command("run", "Run the ingest service until SIGINT/SIGTERM.")
        {
            config, urls, dataDir, influxUrl, influxDb, influxRp, influxOrg, influxBucket, influxToken,
        };
        run.SetAction(async (parse, cancellationToken) =>
        {
            var overrides = new Dictionary<string, string?>
            {
                ["Urls"] = parse.GetValue(urls),
                ["Ingest:DataDirectory"] = parse.GetValue(dataDir),
                ["Influx:Url"] = parse.GetValue(influxUrl),
                ["Influx:Database"] = parse.GetValue(influxDb),
                ["Influx:RetentionPolicy"] = parse.GetValue(influxRp),
                ["Influx:Organization"] = parse.GetValue(influxOrg),
                ["Influx:Bucket"] = parse.GetValue(influxBucket),
                ["Influx:Token"] = parse.GetValue(influxToken),
            };
            IConfigurationRoot configuration = new ConfigurationBuilder()
                .AddJsonFile(Path.GetFullPath(parse.GetValue(config) ?? "appsettings.json"), optional: parse.GetValue(config) is null)
                .AddEnvironmentVariables("FGW_")
                .AddInMemoryCollection(overrides.Where(o => o.Value is not null))
                .Build();
            return await RunAsync(configuration, parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error, cancellationToken);
        });

        return new Command("ingest", "The ingest service: InfluxDB-compatible write API, WAL, forwarding to InfluxDB.") { run };
    }

    private static async Task<int> RunAsync(IConfiguration configuration, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        var options = new IngestOptions();
        configuration.GetSection("Ingest").Bind(options);
        var forwarderOptions = new ForwarderOptions();
        configuration.GetSection("Forwarder").Bind(forwarderOptions);
        var evidenceOptions = new EvidenceAccumulatorOptions();
        configuration.GetSection("Evidence").Bind(evidenceOptions);
        string urls = configuration["Urls"] ?? DefaultUrls;
        InfluxTarget? target;
        try
        {
            options.Validate();
            target = InfluxTargetFrom(configuration.GetSection("Influx"));
            forwarderOptions.DeadLetterDirectory = forwarderOptions.DeadLetterDirectory is { Length: > 0 } d ? d : Path.Combine(options.DataDirectory, "deadletter");
            forwarderOptions.Validate();
            evidenceOptions.Validate();
        }
        catch (ArgumentException invalid)
        {
            error.WriteLine($"fgw ingest run: {invalid.Message}");
            return 2;
        }

        using ILoggerFactory loggers = ServiceLogging.CreateConsole();
        Directory.CreateDirectory(options.DataDirectory);
        using EvidenceStore evidence = EvidenceStore.Open(new EvidenceStoreOptions { DataDirectory = options.DataDirectory });
        using var influxHttp = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) }) { Timeout = Timeout.InfiniteTimeSpan };
        InfluxForwarder? forwarder = null;
        EvidenceAccumulator? accumulator = null;
        await using IngestServer server = await IngestServer.StartAsync(
            urls,
            options,
            evidence.Tokens,
            evidence.Devices,
            wal =>
            {
                if (target is null)
                {
                    // No InfluxDB yet: the forwarder's cursor stays where it is, and so does the data.
                    accumulator = new EvidenceAccumulator(wal, evidence.Ledger, evidenceOptions, evidence.Register.ShiftCalendars, options.Limits, TimeProvider.System, loggers.CreateLogger<EvidenceAccumulator>());
                    return [new ParkedConsumer(forwarderOptions.CursorName), accumulator];
                }

                forwarder = new InfluxForwarder(wal, new InfluxWriteClient(influxHttp, target, TimeProvider.System), forwarderOptions, TimeProvider.System, loggers.CreateLogger<InfluxForwarder>());
                // Evidence gives way to the forwarder while it delivers a backlog (EvidenceAccumulatorOptions.MaxDeferredBytes).
                accumulator = new EvidenceAccumulator(wal, evidence.Ledger, evidenceOptions, evidence.Register.ShiftCalendars, options.Limits, TimeProvider.System,
                    loggers.CreateLogger<EvidenceAccumulator>(), giveWayTo: forwarder);
                return [forwarder, accumulator];
            },
            text =>
            {
                if (forwarder is not null)
                {
                    ForwarderMetrics.Write(text, forwarder.GetStats());
                }

                if (accumulator is not null)
                {
                    EvidenceMetrics.Write(text, accumulator.GetStats());
                }
            },
            TimeProvider.System,
            loggers,
            cancellationToken);

        output.WriteLine($"fgw ingest: listening on {string.Join(", ", server.Addresses)}; data in {Path.GetFullPath(options.DataDirectory)}; "
            + (target is null ? "no InfluxDB target: accepted points stay in the WAL until one is set" : $"forwarding to {target}"));
        await server.WaitForShutdownAsync(cancellationToken);
        output.WriteLine("fgw ingest: stopping");
        return 0;
    }

    private static InfluxTarget? InfluxTargetFrom(IConfigurationSection influx)
    {
        string? url = influx["Url"];
        if (string.IsNullOrEmpty(url))
        {
            return null;
        }

        if (!Uri.TryCreate(url, UriKind.Absolute, out Uri? baseUrl))
        {
            throw new ArgumentException($"Influx:Url \"{url}\" is not an absolute URL.");
        }

        InfluxTarget target = influx["Bucket"] is { Length: > 0 } bucket
            ? InfluxTarget.ForV2(baseUrl, influx["Organization"] ?? "", bucket, influx["Token"] ?? "")
            : InfluxTarget.ForV1(baseUrl, influx["Database"] ?? throw new ArgumentException("Influx:Database (--influx-db) or Influx:Bucket (--influx-bucket) is required with Influx:Url."),
                influx["RetentionPolicy"], influx["Username"], influx["Password"]);
        target.Validate();
        return target;
    }
}
