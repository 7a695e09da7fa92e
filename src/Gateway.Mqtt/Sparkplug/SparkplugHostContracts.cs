using FactoryGateway.Mqtt.Client;
using FactoryGateway.Mqtt.Packets;

namespace FactoryGateway.Mqtt.Sparkplug;

/// <summary>What a full sample queue does with one more sample.</summary>
public enum SparkplugSampleOverflowPolicy
{
    /// <summary>The MQTT handler waits for room: the client stops acknowledging and reading, so the broker is paced (nothing lost at QoS 1).</summary>
    Wait,

    /// <summary>The oldest queued sample is dropped and counted (<see cref="SparkplugHostStats.SamplesDropped"/>).</summary>
    DropOldest,

    /// <summary>The new sample is dropped and counted (<see cref="SparkplugHostStats.SamplesDropped"/>).</summary>
    DropNewest,
}

/// <summary>Options of <see cref="SparkplugHostApplication"/>; <see cref="Validate"/> runs in its constructor.</summary>
public sealed record SparkplugHostOptions
{
    /// <summary>The Sparkplug host id: the STATE topic is <c>spBv1.0/STATE/&lt;HostId&gt;</c>.</summary>
    public required string HostId { get; init; }

    /// <summary>The broker connection. Its <see cref="MqttClientOptions.Will"/> must be unset: the host sets the STATE will itself.</summary>
    public required MqttClientOptions Mqtt { get; init; }

    /// <summary><c>spBv1.0/#</c>: the specification's subscription for a host application (3.0, §7.5.1); a narrower one (<c>spBv1.0/&lt;group&gt;/#</c>) limits the host to some groups.</summary>
    public string SubscriptionFilter { get; init; } = "spBv1.0/#";

    /// <summary>QoS 1: the STATE messages are QoS 1 (3.0, §7.5.1); edge nodes publish their own messages at QoS 0, which the broker keeps at 0.</summary>
    public MqttQos SubscriptionQos { get; init; } = MqttQos.AtLeastOnce;

    /// <summary>Decoded samples waiting for the consumer. 10,000: a birth certificate of a large edge node (a few thousand metrics) fits whole.</summary>
    public int SampleQueueCapacity { get; init; } = 10_000;

    public SparkplugSampleOverflowPolicy SampleOverflowPolicy { get; init; } = SparkplugSampleOverflowPolicy.Wait;

    /// <summary>Events waiting for the consumer; a full queue drops the oldest event (counted). 1,000: events are per node and device, not per metric.</summary>
    public int EventQueueCapacity { get; init; } = 1_000;

    /// <summary>
    /// At most one Rebirth request per edge node in this interval. 5 s: an edge node on a LAN answers a
    /// Rebirth in well under a second; a node that does not is not flooded with one request per message.
    /// </summary>
    public TimeSpan RebirthRequestInterval { get; init; } = TimeSpan.FromSeconds(5);

    public void Validate()
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(HostId);
        if (HostId.AsSpan().IndexOfAny("/+#") >= 0)
        {
            throw new ArgumentException("A Sparkplug host id is one topic level without wildcards.", nameof(HostId));
        }

        ArgumentNullException.ThrowIfNull(Mqtt);
        Mqtt.Validate();
        if (Mqtt.Will is not null)
        {
            throw new ArgumentException("The host application sets the STATE will; leave MqttClientOptions.Will unset.", nameof(Mqtt));
        }

        if (!SubscriptionFilter.StartsWith(SparkplugTopic.Namespace + "/", StringComparison.Ordinal))
        {
            throw new ArgumentException($"The subscription filter must be inside the {SparkplugTopic.Namespace} namespace.", nameof(SubscriptionFilter));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(SampleQueueCapacity, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(EventQueueCapacity, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(RebirthRequestInterval, TimeSpan.Zero);
        if (!Enum.IsDefined(SampleOverflowPolicy))
        {
            throw new ArgumentOutOfRangeException(nameof(SampleOverflowPolicy), SampleOverflowPolicy, "Not a defined policy.");
        }
    }
}

/// <summary>
/// One decoded metric value. <see cref="Value"/> holds the CLR type of <see cref="DataType"/> (see
/// <see cref="SparkplugMetric"/>); <see cref="Timestamp"/> is the metric's own, else the payload's, else
/// the arrival time.
/// </summary>
public sealed record SparkplugSample
{
    public required string GroupId { get; init; }

    public required string EdgeNodeId { get; init; }

    /// <summary>Null for an edge node's own metrics.</summary>
    public string? DeviceId { get; init; }

    public required string MetricName { get; init; }

    public ulong? Alias { get; init; }

    public required SparkplugDataType DataType { get; init; }

    public object? Value { get; init; }

    public required DateTimeOffset Timestamp { get; init; }

    public bool IsHistorical { get; init; }

    public bool IsTransient { get; init; }

    public bool IsNull { get; init; }

    /// <summary>NBIRTH, DBIRTH, NDATA or DDATA.</summary>
    public required SparkplugMessageType Source { get; init; }

    /// <summary>The metric's properties in this message (engineering units, <c>Quality</c>, …); null when it carried none.</summary>
    public IReadOnlyDictionary<string, SparkplugPropertyValue>? Properties { get; init; }
}

public enum SparkplugHostEventKind
{
    NodeOnline,
    NodeOffline,
    DeviceOnline,
    DeviceOffline,

    /// <summary>An NCMD <c>Node Control/Rebirth</c> was sent to the node.</summary>
    RebirthRequested,

    /// <summary>A message's seq was not the previous one + 1 (mod 256).</summary>
    SequenceGap,

    /// <summary>An NDEATH whose bdSeq is not the current NBIRTH's: from an earlier session, ignored.</summary>
    StaleDeathIgnored,

    /// <summary>A payload that did not decode (the detail says why); the message is skipped.</summary>
    MalformedPayload,

    /// <summary>A DATA metric whose alias or name the birth certificate did not define.</summary>
    UnknownMetric,
}

public sealed record SparkplugHostEvent(
    SparkplugHostEventKind Kind, string GroupId, string EdgeNodeId, string? DeviceId, DateTimeOffset Timestamp, string? Detail = null);

/// <summary>Counters of one host application since it was created.</summary>
public sealed record SparkplugHostStats
{
    public long MessagesReceived { get; init; }

    public long SamplesQueued { get; init; }

    public long SamplesDropped { get; init; }

    public long EventsDropped { get; init; }

    public long MalformedPayloads { get; init; }

    public long SequenceGaps { get; init; }

    public long RebirthsRequested { get; init; }

    public long StaleDeathsIgnored { get; init; }

    public long UnknownMetrics { get; init; }

    /// <summary>DATA, DBIRTH or DDEATH from an edge node (or device) the host has no birth certificate for.</summary>
    public long MessagesFromUnknownNodes { get; init; }

    public long StatesPublished { get; init; }
}
