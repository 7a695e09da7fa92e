using FactoryGateway.OpcUa.Encoding;
using FactoryGateway.OpcUa.Services;
using FactoryGateway.OpcUa.Transport;

namespace FactoryGateway.OpcUa.Client;

/// <summary>
/// The outcome of transferring one subscription to this session: the server's status and, when it is
/// good, the subscription as this session now delivers it (its monitored items stayed on the server).
/// </summary>
public sealed record SubscriptionTransferResult(uint SubscriptionId, StatusCode Status, IReadOnlyList<uint> AvailableSequenceNumbers, UaSubscription? Subscription);

public sealed partial class UaSession
{
    /// <summary>
    /// Moves subscriptions of another (lost) session to this one (TransferSubscriptions, OPC 10000-4
    /// §5.13.7). The server keeps a subscription and its monitored items while its lifetime lasts; a
    /// good result gives a <see cref="UaSubscription"/> on this session with the same id and the
    /// previous subscription's publishing interval and counts; with <paramref name="sendInitialValues"/>
    /// the server sends every item's current value first. A subscription the server no longer has, or
    /// will not hand over (a different user, or anonymous on an unsecured channel), comes back with a bad
    /// status and no subscription: the caller creates it again.
    /// </summary>
    public async Task<IReadOnlyList<SubscriptionTransferResult>> TransferSubscriptionsAsync(
        IReadOnlyList<UaSubscription> subscriptions, bool sendInitialValues = true, int messageBufferCapacity = 1000, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(subscriptions);
        ArgumentOutOfRangeException.ThrowIfLessThan(messageBufferCapacity, 1);
        if (subscriptions.Count == 0)
        {
            return [];
        }

        uint[] ids = [.. subscriptions.Select(s => s.Id)];
        (StatusCode Status, uint[] Available)[] results = await _channel.RequestAsync(
            ServiceIds.TransferSubscriptionsRequest, ServiceIds.TransferSubscriptionsResponse, AuthenticationToken,
            e =>
            {
                e.WriteArray(ids, static (w, id) => w.WriteUInt32(id));
                e.WriteBoolean(sendInitialValues);
            },
            static (ref UaBinaryDecoder d) =>
            {
                var r = d.ReadArray("TransferSubscriptionsResponse.Results", static (ref UaBinaryDecoder x, string f) =>
                {
                    StatusCode status = x.ReadStatusCode(f);
                    uint[] available = x.ReadArray("TransferResult.AvailableSequenceNumbers", static (ref UaBinaryDecoder y, string g) => y.ReadUInt32(g), 4);
                    return (status, available);
                }, 8);
                d.ReadDiagnosticInfoArray("TransferSubscriptionsResponse.DiagnosticInfos");
                return r;
            },
            cancellationToken: cancellationToken);
        if (results.Length != ids.Length)
        {
            throw new UaServiceException(StatusCode.BadUnknownResponse, $"TransferSubscriptions returned {results.Length} results for {ids.Length} subscriptions.");
        }

        var outcome = new SubscriptionTransferResult[ids.Length];
        for (int i = 0; i < ids.Length; i++)
        {
            UaSubscription? adopted = null;
            if (results[i].Status.IsGood)
            {
                UaSubscription old = subscriptions[i];
                adopted = new UaSubscription(this, old.Id, old.PublishingInterval, old.LifetimeCount, old.MaxKeepAliveCount, messageBufferCapacity, _options.PublishRequests, old.NextSequence);
                _subscriptions[old.Id] = adopted;
            }

            outcome[i] = new SubscriptionTransferResult(ids[i], results[i].Status, results[i].Available, adopted);
        }

        EnsurePublishing();
        return outcome;
    }
}
