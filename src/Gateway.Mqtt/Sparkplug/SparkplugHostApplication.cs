using System.Buffers;
using System.Globalization;
using System.Text.Json;
using System.Threading.Channels;
using FactoryGateway.Mqtt.Client;
using FactoryGateway.Mqtt.Packets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace FactoryGateway.Mqtt.Sparkplug;

/// <summary>
/// A Sparkplug B 3.0 host application over our MQTT client. It announces itself with the retained
/// <c>spBv1.0/STATE/&lt;host_id&gt;</c> message (<c>{"online":true,"timestamp":…}</c>, the will carrying
/// <c>online:false</c> with the same timestamp), subscribes to <c>spBv1.0/#</c>, and keeps per edge node
/// and device the metric definitions of the last birth certificate: DATA metrics are resolved by alias
/// (or name) to their name and datatype. NDEATH ends a node only when its bdSeq is the current birth's;
/// a seq that is not the previous + 1 (mod 256), a message from a node without a birth, or an unknown
/// alias asks the node for a rebirth (NCMD <c>Node Control/Rebirth</c> = true), at most once per
/// <see cref="SparkplugHostOptions.RebirthRequestInterval"/>.
/// Every metric value becomes a <see cref="SparkplugSample"/> on <see cref="Samples"/> (bounded, with
/// <see cref="SparkplugHostOptions.SampleOverflowPolicy"/>); state changes become
/// <see cref="SparkplugHostEvent"/>s on <see cref="Events"/> (bounded, oldest dropped and counted).
/// All message processing runs on the MQTT client's single handler loop, in arrival order.
/// </summary>
public sealed class SparkplugHostApplication : IAsyncDisposable
{
    /// <summary>The metric an edge node's NBIRTH and NDEATH carry to pair them (3.0, §7.2.1).</summary>
    public const string BdSeqMetric = "bdSeq";

    /// <summary>The NCMD metric that asks an edge node for a rebirth (3.0, §7.1.3).</summary>
    public const string RebirthMetric = "Node Control/Rebirth";

    private readonly SparkplugHostOptions _options;
    private readonly ILogger _logger;
    private readonly ILoggerFactory? _loggerFactory;
    private readonly TimeProvider _time;
    private readonly Channel<SparkplugSample> _samples;
    private readonly Channel<SparkplugHostEvent> _events;
    private readonly Channel<byte> _republishState = Channel.CreateBounded<byte>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly Dictionary<(string Group, string Node), EdgeNode> _nodes = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly string _stateTopic;
    private MqttClient? _client;
    private Task? _stateLoop;
    private long _stateTimestamp;
    private volatile bool _stopping;
    private long _messages;
    private long _samplesQueued;
    private long _samplesDropped;
    private long _eventsDropped;
    private long _malformed;
    private long _gaps;
    private long _rebirths;
    private long _staleDeaths;
    private long _unknownMetrics;
    private long _unknownNodes;
    private long _statesPublished;

    public SparkplugHostApplication(SparkplugHostOptions options, ILoggerFactory? loggerFactory = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _loggerFactory = loggerFactory;
        _logger = loggerFactory?.CreateLogger<SparkplugHostApplication>() ?? NullLogger<SparkplugHostApplication>.Instance;
        _time = timeProvider ?? TimeProvider.System;
        _stateTopic = SparkplugTopic.StateTopic(options.HostId);
        _samples = options.SampleOverflowPolicy == SparkplugSampleOverflowPolicy.Wait
            ? Channel.CreateBounded<SparkplugSample>(new BoundedChannelOptions(options.SampleQueueCapacity) { SingleWriter = true })
            : Channel.CreateBounded<SparkplugSample>(
                new BoundedChannelOptions(options.SampleQueueCapacity)
                {
                    SingleWriter = true,
                    FullMode = options.SampleOverflowPolicy == SparkplugSampleOverflowPolicy.DropOldest ? BoundedChannelFullMode.DropOldest : BoundedChannelFullMode.DropWrite,
                },
                _ => Interlocked.Increment(ref _samplesDropped));
        _events = Channel.CreateBounded<SparkplugHostEvent>(
            new BoundedChannelOptions(options.EventQueueCapacity) { SingleWriter = true, FullMode = BoundedChannelFullMode.DropOldest },
            _ => Interlocked.Increment(ref _eventsDropped));
    }

