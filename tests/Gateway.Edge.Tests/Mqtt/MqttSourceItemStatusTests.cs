using System.Text.Json;
using FactoryGateway.Edge.Config;
using FactoryGateway.Edge.Health;
using FactoryGateway.Edge.Signals;
using FactoryGateway.Edge.Sources.Mqtt;
using FactoryGateway.Edge.Tests.Core;
using FactoryGateway.Mqtt.Client;
using FactoryGateway.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace FactoryGateway.Edge.Tests.Mqtt;

/// <summary>
/// The MQTT source's bad items as the edge's <c>/status</c> shows them: an agent with its health server, fed through a
/// real mosquitto by npm <c>sparkplug-client</c> (Sparkplug B) and a JSON publisher.
/// </summary>
public sealed class MqttSourceItemStatusTests(MosquittoServer broker) : IClassFixture<MosquittoServer>
{
    private static readonly TimeSpan s_deadline = TimeSpan.FromSeconds(30);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Status_lists_bad_quality_null_and_unlisted_sparkplug_metrics_and_a_strict_json_topic_with_their_reasons_until_they_recover()
    {
        string group = $"g{Guid.NewGuid():N}";
        string prefix = $"plant{Guid.NewGuid():N}";
        var mqtt = new MqttSourceOptions
        {
            Host = MosquittoServer.Host,
            Port = broker.Port,
            Json = { new MqttJsonMappingOptions { Topic = prefix + "/{device}/telemetry", Signals = { ["n"] = "n" }, TimestampPath = "ts", Strict = true } },
            Devices = { new MqttDeviceOptions { Id = "cnc-1" } },
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
                Strict = true,
            },
        };
        var source = new MqttSource(mqtt, "edge-test");
        using var directory = new TempDirectory("mqtt-item-status");
        EdgeOptions options = EdgeRig.Options(directory, $"http://127.0.0.1:{FreeTcpPort.Next()}", "no-ingest-needed");
        await using EdgeAgent agent = EdgeRig.Start(options, source);
        await using EdgeHealthServer health = await EdgeHealthServer.StartAsync("http://127.0.0.1:0", agent.GetStatus, NullLoggerFactory.Instance, Ct);
        using var http = new HttpClient { BaseAddress = health.Addresses[0] };
        await broker.WaitForLogAsync($"Received SUBSCRIBE from {source.SparkplugClientId}", Ct).WaitAsync(s_deadline, Ct);
        await broker.WaitForLogAsync($"Received SUBSCRIBE from {source.JsonClientId}", Ct).WaitAsync(s_deadline, Ct);

        await using var node = SparkplugNodePeer.StartPress(broker.Port, group, "node1");
        await node.WaitForBirthAsync(1, Ct);
        await node.RunAsync("ddata", Ct);
        await WaitForStatusAsync(http, "press-7's first data", s => Device(s, "press-7").GetProperty("samples").GetInt64() == 2);

        // Quality 0 on Spindle, a null Counter; the node's own Temperature is not in MetricNames.
        await node.RunAsync("ddata-bad", Ct);
        await node.RunAsync("ndata", Ct);
        JsonElement status = await WaitForStatusAsync(http, "the bad items", s => BadItems(s, "press-7").Count == 2 && BadItems(s, "node-1").Count == 1);
        Assert.Equal(
            [
                ("parts_total", SignalQuality.Bad, "metric \"Counter\" is null (is_null)"),
                ("spindle_speed", SignalQuality.Bad, "metric \"Spindle\": Sparkplug Quality 0 (BAD)"),
            ],
            BadItems(status, "press-7"));
        Assert.Equal([("Temperature", SignalQuality.BadConfigurationError, "metric \"Temperature\" is not in MetricNames (strict mapping): not sent")], BadItems(status, "node-1"));
        Assert.Equal(0, Device(status, "node-1").GetProperty("samples").GetInt64());

