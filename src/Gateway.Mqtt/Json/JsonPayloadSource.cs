using System.Threading.Channels;
using FactoryGateway.Mqtt.Client;
using FactoryGateway.Mqtt.Packets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace FactoryGateway.Mqtt.Json;

/// <summary>What a full sample queue does with one more sample.</summary>
public enum JsonSampleOverflowPolicy
{
    /// <summary>The MQTT handler waits for room: the client stops acknowledging and reading, so the broker is paced.</summary>
    Wait,

    /// <summary>The oldest queued sample is dropped and counted (<see cref="JsonPayloadSourceStats.SamplesDropped"/>).</summary>
    DropOldest,

    /// <summary>The new sample is dropped and counted (<see cref="JsonPayloadSourceStats.SamplesDropped"/>).</summary>
    DropNewest,
}

/// <summary>Options of <see cref="JsonPayloadSource"/>; <see cref="Validate"/> runs in its constructor.</summary>
public sealed record JsonPayloadSourceOptions
{
    public required MqttClientOptions Mqtt { get; init; }

    /// <summary>The mappings, tried in order; the first whose topic pattern matches takes the message.</summary>
    public required IReadOnlyList<JsonPayloadMapping> Mappings { get; init; }

    /// <summary>QoS 1: what the broker keeps for us across a reconnect of a persistent session; publishers at QoS 0 stay at 0.</summary>
    public MqttQos SubscriptionQos { get; init; } = MqttQos.AtLeastOnce;

    /// <summary>Samples waiting for the consumer. 10,000: about a second of a busy line's telemetry.</summary>
    public int SampleQueueCapacity { get; init; } = 10_000;

    public JsonSampleOverflowPolicy SampleOverflowPolicy { get; init; } = JsonSampleOverflowPolicy.Wait;

    public void Validate()
    {
        ArgumentNullException.ThrowIfNull(Mqtt);
        Mqtt.Validate();
        ArgumentNullException.ThrowIfNull(Mappings);
        if (Mappings.Count == 0)
        {
            throw new ArgumentException("At least one mapping.", nameof(Mappings));
        }

        foreach (JsonPayloadMapping mapping in Mappings)
        {
            ArgumentNullException.ThrowIfNull(mapping, nameof(Mappings));
            mapping.Validate();
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(SampleQueueCapacity, 1);
        if (!Enum.IsDefined(SampleOverflowPolicy))
        {
            throw new ArgumentOutOfRangeException(nameof(SampleOverflowPolicy), SampleOverflowPolicy, "Not a defined policy.");
        }
    }
}

/// <summary>Counters of one JSON source since it was created.</summary>
public sealed record JsonPayloadSourceStats
{
    public long MessagesReceived { get; init; }

    public long MessagesMapped { get; init; }

    /// <summary>Messages on a subscribed topic that no mapping's pattern matched.</summary>
    public long MessagesUnmatched { get; init; }

    /// <summary>Messages that gave no samples, in total; by reason in <see cref="MalformedByReason"/>.</summary>
    public long MessagesMalformed { get; init; }

    public IReadOnlyDictionary<JsonMappingError, long> MalformedByReason { get; init; } = new Dictionary<JsonMappingError, long>();

    public long SamplesQueued { get; init; }

    public long SamplesDropped { get; init; }
}

/// <summary>
/// Third-party JSON telemetry over MQTT: subscribes to each mapping's filter and maps every message with
/// <see cref="JsonPayloadMapper"/> onto <see cref="Samples"/> (bounded, with
/// <see cref="JsonPayloadSourceOptions.SampleOverflowPolicy"/>). A payload that does not map is counted
/// by reason and logged with its topic, and acknowledged: it never stops the source.
/// </summary>
public sealed class JsonPayloadSource : IAsyncDisposable
{
    private readonly JsonPayloadSourceOptions _options;
    private readonly JsonPayloadMapper[] _mappers;
    private readonly ILogger _logger;
    private readonly ILoggerFactory? _loggerFactory;
    private readonly TimeProvider _time;
    private readonly Channel<JsonSample> _samples;
    private readonly long[] _malformed = new long[Enum.GetValues<JsonMappingError>().Length];
    private MqttClient? _client;
    private long _received;
    private long _mapped;
    private long _unmatched;
    private long _queued;
    private long _dropped;

