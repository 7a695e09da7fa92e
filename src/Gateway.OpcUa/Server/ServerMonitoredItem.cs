using FactoryGateway.OpcUa.Encoding;
using FactoryGateway.OpcUa.Services;

namespace FactoryGateway.OpcUa.Server;

/// <summary>
/// A data-change monitored item (OPC 10000-4 §5.12): samples its node's attribute at its sampling
/// interval (0 = every change the address space reports), filters by the DataChangeFilter's trigger
/// and absolute deadband, and queues up to QueueSize values (overflow policy: discard the oldest or
/// the newest as the client asked, setting the Overflow info bit on the value that follows the gap).
/// All state is guarded by the session's lock.
/// </summary>
internal sealed class ServerMonitoredItem
{
    private readonly LinkedList<DataValue> _queue = new();
    private DataValue? _last;
    private DataValue? _pending;
    private DateTime _nextSample;

    public ServerMonitoredItem(ServerSubscription subscription, uint id, UaNode node, uint attributeId, uint clientHandle, MonitoringMode mode,
        double samplingInterval, uint queueSize, bool discardOldest, DataChangeFilter? filter, TimestampsToReturn timestamps)
    {
        Subscription = subscription;
        Id = id;
        Node = node;
        AttributeId = attributeId;
        ClientHandle = clientHandle;
        Mode = mode;
        SamplingInterval = samplingInterval;
        QueueSize = queueSize;
        DiscardOldest = discardOldest;
        Filter = filter;
        Timestamps = timestamps;
    }

    public ServerSubscription Subscription { get; }

    public uint Id { get; }

    public UaNode Node { get; }

    public uint AttributeId { get; }

    public uint ClientHandle { get; }

    public MonitoringMode Mode { get; }

    public double SamplingInterval { get; }

    public uint QueueSize { get; }

    public bool DiscardOldest { get; }

    public DataChangeFilter? Filter { get; }

    public TimestampsToReturn Timestamps { get; }

    /// <summary>Values dropped because the queue was full.</summary>
    public long Overflows { get; private set; }

    /// <summary>Whether the node tells this item of changes (a stored Value); otherwise the item polls at its sampling interval.</summary>
    public bool IsEventDriven => AttributeId == AttributeIds.Value && Node.ValueSource is null;

    public bool HasNotifications => Mode == MonitoringMode.Reporting && _queue.Count > 0;

    /// <summary>Called by the address space when the node's value changed (any thread).</summary>
    public void OnValueChanged(DataValue value)
    {
        ServerSession session = Subscription.LockSession();
        try
        {
            if (Subscription.IsDeleted)
            {
                return;
            }

            DateTime now = Subscription.Now;
            if (SamplingInterval > 0 && now < _nextSample)
            {
                _pending = value;
                return;
            }

            _pending = null;
            _nextSample = now.AddMilliseconds(SamplingInterval);
            Sample(value);
        }
        finally
        {
            session.Sync.Exit();
        }
    }

    /// <summary>Queues the current value whatever the filter says (TransferSubscriptions with SendInitialValues).</summary>
    public void SendCurrent(DataValue value)
    {
        _last = null;
        Sample(value);
    }

    /// <summary>Queues the first value (OPC 10000-4 §5.12.1.4: a new item reports its current value).</summary>
    public void Start(DataValue initial)
    {
        _nextSample = Subscription.Now.AddMilliseconds(SamplingInterval);
        Sample(initial);
    }

    /// <summary>Each publishing cycle: takes a held-back sample that is now due, or polls a computed node.</summary>
    public void Tick(DateTime now, Func<DataValue> read)
    {
        if (now < _nextSample)
        {
            return;
        }

        if (_pending is not null)
        {
            _nextSample = now.AddMilliseconds(SamplingInterval);
            DataValue value = _pending;
            _pending = null;
            Sample(value);
        }
        else if (!IsEventDriven && AttributeId == AttributeIds.Value)
        {
            _nextSample = now.AddMilliseconds(SamplingInterval);
            Sample(read());
        }
    }

    private void Sample(DataValue value)
    {
        if (Mode == MonitoringMode.Disabled || !Passes(value))
        {
            return;
        }

        _last = value;
        DataValue queued = Stamp(value);
        if (_queue.Count < QueueSize)
        {
            _queue.AddLast(queued);
            return;
        }

        Overflows++;
        if (DiscardOldest)
        {
            _queue.RemoveFirst();
            if (_queue.First is { } first)
            {
                // The value now oldest follows the gap.
                first.Value = WithOverflow(first.Value);
            }
            else
            {
                queued = WithOverflow(queued);
            }

            _queue.AddLast(queued);
        }
        else
        {
            // Discard newest: the last queued value is replaced by this one, marked.
            _queue.Last!.Value = QueueSize > 1 ? WithOverflow(queued) : queued;
        }
    }

    private static DataValue WithOverflow(DataValue value) => value with { Status = new StatusCode(value.Status.Code | UaServerStatus.OverflowInfoBits) };

    private bool Passes(DataValue value)
    {
        if (_last is null)
        {
            return true;
        }

        DataChangeTrigger trigger = Filter?.Trigger ?? DataChangeTrigger.StatusValue;
        if (value.Status.Code != _last.Status.Code)
        {
            return true;
        }

        if (trigger == DataChangeTrigger.Status)
        {
            return false;
        }

        if (trigger == DataChangeTrigger.StatusValueTimestamp && value.SourceTimestamp != _last.SourceTimestamp)
        {
            return true;
        }

        if (Filter is { DeadbandType: DeadbandType.Absolute, DeadbandValue: > 0 }
            && value.Value.TryGetDouble(out double now) && _last.Value.TryGetDouble(out double before))
        {
            return Math.Abs(now - before) > Filter.DeadbandValue;
        }

        return !value.Value.Equals(_last.Value);
    }

    private DataValue Stamp(DataValue value) => Timestamps switch
    {
        TimestampsToReturn.Source => value with { ServerTimestamp = default, ServerPicoseconds = 0 },
        TimestampsToReturn.Server => value with { SourceTimestamp = default, SourcePicoseconds = 0 },
        TimestampsToReturn.Neither => value with { SourceTimestamp = default, SourcePicoseconds = 0, ServerTimestamp = default, ServerPicoseconds = 0 },
        _ => value,
    };

    /// <summary>Moves up to <paramref name="max"/> queued values into <paramref name="into"/>; returns how many remain.</summary>
    public int Drain(List<MonitoredItemNotification> into, int max)
    {
        while (_queue.Count > 0 && max-- > 0)
        {
            into.Add(new MonitoredItemNotification(ClientHandle, _queue.First!.Value));
            _queue.RemoveFirst();
        }

        return _queue.Count;
    }
}
