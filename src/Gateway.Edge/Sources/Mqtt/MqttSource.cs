using System.Globalization;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using FactoryGateway.Edge.Config;
using FactoryGateway.Edge.Signals;
using FactoryGateway.Mqtt.Client;
using FactoryGateway.Mqtt.Json;
using FactoryGateway.Mqtt.Packets;
using FactoryGateway.Mqtt.Sparkplug;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace FactoryGateway.Edge.Sources.Mqtt;

/// <summary>Counters of one MQTT source since it was created (for health and tests).</summary>
public sealed record MqttSourceStats
{
    /// <summary>Messages on the JSON connection.</summary>
    public long JsonMessages { get; init; }

    /// <summary>JSON messages on a subscribed topic that no mapping matched.</summary>
    public long JsonUnmatched { get; init; }

    /// <summary>JSON payloads that gave no samples (invalid JSON, a bad timestamp, no usable mapped field, …); each is logged with its topic and reason.</summary>
    public long JsonMalformed { get; init; }

    /// <summary>Mapped JSON fields that gave no sample (null, of the wrong type, not representable); each is a bad item in health until it converts again.</summary>
    public long JsonFieldProblems { get; init; }

    /// <summary>Data metrics of a mapped Sparkplug device not in <see cref="MqttSparkplugOptions.MetricNames"/> under <see cref="MqttSparkplugOptions.Strict"/>: not sent, a bad item in health.</summary>
    public long SparkplugUnlisted { get; init; }

    /// <summary>Sparkplug payloads that did not decode (counted and logged by the host application).</summary>
    public long SparkplugMalformed { get; init; }

    /// <summary>Sparkplug metrics of a device no <see cref="MqttSparkplugOptions.Devices"/> entry maps.</summary>
    public long SparkplugUnmapped { get; init; }

    /// <summary>Metric values that are not a signal value (arrays, data sets, templates, bytes, date-times).</summary>
    public long UnsupportedValues { get; init; }

    /// <summary>Samples the sink took (<see cref="SampleAcceptance.Accepted"/>).</summary>
    public long SamplesAccepted { get; init; }

    /// <summary>Samples the sink found not new (<see cref="SampleAcceptance.Stale"/>).</summary>
    public long SamplesStale { get; init; }

    /// <summary>Samples the sink refused because its buffer is full (<see cref="SampleAcceptance.BufferFull"/>).</summary>
    public long SamplesBufferFull { get; init; }

    /// <summary>Samples the sink refused as invalid (<see cref="SampleAcceptance.Invalid"/>: device not configured, bad signal name).</summary>
    public long SamplesInvalid { get; init; }

    /// <summary>Broker connection losses (of either connection).</summary>
    public long ConnectionLosses { get; init; }
}

/// <summary>
/// One MQTT broker as an edge source: third-party JSON topics mapped by <see cref="JsonPayloadMapper"/> and/or
/// Sparkplug B edge nodes followed by <see cref="SparkplugHostApplication"/>, each on its own connection with a
/// stable client id and a persistent session (QoS 1 by default). Every mapped value becomes an
/// <see cref="EdgeSample"/> with the device's own timestamp (the receive time only when the device gives none).
/// <para>
/// JSON: the MQTT handler calls <see cref="IEdgeSink.Sample"/> and returns only after it returned, so a QoS 1
/// message is acknowledged to the broker only once the sink has it (a sink that blocks paces the broker). A
/// device is up while the connection is up and it has published within <see cref="MqttSourceOptions.SilenceTimeout"/>.
/// Sparkplug: NBIRTH/DBIRTH bring a device up (and its nameplate metrics give its identity), NDEATH/DDEATH
/// take it down; birth, death and control metrics are not samples. The host hands samples over through a
/// small bounded queue (<see cref="SparkplugQueueCapacity"/>), so a blocking sink pauses its handler too.
/// A lost broker connection takes every device of that connection down; it comes up again when it reports.
/// </para>
/// <para>
/// Items in health (<see cref="IEdgeSink.ItemStatus"/>): a signal whose sample is not Good (the JSON quality, Sparkplug's
/// Quality property, a Sparkplug null), a mapped JSON field that gives no sample (null, wrong type, not representable),
/// a Sparkplug metric whose value is not a signal value, and under a strict mapping a JSON topic whose message gives no
/// mapped signal or a Sparkplug metric not in the map. Each is reported once with its reason when it goes bad (again when
/// the reason changes) and reported Good when it next gives a Good sample.
/// </para>
/// </summary>
public sealed class MqttSource : IEdgeSource
{
    /// <summary>
    /// Sparkplug samples decoded and not yet handed to the sink. 64: a blocking sink stops the host's MQTT
    /// handler within a few dozen samples (Sparkplug data is QoS 0: TCP pushes back), while a birth certificate
    /// streams through without a hand-off per metric.
    /// </summary>
    public const int SparkplugQueueCapacity = 64;

