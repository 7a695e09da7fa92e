using FactoryGateway.OpcUa.Client;
using FactoryGateway.OpcUa.Encoding;
using FactoryGateway.OpcUa.Services;
using FactoryGateway.OpcUa.Transport;
using FactoryGateway.Testing;

namespace FactoryGateway.OpcUa.Tests;

/// <summary>Our client against a real node-opcua server (tests/peers/opcua-server.mjs), SecurityPolicy None.</summary>
public sealed class NodeOpcUaInteropTests(NodeOpcUaServer server) : IClassFixture<NodeOpcUaServer>
{
    private static readonly TimeSpan s_deadline = TimeSpan.FromSeconds(20);

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private async Task<UaSession> ConnectAsync(UaSessionOptions? options = null) =>
        await UaSession.ConnectAsync(server.EndpointUrl, options, cancellationToken: Token);

    [Fact]
    public async Task GetEndpoints_lists_a_None_endpoint_with_anonymous_access()
    {
        IReadOnlyList<EndpointDescription> endpoints = await UaSession.GetEndpointsAsync(server.EndpointUrl, cancellationToken: Token);

        EndpointDescription none = Assert.Single(endpoints, e => e.SecurityPolicyUri == UaTcpChannel.SecurityPolicyNone);
        Assert.Equal(MessageSecurityMode.None, none.SecurityMode);
        Assert.Contains(none.UserIdentityTokens, t => t.TokenType == UserTokenType.Anonymous);
        Assert.Equal("http://opcfoundation.org/UA-Profile/Transport/uatcp-uasc-uabinary", none.TransportProfileUri);
        Assert.Equal(ApplicationType.Server, none.Server.ApplicationType);
    }

    [Fact]
    public async Task An_anonymous_session_reads_server_status_and_namespace_array()
    {
        await using UaSession session = await ConnectAsync();

        ServerStatus status = await session.ReadServerStatusAsync(Token);
        IReadOnlyList<string> namespaces = await session.ReadNamespaceArrayAsync(Token);

        Assert.Equal(ServerState.Running, status.State);
        Assert.Equal("FactoryGatewayTestPeer", status.BuildInfo.ProductName);
        Assert.InRange(status.CurrentTime, DateTime.UtcNow.AddMinutes(-5), DateTime.UtcNow.AddMinutes(5));
        Assert.Equal("http://opcfoundation.org/UA/", namespaces[0]);
        Assert.True(namespaces.Count >= 2);
        Assert.False(session.SessionId.IsNull);
    }

    [Fact]
    public async Task Browsing_Objects_finds_TestMachine_and_its_PartsTotal()
    {
        await using UaSession session = await ConnectAsync();

        IReadOnlyList<ReferenceDescription> objects = await session.BrowseAllAsync(new BrowseDescription(WellKnownNodes.ObjectsFolder), cancellationToken: Token);
        ReferenceDescription machine = Assert.Single(objects, r => r.BrowseName.Name == "TestMachine");
        Assert.Equal(NodeClass.Object, machine.NodeClass);
        Assert.Contains(objects, r => r.BrowseName.Name == "Server" && r.NodeId.NodeId == WellKnownNodes.Server);

        IReadOnlyList<ReferenceDescription> children = await session.BrowseAllAsync(new BrowseDescription(machine.NodeId.NodeId), cancellationToken: Token);
        ReferenceDescription parts = Assert.Single(children, r => r.BrowseName.Name == "PartsTotal");
        Assert.Equal(NodeClass.Variable, parts.NodeClass);
        Assert.Equal(NodeIdType.String, parts.NodeId.NodeId.IdType);
        Assert.Equal("TestMachine.PartsTotal", parts.NodeId.NodeId.StringIdentifier);
    }

    [Fact]
    public async Task BrowseNext_follows_continuation_points_to_the_same_references()
    {
        await using UaSession session = await ConnectAsync();
        var node = new BrowseDescription(WellKnownNodes.Server);

        IReadOnlyList<ReferenceDescription> whole = await session.BrowseAllAsync(node, cancellationToken: Token);
        IReadOnlyList<BrowseResult> first = await session.BrowseAsync([node], maxReferencesPerNode: 2, Token);
        IReadOnlyList<ReferenceDescription> paged = await session.BrowseAllAsync(node, maxReferencesPerNode: 2, Token);

        Assert.True(whole.Count > 2);
        Assert.Equal(2, first[0].References.Count);
        Assert.False(first[0].ContinuationPoint.IsEmpty);
        Assert.Equal(whole.Select(r => r.NodeId.ToString()).Order(), paged.Select(r => r.NodeId.ToString()).Order());
    }

