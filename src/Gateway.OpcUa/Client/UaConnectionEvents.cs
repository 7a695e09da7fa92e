using FactoryGateway.OpcUa.Encoding;
using FactoryGateway.OpcUa.Services;

namespace FactoryGateway.OpcUa.Client;

public enum UaConnectionState
{
    /// <summary>Opening a channel and a session, or restoring subscriptions.</summary>
    Connecting = 0,

    /// <summary>The session is active and every declared subscription is live.</summary>
    Connected = 1,

    /// <summary>The connection was lost or an attempt failed; the next attempt waits for the backoff delay.</summary>
    Disconnected = 2,

    /// <summary>The connection was disposed.</summary>
    Stopped = 3,
}

/// <summary>How the subscriptions came back after an outage.</summary>
public enum UaRecovery
{
    /// <summary>The server moved the old subscriptions to the new session (TransferSubscriptions); queued notifications may have survived.</summary>
    Transferred = 0,

    /// <summary>The subscriptions were created again (at least one could not be transferred, typically after a server restart).</summary>
    Recreated = 1,
}

/// <summary>Something the consumer of a <see cref="UaConnection"/> reads, in order, from <see cref="UaConnection.Events"/>.</summary>
public abstract record UaConnectionEvent;

/// <summary>The connection's state changed; <see cref="Reason"/> says why for Disconnected (never a secret).</summary>
public sealed record UaConnectionStateChanged(DateTimeOffset Time, UaConnectionState State, string? Reason, StatusCode? Status) : UaConnectionEvent;

/// <summary>
/// No data could flow from <see cref="Start"/> (the connection was found lost) to <see cref="End"/> (the
/// subscriptions were live again). Delivered once per outage, after the Connected event that ends it.
/// </summary>
public sealed record UaDataGap(DateTimeOffset Start, DateTimeOffset End, UaRecovery Recovery, string Reason) : UaConnectionEvent
{
    public TimeSpan Duration => End - Start;
}

/// <summary>A declared monitored item that could not be resolved or created on this session (it is tried again after the next reconnect).</summary>
public sealed record UaItemUnavailable(DateTimeOffset Time, string Subscription, string Key, UaNodeReference Node, StatusCode Status, string Reason) : UaConnectionEvent;

/// <summary>
/// One NotificationMessage's data changes. <see cref="MonitoredItemNotification.ClientHandle"/> is the
/// item's index in <see cref="UaSubscriptionSpec.Items"/> plus one (stable across reconnects); use
/// <see cref="ItemAt"/> to get the declared item. <see cref="MissedBefore"/> counts messages the
/// server sent on this session that never arrived (a gap inside a connection).
/// </summary>
public sealed record UaDataChanges(UaSubscriptionSpec Subscription, uint SequenceNumber, DateTime PublishTime, IReadOnlyList<MonitoredItemNotification> Values, uint MissedBefore) : UaConnectionEvent
{
    /// <summary>The declared item a notification belongs to, or null for a handle this connection did not assign.</summary>
    public UaMonitoredItemSpec? ItemAt(MonitoredItemNotification value)
    {
        ArgumentNullException.ThrowIfNull(value);
        long index = (long)value.ClientHandle - 1;
        return index >= 0 && index < Subscription.Items.Count ? Subscription.Items[(int)index] : null;
    }
}

/// <summary>
/// One NotificationMessage's events. <see cref="EventFieldList.ClientHandle"/> is the event item's index in
/// <see cref="UaSubscriptionSpec.Items"/> plus one; the fields are in the order of the item's select clauses.
/// </summary>
public sealed record UaEvents(UaSubscriptionSpec Subscription, uint SequenceNumber, DateTime PublishTime, IReadOnlyList<EventFieldList> Events) : UaConnectionEvent;
