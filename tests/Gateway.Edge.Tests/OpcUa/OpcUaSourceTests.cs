using FactoryGateway.Edge.Config;
using FactoryGateway.Edge.Signals;
using FactoryGateway.Edge.Sources.OpcUa;
using FactoryGateway.Testing;
using static FactoryGateway.Edge.Tests.OpcUa.RecordingSink;

namespace FactoryGateway.Edge.Tests.OpcUa;

/// <summary>The OPC UA source against a node-opcua server modelling a machine tool, a robot and a current sensor.</summary>
public sealed class OpcUaSourceTests(MachinesOpcUaServer server) : IClassFixture<MachinesOpcUaServer>
{
    private const uint BadSensorFailure = 0x808C_0000;
    private const uint BadNodeIdUnknown = 0x8034_0000;

    private static long Int(EdgeSample s) => s.Value.AsInteger;

    private static bool Has(IReadOnlyList<object> events, string device, string signal, Func<EdgeSample, bool> match) =>
        events.OfType<EdgeSample>().Any(s => s.Device == device && s.Signal == signal && match(s));

    private static bool HasStates(IReadOnlyList<object> events, string device, params MachineState[] states) =>
        states.All(state => Has(events, device, CanonicalSignals.State, s => SignalQuality.IsGood(s.Status) && Int(s) == (long)state));

    [Fact]
    public async Task Auto_profile_detects_machine_tool_and_robot_reads_nameplates_derives_state_and_passes_counters()
    {
        using var data = new TempDirectory("edge-opcua");
        var options = new OpcUaSourceOptions
        {
            Name = "cell-7",
            Endpoint = server.EndpointUrl,
            PublishingInterval = TimeSpan.FromMilliseconds(100),
            Devices =
            {
                // OPC 40501-1 has no machine-wide good-part counter: the vendor's is mapped.
                new OpcUaDeviceOptions { Id = "Mill1", Nodes = { new OpcUaNodeOptions { Node = "ns=1;s=Mill1.Vendor.PartsGood", Signal = "parts_good" } } },
                new OpcUaDeviceOptions { Id = "Robot1", Nodes = { new OpcUaNodeOptions { Node = "ns=1;s=Robot1.Cycles", Signal = "cycles" } } },
            },
        };
        await using var source = new OpcUaSource(options, data.Path);
        var sink = new RecordingSink();
        using var stop = new CancellationTokenSource();
        Task run = source.RunAsync(sink, stop.Token);

        await sink.WaitAsync("the mill's and the robot's nameplates, run and idle states, counters and programs", e =>
            e.OfType<IdentityEvent>().Any(i => i.Device == "Mill1") && e.OfType<IdentityEvent>().Any(i => i.Device == "Robot1")
            && HasStates(e, "Mill1", MachineState.Run, MachineState.Idle) && HasStates(e, "Robot1", MachineState.Run, MachineState.Idle)
            && e.OfType<EdgeSample>().Where(s => s.Device == "Mill1" && s.Signal == CanonicalSignals.PartsTotal).Select(Int).Distinct().Count() >= 2
            && Has(e, "Mill1", CanonicalSignals.PartsGood, _ => true) && Has(e, "Mill1", CanonicalSignals.Program, _ => true)
            && Has(e, "Robot1", CanonicalSignals.Program, _ => true) && Has(e, "Robot1", CanonicalSignals.Cycles, _ => true)
            && Has(e, "Mill1", CanonicalSignals.PowerOnSeconds, _ => true) && Has(e, "Robot1", CanonicalSignals.PowerOnSeconds, _ => true));
        await stop.CancelAsync();
        await run;

        Assert.Equal([OpcUaDeviceProfile.MachineTool, OpcUaDeviceProfile.Robot], source.Plans!.Select(p => p.Profile));
        IReadOnlyList<object> events = sink.Events;
        Assert.Contains(new ConnectionEvent("Mill1", true, null), events);
        Assert.Contains(new ConnectionEvent("Robot1", true, null), events);
        DeviceIdentity mill = events.OfType<IdentityEvent>().First(i => i.Device == "Mill1").Identity;
        Assert.Equal(new DeviceIdentity { ProductInstanceUri = "urn:acme:vmc850:MT-0001", Manufacturer = "ACME Machine Tools", Model = "VMC-850", SerialNumber = "MT-0001" }, mill);
        Assert.Equal("RB-42", events.OfType<IdentityEvent>().First(i => i.Device == "Robot1").Identity.SerialNumber);
        Assert.Equal("O1234_FLANGE", sink.Samples("Mill1", CanonicalSignals.Program)[0].Value.AsString);
        Assert.Equal("PICK_PLACE", sink.Samples("Robot1", CanonicalSignals.Program)[0].Value.AsString);
        Assert.Equal(1200.0 * 3600, sink.Samples("Mill1", CanonicalSignals.PowerOnSeconds)[0].Value.AsFloat);
        Assert.Equal(3600.0, sink.Samples("Robot1", CanonicalSignals.PowerOnSeconds)[0].Value.AsFloat);
        IReadOnlyList<long> parts = sink.Samples("Mill1", CanonicalSignals.PartsTotal).Select(Int).ToList();
        Assert.True(parts.SequenceEqual(parts.Order()), $"parts_total is monotone: {string.Join(", ", parts)}");
        // Only the three states the simulated machines go through, each sample stamped by the server's source time.
        Assert.All(sink.Samples("Mill1", CanonicalSignals.State), s => Assert.Contains(Int(s), new long[] { 3, 4 }));
        long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1_000_000;
        Assert.All(events.OfType<EdgeSample>(), s => Assert.InRange(s.SourceTimeNanoseconds, now - 600_000_000_000, now + 5_000_000_000));
    }

