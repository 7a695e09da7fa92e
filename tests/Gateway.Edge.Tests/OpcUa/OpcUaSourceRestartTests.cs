using FactoryGateway.Edge.Config;
using FactoryGateway.Edge.Signals;
using FactoryGateway.Edge.Sources.OpcUa;
using FactoryGateway.Testing;
using static FactoryGateway.Edge.Tests.OpcUa.RecordingSink;

namespace FactoryGateway.Edge.Tests.OpcUa;

/// <summary>The OPC UA source when its server dies and comes back (on the same port, with another nameplate).</summary>
public sealed class OpcUaSourceRestartTests
{
    [Fact]
    public async Task A_killed_and_restarted_server_shows_as_connection_down_then_up_with_the_new_nameplate_and_data_resumes()
    {
        await using var server = new MachinesOpcUaServer();
        await server.InitializeAsync();
        using var data = new TempDirectory("edge-opcua");
        var options = new OpcUaSourceOptions
        {
            Endpoint = server.EndpointUrl,
            PublishingInterval = TimeSpan.FromMilliseconds(100),
            Devices = { new OpcUaDeviceOptions { Id = "Mill1", Profile = "machine-tool" } },
        };
        await using var source = new OpcUaSource(options, data.Path) { InitialRetryDelay = TimeSpan.FromMilliseconds(200), MaxRetryDelay = TimeSpan.FromSeconds(1) };
        var sink = new RecordingSink();
        using var stop = new CancellationTokenSource();
        Task run = source.RunAsync(sink, stop.Token);

        await sink.WaitAsync("the first state", e => e.OfType<EdgeSample>().Any(s => s.Signal == CanonicalSignals.State));
        await server.KillAsync();
        await sink.WaitAsync("the connection going down", e => e.OfType<ConnectionEvent>().Any(c => !c.Up));
        int downAt = sink.Events.Count;
        server.ExtraArguments = ["--serial", "MT-0002"];
        await server.StartAsync();
        await sink.WaitAsync("the connection up again, the new nameplate and a state after it", e =>
        {
            var after = e.Skip(downAt).ToList();
            int up = after.FindIndex(x => x is ConnectionEvent { Up: true });
            return up >= 0 && after.Skip(up).OfType<IdentityEvent>().Any(i => i.Identity.SerialNumber == "MT-0002")
                && after.Skip(up).OfType<EdgeSample>().Any(s => s.Signal == CanonicalSignals.State);
        });
        await stop.CancelAsync();
        await run;

        List<ConnectionEvent> connections = sink.Events.OfType<ConnectionEvent>().ToList();
        Assert.Equal([true, false, true], connections.Select(c => c.Up));
        Assert.False(string.IsNullOrEmpty(connections[1].Reason));
        Assert.Equal(["MT-0001", "MT-0002"], sink.Events.OfType<IdentityEvent>().Select(i => i.Identity.SerialNumber).Distinct());
    }
}
