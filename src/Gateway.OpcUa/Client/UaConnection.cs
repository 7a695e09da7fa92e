using System.Threading.Channels;
using FactoryGateway.OpcUa.Encoding;
using FactoryGateway.OpcUa.Services;
using FactoryGateway.OpcUa.Transport;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace FactoryGateway.OpcUa.Client;

/// <summary>
/// One connection to one server, kept alive by an actor: a single loop owns the channel, the session
/// and the declared subscriptions, and reacts to what its mailbox tells it (a channel that stopped, a
/// subscription stream that failed, a failed keep-alive, a stop). On a loss it reconnects with jittered
/// exponential backoff on the injected <see cref="TimeProvider"/>; on the new session it first asks the
/// server to transfer the old subscriptions (TransferSubscriptions), and creates again what the server
/// no longer has — after reading the NamespaceArray again and resolving every <c>nsu=</c> node id and
/// browse path anew, so a server that renumbered its namespaces is followed. The consumer reads one
/// ordered stream, <see cref="Events"/>: data messages, state changes (Connecting, Connected,
/// Disconnected with a reason) and, after each outage, a <see cref="UaDataGap"/> with its start and end.
/// </summary>
public sealed class UaConnection : IAsyncDisposable
{
    // Mailbox messages: few per connection generation (one per subscription stream, the channel, keep-alive faults).
    // Overflow policy: drop the oldest — an older fault of the same generation says nothing a newer one does not, stale
    // generations are ignored anyway, and a stop is also signalled through the stop token. Counter: MailboxDropped.
    private const int MailboxCapacity = 256;

    private readonly UaConnectionOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly Channel<Fault> _mailbox;
    private readonly Channel<UaConnectionEvent> _events;
    private readonly CancellationTokenSource _stop = new();
    private readonly UaSubscriptionSpec[] _specs;
    // The actor's state: touched only by the loop (and the pumps it starts and awaits).
    private readonly UaSubscription?[] _subscriptions;
    private readonly List<Task> _pumps = [];
    private IReadOnlyList<string>? _namespaces;
    private UaSession? _session;
    private int _generation;
    private Task? _loop;
    private int _state = (int)UaConnectionState.Disconnected;
    private long _deliveryFullWaits;
    private long _droppedEvents;
    private long _mailboxDropped;
    private long _connects;
    private long _failedAttempts;
    private long _transferred;
    private long _recreated;
    private long _gaps;

