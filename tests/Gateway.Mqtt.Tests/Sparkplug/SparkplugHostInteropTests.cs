using System.Text;
using System.Text.Json.Nodes;
using FactoryGateway.Mqtt.Client;
using FactoryGateway.Mqtt.Packets;
using FactoryGateway.Mqtt.Sparkplug;
using FactoryGateway.Mqtt.Tests.Client;
using FactoryGateway.Testing;

namespace FactoryGateway.Mqtt.Tests.Sparkplug;

/// <summary>
/// Our Sparkplug B host application against npm <c>sparkplug-client</c> as the edge node, through a real
/// mosquitto.
/// </summary>
public sealed class SparkplugHostInteropTests(MosquittoServer broker) : IClassFixture<MosquittoServer>
{
    private const long T0 = 1_700_000_000_000; // sparkplug-edge.mjs
    private const int BirthSamples = 22 + 3; // NBIRTH: 21 metrics and bdSeq; DBIRTH: 3 metrics
    private static readonly TimeSpan s_deadline = TimeSpan.FromSeconds(30);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Every_metric_of_the_edge_node_is_decoded_with_its_name_type_and_value()
    {
        string group = Group();
        await using SparkplugHostApplication host = await StartHostAsync(group);
        await using var edge = SparkplugNodePeer.StartEdge(broker.Port, group, "node1");
        await edge.WaitForBirthAsync(1, Ct);

        List<SparkplugSample> births = await TakeSamplesAsync(host, BirthSamples);
        var node = births.Where(s => s.Source == SparkplugMessageType.NBirth).ToDictionary(s => s.MetricName);
        Assert.Equal(22, node.Count);
        Assert.All(node.Values, s => Assert.Equal(("node1", (string?)null, DateTimeOffset.FromUnixTimeMilliseconds(T0)), (s.EdgeNodeId, s.DeviceId, s.Timestamp)));
        AssertSample(node, "Node Control/Rebirth", SparkplugDataType.Boolean, false);
        AssertSample(node, "Properties/Int8", SparkplugDataType.Int8, (sbyte)-5);
        AssertSample(node, "Properties/Int16", SparkplugDataType.Int16, (short)-1234);
        AssertSample(node, "Properties/Int32", SparkplugDataType.Int32, -123456);
        AssertSample(node, "Properties/Int64", SparkplugDataType.Int64, -1234567890123L);
        AssertSample(node, "Properties/UInt8", SparkplugDataType.UInt8, (byte)200);
        AssertSample(node, "Properties/UInt16", SparkplugDataType.UInt16, (ushort)60000);
        AssertSample(node, "Properties/UInt32", SparkplugDataType.UInt32, 4_000_000_000u);
        AssertSample(node, "Properties/UInt64", SparkplugDataType.UInt64, 9_007_199_254_740_991UL);
        AssertSample(node, "Properties/Float", SparkplugDataType.Float, 1.5f);
        AssertSample(node, "Properties/Double", SparkplugDataType.Double, 3.141592653589793);
        AssertSample(node, "Properties/Boolean", SparkplugDataType.Boolean, true);
        AssertSample(node, "Properties/String", SparkplugDataType.String, "hello, Sparkplug");
        AssertSample(node, "Properties/DateTime", SparkplugDataType.DateTime, DateTimeOffset.FromUnixTimeMilliseconds(T0 + 123));
        AssertSample(node, "Properties/Text", SparkplugDataType.Text, "a longer text\nwith two lines");
        AssertSample(node, "Properties/UUID", SparkplugDataType.Uuid, "2f1c4b6e-8a7d-4c3b-9e2f-1a2b3c4d5e6f");
        AssertSample(node, "Properties/Bytes", SparkplugDataType.Bytes, new byte[] { 1, 2, 3, 255 });
        AssertSample(node, "Properties/File", SparkplugDataType.File, Encoding.UTF8.GetBytes("file body"));
        AssertSample(node, "bdSeq", SparkplugDataType.UInt64, 0UL);
        Assert.True(node["Properties/Null"].IsNull);
        Assert.Equal(SparkplugDataType.Int32, node["Properties/Null"].DataType);
        Assert.Null(node["Properties/Null"].Value);

        var dataSet = Assert.IsType<SparkplugDataSet>(node["Properties/DataSet"].Value);
        Assert.Equal(["id", "name", "level"], dataSet.Columns);
        Assert.Equal([SparkplugDataType.Int32, SparkplugDataType.String, SparkplugDataType.Double], dataSet.Types);
        Assert.Equal([1, "tank A", 0.25], dataSet.Rows[0]);
        Assert.Equal([2, "tank B", 0.75], dataSet.Rows[1]);

        var template = Assert.IsType<SparkplugTemplate>(node["Properties/Template"].Value);
        Assert.Equal(("1.0", "Motor", false), (template.Version, template.TemplateRef, template.IsDefinition));
        Assert.Equal([("RPM", SparkplugDataType.Int32, (object?)1450), ("Running", SparkplugDataType.Boolean, true)], template.Metrics.Select(m => (m.Name, m.DataType!.Value, m.Value)));
        Assert.Equal([new SparkplugTemplateParameter("Rated", SparkplugDataType.Float, 7.5f)], template.Parameters);

        var device = births.Where(s => s.Source == SparkplugMessageType.DBirth).ToList();
        Assert.Equal(
            [("Temperature", 1UL, SparkplugDataType.Double, (object?)21.5), ("Counter", 2UL, SparkplugDataType.UInt32, 7u), ("Status", 3UL, SparkplugDataType.String, "RUN")],
            device.Select(s => (s.MetricName, s.Alias!.Value, s.DataType, s.Value)));
        Assert.All(device, s => Assert.Equal("dev1", s.DeviceId));
        IReadOnlyDictionary<string, SparkplugPropertyValue> properties = device[0].Properties!;
        Assert.Equal(["engUnit", "Quality", "limits"], properties.Keys);
        Assert.Equal(new SparkplugPropertyValue(SparkplugDataType.String, "degC"), properties["engUnit"]);
        Assert.Equal(new SparkplugPropertyValue(SparkplugDataType.Int32, 192), properties["Quality"]);
        var limits = Assert.IsType<IReadOnlyDictionary<string, SparkplugPropertyValue>>(properties["limits"].Value, exactMatch: false);
        Assert.Equal([new SparkplugPropertyValue(SparkplugDataType.Double, -20.0), new SparkplugPropertyValue(SparkplugDataType.Double, 120.0)], limits.Values);

        // DDATA names its metrics by alias only; the host resolves them from the DBIRTH.
        await edge.RunAsync("ddata", Ct);
        List<SparkplugSample> data = await TakeSamplesAsync(host, 2);
        Assert.Equal(
            [("Temperature", SparkplugDataType.Double, (object?)22.5, T0 + 2001), ("Counter", SparkplugDataType.UInt32, 8u, T0 + 2001)],
            data.Select(s => (s.MetricName, s.DataType, s.Value, s.Timestamp.ToUnixTimeMilliseconds())));
        Assert.All(data, s => Assert.Equal((SparkplugMessageType.DData, "dev1"), (s.Source, s.DeviceId)));

        // DATA metrics may leave out the datatype; the host takes it from the DBIRTH.
        await edge.RunAsync("ddata-no-datatype", Ct);
        List<SparkplugSample> untyped = await TakeSamplesAsync(host, 2);
        Assert.Equal(
            [("Temperature", SparkplugDataType.Double, (object?)30.5), ("Counter", SparkplugDataType.UInt32, 9u)],
            untyped.Select(s => (s.MetricName, s.DataType, s.Value)));

        await edge.RunAsync("ndata", Ct);
        SparkplugSample ndata = Assert.Single(await TakeSamplesAsync(host, 1));
        Assert.Equal(("Properties/Int32", (object?)42, SparkplugMessageType.NData), (ndata.MetricName, ndata.Value, ndata.Source));

        await edge.RunAsync("ddeath", Ct);
        await NextEventAsync(host, SparkplugHostEventKind.DeviceOffline);
        await edge.RunAsync("stop", Ct);
        await NextEventAsync(host, SparkplugHostEventKind.NodeOffline);

        SparkplugHostStats stats = host.GetStats();
        Assert.Equal((0L, 0L, 0L, 0L), (stats.SequenceGaps, stats.RebirthsRequested, stats.MalformedPayloads, stats.UnknownMetrics));
        Assert.Equal(BirthSamples + 5, stats.SamplesQueued);
    }

