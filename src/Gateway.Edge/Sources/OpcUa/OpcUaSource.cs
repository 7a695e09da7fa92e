using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Threading.Channels;
using FactoryGateway.Edge.Config;
using FactoryGateway.Edge.Signals;
using FactoryGateway.OpcUa.Client;
using FactoryGateway.OpcUa.Encoding;
using FactoryGateway.OpcUa.Pki;
using FactoryGateway.OpcUa.Services;
using FactoryGateway.OpcUa.Transport;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace FactoryGateway.Edge.Sources.OpcUa;

/// <summary>
/// One OPC UA server as an edge source. It first finds every configured device on the server (its root object and, for
/// Profile auto, its companion specification by type definition) with a short session, then keeps one
/// <see cref="UaConnection"/> (reconnect with backoff, subscription transfer, gap reports) with one subscription per
/// device. Every data change becomes an <see cref="EdgeSample"/> with the value's SourceTimestamp (else ServerTimestamp,
/// else the receive time) and its status (a non-Good status is passed on, never dropped); the profile's state inputs
/// become the canonical <c>state</c>; connection changes, nameplates (read on every connect) and unavailable items go
/// to the sink as Connection, Identity and ItemStatus.
/// </summary>
public sealed class OpcUaSource : IEdgeSource
{
    /// <summary>The edge's OPC UA application URI; its application certificate names it.</summary>
    public const string ApplicationUri = "urn:factorygateway:edge";

    /// <summary>The edge's OPC UA application name.</summary>
    public const string ApplicationName = "FactoryGateway Edge";

    // Nameplate reads on connect: a few Translate and Read calls; 15 s covers a slow PLC without holding data back long.
    private static readonly TimeSpan s_nameplateTimeout = TimeSpan.FromSeconds(15);

    // OPC 10000-4 §7.39: the value's type does not fit (here: the line protocol cannot hold it).
    private const uint BadTypeMismatch = 0x8074_0000;

    /// <summary>The item name under which a device that is not on the server (no root, no known profile) is reported.</summary>
    public const string DeviceItemName = "(device)";

    /// <summary>The item name under which a device's alarms (its event item) are reported when they cannot be read.</summary>
    public const string EventsItemName = "(events)";

    // The key of a device's event item in its subscription.
    private const string EventsKey = "events";

    // OPC 10000-4 §7.39: the server does not support what was asked (here: events for the device).
    private const uint BadNotSupported = 0x803D_0000;

    // The subscription that watches for model changes (a name the device options refuse as a device id).
    private const string ModelSubscription = OpcUaDeviceOptions.ReservedId;

    // Model changes that arrived while a rediscovery was already asked for.
    private long _coalescedModelChanges;
    private long _deviceSetChanges;

    // Events queued per device between two publishes. 1,000: a ConditionRefresh of a machine with a few hundred retained
    // conditions fits, and an alarm burst is not cut (events are not values: the newest does not make older ones moot).
    private const uint EventQueueSize = 1000;

    private readonly OpcUaSourceOptions _options;
    private readonly string _dataDirectory;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;

    /// <summary>
    /// A source for one server. <paramref name="dataDirectory"/> is the edge's <see cref="EdgeOptions.DataDirectory"/>;
    /// the PKI lives in <see cref="PkiDirectory"/> below it. Throws <see cref="EdgeConfigurationException"/> for invalid options.
    /// </summary>
    public OpcUaSource(OpcUaSourceOptions options, string dataDirectory, ILoggerFactory? loggerFactory = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrEmpty(dataDirectory);
        var errors = new EdgeConfigurationErrors();
        options.Validate("OpcUa", errors);
        errors.ThrowIfAny();
        _options = options;
        _dataDirectory = dataDirectory;
        _loggerFactory = loggerFactory ?? NullLoggerFactory.Instance;
        _logger = _loggerFactory.CreateLogger<OpcUaSource>();
        _time = time ?? TimeProvider.System;
        Devices = [.. options.Devices.Select(d => d.Id)];
    }

