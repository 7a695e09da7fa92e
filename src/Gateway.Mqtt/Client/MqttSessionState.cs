using FactoryGateway.Mqtt.Packets;

namespace FactoryGateway.Mqtt.Client;

/// <summary>A QoS 1/2 message from PublishAsync until its final acknowledgement; it outlives connections.</summary>
internal sealed class OutgoingFlight
{
    public OutgoingFlight(MqttApplicationMessage message)
    {
        Message = message;
    }

    /// <summary>Assigned when the writer admits the message into the in-flight window.</summary>
    public ushort PacketId { get; set; }

    public long Sequence { get; set; }

    public MqttApplicationMessage Message { get; }

    /// <summary>QoS 2: PUBREC arrived; what is left is PUBREL → PUBCOMP.</summary>
    public bool Received { get; set; }

    public int SentCount { get; set; }

    public TaskCompletionSource<MqttPublishResult> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}

/// <summary>A SUBSCRIBE or UNSUBSCRIBE waiting for its acknowledgement; sent again on a new connection.</summary>
internal sealed class PendingRequest
{
    public PendingRequest(MqttPacket packet, ushort packetId)
    {
        Packet = packet;
        PacketId = packetId;
    }

    public MqttPacket Packet { get; }

    public ushort PacketId { get; }

    public TaskCompletionSource<MqttPacket> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}

/// <summary>
/// The client side of an MQTT session (MQTT 5.0 §4.1): QoS 1/2 messages not completely acknowledged,
/// incoming QoS 2 packet ids waiting for PUBREL, pending requests and the subscriptions to restore.
/// Every member is called under <see cref="Lock"/>.
/// </summary>
internal sealed class MqttSessionState
{
    private readonly Dictionary<ushort, OutgoingFlight> _flights = [];
    private readonly Dictionary<ushort, PendingRequest> _requests = [];
    private ushort _nextId = 1;
    private long _sequence;

    public Lock Lock { get; } = new();

    /// <summary>Incoming QoS 2 messages accepted (PUBREC sent) whose PUBREL has not arrived: a DUP of one is acknowledged, not delivered again.</summary>
    public HashSet<ushort> AwaitingRelease { get; } = [];

    /// <summary>
    /// Counts the broker's sessions (a CONNACK without session present starts a new one): a handler of the old
    /// session that finishes after the reconnect does not record its packet id as awaiting PUBREL in the new one.
    /// </summary>
    public long Generation { get; set; }

    /// <summary>Subscriptions acknowledged or requested, by filter, restored when the broker has no session.</summary>
    public Dictionary<string, MqttSubscription> Subscriptions { get; } = new(StringComparer.Ordinal);

    /// <summary>Admits a flight: gives it a packet identifier and its place in the resend order.</summary>
    public void AddFlight(OutgoingFlight flight)
    {
        flight.PacketId = NextPacketId();
        flight.Sequence = ++_sequence;
        _flights.Add(flight.PacketId, flight);
    }

    public bool TryGetFlight(ushort packetId, out OutgoingFlight? flight) => _flights.TryGetValue(packetId, out flight);

    public bool RemoveFlight(ushort packetId) => _flights.Remove(packetId);

    public List<OutgoingFlight> FlightsInOrder() => [.. _flights.Values.OrderBy(f => f.Sequence)];

    public PendingRequest AddRequest(Func<ushort, MqttPacket> create)
    {
        ushort id = NextPacketId();
        var request = new PendingRequest(create(id), id);
        _requests.Add(id, request);
        return request;
    }

    public PendingRequest? TakeRequest(ushort packetId) => _requests.Remove(packetId, out PendingRequest? request) ? request : null;

    public List<PendingRequest> Requests() => [.. _requests.Values.OrderBy(r => r.PacketId)];

    private ushort NextPacketId()
    {
        for (int i = 0; i < ushort.MaxValue; i++)
        {
            ushort id = _nextId;
            _nextId = _nextId == ushort.MaxValue ? (ushort)1 : (ushort)(_nextId + 1);
            if (!_flights.ContainsKey(id) && !_requests.ContainsKey(id))
            {
                return id;
            }
        }

        throw new InvalidOperationException("All 65,535 packet identifiers are in use.");
    }
}
