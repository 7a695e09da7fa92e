using FactoryGateway.Edge.Config;
using FactoryGateway.Edge.Signals;
using FactoryGateway.Edge.Sources.OpcUa;
using FactoryGateway.OpcUa.Server;
using FactoryGateway.Testing;
using static FactoryGateway.Edge.Tests.OpcUa.RecordingSink;

namespace FactoryGateway.Edge.Tests.OpcUa;

/// <summary>
/// A server that offers no events (our own server subset: no object is an event notifier, and it refuses event
/// filters): the source reads the machine without alarms, says so once, and keeps streaming.
/// </summary>
public sealed class OpcUaNoEventsTests
{
    private const uint BadNotSupported = 0x803D_0000;

    [Fact]
    public async Task Without_events_the_source_says_so_once_and_streams_the_state()
    {
        await using var server = new UaServer(new UaServerOptions { MinPublishingInterval = TimeSpan.FromMilliseconds(20) });
        var model = new MachineryModel(server.AddressSpace);
        MachineNodes lathe = model.AddMachineTool("Lathe1", new MachineNameplate("Gildemeister", "SN-4711", "urn:example:lathe:SN-4711"));
        model.SetState(lathe, MachineryItemState.Executing, new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc));
        await server.StartAsync(TestContext.Current.CancellationToken);

        using var data = new TempDirectory("edge-opcua-noevents");
        await using var source = new OpcUaSource(
            new OpcUaSourceOptions
            {
                Endpoint = server.EndpointUrl,
                PublishingInterval = TimeSpan.FromMilliseconds(100),
                Devices = { new OpcUaDeviceOptions { Id = "Lathe1" } },
            },
            data.Path);
        var sink = new RecordingSink();
        using var stop = new CancellationTokenSource();
        Task run = source.RunAsync(sink, stop.Token);
        await sink.WaitAsync("Lathe1 up and running", e =>
            e.Contains(new ConnectionEvent("Lathe1", true, null))
            && e.OfType<EdgeSample>().Any(s => s.Device == "Lathe1" && s.Signal == CanonicalSignals.State && s.Value.AsInteger == (long)MachineState.Run));
        int mark = sink.Events.Count;
        model.SetState(lathe, MachineryItemState.NotExecuting, new DateTime(2026, 1, 1, 0, 1, 0, DateTimeKind.Utc));
        await sink.WaitAsync("Lathe1 idle", e => e.Skip(mark).OfType<EdgeSample>().Any(s => s.Device == "Lathe1" && s.Signal == CanonicalSignals.State && s.Value.AsInteger == (long)MachineState.Idle));
        await stop.CancelAsync();
        await run;

        Assert.Null(source.Plans!.Single().Events);
        ItemStatusEvent events = Assert.Single(sink.Events.OfType<ItemStatusEvent>(), i => i.Item == OpcUaSource.EventsItemName);
        Assert.Equal(("Lathe1", BadNotSupported), (events.Device, events.Status));
        Assert.DoesNotContain(sink.Events.OfType<ConnectionEvent>(), c => !c.Up);
    }
}