    [Fact]
    public async Task A_browse_path_from_Objects_resolves_to_PartsTotal()
    {
        await using UaSession session = await ConnectAsync();

        IReadOnlyList<BrowsePathResult> results = await session.TranslateBrowsePathsAsync(
            [
                new BrowsePath(WellKnownNodes.ObjectsFolder, [new QualifiedName(1, "TestMachine"), new QualifiedName(1, "PartsTotal")]),
                new BrowsePath(WellKnownNodes.ObjectsFolder, [new QualifiedName(1, "TestMachine"), new QualifiedName(1, "NoSuchChild")]),
            ],
            Token);

        Assert.True(results[0].Status.IsGood, results[0].Status.ToString());
        BrowsePathTarget target = Assert.Single(results[0].Targets);
        Assert.Equal(new NodeId("TestMachine.PartsTotal", 1), target.TargetId.NodeId);
        Assert.Equal(uint.MaxValue, target.RemainingPathIndex);
        Assert.True(results[1].Status.IsBad);
    }

    [Fact]
    public async Task A_registered_node_reads_like_the_original()
    {
        await using UaSession session = await ConnectAsync();
        var parts = new NodeId("TestMachine.PartsTotal", 1);

        IReadOnlyList<NodeId> registered = await session.RegisterNodesAsync([parts], Token);
        DataValue value = await session.ReadValueAsync(registered[0], Token);
        await session.UnregisterNodesAsync(registered, Token);

        Assert.True(value.Status.IsGood, value.Status.ToString());
        Assert.Equal(BuiltInType.Int64, value.Value.Type);
    }

    [Fact]
    public async Task PartsTotal_reads_as_a_growing_Int64_by_its_nsu_node_id()
    {
        await using UaSession session = await ConnectAsync();
        IReadOnlyList<string> namespaces = await session.ReadNamespaceArrayAsync(Token);
        NodeId parts = NodeId.Parse($"nsu={namespaces[1]};s=TestMachine.PartsTotal", namespaces);

        DataValue first = await session.ReadValueAsync(parts, Token);
        Assert.True(first.Status.IsGood, first.Status.ToString());
        Assert.Equal(BuiltInType.Int64, first.Value.Type);
        Assert.True(first.Value.TryGetInt64(out long a));

        using var deadline = new CancellationTokenSource(s_deadline);
        long b = a;
        while (b <= a)
        {
            deadline.Token.ThrowIfCancellationRequested();
            Assert.True((await session.ReadValueAsync(parts, Token)).Value.TryGetInt64(out b));
        }

        Assert.True(b > a);
    }

    [Fact]
    public async Task Reading_an_unknown_node_returns_BadNodeIdUnknown_for_that_node_only()
    {
        await using UaSession session = await ConnectAsync();

        IReadOnlyList<DataValue> values = await session.ReadAsync([new ReadValueId(new NodeId("NoSuchNode", 1)), new ReadValueId(WellKnownNodes.ServerStatusState)], cancellationToken: Token);

        Assert.Equal(StatusCode.BadNodeIdUnknown, values[0].Status.CodeBits);
        Assert.True(values[1].Status.IsGood);
        Assert.Equal(BuiltInType.Int32, values[1].Value.Type);
    }

    [Fact]
    public async Task A_subscription_to_PartsTotal_delivers_increasing_values_and_is_acknowledged()
    {
        await using UaSession session = await ConnectAsync();
        UaSubscription subscription = await session.CreateSubscriptionAsync(new UaSubscriptionOptions { PublishingInterval = 100 }, Token);
        IReadOnlyList<MonitoredItemResult> created = await subscription.CreateMonitoredItemsAsync(
            [new MonitoredItemRequest(new ReadValueId(new NodeId("TestMachine.PartsTotal", 1))) { SamplingInterval = 100, QueueSize = 10 }], Token);
        Assert.True(created[0].Status.IsGood, created[0].Status.ToString());

        var seen = new List<long>();
        uint lastSequence = 0;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(Token);
        deadline.CancelAfter(s_deadline);
        await foreach (SubscriptionMessage message in subscription.Messages.ReadAllAsync(deadline.Token))
        {
            Assert.True(message.SequenceNumber > lastSequence);
            lastSequence = message.SequenceNumber;
            foreach (MonitoredItemNotification n in message.DataChanges)
            {
                Assert.Equal(created[0].ClientHandle, n.ClientHandle);
                Assert.True(n.Value.Value.TryGetInt64(out long v));
                Assert.NotEqual(DateTime.MinValue, n.Value.SourceTimestamp);
                seen.Add(v);
            }

            if (seen.Count >= 5)
            {
                break;
            }
        }

        Assert.True(seen.Count >= 5, $"only {seen.Count} values arrived");
        Assert.Equal(seen.Order(), seen);
        Assert.True(seen[^1] > seen[0]);
        Assert.Equal(0, subscription.MissedMessages);
        Assert.Null(session.PublishFault);
        await subscription.DeleteAsync(Token);
    }

