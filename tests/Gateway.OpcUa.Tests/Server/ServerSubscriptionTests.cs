using FactoryGateway.OpcUa.Client;
using FactoryGateway.OpcUa.Encoding;
using FactoryGateway.OpcUa.Server;
using FactoryGateway.OpcUa.Services;
using FactoryGateway.OpcUa.Transport;

namespace FactoryGateway.OpcUa.Tests.Server;

/// <summary>
/// Publishing cycles, keep-alives, acknowledgements, Republish, queues, lifetime, Write and expiry on a
/// server whose clock the test steps; requests go raw over our client's channel so each Publish is explicit.
/// </summary>
public sealed class ServerSubscriptionTests : IAsyncLifetime
{
    private readonly SteppedClock _clock = new();
    private readonly UaServer _server;
    private readonly NodeId _value = new("Value", 1);
    private readonly NodeId _setPoint = new("SetPoint", 1);
    private readonly NodeId _readOnly = new("ReadOnly", 1);
    private UaSession _session = null!;

    public ServerSubscriptionTests()
    {
        _server = new UaServer(new UaServerOptions { MinPublishingInterval = TimeSpan.FromMilliseconds(100) }, time: _clock);
        _server.AddressSpace.AddVariable(UaNodeIds.ObjectsFolder, _value, new QualifiedName(1, "Value"), UaNodeIds.Int32, new Variant(0));
        _server.AddressSpace.AddVariable(UaNodeIds.ObjectsFolder, _setPoint, new QualifiedName(1, "SetPoint"), UaNodeIds.Double, new Variant(1.5), writable: true);
        _server.AddressSpace.AddVariable(UaNodeIds.ObjectsFolder, _readOnly, new QualifiedName(1, "ReadOnly"), UaNodeIds.Double, new Variant(2.5));
    }

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static readonly TimeSpan s_interval = TimeSpan.FromMilliseconds(100);

    public async ValueTask InitializeAsync()
    {
        await _server.StartAsync(Token);
        _session = await UaSession.ConnectAsync(_server.EndpointUrl, cancellationToken: Token);
    }

    public async ValueTask DisposeAsync()
    {
        await _session.DisposeAsync();
        await _server.DisposeAsync();
    }

    private Task<T> RequestAsync<T>(uint request, uint response, Action<UaBinaryEncoder> body, UaResponseReader<T> read) =>
        _session.Channel.RequestAsync(request, response, _session.AuthenticationToken, body, read, cancellationToken: Token);

    private Task<uint> CreateSubscriptionAsync(uint keepAlive = 3, uint lifetime = 30) =>
        RequestAsync(ServiceIds.CreateSubscriptionRequest, ServiceIds.CreateSubscriptionResponse, e =>
        {
            e.WriteDouble(s_interval.TotalMilliseconds);
            e.WriteUInt32(lifetime);
            e.WriteUInt32(keepAlive);
            e.WriteUInt32(0);
            e.WriteBoolean(true);
            e.WriteByte(0);
        }, static (ref UaBinaryDecoder d) => d.ReadUInt32("id"));

    private Task<StatusCode> MonitorAsync(uint subscription, NodeId node, uint queueSize, bool discardOldest = true) =>
        RequestAsync(ServiceIds.CreateMonitoredItemsRequest, ServiceIds.CreateMonitoredItemsResponse, e =>
        {
            e.WriteUInt32(subscription);
            e.WriteInt32((int)TimestampsToReturn.Both);
            e.WriteInt32(1);
            UaSession.WriteReadValueId(e, new ReadValueId(node));
            e.WriteInt32((int)MonitoringMode.Reporting);
            e.WriteUInt32(9);
            e.WriteDouble(0);
            e.WriteExtensionObject(null);
            e.WriteUInt32(queueSize);
            e.WriteBoolean(discardOldest);
        }, static (ref UaBinaryDecoder d) => d.ReadStatusCodeArray("results")[0]);

    private Task<PublishResult> PublishAsync(params (uint Subscription, uint Sequence)[] acks) =>
        RequestAsync(ServiceIds.PublishRequest, ServiceIds.PublishResponse,
            e => e.WriteArray(acks, static (w, a) =>
            {
                w.WriteUInt32(a.Subscription);
                w.WriteUInt32(a.Sequence);
            }), StructureCodec.ReadPublishResult);