    public string Name => _options.DisplayName;

    public IReadOnlyList<string> Devices { get; }

    /// <summary>The first delay before connecting again after a failure. 1 s: the OPC UA connection's own default.</summary>
    internal TimeSpan InitialRetryDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The longest delay between attempts. 10 s: the OPC UA connection's own default.</summary>
    internal TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Model change events that came while a rediscovery was already asked for (the bounded trigger's drop-newest overflow).</summary>
    public long ModelChangesCoalesced => Interlocked.Read(ref _coalescedModelChanges);

    /// <summary>Rediscoveries that found the devices changed (each re-created the connection).</summary>
    public long DeviceSetChanges => Interlocked.Read(ref _deviceSetChanges);

    /// <summary>The devices as found on the server (after discovery); for tests.</summary>
    internal IReadOnlyList<OpcUaDevicePlan>? Plans { get; private set; }

    /// <summary>The edge's OPC UA PKI directory (own/, trusted/, rejected/) under its data directory.</summary>
    public static string PkiDirectory(string dataDirectory)
    {
        ArgumentException.ThrowIfNullOrEmpty(dataDirectory);
        return Path.Combine(dataDirectory, "pki", "opcua");
    }

    /// <summary>Opens the edge's PKI (creating the application certificate on first use).</summary>
    public static CertificateStore OpenPki(string dataDirectory, bool autoAcceptUntrusted = false, TimeProvider? time = null) =>
        CertificateStore.Open(new PkiOptions { Directory = PkiDirectory(dataDirectory), AutoAcceptUntrusted = autoAcceptUntrusted }, ApplicationUri, ApplicationName, time);

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    public async Task RunAsync(IEdgeSink sink, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(sink);
        bool secure = !_options.SecurityPolicy.Equals("None", StringComparison.OrdinalIgnoreCase);
        using CertificateStore? pki = secure ? OpenPki(_dataDirectory, _options.AutoAcceptUntrusted, _time) : null;
        using X509Certificate2? userCertificate = _options.Identity.Type == OpcUaIdentityType.Certificate ? LoadUserCertificate(_options.Identity) : null;
        UaSessionOptions session = SessionOptions(pki, userCertificate);
        var reported = new Dictionary<string, bool>(StringComparer.Ordinal);
        try
        {
            IReadOnlyList<OpcUaDevicePlan> plans = await DiscoverAsync(session, sink, reported, cancellationToken);
            while (true)
            {
                Plans = plans;
                plans = await StreamAsync(session, plans, sink, reported, cancellationToken);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    private UaSessionOptions SessionOptions(CertificateStore? pki, X509Certificate2? userCertificate)
    {
        string policy = OpcUaSourceOptions.SecurityPolicies.First(p => p.Equals(_options.SecurityPolicy, StringComparison.OrdinalIgnoreCase));
        return new UaSessionOptions
        {
            SecurityPolicyUri = "http://opcfoundation.org/UA/SecurityPolicy#" + policy,
            SecurityMode = _options.SecurityMode,
            Pki = pki,
            AllowHostNameMismatch = _options.AllowHostNameMismatch,
            ApplicationUri = ApplicationUri,
            ApplicationName = ApplicationName,
            SessionName = $"{ApplicationName} {Name}",
            Identity = _options.Identity.Type switch
            {
                OpcUaIdentityType.UserName => UserIdentity.FromUserName(_options.Identity.UserName!, _options.Identity.Password!),
                OpcUaIdentityType.Certificate => UserIdentity.FromCertificate(userCertificate!),
                _ => UserIdentity.Anonymous,
            },
        };
    }

    private static X509Certificate2 LoadUserCertificate(OpcUaIdentityOptions identity)
    {
        string text = File.ReadAllText(identity.CertificateFile!);
        if (text.Contains("-----BEGIN CERTIFICATE-----", StringComparison.Ordinal))
        {
            return X509Certificate2.CreateFromPemFile(identity.CertificateFile!, identity.PrivateKeyFile);
        }

        using X509Certificate2 certificate = X509CertificateLoader.LoadCertificateFromFile(identity.CertificateFile!);
        using RSA key = RSA.Create();
        key.ImportFromPem(File.ReadAllText(identity.PrivateKeyFile!));
        return certificate.CopyWithPrivateKey(key);
    }

    private static void Report(IEdgeSink sink, Dictionary<string, bool> reported, IEnumerable<string> devices, bool up, string? reason)
    {
        foreach (string device in devices)
        {
            if (!reported.TryGetValue(device, out bool was) || was != up)
            {
                reported[device] = up;
                sink.Connection(device, up, reason);
            }
        }
    }

    private TimeSpan Backoff(int failures)
    {
        double ms = InitialRetryDelay.TotalMilliseconds * Math.Pow(2, Math.Min(failures, 16));
        return TimeSpan.FromMilliseconds(Math.Min(ms, MaxRetryDelay.TotalMilliseconds));
    }

    /// <summary>What one discovery found: the plans of the devices on the server and the configured devices that are not.</summary>
    private sealed record Discovery(IReadOnlyList<OpcUaDevicePlan> Plans, IReadOnlyList<(string Device, UaServiceException Error)> Missing);

    /// <summary>Finds every configured device in one short session. Throws when the server cannot be browsed.</summary>
    private async Task<Discovery> DiscoverOnceAsync(UaSessionOptions options, CancellationToken cancellationToken)
    {
        await using UaSession session = await UaSession.ConnectAsync(_options.Endpoint, options, _time, cancellationToken);
        IReadOnlyList<string> namespaces = await session.ReadNamespaceArrayAsync(cancellationToken);
        var plans = new List<OpcUaDevicePlan>();
        var missing = new List<(string Device, UaServiceException Error)>();
        foreach (OpcUaDeviceOptions device in _options.Devices)
        {
            try
            {
                plans.Add(await OpcUaDiscovery.DiscoverAsync(session, namespaces, device, cancellationToken));
            }
            catch (UaServiceException e) when (e.Status.Code is StatusCode.BadNodeIdUnknown or OpcUaDiscovery.BadTypeDefinitionInvalid)
            {
                // This device is not on the server as configured; the others still run.
                missing.Add((device.Id, e));
            }
        }

        await CloseQuietlyAsync(session);
        return new Discovery(plans, missing);
    }

    /// <summary>Finds every device, retrying with backoff while the server cannot be reached or has none of them yet.</summary>
    private async Task<IReadOnlyList<OpcUaDevicePlan>> DiscoverAsync(UaSessionOptions options, IEdgeSink sink, Dictionary<string, bool> reported, CancellationToken cancellationToken)
    {
        for (int failures = 0; ; failures++)
        {
            string reason;
            try
            {
                Discovery found = await DiscoverOnceAsync(options, cancellationToken);
                if (found.Plans.Count == 0)
                {
                    throw found.Missing[0].Error;
                }

                foreach (OpcUaDevicePlan plan in found.Plans)
                {
                    OpcUaSourceLog.DeviceFound(_logger, Name, plan.Id, plan.Profile.ToString(), plan.Root?.ToString() ?? "(none)", plan.Items.Count);
                    ReportEvents(sink, plan);
                }

                foreach ((string device, UaServiceException error) in found.Missing)
                {
                    OpcUaSourceLog.DeviceNotFound(_logger, Name, device, error.Message);
                    sink.ItemStatus(device, DeviceItemName, error.Status.Code, error.Message);
                    Report(sink, reported, [device], up: false, error.Message);
                }

                return found.Plans;
            }
            catch (Exception e) when (IsTransient(e, cancellationToken))
            {
                reason = Describe(e);
            }

            Report(sink, reported, Devices, up: false, reason);
            TimeSpan delay = Backoff(failures);
            OpcUaSourceLog.DiscoveryFailed(_logger, Name, reason, delay);
            await Task.Delay(delay, _time, cancellationToken);
        }
    }

    private static bool IsTransient(Exception e, CancellationToken cancellationToken) =>
        e is UaServiceException or IOException or System.Net.Sockets.SocketException or TimeoutException or FormatException or UaDecodeException
        || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested);

    private static string Describe(Exception e) => e switch
    {
        UaServiceException ua => $"{ua.Status}: {ua.Message}",
        OperationCanceledException => "the discovery timed out",
        _ => e.Message,
    };

    /// <summary>
    /// While the devices stream: browses the server again every <see cref="OpcUaSourceOptions.RediscoveryInterval"/>, and at
    /// once when the server reports a model change. Returns what it found as soon as it differs from
    /// <paramref name="current"/> (a device appeared, disappeared or changed its plan), after cancelling
    /// <paramref name="restart"/>; null when <paramref name="cancellationToken"/> ends it. Never throws.
    /// </summary>
    private async Task<Discovery?> WatchAsync(UaSessionOptions options, IReadOnlyList<OpcUaDevicePlan> current, ChannelReader<bool> modelChanges, CancellationTokenSource restart, CancellationToken cancellationToken)
    {
        try
        {
            while (true)
            {
                using (var interval = new CancellationTokenSource(_options.RediscoveryInterval, _time))
                using (var wake = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, interval.Token))
                {
                    try
                    {
                        await modelChanges.ReadAsync(wake.Token);
                        OpcUaSourceLog.ModelChanged(_logger, Name);
                    }
                    catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                    {
                        // The interval passed.
                    }
                }

                Discovery found;
                try
                {
                    found = await DiscoverOnceAsync(options, cancellationToken);
                }
                catch (Exception e) when (IsTransient(e, cancellationToken))
                {
                    OpcUaSourceLog.RediscoveryFailed(_logger, Name, Describe(e));
                    continue;
                }

                if (Differs(current, found.Plans))
                {
                    await restart.CancelAsync();
                    return found;
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return null;
        }
    }

    /// <summary>Whether the devices found differ from those streaming: another set of devices, or a device planned otherwise.</summary>
    private static bool Differs(IReadOnlyList<OpcUaDevicePlan> current, IReadOnlyList<OpcUaDevicePlan> found)
    {
        if (current.Count != found.Count)
        {
            return true;
        }

        var byId = current.ToDictionary(p => p.Id, Signature, StringComparer.Ordinal);
        return found.Any(p => !byId.TryGetValue(p.Id, out string? signature) || signature != Signature(p));
    }

    private static string Signature(OpcUaDevicePlan plan) =>
        $"{plan.Profile}|{plan.Root}|{plan.Events?.Notifier}|{plan.Events?.Sources?.Count}|{string.Join(",", plan.Items.Select(i => $"{i.Role}:{i.Index}:{i.Node}"))}";

    /// <summary>Reports what a rediscovery changed: devices gone (down, with the reason), devices that appeared or changed.</summary>
    private void ApplyRediscovery(IEdgeSink sink, Dictionary<string, bool> reported, IReadOnlyList<OpcUaDevicePlan> before, Discovery found)
    {
        var old = before.ToDictionary(p => p.Id, StringComparer.Ordinal);
        foreach ((string device, UaServiceException error) in found.Missing)
        {
            if (old.ContainsKey(device))
            {
                string reason = $"the device is no longer on the server: {error.Message}";
                OpcUaSourceLog.DeviceRemoved(_logger, Name, device, error.Message);
                sink.ItemStatus(device, DeviceItemName, error.Status.Code, error.Message);
                Report(sink, reported, [device], up: false, reason);
            }
        }

        foreach (OpcUaDevicePlan plan in found.Plans)
        {
            bool known = old.TryGetValue(plan.Id, out OpcUaDevicePlan? previous);
            if (!known || Signature(previous!) != Signature(plan))
            {
                OpcUaSourceLog.DeviceFound(_logger, Name, plan.Id, plan.Profile.ToString(), plan.Root?.ToString() ?? "(none)", plan.Items.Count);
                ReportEvents(sink, plan);
            }

            if (!known)
            {
                sink.ItemStatus(plan.Id, DeviceItemName, SignalQuality.Good);
            }
        }
    }

    /// <summary>Says once, at discovery, where a device's alarms come from, or that the server offers none for it (log and health).</summary>
    private void ReportEvents(IEdgeSink sink, OpcUaDevicePlan plan)
    {
        if (plan.Events is { } events)
        {
            OpcUaSourceLog.AlarmsFrom(_logger, Name, plan.Id, events.Notifier.ToString(), events.Sources?.Count ?? 0);
        }
        else if (plan.Profile is OpcUaDeviceProfile.MachineTool or OpcUaDeviceProfile.Robot or OpcUaDeviceProfile.Machinery)
        {
            const string Reason = "neither the device's object nor the Server object is an event notifier: alarms are not read and do not make the device down";
            OpcUaSourceLog.NoEvents(_logger, Name, plan.Id);
            sink.ItemStatus(plan.Id, EventsItemName, BadNotSupported, Reason);
        }
    }

    private static async Task CloseQuietlyAsync(UaSession session)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await session.CloseAsync(timeout.Token);
        }
        catch (Exception e) when (e is UaServiceException or IOException or OperationCanceledException or System.Net.Sockets.SocketException)
        {
            // The session was only for browsing; the server drops it on its timeout.
        }
    }

    private UaConnectionOptions ConnectionOptions(UaSessionOptions session, IReadOnlyList<OpcUaDevicePlan> plans)
    {
        double defaultSampling = _options.SamplingInterval is { } s ? s.TotalMilliseconds : -1;
        var options = new UaConnectionOptions
        {
            EndpointUrl = _options.Endpoint,
            Session = session,
            InitialReconnectDelay = InitialRetryDelay,
            MaxReconnectDelay = MaxRetryDelay,
        };
        foreach (OpcUaDevicePlan plan in plans)
        {
            var items = new List<UaMonitoredItemSpec>(plan.Items.Count);
            for (int i = 0; i < plan.Items.Count; i++)
            {
                DeviceItem item = plan.Items[i];
                OpcUaNodeOptions? o = item.Options;
                items.Add(new UaMonitoredItemSpec(i.ToString(CultureInfo.InvariantCulture), item.Node)
                {
                    SamplingInterval = o?.SamplingInterval is { } si ? si.TotalMilliseconds : defaultSampling,
                    QueueSize = o?.QueueSize ?? 1,
                    Filter = o is not null && (o.DeadbandType != DeadbandType.None || o.DataChangeTrigger is not null)
                        ? new DataChangeFilter(o.DataChangeTrigger ?? DataChangeTrigger.StatusValue, o.DeadbandType, o.DeadbandValue)
                        : null,
                });
            }

            if (plan.Events is { } events)
            {
                items.Add(new UaMonitoredItemSpec(EventsKey, UaNodeReference.Parse(events.Notifier.ToString()))
                {
                    AttributeId = AttributeIds.EventNotifier,
                    Filter = AlarmEvents.Filter,
                    QueueSize = EventQueueSize,
                });
            }

            options.Subscriptions.Add(new UaSubscriptionSpec(plan.Id, items)
            {
                Options = new UaSubscriptionOptions { PublishingInterval = _options.PublishingInterval.TotalMilliseconds },
            });
        }

        // Model changes (OPC 10000-5 §6.4.31): any BaseModelChangeEvent of the Server object starts a rediscovery.
        options.Subscriptions.Add(new UaSubscriptionSpec(ModelSubscription,
        [
            new UaMonitoredItemSpec(ModelSubscription, UaNodeReference.Parse(WellKnownNodes.Server.ToString()))
            {
                AttributeId = AttributeIds.EventNotifier,
                Filter = new EventFilter([SimpleAttributeOperand.Field(WellKnownNodes.BaseEventType, "EventType")]) { OfType = WellKnownNodes.BaseModelChangeEventType },
                QueueSize = EventQueueSize,
            },
        ])
        {
            Options = new UaSubscriptionOptions { PublishingInterval = _options.PublishingInterval.TotalMilliseconds },
        });
        return options;
    }

    /// <summary>
    /// Streams the devices of <paramref name="plans"/> on one connection until a rediscovery finds the devices changed;
    /// returns the new plans then (the caller streams them on a new connection).
    /// </summary>
    private async Task<IReadOnlyList<OpcUaDevicePlan>> StreamAsync(UaSessionOptions session, IReadOnlyList<OpcUaDevicePlan> plans, IEdgeSink sink, Dictionary<string, bool> reported, CancellationToken cancellationToken)
    {
        var byName = plans.ToDictionary(p => p.Id, StringComparer.Ordinal);
        var trackers = plans.ToDictionary(p => p.Id, p => new DeviceStateTracker(p), StringComparer.Ordinal);
        var unavailable = new HashSet<(string Device, int Item)>();
        // A pending model change already asks for the rediscovery a newer one would: overflow policy drop-newest, counted.
        var modelChanges = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite }, _ => Interlocked.Increment(ref _coalescedModelChanges));
        using var restart = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var watchStop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Task<Discovery?> watch = WatchAsync(session, plans, modelChanges.Reader, restart, watchStop.Token);
        try
        {
            await using var connection = new UaConnection(ConnectionOptions(session, plans), _loggerFactory.CreateLogger<UaConnection>(), _time);
            connection.Start();
            await ReadEventsAsync(connection, session, plans, byName, trackers, unavailable, modelChanges.Writer, sink, reported, restart.Token);
        }
        catch (OperationCanceledException) when (restart.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            // The rediscovery found the devices changed.
        }
        finally
        {
            await watchStop.CancelAsync();
            Discovery? found = await watch;
            if (found is not null && !cancellationToken.IsCancellationRequested)
            {
                Interlocked.Increment(ref _deviceSetChanges);
                ApplyRediscovery(sink, reported, plans, found);
                plans = found.Plans;
            }
        }

        cancellationToken.ThrowIfCancellationRequested();
        return plans;
    }

