using FactoryGateway.Edge.Buffer;
using FactoryGateway.Edge.Config;
using FactoryGateway.Edge.Health;
using FactoryGateway.Edge.Signals;
using FactoryGateway.Edge.Sources;
using FactoryGateway.Edge.Sources.Mqtt;
using FactoryGateway.Mqtt.Client;
using FactoryGateway.Mqtt.Json;
using FactoryGateway.Testing;

namespace FactoryGateway.Edge.Tests.Mqtt;

/// <summary>The MQTT source's JSON side against npm <c>mqtt</c> (MQTT.js) as a third-party publisher, through a real mosquitto.</summary>
public sealed class MqttSourceJsonTests(MosquittoServer broker) : IClassFixture<MosquittoServer>
{
    private const long Ms = 1_000_000; // nanoseconds
    private static readonly TimeSpan s_deadline = TimeSpan.FromSeconds(30);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Json_from_mqtt_js_becomes_samples_with_the_devices_timestamps_and_a_malformed_payload_is_counted_without_stopping_the_source()
    {
        string prefix = $"plant{Guid.NewGuid():N}";
        MqttSourceOptions options = Options(prefix);
        await using MqttSourceRun run = await MqttSourceRun.StartAsync(options, broker, Ct);

        await PublishWithMqttJsAsync(
        [
            ($"{prefix}/press1/telemetry", """{"ts":1700000000123,"q":"good","count":41,"data":{"temp":21.5}}"""),
            ($"{prefix}/press1/telemetry", """{"ts":1700000000124,"count":"""),
            ($"{prefix}/press2/telemetry", """{"ts":1700000000200,"q":"uncertain","count":7}"""),
            ($"{prefix}/oven/iso", """{"time":"2023-11-14T22:13:20.5Z","t":180.5}"""),
            ($"{prefix}/line3/current", """{"ts":1700000001000,"amps":0.2}"""),
            ($"{prefix}/line3/current", """{"ts":1700000002000,"amps":2}"""),
            ($"{prefix}/line3/current", """{"ts":1700000003000,"amps":12.5}"""),
            ($"{prefix}/press1/telemetry", """{"ts":1700000000300,"count":42,"q":"bad"}"""),
        ]);

        await run.Sink.WaitForSamplesAsync("press1", 3, Ct);
        Assert.Equal(
            [
                new EdgeSample("press1", CanonicalSignals.PartsTotal, SignalValue.Integer(41), SignalQuality.Good, 1_700_000_000_123 * Ms),
                new EdgeSample("press1", "temperature", SignalValue.Float(21.5), SignalQuality.Good, 1_700_000_000_123 * Ms),
                new EdgeSample("press2", CanonicalSignals.PartsTotal, SignalValue.Integer(7), SignalQuality.Uncertain, 1_700_000_000_200 * Ms),
                new EdgeSample("oven", "temperature", SignalValue.Float(180.5), SignalQuality.Good, 1_700_000_000_500 * Ms),
                new EdgeSample("lathe-3", "current", SignalValue.Float(0.2), SignalQuality.Good, 1_700_000_001_000 * Ms),
                new EdgeSample("lathe-3", CanonicalSignals.State, SignalValue.Integer((long)MachineState.Off), SignalQuality.Good, 1_700_000_001_000 * Ms),
                new EdgeSample("lathe-3", "current", SignalValue.Float(2), SignalQuality.Good, 1_700_000_002_000 * Ms),
                new EdgeSample("lathe-3", CanonicalSignals.State, SignalValue.Integer((long)MachineState.Idle), SignalQuality.Good, 1_700_000_002_000 * Ms),
                new EdgeSample("lathe-3", "current", SignalValue.Float(12.5), SignalQuality.Good, 1_700_000_003_000 * Ms),
                new EdgeSample("lathe-3", CanonicalSignals.State, SignalValue.Integer((long)MachineState.Run), SignalQuality.Good, 1_700_000_003_000 * Ms),
                new EdgeSample("press1", CanonicalSignals.PartsTotal, SignalValue.Integer(42), SignalQuality.Bad, 1_700_000_000_300 * Ms),
            ],
            run.Sink.Samples);

        // Each device came up before its first sample; nothing went down while the broker was there.
        IReadOnlyList<SinkEvent> events = run.Sink.Events;
        foreach (string device in new[] { "press1", "press2", "oven", "lathe-3" })
        {
            int up = events.ToList().FindIndex(e => e is ConnectionEvent { Up: true } c && c.Device == device);
            int first = events.ToList().FindIndex(e => e is SampleEvent s && s.Device == device);
            Assert.InRange(up, 0, first - 1);
        }

        Assert.DoesNotContain(events, e => e is ConnectionEvent { Up: false });
        MqttSourceStats stats = run.Source.GetStats();
        Assert.Equal((8L, 1L, 0L, 11L), (stats.JsonMessages, stats.JsonMalformed, stats.JsonUnmatched, stats.SamplesAccepted));
        Assert.Equal(["lathe-3"], run.Source.Devices);
    }