    /// <summary>
    /// Waits (a deadline loop polling the server's counter) until the server holds the Publish request
    /// just sent, then steps publishing cycles until it has sent <paramref name="responses"/> responses in all.
    /// </summary>
    private async Task CycleUntilAsync(long responses, int maxCycles = 10)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(Token);
        deadline.CancelAfter(TimeSpan.FromSeconds(10));
        while (_server.PublishRequests < responses)
        {
            await Task.Delay(5, deadline.Token); // polling interval within the deadline
        }

        for (int i = 0; i < maxCycles && _server.PublishResponses < responses; i++)
        {
            _clock.Advance(s_interval);
        }

        Assert.Equal(responses, _server.PublishResponses);
    }

    private static int[] Values(PublishResult result) =>
        result.Message.NotificationData.Select(x => Assert.IsType<DataChangeNotification>(x.Value))
            .SelectMany(n => n.MonitoredItems).Select(m => (int)m.Value.Value.Value!).ToArray();

    [Fact]
    public async Task The_first_cycle_sends_a_keep_alive_then_one_every_MaxKeepAliveCount_cycles()
    {
        uint id = await CreateSubscriptionAsync(keepAlive: 3);

        Task<PublishResult> first = PublishAsync();
        await CycleUntilAsync(1);
        PublishResult keepAlive = await first;
        Task<PublishResult> second = PublishAsync();
        _clock.Advance(s_interval);
        _clock.Advance(s_interval);
        long afterTwo = _server.KeepAlives;
        _clock.Advance(s_interval);
        PublishResult next = await second;

        Assert.Equal(id, keepAlive.SubscriptionId);
        Assert.True(keepAlive.Message.IsKeepAlive);
        Assert.Equal(1u, keepAlive.Message.SequenceNumber);
        Assert.Equal(1, afterTwo);
        Assert.True(next.Message.IsKeepAlive);
        Assert.Equal(2, _server.KeepAlives);
    }

    [Fact]
    public async Task Notifications_are_acknowledged_and_Republish_returns_only_unacknowledged_messages()
    {
        uint id = await CreateSubscriptionAsync();
        Assert.True((await MonitorAsync(id, _value, 10)).IsGood);
        Task<PublishResult> first = PublishAsync();
        await CycleUntilAsync(1);
        PublishResult initial = await first;

        NotificationMessage again = await RequestAsync(ServiceIds.RepublishRequest, ServiceIds.RepublishResponse, e =>
        {
            e.WriteUInt32(id);
            e.WriteUInt32(initial.Message.SequenceNumber);
        }, StructureCodec.ReadNotificationMessage);
        _server.AddressSpace.SetValue(_value, new Variant(5), DateTime.UtcNow);
        Task<PublishResult> second = PublishAsync((id, initial.Message.SequenceNumber));
        await CycleUntilAsync(2);
        PublishResult changed = await second;
        UaServiceException gone = await Assert.ThrowsAsync<UaServiceException>(() => RequestAsync(ServiceIds.RepublishRequest, ServiceIds.RepublishResponse, e =>
        {
            e.WriteUInt32(id);
            e.WriteUInt32(initial.Message.SequenceNumber);
        }, StructureCodec.ReadNotificationMessage));

        Assert.Equal([0], Values(initial));
        Assert.Equal([1u], initial.AvailableSequenceNumbers);
        Assert.Equal(initial.Message.SequenceNumber, again.SequenceNumber);
        Assert.Equal([5], Values(changed));
        Assert.Equal(2u, changed.Message.SequenceNumber);
        Assert.Equal([StatusCode.Good], changed.AcknowledgementResults.Select(s => s.Code));
        Assert.Equal([2u], changed.AvailableSequenceNumbers);
        Assert.Equal(StatusCode.BadMessageNotAvailable, gone.Status.Code);
    }

    [Fact]
    public async Task A_full_queue_discards_the_oldest_and_marks_the_gap_with_the_overflow_bit()
    {
        uint id = await CreateSubscriptionAsync();
        Assert.True((await MonitorAsync(id, _value, 3)).IsGood);
        for (int i = 1; i <= 5; i++)
        {
            _server.AddressSpace.SetValue(_value, new Variant(i), DateTime.UtcNow);
        }

        Task<PublishResult> publish = PublishAsync();
        await CycleUntilAsync(1);
        DataChangeNotification notification = Assert.IsType<DataChangeNotification>(Assert.Single((await publish).Message.NotificationData).Value);

        Assert.Equal([3, 4, 5], notification.MonitoredItems.Select(m => (int)m.Value.Value.Value!));
        Assert.Equal(UaServerStatus.OverflowInfoBits, notification.MonitoredItems[0].Value.Status.Code);
        Assert.Equal(0u, notification.MonitoredItems[1].Value.Status.Code);
    }

    [Fact]
    public async Task A_full_queue_that_discards_the_newest_keeps_the_first_values()
    {
        uint id = await CreateSubscriptionAsync();
        Assert.True((await MonitorAsync(id, _value, 3, discardOldest: false)).IsGood);
        for (int i = 1; i <= 5; i++)
        {
            _server.AddressSpace.SetValue(_value, new Variant(i), DateTime.UtcNow);
        }

        Task<PublishResult> publish = PublishAsync();
        await CycleUntilAsync(1);

        int[] values = Values(await publish);
        Assert.Equal([0, 1, 5], values);
    }

    [Fact]
    public async Task A_subscription_without_Publish_requests_expires_and_reports_BadTimeout()
    {
        uint id = await CreateSubscriptionAsync(keepAlive: 1, lifetime: 3);
        for (int i = 0; i < 3; i++)
        {
            _clock.Advance(s_interval);
        }

        PublishResult final = await PublishAsync();
        UaServiceException none = await Assert.ThrowsAsync<UaServiceException>(() => PublishAsync());

        Assert.Equal(id, final.SubscriptionId);
        Assert.Equal(StatusCode.BadTimeout, Assert.IsType<StatusChangeNotification>(Assert.Single(final.Message.NotificationData).Value).Status.Code);
        Assert.Equal(StatusCode.BadNoSubscription, none.Status.Code);
    }

    [Fact]
    public async Task Write_sets_a_writable_value_and_refuses_wrong_types_and_read_only_nodes()
    {
        var written = new List<NodeId>();
        _server.AddressSpace.ValueWritten += (_, e) => written.Add(e.NodeId);

        StatusCode[] results = await RequestAsync(UaServerCodec.WriteRequest, UaServerCodec.WriteResponse, e =>
        {
            e.WriteInt32(4);
            Write(e, _setPoint, new Variant(7.25));
            Write(e, _setPoint, new Variant(7));
            Write(e, _readOnly, new Variant(1.0));
            Write(e, new NodeId("Missing", 1), new Variant(1.0));
        }, static (ref UaBinaryDecoder d) => d.ReadStatusCodeArray("results"));
        DataValue now = await _session.ReadValueAsync(_setPoint, Token);

        Assert.Equal([StatusCode.Good, UaServerStatus.BadTypeMismatch, UaServerStatus.BadNotWritable, StatusCode.BadNodeIdUnknown], results.Select(s => s.Code));
        Assert.Equal(7.25, now.Value.Value);
        Assert.Equal([_setPoint], written);

        static void Write(UaBinaryEncoder e, NodeId node, Variant value)
        {
            e.WriteNodeId(node);
            e.WriteUInt32(AttributeIds.Value);
            e.WriteString(null);
            e.WriteDataValue(new DataValue(value));
        }
    }

    [Fact]
    public async Task A_session_idle_beyond_its_timeout_is_closed()
    {
        TimeSpan timeout = _session.RevisedSessionTimeout;

        _clock.Advance(timeout + TimeSpan.FromSeconds(2));
        UaServiceException closed = await Assert.ThrowsAsync<UaServiceException>(() => _session.ReadValueAsync(_value, Token));

        Assert.Equal(StatusCode.BadSessionIdInvalid, closed.Status.Code);
        Assert.Equal(0, _server.ActiveSessions);
    }

    [Fact]
    public async Task A_channel_whose_token_expired_unrenewed_is_closed_with_an_Error()
    {
        TimeSpan lifetime = _session.Channel.TokenLifetime;

        _clock.Advance(lifetime * 1.3);
        await _session.Channel.Completion.WaitAsync(TimeSpan.FromSeconds(10), Token);

        UaServiceException error = Assert.IsType<UaServiceException>(_session.Channel.Error);
        Assert.Equal(StatusCode.BadSecureChannelClosed, error.Status.Code);
    }
}
