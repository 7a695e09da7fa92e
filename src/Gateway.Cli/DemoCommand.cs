using System.CommandLine;

namespace FactoryGateway.Cli;

/// <summary>
/// <c>fgw demo</c>: runs the end-to-end slice that exists on embedded defaults and says plainly which
/// stages of the product are not built yet.
/// </summary>
internal static class DemoCommand
{
    public static Command Create()
    {
        var command = new Command("demo", "Run the FactoryGateway demo on embedded defaults.");
        command.SetAction((parseResult, cancellationToken) => RunAsync(parseResult.InvocationConfiguration.Output, cancellationToken));
        return command;
    }

    public static Task<int> RunAsync(TextWriter output, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        output.WriteLine("FactoryGateway demo");
        output.WriteLine();
        output.WriteLine("Pipeline stages and what exists of them today:");
        foreach (DemoStage stage in DemoStage.All)
        {
            output.WriteLine($"  {(stage.Built ? "[built]    " : "[not built]")} {stage.Name}: {stage.Description}");
        }

        output.WriteLine();
        output.WriteLine("No end-to-end slice exists yet: the stages above are built one by one, and this demo runs each as it lands.");
        return Task.FromResult(0);
    }
}

/// <summary>One stage of the product pipeline as the demo reports it.</summary>
internal sealed record DemoStage(string Name, string Description, bool Built)
{
    public static IReadOnlyList<DemoStage> All { get; } =
    [
        new("Gateway.OpcUa", "OPC UA client and server subset for machine tools and robots", Built: false),
        new("Gateway.Mqtt", "MQTT 3.1.1/5.0 client, JSON and Sparkplug B payloads", Built: false),
        new("Gateway.Edge", "edge agent: devices to canonical signals, disk buffer, uplink", Built: false),
        new("Gateway.Telemetry", "line-protocol reader and writer, segment log, InfluxDB client", Built: false),
        new("Gateway.Ingest", "InfluxDB-compatible write API, WAL, forwarder to InfluxDB", Built: false),
        new("Gateway.Evidence", "asset register and tamper-evident device-day ledger", Built: false),
        new("Gateway.Metrics", "indicators, policy targets, claim verification, signed reports", Built: false),
        new("Gateway.Simulator", "simulated factory with fraud scenarios on an accelerated clock", Built: false),
    ];
}
