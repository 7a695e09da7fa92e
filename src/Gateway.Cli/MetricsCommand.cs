using System.CommandLine;
using FactoryGateway.Evidence;
using FactoryGateway.Metrics.Http;
using Microsoft.Extensions.Logging;

namespace FactoryGateway.Cli;

/// <summary><c>fgw metrics serve --data-dir DIR [--urls URL]</c>: the indicators API for dashboards and bureaus.</summary>
internal static class MetricsCommand
{
    /// <summary>Beside the ingest's default 9086.</summary>
    public const string DefaultUrls = "http://127.0.0.1:9087";

    public static Command Create()
    {
        var dataDir = new Option<string>("--data-dir") { Description = "The service's data directory (holds evidence.db).", Required = true };
        var urls = new Option<string>("--urls") { Description = $"Listen address(es), ';'-separated (default {DefaultUrls}; https:// with Kestrel's certificate settings)." };
        var serve = new Command("serve", "Serve GET /api/v1/indicators (JSON or CSV) to enterprise, bureau and admin tokens.") { dataDir, urls };
        serve.SetAction(async (parse, cancellationToken) =>
        {
            TextWriter output = parse.InvocationConfiguration.Output;
            string directory = parse.GetRequiredValue(dataDir);
            if (!File.Exists(Path.Combine(directory, EvidenceStore.FileName)))
            {
                parse.InvocationConfiguration.Error.WriteLine($"fgw metrics serve: {Path.Combine(directory, EvidenceStore.FileName)} does not exist (import a register first).");
                return 2;
            }

            using ILoggerFactory loggers = LoggerFactory.Create(logging => logging
                .AddSimpleConsole(console =>
                {
                    console.SingleLine = true;
                    console.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
                    console.UseUtcTimestamp = true;
                })
                .SetMinimumLevel(LogLevel.Information));
            using EvidenceStore store = EvidenceStore.Open(directory);
            await using MetricsServer server = await MetricsServer.StartAsync(parse.GetValue(urls) ?? DefaultUrls, store, loggers, cancellationToken);
            output.WriteLine($"fgw metrics: listening on {string.Join(", ", server.Addresses)}; GET /api/v1/indicators?enterprise=CODE|region=CODE&window=2026Q3[&format=csv]");
            await server.WaitForShutdownAsync(cancellationToken);
            output.WriteLine("fgw metrics: stopping");
            return 0;
        });
        return new Command("metrics", "The indicators API.") { serve };
    }
}