    [Fact]
    public async Task Custom_mappings_pass_values_and_bad_status_and_report_unknown_nodes_and_current_sensor_derives_state()
    {
        using var data = new TempDirectory("edge-opcua");
        var options = new OpcUaSourceOptions
        {
            Endpoint = server.EndpointUrl,
            PublishingInterval = TimeSpan.FromMilliseconds(100),
            Devices =
            {
                new OpcUaDeviceOptions
                {
                    Id = "Mill1-extra",
                    Profile = "custom",
                    Nodes =
                    {
                        new OpcUaNodeOptions { Node = "ns=1;s=Mill1.Spindle.Speed", Signal = "spindle_rpm", SamplingInterval = TimeSpan.FromMilliseconds(50), QueueSize = 4 },
                        new OpcUaNodeOptions { Node = "ns=1;s=Mill1.Sensor.Broken", Signal = "coolant_temp" },
                        new OpcUaNodeOptions { Node = "ns=1;s=No.Such.Node", Signal = "ghost" },
                    },
                },
                // Not in the Machines folder (which holds Mill1 and Robot1) and no Root: reported, and the others still run.
                new OpcUaDeviceOptions { Id = "Lathe9" },
                new OpcUaDeviceOptions
                {
                    Id = "Press3",
                    Profile = "current-sensor",
                    Nodes = { new OpcUaNodeOptions { Node = "ns=1;s=Press3.Current", Signal = "current_a", IdleThreshold = 1, RunThreshold = 10 } },
                },
            },
        };
        await using var source = new OpcUaSource(options, data.Path);
        var sink = new RecordingSink();
        using var stop = new CancellationTokenSource();
        Task run = source.RunAsync(sink, stop.Token);

        await sink.WaitAsync("spindle speeds, the bad sensor, the unknown node and the press's three states", e =>
            e.OfType<EdgeSample>().Where(s => s.Device == "Mill1-extra" && s.Signal == "spindle_rpm").Select(s => s.Value.AsFloat).Distinct().Count() >= 2
            && Has(e, "Mill1-extra", "coolant_temp", _ => true)
            && e.OfType<ItemStatusEvent>().Any(i => i.Device == "Mill1-extra") && e.OfType<ItemStatusEvent>().Any(i => i.Device == "Lathe9")
            && HasStates(e, "Press3", MachineState.Off, MachineState.Idle, MachineState.Run));
        await stop.CancelAsync();
        await run;

        Assert.All(sink.Samples("Mill1-extra", "coolant_temp"), s => Assert.Equal(BadSensorFailure, s.Status));
        ItemStatusEvent lathe = sink.Events.OfType<ItemStatusEvent>().Single(i => i.Device == "Lathe9");
        Assert.Equal((OpcUaSource.DeviceItemName, BadNodeIdUnknown), (lathe.Item, lathe.Status));
        Assert.Contains("Mill1, Robot1", lathe.Reason, StringComparison.Ordinal);
        Assert.Contains(new ConnectionEvent("Lathe9", false, lathe.Reason), sink.Events);
        Assert.DoesNotContain(sink.Events.OfType<ConnectionEvent>(), c => c.Device == "Lathe9" && c.Up);
        Assert.Contains(new ConnectionEvent("Press3", true, null), sink.Events);
        ItemStatusEvent ghost = sink.Events.OfType<ItemStatusEvent>().First(i => i.Device == "Mill1-extra");
        Assert.Equal(("Mill1-extra", "ns=1;s=No.Such.Node", BadNodeIdUnknown), (ghost.Device, ghost.Item, ghost.Status));
        Assert.False(string.IsNullOrEmpty(ghost.Reason));
        Assert.Equal([0.2, 3, 12], sink.Samples("Press3", "current_a").Select(s => s.Value.AsFloat).Distinct().Order());
        Assert.Equal([OpcUaDeviceProfile.Custom, OpcUaDeviceProfile.CurrentSensor], source.Plans!.Select(p => p.Profile));
    }
}