    [Fact]
    public async Task A_program_name_from_mqtt_js_is_a_string_field_sent_when_it_changes_and_a_field_that_does_not_convert_is_a_bad_item_until_it_does()
    {
        const long T = 1_700_000_000_000; // ms
        const string Line = "telemetry,dev=cnc-1,edge=edge-1,ent=91330402MA2B3C4D53";
        string prefix = $"plant{Guid.NewGuid():N}";
        var options = new MqttSourceOptions
        {
            Host = MosquittoServer.Host,
            Port = broker.Port,
            Json =
            {
                new MqttJsonMappingOptions
                {
                    Topic = prefix + "/{device}/telemetry",
                    Signals = { ["program"] = "program", ["recipe"] = "recipe", ["spindle_speed"] = "spindle.rpm", ["count"] = "count" },
                    SignalNames = { ["count"] = CanonicalSignals.PartsTotal },
                    StringSignals = { "recipe" },
                    TimestampPath = "ts",
                },
            },
            Devices = { new MqttDeviceOptions { Id = "cnc-1" } },
        };
        using var directory = new TempDirectory("mqtt-json-program");
        await using EdgeBuffer buffer = EdgeBuffer.Open(directory.Path, new BufferOptions { FlushInterval = TimeSpan.FromMinutes(1), SegmentBytes = 1024 * 1024, MaxBytes = 8 * 1024 * 1024 }, 1_000);
        using var normaliser = new Normaliser("edge-1", "91330402MA2B3C4D53", [("cnc-1", "mqtt")], buffer, TimeSpan.FromHours(1));
        var sink = new RecordingSink { Inner = normaliser };
        await using MqttSourceRun run = await MqttSourceRun.StartAsync(options, broker, Ct, sink);
        string topic = $"{prefix}/cnc-1/telemetry";

        string first = $$$"""{"ts":{{{T + 1}}},"program":"O1234","recipe":"steel-A","spindle":{"rpm":1200.5},"count":5}""";
        await PublishWithMqttJsAsync(
        [
            (topic, first),
            (topic, first), // the same message again (a device re-sending after its reconnect): stale
            (topic, $$$"""{"ts":{{{T + 2}}},"program":"O5678","count":6}"""),
            (topic, $$$"""{"ts":{{{T + 3}}},"program":1234}"""), // a program number is the name "1234"
            (topic, $$$"""{"ts":{{{T + 4}}},"program":null,"recipe":["a"],"spindle":{"rpm":{"v":1}},"count":7}"""),
        ]);
        await sink.WaitAsync("parts_total 7", events => events.OfType<SampleEvent>().Any(e => e.Sample.Value == SignalValue.Integer(7)), Ct);

        DeviceHealth health = Assert.Single(normaliser.GetHealth());
        Assert.Equal(4, health.Stale);
        Assert.Equal(
            [
                ("program", SignalQuality.Bad, "signal 'program' at program is null"),
                ("recipe", SignalQuality.BadTypeMismatch, "signal 'recipe' at recipe is an array, not text"),
                ("spindle_speed", SignalQuality.BadTypeMismatch, "signal 'spindle_speed' at spindle.rpm is an object, not a number"),
            ],
            health.BadItems.Select(b => (b.Item, b.Status, b.Reason)));

        await PublishWithMqttJsAsync(
        [
            (topic, $$$"""{"ts":{{{T + 5}}},"program":"O9","recipe":"steel-B","spindle":{"rpm":"abc"}}"""),
            (topic, $$$"""{"ts":{{{T + 6}}},"spindle":{"rpm":1300.5}}"""),
        ]);
        await sink.WaitAsync("spindle_speed Good again", events => events.OfType<ItemStatusEvent>().Any(e => e.Item == "spindle_speed" && e.Status == SignalQuality.Good), Ct);

        Assert.Equal(
            [
                $"{Line} program=\"O1234\" {(T + 1) * Ms}",
                $"{Line} recipe=\"steel-A\" {(T + 1) * Ms}",
                $"{Line} spindle_speed=1200.5 {(T + 1) * Ms}",
                $"{Line} parts_total=5i {(T + 1) * Ms}",
                $"{Line} program=\"O5678\" {(T + 2) * Ms}",
                $"{Line} parts_total=6i {(T + 2) * Ms}",
                $"{Line} program=\"1234\" {(T + 3) * Ms}",
                $"{Line} parts_total=7i {(T + 4) * Ms}",
                $"{Line} program=\"O9\" {(T + 5) * Ms}",
                $"{Line} recipe=\"steel-B\" {(T + 5) * Ms}",
                $"{Line} spindle_speed=1300.5 {(T + 6) * Ms}",
            ],
            (await LinesAsync(buffer)).Where(l => l.StartsWith("telemetry", StringComparison.Ordinal)));

        // Each bad item was reported once with its reason (again when the reason changed), and Good once it converted.
        Assert.Equal(
            [
                new ItemStatusEvent("cnc-1", "program", SignalQuality.Bad, "signal 'program' at program is null"),
                new ItemStatusEvent("cnc-1", "recipe", SignalQuality.BadTypeMismatch, "signal 'recipe' at recipe is an array, not text"),
                new ItemStatusEvent("cnc-1", "spindle_speed", SignalQuality.BadTypeMismatch, "signal 'spindle_speed' at spindle.rpm is an object, not a number"),
                new ItemStatusEvent("cnc-1", "spindle_speed", SignalQuality.BadTypeMismatch, "signal 'spindle_speed' at spindle.rpm is the string \"abc\", not a number"),
                new ItemStatusEvent("cnc-1", "program", SignalQuality.Good, null),
                new ItemStatusEvent("cnc-1", "recipe", SignalQuality.Good, null),
                new ItemStatusEvent("cnc-1", "spindle_speed", SignalQuality.Good, null),
            ],
            sink.Events.OfType<ItemStatusEvent>());
        Assert.Empty(Assert.Single(normaliser.GetHealth()).BadItems);
        MqttSourceStats stats = run.Source.GetStats();
        Assert.Equal((7L, 0L, 4L, 4L), (stats.JsonMessages, stats.JsonMalformed, stats.JsonFieldProblems, stats.SamplesStale));
    }