    private async Task ReadEventsAsync(
        UaConnection connection, UaSessionOptions session, IReadOnlyList<OpcUaDevicePlan> plans, Dictionary<string, OpcUaDevicePlan> byName,
        Dictionary<string, DeviceStateTracker> trackers, HashSet<(string Device, int Item)> unavailable, ChannelWriter<bool> modelChanges,
        IEdgeSink sink, Dictionary<string, bool> reported, CancellationToken cancellationToken)
    {
        await foreach (UaConnectionEvent e in connection.Events.ReadAllAsync(cancellationToken))
        {
            switch (e)
            {
                case UaEvents { Subscription.Name: ModelSubscription }:
                    modelChanges.TryWrite(true);
                    break;
                case UaItemUnavailable { Subscription: ModelSubscription } item:
                    OpcUaSourceLog.NoModelChangeEvents(_logger, Name, item.Reason, _options.RediscoveryInterval);
                    break;
                case UaDataChanges changes when byName.TryGetValue(changes.Subscription.Name, out OpcUaDevicePlan? plan):
                    OnData(sink, plan, trackers[plan.Id], changes, unavailable);
                    break;
                case UaEvents events when byName.TryGetValue(events.Subscription.Name, out OpcUaDevicePlan? plan):
                    OnEvents(sink, plan, trackers[plan.Id], events);
                    break;
                case UaItemUnavailable { Key: EventsKey } item when byName.TryGetValue(item.Subscription, out OpcUaDevicePlan? plan):
                    OpcUaSourceLog.ItemUnavailable(_logger, Name, plan.Id, EventsItemName, item.Status.Code, item.Reason);
                    sink.ItemStatus(plan.Id, EventsItemName, item.Status.Code, item.Reason);
                    break;
                case UaConnectionStateChanged { State: UaConnectionState.Connected }:
                    OpcUaSourceLog.Connected(_logger, Name);
                    foreach (DeviceStateTracker tracker in trackers.Values)
                    {
                        tracker.Reset();
                    }

                    Report(sink, reported, byName.Keys, up: true, null);
                    await SendIdentitiesAsync(session, plans, sink, cancellationToken);
                    break;
                case UaConnectionStateChanged { State: UaConnectionState.Disconnected } down:
                    string reason = down.Reason ?? "disconnected";
                    OpcUaSourceLog.Disconnected(_logger, Name, reason);
                    Report(sink, reported, byName.Keys, up: false, reason);
                    break;
                case UaItemUnavailable item when byName.TryGetValue(item.Subscription, out OpcUaDevicePlan? plan)
                        && int.TryParse(item.Key, NumberStyles.None, CultureInfo.InvariantCulture, out int index) && index < plan.Items.Count:
                    unavailable.Add((plan.Id, index));
                    OpcUaSourceLog.ItemUnavailable(_logger, Name, plan.Id, plan.Items[index].Name, item.Status.Code, item.Reason);
                    sink.ItemStatus(plan.Id, plan.Items[index].Name, item.Status.Code, item.Reason);
                    break;
                case UaDataGap gap:
                    OpcUaSourceLog.DataGap(_logger, Name, gap.Duration, gap.Recovery.ToString());
                    break;
            }
        }
    }