    [Fact]
    public async Task A_lost_Publish_response_is_recovered_with_Republish_and_delivered_in_order()
    {
        await using UaSession session = await ConnectAsync();
        int dropped = 0;
        session.DropNotificationForTests = m => !m.IsKeepAlive && m.SequenceNumber == 3 && Interlocked.Exchange(ref dropped, 1) == 0;
        UaSubscription subscription = await session.CreateSubscriptionAsync(new UaSubscriptionOptions { PublishingInterval = 100 }, Token);
        await subscription.CreateMonitoredItemsAsync(
            [new MonitoredItemRequest(new ReadValueId(new NodeId("TestMachine.PartsTotal", 1))) { SamplingInterval = 100 }], Token);

        var sequences = new List<uint>();
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(Token);
        deadline.CancelAfter(s_deadline);
        await foreach (SubscriptionMessage message in subscription.Messages.ReadAllAsync(deadline.Token))
        {
            Assert.Equal(0u, message.MissedBefore);
            sequences.Add(message.SequenceNumber);
            if (message.SequenceNumber >= 8)
            {
                break;
            }
        }

        Assert.Equal(1, dropped);
        Assert.Equal(Enumerable.Range(1, sequences.Count).Select(i => (uint)i), sequences);
        Assert.Equal(1, subscription.RepublishedMessages);
        Assert.Equal(0, subscription.MissedMessages);
    }

    [Fact]
    public async Task Modifying_a_subscription_takes_the_revised_interval_and_counts()
    {
        await using UaSession session = await ConnectAsync();
        UaSubscription subscription = await session.CreateSubscriptionAsync(new UaSubscriptionOptions { PublishingInterval = 100 }, Token);
        Assert.Equal(100, subscription.PublishingInterval);

        await subscription.ModifyAsync(new UaSubscriptionOptions { PublishingInterval = 500, MaxKeepAliveCount = 4, LifetimeCount = 40 }, Token);

        Assert.Equal(500, subscription.PublishingInterval);
        Assert.Equal(4u, subscription.MaxKeepAliveCount);
        Assert.Equal(40u, subscription.LifetimeCount);
    }

    [Fact]
    public async Task An_absolute_deadband_filter_suppresses_small_changes()
    {
        await using UaSession session = await ConnectAsync();
        UaSubscription subscription = await session.CreateSubscriptionAsync(new UaSubscriptionOptions { PublishingInterval = 100 }, Token);
        var filter = new DataChangeFilter(DataChangeTrigger.StatusValue, DeadbandType.Absolute, 20);
        IReadOnlyList<MonitoredItemResult> created = await subscription.CreateMonitoredItemsAsync(
            [new MonitoredItemRequest(new ReadValueId(new NodeId("TestMachine.PartsTotal", 1))) { SamplingInterval = 100, QueueSize = 10, Filter = filter }], Token);
        Assert.True(created[0].Status.IsGood, created[0].Status.ToString());

        var seen = new List<long>();
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(Token);
        deadline.CancelAfter(s_deadline);
        await foreach (SubscriptionMessage message in subscription.Messages.ReadAllAsync(deadline.Token))
        {
            foreach (MonitoredItemNotification n in message.DataChanges)
            {
                Assert.True(n.Value.Value.TryGetInt64(out long v));
                seen.Add(v);
            }

            if (seen.Count >= 3)
            {
                break;
            }
        }

        // The counter steps by 1 every 100 ms: with a deadband of 20, consecutive reports differ by more than 20.
        for (int i = 1; i < seen.Count; i++)
        {
            Assert.True(seen[i] - seen[i - 1] > 20, $"{seen[i - 1]} -> {seen[i]} passed a deadband of 20");
        }
    }