    public JsonPayloadSource(JsonPayloadSourceOptions options, ILoggerFactory? loggerFactory = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _mappers = [.. options.Mappings.Select(m => new JsonPayloadMapper(m))];
        _loggerFactory = loggerFactory;
        _logger = loggerFactory?.CreateLogger<JsonPayloadSource>() ?? NullLogger<JsonPayloadSource>.Instance;
        _time = timeProvider ?? TimeProvider.System;
        _samples = options.SampleOverflowPolicy == JsonSampleOverflowPolicy.Wait
            ? Channel.CreateBounded<JsonSample>(new BoundedChannelOptions(options.SampleQueueCapacity) { SingleWriter = true })
            : Channel.CreateBounded<JsonSample>(
                new BoundedChannelOptions(options.SampleQueueCapacity)
                {
                    SingleWriter = true,
                    FullMode = options.SampleOverflowPolicy == JsonSampleOverflowPolicy.DropOldest ? BoundedChannelFullMode.DropOldest : BoundedChannelFullMode.DropWrite,
                },
                _ => Interlocked.Increment(ref _dropped));
    }

    /// <summary>Mapped samples in message order. Completed when the source stops.</summary>
    public ChannelReader<JsonSample> Samples => _samples.Reader;

    public MqttClient? Client => _client;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (_client is not null)
        {
            throw new InvalidOperationException("The source is already started.");
        }

        _client = new MqttClient(_options.Mqtt, HandleAsync, _loggerFactory?.CreateLogger<MqttClient>(), _time);
        await _client.StartAsync(cancellationToken);
        MqttSubscription[] subscriptions = [.. _mappers.Select(m => m.Mapping.SubscriptionFilter).Distinct(StringComparer.Ordinal).Select(f => new MqttSubscription(f, _options.SubscriptionQos))];
        IReadOnlyList<MqttReasonCode> granted = await _client.SubscribeAsync(subscriptions, cancellationToken);
        if (granted.Any(code => (byte)code >= 0x80))
        {
            throw new InvalidOperationException($"The broker refused a JSON subscription: {string.Join(", ", granted)}.");
        }
    }

    public async Task StopAsync()
    {
        if (_client is not null)
        {
            await _client.DisconnectAsync();
        }

        _samples.Writer.TryComplete();
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        if (_client is not null)
        {
            await _client.DisposeAsync();
        }
    }

    public JsonPayloadSourceStats GetStats()
    {
        var byReason = new Dictionary<JsonMappingError, long>();
        long total = 0;
        for (int i = 0; i < _malformed.Length; i++)
        {
            long count = Interlocked.Read(ref _malformed[i]);
            if (count > 0)
            {
                byReason[(JsonMappingError)i] = count;
                total += count;
            }
        }

        return new JsonPayloadSourceStats
        {
            MessagesReceived = Interlocked.Read(ref _received),
            MessagesMapped = Interlocked.Read(ref _mapped),
            MessagesUnmatched = Interlocked.Read(ref _unmatched),
            MessagesMalformed = total,
            MalformedByReason = byReason,
            SamplesQueued = Interlocked.Read(ref _queued),
            SamplesDropped = Interlocked.Read(ref _dropped),
        };
    }

    private async ValueTask HandleAsync(MqttReceivedMessage message, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _received);
        JsonPayloadMapper? mapper = Array.Find(_mappers, m => m.Matches(message.Topic));
        if (mapper is null)
        {
            Interlocked.Increment(ref _unmatched);
            JsonPayloadLog.Unmatched(_logger, message.Topic);
            return;
        }

        var samples = new List<JsonSample>();
        JsonMappingResult result = mapper.Map(message.Topic, message.Payload, _time.GetUtcNow(), samples);
        if (!result.Success)
        {
            Interlocked.Increment(ref _malformed[(int)result.Error]);
            JsonPayloadLog.Malformed(_logger, message.Topic, result.Error, result.Detail);
            return;
        }

        Interlocked.Increment(ref _mapped);
        foreach (JsonSample sample in samples)
        {
            if (_options.SampleOverflowPolicy == JsonSampleOverflowPolicy.Wait)
            {
                await _samples.Writer.WriteAsync(sample, cancellationToken);
            }
            else
            {
                _samples.Writer.TryWrite(sample);
            }

            Interlocked.Increment(ref _queued);
        }
    }
}

/// <summary>Log messages of the JSON payload source (event ids 3150–3199).</summary>
internal static partial class JsonPayloadLog
{
    [LoggerMessage(3150, LogLevel.Warning, "JSON payload on {Topic} skipped ({Reason}): {Detail}")]
    public static partial void Malformed(ILogger logger, string topic, JsonMappingError reason, string? detail);

    [LoggerMessage(3151, LogLevel.Debug, "JSON message on {Topic} matches no mapping")]
    public static partial void Unmatched(ILogger logger, string topic);
}