    /// <summary>Decoded metric values, in message order. Completed when the host stops.</summary>
    public ChannelReader<SparkplugSample> Samples => _samples.Reader;

    /// <summary>Online/offline, rebirth requests, gaps, stale deaths, malformed payloads. Completed when the host stops.</summary>
    public ChannelReader<SparkplugHostEvent> Events => _events.Reader;

    /// <summary>The MQTT client (for its statistics and for failover tests); null before <see cref="StartAsync"/>.</summary>
    public MqttClient? Client => _client;

    /// <summary>
    /// Connects with the STATE will, subscribes, and publishes STATE online (retained, QoS 1) — again after
    /// every reconnect. The STATE timestamp is taken for each CONNECT (Sparkplug 3.0 §7.5: the death certificate
    /// registered with a CONNECT carries its time) and the STATE online published after it repeats it.
    /// </summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (_client is not null)
        {
            throw new InvalidOperationException("The host application is already started.");
        }

        MqttClientOptions mqtt = _options.Mqtt with
        {
            Will = null,
            WillFactory = () =>
            {
                Volatile.Write(ref _stateTimestamp, _time.GetUtcNow().ToUnixTimeMilliseconds());
                return new MqttWill { Topic = _stateTopic, Payload = StatePayload(online: false), Qos = MqttQos.AtLeastOnce, Retain = true };
            },
        };
        _client = new MqttClient(mqtt, HandleAsync, _loggerFactory?.CreateLogger<MqttClient>(), _time);
        await _client.StartAsync(cancellationToken);
        var subscriptions = new List<MqttSubscription> { new(_options.SubscriptionFilter, _options.SubscriptionQos) };
        if (_options.SubscriptionFilter != "spBv1.0/#")
        {
            subscriptions.Add(new MqttSubscription(_stateTopic, MqttQos.AtLeastOnce));
        }

        IReadOnlyList<MqttReasonCode> granted = await _client.SubscribeAsync(subscriptions, cancellationToken);
        if (granted.Any(code => (byte)code >= 0x80))
        {
            throw new InvalidOperationException($"The broker refused the Sparkplug subscription: {string.Join(", ", granted)}.");
        }

