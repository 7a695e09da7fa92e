using System.Diagnostics;
using System.Globalization;
using System.Text;
using FactoryGateway.OpcUa.Client;
using FactoryGateway.OpcUa.Encoding;
using FactoryGateway.OpcUa.Services;
using FactoryGateway.OpcUa.Transport;
using FactoryGateway.Testing;

namespace FactoryGateway.OpcUa.Tests;

/// <summary>node-opcua with a user and one extra namespace: the peer for the connection actor's tests that keep the server up.</summary>
public sealed class ActorNodeOpcUaServer : IAsyncLifetime
{
    public const string UserName = "edge";
    public const string Password = "line-3-secret";
    public const string LineNamespace = "urn:factorygateway:test:line";

    public NodeOpcUaServer Server { get; } = new() { ExtraArguments = ["--users", $"{UserName}:{Password}", "--namespaces", LineNamespace] };

    public ValueTask InitializeAsync() => Server.InitializeAsync();

    public ValueTask DisposeAsync() => Server.DisposeAsync();
}

/// <summary>
/// The connection actor against node-opcua: the server killed and restarted under a live
/// subscription, the session closed under it, the link cut while the server stays up (transfer), and
/// the server renumbering its namespaces across a restart. Every wait is a deadline on the event stream.
/// </summary>
public sealed class ConnectionActorTests(ActorNodeOpcUaServer peer) : IClassFixture<ActorNodeOpcUaServer>
{
    private const string LineNamespace = ActorNodeOpcUaServer.LineNamespace;
    private static readonly TimeSpan s_deadline = TimeSpan.FromSeconds(30);

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static UaConnectionOptions Options(string endpointUrl, params UaSubscriptionSpec[] subscriptions)
    {
        var options = new UaConnectionOptions
        {
            EndpointUrl = endpointUrl,
            InitialReconnectDelay = TimeSpan.FromMilliseconds(100),
            MaxReconnectDelay = TimeSpan.FromSeconds(1),
            Session = new UaSessionOptions { Channel = new UaChannelOptions { RequestTimeout = TimeSpan.FromSeconds(5), ConnectTimeout = TimeSpan.FromSeconds(5) } },
        };
        foreach (UaSubscriptionSpec spec in subscriptions)
        {
            options.Subscriptions.Add(spec);
        }

        return options;
    }

    private static UaSubscriptionSpec LineSubscription() => new("line", [
        new UaMonitoredItemSpec("counter", UaNodeReference.Parse($"nsu={LineNamespace};s=Counter")) { SamplingInterval = 100 },
        new UaMonitoredItemSpec("origin", UaNodeReference.Parse($"nsu={LineNamespace};s=Origin")),
    ])
    { Options = new UaSubscriptionOptions { PublishingInterval = 200 } };