    private static readonly HashSet<string> s_integerSignals = new(StringComparer.Ordinal)
    {
        CanonicalSignals.State, CanonicalSignals.PartsTotal, CanonicalSignals.PartsGood, CanonicalSignals.Cycles,
    };

    private readonly MqttSourceOptions _options;
    private readonly string _edgeId;
    private readonly ILoggerFactory? _loggerFactory;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly JsonRoute[] _routes;
    private readonly Dictionary<string, CurrentSensorOptions> _currentSensors = new(StringComparer.Ordinal);
    private readonly SparkplugDeviceMap? _sparkplugDevices;
    private readonly Lock _devicesLock = new();
    private readonly Dictionary<string, DeviceLink> _links = new(StringComparer.Ordinal);
    private readonly List<JsonSample> _jsonSamples = [];
    private readonly List<JsonFieldProblem> _jsonProblems = [];
    private readonly Lock _itemsLock = new();
    private readonly Dictionary<(string Device, string Item), (uint Status, string Reason)> _badItems = [];
    private readonly Dictionary<string, DeviceIdentity> _identities = new(StringComparer.Ordinal);
    private readonly HashSet<string> _identityPending = new(StringComparer.Ordinal);
    private IEdgeSink? _sink;
    private MqttClient? _jsonClient;
    private SparkplugHostApplication? _host;
    private int _running;
    private bool _bufferFull;
    private long _jsonMessages;
    private long _jsonUnmatched;
    private long _jsonMalformed;
    private long _jsonFieldProblems;
    private long _sparkplugUnlisted;
    private int _badItemCount;
    private long _sparkplugMalformed;
    private long _sparkplugUnmapped;
    private long _unsupported;
    private long _accepted;
    private long _stale;
    private long _full;
    private long _invalid;
    private long _losses;

    /// <param name="options">The broker's options, as validated by <see cref="EdgeOptions.Validate(string?, bool)"/>.</param>
    /// <param name="edgeId">The edge id (<see cref="EdgeOptions.EdgeId"/>): the default client id and Sparkplug host id derive from it.</param>
    public MqttSource(MqttSourceOptions options, string edgeId, ILoggerFactory? loggerFactory = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrWhiteSpace(edgeId);
        var errors = new EdgeConfigurationErrors();
        options.Validate("Mqtt", errors);
        errors.ThrowIfAny();
        _options = options;
        _edgeId = edgeId;
        _loggerFactory = loggerFactory;
        _logger = loggerFactory?.CreateLogger<MqttSource>() ?? NullLogger<MqttSource>.Instance;
        _time = timeProvider ?? TimeProvider.System;
        _routes = [.. options.Json.Select(m => new JsonRoute(m))];
        foreach (MqttDeviceOptions device in options.Devices)
        {
            if (device.CurrentSensor is { } sensor)
            {
                _currentSensors[device.Id] = sensor;
            }
        }

        _sparkplugDevices = options.Sparkplug.Enabled ? new SparkplugDeviceMap(options.Sparkplug) : null;
        Devices = [.. options.Devices.Select(d => d.Id)
            .Concat(options.Json.Where(j => j.DeviceId is not null).Select(j => j.DeviceId!))
            .Concat(options.Sparkplug.Enabled ? options.Sparkplug.Devices.Select(d => d.Id) : [])
            .Distinct(StringComparer.Ordinal)];
    }

    public string Name => _options.DisplayName;

    /// <summary>
    /// The configured device ids: <see cref="MqttSourceOptions.Devices"/>, fixed JSON device ids and the Sparkplug map.
    /// JSON devices named by a topic level or a payload member are known only when they publish.
    /// </summary>
    public IReadOnlyList<string> Devices { get; }

    /// <summary>The JSON connection's client id (null when no JSON mapping is configured).</summary>
    public string? JsonClientId => _routes.Length == 0 ? null : _options.EffectiveClientId(_edgeId);

    /// <summary>The Sparkplug connection's client id (null when Sparkplug is off).</summary>
    public string? SparkplugClientId => !_options.Sparkplug.Enabled ? null
        : _routes.Length == 0 ? _options.EffectiveClientId(_edgeId) : _options.EffectiveClientId(_edgeId) + "-spb";