    [Fact]
    public async Task A_json_device_goes_down_after_the_silence_timeout_and_up_when_it_publishes_again()
    {
        string prefix = $"plant{Guid.NewGuid():N}";
        MqttSourceOptions options = Options(prefix);
        options.SilenceTimeout = TimeSpan.FromMilliseconds(800);
        await using MqttSourceRun run = await MqttSourceRun.StartAsync(options, broker, Ct);
        await using MqttClient publisher = await StartPublisherAsync(broker.Port);

        await PublishAsync(publisher, $"{prefix}/press9/telemetry", """{"ts":1700000000000,"count":1}""");
        await run.Sink.WaitForConnectionAsync("press9", up: true, Ct);
        ConnectionEvent down = await run.Sink.WaitForConnectionAsync("press9", up: false, Ct);
        Assert.Equal("no message for 0.8 s", down.Reason);

        int after = run.Sink.Events.Count;
        await PublishAsync(publisher, $"{prefix}/press9/telemetry", """{"ts":1700000001000,"count":2}""");
        await run.Sink.WaitForConnectionAsync("press9", up: true, Ct, after);
        await run.Sink.WaitForSamplesAsync("press9", 2, Ct);
    }

    [Fact]
    public async Task Samples_the_sink_refuses_as_buffer_full_are_counted()
    {
        string prefix = $"plant{Guid.NewGuid():N}";
        var sink = new RecordingSink { Acceptance = SampleAcceptance.BufferFull };
        await using MqttSourceRun run = await MqttSourceRun.StartAsync(Options(prefix), broker, Ct, sink);
        await using MqttClient publisher = await StartPublisherAsync(broker.Port);

        for (int i = 0; i < 3; i++)
        {
            await PublishAsync(publisher, $"{prefix}/press1/telemetry", $$$"""{"ts":{{{1_700_000_000_000 + i}}},"count":{{{i}}},"data":{"temp":20}}""");
        }

        await sink.WaitForSamplesAsync("press1", 6, Ct);
        Assert.Equal((6L, 0L), (run.Source.GetStats().SamplesBufferFull, run.Source.GetStats().SamplesAccepted));
    }

