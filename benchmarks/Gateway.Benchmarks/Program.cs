using BenchmarkDotNet.Running;

namespace FactoryGateway.Benchmarks;

/// <summary>
/// Runs the BenchmarkDotNet suites non-interactively
/// (<c>dotnet run -c Release --project benchmarks/Gateway.Benchmarks -- --filter '*'</c>) or a load
/// harness (<c>-- load-ingest …</c>, <c>-- load-e2e …</c>, <c>-- load-mqtt …</c>, <c>-- load-opcua …</c>, <c>-- load-opcua-server …</c>, <c>-- load-edge …</c>, <c>-- indicators …</c>), which prints a table.
/// </summary>
public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        if (args.Length > 0 && args[0] == "load-ingest")
        {
            return await Load.IngestLoadHarness.RunAsync(args[1..]);
        }

        if (args.Length > 0 && args[0] == "load-e2e")
        {
            return await Load.EndToEndLoadHarness.RunAsync(args[1..]);
        }

        if (args.Length > 0 && args[0] == "load-mqtt")
        {
            return await Load.MqttLoadHarness.RunAsync(args[1..]);
        }

        if (args.Length > 0 && args[0] == "load-opcua")
        {
            return await Load.OpcUaLoadHarness.RunAsync(args[1..]);
        }

        if (args.Length > 0 && args[0] == "indicators")
        {
            return await Load.IndicatorHarness.RunAsync(args[1..]);
        }

        if (args.Length > 0 && args[0] == "load-edge")
        {
            return await Load.EdgeLoadHarness.RunAsync(args[1..]);
        }

        if (args.Length > 0 && args[0] == "load-opcua-server")
        {
            return await Load.OpcUaServerLoadHarness.RunAsync(args[1..]);
        }

        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
        return 0;
    }
}
