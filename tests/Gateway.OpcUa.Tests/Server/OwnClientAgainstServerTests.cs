using FactoryGateway.OpcUa.Client;
using FactoryGateway.OpcUa.Encoding;
using FactoryGateway.OpcUa.Server;
using FactoryGateway.OpcUa.Services;
using FactoryGateway.OpcUa.Transport;

namespace FactoryGateway.OpcUa.Tests.Server;

/// <summary>Our client (UaSession) against our server subset over loopback UA-TCP, SecurityPolicy None.</summary>
public sealed class OwnClientAgainstServerTests(FactoryServerFixture factory) : IClassFixture<FactoryServerFixture>
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private Task<UaSession> ConnectAsync(UaSessionOptions? options = null) => UaSession.ConnectAsync(factory.EndpointUrl, options, cancellationToken: Token);

    [Fact]
    public async Task GetEndpoints_offers_None_with_anonymous_and_user_name_tokens()
    {
        IReadOnlyList<EndpointDescription> endpoints = await UaSession.GetEndpointsAsync(factory.EndpointUrl, cancellationToken: Token);

        EndpointDescription none = Assert.Single(endpoints);
        Assert.Equal(UaTcpChannel.SecurityPolicyNone, none.SecurityPolicyUri);
        Assert.Equal(MessageSecurityMode.None, none.SecurityMode);
        Assert.Equal(UaServer.TransportProfile, none.TransportProfileUri);
        Assert.Equal([UserTokenType.Anonymous, UserTokenType.UserName], none.UserIdentityTokens.Select(t => t.TokenType));
        Assert.Equal(ApplicationType.Server, none.Server.ApplicationType);
    }

    [Fact]
    public async Task A_session_reads_server_status_namespaces_and_operation_limits()
    {
        await using UaSession session = await ConnectAsync();

        ServerStatus status = await session.ReadServerStatusAsync(Token);
        IReadOnlyList<string> namespaces = await session.ReadNamespaceArrayAsync(Token);

        Assert.Equal(ServerState.Running, status.State);
        Assert.Equal("FactoryGateway simulator", status.BuildInfo.ProductName);
        Assert.InRange(status.CurrentTime, DateTime.UtcNow.AddMinutes(-1), DateTime.UtcNow.AddMinutes(1));
        Assert.Equal(UaAddressSpace.UaNamespace, namespaces[0]);
        Assert.Contains(MachineryModel.MachineryNamespace, namespaces);
        Assert.Contains(MachineryModel.RoboticsNamespace, namespaces);
        Assert.Equal(10_000u, session.ServerLimits.MaxNodesPerRead);
        Assert.Equal(1_000u, session.ServerLimits.MaxMonitoredItemsPerCall);
    }

    [Fact]
    public async Task Browsing_Machines_finds_the_machines_with_their_companion_type_definitions()
    {
        await using UaSession session = await ConnectAsync();
        IReadOnlyList<string> namespaces = await session.ReadNamespaceArrayAsync(Token);
        NodeId machines = NodeId.Parse("nsu=http://opcfoundation.org/UA/Machinery/;i=1001", namespaces);

        IReadOnlyList<ReferenceDescription> refs = await session.BrowseAllAsync(new BrowseDescription(machines), cancellationToken: Token);

        ReferenceDescription lathe = Assert.Single(refs, r => r.BrowseName.Name == "Lathe1");
        ReferenceDescription robot = Assert.Single(refs, r => r.BrowseName.Name == "Robot1");
        Assert.Equal(NodeClass.Object, lathe.NodeClass);
        Assert.Equal(new NodeId(13u, factory.Ns(MachineryModel.MachineToolNamespace)), lathe.TypeDefinition.NodeId);
        Assert.Equal(new NodeId(1002u, factory.Ns(MachineryModel.RoboticsNamespace)), robot.TypeDefinition.NodeId);
        Assert.Equal(UaNodeIds.Organizes, lathe.ReferenceTypeId);

        IReadOnlyList<ReferenceDescription> children = await session.BrowseAllAsync(new BrowseDescription(lathe.NodeId.NodeId), cancellationToken: Token);
        ReferenceDescription identification = Assert.Single(children, r => r.BrowseName.Name == "Identification");
        Assert.Equal(UaNodeIds.HasAddIn, identification.ReferenceTypeId);
        Assert.Equal(new NodeId(11u, factory.Ns(MachineryModel.MachineToolNamespace)), identification.TypeDefinition.NodeId);
        Assert.Contains(children, r => r.BrowseName.Name == "Monitoring");
        Assert.Contains(children, r => r.BrowseName.Name == "MachineryBuildingBlocks");
    }

    [Fact]
    public async Task BrowseNext_pages_through_continuation_points_to_the_same_references()
    {
        await using UaSession session = await ConnectAsync();
        var node = new BrowseDescription(factory.Lathe.Identification);

        IReadOnlyList<ReferenceDescription> whole = await session.BrowseAllAsync(node, cancellationToken: Token);
        IReadOnlyList<BrowseResult> first = await session.BrowseAsync([node], maxReferencesPerNode: 2, Token);
        IReadOnlyList<ReferenceDescription> paged = await session.BrowseAllAsync(node, maxReferencesPerNode: 2, Token);
        IReadOnlyList<BrowseResult> released = await session.BrowseNextAsync([first[0].ContinuationPoint], releaseContinuationPoints: true, Token);
        IReadOnlyList<BrowseResult> stale = await session.BrowseNextAsync([first[0].ContinuationPoint], cancellationToken: Token);

        Assert.True(whole.Count > 4);
        Assert.Equal(2, first[0].References.Count);
        Assert.Equal(whole.Select(r => r.NodeId.ToString()), paged.Select(r => r.NodeId.ToString()));
        Assert.True(released[0].Status.IsGood);
        Assert.Equal(StatusCode.BadContinuationPointInvalid, stale[0].Status.Code);
    }

    [Fact]
    public async Task Reads_return_the_nameplate_and_attributes_and_a_status_for_unknown_nodes()
    {
        await using UaSession session = await ConnectAsync();
        NodeId manufacturer = factory.Model.Id("Lathe1", "Identification.Manufacturer");
        NodeId serial = factory.Model.Id("Lathe1", "Identification.SerialNumber");

        IReadOnlyList<DataValue> values = await session.ReadAsync(
        [
            new ReadValueId(manufacturer), new ReadValueId(serial), new ReadValueId(factory.Model.Id("Lathe1", "Identification.ProductInstanceUri")),
            new ReadValueId(factory.SpindleSpeed, AttributeIds.DataType), new ReadValueId(factory.SpindleSpeed, AttributeIds.DisplayName),
            new ReadValueId(factory.Lathe.Machine, AttributeIds.NodeClass), new ReadValueId(factory.Lathe.Machine, AttributeIds.Value),
            new ReadValueId(new NodeId("Nope", 1)),
        ], cancellationToken: Token);

        Assert.Equal("Gildemeister", Assert.IsType<LocalizedText>(values[0].Value.Value).Text);
        Assert.Equal("SN-4711", values[1].Value.Value);
        Assert.Equal("urn:example:lathe:SN-4711", values[2].Value.Value);
        Assert.Equal(UaNodeIds.Double, values[3].Value.Value);
        Assert.Equal("SpindleSpeed", Assert.IsType<LocalizedText>(values[4].Value.Value).Text);
        Assert.Equal((int)NodeClass.Object, values[5].Value.Value);
        Assert.Equal(StatusCode.BadAttributeIdInvalid, values[6].Status.Code);
        Assert.Equal(StatusCode.BadNodeIdUnknown, values[7].Status.Code);
    }

    [Fact]
    public async Task TranslateBrowsePaths_follows_names_and_reports_no_match()
    {
        await using UaSession session = await ConnectAsync();
        ushort di = factory.Ns(MachineryModel.DiNamespace);

        IReadOnlyList<BrowsePathResult> results = await session.TranslateBrowsePathsAsync(
        [
            new BrowsePath(factory.Lathe.Machine, [new QualifiedName(di, "Identification"), new QualifiedName(di, "SerialNumber")]),
            new BrowsePath(factory.Lathe.Machine, [new QualifiedName(di, "NoSuchThing")]),
        ], Token);

        Assert.Equal(factory.Model.Id("Lathe1", "Identification.SerialNumber"), Assert.Single(results[0].Targets).TargetId.NodeId);
        Assert.Equal(UaServerStatus.BadNoMatch, results[1].Status.Code);
    }

    [Fact]
    public async Task A_subscription_delivers_every_change_in_order_and_the_deadband_filters()
    {
        await using UaSession session = await ConnectAsync();
        UaSubscription subscription = await session.CreateSubscriptionAsync(new UaSubscriptionOptions { PublishingInterval = 50 }, Token);
        IReadOnlyList<MonitoredItemResult> created = await subscription.CreateMonitoredItemsAsync(
        [
            new MonitoredItemRequest(new ReadValueId(factory.PartsMade)) { ClientHandle = 1, SamplingInterval = 0, QueueSize = 100 },
            new MonitoredItemRequest(new ReadValueId(factory.SpindleSpeed)) { ClientHandle = 2, SamplingInterval = 0, QueueSize = 100, Filter = new DataChangeFilter(DataChangeTrigger.StatusValue, DeadbandType.Absolute, 5) },
        ], Token);
        Assert.All(created, r => Assert.True(r.Status.IsGood, r.Status.ToString()));

        DateTime t0 = DateTime.UtcNow;
        for (int i = 1; i <= 20; i++)
        {
            factory.Server.AddressSpace.SetValue(factory.PartsMade, new Variant(i), t0.AddMilliseconds(i));
        }

        foreach (double speed in new[] { 3.0, 6.0, 8.0, 20.0 })
        {
            factory.Server.AddressSpace.SetValue(factory.SpindleSpeed, new Variant(speed), t0);
        }

        var parts = new List<int>();
        var speeds = new List<double>();
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(Token);
        deadline.CancelAfter(TimeSpan.FromSeconds(20));
        await foreach (SubscriptionMessage message in subscription.Messages.ReadAllAsync(deadline.Token))
        {
            parts.AddRange(message.DataChanges.Where(c => c.ClientHandle == 1).Select(c => (int)c.Value.Value.Value!));
            speeds.AddRange(message.DataChanges.Where(c => c.ClientHandle == 2).Select(c => (double)c.Value.Value.Value!));
            if (parts.Count >= 21 && speeds.Count >= 3)
            {
                break;
            }
        }

        Assert.Equal(Enumerable.Range(0, 21), parts);
        // From 0: 3 is within 5 (dropped), 6 passes, 8 is within 5 of 6 (dropped), 20 passes.
        Assert.Equal([0.0, 6.0, 20.0], speeds);
        await subscription.DeleteAsync(Token);
    }

    [Fact]
    public async Task A_user_name_login_is_accepted_and_a_wrong_password_is_refused()
    {
        await using UaSession session = await ConnectAsync(new UaSessionOptions { Identity = UserIdentity.FromUserName(FactoryServerFixture.UserName, FactoryServerFixture.Password) });
        Assert.False(session.SessionId.IsNull);

        UaServiceException refused = await Assert.ThrowsAsync<UaServiceException>(() =>
            ConnectAsync(new UaSessionOptions { Identity = UserIdentity.FromUserName(FactoryServerFixture.UserName, "wrong") }));
        Assert.Equal(StatusCode.BadUserAccessDenied, refused.Status.Code);
    }

    [Fact]
    public async Task Renewing_the_token_keeps_the_session_working()
    {
        await using UaSession session = await ConnectAsync();

        await session.Channel.RenewAsync(Token);
        DataValue after = await session.ReadValueAsync(WellKnownNodes.ServerStatusState, Token);

        Assert.Equal(1, session.Channel.Renewals);
        Assert.Equal((int)ServerState.Running, after.Value.Value);
    }

    [Fact]
    public async Task Unsupported_services_are_answered_with_a_ServiceFault()
    {
        await using UaSession session = await ConnectAsync();

        // Call (OPC 10000-4 §5.11.2, encoding i=712) is outside the subset.
        UaServiceException error = await Assert.ThrowsAsync<UaServiceException>(() => session.Channel.RequestAsync(
            712, 715, session.AuthenticationToken, static e => e.WriteInt32(0), static (ref UaBinaryDecoder d) => 0, cancellationToken: Token));

        Assert.Equal(StatusCode.BadServiceUnsupported, error.Status.Code);
        Assert.True(session.Channel.IsOpen);
    }
    [Fact]
    public async Task ModifySubscription_and_DeleteMonitoredItems_revise_and_remove()
    {
        await using UaSession session = await ConnectAsync();
        UaSubscription subscription = await session.CreateSubscriptionAsync(new UaSubscriptionOptions { PublishingInterval = 100 }, Token);
        IReadOnlyList<MonitoredItemResult> created = await subscription.CreateMonitoredItemsAsync(
            [new MonitoredItemRequest(new ReadValueId(factory.SetPoint)), new MonitoredItemRequest(new ReadValueId(new NodeId("Missing", 1)))], Token);

        await subscription.ModifyAsync(new UaSubscriptionOptions { PublishingInterval = 1, MaxKeepAliveCount = 4, LifetimeCount = 12 }, Token);
        IReadOnlyList<StatusCode> deleted = await subscription.DeleteMonitoredItemsAsync([created[0].MonitoredItemId, created[0].MonitoredItemId + 1000], Token);

        Assert.True(created[0].Status.IsGood);
        Assert.Equal(StatusCode.BadNodeIdUnknown, created[1].Status.Code);
        Assert.Equal(20, subscription.PublishingInterval); // raised to the server's MinPublishingInterval
        Assert.Equal(4u, subscription.MaxKeepAliveCount);
        Assert.Equal(12u, subscription.LifetimeCount);
        Assert.Equal([StatusCode.Good, UaServerStatus.BadMonitoredItemIdInvalid], deleted.Select(s => s.Code));
        await subscription.DeleteAsync(Token);
    }

    [Fact]
    public async Task FindServers_describes_this_server()
    {
        await using UaSession session = await ConnectAsync();

        ApplicationDescription[] servers = await session.Channel.RequestAsync(
            UaServerCodec.FindServersRequest, UaServerCodec.FindServersResponse, NodeId.Null,
            static e =>
            {
                e.WriteString(null);
                e.WriteInt32(-1);
                e.WriteInt32(-1);
            },
            static (ref UaBinaryDecoder d) => d.ReadArray("Servers", static (ref UaBinaryDecoder x, string f) => StructureCodec.ReadApplicationDescription(ref x), 10),
            cancellationToken: Token);

        ApplicationDescription server = Assert.Single(servers);
        Assert.Equal(factory.Server.Options.ApplicationUri, server.ApplicationUri);
        Assert.Equal([factory.EndpointUrl], server.DiscoveryUrls);
    }

    [Fact]
    public async Task A_session_used_on_another_channel_before_activation_there_is_refused()
    {
        await using UaSession session = await ConnectAsync();
        await using UaTcpChannel other = await UaTcpChannel.OpenAsync(factory.EndpointUrl, cancellationToken: Token);

        UaServiceException error = await Assert.ThrowsAsync<UaServiceException>(() => other.RequestAsync(
            ServiceIds.ReadRequest, ServiceIds.ReadResponse, session.AuthenticationToken,
            static e =>
            {
                e.WriteDouble(0);
                e.WriteInt32(0);
                e.WriteArray([new ReadValueId(WellKnownNodes.ServerStatusState)], UaSession.WriteReadValueId);
            },
            static (ref UaBinaryDecoder d) => 0, cancellationToken: Token));

        Assert.Equal(StatusCode.BadSecureChannelIdInvalid, error.Status.Code);
        Assert.Equal((int)ServerState.Running, (await session.ReadValueAsync(WellKnownNodes.ServerStatusState, Token)).Value.Value);
    }
}
