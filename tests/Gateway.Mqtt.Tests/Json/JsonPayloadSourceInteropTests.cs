using FactoryGateway.Mqtt.Client;
using FactoryGateway.Mqtt.Json;
using FactoryGateway.Testing;

namespace FactoryGateway.Mqtt.Tests.Json;

/// <summary>Our JSON source against npm <c>mqtt</c> (MQTT.js) as a third-party publisher, through a real mosquitto.</summary>
public sealed class JsonPayloadSourceInteropTests(MosquittoServer broker) : IClassFixture<MosquittoServer>
{
    private static readonly TimeSpan s_deadline = TimeSpan.FromSeconds(30);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Published_json_maps_to_the_exact_samples_and_malformed_payloads_are_counted_without_stopping_the_source()
    {
        string prefix = $"plant{Guid.NewGuid():N}";
        await using var source = new JsonPayloadSource(new JsonPayloadSourceOptions
        {
            Mqtt = new MqttClientOptions { Host = MosquittoServer.Host, Port = broker.Port, ClientId = $"fgw-json-{Guid.NewGuid():N}" },
            Mappings =
            [
                new JsonPayloadMapping
                {
                    TopicPattern = prefix + "/{device}/telemetry",
                    Signals = new Dictionary<string, string> { ["temperature"] = "data.temp", ["speed"] = "data.rpm" },
                    TimestampPath = "ts",
                    QualityPath = "q",
                },
                new JsonPayloadMapping
                {
                    TopicPattern = prefix + "/{device}/bulk",
                    AllNumericMembersOf = "values",
                    TimestampPath = "time",
                    TimestampFormat = JsonTimestampFormat.Iso8601,
                },
            ],
        });
        await source.StartAsync(Ct);

        (string Topic, string Payload)[] messages =
        [
            ($"{prefix}/press1/telemetry", """{"ts":1700000000123,"q":"good","data":{"temp":21.5,"rpm":1450}}"""),
            ($"{prefix}/press1/telemetry", """{"ts":1700000000124,"data":{"temp":"""),
            ($"{prefix}/press2/telemetry", """{"ts":"yesterday","data":{"temp":1}}"""),
            ($"{prefix}/press2/telemetry", """{"data":{"temp":"hot"}}"""),
            ($"{prefix}/oven/bulk", """{"time":"2023-11-14T22:13:20.5Z","values":{"zone1":180.5,"label":"x","zone2":181}}"""),
            ($"{prefix}/press1/telemetry", """{"ts":1700000000125,"q":"bad","data":{"temp":22}}"""),
        ];
        await PublishWithMqttJsAsync(messages);

        List<JsonSample> samples = await TakeAsync(source, 5);
        Assert.Equal(
            [
                ("press1", "temperature", 21.5, 1_700_000_000_123_000_000L, JsonSampleQuality.Good),
                ("press1", "speed", 1450.0, 1_700_000_000_123_000_000L, JsonSampleQuality.Good),
                ("oven", "zone1", 180.5, 1_700_000_000_500_000_000L, JsonSampleQuality.Good),
                ("oven", "zone2", 181.0, 1_700_000_000_500_000_000L, JsonSampleQuality.Good),
                ("press1", "temperature", 22.0, 1_700_000_000_125_000_000L, JsonSampleQuality.Bad),
            ],
            samples.Select(s => (s.DeviceId, s.Signal, s.Value, s.TimestampUnixNanoseconds, s.Quality)));

        // The last message was handled after the three malformed ones: the counters are final.
        JsonPayloadSourceStats stats = source.GetStats();
        Assert.Equal((6L, 3L, 3L, 5L), (stats.MessagesReceived, stats.MessagesMapped, stats.MessagesMalformed, stats.SamplesQueued));
        Assert.Equal(
            new Dictionary<JsonMappingError, long> { [JsonMappingError.InvalidJson] = 1, [JsonMappingError.TimestampInvalid] = 1, [JsonMappingError.SignalNotNumeric] = 1 },
            stats.MalformedByReason);
        Assert.Equal(0L, source.Client!.GetStats().HandlerFailures);
    }

    private Task PublishWithMqttJsAsync((string Topic, string Payload)[] messages) => MqttJsPublisher.PublishAsync(broker.Port, messages, Ct);

    private static async Task<List<JsonSample>> TakeAsync(JsonPayloadSource source, int count)
    {
        var samples = new List<JsonSample>();
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        deadline.CancelAfter(s_deadline);
        try
        {
            while (samples.Count < count)
            {
                samples.Add(await source.Samples.ReadAsync(deadline.Token));
            }
        }
        catch (OperationCanceledException) when (!Ct.IsCancellationRequested)
        {
            throw new TimeoutException($"{samples.Count} of {count} samples within {s_deadline.TotalSeconds} s; {source.GetStats()}");
        }

        return samples;
    }
}