    [Fact]
    public async Task A_large_Read_is_chunked_both_ways_and_reassembled()
    {
        await using UaSession session = await ConnectAsync(new UaSessionOptions { MaxNodesPerCall = 5000 });
        // 3,000 string node ids of ~40 bytes: a request of ~150 KB, several 64 KiB chunks each way.
        ReadValueId[] nodes = Enumerable.Range(0, 3000)
            .Select(i => i % 2 == 0 ? new ReadValueId(WellKnownNodes.ServerNamespaceArray) : new ReadValueId(new NodeId($"Unknown.{i:D6}.padding-to-make-it-longer", 1)))
            .ToArray();

        IReadOnlyList<DataValue> values = await session.ReadAsync(nodes, cancellationToken: Token);

        Assert.Equal(3000, values.Count);
        Assert.All(values.Where((_, i) => i % 2 == 0), v => Assert.IsType<string?[]>(v.Value.Value));
        Assert.All(values.Where((_, i) => i % 2 == 1), v => Assert.Equal(StatusCode.BadNodeIdUnknown, v.Status.CodeBits));
        Assert.True(session.Channel.Negotiated.ReceiveBufferSize >= 8192);
    }

    [Fact]
    public async Task Renewing_the_security_token_keeps_the_session_working()
    {
        await using UaSession session = await ConnectAsync();
        uint before = session.Channel.TokenId;

        await session.Channel.RenewAsync(Token);
        DataValue state = await session.ReadValueAsync(WellKnownNodes.ServerStatusState, Token);

        Assert.NotEqual(before, session.Channel.TokenId);
        Assert.Equal(1, session.Channel.Renewals);
        Assert.True(state.Status.IsGood);
    }

    [Fact]
    public async Task The_channel_renews_at_75_percent_of_the_token_lifetime_on_its_clock()
    {
        var clock = new ManualTimeProvider();
        await using UaSession session = await UaSession.ConnectAsync(server.EndpointUrl, null, clock, Token);
        TimeSpan lifetime = session.Channel.TokenLifetime;
        ManualTimeProvider.ManualTimer renewal = clock.Timers.Single(t => t.DueTime == lifetime * 0.75 && t.Period == Timeout.InfiniteTimeSpan && !t.Disposed);

        var renewed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        session.Channel.TokenRenewed += (_, _) => renewed.TrySetResult();
        renewal.Fire();
        await renewed.Task.WaitAsync(s_deadline, Token);

        Assert.Equal(1, session.Channel.Renewals);
        Assert.True((await session.ReadValueAsync(WellKnownNodes.ServerStatusState, Token)).Status.IsGood);
    }

    [Fact]
    public async Task A_session_without_subscriptions_sends_keep_alive_reads_on_its_clock()
    {
        var clock = new ManualTimeProvider();
        await using UaSession session = await UaSession.ConnectAsync(server.EndpointUrl, null, clock, Token);
        TimeSpan period = TimeSpan.FromMilliseconds(Math.Max(1000, session.RevisedSessionTimeout.TotalMilliseconds / 3));
        ManualTimeProvider.ManualTimer keepAlive = clock.Timers.Single(t => t.DueTime == period && t.Period == period);
        var completed = new TaskCompletionSource<UaServiceException?>(TaskCreationOptions.RunContinuationsAsynchronously);
        session.KeepAliveCompleted += (_, fault) => completed.TrySetResult(fault);

        keepAlive.Fire();

        Assert.Null(await completed.Task.WaitAsync(s_deadline, Token));
        Assert.Equal(1, session.KeepAliveReads);
    }

    [Fact]
    public async Task A_request_after_close_fails_with_a_status_not_a_hang()
    {
        UaSession session = await ConnectAsync();
        await session.CloseAsync(Token);

        UaServiceException error = await Assert.ThrowsAsync<UaServiceException>(() => session.ReadValueAsync(WellKnownNodes.ServerStatusState, Token));

        Assert.Equal(StatusCode.BadSecureChannelClosed, error.Status.CodeBits);
        await session.DisposeAsync();
    }

    [Fact]
    public async Task A_wrong_endpoint_port_fails_with_BadCommunicationError()
    {
        int port = FreeTcpPort.Next();

        UaServiceException error = await Assert.ThrowsAsync<UaServiceException>(() => UaSession.ConnectAsync($"opc.tcp://127.0.0.1:{port}/x", cancellationToken: Token));

        Assert.Equal(StatusCode.BadCommunicationError, error.Status.CodeBits);
    }
}
