using FactoryGateway.Edge.Config;
using FactoryGateway.Edge.Signals;
using FactoryGateway.Edge.Sources.Mqtt;
using FactoryGateway.Testing;

namespace FactoryGateway.Edge.Tests.Mqtt;

/// <summary>The MQTT source's Sparkplug B side against npm <c>sparkplug-client</c> as the edge node, through a real mosquitto.</summary>
public sealed class MqttSourceSparkplugTests(MosquittoServer broker) : IClassFixture<MosquittoServer>
{
    private const long T0 = 1_700_000_000_000; // sparkplug-press.mjs, milliseconds
    private const long Ms = 1_000_000;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Births_bring_devices_up_with_their_nameplate_data_arrives_by_alias_and_deaths_take_them_down()
    {
        string group = $"g{Guid.NewGuid():N}";
        var options = new MqttSourceOptions
        {
            Host = MosquittoServer.Host,
            Port = broker.Port,
            Sparkplug = new MqttSparkplugOptions
            {
                Enabled = true,
                GroupIds = { group },
                Devices =
                {
                    new MqttSparkplugDeviceOptions { EdgeNode = "node1", Device = "press", Id = "press-7" },
                    new MqttSparkplugDeviceOptions { EdgeNode = "node1", Id = "node-1" },
                },
                MetricNames = { ["Counter"] = CanonicalSignals.PartsTotal, ["Spindle"] = "spindle_speed" },
            },
        };
        await using MqttSourceRun run = await MqttSourceRun.StartAsync(options, broker, Ct);
        RecordingSink sink = run.Sink;
        await using var node = SparkplugNodePeer.StartPress(broker.Port, group, "node1");
        await node.WaitForBirthAsync(1, Ct);

        await sink.WaitForConnectionAsync("node-1", up: true, Ct);
        await sink.WaitForConnectionAsync("press-7", up: true, Ct);
        await sink.WaitAsync("the press's identity", events => events.OfType<IdentityEvent>().Any(), Ct);
        Assert.Equal(
            new DeviceIdentity { Manufacturer = "Acme Presses", Model = "HP-400", SerialNumber = "SN-0042" },
            Assert.Single(sink.Events.OfType<IdentityEvent>(), e => e.Device == "press-7").Identity);
        Assert.Empty(sink.Samples); // a birth certificate is not an observation

        await node.RunAsync("ddata", Ct);
        await node.RunAsync("ddata", Ct);
        await node.RunAsync("ddata-bad", Ct);
        await node.RunAsync("ndata", Ct);
        await sink.WaitForSamplesAsync("node-1", 1, Ct);
        Assert.Equal(
            [
                new EdgeSample("press-7", CanonicalSignals.PartsTotal, SignalValue.Integer(101), SignalQuality.Good, (T0 + 1000) * Ms),
                new EdgeSample("press-7", "spindle_speed", SignalValue.Float(1001.5), SignalQuality.Good, (T0 + 1000) * Ms),
                new EdgeSample("press-7", CanonicalSignals.PartsTotal, SignalValue.Integer(102), SignalQuality.Good, (T0 + 2000) * Ms),
                new EdgeSample("press-7", "spindle_speed", SignalValue.Float(1002.5), SignalQuality.Good, (T0 + 2000) * Ms),
                new EdgeSample("press-7", "spindle_speed", SignalValue.Float(7.5), SignalQuality.Bad, (T0 + 60_000) * Ms),
                new EdgeSample("press-7", CanonicalSignals.PartsTotal, SignalValue.Integer(0), SignalQuality.Bad, (T0 + 60_000) * Ms),
                new EdgeSample("node-1", "Temperature", SignalValue.Float(21.25), SignalQuality.Good, (T0 + 70_000) * Ms),
            ],
            sink.Samples);

        await node.RunAsync("ddeath", Ct);
        Assert.Equal("DDEATH", (await sink.WaitForConnectionAsync("press-7", up: false, Ct)).Reason);
        int afterDeath = sink.Events.Count;
        await node.RunAsync("dbirth", Ct);
        await sink.WaitForConnectionAsync("press-7", up: true, Ct, afterDeath);

        // The node's process dies: the broker publishes its will, the NDEATH.
        int beforeKill = sink.Events.Count;
        await node.Process.KillAsync();
        ConnectionEvent nodeDown = await sink.WaitForConnectionAsync("node-1", up: false, Ct, beforeKill);
        Assert.StartsWith("NDEATH", nodeDown.Reason, StringComparison.Ordinal);
        await sink.WaitForConnectionAsync("press-7", up: false, Ct, beforeKill);

        MqttSourceStats stats = run.Source.GetStats();
        Assert.Equal((7L, 0L, 0L), (stats.SamplesAccepted, stats.SparkplugMalformed, stats.SparkplugUnmapped));
        Assert.Equal(["press-7", "node-1"], run.Source.Devices);
    }

    [Fact]
    public async Task A_broker_restart_takes_the_sparkplug_devices_down_and_the_next_birth_brings_them_back_with_data()
    {
        await using var own = new MosquittoServer();
        await own.InitializeAsync();
        string group = $"g{Guid.NewGuid():N}";
        var options = new MqttSourceOptions
        {
            Host = MosquittoServer.Host,
            Port = own.Port,
            Sparkplug = new MqttSparkplugOptions
            {
                Enabled = true,
                Devices = { new MqttSparkplugDeviceOptions { EdgeNode = "node1", Device = "press", Id = "press-7" } },
                MetricNames = { ["Counter"] = CanonicalSignals.PartsTotal },
            },
        };
        await using MqttSourceRun run = await MqttSourceRun.StartAsync(options, own, Ct);
        RecordingSink sink = run.Sink;
        await using var node = SparkplugNodePeer.StartPress(own.Port, group, "node1");
        await sink.WaitForConnectionAsync("press-7", up: true, Ct);
        await node.RunAsync("ddata", Ct);
        await sink.WaitForSamplesAsync("press-7", 2, Ct);

        // Stopping, mosquitto may hand the edge node's will (its NDEATH) to the host before it closes the host's
        // own connection: either takes the device down first.
        await own.StopAsync();
        ConnectionEvent down = await sink.WaitForConnectionAsync("press-7", up: false, Ct);
        Assert.True(down.Reason is "broker connection lost" or "DDEATH implied: edge node dead", down.Reason);
        int afterDown = sink.Events.Count;
        await own.StartAsync();

        // The edge node births again on its reconnect (or on the rebirth the host asks for, if the birth came
        // before the host was back): the device is up again, and its data flows.
        await sink.WaitForConnectionAsync("press-7", up: true, Ct, afterDown);
        await node.RunAsync("ddata", Ct);
        IReadOnlyList<EdgeSample> samples = await sink.WaitForSamplesAsync("press-7", 4, Ct);
        Assert.Equal(new EdgeSample("press-7", CanonicalSignals.PartsTotal, SignalValue.Integer(102), SignalQuality.Good, (T0 + 2000) * Ms), samples[2]);
    }
}