    [Fact]
    public async Task Killing_and_restarting_the_server_resumes_data_within_5_s_and_reports_the_gap()
    {
        await using var server = new NodeOpcUaServer { ExtraArguments = ["--namespaces", LineNamespace] };
        await server.InitializeAsync();
        string machineNamespace = await OwnNamespaceAsync(server.EndpointUrl);
        UaSubscriptionSpec spec = LineSubscription() with
        {
            Items = [.. LineSubscription().Items,
                new UaMonitoredItemSpec("parts", UaNodeReference.FromBrowsePath([new UaBrowseName(machineNamespace, "TestMachine"), new UaBrowseName(machineNamespace, "PartsTotal")])) { SamplingInterval = 100 }],
        };
        await using var connection = new UaConnection(Options(server.EndpointUrl, spec));
        var seen = new EventLog(connection);
        connection.Start();
        await seen.NextAsync<UaConnectionStateChanged>(e => e.State == UaConnectionState.Connected, s_deadline);
        await seen.DataForAsync(["counter", "origin", "parts"], s_deadline);

        await server.Process.KillAsync();
        await server.StopAsync();
        UaConnectionStateChanged lost = await seen.NextAsync<UaConnectionStateChanged>(e => e.State == UaConnectionState.Disconnected, s_deadline);
        Assert.NotNull(lost.Reason);
        Assert.True(lost.Status!.Value.IsBad);

        await server.StartAsync();
        var back = Stopwatch.StartNew();
        int mark = seen.All.Count;
        UaDataChanges resumed = await seen.NextAsync<UaDataChanges>(_ => true, TimeSpan.FromSeconds(5));
        TestContext.Current.TestOutputHelper?.WriteLine($"data resumed {back.Elapsed.TotalMilliseconds:0} ms after the server was back");
        UaDataGap gap = Assert.Single(seen.All.OfType<UaDataGap>());
        Assert.True(gap.Start <= gap.End && gap.Start >= lost.Time.AddSeconds(-1));
        Assert.Equal(UaRecovery.Recreated, gap.Recovery);
        Assert.NotEmpty(resumed.Values);
        // The gap comes after the Connected event that ends the outage and before data of the new session.
        int gapAt = seen.All.IndexOf(gap);
        Assert.IsType<UaConnectionStateChanged>(seen.All[gapAt - 1]);
        Assert.Equal(UaConnectionState.Connected, ((UaConnectionStateChanged)seen.All[gapAt - 1]).State);
        Assert.True(seen.All.IndexOf(resumed) > gapAt);
        await seen.DataForAsync(["counter", "origin", "parts"], s_deadline, since: mark);
        Assert.Equal(2, connection.Connects);
        Assert.Equal(1, connection.RecreatedSubscriptions);
    }

    [Fact]
    public async Task A_session_the_server_closed_is_created_again()
    {
        await using var connection = new UaConnection(Options(peer.Server.EndpointUrl, LineSubscription()));
        var seen = new EventLog(connection);
        connection.Start();
        await seen.NextAsync<UaConnectionStateChanged>(e => e.State == UaConnectionState.Connected, s_deadline);
        await seen.DataForAsync(["counter"], s_deadline);
        UaSession first = connection.CurrentSession!;
        NodeId firstId = first.SessionId;

        // Close the session behind the client's back: the server answers its Publish requests with a session error.
        try
        {
            await first.Channel.RequestAsync(
                ServiceIds.CloseSessionRequest, ServiceIds.CloseSessionResponse, first.AuthenticationToken,
                static e => e.WriteBoolean(true), static (ref UaBinaryDecoder d) => true, cancellationToken: Token);
        }
        catch (UaServiceException)
        {
            // The actor may close this channel (on the failed Publish requests) before the answer arrives.
        }

        UaConnectionStateChanged lost = await seen.NextAsync<UaConnectionStateChanged>(e => e.State == UaConnectionState.Disconnected, s_deadline);
        TestContext.Current.TestOutputHelper?.WriteLine($"lost: {lost.Status} {lost.Reason}");
        Assert.True(lost.Status!.Value.CodeBits is StatusCode.BadSessionClosed or StatusCode.BadSessionIdInvalid, $"status {lost.Status}");
        UaDataGap gap = await seen.NextAsync<UaDataGap>(_ => true, s_deadline);
        Assert.Equal(UaRecovery.Recreated, gap.Recovery);
        await seen.DataForAsync(["counter"], s_deadline);
        Assert.NotEqual(firstId, connection.CurrentSession!.SessionId);
        Assert.Equal(0, connection.TransferredSubscriptions);
    }