    [Fact]
    public async Task A_seq_gap_sends_a_rebirth_request_and_the_edge_node_rebirths()
    {
        string group = Group();
        await using SparkplugHostApplication host = await StartHostAsync(group);
        await using var edge = SparkplugNodePeer.StartEdge(broker.Port, group, "node1");
        await edge.WaitForBirthAsync(1, Ct);
        await TakeSamplesAsync(host, BirthSamples);

        await edge.RunAsync("gap", Ct);

        SparkplugHostEvent gap = await NextEventAsync(host, SparkplugHostEventKind.SequenceGap);
        Assert.Equal("seq 7 after 1", gap.Detail); // NBIRTH 0, DBIRTH 1, then 2 + 5
        SparkplugHostEvent request = await NextEventAsync(host, SparkplugHostEventKind.RebirthRequested);
        Assert.Equal(("node1", "seq gap"), (request.EdgeNodeId, request.Detail));
        await edge.WaitForLineAsync("REBIRTH-REQUEST", Ct);
        await edge.WaitForBirthAsync(2, Ct);
        await NextEventAsync(host, SparkplugHostEventKind.NodeOnline);
        await NextEventAsync(host, SparkplugHostEventKind.DeviceOnline);

        List<SparkplugSample> samples = await TakeSamplesAsync(host, 1 + BirthSamples);
        Assert.Equal(("Properties/Int32", (object?)99), (samples[0].MetricName, samples[0].Value));
        Assert.All(samples.Skip(1), s => Assert.True(s.Source is SparkplugMessageType.NBirth or SparkplugMessageType.DBirth));

        // After the rebirth the sequence is in step again.
        await edge.RunAsync("ddata", Ct);
        await TakeSamplesAsync(host, 2);
        Assert.Equal((1L, 1L), (host.GetStats().SequenceGaps, host.GetStats().RebirthsRequested));
    }

