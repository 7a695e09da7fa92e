using System.Threading.Channels;
using FactoryGateway.OpcUa.Encoding;
using FactoryGateway.OpcUa.Services;
using FactoryGateway.OpcUa.Transport;

namespace FactoryGateway.OpcUa.Client;

/// <summary>
/// One NotificationMessage as the consumer sees it: the data changes and events it carried, a status
/// change if any, and <see cref="MissedBefore"/> — how many sequence numbers were lost right before it
/// (a gap the client could not fill).
/// </summary>
public sealed record SubscriptionMessage(uint SequenceNumber, DateTime PublishTime, IReadOnlyList<MonitoredItemNotification> DataChanges, StatusCode? StatusChange, uint MissedBefore)
{
    /// <summary>The events of the message's event monitored items (an EventNotificationList), in order.</summary>
    public IReadOnlyList<EventFieldList> Events { get; init; } = [];
}

/// <summary>
/// A subscription on a session. Its messages arrive in sequence order on <see cref="Messages"/>
/// (bounded; when full, the Publish pipeline waits — see <see cref="UaSubscriptionOptions.MessageBufferCapacity"/>).
/// Messages that arrive out of order on concurrent Publish responses are held back until the
/// missing ones arrive; after more than the outstanding-request window (or a keep-alive that shows
/// they were sent) the missing ones are asked for with Republish, and what the server no longer has
/// is reported as a gap.
/// </summary>
public sealed class UaSubscription
{
    private readonly UaSession _session;
    private readonly Channel<SubscriptionMessage> _messages;
    private readonly SortedDictionary<uint, NotificationMessage> _early = [];
    private readonly int _reorderWindow;
    // A forged jump in sequence numbers must not turn into millions of Republish calls.
    private const int MaxRepublishesPerGap = 64;

    private uint _nextSequence;
    private uint _pendingMissed;
    private long _republished;
    private uint _nextClientHandle;
    private long _keepAlives;
    private long _missed;
    private long _bufferFullWaits;
    private long _otherNotifications;