    public MqttSourceStats GetStats() => new()
    {
        JsonMessages = Interlocked.Read(ref _jsonMessages),
        JsonUnmatched = Interlocked.Read(ref _jsonUnmatched),
        JsonMalformed = Interlocked.Read(ref _jsonMalformed),
        JsonFieldProblems = Interlocked.Read(ref _jsonFieldProblems),
        SparkplugUnlisted = Interlocked.Read(ref _sparkplugUnlisted),
        SparkplugMalformed = Interlocked.Read(ref _sparkplugMalformed),
        SparkplugUnmapped = Interlocked.Read(ref _sparkplugUnmapped),
        UnsupportedValues = Interlocked.Read(ref _unsupported),
        SamplesAccepted = Interlocked.Read(ref _accepted),
        SamplesStale = Interlocked.Read(ref _stale),
        SamplesBufferFull = Interlocked.Read(ref _full),
        SamplesInvalid = Interlocked.Read(ref _invalid),
        ConnectionLosses = Interlocked.Read(ref _losses),
    };

    /// <summary>
    /// Connects (retrying until the broker answers), subscribes and feeds <paramref name="sink"/> until
    /// <paramref name="cancellationToken"/> fires; then disconnects (keeping the persistent session) and reports
    /// every device down. Throws <see cref="MqttConnectException"/> when the broker refuses the first CONNECT
    /// (bad credentials, not authorised): a configuration the source cannot run with.
    /// </summary>
    public async Task RunAsync(IEdgeSink sink, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(sink);
        if (Interlocked.Exchange(ref _running, 1) != 0)
        {
            throw new InvalidOperationException("The MQTT source is already running.");
        }

        _sink = sink;
        MqttSourceLog.Starting(_logger, Name, _options.Host, _options.Port, JsonClientId ?? SparkplugClientId!, _routes.Length, _options.Sparkplug.Enabled);
        var tasks = new List<Task>();
        ITimer? silence = null;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        try
        {
            if (_routes.Length > 0)
            {
                _jsonClient = new MqttClient(ClientOptions(JsonClientId!), HandleJsonAsync, _loggerFactory?.CreateLogger<MqttClient>(), _time);
                silence = _time.CreateTimer(_ => CheckSilence(), null, SilenceCheckPeriod, SilenceCheckPeriod);
                tasks.Add(StartJsonAsync(_jsonClient, stop.Token));
            }

            if (_sparkplugDevices is not null)
            {
                MqttSparkplugOptions sparkplug = _options.Sparkplug;
                _host = new SparkplugHostApplication(
                    new SparkplugHostOptions
                    {
                        HostId = sparkplug.EffectiveHostId(_edgeId),
                        Mqtt = ClientOptions(SparkplugClientId!),
                        SubscriptionFilter = sparkplug.GroupIds.Count == 1 ? $"{SparkplugTopic.Namespace}/{sparkplug.GroupIds[0]}/#" : $"{SparkplugTopic.Namespace}/#",
                        SubscriptionQos = (MqttQos)_options.SubscriptionQos,
                        SampleQueueCapacity = SparkplugQueueCapacity,
                        SampleOverflowPolicy = SparkplugSampleOverflowPolicy.Wait,
                    },
                    _loggerFactory,
                    _time);
                tasks.Add(RunSparkplugAsync(_host, stop.Token));
            }

            // A part that fails (a refused CONNECT or subscription) stops the other and is thrown.
            if ((await Task.WhenAny(tasks)).IsFaulted)
            {
                await stop.CancelAsync();
            }

            await Task.WhenAll(tasks);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        finally
        {
            if (silence is not null)
            {
                await silence.DisposeAsync();
            }

            await CloseConnectionsAsync();
            MarkAllDown(null, "source stopped");
            MqttSourceLog.Stopped(_logger, Name);
        }
    }

    public ValueTask DisposeAsync() => new(CloseConnectionsAsync());

    // The Sparkplug host says STATE offline; both connections end with DISCONNECT, which keeps the persistent session.
    private async Task CloseConnectionsAsync()
    {
        if (Interlocked.Exchange(ref _host, null) is { } host)
        {
            await host.DisposeAsync();
        }

        if (Interlocked.Exchange(ref _jsonClient, null) is { } client)
        {
            await client.DisconnectAsync();
            await client.DisposeAsync();
        }
    }

    private TimeSpan SilenceCheckPeriod => _options.SilenceTimeout / 4;

    private MqttClientOptions ClientOptions(string clientId) => new()
    {
        Host = _options.Host,
        Port = _options.Port,
        ProtocolVersion = _options.Protocol == "3.1.1" ? MqttProtocolVersion.V311 : MqttProtocolVersion.V500,
        ClientId = clientId,
        CleanStart = !_options.PersistentSession,
        SessionExpiryInterval = _options.PersistentSession ? (uint)_options.SessionExpiry.TotalSeconds : 0,
        KeepAlive = _options.KeepAlive,
        UserName = _options.UserName,
        Password = _options.Password is null ? null : Encoding.UTF8.GetBytes(_options.Password),
        Tls = BuildTls(),
    };

    private SslClientAuthenticationOptions? BuildTls()
    {
        MqttTlsOptions tls = _options.Tls;
        if (!tls.Enabled)
        {
            return null;
        }

        var result = new SslClientAuthenticationOptions { TargetHost = tls.ServerName ?? _options.Host };
        if (tls.CaFile is not null)
        {
            var policy = new X509ChainPolicy { TrustMode = X509ChainTrustMode.CustomRootTrust, RevocationMode = X509RevocationMode.NoCheck };
            policy.CustomTrustStore.ImportFromPemFile(tls.CaFile);
            result.CertificateChainPolicy = policy;
        }

        if (tls.ClientCertificateFile is not null)
        {
            X509Certificate2 certificate = tls.ClientKeyFile is not null
                ? X509Certificate2.CreateFromPemFile(tls.ClientCertificateFile, tls.ClientKeyFile)
                : X509CertificateLoader.LoadPkcs12FromFile(tls.ClientCertificateFile, tls.ClientCertificatePassword);
            result.ClientCertificates = [certificate];
        }

        return result;
    }

    private async Task StartJsonAsync(MqttClient client, CancellationToken cancellationToken)
    {
        await client.StartAsync(cancellationToken);
        MqttSubscription[] subscriptions = [.. _routes.Select(r => r.SubscriptionFilter).Distinct(StringComparer.Ordinal).Select(f => new MqttSubscription(f, (MqttQos)_options.SubscriptionQos))];
        IReadOnlyList<MqttReasonCode> granted = await client.SubscribeAsync(subscriptions, cancellationToken);
        if (granted.Any(code => (byte)code >= 0x80))
        {
            throw new InvalidOperationException($"The broker refused a JSON subscription of {Name}: {string.Join(", ", granted)}.");
        }

        await WatchConnectionAsync(client, LinkKind.Json, cancellationToken);
    }

    private async Task RunSparkplugAsync(SparkplugHostApplication host, CancellationToken cancellationToken)
    {
        await host.StartAsync(cancellationToken);
        await Task.WhenAll(
            WatchConnectionAsync(host.Client!, LinkKind.Sparkplug, cancellationToken),
            ConsumeSparkplugAsync(host, cancellationToken));
    }

    // Every loss of the connection takes its devices down; they come up again when they report.
    private async Task WatchConnectionAsync(MqttClient client, LinkKind kind, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            await client.WaitUntilConnectedAsync(cancellationToken);
            await client.WaitUntilDisconnectedAsync(cancellationToken);
            Interlocked.Increment(ref _losses);
            MqttSourceLog.BrokerConnectionLost(_logger, Name, kind == LinkKind.Json ? "JSON" : "Sparkplug");
            MarkAllDown(kind, "broker connection lost");
        }
    }

