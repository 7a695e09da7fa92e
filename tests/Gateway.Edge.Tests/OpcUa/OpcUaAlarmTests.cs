using FactoryGateway.Edge.Config;
using FactoryGateway.Edge.Signals;
using FactoryGateway.Edge.Sources.OpcUa;
using FactoryGateway.Testing;

namespace FactoryGateway.Edge.Tests.OpcUa;

/// <summary>
/// Alarms of a node-opcua machine tool (OPC 10000-9 AlarmConditionType on Mill1, raised by command) through the edge's
/// event subscription: severity ≥ 667 makes the machine down until it clears; severity 500 does not. Its own server, so
/// the alarms do not disturb the other tests.
/// </summary>
public sealed class OpcUaAlarmTests(MachinesOpcUaServer server) : IClassFixture<MachinesOpcUaServer>
{
    private static List<long> States(IReadOnlyList<object> events, string device = "Mill1") =>
        events.OfType<EdgeSample>().Where(s => s.Device == device && s.Signal == CanonicalSignals.State && SignalQuality.IsGood(s.Status)).Select(s => s.Value.AsInteger).ToList();

    private OpcUaSource Source(TempDirectory data) => new(
        new OpcUaSourceOptions
        {
            Endpoint = server.EndpointUrl,
            PublishingInterval = TimeSpan.FromMilliseconds(100),
            Devices = { new OpcUaDeviceOptions { Id = "Mill1" } },
        },
        data.Path);

    [Fact]
    public async Task High_severity_alarm_makes_the_machine_down_until_it_clears_and_a_low_severity_alarm_does_not()
    {
        using var data = new TempDirectory("edge-opcua-alarm");
        await using OpcUaSource source = Source(data);
        var sink = new RecordingSink();
        using var stop = new CancellationTokenSource();
        Task run = source.RunAsync(sink, stop.Token);
        try
        {
            await sink.WaitAsync("Mill1 running", e => States(e).Contains((long)MachineState.Run));
            Assert.NotNull(source.Plans![0].Events);

            // The low alarm first: its event precedes the high one's on the same subscription, and it stays active
            // while the high one clears, so the return to run/idle shows that severity 500 alone does not make down.
            await server.CommandAsync("alarm CoolantLow on");
            await server.CommandAsync("alarm SpindleOverload on");
            await sink.WaitAsync("Mill1 down", e => States(e).Contains((long)MachineState.Down));
            int downAt = States(sink.Events).IndexOf((long)MachineState.Down);

            await server.CommandAsync("alarm SpindleOverload off");
            await sink.WaitAsync("Mill1 back to run or idle", e => States(e).Skip(downAt + 1).Any(s => s is (long)MachineState.Run or (long)MachineState.Idle));
            List<long> states = States(sink.Events);
            Assert.DoesNotContain((long)MachineState.Down, states.Take(downAt));
            Assert.DoesNotContain((long)MachineState.Down, states.Skip(downAt + 1));
        }
        finally
        {
            await server.CommandAsync("alarm SpindleOverload off");
            await server.CommandAsync("alarm CoolantLow off");
            await stop.CancelAsync();
            await run;
        }
    }

    [Fact]
    public async Task An_alarm_active_before_the_edge_connects_is_seen_through_ConditionRefresh()
    {
        using var data = new TempDirectory("edge-opcua-alarm");
        await server.CommandAsync("alarm SpindleOverload on");
        await using OpcUaSource source = Source(data);
        var sink = new RecordingSink();
        using var stop = new CancellationTokenSource();
        Task run = source.RunAsync(sink, stop.Token);
        try
        {
            await sink.WaitAsync("Mill1 down", e => States(e).Contains((long)MachineState.Down));
            await server.CommandAsync("alarm SpindleOverload off");
            int downAt = States(sink.Events).IndexOf((long)MachineState.Down);
            await sink.WaitAsync("Mill1 back to run or idle", e => States(e).Skip(downAt + 1).Any(s => s is (long)MachineState.Run or (long)MachineState.Idle));
        }
        finally
        {
            await server.CommandAsync("alarm SpindleOverload off");
            await stop.CancelAsync();
            await run;
        }
    }

    [Fact]
    public async Task A_machine_that_is_no_event_notifier_takes_its_alarms_from_the_Server_object_and_only_its_own()
    {
        using var data = new TempDirectory("edge-opcua-alarm");
        await using var source = new OpcUaSource(
            new OpcUaSourceOptions
            {
                Endpoint = server.EndpointUrl,
                PublishingInterval = TimeSpan.FromMilliseconds(100),
                Devices = { new OpcUaDeviceOptions { Id = "Mill1" }, new OpcUaDeviceOptions { Id = "Robot1" } },
            },
            data.Path);
        var sink = new RecordingSink();
        using var stop = new CancellationTokenSource();
        Task run = source.RunAsync(sink, stop.Token);
        try
        {
            await sink.WaitAsync("Mill1 and Robot1 running", e => States(e).Contains((long)MachineState.Run) && States(e, "Robot1").Contains((long)MachineState.Run));
            DeviceEvents robotEvents = source.Plans!.Single(p => p.Id == "Robot1").Events!;
            Assert.Equal("i=2253", robotEvents.Notifier.ToString());
            Assert.NotNull(robotEvents.Sources);

            // Mill1's alarm reaches Robot1's Server-object item too, and must not count for Robot1: it is still active
            // when Robot1's own alarm clears, so Robot1 coming back shows the filter by SourceNode.
            await server.CommandAsync("alarm SpindleOverload on");
            await sink.WaitAsync("Mill1 down", e => States(e).Contains((long)MachineState.Down));
            await server.CommandAsync("alarm Collision on");
            await sink.WaitAsync("Robot1 down", e => States(e, "Robot1").Contains((long)MachineState.Down));
            int downAt = States(sink.Events, "Robot1").IndexOf((long)MachineState.Down);
            await server.CommandAsync("alarm Collision off");
            await sink.WaitAsync("Robot1 back to run or idle while Mill1's alarm is active", e =>
                States(e, "Robot1").Skip(downAt + 1).Any(s => s is (long)MachineState.Run or (long)MachineState.Idle));
            Assert.Equal((long)MachineState.Down, States(sink.Events).Last());
        }
        finally
        {
            await server.CommandAsync("alarm Collision off");
            await server.CommandAsync("alarm SpindleOverload off");
            await stop.CancelAsync();
            await run;
        }
    }
}
