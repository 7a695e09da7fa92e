using FactoryGateway.OpcUa.Encoding;
using FactoryGateway.OpcUa.Services;

namespace FactoryGateway.OpcUa.Server;

/// <summary>A Publish request waiting for a subscription to have something to send.</summary>
internal sealed record PendingPublish(UaServerConnection Connection, uint RequestId, uint RequestHandle, DateTime Deadline, StatusCode[] AcknowledgementResults);

/// <summary>
/// A session (OPC 10000-4 §5.6): its tokens, identity, channel, subscriptions, queued Publish
/// requests and browse continuation points. <see cref="Sync"/> guards all of it; services, the
/// subscription timers and the address space's change notifications take it briefly and never wait under it.
/// </summary>
internal sealed class ServerSession
{
    private readonly Dictionary<uint, ServerSubscription> _subscriptions = [];
    private readonly Queue<PendingPublish> _publishes = new();
    private readonly Queue<(uint SubscriptionId, NotificationMessage Message)> _statusChanges = new();
    private readonly Dictionary<ulong, BrowseContinuation> _continuations = [];
    private ulong _nextContinuation;

    public ServerSession(UaServer server, NodeId sessionId, NodeId authenticationToken, string? name, TimeSpan timeout, UaServerConnection connection)
    {
        Server = server;
        SessionId = sessionId;
        AuthenticationToken = authenticationToken;
        Name = name;
        Timeout = timeout;
        Connection = connection;
        LastActivity = server.Now;
    }

    public Lock Sync { get; } = new();

    public UaServer Server { get; }

    public NodeId SessionId { get; }

    public NodeId AuthenticationToken { get; }

    public string? Name { get; }

    public TimeSpan Timeout { get; }

    public UaServerConnection Connection { get; set; }

    public bool Activated { get; set; }

    public bool Closed { get; private set; }

    public string Identity { get; set; } = "anonymous";

    public DateTime LastActivity { get; set; }

    /// <summary>The nonce of the last CreateSession or ActivateSession response: the client signs it, an encrypted password ends with it.</summary>
    public byte[] ServerNonce { get; set; } = [];

    /// <summary>The client certificate of the secure channel the session was created on (null with SecurityPolicy None).</summary>
    public byte[]? ClientCertificate { get; init; }

    public Dictionary<uint, ServerSubscription> Subscriptions => _subscriptions;

    public bool HasQueuedPublish => _publishes.Count > 0;

    public int ContinuationCount => _continuations.Count;

    public ReadOnlyMemory<byte> AddContinuation(BrowseContinuation continuation)
    {
        ulong id = ++_nextContinuation;
        _continuations[id] = continuation;
        return BitConverter.GetBytes(id);
    }

    public BrowseContinuation? TakeContinuation(ReadOnlySpan<byte> point) =>
        point.Length == 8 && _continuations.Remove(BitConverter.ToUInt64(point), out BrowseContinuation? c) ? c : null;

    /// <summary>Queues a Publish request, or refuses it; then serves late subscriptions.</summary>
    public void QueuePublish(PendingPublish request)
    {
        Server.CountPublishRequest();
        if (_subscriptions.Count == 0 && _statusChanges.Count == 0)
        {
            SendFault(request, StatusCode.BadNoSubscription);
            return;
        }

        if (_publishes.Count >= Server.Options.MaxPublishRequestsPerSession)
        {
            SendFault(request, StatusCode.BadTooManyPublishRequests);
            return;
        }

        _publishes.Enqueue(request);
        ServeLate();
    }

    private void ServeLate()
    {
        while (_publishes.Count > 0)
        {
            if (_statusChanges.TryDequeue(out (uint SubscriptionId, NotificationMessage Message) change))
            {
                SendPublishResponse(_publishes.Dequeue(), change.SubscriptionId, change.Message, false, []);
                continue;
            }

            ServerSubscription? late = null;
            foreach (ServerSubscription s in _subscriptions.Values)
            {
                if (s.IsLate && (late is null || s.Priority > late.Priority))
                {
                    late = s;
                }
            }

            if (late is null || !TryTakePublish(out PendingPublish? request))
            {
                return;
            }

            late.Publish(request);
        }
    }

    public bool TryTakePublish([System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out PendingPublish? request)
    {
        while (_publishes.TryDequeue(out request))
        {
            if (!request.Connection.IsClosing)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Answers Publish requests whose TimeoutHint passed with BadTimeout.</summary>
    public void ExpirePublishRequests()
    {
        DateTime now = Server.Now;
        int count = _publishes.Count;
        for (int i = 0; i < count; i++)
        {
            PendingPublish request = _publishes.Dequeue();
            if (request.Deadline <= now)
            {
                SendFault(request, StatusCode.BadTimeout);
            }
            else
            {
                _publishes.Enqueue(request);
            }
        }
    }

    public void SendPublishResponse(PendingPublish request, uint subscriptionId, NotificationMessage message, bool more, uint[] available)
    {
        ReadOnlyMemory<byte> body = UaServerCodec.Response(ServiceIds.PublishResponse, request.RequestHandle, Server.Now, e =>
        {
            e.WriteUInt32(subscriptionId);
            e.WriteArray(available, static (w, n) => w.WriteUInt32(n));
            e.WriteBoolean(more);
            UaServerCodec.WriteNotificationMessage(e, message);
            e.WriteArray(request.AcknowledgementResults, static (w, s) => w.WriteStatusCode(s));
            e.WriteInt32(-1); // DiagnosticInfos
        });
        Server.CountPublishResponse(message.IsKeepAlive);
        request.Connection.SendResponse(request.RequestId, request.RequestHandle, body);
    }

    private void SendFault(PendingPublish request, StatusCode status) =>
        request.Connection.SendResponse(request.RequestId, request.RequestHandle, UaServerCodec.ServiceFault(request.RequestHandle, Server.Now, status));

    public void ExpireSubscription(ServerSubscription subscription)
    {
        UaServerLog.SubscriptionExpired(Server.Logger, subscription.Id, subscription.LifetimeCount);
        _statusChanges.Enqueue((subscription.Id, subscription.StatusChange(StatusCode.BadTimeout)));
        DeleteSubscription(subscription.Id);
    }

    /// <summary>
    /// Takes a subscription from this session for TransferSubscriptions (the caller holds both locks):
    /// this session's client gets a StatusChangeNotification GoodSubscriptionTransferred on its next Publish.
    /// </summary>
    public void GiveAway(ServerSubscription subscription)
    {
        _subscriptions.Remove(subscription.Id);
        _statusChanges.Enqueue((subscription.Id, subscription.StatusChange(StatusCode.GoodSubscriptionTransferred)));
        ServeLate();
    }

    public bool DeleteSubscription(uint id)
    {
        if (!_subscriptions.Remove(id, out ServerSubscription? subscription))
        {
            return false;
        }

        subscription.Delete();
        Server.ForgetSubscription(id);
        return true;
    }

    /// <summary>Deletes every subscription and answers the queued Publish requests with <paramref name="status"/>.</summary>
    public void Close(StatusCode status)
    {
        Closed = true;
        foreach (uint id in _subscriptions.Keys.ToArray())
        {
            DeleteSubscription(id);
        }

        while (_publishes.TryDequeue(out PendingPublish? request))
        {
            if (!request.Connection.IsClosing)
            {
                SendFault(request, status);
            }
        }

        _continuations.Clear();
    }
}

/// <summary>The references of a browsed node not yet returned (a continuation point).</summary>
internal sealed record BrowseContinuation(List<ReferenceDescription> Remaining, uint MaxReferences);