        long connects = _client.GetStats().Connects;
        await PublishStateAsync(online: true, cancellationToken);
        _stateLoop = Task.Run(() => KeepStateAsync(connects, _stop.Token), CancellationToken.None);
    }

    /// <summary>Publishes STATE offline (retained), disconnects, and completes <see cref="Samples"/> and <see cref="Events"/>.</summary>
    public async Task StopAsync()
    {
        if (_stopping)
        {
            return;
        }

        _stopping = true;
        await _stop.CancelAsync();
        if (_stateLoop is not null)
        {
            await _stateLoop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        if (_client is not null)
        {
            if (_client.IsConnected)
            {
                using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                try
                {
                    await PublishStateAsync(online: false, deadline.Token);
                    SparkplugHostLog.StateOffline(_logger, _options.HostId);
                }
                catch (OperationCanceledException)
                {
                    // The broker publishes the will instead.
                }
            }

            await _client.DisconnectAsync();
        }

        _samples.Writer.TryComplete();
        _events.Writer.TryComplete();
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        if (_client is not null)
        {
            await _client.DisposeAsync();
        }

        _stop.Dispose();
    }

    public SparkplugHostStats GetStats() => new()
    {
        MessagesReceived = Interlocked.Read(ref _messages),
        SamplesQueued = Interlocked.Read(ref _samplesQueued),
        SamplesDropped = Interlocked.Read(ref _samplesDropped),
        EventsDropped = Interlocked.Read(ref _eventsDropped),
        MalformedPayloads = Interlocked.Read(ref _malformed),
        SequenceGaps = Interlocked.Read(ref _gaps),
        RebirthsRequested = Interlocked.Read(ref _rebirths),
        StaleDeathsIgnored = Interlocked.Read(ref _staleDeaths),
        UnknownMetrics = Interlocked.Read(ref _unknownMetrics),
        MessagesFromUnknownNodes = Interlocked.Read(ref _unknownNodes),
        StatesPublished = Interlocked.Read(ref _statesPublished),
    };

    /// <summary>The retained STATE payload: <c>{"online":…,"timestamp":…}</c> (3.0, §7.5.1).</summary>
    internal byte[] StatePayload(bool online)
    {
        var buffer = new ArrayBufferWriter<byte>(64);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteBoolean("online", online);
            json.WriteNumber("timestamp", Volatile.Read(ref _stateTimestamp));
            json.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private async Task PublishStateAsync(bool online, CancellationToken cancellationToken)
    {
        await _client!.PublishAsync(
            new MqttApplicationMessage { Topic = _stateTopic, Payload = StatePayload(online), Qos = MqttQos.AtLeastOnce, Retain = true },
            cancellationToken);
        Interlocked.Increment(ref _statesPublished);
        if (online)
        {
            SparkplugHostLog.StateOnline(_logger, _options.HostId, Volatile.Read(ref _stateTimestamp));
        }
    }

    // After every reconnect (a new Connects count), and whenever our STATE is seen offline while we run,
    // STATE online is published again.
    private async Task KeepStateAsync(long publishedForConnect, CancellationToken cancellationToken)
    {
        MqttClient client = _client!;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await client.WaitUntilConnectedAsync(cancellationToken);
                long connects = client.GetStats().Connects;
                if (connects != publishedForConnect)
                {
                    await PublishStateAsync(online: true, cancellationToken);
                    publishedForConnect = connects;
                }

                Task disconnected = client.WaitUntilDisconnectedAsync(cancellationToken);
                Task<bool> republish = _republishState.Reader.WaitToReadAsync(cancellationToken).AsTask();
                if (await Task.WhenAny(disconnected, republish) == republish && _republishState.Reader.TryRead(out _))
                {
                    publishedForConnect = -1;
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (InvalidOperationException)
            {
                return; // the client was stopped
            }
        }
    }

    private async ValueTask HandleAsync(MqttReceivedMessage message, CancellationToken cancellationToken)
    {
        if (!SparkplugTopic.TryParse(message.Topic, out SparkplugTopic? topic) || topic is null)
        {
            return;
        }

        Interlocked.Increment(ref _messages);
        if (topic.Type == SparkplugMessageType.State)
        {
            HandleState(topic, message);
            return;
        }

        if (topic.Type is SparkplugMessageType.NCmd or SparkplugMessageType.DCmd)
        {
            return; // commands from host applications, ours included
        }

        SparkplugPayload payload;
        try
        {
            // DATA metrics may leave out their datatype: it comes from the birth certificate.
            MetricDefinitions? definitions = DefinitionsFor(topic);
            payload = SparkplugPayloadCodec.Decode(
                new ReadOnlySequence<byte>(message.Payload),
                definitions is null ? null : (name, alias) => definitions.Resolve(name, alias)?.DataType);
        }
        catch (SparkplugPayloadException e)
        {
            Malformed(topic, message.Topic, e.Message);
            return;
        }

        try
        {
            await ProcessAsync(topic, payload, cancellationToken);
        }
        catch (SparkplugPayloadException e)
        {
            Malformed(topic, message.Topic, e.Message);
        }
    }

    private MetricDefinitions? DefinitionsFor(SparkplugTopic topic)
    {
        if (topic.Type is not (SparkplugMessageType.NData or SparkplugMessageType.DData)
            || !_nodes.TryGetValue((topic.GroupId, topic.EdgeNodeId), out EdgeNode? node))
        {
            return null;
        }

        if (topic.Type == SparkplugMessageType.NData)
        {
            return node.Definitions;
        }

        return node.Devices.TryGetValue(topic.DeviceId!, out Device? device) ? device.Definitions : null;
    }

    private void Malformed(SparkplugTopic topic, string topicName, string reason)
    {
        Interlocked.Increment(ref _malformed);
        SparkplugHostLog.MalformedPayload(_logger, topicName, reason);
        Emit(SparkplugHostEventKind.MalformedPayload, topic.GroupId, topic.EdgeNodeId, topic.DeviceId, reason);
    }

    private void HandleState(SparkplugTopic topic, MqttReceivedMessage message)
    {
        if (topic.HostId != _options.HostId || _stopping)
        {
            return;
        }

        try
        {
            using var json = JsonDocument.Parse(message.Payload);
            if (json.RootElement.ValueKind == JsonValueKind.Object
                && json.RootElement.TryGetProperty("online", out JsonElement online)
                && online.ValueKind == JsonValueKind.False)
            {
                SparkplugHostLog.StateOverwritten(_logger, _options.HostId);
                _republishState.Writer.TryWrite(0);
            }
        }
        catch (JsonException e)
        {
            SparkplugHostLog.MalformedPayload(_logger, message.Topic, e.Message);
        }
    }

    private async ValueTask ProcessAsync(SparkplugTopic topic, SparkplugPayload payload, CancellationToken cancellationToken)
    {
        DateTimeOffset arrival = _time.GetUtcNow();
        var key = (topic.GroupId, topic.EdgeNodeId);
        _nodes.TryGetValue(key, out EdgeNode? node);
        switch (topic.Type)
        {
            case SparkplugMessageType.NBirth:
                MetricDefinitions nodeDefinitions = MetricDefinitions.From(payload.Metrics);
                node ??= _nodes[key] = new EdgeNode(topic.GroupId, topic.EdgeNodeId);
                node.Online = true;
                node.Definitions = nodeDefinitions;
                node.BdSeq = BdSeq(payload);
                node.LastSeq = payload.Seq is { } birthSeq ? (int)(birthSeq % 256) : 0;
                node.RebirthRequestedAt = null;
                foreach (Device device in node.Devices.Values.Where(d => d.Online))
                {
                    device.Online = false;
                    Emit(SparkplugHostEventKind.DeviceOffline, node.Group, node.Node, device.Id, "superseded by NBIRTH");
                }

                SparkplugHostLog.NodeBirth(_logger, node.Group, node.Node, node.BdSeq, payload.Metrics.Count);
                Emit(SparkplugHostEventKind.NodeOnline, node.Group, node.Node, null, string.Create(CultureInfo.InvariantCulture, $"bdSeq {node.BdSeq}"));
                await QueueSamplesAsync(topic, payload, node.Definitions, arrival, cancellationToken);
                return;

            case SparkplugMessageType.NDeath:
                ulong? bdSeq = BdSeq(payload);
                if (node is not { Online: true })
                {
                    return;
                }

                if (bdSeq is not null && node.BdSeq is not null && bdSeq != node.BdSeq)
                {
                    Interlocked.Increment(ref _staleDeaths);
                    SparkplugHostLog.StaleDeath(_logger, node.Group, node.Node, bdSeq, node.BdSeq);
                    Emit(SparkplugHostEventKind.StaleDeathIgnored, node.Group, node.Node, null, string.Create(CultureInfo.InvariantCulture, $"bdSeq {bdSeq}, current {node.BdSeq}"));
                    return;
                }

                node.Online = false;
                foreach (Device device in node.Devices.Values.Where(d => d.Online))
                {
                    device.Online = false;
                    Emit(SparkplugHostEventKind.DeviceOffline, node.Group, node.Node, device.Id, "edge node dead");
                }

                SparkplugHostLog.NodeDeath(_logger, node.Group, node.Node, bdSeq);
                Emit(SparkplugHostEventKind.NodeOffline, node.Group, node.Node, null, string.Create(CultureInfo.InvariantCulture, $"bdSeq {bdSeq}"));
                return;
        }

        // NDATA, DBIRTH, DDATA, DDEATH: the node must be alive, and its seq continues.
        if (node is not { Online: true })
        {
            Interlocked.Increment(ref _unknownNodes);
            node ??= _nodes[key] = new EdgeNode(topic.GroupId, topic.EdgeNodeId);
            await RequestRebirthAsync(node, "no birth certificate", cancellationToken);
            return;
        }

        CheckSequence(node, payload);
        switch (topic.Type)
        {
            case SparkplugMessageType.NData:
                await QueueSamplesAsync(topic, payload, node.Definitions, arrival, cancellationToken);
                break;

            case SparkplugMessageType.DBirth:
                MetricDefinitions deviceDefinitions = MetricDefinitions.From(payload.Metrics);
                if (!node.Devices.TryGetValue(topic.DeviceId!, out Device? born))
                {
                    born = node.Devices[topic.DeviceId!] = new Device(topic.DeviceId!);
                }

                born.Online = true;
                born.Definitions = deviceDefinitions;
                SparkplugHostLog.DeviceState(_logger, node.Group, node.Node, born.Id, "born");
                Emit(SparkplugHostEventKind.DeviceOnline, node.Group, node.Node, born.Id);
                await QueueSamplesAsync(topic, payload, born.Definitions, arrival, cancellationToken);
                break;

            case SparkplugMessageType.DData:
                if (node.Devices.TryGetValue(topic.DeviceId!, out Device? device) && device.Online)
                {
                    await QueueSamplesAsync(topic, payload, device.Definitions, arrival, cancellationToken);
                }
                else
                {
                    Interlocked.Increment(ref _unknownNodes);
                    await RequestRebirthAsync(node, $"DDATA from device {topic.DeviceId} without DBIRTH", cancellationToken);
                }

                break;

            case SparkplugMessageType.DDeath:
                if (node.Devices.TryGetValue(topic.DeviceId!, out Device? dead) && dead.Online)
                {
                    dead.Online = false;
                    SparkplugHostLog.DeviceState(_logger, node.Group, node.Node, dead.Id, "dead");
                    Emit(SparkplugHostEventKind.DeviceOffline, node.Group, node.Node, dead.Id, "DDEATH");
                }

                break;

            default:
                break;
        }

        if (node.RebirthNeeded is { } reason)
        {
            node.RebirthNeeded = null;
            await RequestRebirthAsync(node, reason, cancellationToken);
        }
    }

    private void CheckSequence(EdgeNode node, SparkplugPayload payload)
    {
        int expected = (node.LastSeq + 1) % 256;
        if (payload.Seq is { } seq && seq == (ulong)expected)
        {
            node.LastSeq = expected;
            return;
        }

        Interlocked.Increment(ref _gaps);
        SparkplugHostLog.SequenceGap(_logger, node.Group, node.Node, payload.Seq, node.LastSeq);
        Emit(SparkplugHostEventKind.SequenceGap, node.Group, node.Node, null, string.Create(CultureInfo.InvariantCulture, $"seq {payload.Seq?.ToString(CultureInfo.InvariantCulture) ?? "missing"} after {node.LastSeq}"));
        if (payload.Seq is { } received && received < 256)
        {
            node.LastSeq = (int)received;
        }

        node.RebirthNeeded ??= "seq gap";
    }

    private async ValueTask QueueSamplesAsync(SparkplugTopic topic, SparkplugPayload payload, MetricDefinitions definitions, DateTimeOffset arrival, CancellationToken cancellationToken)
    {
        DateTimeOffset payloadTime = payload.Timestamp is { } ms ? FromMilliseconds(ms) : arrival;
        foreach (SparkplugMetric metric in payload.Metrics)
        {
            MetricDefinition? definition = definitions.Resolve(metric.Name, metric.Alias);
            if (definition is null)
            {
                Interlocked.Increment(ref _unknownMetrics);
                string what = metric.Name ?? $"alias {metric.Alias}";
                SparkplugHostLog.UnknownMetric(_logger, topic.GroupId, topic.EdgeNodeId, topic.DeviceId, what);
                Emit(SparkplugHostEventKind.UnknownMetric, topic.GroupId, topic.EdgeNodeId, topic.DeviceId, what);
                if (_nodes.TryGetValue((topic.GroupId, topic.EdgeNodeId), out EdgeNode? node))
                {
                    node.RebirthNeeded ??= $"unknown metric {what}";
                }

                continue;
            }

            var sample = new SparkplugSample
            {
                GroupId = topic.GroupId,
                EdgeNodeId = topic.EdgeNodeId,
                DeviceId = topic.DeviceId,
                MetricName = definition.Name,
                Alias = definition.Alias,
                DataType = metric.DataType ?? definition.DataType,
                Value = metric.Value,
                Timestamp = metric.Timestamp is { } metricMs ? FromMilliseconds(metricMs) : payloadTime,
                IsHistorical = metric.IsHistorical,
                IsTransient = metric.IsTransient,
                IsNull = metric.IsNull,
                Source = topic.Type,
                Properties = metric.Properties,
            };
            if (_options.SampleOverflowPolicy == SparkplugSampleOverflowPolicy.Wait)
            {
                await _samples.Writer.WriteAsync(sample, cancellationToken);
            }
            else
            {
                _samples.Writer.TryWrite(sample);
            }

            Interlocked.Increment(ref _samplesQueued);
        }
    }

    private async ValueTask RequestRebirthAsync(EdgeNode node, string reason, CancellationToken cancellationToken)
    {
        DateTimeOffset now = _time.GetUtcNow();
        if (node.RebirthRequestedAt is { } last && now - last < _options.RebirthRequestInterval)
        {
            return;
        }

        node.RebirthRequestedAt = now;
        var command = new SparkplugPayload
        {
            Timestamp = (ulong)now.ToUnixTimeMilliseconds(),
            Metrics = [new SparkplugMetric { Name = RebirthMetric, DataType = SparkplugDataType.Boolean, Value = true, Timestamp = (ulong)now.ToUnixTimeMilliseconds() }],
        };

        // NCMD at QoS 0 (3.0, §7.1.3); the outgoing queue, not the broker, is awaited here.
        await _client!.PublishAsync(
            new MqttApplicationMessage { Topic = SparkplugTopic.NodeTopic(node.Group, SparkplugMessageType.NCmd, node.Node), Payload = SparkplugPayloadCodec.Encode(command) },
            cancellationToken);
        Interlocked.Increment(ref _rebirths);
        SparkplugHostLog.RebirthRequested(_logger, node.Group, node.Node, reason);
        Emit(SparkplugHostEventKind.RebirthRequested, node.Group, node.Node, null, reason);
    }

    private static ulong? BdSeq(SparkplugPayload payload)
    {
        foreach (SparkplugMetric metric in payload.Metrics)
        {
            if (metric.Name == BdSeqMetric)
            {
                return metric.Value switch
                {
                    ulong u => u,
                    long l when l >= 0 => (ulong)l,
                    uint u => u,
                    int i when i >= 0 => (ulong)i,
                    _ => null,
                };
            }
        }

        return null;
    }

    private static DateTimeOffset FromMilliseconds(ulong milliseconds) =>
        milliseconds <= (ulong)DateTimeOffset.MaxValue.ToUnixTimeMilliseconds()
            ? DateTimeOffset.FromUnixTimeMilliseconds((long)milliseconds)
            : throw new SparkplugPayloadException(string.Create(CultureInfo.InvariantCulture, $"timestamp {milliseconds} ms is after year 9999"));

    private void Emit(SparkplugHostEventKind kind, string group, string node, string? device, string? detail = null) =>
        _events.Writer.TryWrite(new SparkplugHostEvent(kind, group, node, device, _time.GetUtcNow(), detail));

    private sealed record MetricDefinition(string Name, ulong? Alias, SparkplugDataType DataType);

    // The definitions of one birth certificate: by name, and by alias where the birth gave one.
    private sealed class MetricDefinitions
    {
        private readonly Dictionary<string, MetricDefinition> _byName = new(StringComparer.Ordinal);
        private readonly Dictionary<ulong, MetricDefinition> _byAlias = [];

        public static MetricDefinitions From(IReadOnlyList<SparkplugMetric> metrics)
        {
            var definitions = new MetricDefinitions();
            for (int i = 0; i < metrics.Count; i++)
            {
                SparkplugMetric metric = metrics[i];
                if (metric.Name is null || metric.DataType is null)
                {
                    throw new SparkplugPayloadException(string.Create(CultureInfo.InvariantCulture, $"birth certificate metric {i} without a name or a datatype"));
                }

                var definition = new MetricDefinition(metric.Name, metric.Alias, metric.DataType.Value);
                definitions._byName[metric.Name] = definition;
                if (metric.Alias is { } alias)
                {
                    definitions._byAlias[alias] = definition;
                }
            }

            return definitions;
        }

        public MetricDefinition? Resolve(string? name, ulong? alias)
        {
            if (alias is { } a && _byAlias.TryGetValue(a, out MetricDefinition? byAlias))
            {
                return byAlias;
            }

            return name is not null && _byName.TryGetValue(name, out MetricDefinition? byName) ? byName : null;
        }
    }

    private sealed class EdgeNode(string group, string node)
    {
        public string Group { get; } = group;

        public string Node { get; } = node;

        public bool Online { get; set; }

        public ulong? BdSeq { get; set; }

        public int LastSeq { get; set; }

        public DateTimeOffset? RebirthRequestedAt { get; set; }

        public string? RebirthNeeded { get; set; }

        public MetricDefinitions Definitions { get; set; } = new();

        public Dictionary<string, Device> Devices { get; } = new(StringComparer.Ordinal);
    }

    private sealed class Device(string id)
    {
        public string Id { get; } = id;

        public bool Online { get; set; }

        public MetricDefinitions Definitions { get; set; } = new();
    }
}