        // Stale (Quality 500) is Uncertain, with its own reason.
        await node.RunAsync("ddata-stale", Ct);
        status = await WaitForStatusAsync(http, "spindle_speed stale", s => BadItems(s, "press-7").Any(b => b.Status == SignalQuality.Uncertain));
        Assert.Equal(("spindle_speed", SignalQuality.Uncertain, "metric \"Spindle\": Sparkplug Quality 500 (STALE)"), BadItems(status, "press-7")[1]);

        // Good data again: the press has no bad item left; the unlisted metric stays listed.
        await node.RunAsync("ddata", Ct);
        status = await WaitForStatusAsync(http, "press-7 recovered", s => BadItems(s, "press-7").Count == 0);
        Assert.Single(BadItems(status, "node-1"));

        // Strict JSON: a message on the topic with none of the mapped signals, then one whose only field does not convert.
        await using MqttClient publisher = await StartPublisherAsync();
        string topic = $"{prefix}/cnc-1/telemetry";
        await PublishAsync(publisher, topic, """{"ts":1700000000001,"status":"ok"}""");
        status = await WaitForStatusAsync(http, "the topic as a bad item", s => BadItems(s, "cnc-1").Count == 1);
        Assert.Equal((topic, SignalQuality.BadConfigurationError, $"topic {topic}: none of the mapped signals is in the payload (strict mapping)"), Assert.Single(BadItems(status, "cnc-1")));

        await PublishAsync(publisher, topic, """{"ts":1700000000002,"n":"abc"}""");
        status = await WaitForStatusAsync(http, "n as a bad item", s => BadItems(s, "cnc-1").Count == 2);
        Assert.Equal(
            [
                ("n", SignalQuality.BadTypeMismatch, "signal 'n' at n is the string \"abc\", not a number"),
                (topic, SignalQuality.BadConfigurationError, $"topic {topic}: no mapped signal has a usable value (1 field problem(s)) (strict mapping)"),
            ],
            BadItems(status, "cnc-1"));

        await PublishAsync(publisher, topic, """{"ts":1700000000003,"n":5}""");
        status = await WaitForStatusAsync(http, "cnc-1 recovered", s => BadItems(s, "cnc-1").Count == 0);
        Assert.Equal(1, Device(status, "cnc-1").GetProperty("samples").GetInt64());

        // Prometheus shows the count of bad items per device.
        string metrics = await http.GetStringAsync("metrics", Ct);
        Assert.Contains("fgw_edge_device_bad_items{device=\"node-1\",source=\"" + source.Name + "\"} 1", metrics, StringComparison.Ordinal);
        MqttSourceStats stats = source.GetStats();
        Assert.Equal((1L, 1L), (stats.SparkplugUnlisted, stats.JsonFieldProblems));
    }

    private static JsonElement Device(JsonElement status, string device) =>
        status.GetProperty("devices").EnumerateArray().Single(d => d.GetProperty("device").GetString() == device);

    private static List<(string Item, uint Status, string? Reason)> BadItems(JsonElement status, string device) =>
        [.. Device(status, device).GetProperty("bad_items").EnumerateArray().Select(b => (b.GetProperty("item").GetString()!, b.GetProperty("status").GetUInt32(), b.GetProperty("reason").GetString()))];

    private static Task<JsonElement> WaitForStatusAsync(HttpClient http, string what, Func<JsonElement, bool> condition) =>
        StatusPolling.WaitAsync(http, "status", condition, s_deadline, TimeSpan.FromMilliseconds(50),
            last => $"Not within {s_deadline.TotalSeconds} s: {what}. Last status:{Environment.NewLine}{last}", Ct);

    private async Task<MqttClient> StartPublisherAsync()
    {
        var publisher = new MqttClient(new MqttClientOptions { Host = MosquittoServer.Host, Port = broker.Port, ClientId = $"publisher-{Guid.NewGuid():N}" });
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        deadline.CancelAfter(s_deadline);
        await publisher.StartAsync(deadline.Token);
        return publisher;
    }

    private static Task PublishAsync(MqttClient publisher, string topic, string payload) => TestPublishing.PublishAsync(publisher, topic, payload, Ct);
}