    private async Task SendIdentitiesAsync(UaSessionOptions options, IReadOnlyList<OpcUaDevicePlan> plans, IEdgeSink sink, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(s_nameplateTimeout);
        try
        {
            await using UaSession session = await UaSession.ConnectAsync(_options.Endpoint, options, _time, timeout.Token);
            IReadOnlyList<string> namespaces = await session.ReadNamespaceArrayAsync(timeout.Token);
            foreach (OpcUaDevicePlan plan in plans)
            {
                DeviceIdentity identity = await OpcUaDiscovery.ReadIdentityAsync(session, namespaces, plan, timeout.Token);
                if (!identity.IsEmpty)
                {
                    sink.Identity(plan.Id, identity);
                }
            }

            await CloseQuietlyAsync(session);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            OpcUaSourceLog.NameplateFailed(_logger, Name, $"no answer within {s_nameplateTimeout}");
        }
        catch (Exception e) when (e is UaServiceException or IOException or System.Net.Sockets.SocketException or TimeoutException or UaDecodeException)
        {
            OpcUaSourceLog.NameplateFailed(_logger, Name, e.Message);
        }
    }

    private void OnData(IEdgeSink sink, OpcUaDevicePlan plan, DeviceStateTracker tracker, UaDataChanges changes, HashSet<(string, int)> unavailable)
    {
        foreach (MonitoredItemNotification notification in changes.Values)
        {
            int index = (int)notification.ClientHandle - 1;
            if (index < 0 || index >= plan.Items.Count)
            {
                continue;
            }

            if (unavailable.Remove((plan.Id, index)))
            {
                sink.ItemStatus(plan.Id, plan.Items[index].Name, SignalQuality.Good);
            }

            DeviceItem item = plan.Items[index];
            DataValue value = notification.Value;
            long time = TimeOf(value);
            if (item.Role != ItemRole.Signal)
            {
                tracker.Update(item, index, value, time);
            }

            if (item.Signal is not null && ToSample(plan.Id, item, value, time) is { } sample)
            {
                sink.Sample(sample);
            }
        }

        if (tracker.Dirty && tracker.TryTake(out SignalValue state, out uint status))
        {
            sink.Sample(new EdgeSample(plan.Id, CanonicalSignals.State, state, status, tracker.Time));
        }
    }

