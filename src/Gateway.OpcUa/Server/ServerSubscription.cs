using FactoryGateway.OpcUa.Encoding;
using FactoryGateway.OpcUa.Services;

namespace FactoryGateway.OpcUa.Server;

/// <summary>
/// A subscription (OPC 10000-4 §5.13.1): a timer on the injected clock runs one publishing cycle per
/// publishing interval. A cycle with notifications answers a queued Publish request with a
/// NotificationMessage (or marks the subscription late until one arrives); a cycle without them
/// counts towards MaxKeepAliveCount and then sends a keep-alive; LifetimeCount cycles without any
/// queued Publish request expire it. Sent messages stay for Republish until acknowledged
/// (overflow policy DropOldest at MaxRetransmissionQueue). All state is guarded by the session's lock.
/// </summary>
internal sealed class ServerSubscription
{
    private readonly Dictionary<uint, ServerMonitoredItem> _items = [];
    private readonly LinkedList<NotificationMessage> _sent = new();
    private readonly int _maxRetransmission;
    private ITimer? _timer;
    private uint _nextSequence = 1;
    private uint _keepAliveCounter;
    private uint _lifetimeCounter;
    private bool _late;

    public ServerSubscription(ServerSession session, uint id, int maxRetransmission)
    {
        Session = session;
        Id = id;
        _maxRetransmission = maxRetransmission;
    }

    /// <summary>The owning session; TransferSubscriptions changes it under both sessions' locks.</summary>
    public ServerSession Session { get; private set; }

    public uint Id { get; }

    public double PublishingInterval { get; private set; }

    public uint LifetimeCount { get; private set; }

    public uint MaxKeepAliveCount { get; private set; }

    public uint MaxNotificationsPerPublish { get; private set; }

    public bool PublishingEnabled { get; set; } = true;

    public byte Priority { get; private set; }

    public bool IsDeleted { get; private set; }

    public bool IsLate => _late;

    public IReadOnlyDictionary<uint, ServerMonitoredItem> Items => _items;

    public DateTime Now => Session.Server.Now;

    public void Configure(double interval, uint lifetime, uint keepAlive, uint maxNotifications, byte priority)
    {
        bool changed = interval != PublishingInterval;
        PublishingInterval = interval;
        LifetimeCount = lifetime;
        MaxKeepAliveCount = keepAlive;
        MaxNotificationsPerPublish = maxNotifications;
        Priority = priority;
        if (_timer is null)
        {
            // OPC 10000-4 §5.13.1.1: the first cycle sends a keep-alive when there is nothing to report.
            _keepAliveCounter = keepAlive;
            _timer = Session.Server.Time.CreateTimer(static s => ((ServerSubscription)s!).OnTimer(), this, TimeSpan.FromMilliseconds(interval), TimeSpan.FromMilliseconds(interval));
        }
        else if (changed)
        {
            _timer.Change(TimeSpan.FromMilliseconds(interval), TimeSpan.FromMilliseconds(interval));
        }
    }

    public void Add(ServerMonitoredItem item) => _items[item.Id] = item;

    /// <summary>
    /// Enters the owning session's lock, following a transfer to another session that happened while
    /// waiting for it; the caller exits the returned session's lock.
    /// </summary>
    public ServerSession LockSession()
    {
        while (true)
        {
            ServerSession session = Session;
            session.Sync.Enter();
            if (session == Session)
            {
                return session;
            }

            session.Sync.Exit();
        }
    }

    /// <summary>Hands the subscription to another session (the caller holds both sessions' locks).</summary>
    public void MoveTo(ServerSession session)
    {
        Session = session;
        _late = false;
    }

    public bool Remove(uint itemId)
    {
        if (!_items.Remove(itemId, out ServerMonitoredItem? item))
        {
            return false;
        }

        item.Node.RemoveMonitor(item);
        return true;
    }

    public void Delete()
    {
        IsDeleted = true;
        _timer?.Dispose();
        foreach (ServerMonitoredItem item in _items.Values)
        {
            item.Node.RemoveMonitor(item);
        }

        _items.Clear();
        _sent.Clear();
    }