    // ---- JSON ----

    private ValueTask HandleJsonAsync(MqttReceivedMessage message, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _jsonMessages);
        JsonRoute? route = Array.Find(_routes, r => r.Matches(message.Topic));
        if (route is null)
        {
            Interlocked.Increment(ref _jsonUnmatched);
            MqttSourceLog.Unmatched(_logger, Name, message.Topic);
            return ValueTask.CompletedTask;
        }

        // The handler runs one message at a time: the sample and problem lists are reused.
        _jsonSamples.Clear();
        _jsonProblems.Clear();
        JsonMappingResult result = route.Mapper.Map(message.Topic, message.Payload, _time.GetUtcNow(), _jsonSamples, _jsonProblems);
        foreach (JsonFieldProblem problem in _jsonProblems)
        {
            Interlocked.Increment(ref _jsonFieldProblems);
            MqttSourceLog.JsonFieldProblem(_logger, Name, message.Topic, problem.Detail);
            ReportItem(route.FixedDevice ?? problem.DeviceId, route.SignalName(problem.Signal), FieldStatus(problem.Error), problem.Detail);
        }

        if (!result.Success)
        {
            Interlocked.Increment(ref _jsonMalformed);
            MqttSourceLog.MalformedJson(_logger, Name, message.Topic, result.Error.ToString(), result.Detail);
            if (route.Options.Strict && result.Error == JsonMappingError.NoSignals && (route.FixedDevice ?? result.DeviceId) is { } silentDevice)
            {
                ReportItem(silentDevice, message.Topic, SignalQuality.BadConfigurationError, $"topic {message.Topic}: {result.Detail} (strict mapping)");
            }

            return ValueTask.CompletedTask;
        }

        bool connected = _jsonClient?.IsConnected == true;
        if (route.Options.Strict && (route.FixedDevice ?? result.DeviceId) is { } mappedDevice)
        {
            ClearItem(mappedDevice, message.Topic);
        }