    [Fact]
    public async Task A_broker_restart_takes_the_devices_down_then_data_resumes_with_no_qos1_message_lost()
    {
        await using var own = new MosquittoServer();
        await own.InitializeAsync();
        string prefix = $"plant{Guid.NewGuid():N}";
        var options = new MqttSourceOptions
        {
            Host = MosquittoServer.Host,
            Port = own.Port,
            Json = { new MqttJsonMappingOptions { Topic = prefix + "/{device}/seq", Signals = { ["n"] = "n" }, TimestampPath = "ts" } },
        };
        await using MqttSourceRun run = await MqttSourceRun.StartAsync(options, own, Ct);
        await using MqttClient publisher = await StartPublisherAsync(own.Port);

        for (int n = 1; n <= 5; n++)
        {
            await PublishAsync(publisher, $"{prefix}/m1/seq", $$"""{"ts":{{1_700_000_000_000 + n}},"n":{{n}}}""");
        }

        await run.Sink.WaitForSamplesAsync("m1", 5, Ct);
        await run.Sink.WaitForConnectionAsync("m1", up: true, Ct);

        await own.StopAsync();
        ConnectionEvent down = await run.Sink.WaitForConnectionAsync("m1", up: false, Ct);
        Assert.Equal("broker connection lost", down.Reason);
        int afterDown = run.Sink.Events.Count;

        // Published while the broker is away: the publisher sends them once it is back, whether or not the
        // source has reconnected yet — the persistent session keeps them for it.
        Task publishing = Task.Run(
            async () =>
            {
                for (int n = 6; n <= 10; n++)
                {
                    await PublishAsync(publisher, $"{prefix}/m1/seq", $$"""{"ts":{{1_700_000_000_000 + n}},"n":{{n}}}""");
                }
            },
            Ct);
        await own.StartAsync();
        await publishing.WaitAsync(s_deadline, Ct);

        await run.Sink.WaitAsync("n = 1..10", events => Values(events).Distinct().Count() == 10, Ct);
        await run.Sink.WaitForConnectionAsync("m1", up: true, Ct, afterDown);
        // Every message, first seen in publishing order; QoS 1 allows the broker to redeliver some after its restart.
        Assert.Equal(Enumerable.Range(1, 10).Select(n => (double)n), Values(run.Sink.Events).Distinct());
        Assert.True(run.Source.GetStats().ConnectionLosses >= 1);

        static List<double> Values(IReadOnlyList<SinkEvent> events) => [.. events.OfType<SampleEvent>().Select(e => e.Sample.Value.AsFloat)];
    }