    [Fact]
    public async Task An_ndeath_with_another_bdseq_is_ignored_and_the_node_stays_online()
    {
        string group = Group();
        await using SparkplugHostApplication host = await StartHostAsync(group);
        await using var edge = SparkplugNodePeer.StartEdge(broker.Port, group, "node1");
        await edge.WaitForBirthAsync(1, Ct);
        await TakeSamplesAsync(host, BirthSamples);

        await edge.RunAsync("stale-ndeath", Ct);
        SparkplugHostEvent stale = await NextEventAsync(host, SparkplugHostEventKind.StaleDeathIgnored);
        Assert.Equal("bdSeq 99, current 0", stale.Detail);

        await edge.RunAsync("ddata", Ct);
        Assert.Equal(["Temperature", "Counter"], (await TakeSamplesAsync(host, 2)).Select(s => s.MetricName));

        // The real death (bdSeq 0, the birth's) ends the node.
        await edge.RunAsync("stop", Ct);
        SparkplugHostEvent offline = await NextEventAsync(host, SparkplugHostEventKind.NodeOffline);
        Assert.Equal("bdSeq 0", offline.Detail);
        Assert.Equal((1L, 0L, 0L), (host.GetStats().StaleDeathsIgnored, host.GetStats().RebirthsRequested, host.GetStats().SequenceGaps));
    }

