using System.Buffers;
using System.CommandLine;
using System.Globalization;
using FactoryGateway.Telemetry.LineProtocol;

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
            output.WriteLine($"  {$"[{stage.Status}]",-14} {stage.Name}: {stage.Description}");
        }

        output.WriteLine();
        RunLineProtocolSlice(output);
        output.WriteLine();
        output.WriteLine("Not there yet: devices over OPC UA and MQTT, the ingest service and its WAL, InfluxDB forwarding,");
        output.WriteLine("the evidence ledger, indicators and claim verification. Each joins this demo as it is built.");
        return Task.FromResult(0);
    }

    /// <summary>
    /// The slice that exists: one simulated shift hour of canonical telemetry from a small line of
    /// machines, written as line protocol and read back through the validating reader, plus one
    /// malformed line and the error an ingest would answer with.
    /// </summary>
    private static void RunLineProtocolSlice(TextWriter output)
    {
        const string Enterprise = "91330402MA2B3C4D53";
        string[] devices = ["cnc-01", "cnc-02", "robot-01", "press-01"];
        long start = new DateTimeOffset(2026, 7, 1, 8, 0, 0, TimeSpan.FromHours(8)).ToUnixTimeMilliseconds() * 1_000_000;
        var body = new ArrayBufferWriter<byte>();
        var writer = new LineProtocolWriter(body);
        for (int second = 0; second < 3600; second += 10)
        {
            for (int d = 0; d < devices.Length; d++)
            {
                writer.WriteMeasurement("telemetry").WriteTag("ent", Enterprise).WriteTag("dev", devices[d]).WriteTag("edge", "edge-01")
                    .WriteField("state", second % 600 < 540 ? 4L : 3L)
                    .WriteField(devices[d].StartsWith("robot", StringComparison.Ordinal) ? "cycles" : "parts_total", (long)(second / 45))
                    .WriteField("spindle_current_a", 12.5 + d + ((second % 60) / 8.0))
                    .WriteTimestamp(start + (second * 1_000_000_000L));
            }
        }

        using var reader = new LineProtocolReader(new LineProtocolLimits());
        reader.Reset(TimestampPrecision.Nanoseconds);
        var sequence = new SequenceReader<byte>(new ReadOnlySequence<byte>(body.WrittenMemory));
        int points = 0;
        int fields = 0;
        while (reader.TryRead(ref sequence, isFinalBlock: true, out LineProtocolLine line))
        {
            points++;
            fields += line.FieldCount;
        }

        output.WriteLine("Line-protocol slice (Gateway.Telemetry):");
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  wrote {writer.PointsWritten} points of canonical telemetry ({body.WrittenCount} bytes) for {devices.Length} devices over one shift hour"));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  read back and validated {points} points, {fields} fields"));

        byte[] malformed = "telemetry,ent=91330402MA2B3C4D53,dev=cnc-01 state=4i,parts_total=12x3i 1782864000000000000\n"u8.ToArray();
        reader.Reset(TimestampPrecision.Nanoseconds);
        var bad = new SequenceReader<byte>(new ReadOnlySequence<byte>(malformed));
        try
        {
            reader.TryRead(ref bad, isFinalBlock: true, out _);
        }
        catch (LineProtocolException error)
        {
            output.WriteLine($"  a malformed line is refused with: {{\"code\":\"invalid\",\"message\":\"{error.Message.Replace("\"", "\\\"", StringComparison.Ordinal)}\"}}");
        }
    }
}

/// <summary>One stage of the product pipeline as the demo reports it.</summary>
internal sealed record DemoStage(string Name, string Description, string Status = "not built")
{
    public static IReadOnlyList<DemoStage> All { get; } =
    [
        new("Gateway.OpcUa", "OPC UA client and server subset for machine tools and robots"),
        new("Gateway.Mqtt", "MQTT 3.1.1/5.0 client, JSON and Sparkplug B payloads"),
        new("Gateway.Edge", "edge agent: devices to canonical signals, disk buffer, uplink"),
        new("Gateway.Telemetry", "line-protocol reader and writer are built; segment log and InfluxDB client are not yet", "partly built"),
        new("Gateway.Ingest", "InfluxDB-compatible write API, WAL, forwarder to InfluxDB"),
        new("Gateway.Evidence", "asset register and tamper-evident device-day ledger"),
        new("Gateway.Metrics", "indicators, policy targets, claim verification, signed reports"),
        new("Gateway.Simulator", "simulated factory with fraud scenarios on an accelerated clock"),
    ];
}