    /// <param name="nextSequence">
    /// The sequence number expected first: 1 for a new subscription (a server numbers a subscription's
    /// messages from 1, OPC 10000-4 §5.14.1), so a second message that overtakes the first on a concurrent
    /// Publish response is held back instead of making the first look old; after a transfer, the one after
    /// the last message delivered, so what the server still holds is asked for with Republish.
    /// </param>
    internal UaSubscription(UaSession session, uint id, double publishingInterval, uint lifetimeCount, uint maxKeepAliveCount, int capacity, int reorderWindow, uint nextSequence = 1)
    {
        _session = session;
        _nextSequence = nextSequence;
        Id = id;
        PublishingInterval = publishingInterval;
        LifetimeCount = lifetimeCount;
        MaxKeepAliveCount = maxKeepAliveCount;
        _reorderWindow = reorderWindow;
        _messages = Channel.CreateBounded<SubscriptionMessage>(new BoundedChannelOptions(capacity)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleWriter = true,
        });
    }

    public uint Id { get; }

    /// <summary>The publishing interval the server granted, in milliseconds.</summary>
    public double PublishingInterval { get; private set; }

    public uint LifetimeCount { get; private set; }

    public uint MaxKeepAliveCount { get; private set; }

    public ChannelReader<SubscriptionMessage> Messages => _messages.Reader;

    /// <summary>The sequence number the next delivered message should carry.</summary>
    internal uint NextSequence => _nextSequence;

    public long KeepAlives => Interlocked.Read(ref _keepAlives);

    /// <summary>Sequence numbers that never arrived (reported in <see cref="SubscriptionMessage.MissedBefore"/>).</summary>
    public long MissedMessages => Interlocked.Read(ref _missed);

    /// <summary>Messages recovered with Republish after a gap.</summary>
    public long RepublishedMessages => Interlocked.Read(ref _republished);

    /// <summary>Times the Publish pipeline had to wait because <see cref="Messages"/> was full.</summary>
    public long BufferFullWaits => Interlocked.Read(ref _bufferFullWaits);

    /// <summary>Notifications of kinds this client does not decode, skipped.</summary>
    public long OtherNotifications => Interlocked.Read(ref _otherNotifications);

    /// <summary>
    /// Creates monitored items, split into calls of at most <see cref="UaSessionOptions.MaxMonitoredItemsPerCall"/>.
    /// Items without a client handle get one; results are in request order and carry the handle.
    /// </summary>
    public Task<IReadOnlyList<MonitoredItemResult>> CreateMonitoredItemsAsync(IReadOnlyList<MonitoredItemRequest> items, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(items);
        var numbered = new MonitoredItemRequest[items.Count];
        for (int i = 0; i < items.Count; i++)
        {
            numbered[i] = items[i].ClientHandle != 0 ? items[i] : items[i] with { ClientHandle = Interlocked.Increment(ref _nextClientHandle) };
        }

        return _session.CreateMonitoredItemsAsync(Id, numbered, cancellationToken);
    }

    /// <summary>
    /// Asks the server to send the current state of every retained condition (ConditionType.ConditionRefresh,
    /// OPC 10000-9 §5.5.7) to this subscription's event items, between a RefreshStartEvent and a RefreshEndEvent, so
    /// alarms that were already active are seen. Throws <see cref="UaServiceException"/> when the server refuses it.
    /// </summary>
    public async Task ConditionRefreshAsync(CancellationToken cancellationToken = default)
    {
        IReadOnlyList<CallMethodResult> results = await _session.CallAsync(
            [new CallMethodRequest(WellKnownNodes.ConditionType, WellKnownNodes.ConditionRefresh, [new Variant(Id)])], cancellationToken);
        if (results[0].Status.IsBad)
        {
            throw new UaServiceException(results[0].Status, $"ConditionRefresh on subscription {Id} failed.");
        }
    }

    /// <summary>Changes the publishing interval, counts and priority (ModifySubscription); the revised values replace the current ones.</summary>
    public async Task ModifyAsync(UaSubscriptionOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        (double interval, uint lifetime, uint keepAlive) = await _session.ModifySubscriptionAsync(Id, options, cancellationToken);
        PublishingInterval = interval;
        LifetimeCount = lifetime;
        MaxKeepAliveCount = keepAlive;
    }

    /// <summary>Deletes monitored items by their server ids (split by the same per-call limit as creation); one status per id.</summary>
    public Task<IReadOnlyList<StatusCode>> DeleteMonitoredItemsAsync(IReadOnlyList<uint> monitoredItemIds, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(monitoredItemIds);
        return _session.DeleteMonitoredItemsAsync(Id, monitoredItemIds, cancellationToken);
    }

    /// <summary>Deletes the subscription on the server and completes <see cref="Messages"/>.</summary>
    public async Task DeleteAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            await _session.DeleteSubscriptionAsync(Id, cancellationToken);
        }
        finally
        {
            Complete(null);
        }
    }

    internal void Complete(Exception? error) => _messages.Writer.TryComplete(error);

    internal async Task AcceptAsync(NotificationMessage message, CancellationToken cancellationToken)
    {
        uint sequence = message.SequenceNumber;
        if (message.IsKeepAlive)
        {
            Interlocked.Increment(ref _keepAlives);
            // A keep-alive carries the next sequence number: every message before it has been sent.
            if (_nextSequence != 0 && IsAfter(sequence, _nextSequence))
            {
                await RecoverUpToAsync(sequence, cancellationToken);
            }

            return;
        }

        if (_nextSequence == 0 || sequence == _nextSequence)
        {
            await DeliverAsync(message, cancellationToken);
        }
        else if (IsAfter(sequence, _nextSequence))
        {
            _early[sequence] = message;
            if (_early.Count <= _reorderWindow)
            {
                return;
            }

            // The window has passed: the missing messages are not coming on this pipeline.
            await RecoverUpToAsync(_early.Keys.First(), cancellationToken);
        }
        else
        {
            // Older than what was already delivered (a duplicate or a straggler after a reported gap).
            return;
        }

        while (_early.Remove(_nextSequence, out NotificationMessage? next))
        {
            await DeliverAsync(next, cancellationToken);
        }
    }

    /// <summary>
    /// Fills the sequence numbers before <paramref name="until"/>: from the messages held back, else
    /// by Republish; what the server no longer has is counted as missed and reported on the next message.
    /// </summary>
    private async Task RecoverUpToAsync(uint until, CancellationToken cancellationToken)
    {
        int republishes = 0;
        while (IsAfter(until, _nextSequence))
        {
            uint sequence = _nextSequence;
            if (_early.Remove(sequence, out NotificationMessage? held))
            {
                await DeliverAsync(held, cancellationToken);
                continue;
            }

            NotificationMessage? again = republishes++ < MaxRepublishesPerGap ? await _session.RepublishAsync(Id, sequence, cancellationToken) : null;
            if (again is { IsKeepAlive: false } && again.SequenceNumber == sequence)
            {
                Interlocked.Increment(ref _republished);
                await DeliverAsync(again, cancellationToken);
            }
            else
            {
                _pendingMissed++;
                _nextSequence = Next(sequence);
            }
        }
    }

    private static uint Next(uint sequence) => sequence + 1 == 0 ? 1 : sequence + 1;

    private static bool IsAfter(uint a, uint b) => unchecked((int)(a - b)) > 0;

    private async Task DeliverAsync(NotificationMessage message, CancellationToken cancellationToken)
    {
        uint missed = _pendingMissed;
        _pendingMissed = 0;
        if (missed != 0)
        {
            Interlocked.Add(ref _missed, missed);
        }

        _nextSequence = Next(message.SequenceNumber);
        List<MonitoredItemNotification>? changes = null;
        List<EventFieldList>? events = null;
        StatusCode? statusChange = null;
        foreach (ExtensionObject data in message.NotificationData)
        {
            switch (data.Value)
            {
                case DataChangeNotification dataChange:
                    if (changes is null && message.NotificationData.Count == 1)
                    {
                        var single = new SubscriptionMessage(message.SequenceNumber, message.PublishTime, dataChange.MonitoredItems, null, missed);
                        await WriteAsync(single, cancellationToken);
                        return;
                    }

                    (changes ??= []).AddRange(dataChange.MonitoredItems);
                    break;
                case EventNotificationList list:
                    (events ??= []).AddRange(list.Events);
                    break;
                case StatusChangeNotification status:
                    statusChange = status.Status;
                    break;
                default:
                    Interlocked.Increment(ref _otherNotifications);
                    break;
            }
        }

        var delivered = new SubscriptionMessage(message.SequenceNumber, message.PublishTime, (IReadOnlyList<MonitoredItemNotification>?)changes ?? [], statusChange, missed)
        {
            Events = (IReadOnlyList<EventFieldList>?)events ?? [],
        };
        await WriteAsync(delivered, cancellationToken);
    }

    private async Task WriteAsync(SubscriptionMessage message, CancellationToken cancellationToken)
    {
        if (_messages.Writer.TryWrite(message))
        {
            return;
        }

        Interlocked.Increment(ref _bufferFullWaits);
        try
        {
            await _messages.Writer.WriteAsync(message, cancellationToken);
        }
        catch (ChannelClosedException)
        {
            // Deleted while the consumer lagged: nothing to deliver to.
        }
    }
}