    [Fact]
    public async Task A_host_that_starts_after_the_edge_node_asks_it_for_a_rebirth()
    {
        string group = Group();
        var births = new MessageCollector();
        await using var watch = new MqttClient(ClientOptions($"fgw-sp-watch-{Guid.NewGuid():N}"), births.HandleAsync);
        await watch.StartAsync(Ct);
        await watch.SubscribeAsync([new MqttSubscription($"spBv1.0/{group}/#")], Ct);
        await using var edge = SparkplugNodePeer.StartEdge(broker.Port, group, "node1");
        await births.WaitForAsync(2, s_deadline, Ct); // NBIRTH and DBIRTH have passed the broker: the host cannot see them
        await using SparkplugHostApplication host = await StartHostAsync(group);

        await edge.RunAsync("ddata", Ct);

        SparkplugHostEvent request = await NextEventAsync(host, SparkplugHostEventKind.RebirthRequested);
        Assert.Equal("no birth certificate", request.Detail);
        await edge.WaitForBirthAsync(2, Ct);
        List<SparkplugSample> samples = await TakeSamplesAsync(host, BirthSamples);
        Assert.Contains(samples, s => s.MetricName == "Temperature" && s.DeviceId == "dev1");
        Assert.Equal(1L, host.GetStats().MessagesFromUnknownNodes);
    }

    [Fact]
    public async Task A_payload_that_is_not_sparkplug_is_counted_and_the_host_keeps_going()
    {
        string group = Group();
        await using SparkplugHostApplication host = await StartHostAsync(group);
        await using (var publisher = new MqttClient(ClientOptions($"fgw-sp-garbage-{Guid.NewGuid():N}")))
        {
            await publisher.StartAsync(Ct);
            await publisher.PublishAsync(new MqttApplicationMessage { Topic = $"spBv1.0/{group}/NDATA/node1", Payload = "{\"not\":\"protobuf\"}"u8.ToArray(), Qos = MqttQos.AtLeastOnce }, Ct);
            await publisher.DisconnectAsync();
        }

        SparkplugHostEvent malformed = await NextEventAsync(host, SparkplugHostEventKind.MalformedPayload);
        Assert.StartsWith("Sparkplug payload is not a valid protobuf Payload", malformed.Detail, StringComparison.Ordinal);

        await using var edge = SparkplugNodePeer.StartEdge(broker.Port, group, "node1");
        await edge.WaitForBirthAsync(1, Ct);
        Assert.Equal(BirthSamples, (await TakeSamplesAsync(host, BirthSamples)).Count);
        Assert.Equal((1L, 0L), (host.GetStats().MalformedPayloads, host.Client!.GetStats().HandlerFailures));
    }

    [Fact]
    public async Task State_is_retained_online_and_the_will_reports_offline_when_the_connection_breaks()
    {
        string hostId = $"host-{Guid.NewGuid():N}";
        string stateTopic = $"spBv1.0/STATE/{hostId}";
        await using SparkplugHostApplication host = await StartHostAsync(Group(), hostId);

        var watcher = new MessageCollector();
        await using var watch = new MqttClient(ClientOptions($"fgw-state-watch-{Guid.NewGuid():N}"), watcher.HandleAsync);
        await watch.StartAsync(Ct);
        await watch.SubscribeAsync([new MqttSubscription(stateTopic)], Ct);
        await watcher.WaitForAsync(1, s_deadline, Ct);
        (bool online, long timestamp) = State(watcher.Messages[0]);
        Assert.True(online);
        Assert.True(watcher.Messages[0].Retain);

        // No DISCONNECT: the broker publishes the will (online false, the first CONNECT's timestamp); the host
        // reconnects with a new will stamped with the new CONNECT's time, and its STATE online repeats that time.
        host.Client!.DropConnection();
        await watcher.WaitForAsync(3, s_deadline, Ct);
        Assert.Equal((false, timestamp), State(watcher.Messages[1]));
        (bool onlineAgain, long reconnected) = State(watcher.Messages[2]);
        Assert.True(onlineAgain);
        Assert.True(reconnected > timestamp, $"the reconnect's STATE timestamp {reconnected} is not after the first connect's {timestamp}");
        timestamp = reconnected;

        // A graceful stop publishes STATE offline itself, then sends DISCONNECT (so the broker drops the will).
        await host.StopAsync();
        using var logDeadline = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        logDeadline.CancelAfter(s_deadline);
        await broker.WaitForLogAsync($"Received DISCONNECT from {host.Client.Options.ClientId}", logDeadline.Token);
        var late = new MessageCollector();
        await using var lateWatch = new MqttClient(ClientOptions($"fgw-state-late-{Guid.NewGuid():N}"), late.HandleAsync);
        await lateWatch.StartAsync(Ct);
        await lateWatch.SubscribeAsync([new MqttSubscription(stateTopic)], Ct);
        await late.WaitForAsync(1, s_deadline, Ct);
        Assert.True(late.Messages[0].Retain);
        Assert.Equal((false, timestamp), State(late.Messages[0]));
        Assert.Equal(0L, host.Client.GetStats().MessagesRefused);
    }

