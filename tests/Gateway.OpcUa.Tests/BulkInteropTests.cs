using FactoryGateway.OpcUa.Client;
using FactoryGateway.OpcUa.Encoding;
using FactoryGateway.OpcUa.Services;
using FactoryGateway.OpcUa.Transport;

namespace FactoryGateway.OpcUa.Tests;

/// <summary>Large subscriptions and user-name sessions against node-opcua started with <c>--bulk 1000 --users …</c>.</summary>
public sealed class BulkInteropTests(BulkNodeOpcUaServer peer) : IClassFixture<BulkNodeOpcUaServer>
{
    private static readonly TimeSpan s_deadline = TimeSpan.FromSeconds(30);

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_thousand_monitored_items_are_created_in_batches_and_all_report()
    {
        await using UaSession session = await UaSession.ConnectAsync(peer.Server.EndpointUrl, new UaSessionOptions { MaxMonitoredItemsPerCall = 300 }, cancellationToken: Token);
        UaSubscription subscription = await session.CreateSubscriptionAsync(new UaSubscriptionOptions { PublishingInterval = 200 }, Token);
        MonitoredItemRequest[] items = Enumerable.Range(0, BulkNodeOpcUaServer.BulkItems)
            .Select(i => new MonitoredItemRequest(new ReadValueId(new NodeId($"Bulk.{i:D4}", 1))) { SamplingInterval = 100 })
            .ToArray();

        IReadOnlyList<MonitoredItemResult> created = await subscription.CreateMonitoredItemsAsync(items, Token);

        Assert.Equal(BulkNodeOpcUaServer.BulkItems, created.Count);
        Assert.All(created, r => Assert.True(r.Status.IsGood, r.Status.ToString()));
        Assert.Equal(BulkNodeOpcUaServer.BulkItems, created.Select(r => r.ClientHandle).Distinct().Count());

        var reported = new HashSet<uint>();
        long notifications = 0;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(Token);
        deadline.CancelAfter(s_deadline);
        await foreach (SubscriptionMessage message in subscription.Messages.ReadAllAsync(deadline.Token))
        {
            foreach (MonitoredItemNotification n in message.DataChanges)
            {
                Assert.Equal(BuiltInType.Double, n.Value.Value.Type);
                reported.Add(n.ClientHandle);
                notifications++;
            }

            // Every item reported, and then some more cycles (values change every 100 ms).
            if (reported.Count == BulkNodeOpcUaServer.BulkItems && notifications >= 3 * BulkNodeOpcUaServer.BulkItems)
            {
                break;
            }
        }

        Assert.Equal(BulkNodeOpcUaServer.BulkItems, reported.Count);
        Assert.True(notifications >= 3 * BulkNodeOpcUaServer.BulkItems, $"{notifications} notifications");
        Assert.Equal(0, subscription.MissedMessages);
        Assert.Null(session.PublishFault);

        IReadOnlyList<StatusCode> deleted = await subscription.DeleteMonitoredItemsAsync(created.Select(r => r.MonitoredItemId).ToArray(), Token);
        Assert.Equal(BulkNodeOpcUaServer.BulkItems, deleted.Count);
        Assert.All(deleted, d => Assert.True(d.IsGood, d.ToString()));
    }

