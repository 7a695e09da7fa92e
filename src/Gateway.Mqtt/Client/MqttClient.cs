using System.Threading.Channels;
using FactoryGateway.Mqtt.Packets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace FactoryGateway.Mqtt.Client;

/// <summary>
/// An MQTT 3.1.1/5.0 client that stays connected: one supervisor loop owns the connection (connect,
/// run, on loss back off with jitter and connect again, forever), and the session state outlives
/// connections — unacknowledged QoS 1/2 messages are resent with DUP, pending SUBSCRIBE/UNSUBSCRIBE are
/// sent again, and subscriptions are restored when the broker reports no session.
/// Incoming QoS 1/2 messages are acknowledged only after the handler has returned: a handler that
/// returns has accepted the message; one that throws has not (the connection is closed so the broker
/// redelivers it). A slow handler holds back acknowledgements, so the broker's in-flight window —
/// our Receive Maximum — paces it; keep-alive traffic has its own lane and is never behind the handler.
/// </summary>
public sealed class MqttClient : IAsyncDisposable
{
    private readonly Func<MqttReceivedMessage, CancellationToken, ValueTask>? _handler;
    private readonly MqttSessionState _session = new();
    private readonly InFlightWindow _window;
    private readonly ReconnectBackoff _backoff;
    private readonly SemaphoreSlim _handlerGate = new(1, 1);
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _stateLock = new();
    private TaskCompletionSource _connected = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource _disconnected = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private MqttConnection? _connection;
    private Task? _run;
    private volatile bool _disconnecting;
    private long _epoch;
    private int _brokerMaximumPacketSize = MqttPacketReader.ProtocolMaximumPacketSize;
    private long _connects;
    private long _connectionLosses;
    private long _connectFailures;
    private long _published;
    private long _acknowledged;
    private long _refused;
    private long _resent;
    private long _outgoingDropped;
    private long _received;
    private long _incomingDropped;
    private long _duplicatesSuppressed;
    private long _handlerFailures;
    private long _pingTimeouts;
    private long _protocolErrors;
    private long _resubscribes;
    private long _aliasesUsed;
    private long _flushes;

    /// <param name="handler">Called for every received message, one at a time, in order; null acknowledges messages on receipt.</param>
    public MqttClient(
        MqttClientOptions options,
        Func<MqttReceivedMessage, CancellationToken, ValueTask>? handler = null,
        ILogger<MqttClient>? logger = null,
        TimeProvider? timeProvider = null,
        Random? random = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
        _handler = handler;
        Logger = logger ?? NullLogger<MqttClient>.Instance;
        Time = timeProvider ?? TimeProvider.System;
        _window = new InFlightWindow(options.MaxOutgoingInFlight);
        _backoff = new ReconnectBackoff(options.ReconnectInitialDelay, options.ReconnectMaxDelay, random ?? Random.Shared);
        Outgoing = Channel.CreateBounded<OutgoingItem>(new BoundedChannelOptions(options.OutgoingQueueCapacity)
        {
            FullMode = BoundedChannelFullMode.Wait,
        });
    }

    public MqttClientOptions Options { get; }

    public bool IsConnected => Volatile.Read(ref _connection) is not null;

    /// <summary>The CONNACK of the current (or last) connection.</summary>
    public ConnAckPacket? LastConnAck { get; private set; }

    internal ILogger Logger { get; }

    internal TimeProvider Time { get; }

    internal Channel<OutgoingItem> Outgoing { get; }

    internal InFlightWindow Window => _window;

    /// <summary>Starts the connection supervisor and waits for the first accepted CONNACK. A refusal (bad credentials, …) throws <see cref="MqttConnectException"/>; network failures are retried until <paramref name="cancellationToken"/> gives up.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        lock (_stateLock)
        {
            if (_run is not null)
            {
                throw new InvalidOperationException("The client is already started.");
            }

            _run = Task.Run(() => SuperviseAsync(_stop.Token), CancellationToken.None);
        }