        foreach (JsonSample sample in _jsonSamples)
        {
            string device = route.FixedDevice ?? sample.DeviceId;
            Seen(device, LinkKind.Json, connected);
            string signal = route.SignalName(sample.Signal);
            (uint status, string? reason) = sample.Quality switch
            {
                JsonSampleQuality.Good => (SignalQuality.Good, null),
                JsonSampleQuality.Uncertain => (SignalQuality.Uncertain, $"the payload's quality at {route.Options.QualityPath} is uncertain"),
                _ => (SignalQuality.Bad, $"the payload's quality at {route.Options.QualityPath} is bad"),
            };
            SignalValue value = sample.Text is { } text ? SignalValue.String(text) : NumberValue(signal, sample.Value);
            Deliver(device, signal, value, status, sample.TimestampUnixNanoseconds, reason);
        }

        return ValueTask.CompletedTask;
    }

    // A mapped field that gives no sample: a null is a device saying it has no value; the others are values that do not fit the mapping.
    private static uint FieldStatus(JsonMappingError error) => error switch
    {
        JsonMappingError.SignalNull => SignalQuality.Bad,
        JsonMappingError.ValueNotRepresentable => SignalQuality.BadOutOfRange,
        _ => SignalQuality.BadTypeMismatch,
    };

    private void CheckSilence()
    {
        long now = _time.GetTimestamp();
        List<string>? silent = null;
        lock (_devicesLock)
        {
            foreach ((string device, DeviceLink link) in _links)
            {
                if (link.Kind == LinkKind.Json && link.Up && _time.GetElapsedTime(link.LastSeen, now) > _options.SilenceTimeout)
                {
                    (silent ??= []).Add(device);
                }
            }

            foreach (string device in silent ?? [])
            {
                SetDown(device, _links[device], string.Create(CultureInfo.InvariantCulture, $"no message for {_options.SilenceTimeout.TotalSeconds:0.###} s"));
            }
        }
    }

    // ---- Sparkplug ----

    // One consumer of the host's two queues. Before each event, the samples queued before it are handed over, so a
    // death follows the data that preceded it; nameplate metrics of births are gathered and sent once the queue is idle.
    private async Task ConsumeSparkplugAsync(SparkplugHostApplication host, CancellationToken cancellationToken)
    {
        // A wait that lost the race is kept for the next round rather than abandoned (each would hold a waiter on its queue).
        Task<bool>? samples = null;
        Task<bool>? events = null;
        while (true)
        {
            DrainSparkplugSamples(host);
            if (host.Events.TryRead(out SparkplugHostEvent? hostEvent))
            {
                DrainSparkplugSamples(host);
                HandleSparkplugEvent(hostEvent);
                continue;
            }

            FlushIdentities();
            samples ??= host.Samples.WaitToReadAsync(cancellationToken).AsTask();
            events ??= host.Events.WaitToReadAsync(cancellationToken).AsTask();
            Task<bool> first = await Task.WhenAny(samples, events);
            if (!await first)
            {
                return; // the host stopped
            }

            if (first == samples)
            {
                samples = null;
            }
            else
            {
                events = null;
            }
        }
    }

    private void DrainSparkplugSamples(SparkplugHostApplication host)
    {
        while (host.Samples.TryRead(out SparkplugSample? sample))
        {
            HandleSparkplugSample(sample);
        }
    }

    private void HandleSparkplugSample(SparkplugSample sample)
    {
        string? device = _sparkplugDevices!.Resolve(sample.GroupId, sample.EdgeNodeId, sample.DeviceId);
        if (device is null)
        {
            if (_sparkplugDevices.FollowsGroup(sample.GroupId))
            {
                Interlocked.Increment(ref _sparkplugUnmapped);
                MqttSourceLog.SparkplugUnmapped(_logger, Name, sample.GroupId, sample.EdgeNodeId, sample.DeviceId);
            }

            return;
        }

        Seen(device, LinkKind.Sparkplug, _host?.Client?.IsConnected == true);
        if (sample.Source is SparkplugMessageType.NBirth or SparkplugMessageType.DBirth)
        {
            GatherIdentity(device, sample);
            return; // a birth certificate restates values: not an observation
        }

        if (sample.MetricName == SparkplugHostApplication.BdSeqMetric || sample.MetricName.StartsWith("Node Control/", StringComparison.Ordinal))
        {
            return;
        }

        string signal;
        if (_options.Sparkplug.MetricNames.TryGetValue(sample.MetricName, out string? renamed))
        {
            signal = renamed;
        }
        else if (_options.Sparkplug.Strict)
        {
            Interlocked.Increment(ref _sparkplugUnlisted);
            ReportItem(device, sample.MetricName, SignalQuality.BadConfigurationError, $"metric \"{sample.MetricName}\" is not in MetricNames (strict mapping): not sent");
            return;
        }
        else
        {
            signal = sample.MetricName;
        }

        long time = UnixNanoseconds(sample.Timestamp);
        if (sample.IsNull)
        {
            Deliver(device, signal, SignalValue.Integer(0), SignalQuality.Bad, time, $"metric \"{sample.MetricName}\" is null (is_null)");
            return;
        }

        if (!TryConvert(signal, sample.Value, out SignalValue value))
        {
            Interlocked.Increment(ref _unsupported);
            MqttSourceLog.UnsupportedValue(_logger, Name, device, sample.MetricName, sample.DataType.ToString());
            ReportItem(device, signal, SignalQuality.BadTypeMismatch, $"metric \"{sample.MetricName}\" has a {sample.DataType} value, which is not a signal value");
            return;
        }

        uint status = SparkplugStatus(sample.Properties);
        Deliver(device, signal, value, status, time, SignalQuality.IsGood(status) ? null : $"metric \"{sample.MetricName}\": Sparkplug Quality {QualityText(sample.Properties)}");
    }

    private void HandleSparkplugEvent(SparkplugHostEvent hostEvent)
    {
        MqttSourceLog.SparkplugEvent(_logger, Name, hostEvent.Kind.ToString(), hostEvent.GroupId, hostEvent.EdgeNodeId, hostEvent.DeviceId, hostEvent.Detail);
        switch (hostEvent.Kind)
        {
            case SparkplugHostEventKind.NodeOnline:
            case SparkplugHostEventKind.DeviceOnline:
                if (Resolve(hostEvent) is { } born)
                {
                    Seen(born, LinkKind.Sparkplug, _host?.Client?.IsConnected == true);
                }

                break;
            case SparkplugHostEventKind.NodeOffline:
                if (Resolve(hostEvent) is { } node)
                {
                    Down(node, $"NDEATH ({hostEvent.Detail})");
                }

                break;
            case SparkplugHostEventKind.DeviceOffline:
                if (Resolve(hostEvent) is { } dead)
                {
                    Down(dead, hostEvent.Detail == "DDEATH" ? "DDEATH" : $"DDEATH implied: {hostEvent.Detail}");
                }

                break;
            case SparkplugHostEventKind.MalformedPayload:
                Interlocked.Increment(ref _sparkplugMalformed);
                break;
            default:
                break;
        }
    }

    private string? Resolve(SparkplugHostEvent hostEvent) =>
        _sparkplugDevices!.Resolve(hostEvent.GroupId, hostEvent.EdgeNodeId, hostEvent.DeviceId);

    private void GatherIdentity(string device, SparkplugSample sample)
    {
        if (sample.Value is not string text || text.Length == 0)
        {
            return;
        }

        MqttSparkplugIdentityOptions names = _options.Sparkplug.IdentityMetrics;
        string name = sample.MetricName;
        string last = name[(name.LastIndexOf('/') + 1)..];
        bool Is(string? configured) => configured is not null && (name == configured || last == configured);
        DeviceIdentity? part = Is(names.Manufacturer) ? new DeviceIdentity { Manufacturer = text }
            : Is(names.Model) ? new DeviceIdentity { Model = text }
            : Is(names.SerialNumber) ? new DeviceIdentity { SerialNumber = text }
            : Is(names.ProductInstanceUri) ? new DeviceIdentity { ProductInstanceUri = text }
            : null;
        if (part is null)
        {
            return;
        }

        DeviceIdentity merged = _identities.TryGetValue(device, out DeviceIdentity? known) ? known.Merge(part) : part;
        if (merged != known)
        {
            _identities[device] = merged;
            _identityPending.Add(device);
        }
    }

    private void FlushIdentities()
    {
        foreach (string device in _identityPending)
        {
            _sink!.Identity(device, _identities[device]);
        }

        _identityPending.Clear();
    }

    // ---- shared ----

    private void Deliver(string device, string signal, SignalValue value, uint status, long time, string? reason = null)
    {
        Count(device, _sink!.Sample(new EdgeSample(device, signal, value, status, time)));
        if (SignalQuality.IsGood(status))
        {
            ClearItem(device, signal);
        }
        else
        {
            ReportItem(device, signal, status, reason ?? "not Good");
        }

        if (_currentSensors.TryGetValue(device, out CurrentSensorOptions? sensor) && signal == sensor.Signal)
        {
            MachineState? state = SignalQuality.IsBad(status) || value.AsNumber is not { } current
                ? null
                : CurrentSensorRule.Classify(current, sensor.IdleThreshold!.Value, sensor.RunThreshold!.Value);
            Count(device, state is { } s
                ? _sink.Sample(new EdgeSample(device, CanonicalSignals.State, SignalValue.Integer((long)s), status, time))
                : _sink.Sample(new EdgeSample(device, CanonicalSignals.State, SignalValue.Integer(0), SignalQuality.IsBad(status) ? status : SignalQuality.Bad, time)));
        }
    }

    // An item goes bad: the sink hears of it once, and again only when its status or reason changes.
    private void ReportItem(string device, string item, uint status, string reason)
    {
        lock (_itemsLock)
        {
            if (_badItems.TryGetValue((device, item), out (uint Status, string Reason) known) && known.Status == status && known.Reason == reason)
            {
                return;
            }

            _badItems[(device, item)] = (status, reason);
            Volatile.Write(ref _badItemCount, _badItems.Count);
            _sink!.ItemStatus(device, item, status, reason);
        }
    }

    // An item gave a Good sample: Good again if it was bad (the common case, no bad item at all, takes no lock).
    private void ClearItem(string device, string item)
    {
        if (Volatile.Read(ref _badItemCount) == 0)
        {
            return;
        }

        lock (_itemsLock)
        {
            if (_badItems.Remove((device, item)))
            {
                Volatile.Write(ref _badItemCount, _badItems.Count);
                _sink!.ItemStatus(device, item, SignalQuality.Good);
            }
        }
    }

    private void Count(string device, SampleAcceptance acceptance)
    {
        switch (acceptance)
        {
            case SampleAcceptance.Accepted:
                Interlocked.Increment(ref _accepted);
                Volatile.Write(ref _bufferFull, false);
                break;
            case SampleAcceptance.Stale:
                Interlocked.Increment(ref _stale);
                break;
            case SampleAcceptance.BufferFull:
                Interlocked.Increment(ref _full);
                if (!Volatile.Read(ref _bufferFull))
                {
                    Volatile.Write(ref _bufferFull, true);
                    MqttSourceLog.BufferFull(_logger, Name, device);
                }

                break;
            default:
                Interlocked.Increment(ref _invalid);
                break;
        }
    }

    // A device reported: it is up when its connection is (a message handled after the connection dropped does not bring it up).
    private void Seen(string device, LinkKind kind, bool connected)
    {
        lock (_devicesLock)
        {
            if (!_links.TryGetValue(device, out DeviceLink? link))
            {
                link = _links[device] = new DeviceLink(kind);
            }

            link.LastSeen = _time.GetTimestamp();
            if (connected && !link.Up)
            {
                link.Up = true;
                MqttSourceLog.DeviceUp(_logger, Name, device);
                _sink!.Connection(device, true);
            }
        }
    }

    private void Down(string device, string reason)
    {
        lock (_devicesLock)
        {
            if (_links.TryGetValue(device, out DeviceLink? link))
            {
                SetDown(device, link, reason);
            }
        }
    }

    private void MarkAllDown(LinkKind? kind, string reason)
    {
        if (_sink is null)
        {
            return;
        }

        lock (_devicesLock)
        {
            foreach ((string device, DeviceLink link) in _links)
            {
                if (kind is null || link.Kind == kind)
                {
                    SetDown(device, link, reason);
                }
            }
        }
    }

    private void SetDown(string device, DeviceLink link, string reason)
    {
        if (link.Up)
        {
            link.Up = false;
            MqttSourceLog.DeviceDown(_logger, Name, device, reason);
            _sink!.Connection(device, false, reason);
        }
    }

    // The four integer canonical signals are written as integers when the number is whole; everything else as a float.
    private static SignalValue NumberValue(string signal, double number) =>
        s_integerSignals.Contains(signal) && Math.Abs(number) < 9.2e18 && Math.Floor(number) == number
            ? SignalValue.Integer((long)number)
            : SignalValue.Float(number);

    internal static bool TryConvert(string signal, object? value, out SignalValue result)
    {
        switch (value)
        {
            case sbyte or short or int or long or byte or ushort or uint:
                result = SignalValue.Integer(Convert.ToInt64(value, CultureInfo.InvariantCulture));
                return true;
            case ulong u:
                result = u <= long.MaxValue ? SignalValue.Integer((long)u) : SignalValue.Unsigned(u);
                return true;
            case float f:
                result = NumberValue(signal, f);
                return true;
            case double d:
                result = NumberValue(signal, d);
                return true;
            case bool b:
                result = SignalValue.Boolean(b);
                return true;
            case string s:
                result = SignalValue.String(s);
                return true;
            default:
                result = default;
                return false;
        }
    }

    // Sparkplug's Quality property (3.0, §6.4.9 examples): 192 GOOD, 0 BAD, 500 STALE; other values as OPC DA quality bits.
    internal static uint SparkplugStatus(IReadOnlyDictionary<string, SparkplugPropertyValue>? properties)
    {
        if (properties is null || !properties.TryGetValue("Quality", out SparkplugPropertyValue? quality) || quality.IsNull)
        {
            return SignalQuality.Good;
        }

        long? code = quality.Value switch
        {
            int i => i,
            long l => l,
            uint u => u,
            ulong u when u <= long.MaxValue => (long)u,
            short s => s,
            ushort s => s,
            _ => null,
        };
        return code switch
        {
            null => SignalQuality.Uncertain,
            500 => SignalQuality.Uncertain,
            _ => (code.Value & 0xC0) switch
            {
                0xC0 => SignalQuality.Good,
                0x40 => SignalQuality.Uncertain,
                _ => SignalQuality.Bad,
            },
        };
    }

    // The Quality property as the reason shows it: its number and, for the values Sparkplug names, the name.
    private static string QualityText(IReadOnlyDictionary<string, SparkplugPropertyValue>? properties)
    {
        if (properties is null || !properties.TryGetValue("Quality", out SparkplugPropertyValue? quality) || quality.IsNull)
        {
            return "absent";
        }

        string text = Convert.ToString(quality.Value, CultureInfo.InvariantCulture) ?? "?";
        return text switch
        {
            "0" => "0 (BAD)",
            "500" => "500 (STALE)",
            "192" => "192 (GOOD)",
            _ => text,
        };
    }

    private static long UnixNanoseconds(DateTimeOffset time) => (time.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) * 100;

    private enum LinkKind
    {
        Json,
        Sparkplug,
    }

    private sealed class DeviceLink(LinkKind kind)
    {
        public LinkKind Kind { get; } = kind;

        public bool Up { get; set; }

        public long LastSeen { get; set; }
    }

    // A JSON mapping with its mapper; a fixed device id on a topic without variables checks the literal first level itself.
    private sealed class JsonRoute
    {
        private readonly string? _firstLevel;

        public JsonRoute(MqttJsonMappingOptions options)
        {
            Options = options;
            JsonPayloadMapping mapping = options.ToMapping();
            Mapper = new JsonPayloadMapper(mapping);
            FixedDevice = options.DeviceId;
            if (mapping.TopicPattern != options.Topic)
            {
                _firstLevel = options.Topic.Split('/')[0];
            }
        }

        public MqttJsonMappingOptions Options { get; }

        public JsonPayloadMapper Mapper { get; }

        /// <summary>The name a mapping signal is written as (<see cref="MqttJsonMappingOptions.SignalNames"/>).</summary>
        public string SignalName(string signal) => Options.SignalNames.TryGetValue(signal, out string? renamed) ? renamed : signal;

        public string? FixedDevice { get; }

        /// <summary>The configured topic's filter (not the mapper's, whose first level may be a stand-in variable).</summary>
        public string SubscriptionFilter => _firstLevel is null ? Mapper.Mapping.SubscriptionFilter : Options.Topic;

        public bool Matches(string topic)
        {
            if (!Mapper.Matches(topic))
            {
                return false;
            }

            int slash = topic.IndexOf('/', StringComparison.Ordinal);
            return _firstLevel is null || topic.AsSpan(0, slash < 0 ? topic.Length : slash).SequenceEqual(_firstLevel);
        }
    }

    // (group, edge node, device) → configured device id; an entry without a group matches any followed group.
    private sealed class SparkplugDeviceMap
    {
        private readonly Dictionary<(string Group, string Node, string Device), string> _exact = [];
        private readonly Dictionary<(string Node, string Device), string> _anyGroup = [];
        private readonly HashSet<string> _groups;

        public SparkplugDeviceMap(MqttSparkplugOptions options)
        {
            _groups = new HashSet<string>(options.GroupIds, StringComparer.Ordinal);
            foreach (MqttSparkplugDeviceOptions device in options.Devices)
            {
                if (device.GroupId is null)
                {
                    _anyGroup[(device.EdgeNode, device.Device ?? "")] = device.Id;
                }
                else
                {
                    _exact[(device.GroupId, device.EdgeNode, device.Device ?? "")] = device.Id;
                }
            }
        }

        public bool FollowsGroup(string group) => _groups.Count == 0 || _groups.Contains(group);

        public string? Resolve(string group, string node, string? device)
        {
            if (!FollowsGroup(group))
            {
                return null;
            }

            return _exact.TryGetValue((group, node, device ?? ""), out string? id) || _anyGroup.TryGetValue((node, device ?? ""), out id) ? id : null;
        }
    }
}