    private void OnTimer()
    {
        ServerSession session = LockSession();
        try
        {
            if (IsDeleted)
            {
                return;
            }

            Session.ExpirePublishRequests();
            DateTime now = Now;
            UaAddressSpace space = Session.Server.AddressSpace;
            foreach (ServerMonitoredItem item in _items.Values)
            {
                item.Tick(now, () => UaServices.ReadAttribute(space, item.Node, item.AttributeId, now));
            }

            bool hasData = HasNotifications();
            if (!hasData)
            {
                _keepAliveCounter++;
            }

            if (hasData || _keepAliveCounter >= MaxKeepAliveCount)
            {
                if (Session.TryTakePublish(out PendingPublish? request))
                {
                    Publish(request);
                }
                else
                {
                    _late = true;
                }
            }

            if (Session.HasQueuedPublish)
            {
                _lifetimeCounter = 0;
            }
            else if (++_lifetimeCounter >= LifetimeCount)
            {
                Session.ExpireSubscription(this);
            }
        }
        finally
        {
            session.Sync.Exit();
        }
    }

    private bool HasNotifications()
    {
        if (!PublishingEnabled)
        {
            return false;
        }

        foreach (ServerMonitoredItem item in _items.Values)
        {
            if (item.HasNotifications)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Answers <paramref name="request"/> with this subscription's next message: notifications, or a keep-alive.</summary>
    public void Publish(PendingPublish request)
    {
        DateTime now = Now;
        var notifications = new List<MonitoredItemNotification>();
        int max = MaxNotificationsPerPublish == 0 ? int.MaxValue : (int)MaxNotificationsPerPublish;
        bool more = false;
        if (PublishingEnabled)
        {
            foreach (ServerMonitoredItem item in _items.Values)
            {
                if (item.Mode != MonitoringMode.Reporting)
                {
                    continue;
                }

                more |= item.Drain(notifications, max - notifications.Count) > 0;
            }
        }

        NotificationMessage message;
        if (notifications.Count > 0)
        {
            message = new NotificationMessage(_nextSequence, now, [new ExtensionObject(new DataChangeNotificationBody(new DataChangeNotification(notifications)))]);
            _nextSequence = _nextSequence == uint.MaxValue ? 1 : _nextSequence + 1;
            Retain(message);
        }
        else
        {
            // A keep-alive carries the next sequence number without using it (OPC 10000-4 §5.13.1.1).
            message = new NotificationMessage(_nextSequence, now, []);
        }

        _keepAliveCounter = 0;
        _lifetimeCounter = 0;
        _late = more;
        Session.SendPublishResponse(request, Id, message, more, [.. AvailableSequenceNumbers()]);
    }

    /// <summary>The final message of an expired or deleted subscription: a StatusChangeNotification.</summary>
    public NotificationMessage StatusChange(StatusCode status)
    {
        var message = new NotificationMessage(_nextSequence, Now, [new ExtensionObject(new StatusChangeNotificationBody(status))]);
        _nextSequence++;
        return message;
    }

    private void Retain(NotificationMessage message)
    {
        _sent.AddLast(message);
        while (_sent.Count > _maxRetransmission)
        {
            _sent.RemoveFirst(); // overflow policy DropOldest
        }
    }

    public IEnumerable<uint> AvailableSequenceNumbers() => _sent.Select(m => m.SequenceNumber);

    public StatusCode Acknowledge(uint sequenceNumber)
    {
        for (LinkedListNode<NotificationMessage>? node = _sent.First; node is not null; node = node.Next)
        {
            if (node.Value.SequenceNumber == sequenceNumber)
            {
                _sent.Remove(node);
                return default;
            }
        }

        return StatusCode.BadSequenceNumberUnknown;
    }

    public NotificationMessage? Find(uint sequenceNumber) => _sent.FirstOrDefault(m => m.SequenceNumber == sequenceNumber);
}