    [Fact]
    public async Task A_link_cut_while_the_server_stays_up_transfers_the_subscriptions_to_a_new_session()
    {
        await using var relay = new DroppingRelay(peer.Server.Port);
        UaConnectionOptions options = Options(relay.Rewrite(peer.Server.EndpointUrl, peer.Server.Port), LineSubscription());
        options.Session.Identity = UserIdentity.FromUserName(ActorNodeOpcUaServer.UserName, ActorNodeOpcUaServer.Password);
        await using var connection = new UaConnection(options);
        var seen = new EventLog(connection);
        connection.Start();
        await seen.NextAsync<UaConnectionStateChanged>(e => e.State == UaConnectionState.Connected, s_deadline);
        await seen.DataForAsync(["counter"], s_deadline);
        NodeId firstId = connection.CurrentSession!.SessionId;

        Assert.Equal(1, relay.DropAll());

        await seen.NextAsync<UaConnectionStateChanged>(e => e.State == UaConnectionState.Disconnected, s_deadline);
        UaDataGap gap = await seen.NextAsync<UaDataGap>(_ => true, s_deadline);
        Assert.Equal(UaRecovery.Transferred, gap.Recovery);
        Assert.Equal(1, connection.TransferredSubscriptions);
        Assert.Equal(0, connection.RecreatedSubscriptions);
        Assert.NotEqual(firstId, connection.CurrentSession!.SessionId);
        // The monitored items stayed on the server (nothing was created again); with initial values resent,
        // the item that never changes reports again too.
        await seen.DataForAsync(["counter", "origin"], s_deadline);
        Assert.Equal(2, relay.Accepted);
    }

    [Fact]
    public async Task An_anonymous_subscription_the_server_will_not_transfer_on_an_unsecured_channel_is_created_again()
    {
        await using var relay = new DroppingRelay(peer.Server.Port);
        await using var connection = new UaConnection(Options(relay.Rewrite(peer.Server.EndpointUrl, peer.Server.Port), LineSubscription()));
        var seen = new EventLog(connection);
        connection.Start();
        await seen.DataForAsync(["counter"], s_deadline);

        relay.DropAll();

        UaDataGap gap = await seen.NextAsync<UaDataGap>(_ => true, s_deadline);
        Assert.Equal(UaRecovery.Recreated, gap.Recovery);
        Assert.Equal(0, connection.TransferredSubscriptions);
        Assert.Equal(1, connection.RecreatedSubscriptions);
        await seen.DataForAsync(["counter", "origin"], s_deadline);
    }

    [Fact]
    public async Task A_namespace_renumbered_across_a_restart_is_resolved_again_from_its_uri()
    {
        const string Other = "urn:factorygateway:test:other";
        await using var server = new NodeOpcUaServer { ExtraArguments = ["--namespaces", LineNamespace] };
        await server.InitializeAsync();
        string machineNamespace = await OwnNamespaceAsync(server.EndpointUrl);
        UaSubscriptionSpec spec = LineSubscription() with
        {
            Items = [.. LineSubscription().Items,
                new UaMonitoredItemSpec("path", UaNodeReference.FromBrowsePath([new UaBrowseName(machineNamespace, "TestMachine"), new UaBrowseName(LineNamespace, "Origin")])),
            ],
        };
        await using var connection = new UaConnection(Options(server.EndpointUrl, spec));
        var seen = new EventLog(connection);
        connection.Start();
        Dictionary<string, DataValue> before = await seen.DataForAsync(["counter", "origin", "path"], s_deadline);
        Assert.Equal(LineNamespace, before["origin"].Value.Value);
        Assert.Equal(LineNamespace, before["path"].Value.Value);
        Assert.Equal(2, (await NamespacesAsync(server.EndpointUrl)).IndexOf(LineNamespace));

        await server.StopAsync();
        await seen.NextAsync<UaConnectionStateChanged>(e => e.State == UaConnectionState.Disconnected, s_deadline);
        // The second start registers another namespace first: the line namespace moves from index 2 to 3,
        // and ns=2;s=Origin now names the other namespace's node (holding the other URI).
        server.ExtraArguments = ["--namespaces", $"{Other},{LineNamespace}"];
        await server.StartAsync();
        Assert.Equal(3, (await NamespacesAsync(server.EndpointUrl)).IndexOf(LineNamespace));

        await seen.NextAsync<UaDataGap>(_ => true, s_deadline);
        Dictionary<string, DataValue> after = await seen.DataForAsync(["counter", "origin", "path"], s_deadline);
        Assert.Equal(LineNamespace, after["origin"].Value.Value);
        Assert.Equal(LineNamespace, after["path"].Value.Value);
        Assert.DoesNotContain(seen.All, e => e is UaItemUnavailable);
    }