    [Fact]
    public async Task A_qos1_message_is_acknowledged_only_after_the_sink_returned_so_one_it_held_when_the_broker_went_away_is_delivered_again()
    {
        await using var own = new MosquittoServer();
        await own.InitializeAsync();
        string prefix = $"plant{Guid.NewGuid():N}";
        var options = new MqttSourceOptions
        {
            Host = MosquittoServer.Host,
            Port = own.Port,
            Json = { new MqttJsonMappingOptions { Topic = prefix + "/{device}/seq", Signals = { ["n"] = "n" }, TimestampPath = "ts" } },
            KeepAlive = TimeSpan.FromSeconds(60),
        };
        using var gate = new ManualResetEventSlim(false);
        var sink = new RecordingSink { Gate = gate };
        await using MqttSourceRun run = await MqttSourceRun.StartAsync(options, own, Ct, sink);
        await using (MqttClient publisher = await StartPublisherAsync(own.Port))
        {
            await PublishAsync(publisher, $"{prefix}/m1/seq", """{"ts":1700000000001,"n":1}""");
        }

        // The sink holds the sample (a full buffer under the Block policy): the broker has no PUBACK for it.
        await sink.WaitForSamplesAsync("m1", 1, Ct);
        await own.StopAsync();
        sink.Gate = null;
        gate.Set();
        await sink.WaitForConnectionAsync("m1", up: false, Ct);
        await own.StartAsync();

        // The broker resends it right after its CONNACK, often in the same TCP segment: it must be handled then,
        // not when the next packet (a PINGRESP, half a keep-alive later) arrives.
        await sink.WaitAsync("m1's sample again", events => events.OfType<SampleEvent>().Count() == 2, Ct, deadline: TimeSpan.FromSeconds(20));
        IReadOnlyList<EdgeSample> samples = sink.Samples;
        Assert.Equal(samples[0], samples[1]);
    }

    private MqttSourceOptions Options(string prefix) => new()
    {
        Host = MosquittoServer.Host,
        Port = broker.Port,
        Json =
        {
            new MqttJsonMappingOptions
            {
                Topic = prefix + "/{device}/telemetry",
                Signals = { ["count"] = "count", ["temperature"] = "data.temp" },
                SignalNames = { ["count"] = CanonicalSignals.PartsTotal },
                TimestampPath = "ts",
                QualityPath = "q",
            },
            new MqttJsonMappingOptions
            {
                Topic = prefix + "/{device}/iso",
                Signals = { ["temperature"] = "t" },
                TimestampPath = "time",
                TimestampFormat = JsonTimestampFormat.Iso8601,
            },
            new MqttJsonMappingOptions { Topic = prefix + "/line3/current", DeviceId = "lathe-3", Signals = { ["current"] = "amps" }, TimestampPath = "ts" },
        },
        Devices = { new MqttDeviceOptions { Id = "lathe-3", CurrentSensor = new CurrentSensorOptions { IdleThreshold = 1, RunThreshold = 5 } } },
    };

    private static async Task<MqttClient> StartPublisherAsync(int port)
    {
        var publisher = new MqttClient(new MqttClientOptions
        {
            Host = MosquittoServer.Host,
            Port = port,
            ClientId = $"publisher-{Guid.NewGuid():N}",
            CleanStart = false,
            SessionExpiryInterval = 600,
            ReconnectMaxDelay = TimeSpan.FromMilliseconds(500),
        });
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        deadline.CancelAfter(s_deadline);
        await publisher.StartAsync(deadline.Token);
        return publisher;
    }

    private static Task PublishAsync(MqttClient publisher, string topic, string payload) => TestPublishing.PublishAsync(publisher, topic, payload, Ct);

    private static Task<List<string>> LinesAsync(EdgeBuffer buffer) => Core.BufferedLines.ReadAsync(buffer, Ct);

    private Task PublishWithMqttJsAsync((string Topic, string Payload)[] messages) => MqttJsPublisher.PublishAsync(broker.Port, messages, Ct);
}