    private void OnEvents(IEdgeSink sink, OpcUaDevicePlan plan, DeviceStateTracker tracker, UaEvents events)
    {
        foreach (EventFieldList fields in events.Events)
        {
            if (fields.ClientHandle != plan.EventsHandle || plan.Events is not { } source)
            {
                continue;
            }

            AlarmEvent alarm = AlarmEvents.Decode(fields.EventFields);
            if (!alarm.IsRefreshStart && !source.Counts(alarm.SourceNode))
            {
                continue;
            }

            if (tracker.Alarm(alarm))
            {
                OpcUaSourceLog.AlarmChanged(_logger, Name, plan.Id, alarm.ConditionKey ?? "(refresh)", alarm.Severity, alarm.Active == true, alarm.Message ?? "", tracker.DownAlarms);
            }
        }

        if (tracker.Dirty && tracker.TryTake(out SignalValue state, out uint status))
        {
            sink.Sample(new EdgeSample(plan.Id, CanonicalSignals.State, state, status, tracker.Time));
        }
    }

    private long TimeOf(DataValue value) => TimeOf(value, _time);

    /// <summary>The value's SourceTimestamp, else its ServerTimestamp, else now: Unix nanoseconds UTC.</summary>
    internal static long TimeOf(DataValue value, TimeProvider time)
    {
        DateTime t = value.SourceTimestamp != default ? value.SourceTimestamp
            : value.ServerTimestamp != default ? value.ServerTimestamp
            : time.GetUtcNow().UtcDateTime;
        return (DateTime.SpecifyKind(t, DateTimeKind.Utc).Ticks - DateTime.UnixEpoch.Ticks) * 100;
    }