    [Fact]
    public async Task An_unknown_namespace_uri_makes_only_that_item_unavailable()
    {
        UaSubscriptionSpec spec = LineSubscription() with
        {
            Items = [.. LineSubscription().Items, new UaMonitoredItemSpec("ghost", UaNodeReference.Parse("nsu=urn:nobody:here;s=Ghost"))],
        };
        await using var connection = new UaConnection(Options(peer.Server.EndpointUrl, spec));
        var seen = new EventLog(connection);
        connection.Start();
        UaItemUnavailable ghost = await seen.NextAsync<UaItemUnavailable>(_ => true, s_deadline);
        Assert.Equal("ghost", ghost.Key);
        Assert.Equal(StatusCode.BadNodeIdUnknown, ghost.Status.CodeBits);
        await seen.DataForAsync(["counter", "origin"], s_deadline);
    }

    [Fact]
    public async Task Disposing_stops_the_actor_and_completes_the_stream()
    {
        var connection = new UaConnection(Options(peer.Server.EndpointUrl, LineSubscription()));
        var seen = new EventLog(connection);
        connection.Start();
        await seen.DataForAsync(["counter"], s_deadline);
        await connection.DisposeAsync().AsTask().WaitAsync(s_deadline, Token);
        Assert.Equal(UaConnectionState.Stopped, connection.State);
        await foreach (UaConnectionEvent e in connection.Events.ReadAllAsync(Token))
        {
            seen.All.Add(e);
        }

        Assert.Equal(UaConnectionState.Stopped, Assert.IsType<UaConnectionStateChanged>(seen.All[^1]).State);
    }

    [Fact]
    public async Task A_server_that_is_not_there_is_retried_with_growing_jittered_delays()
    {
        int port = FreeTcpPort.Next();
        UaConnectionOptions options = Options($"opc.tcp://127.0.0.1:{port}/nothing");
        options.InitialReconnectDelay = TimeSpan.FromMilliseconds(20);
        options.MaxReconnectDelay = TimeSpan.FromMilliseconds(160);
        await using var connection = new UaConnection(options);
        var seen = new EventLog(connection);
        connection.Start();
        for (int i = 0; i < 4; i++)
        {
            UaConnectionStateChanged failed = await seen.NextAsync<UaConnectionStateChanged>(e => e.State == UaConnectionState.Disconnected, s_deadline);
            Assert.True(failed.Status!.Value.IsBad);
        }

        Assert.True(connection.FailedAttempts >= 4);
        for (int failures = 1; failures <= 8; failures++)
        {
            double cap = Math.Min(160, 20 * Math.Pow(2, failures - 1));
            TimeSpan delay = connection.Backoff(failures);
            Assert.InRange(delay.TotalMilliseconds, cap / 2, cap);
        }
    }

    [Fact]
    public async Task A_lost_first_Publish_response_of_a_new_subscription_is_recovered_not_skipped()
    {
        // A new subscription expects sequence number 1: the message after a lost (or overtaken) first one
        // is held back and the first is asked for with Republish, instead of the first being taken as old.
        await using UaSession session = await UaSession.ConnectAsync(peer.Server.EndpointUrl, cancellationToken: Token);
        int dropped = 0;
        session.DropNotificationForTests = m => !m.IsKeepAlive && m.SequenceNumber == 1 && Interlocked.Exchange(ref dropped, 1) == 0;
        UaSubscription subscription = await session.CreateSubscriptionAsync(new UaSubscriptionOptions { PublishingInterval = 100 }, Token);
        await subscription.CreateMonitoredItemsAsync([new MonitoredItemRequest(new ReadValueId(NodeId.Parse("ns=1;s=TestMachine.PartsTotal"))) { SamplingInterval = 100 }], Token);

        var sequences = new List<uint>();
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(Token);
        deadline.CancelAfter(s_deadline);
        await foreach (SubscriptionMessage message in subscription.Messages.ReadAllAsync(deadline.Token))
        {
            sequences.Add(message.SequenceNumber);
            if (sequences.Count >= 5)
            {
                break;
            }
        }

        Assert.Equal(1, dropped);
        Assert.Equal([1u, 2u, 3u, 4u, 5u], sequences);
        Assert.Equal(1, subscription.RepublishedMessages);
        await subscription.DeleteAsync(Token);
    }

