using FactoryGateway.Edge.Config;
using FactoryGateway.Edge.Signals;
using FactoryGateway.Edge.Sources.OpcUa;
using FactoryGateway.Testing;
using static FactoryGateway.Edge.Tests.OpcUa.RecordingSink;

namespace FactoryGateway.Edge.Tests.OpcUa;

/// <summary>
/// Devices that appear on (and disappear from) a running node-opcua server, found without restarting the edge: by the
/// periodic re-browse, and at once by the server's GeneralModelChangeEvent. Its own server, as machines come and go.
/// </summary>
public sealed class OpcUaRediscoveryTests(MachinesOpcUaServer server) : IClassFixture<MachinesOpcUaServer>
{
    private static bool Running(IReadOnlyList<object> events, string device) =>
        events.OfType<EdgeSample>().Any(s => s.Device == device && s.Signal == CanonicalSignals.State && SignalQuality.IsGood(s.Status) && s.Value.AsInteger == (long)MachineState.Run);

    private OpcUaSource Source(TempDirectory data, string late, TimeSpan rediscovery) => new(
        new OpcUaSourceOptions
        {
            Endpoint = server.EndpointUrl,
            PublishingInterval = TimeSpan.FromMilliseconds(100),
            RediscoveryInterval = rediscovery,
            Devices = { new OpcUaDeviceOptions { Id = "Mill1" }, new OpcUaDeviceOptions { Id = late } },
        },
        data.Path);

    [Fact]
    public async Task A_machine_added_later_is_found_by_the_periodic_browse_and_a_removed_one_goes_down_with_a_reason()
    {
        using var data = new TempDirectory("edge-opcua-rediscovery");
        await using OpcUaSource source = Source(data, "Lathe2", TimeSpan.FromSeconds(1));
        var sink = new RecordingSink();
        using var stop = new CancellationTokenSource();
        Task run = source.RunAsync(sink, stop.Token);
        try
        {
            await sink.WaitAsync("Mill1 running and Lathe2 reported missing", e => Running(e, "Mill1") && e.OfType<ConnectionEvent>().Any(c => c.Device == "Lathe2" && !c.Up));
            // Quiet: no model change event, so only the periodic browse can find it.
            await server.CommandAsync("add-machine Lathe2 quiet");
            await sink.WaitAsync("Lathe2 up, with its nameplate and state", e =>
                e.Contains(new ConnectionEvent("Lathe2", true, null)) && e.OfType<IdentityEvent>().Any(i => i.Device == "Lathe2") && Running(e, "Lathe2"));
            Assert.Contains(sink.Events, e => e is ItemStatusEvent { Device: "Lathe2", Item: OpcUaSource.DeviceItemName } i && SignalQuality.IsGood(i.Status));
            Assert.Equal(OpcUaDeviceProfile.Machinery, source.Plans!.Single(p => p.Id == "Lathe2").Profile);
            Assert.Equal("Lathe2-SN", sink.Events.OfType<IdentityEvent>().First(i => i.Device == "Lathe2").Identity.SerialNumber);

            int mark = sink.Events.Count;
            await server.CommandAsync("remove-machine Lathe2");
            await sink.WaitAsync("Lathe2 down", e => e.Skip(mark).OfType<ConnectionEvent>().Any(c => c.Device == "Lathe2" && !c.Up));
            ConnectionEvent down = sink.Events.Skip(mark).OfType<ConnectionEvent>().First(c => c.Device == "Lathe2" && !c.Up);
            Assert.Contains("no longer on the server", down.Reason, StringComparison.Ordinal);
            Assert.Equal(2, source.DeviceSetChanges);
            // Mill1 streams on after the change.
            int after = sink.Events.Count;
            await sink.WaitAsync("Mill1 still streaming", e => e.Skip(after).OfType<EdgeSample>().Any(s => s.Device == "Mill1"));
            Assert.DoesNotContain(sink.Events.OfType<ConnectionEvent>(), c => c.Device == "Mill1" && !c.Up);
        }
        finally
        {
            await stop.CancelAsync();
            await run;
        }
    }

    [Fact]
    public async Task A_model_change_event_finds_a_new_machine_without_waiting_for_the_interval()
    {
        using var data = new TempDirectory("edge-opcua-rediscovery");
        // An hour: only the server's GeneralModelChangeEvent can make this test pass within its deadline.
        await using OpcUaSource source = Source(data, "Lathe3", TimeSpan.FromHours(1));
        var sink = new RecordingSink();
        using var stop = new CancellationTokenSource();
        Task run = source.RunAsync(sink, stop.Token);
        try
        {
            await sink.WaitAsync("Mill1 running", e => Running(e, "Mill1"));
            await server.CommandAsync("add-machine Lathe3");
            await sink.WaitAsync("Lathe3 up and running", e => e.Contains(new ConnectionEvent("Lathe3", true, null)) && Running(e, "Lathe3"));
        }
        finally
        {
            await server.CommandAsync("remove-machine Lathe3");
            await stop.CancelAsync();
            await run;
        }
    }
}

/// <summary>The rediscovery option and the device id the model-change subscription reserves are validated.</summary>
public sealed class OpcUaRediscoveryOptionsTests
{
    [Theory]
    [InlineData(0.5, true)]
    [InlineData(1, false)]
    [InlineData(86_400, false)]
    [InlineData(86_401, true)]
    public void Rediscovery_interval_is_between_one_second_and_a_day(double seconds, bool refused)
    {
        var options = new OpcUaSourceOptions
        {
            Endpoint = "opc.tcp://127.0.0.1:4840",
            RediscoveryInterval = TimeSpan.FromSeconds(seconds),
            Devices = { new OpcUaDeviceOptions { Id = "Mill1" } },
        };
        using var data = new TempDirectory("edge-opcua-options");
        Exception? error = Record.Exception(() => new OpcUaSource(options, data.Path));
        Assert.Equal(refused, error is EdgeConfigurationException e && e.Message.Contains("RediscoveryInterval", StringComparison.Ordinal));
        Assert.Equal(TimeSpan.FromSeconds(60), new OpcUaSourceOptions().RediscoveryInterval);
    }

    [Fact]
    public void The_model_change_subscription_name_is_no_device_id()
    {
        var options = new OpcUaSourceOptions { Endpoint = "opc.tcp://127.0.0.1:4840", Devices = { new OpcUaDeviceOptions { Id = "(model changes)" } } };
        using var data = new TempDirectory("edge-opcua-options");
        var e = Assert.Throws<EdgeConfigurationException>(() => new OpcUaSource(options, data.Path));
        Assert.Contains("model-change subscription", e.Message, StringComparison.Ordinal);
    }
}