    /// <summary>The sample of one value under its signal; null for a Good value that carries nothing (a null variant).</summary>
    internal static EdgeSample? ToSample(string device, DeviceItem item, DataValue value, long time)
    {
        uint status = value.Status.Code;
        SignalValue? converted = Convert(item, value.Value);
        if (converted is null)
        {
            if (SignalQuality.IsGood(status))
            {
                if (value.Value.IsNull)
                {
                    return null;
                }

                // A value the line protocol cannot hold (an array, a structure): passed as a status, not dropped silently.
                status = BadTypeMismatch;
            }

            converted = SignalValue.Integer(0);
        }

        return new EdgeSample(device, item.Signal!, converted.Value, status, time);
    }

    private static SignalValue? Convert(DeviceItem item, Variant v)
    {
        if (v.IsNull || v.IsArray)
        {
            return null;
        }

        switch (item.Signal)
        {
            case CanonicalSignals.PartsTotal or CanonicalSignals.PartsGood or CanonicalSignals.Cycles when item.Options is null:
                return v.TryGetInt64(out long count) ? SignalValue.Integer(count)
                    : v.TryGetDouble(out double d) && double.IsFinite(d) ? SignalValue.Integer((long)d) : null;
            case CanonicalSignals.PowerOnSeconds when item.Options is null:
                return v.TryGetDouble(out double p) ? SignalValue.Float(p * item.Scale) : null;
        }

        return v.Value switch
        {
            bool b => SignalValue.Boolean(b),
            float or double => SignalValue.Float(v.TryGetDouble(out double f) ? f * item.Scale : double.NaN),
            ulong u => SignalValue.Unsigned(u),
            sbyte or byte or short or ushort or int or uint or long => v.TryGetInt64(out long n) ? SignalValue.Integer(n) : null,
            string s => SignalValue.String(s),
            LocalizedText l => SignalValue.String(l.Text ?? ""),
            DateTime dt => SignalValue.String(dt.ToString("O", CultureInfo.InvariantCulture)),
            NodeId or ExpandedNodeId or QualifiedName or Guid or StatusCode => SignalValue.String(v.Value.ToString() ?? ""),
            _ => null,
        };
    }
}