    public UaConnection(UaConnectionOptions options, ILogger? logger = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Validate();
        _logger = logger ?? NullLogger.Instance;
        _time = time ?? TimeProvider.System;
        _specs = [.. options.Subscriptions];
        _subscriptions = new UaSubscription?[_specs.Length];
        _mailbox = Channel.CreateBounded<Fault>(
            new BoundedChannelOptions(MailboxCapacity) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true },
            _ => Interlocked.Increment(ref _mailboxDropped));
        var delivery = new BoundedChannelOptions(options.DeliveryCapacity)
        {
            FullMode = options.DeliveryOverflow == UaDeliveryOverflowPolicy.DropOldest ? BoundedChannelFullMode.DropOldest : BoundedChannelFullMode.Wait,
            SingleReader = false,
        };
        _events = Channel.CreateBounded<UaConnectionEvent>(delivery, _ =>
        {
            Interlocked.Increment(ref _droppedEvents);
            UaConnectionLog.EventDropped(_logger, _options.EndpointUrl);
        });
    }

    /// <summary>Data, gaps and state changes in order. Bounded by <see cref="UaConnectionOptions.DeliveryCapacity"/>, overflow per <see cref="UaConnectionOptions.DeliveryOverflow"/>; completes after <see cref="DisposeAsync"/>.</summary>
    public ChannelReader<UaConnectionEvent> Events => _events.Reader;

    public UaConnectionState State => (UaConnectionState)Volatile.Read(ref _state);

    /// <summary>Times a delivery had to wait because <see cref="Events"/> was full (policy Wait).</summary>
    public long DeliveryFullWaits => Interlocked.Read(ref _deliveryFullWaits);

    /// <summary>Events dropped because <see cref="Events"/> was full (policy DropOldest).</summary>
    public long DroppedEvents => Interlocked.Read(ref _droppedEvents);

    /// <summary>Mailbox messages dropped because the mailbox was full (an older fault notice; harmless, counted for diagnosis).</summary>
    public long MailboxDropped => Interlocked.Read(ref _mailboxDropped);

    /// <summary>Successful connections (the first one included).</summary>
    public long Connects => Interlocked.Read(ref _connects);

    /// <summary>Connection attempts that failed.</summary>
    public long FailedAttempts => Interlocked.Read(ref _failedAttempts);

    /// <summary>Subscriptions moved to a new session with TransferSubscriptions.</summary>
    public long TransferredSubscriptions => Interlocked.Read(ref _transferred);

    /// <summary>Subscriptions created again after a reconnect.</summary>
    public long RecreatedSubscriptions => Interlocked.Read(ref _recreated);

    /// <summary>Outages reported as <see cref="UaDataGap"/>.</summary>
    public long Gaps => Interlocked.Read(ref _gaps);

    /// <summary>The current session (null between sessions); for tests that make the server misbehave.</summary>
    internal UaSession? CurrentSession => Volatile.Read(ref _session);

    /// <summary>Starts the actor; it connects at once and keeps connecting until disposed.</summary>
    public void Start()
    {
        if (_loop is not null)
        {
            throw new InvalidOperationException("the connection is already started.");
        }

        _loop = Task.Run(RunAsync);
    }

    /// <summary>Stops the actor: closes the session (its subscriptions are deleted on the server) and completes <see cref="Events"/>.</summary>
    public async ValueTask DisposeAsync()
    {
        if (!_stop.IsCancellationRequested)
        {
            await _stop.CancelAsync();
        }

        if (_loop is not null)
        {
            await _loop;
        }
        else
        {
            _events.Writer.TryComplete();
        }

        _stop.Dispose();
    }

    private async Task RunAsync()
    {
        CancellationToken stop = _stop.Token;
        int failures = 0;
        DateTimeOffset? gapStart = null;
        string gapReason = string.Empty;
        try
        {
            while (true)
            {
                stop.ThrowIfCancellationRequested();
                if (failures > 0)
                {
                    await Task.Delay(Backoff(failures), _time, stop);
                }

                await EmitAsync(new UaConnectionStateChanged(_time.GetUtcNow(), UaConnectionState.Connecting, null, null), stop);
                UaConnectionLog.Connecting(_logger, _options.EndpointUrl, failures + 1, _options.Session.Identity.ToString());
                (UaRecovery Recovery, List<UaItemUnavailable> Unavailable) established;
                try
                {
                    established = await EstablishAsync(stop);
                }
                catch (Exception ex) when (!stop.IsCancellationRequested)
                {
                    // Whatever failed (the network, the server, a malformed answer), the actor stays alive and tries again.
                    await TearDownAsync(graceful: false);
                    failures++;
                    Interlocked.Increment(ref _failedAttempts);
                    (StatusCode status, string reason) = Describe(ex);
                    UaConnectionLog.ConnectFailed(_logger, _options.EndpointUrl, failures, status.ToString(), reason, Backoff(failures));
                    await EmitAsync(new UaConnectionStateChanged(_time.GetUtcNow(), UaConnectionState.Disconnected, reason, status), stop);
                    continue;
                }

                failures = 0;
                Interlocked.Increment(ref _connects);
                DateTimeOffset now = _time.GetUtcNow();
                await EmitAsync(new UaConnectionStateChanged(now, UaConnectionState.Connected, null, null), stop);
                if (gapStart is { } start)
                {
                    Interlocked.Increment(ref _gaps);
                    UaConnectionLog.GapClosed(_logger, _options.EndpointUrl, now - start, established.Recovery);
                    await EmitAsync(new UaDataGap(start, now, established.Recovery, gapReason), stop);
                    gapStart = null;
                }

                foreach (UaItemUnavailable item in established.Unavailable)
                {
                    await EmitAsync(item, stop);
                }

                StartPumps();
                Fault fault = await NextFaultAsync(stop);
                gapStart = _time.GetUtcNow();
                (StatusCode lostStatus, string lostReason) = Describe(fault.Error);
                gapReason = lostReason;
                UaConnectionLog.ConnectionLost(_logger, _options.EndpointUrl, lostStatus.ToString(), lostReason);
                await TearDownAsync(graceful: false);
                await EmitAsync(new UaConnectionStateChanged(_time.GetUtcNow(), UaConnectionState.Disconnected, lostReason, lostStatus), stop);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // Disposed.
        }
        finally
        {
            await TearDownAsync(graceful: true);
            Volatile.Write(ref _state, (int)UaConnectionState.Stopped);
            _events.Writer.TryWrite(new UaConnectionStateChanged(_time.GetUtcNow(), UaConnectionState.Stopped, "disposed", null));
            _events.Writer.TryComplete();
            UaConnectionLog.Stopped(_logger, _options.EndpointUrl);
        }
    }

    /// <summary>Opens a session and brings every declared subscription back (transferred or created anew).</summary>
    private async Task<(UaRecovery, List<UaItemUnavailable>)> EstablishAsync(CancellationToken cancellationToken)
    {
        int generation = ++_generation;
        UaSession session = await UaSession.ConnectAsync(_options.EndpointUrl, _options.Session, _time, cancellationToken);
        Volatile.Write(ref _session, session);
        _ = session.Channel.Completion.ContinueWith(
            static (_, state) =>
            {
                var (connection, session, generation) = ((UaConnection, UaSession, int))state!;
                connection.Post(generation, session.Channel.Error ?? new UaServiceException(StatusCode.BadConnectionClosed, "the channel stopped."));
            },
            (this, session, generation), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        session.KeepAliveCompleted += (_, fault) =>
        {
            // A failed keep-alive read, or Publish stopped by an error that did not end the session
            // (the session then reads to stay alive, but no data would flow): either way, start over.
            if ((fault ?? session.PublishFault) is { } error)
            {
                Post(generation, error);
            }
        };

        IReadOnlyList<string> namespaces = await session.ReadNamespaceArrayAsync(cancellationToken);
        if (_namespaces is not null && !_namespaces.SequenceEqual(namespaces))
        {
            UaConnectionLog.NamespacesChanged(_logger, _options.EndpointUrl, namespaces.Count);
        }

        _namespaces = namespaces;
        bool hadSubscriptions = _subscriptions.Any(s => s is not null);
        var toCreate = new List<int>();
        if (_options.TransferSubscriptions && hadSubscriptions)
        {
            await TransferAsync(session, toCreate, cancellationToken);
        }
        else
        {
            toCreate.AddRange(Enumerable.Range(0, _specs.Length));
        }

        var unavailable = new List<UaItemUnavailable>();
        foreach (int index in toCreate)
        {
            await CreateAsync(session, index, namespaces, unavailable, cancellationToken);
            if (hadSubscriptions)
            {
                Interlocked.Increment(ref _recreated);
            }
        }

        UaRecovery recovery = hadSubscriptions && toCreate.Count == 0 ? UaRecovery.Transferred : UaRecovery.Recreated;
        UaConnectionLog.Connected(_logger, _options.EndpointUrl, session.SessionId.ToString(), _specs.Length, _specs.Sum(s => s.Items.Count) - unavailable.Count, recovery.ToString());
        return (recovery, unavailable);
    }

    private async Task TransferAsync(UaSession session, List<int> toCreate, CancellationToken cancellationToken)
    {
        var indices = new List<int>();
        var previous = new List<UaSubscription>();
        for (int i = 0; i < _specs.Length; i++)
        {
            if (_subscriptions[i] is { } old)
            {
                indices.Add(i);
                previous.Add(old);
            }
            else
            {
                toCreate.Add(i);
            }
        }

        IReadOnlyList<SubscriptionTransferResult> results;
        try
        {
            results = await session.TransferSubscriptionsAsync(previous, sendInitialValues: true, MaxCapacity(), cancellationToken);
        }
        catch (UaServiceException ex) when (ex.Status.CodeBits is StatusCode.BadServiceUnsupported)
        {
            // The server does not offer the service: create everything again.
            toCreate.AddRange(indices);
            toCreate.Sort();
            return;
        }

        for (int k = 0; k < indices.Count; k++)
        {
            int index = indices[k];
            if (results[k].Subscription is { } adopted)
            {
                _subscriptions[index] = adopted;
                Interlocked.Increment(ref _transferred);
                UaConnectionLog.Transferred(_logger, _options.EndpointUrl, _specs[index].Name, adopted.Id);
            }
            else
            {
                UaConnectionLog.TransferRefused(_logger, _options.EndpointUrl, _specs[index].Name, results[k].SubscriptionId, results[k].Status);
                toCreate.Add(index);
            }
        }

        toCreate.Sort();
    }

    private int MaxCapacity() => _specs.Length == 0 ? 1 : _specs.Max(s => s.Options.MessageBufferCapacity);

    /// <summary>Resolves the items of one declared subscription against this server and creates the subscription with them.</summary>
    private async Task CreateAsync(UaSession session, int index, IReadOnlyList<string> namespaces, List<UaItemUnavailable> unavailable, CancellationToken cancellationToken)
    {
        UaSubscriptionSpec spec = _specs[index];
        _subscriptions[index] = null;
        NodeId?[] resolved = await ResolveAsync(session, spec, namespaces, unavailable, cancellationToken);
        // Kept for a later transfer only once its monitored items exist: a half-built subscription is not worth moving.
        UaSubscription subscription = await session.CreateSubscriptionAsync(spec.Options, cancellationToken);
        var requests = new List<MonitoredItemRequest>(spec.Items.Count);
        for (int i = 0; i < spec.Items.Count; i++)
        {
            if (resolved[i] is { } nodeId)
            {
                UaMonitoredItemSpec item = spec.Items[i];
                requests.Add(new MonitoredItemRequest(new ReadValueId(nodeId, item.AttributeId))
                {
                    ClientHandle = (uint)(i + 1),
                    // Events are not sampled (OPC 10000-4 §5.13.1.2): 0.
                    SamplingInterval = item.IsEventItem ? 0 : item.SamplingInterval,
                    QueueSize = item.QueueSize,
                    Filter = item.Filter,
                });
            }
        }

        IReadOnlyList<MonitoredItemResult> results = requests.Count == 0 ? [] : await subscription.CreateMonitoredItemsAsync(requests, cancellationToken);
        bool events = false;
        foreach (MonitoredItemResult result in results)
        {
            UaMonitoredItemSpec item = spec.Items[(int)result.ClientHandle - 1];
            if (result.Status.IsBad)
            {
                Unavailable(unavailable, spec, item, result.Status, "CreateMonitoredItems refused it.");
            }
            else
            {
                events |= item.IsEventItem;
            }
        }

        _subscriptions[index] = subscription;
        if (events)
        {
            try
            {
                await subscription.ConditionRefreshAsync(cancellationToken);
            }
            catch (UaServiceException ex) when (ex.Status.CodeBits is not (StatusCode.BadSessionIdInvalid or StatusCode.BadSecureChannelClosed or StatusCode.BadConnectionClosed))
            {
                // A server without Alarms & Conditions (BadMethodInvalid, BadNotImplemented…): events still flow.
                UaConnectionLog.ConditionRefreshFailed(_logger, _options.EndpointUrl, spec.Name, ex.Status, ex.Message);
            }
        }
    }

    private async Task<NodeId?[]> ResolveAsync(UaSession session, UaSubscriptionSpec spec, IReadOnlyList<string> namespaces, List<UaItemUnavailable> unavailable, CancellationToken cancellationToken)
    {
        var resolved = new NodeId?[spec.Items.Count];
        var paths = new List<BrowsePath>();
        var pathItems = new List<int>();
        for (int i = 0; i < spec.Items.Count; i++)
        {
            UaMonitoredItemSpec item = spec.Items[i];
            try
            {
                if (item.Node.NodeId is { } nodeId)
                {
                    resolved[i] = nodeId.ToNodeId(namespaces);
                }
                else
                {
                    NodeId start = item.Node.StartingNode!.ToNodeId(namespaces);
                    paths.Add(new BrowsePath(start, [.. item.Node.Path.Select(p => new QualifiedName(NamespaceIndex(namespaces, p.NamespaceUri), p.Name))]));
                    pathItems.Add(i);
                }
            }
            catch (FormatException ex)
            {
                Unavailable(unavailable, spec, item, StatusCode.BadNodeIdUnknown, ex.Message);
            }
        }

        if (paths.Count == 0)
        {
            return resolved;
        }

        IReadOnlyList<BrowsePathResult> results = await session.TranslateBrowsePathsAsync(paths, cancellationToken);
        for (int k = 0; k < pathItems.Count; k++)
        {
            UaMonitoredItemSpec item = spec.Items[pathItems[k]];
            BrowsePathResult result = results[k];
            BrowsePathTarget? target = result.Targets.FirstOrDefault(t => t.RemainingPathIndex == uint.MaxValue && t.TargetId.ServerIndex == 0);
            if (result.Status.IsBad || target is null)
            {
                Unavailable(unavailable, spec, item, result.Status.IsBad ? result.Status : new StatusCode(StatusCode.BadNodeIdUnknown), "TranslateBrowsePathsToNodeIds found no local node.");
                continue;
            }

            try
            {
                resolved[pathItems[k]] = target.TargetId.ToNodeId(namespaces);
            }
            catch (FormatException ex)
            {
                Unavailable(unavailable, spec, item, StatusCode.BadNodeIdUnknown, ex.Message);
            }
        }

        return resolved;
    }

    private static ushort NamespaceIndex(IReadOnlyList<string> namespaces, string uri)
    {
        for (int i = 0; i < namespaces.Count && i <= ushort.MaxValue; i++)
        {
            if (string.Equals(namespaces[i], uri, StringComparison.Ordinal))
            {
                return (ushort)i;
            }
        }

        throw new FormatException($"namespace URI '{uri}' is not in the server's namespace array.");
    }

    private void Unavailable(List<UaItemUnavailable> unavailable, UaSubscriptionSpec spec, UaMonitoredItemSpec item, StatusCode status, string reason)
    {
        UaConnectionLog.ItemUnavailable(_logger, _options.EndpointUrl, spec.Name, item.Key, item.Node.ToString(), status, reason);
        unavailable.Add(new UaItemUnavailable(_time.GetUtcNow(), spec.Name, item.Key, item.Node, status, reason));
    }

    private void StartPumps()
    {
        int generation = _generation;
        for (int i = 0; i < _specs.Length; i++)
        {
            if (_subscriptions[i] is { } subscription)
            {
                _pumps.Add(PumpAsync(_specs[i], subscription, generation));
            }
        }
    }

    /// <summary>Moves one subscription's messages to <see cref="Events"/>; a failed stream tells the actor.</summary>
    private async Task PumpAsync(UaSubscriptionSpec spec, UaSubscription subscription, int generation)
    {
        await Task.Yield();
        ChannelReader<SubscriptionMessage> reader = subscription.Messages;
        try
        {
            while (await reader.WaitToReadAsync(_stop.Token))
            {
                while (reader.TryRead(out SubscriptionMessage? message))
                {
                    if (message.StatusChange is { IsBad: true } status)
                    {
                        // The server ended the subscription (for example BadTimeout: its lifetime ran out).
                        Post(generation, new UaServiceException(status, $"the server reported status {status} for subscription '{spec.Name}'."));
                    }

                    if (message.DataChanges.Count > 0)
                    {
                        await EmitAsync(new UaDataChanges(spec, message.SequenceNumber, message.PublishTime, message.DataChanges, message.MissedBefore), _stop.Token);
                    }

                    if (message.Events.Count > 0)
                    {
                        await EmitAsync(new UaEvents(spec, message.SequenceNumber, message.PublishTime, message.Events), _stop.Token);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
        catch (Exception ex) when (ex is UaServiceException or ChannelClosedException)
        {
            Post(generation, ex);
        }
    }

    private void Post(int generation, Exception error) => _mailbox.Writer.TryWrite(new Fault(generation, error));

    private async Task<Fault> NextFaultAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            Fault fault = await _mailbox.Reader.ReadAsync(cancellationToken);
            if (fault.Generation == _generation)
            {
                return fault;
            }
        }
    }

    /// <summary>
    /// Drops the session. After a loss the channel is closed first, so no CloseSession is sent and the
    /// server keeps the subscriptions for a transfer; on stop the session is closed properly.
    /// </summary>
    private async Task TearDownAsync(bool graceful)
    {
        UaSession? session = Volatile.Read(ref _session);
        Volatile.Write(ref _session, null);
        if (session is not null)
        {
            try
            {
                if (graceful)
                {
                    using var timeout = new CancellationTokenSource(_options.Session.Channel.RequestTimeout, _time);
                    await session.CloseAsync(timeout.Token);
                }
                else
                {
                    await session.Channel.CloseAsync();
                }
            }
            catch (Exception ex) when (ex is UaServiceException or OperationCanceledException or IOException or ObjectDisposedException)
            {
                UaConnectionLog.CloseFailed(_logger, _options.EndpointUrl, ex.Message);
            }

            await session.DisposeAsync();
        }

        // The streams of the old session have completed: the pumps deliver what was queued and end.
        await Task.WhenAll(_pumps);
        _pumps.Clear();
        if (graceful)
        {
            Array.Clear(_subscriptions);
        }
    }

    private async ValueTask EmitAsync(UaConnectionEvent e, CancellationToken cancellationToken)
    {
        if (e is UaConnectionStateChanged change)
        {
            Volatile.Write(ref _state, (int)change.State);
        }

        if (_events.Writer.TryWrite(e))
        {
            return;
        }

        Interlocked.Increment(ref _deliveryFullWaits);
        await _events.Writer.WriteAsync(e, cancellationToken);
    }

    /// <summary>Equal jitter: the doubled delay, capped, of which <see cref="UaConnectionOptions.ReconnectJitter"/> is random.</summary>
    internal TimeSpan Backoff(int failures)
    {
        double cap = _options.MaxReconnectDelay.TotalMilliseconds;
        double delay = Math.Min(cap, _options.InitialReconnectDelay.TotalMilliseconds * Math.Pow(2, Math.Min(failures - 1, 30)));
        double random = delay * _options.ReconnectJitter * Random.Shared.NextDouble();
        return TimeSpan.FromMilliseconds(delay - random);
    }

    private static (StatusCode Status, string Reason) Describe(Exception error) => error switch
    {
        UaServiceException ua => (ua.Status, ua.Message),
        OperationCanceledException => (StatusCode.BadTimeout, "the attempt timed out."),
        _ => (StatusCode.BadCommunicationError, error.Message),
    };

    private sealed record Fault(int Generation, Exception Error);
}