    [Fact]
    public async Task Batches_shrink_to_the_server_operation_limits_the_server_enforces()
    {
        await using UaSession session = await UaSession.ConnectAsync(peer.Server.EndpointUrl, cancellationToken: Token);
        Assert.Equal((uint)BulkNodeOpcUaServer.MaxMonitoredItemsPerCall, session.ServerLimits.MaxMonitoredItemsPerCall);
        Assert.Equal((uint)BulkNodeOpcUaServer.MaxNodesPerRead, session.ServerLimits.MaxNodesPerRead);
        ReadValueId[] nodes = Enumerable.Range(0, BulkNodeOpcUaServer.BulkItems).Select(i => new ReadValueId(new NodeId($"Bulk.{i:D4}", 1))).ToArray();

        // The limit is real: one Read over it is refused by the server.
        UaServiceException refused = await Assert.ThrowsAsync<UaServiceException>(() => session.Channel.RequestAsync(
            ServiceIds.ReadRequest, ServiceIds.ReadResponse, session.AuthenticationToken,
            e =>
            {
                e.WriteDouble(0);
                e.WriteInt32((int)TimestampsToReturn.Neither);
                e.WriteArray(nodes[..(BulkNodeOpcUaServer.MaxNodesPerRead + 1)], static (w, n) =>
                {
                    w.WriteNodeId(n.NodeId);
                    w.WriteUInt32(n.AttributeId);
                    w.WriteString(null);
                    w.WriteQualifiedName(null);
                });
            },
            static (ref UaBinaryDecoder d) => true,
            cancellationToken: Token));
        Assert.Equal(StatusCode.BadTooManyOperations, refused.Status.CodeBits);

        // The session splits the same Read (default batch 1,000) into calls within the limit.
        IReadOnlyList<DataValue> values = await session.ReadAsync(nodes, cancellationToken: Token);
        Assert.Equal(BulkNodeOpcUaServer.BulkItems, values.Count);
        Assert.All(values, v => Assert.Equal(BuiltInType.Double, v.Value.Type));

        UaSubscription subscription = await session.CreateSubscriptionAsync(cancellationToken: Token);
        IReadOnlyList<MonitoredItemResult> created = await subscription.CreateMonitoredItemsAsync(nodes.Select(n => new MonitoredItemRequest(n)).ToArray(), Token);
        Assert.All(created, r => Assert.True(r.Status.IsGood, r.Status.ToString()));
    }

    [Fact]
    public async Task A_user_name_session_with_the_right_password_is_activated()
    {
        // node-opcua asks for the password to be RSA-encrypted even on its None endpoint: this is the encrypted path.
        IReadOnlyList<EndpointDescription> endpoints = await UaSession.GetEndpointsAsync(peer.Server.EndpointUrl, cancellationToken: Token);
        UserTokenPolicy userName = endpoints.First(e => e.SecurityPolicyUri == UaTcpChannel.SecurityPolicyNone).UserIdentityTokens.First(t => t.TokenType == UserTokenType.UserName);
        Assert.Equal("http://opcfoundation.org/UA/SecurityPolicy#Basic256Sha256", userName.SecurityPolicyUri);
        var options = new UaSessionOptions { Identity = UserIdentity.FromUserName(BulkNodeOpcUaServer.UserName, BulkNodeOpcUaServer.Password) };

        await using UaSession session = await UaSession.ConnectAsync(peer.Server.EndpointUrl, options, cancellationToken: Token);

        Assert.True((await session.ReadValueAsync(WellKnownNodes.ServerStatusState, Token)).Status.IsGood);
    }

    [Fact]
    public async Task A_user_name_session_with_a_wrong_password_is_rejected()
    {
        var options = new UaSessionOptions { Identity = UserIdentity.FromUserName(BulkNodeOpcUaServer.UserName, "wrong") };

        UaServiceException error = await Assert.ThrowsAsync<UaServiceException>(() => UaSession.ConnectAsync(peer.Server.EndpointUrl, options, cancellationToken: Token));

        Assert.True(error.Status.CodeBits is StatusCode.BadUserAccessDenied or StatusCode.BadIdentityTokenRejected or StatusCode.BadIdentityTokenInvalid, error.Message);
    }

    [Fact]
    public void The_identity_never_prints_its_password()
    {
        var identity = UserIdentity.FromUserName(BulkNodeOpcUaServer.UserName, BulkNodeOpcUaServer.Password);

        Assert.DoesNotContain(BulkNodeOpcUaServer.Password, identity.ToString(), StringComparison.Ordinal);
    }
}