    [Fact]
    public void Options_are_validated()
    {
        Assert.Throws<ArgumentException>(() => new UaConnectionOptions { EndpointUrl = "http://x" }.Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new UaConnectionOptions { EndpointUrl = "opc.tcp://h:4840", ReconnectJitter = 2 }.Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new UaConnectionOptions { EndpointUrl = "opc.tcp://h:4840", MaxReconnectDelay = TimeSpan.FromMilliseconds(1) }.Validate());
        var duplicate = new UaConnectionOptions { EndpointUrl = "opc.tcp://h:4840" };
        duplicate.Subscriptions.Add(new UaSubscriptionSpec("a", [new("k", UaNodeReference.Parse("i=2258")), new("k", UaNodeReference.Parse("i=2259"))]));
        Assert.Throws<ArgumentException>(() => duplicate.Validate());
        Assert.Throws<ArgumentException>(() => UaNodeReference.FromBrowsePath([]));
    }

    private static async Task<string> OwnNamespaceAsync(string endpointUrl) => (await NamespacesAsync(endpointUrl))[1];

    private static async Task<List<string>> NamespacesAsync(string endpointUrl)
    {
        await using UaSession session = await UaSession.ConnectAsync(endpointUrl, cancellationToken: Token);
        return [.. await session.ReadNamespaceArrayAsync(Token)];
    }

    /// <summary>Reads a connection's events with deadlines and keeps them all for assertions and failure messages.</summary>
    private sealed class EventLog(UaConnection connection)
    {
        public List<UaConnectionEvent> All { get; } = [];

        public async Task<T> NextAsync<T>(Func<T, bool> match, TimeSpan deadline)
            where T : UaConnectionEvent
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Token);
            timeout.CancelAfter(deadline);
            try
            {
                while (true)
                {
                    UaConnectionEvent e = await connection.Events.ReadAsync(timeout.Token);
                    All.Add(e);
                    if (e is T t && match(t))
                    {
                        return t;
                    }
                }
            }
            catch (OperationCanceledException) when (!Token.IsCancellationRequested)
            {
                throw new TimeoutException($"no {typeof(T).Name} within {deadline.TotalSeconds} s; events so far:{Environment.NewLine}{Describe()}");
            }
        }

        /// <summary>Waits until every key has had a value with a good status since the call; returns the latest of each.</summary>
        /// <remarks>With <paramref name="since"/>, the events already read from that index on count too.</remarks>
        public async Task<Dictionary<string, DataValue>> DataForAsync(IReadOnlyList<string> keys, TimeSpan deadline, int? since = null)
        {
            var latest = new Dictionary<string, DataValue>();
            foreach (UaDataChanges data in All.Skip(since ?? All.Count).OfType<UaDataChanges>())
            {
                Record(latest, data);
            }

            var clock = Stopwatch.StartNew();
            while (!keys.All(latest.ContainsKey))
            {
                TimeSpan left = deadline - clock.Elapsed;
                Record(latest, await NextAsync<UaDataChanges>(_ => true, left > TimeSpan.Zero ? left : TimeSpan.Zero));
            }

            return latest;
        }

        private static void Record(Dictionary<string, DataValue> latest, UaDataChanges data)
        {
            foreach (MonitoredItemNotification value in data.Values)
            {
                if (data.ItemAt(value) is { } item && value.Value.Status.IsGood)
                {
                    latest[item.Key] = value.Value;
                }
            }
        }

        private string Describe()
        {
            var text = new StringBuilder();
            foreach (UaConnectionEvent e in All.TakeLast(40))
            {
                text.AppendLine(e is UaDataChanges d ? string.Create(CultureInfo.InvariantCulture, $"data {d.Subscription.Name} #{d.SequenceNumber} ({d.Values.Count} values)") : e.ToString());
            }

            return text.ToString();
        }
    }
}