        await _started.Task.WaitAsync(cancellationToken);
    }

    /// <summary>Waits until the client is connected (again).</summary>
    public Task WaitUntilConnectedAsync(CancellationToken cancellationToken)
    {
        lock (_stateLock)
        {
            return _connection is not null ? Task.CompletedTask : _connected.Task.WaitAsync(cancellationToken);
        }
    }

    /// <summary>Waits until the current connection is lost (or returns at once when there is none).</summary>
    public Task WaitUntilDisconnectedAsync(CancellationToken cancellationToken)
    {
        lock (_stateLock)
        {
            return _connection is null ? Task.CompletedTask : _disconnected.Task.WaitAsync(cancellationToken);
        }
    }

    /// <summary>
    /// QoS 0 completes once the message is in the outgoing queue. QoS 1/2 waits for a slot in the
    /// in-flight window (the broker's Receive Maximum), then for the broker's final acknowledgement, across
    /// reconnects. Cancelling stops the wait, not the delivery of a message already accepted.
    /// </summary>
    public async ValueTask<MqttPublishResult> PublishAsync(MqttApplicationMessage message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (MqttTopic.ValidateName(message.Topic) is { } invalid)
        {
            throw new ArgumentException($"Topic \"{message.Topic}\" {invalid}.", nameof(message));
        }

        var probe = new PublishPacket { Topic = message.Topic, Payload = message.Payload, Qos = message.Qos, PacketId = 1, Properties = Options.ProtocolVersion == MqttProtocolVersion.V500 ? message.Properties ?? new() : new() };
        if (MqttPacketWriter.GetSize(probe, Options.ProtocolVersion) > Volatile.Read(ref _brokerMaximumPacketSize))
        {
            return new MqttPublishResult(MqttPublishOutcome.TooLarge, MqttReasonCode.PacketTooLarge);
        }

        if (message.Qos == MqttQos.AtMostOnce)
        {
            var item = new OutgoingItem(message, null);
            if (!Outgoing.Writer.TryWrite(item))
            {
                if (Options.OutgoingOverflowPolicy == MqttOutgoingOverflowPolicy.DropNewest)
                {
                    Interlocked.Increment(ref _outgoingDropped);
                    return new MqttPublishResult(MqttPublishOutcome.Dropped);
                }

                await Outgoing.Writer.WriteAsync(item, cancellationToken);
            }

            Interlocked.Increment(ref _published);
            return new MqttPublishResult(MqttPublishOutcome.Queued);
        }

        // QoS 1/2 always wait for room in the queue: dropping them is not what the caller asked for.
        // The writer admits them into the in-flight window in queue order.
        var flight = new OutgoingFlight(message);
        await Outgoing.Writer.WriteAsync(new OutgoingItem(null, flight), cancellationToken);
        Interlocked.Increment(ref _published);
        return await flight.Completion.Task.WaitAsync(cancellationToken);
    }

    /// <summary>Subscribes and returns the broker's code per filter (granted QoS, or a failure code ≥ 0x80). The subscriptions are restored after a reconnect that lost the session.</summary>
    public async Task<IReadOnlyList<MqttReasonCode>> SubscribeAsync(IReadOnlyList<MqttSubscription> subscriptions, CancellationToken cancellationToken, MqttProperties? properties = null)
    {
        ArgumentOutOfRangeException.ThrowIfZero(subscriptions.Count);
        foreach (MqttSubscription subscription in subscriptions)
        {
            if (MqttTopic.ValidateFilter(subscription.TopicFilter) is { } invalid)
            {
                throw new ArgumentException($"Topic filter \"{subscription.TopicFilter}\" {invalid}.", nameof(subscriptions));
            }
        }

        PendingRequest request;
        lock (_session.Lock)
        {
            request = _session.AddRequest(id => new SubscribePacket { PacketId = id, Subscriptions = subscriptions, Properties = properties ?? new() });
            foreach (MqttSubscription subscription in subscriptions)
            {
                _session.Subscriptions[subscription.TopicFilter] = subscription;
            }
        }

        Volatile.Read(ref _connection)?.TryEnqueueControl(request.Packet);
        var ack = (SubAckPacket)await request.Completion.Task.WaitAsync(cancellationToken);
        lock (_session.Lock)
        {
            for (int i = 0; i < subscriptions.Count && i < ack.ReasonCodes.Count; i++)
            {
                if ((byte)ack.ReasonCodes[i] >= 0x80)
                {
                    _session.Subscriptions.Remove(subscriptions[i].TopicFilter);
                    MqttClientLog.SubscriptionRefused(Logger, Options.ClientId, subscriptions[i].TopicFilter, ack.ReasonCodes[i]);
                }
            }
        }

        return ack.ReasonCodes;
    }

    /// <summary>Unsubscribes; returns the broker's code per filter in MQTT 5.0 (3.1.1 has none: all <see cref="MqttReasonCode.Success"/>).</summary>
    public async Task<IReadOnlyList<MqttReasonCode>> UnsubscribeAsync(IReadOnlyList<string> topicFilters, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfZero(topicFilters.Count);
        PendingRequest request;
        lock (_session.Lock)
        {
            request = _session.AddRequest(id => new UnsubscribePacket { PacketId = id, TopicFilters = topicFilters });
            foreach (string filter in topicFilters)
            {
                _session.Subscriptions.Remove(filter);
            }
        }

        Volatile.Read(ref _connection)?.TryEnqueueControl(request.Packet);
        var ack = (UnsubAckPacket)await request.Completion.Task.WaitAsync(cancellationToken);
        return ack.ReasonCodes.Count > 0 ? ack.ReasonCodes : [.. topicFilters.Select(_ => MqttReasonCode.Success)];
    }

    /// <summary>Sends DISCONNECT after what is queued and stops the supervisor. MQTT 5.0: <paramref name="sessionExpiryInterval"/> changes the session expiry for this disconnect.</summary>
    public async Task DisconnectAsync(MqttReasonCode reasonCode = MqttReasonCode.Success, uint? sessionExpiryInterval = null)
    {
        _disconnecting = true;
        MqttConnection? connection = Volatile.Read(ref _connection);
        if (connection is not null)
        {
            var packet = new DisconnectPacket { ReasonCode = reasonCode };
            if (sessionExpiryInterval is { } expiry && Options.ProtocolVersion == MqttProtocolVersion.V500)
            {
                packet.Properties.SessionExpiryInterval = expiry;
            }

            await connection.SendAndCloseAsync(packet, TimeSpan.FromSeconds(5));
        }

        await StopAsync();
        MqttClientLog.Disconnected(Logger, Options.ClientId);
    }

    public MqttClientStats GetStats() => new()
    {
        Connects = Interlocked.Read(ref _connects),
        ConnectionLosses = Interlocked.Read(ref _connectionLosses),
        ConnectFailures = Interlocked.Read(ref _connectFailures),
        MessagesPublished = Interlocked.Read(ref _published),
        MessagesAcknowledged = Interlocked.Read(ref _acknowledged),
        MessagesRefused = Interlocked.Read(ref _refused),
        MessagesResent = Interlocked.Read(ref _resent),
        OutgoingDropped = Interlocked.Read(ref _outgoingDropped),
        MessagesReceived = Interlocked.Read(ref _received),
        IncomingDropped = Interlocked.Read(ref _incomingDropped),
        DuplicatesSuppressed = Interlocked.Read(ref _duplicatesSuppressed),
        HandlerFailures = Interlocked.Read(ref _handlerFailures),
        PingTimeouts = Interlocked.Read(ref _pingTimeouts),
        ProtocolErrors = Interlocked.Read(ref _protocolErrors),
        Resubscribes = Interlocked.Read(ref _resubscribes),
        TopicAliasesUsed = Interlocked.Read(ref _aliasesUsed),
        Flushes = Interlocked.Read(ref _flushes),
    };

    /// <summary>Closes the connection abruptly (no DISCONNECT: the broker publishes the will) and lets the supervisor reconnect. For failover tests and operators.</summary>
    public void DropConnection() => Volatile.Read(ref _connection)?.Close("dropped by the application");

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _stop.Dispose();
        _handlerGate.Dispose();
    }

    internal ConnectPacket BuildConnect()
    {
        var properties = new MqttProperties();
        if (Options.ProtocolVersion == MqttProtocolVersion.V500)
        {
            properties.SessionExpiryInterval = Options.SessionExpiryInterval == 0 ? null : Options.SessionExpiryInterval;
            properties.ReceiveMaximum = Options.ReceiveMaximum == ushort.MaxValue ? null : Options.ReceiveMaximum;
            properties.MaximumPacketSize = (uint)Options.MaximumPacketSize;
            properties.TopicAliasMaximum = Options.TopicAliasMaximum == 0 ? null : Options.TopicAliasMaximum;
            properties.UserProperties.AddRange(Options.ConnectUserProperties);
        }

        MqttWill? will = Options.WillFactory is { } factory ? factory() : Options.Will;
        if (will is not null && Options.ProtocolVersion == MqttProtocolVersion.V311 && !will.Properties.IsEmpty)
        {
            will = new MqttWill { Topic = will.Topic, Payload = will.Payload, Qos = will.Qos, Retain = will.Retain };
        }

        return new ConnectPacket
        {
            ProtocolVersion = Options.ProtocolVersion,
            ClientId = Options.ClientId,
            CleanStart = Options.CleanStart,
            KeepAliveSeconds = (ushort)Options.KeepAlive.TotalSeconds,
            UserName = Options.UserName,
            Password = Options.Password,
            Will = will,
            Properties = properties,
        };
    }

    internal void CompleteFlight(ushort packetId, MqttReasonCode code, string? reasonString)
    {
        OutgoingFlight? flight;
        lock (_session.Lock)
        {
            if (!_session.TryGetFlight(packetId, out flight) || !_session.RemoveFlight(packetId))
            {
                return;
            }
        }

        _window.Release();
        bool ok = (byte)code < 0x80;
        Interlocked.Increment(ref ok ? ref _acknowledged : ref _refused);
        flight!.Completion.TrySetResult(new MqttPublishResult(ok ? MqttPublishOutcome.Acknowledged : MqttPublishOutcome.Refused, code, reasonString));
    }

    internal bool MarkReceived(ushort packetId)
    {
        lock (_session.Lock)
        {
            if (_session.TryGetFlight(packetId, out OutgoingFlight? flight))
            {
                flight!.Received = true;
                return true;
            }

            return false;
        }
    }

    /// <summary>The writer admits a flight it holds a window slot for: packet identifier, resend order.</summary>
    internal void AdmitFlight(OutgoingFlight flight)
    {
        lock (_session.Lock)
        {
            _session.AddFlight(flight);
            flight.SentCount = 1;
        }
    }

    internal bool IsAwaitingRelease(ushort packetId)
    {
        lock (_session.Lock)
        {
            return _session.AwaitingRelease.Contains(packetId);
        }
    }

    /// <summary>
    /// The reader's check of an incoming QoS 2 PUBLISH: accepted before (awaiting PUBREL), a second copy of
    /// one still queued on this connection, or new (then recorded in <paramref name="queued"/>).
    /// </summary>
    internal IncomingQos2 ClassifyIncomingQos2(ushort packetId, HashSet<ushort> queued, out long generation)
    {
        lock (_session.Lock)
        {
            generation = _session.Generation;
            if (_session.AwaitingRelease.Contains(packetId))
            {
                return IncomingQos2.Accepted;
            }

            return queued.Add(packetId) ? IncomingQos2.New : IncomingQos2.Queued;
        }
    }

    /// <summary>The handler loop is done with an incoming QoS 2 message (accepted, duplicate or failed).</summary>
    internal void EndIncomingQos2(ushort packetId, HashSet<ushort> queued)
    {
        lock (_session.Lock)
        {
            queued.Remove(packetId);
        }
    }

    internal bool Release(ushort packetId)
    {
        lock (_session.Lock)
        {
            return _session.AwaitingRelease.Remove(packetId);
        }
    }

    internal void CompleteRequest(MqttPacket ack)
    {
        ushort id = ack switch
        {
            SubAckPacket s => s.PacketId,
            UnsubAckPacket u => u.PacketId,
            _ => 0,
        };
        PendingRequest? request;
        lock (_session.Lock)
        {
            request = _session.TakeRequest(id);
        }

        request?.Completion.TrySetResult(ack);
    }

    /// <summary>
    /// Runs the handler, one message at a time across connections. QoS 2: under the same gate, a packet id
    /// already accepted (a copy that came on a new connection while the old one's handler still ran) is not
    /// delivered again, and an accepted one is recorded as awaiting PUBREL before the next handler call can
    /// look — unless the broker started a new session since it arrived (<paramref name="generation"/>).
    /// </summary>
    internal async ValueTask<HandlerOutcome> InvokeHandlerAsync(MqttReceivedMessage message, ushort packetId, long generation, CancellationToken cancellationToken)
    {
        bool exactlyOnce = message.Qos == MqttQos.ExactlyOnce;
        if (_handler is null && !exactlyOnce)
        {
            return HandlerOutcome.Accepted;
        }

        await _handlerGate.WaitAsync(cancellationToken);
        try
        {
            if (exactlyOnce && IsAwaitingRelease(packetId))
            {
                CountDuplicateSuppressed();
                return HandlerOutcome.Duplicate;
            }

            if (_handler is not null)
            {
                await _handler(message, cancellationToken);
            }

            if (exactlyOnce)
            {
                AwaitRelease(packetId, generation);
            }

            return HandlerOutcome.Accepted;
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            Interlocked.Increment(ref _handlerFailures);
            MqttClientLog.HandlerFailed(Logger, Options.ClientId, message.Topic, e);
            return HandlerOutcome.Failed;
        }
        finally
        {
            _handlerGate.Release();
        }
    }

    private void AwaitRelease(ushort packetId, long generation)
    {
        lock (_session.Lock)
        {
            if (generation == _session.Generation)
            {
                _session.AwaitingRelease.Add(packetId);
            }
        }
    }

    internal void CountReceived() => Interlocked.Increment(ref _received);

    internal void CountIncomingDropped() => Interlocked.Increment(ref _incomingDropped);

    internal void CountDuplicateSuppressed() => Interlocked.Increment(ref _duplicatesSuppressed);

    internal void CountPingTimeout() => Interlocked.Increment(ref _pingTimeouts);

    internal void CountAliasUsed() => Interlocked.Increment(ref _aliasesUsed);

    internal void CountFlush() => Interlocked.Increment(ref _flushes);

    internal void CountProtocolError() => Interlocked.Increment(ref _protocolErrors);

    private async Task StopAsync()
    {
        Task? run;
        lock (_stateLock)
        {
            run = _run;
        }

        try
        {
            await _stop.CancelAsync();
        }
        catch (ObjectDisposedException)
        {
        }

        if (run is not null)
        {
            await run;
        }

        // Nothing sends any more: callers still waiting learn so instead of waiting forever.
        Outgoing.Writer.TryComplete();
        var stopped = new InvalidOperationException("The MQTT client has stopped; the message or request was not completed.");
        List<OutgoingFlight> flights;
        List<PendingRequest> requests;
        lock (_session.Lock)
        {
            flights = _session.FlightsInOrder();
            requests = _session.Requests();
        }

        foreach (OutgoingFlight flight in flights)
        {
            flight.Completion.TrySetException(stopped);
        }

        foreach (PendingRequest request in requests)
        {
            request.Completion.TrySetException(stopped);
        }

        while (Outgoing.Reader.TryRead(out OutgoingItem item))
        {
            item.Flight?.Completion.TrySetException(stopped);
        }
    }

    private async Task SuperviseAsync(CancellationToken stopping)
    {
        int attempt = 0;
        bool everConnected = false;
        while (!stopping.IsCancellationRequested)
        {
            MqttConnection connection;
            try
            {
                int controlCapacity = Options.MaxOutgoingInFlight + (2 * Options.ReceiveMaximum) + 1_024;
                connection = await MqttConnection.OpenAsync(this, ++_epoch, controlCapacity, stopping);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                break;
            }
            catch (MqttConnectException e) when (!everConnected)
            {
                Interlocked.Increment(ref _connectFailures);
                _started.TrySetException(e);
                break;
            }
            catch (Exception e)
            {
                Interlocked.Increment(ref _connectFailures);
                TimeSpan delay = _backoff.Delay(attempt);
                MqttClientLog.ConnectFailed(Logger, Options.ClientId, Options.Host, Options.Port, attempt + 1, delay, e);
                attempt++;
                if (!await DelayAsync(delay, stopping))
                {
                    break;
                }

                continue;
            }

            attempt = 0;
            everConnected = true;
            int resent = BeginSession(connection);
            Interlocked.Increment(ref _connects);
            MqttClientLog.Connected(Logger, Options.ClientId, Options.Host, Options.Port, Options.ProtocolVersion, connection.ConnAck.SessionPresent, connection.ConnAck.Properties.ReceiveMaximum ?? ushort.MaxValue, resent);
            TaskCompletionSource connected;
            lock (_stateLock)
            {
                Volatile.Write(ref _connection, connection);
                connected = _connected;
            }

            connected.TrySetResult();
            _started.TrySetResult();

            string reason = await connection.RunAsync(stopping);
            TaskCompletionSource disconnected;
            lock (_stateLock)
            {
                Volatile.Write(ref _connection, null);
                _connected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                disconnected = _disconnected;
                _disconnected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }

            disconnected.TrySetResult();

            connection.Dispose();

            if (stopping.IsCancellationRequested || _disconnecting)
            {
                break;
            }

            Interlocked.Increment(ref _connectionLosses);
            MqttClientLog.ConnectionLost(Logger, Options.ClientId, reason);
            if (!await DelayAsync(_backoff.Delay(attempt++), stopping))
            {
                break;
            }
        }

        _started.TrySetCanceled(stopping.IsCancellationRequested ? stopping : new CancellationToken(true));
    }

    private async Task<bool> DelayAsync(TimeSpan delay, CancellationToken stopping)
    {
        try
        {
            await Task.Delay(delay, Time, stopping);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>
    /// After CONNACK, before the writer runs: size the in-flight window, resend unacknowledged QoS 1/2
    /// messages (DUP when the broker kept the session; PUBREL where PUBREC had arrived), send pending
    /// requests again, and restore subscriptions when the broker has no session. Returns how many were resent.
    /// </summary>
    private int BeginSession(MqttConnection connection)
    {
        ConnAckPacket connAck = connection.ConnAck;
        LastConnAck = connAck;
        Volatile.Write(ref _brokerMaximumPacketSize, connection.BrokerMaximumPacketSize);
        _window.SetCapacity(Math.Min(Options.MaxOutgoingInFlight, connAck.Properties.ReceiveMaximum ?? ushort.MaxValue));
        bool sessionPresent = connAck.SessionPresent;
        int resent = 0;
        var completed = new List<OutgoingFlight>();
        List<MqttSubscription>? restore = null;
        lock (_session.Lock)
        {
            if (!sessionPresent)
            {
                _session.AwaitingRelease.Clear();
                _session.Generation++;
            }

            foreach (OutgoingFlight flight in _session.FlightsInOrder())
            {
                if (flight.Received && !sessionPresent)
                {
                    // The broker had the message (PUBREC) before it lost the session: delivered.
                    _session.RemoveFlight(flight.PacketId);
                    completed.Add(flight);
                    continue;
                }

                bool dup = sessionPresent && flight.SentCount > 0;
                MqttPacket packet = flight.Received
                    ? new PublishAckPacket(MqttPacketType.PubRel) { PacketId = flight.PacketId }
                    : connection.BuildPublish(flight.Message, flight.PacketId, dup, useAlias: false);
                if (flight.SentCount > 0)
                {
                    resent++;
                }

                flight.SentCount++;
                connection.TryEnqueueControl(packet);
            }

            foreach (PendingRequest request in _session.Requests())
            {
                connection.TryEnqueueControl(request.Packet);
            }

            if (!sessionPresent && _session.Subscriptions.Count > 0 && _epoch > 1)
            {
                restore = [.. _session.Subscriptions.Values];
            }
        }

        foreach (OutgoingFlight flight in completed)
        {
            _window.Release();
            Interlocked.Increment(ref _acknowledged);
            flight.Completion.TrySetResult(new MqttPublishResult(MqttPublishOutcome.Acknowledged));
        }

        Interlocked.Add(ref _resent, resent);
        if (restore is not null)
        {
            Interlocked.Increment(ref _resubscribes);
            MqttClientLog.Resubscribing(Logger, Options.ClientId, restore.Count);
            PendingRequest request;
            lock (_session.Lock)
            {
                request = _session.AddRequest(id => new SubscribePacket { PacketId = id, Subscriptions = restore });
            }

            connection.TryEnqueueControl(request.Packet);
            _ = request.Completion.Task.ContinueWith(
                t =>
                {
                    var ack = (SubAckPacket)t.Result;
                    for (int i = 0; i < restore.Count && i < ack.ReasonCodes.Count; i++)
                    {
                        if ((byte)ack.ReasonCodes[i] >= 0x80)
                        {
                            MqttClientLog.SubscriptionRefused(Logger, Options.ClientId, restore[i].TopicFilter, ack.ReasonCodes[i]);
                        }
                    }
                },
                CancellationToken.None,
                TaskContinuationOptions.OnlyOnRanToCompletion,
                TaskScheduler.Default);
        }

        return resent;
    }
}

/// <summary>How the reader classifies an incoming QoS 2 PUBLISH.</summary>
internal enum IncomingQos2
{
    /// <summary>Not seen in this session: deliver.</summary>
    New,

    /// <summary>A copy of one still queued on this connection: never delivered.</summary>
    Queued,

    /// <summary>Accepted before and awaiting PUBREL: acknowledged again, not delivered.</summary>
    Accepted,
}

/// <summary>What became of one incoming message in the handler loop.</summary>
internal enum HandlerOutcome
{
    Accepted,

    /// <summary>QoS 2, accepted before: not delivered again.</summary>
    Duplicate,

    /// <summary>The handler threw: not accepted.</summary>
    Failed,
}