    private static (bool Online, long Timestamp) State(MqttReceivedMessage message)
    {
        JsonNode json = JsonNode.Parse(message.Payload.Span)!;
        return ((bool)json["online"]!, (long)json["timestamp"]!);
    }

    private static void AssertSample(Dictionary<string, SparkplugSample> samples, string name, SparkplugDataType type, object value)
    {
        Assert.True(samples.TryGetValue(name, out SparkplugSample? sample), $"no sample for {name}");
        Assert.Equal(type, sample.DataType);
        Assert.Equal(value.GetType(), sample.Value?.GetType());
        Assert.Equal(value, sample.Value);
        Assert.False(sample.IsNull);
    }

    private static string Group() => $"g{Guid.NewGuid():N}";

    private MqttClientOptions ClientOptions(string clientId) => new() { Host = MosquittoServer.Host, Port = broker.Port, ClientId = clientId };

    private async Task<SparkplugHostApplication> StartHostAsync(string group, string? hostId = null)
    {
        var host = new SparkplugHostApplication(new SparkplugHostOptions
        {
            HostId = hostId ?? $"host-{Guid.NewGuid():N}",
            Mqtt = ClientOptions($"fgw-sp-host-{Guid.NewGuid():N}"),
            SubscriptionFilter = $"spBv1.0/{group}/#",
        });
        await host.StartAsync(Ct);
        return host;
    }

    private static async Task<List<SparkplugSample>> TakeSamplesAsync(SparkplugHostApplication host, int count)
    {
        var samples = new List<SparkplugSample>(count);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        deadline.CancelAfter(s_deadline);
        try
        {
            while (samples.Count < count)
            {
                samples.Add(await host.Samples.ReadAsync(deadline.Token));
            }
        }
        catch (OperationCanceledException) when (!Ct.IsCancellationRequested)
        {
            throw new TimeoutException($"{samples.Count} of {count} samples within {s_deadline.TotalSeconds} s; stats {host.GetStats()}");
        }

        return samples;
    }

    private static async Task<SparkplugHostEvent> NextEventAsync(SparkplugHostApplication host, SparkplugHostEventKind kind)
    {
        var skipped = new List<SparkplugHostEvent>();
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        deadline.CancelAfter(s_deadline);
        try
        {
            while (true)
            {
                SparkplugHostEvent e = await host.Events.ReadAsync(deadline.Token);
                if (e.Kind == kind)
                {
                    return e;
                }

                skipped.Add(e);
            }
        }
        catch (OperationCanceledException) when (!Ct.IsCancellationRequested)
        {
            throw new TimeoutException($"no {kind} event within {s_deadline.TotalSeconds} s; seen: {string.Join(", ", skipped)}");
        }
    }
}
