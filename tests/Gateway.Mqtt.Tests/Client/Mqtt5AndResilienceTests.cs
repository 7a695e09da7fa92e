using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json.Nodes;
using FactoryGateway.Mqtt.Client;
using FactoryGateway.Mqtt.Packets;
using FactoryGateway.Testing;

namespace FactoryGateway.Mqtt.Tests.Client;

/// <summary>MQTT 5.0 features, resubscription and dead-connection detection against a real mosquitto.</summary>
public sealed class Mqtt5AndResilienceTests(MosquittoServer broker) : IClassFixture<MosquittoServer>
{
    private static readonly TimeSpan s_deadline = TimeSpan.FromSeconds(30);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Session_expiry_decides_whether_the_broker_keeps_the_session()
    {
        string kept = $"fgw-expiry-kept-{Guid.NewGuid():N}";
        string ended = $"fgw-expiry-ended-{Guid.NewGuid():N}";
        string endedOnDisconnect = $"fgw-expiry-disconnect-{Guid.NewGuid():N}";

        await ConnectSubscribeLeaveAsync(Options(kept, cleanStart: false, sessionExpiry: 3_600));
        await ConnectSubscribeLeaveAsync(Options(ended, cleanStart: false, sessionExpiry: 0));
        await ConnectSubscribeLeaveAsync(Options(endedOnDisconnect, cleanStart: false, sessionExpiry: 3_600), disconnectExpiry: 0);

        Assert.True(await SessionPresentAsync(Options(kept, cleanStart: false, sessionExpiry: 3_600)));
        Assert.False(await SessionPresentAsync(Options(ended, cleanStart: false, sessionExpiry: 0)));
        Assert.False(await SessionPresentAsync(Options(endedOnDisconnect, cleanStart: false, sessionExpiry: 3_600)));
    }

    [Fact]
    public async Task The_broker_sends_no_more_unacknowledged_messages_than_the_client_receive_maximum()
    {
        const int ReceiveMaximum = 5;
        const int Count = 40;
        string topic = $"receive-max/{Guid.NewGuid():N}";
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var collector = new MessageCollector { Before = (_, ct) => release.Task.WaitAsync(ct) };
        await using var subscriber = new MqttClient(Options($"fgw-rm-{Guid.NewGuid():N}") with { ReceiveMaximum = ReceiveMaximum }, collector.HandleAsync);
        await subscriber.StartAsync(Ct);
        await subscriber.SubscribeAsync([new MqttSubscription(topic, MqttQos.AtLeastOnce)], Ct);

        await using var publisher = new MqttClient(Options($"fgw-rm-pub-{Guid.NewGuid():N}"));
        await publisher.StartAsync(Ct);
        for (int i = 0; i < Count; i++)
        {
            Assert.Equal(MqttPublishOutcome.Acknowledged, (await publisher.PublishAsync(Message(topic, i, MqttQos.AtLeastOnce), Ct)).Outcome);
        }

        // The broker has all 40. A SUBACK on the subscriber's connection comes after every PUBLISH the
        // broker wrote before it, so by then the subscriber has read all the broker was willing to send.
        await subscriber.SubscribeAsync([new MqttSubscription($"{topic}/marker", MqttQos.AtMostOnce)], Ct);
        Assert.Equal(ReceiveMaximum, subscriber.GetStats().MessagesReceived);

        release.SetResult();
        await collector.WaitForAsync(Count, s_deadline, Ct);
        Assert.Equal(Enumerable.Range(0, Count).Select(i => $"m{i}"), collector.Payloads);
    }

    [Fact]
    public async Task Maximum_packet_sizes_are_honoured_both_ways()
    {
        await using MosquittoServer limited = MosquittoServer.WithConfiguration("max_packet_size 2048");
        await limited.InitializeAsync();
        string topic = $"size/{Guid.NewGuid():N}";
        var collector = new MessageCollector();
        await using var subscriber = new MqttClient(Options($"fgw-size-sub-{Guid.NewGuid():N}", port: limited.Port) with { MaximumPacketSize = 1024 }, collector.HandleAsync);
        await subscriber.StartAsync(Ct);
        await subscriber.SubscribeAsync([new MqttSubscription(topic, MqttQos.AtLeastOnce)], Ct);
        await using var publisher = new MqttClient(Options($"fgw-size-pub-{Guid.NewGuid():N}", port: limited.Port));
        await publisher.StartAsync(Ct);
        Assert.Equal(2048u, publisher.LastConnAck!.Properties.MaximumPacketSize);

        MqttPublishResult tooLarge = await publisher.PublishAsync(new MqttApplicationMessage { Topic = topic, Qos = MqttQos.AtLeastOnce, Payload = new byte[4_000] }, Ct);
        MqttPublishResult overSubscriberLimit = await publisher.PublishAsync(new MqttApplicationMessage { Topic = topic, Qos = MqttQos.AtLeastOnce, Payload = new byte[1_500] }, Ct);
        MqttPublishResult small = await publisher.PublishAsync(Message(topic, 1, MqttQos.AtLeastOnce), Ct);
        await collector.WaitForAsync(1, s_deadline, Ct);

        // Not sent: over the broker's limit. Accepted by the broker but not forwarded over the
        // subscriber's 1 KiB; the small message, published after it, arrives alone.
        Assert.Equal(MqttPublishOutcome.TooLarge, tooLarge.Outcome);
        Assert.Equal(MqttPublishOutcome.Acknowledged, overSubscriberLimit.Outcome);
        Assert.Equal(MqttPublishOutcome.Acknowledged, small.Outcome);
        Assert.Equal(["m1"], collector.Payloads);
        Assert.Equal(0, subscriber.GetStats().ProtocolErrors);
    }

    [Fact]
    public async Task A_message_the_handler_refuses_is_not_acknowledged_and_comes_again()
    {
        string topic = $"refuse/{Guid.NewGuid():N}";
        int attempts = 0;
        var collector = new MessageCollector
        {
            // The first delivery of m0 fails (say, the disk buffer is full): not accepted.
            Before = (m, _) => m.Payload.Span.SequenceEqual("m0"u8) && Interlocked.Increment(ref attempts) == 1
                ? throw new IOException("disk buffer full")
                : Task.CompletedTask,
        };
        await using var subscriber = new MqttClient(Options($"fgw-refuse-{Guid.NewGuid():N}", cleanStart: false, sessionExpiry: 3_600), collector.HandleAsync);
        await subscriber.StartAsync(Ct);
        await subscriber.SubscribeAsync([new MqttSubscription(topic, MqttQos.AtLeastOnce)], Ct);
        await using var publisher = new MqttClient(Options($"fgw-refuse-pub-{Guid.NewGuid():N}"));
        await publisher.StartAsync(Ct);

        await publisher.PublishAsync(Message(topic, 0, MqttQos.AtLeastOnce), Ct);
        await collector.WaitForAsync(1, s_deadline, Ct);

        MqttReceivedMessage redelivered = Assert.Single(collector.Messages);
        Assert.Equal("m0", Encoding.UTF8.GetString(redelivered.Payload.Span));
        Assert.True(redelivered.Dup, "the broker redelivers the unacknowledged message with DUP");
        Assert.Equal(2, attempts);
        Assert.Equal(1, subscriber.GetStats().HandlerFailures);
        Assert.Equal(2, subscriber.GetStats().Connects);
    }

    [Fact]
    public async Task Callers_waiting_on_a_stopped_client_are_released()
    {
        await using var own = new MosquittoServer();
        await own.InitializeAsync();
        await using var client = new MqttClient(Options($"fgw-stopped-{Guid.NewGuid():N}", port: own.Port));
        await client.StartAsync(Ct);
        Task lost = client.WaitUntilDisconnectedAsync(Ct);
        await own.StopAsync();
        await lost.WaitAsync(s_deadline, Ct);

        ValueTask<MqttPublishResult> waiting = client.PublishAsync(Message("stopped/a", 1, MqttQos.AtLeastOnce), Ct);
        await client.DisconnectAsync();

        await Assert.ThrowsAsync<InvalidOperationException>(async () => await waiting);
        await Assert.ThrowsAnyAsync<InvalidOperationException>(async () => await client.PublishAsync(Message("stopped/a", 2, MqttQos.AtMostOnce), Ct));
    }

    [Fact]
    public async Task Topic_aliases_user_properties_and_content_type_reach_the_subscriber()
    {
        string prefix = $"alias/{Guid.NewGuid():N}";
        var collector = new MessageCollector();
        await using var subscriber = new MqttClient(Options($"fgw-alias-sub-{Guid.NewGuid():N}"), collector.HandleAsync);
        await subscriber.StartAsync(Ct);
        await subscriber.SubscribeAsync([new MqttSubscription($"{prefix}/#", MqttQos.AtLeastOnce)], Ct);
        await using var publisher = new MqttClient(Options($"fgw-alias-pub-{Guid.NewGuid():N}") with { UseOutgoingTopicAliases = true });
        await publisher.StartAsync(Ct);
        Assert.True(publisher.LastConnAck!.Properties.TopicAliasMaximum > 0, "mosquitto offers topic aliases");

        for (int i = 0; i < 30; i++)
        {
            var properties = new MqttProperties { ContentType = "application/json" };
            properties.UserProperties.Add(new MqttUserProperty("seq", i.ToString(CultureInfo.InvariantCulture)));
            properties.UserProperties.Add(new MqttUserProperty("site", "Kunshan"));
            await publisher.PublishAsync(Message($"{prefix}/dev-{i % 3}", i, MqttQos.AtLeastOnce) with { Properties = properties }, Ct);
        }

        await collector.WaitForAsync(30, s_deadline, Ct);
        Assert.Equal(27, publisher.GetStats().TopicAliasesUsed);
        for (int i = 0; i < 30; i++)
        {
            MqttReceivedMessage received = collector.Messages[i];
            Assert.Equal($"{prefix}/dev-{i % 3}", received.Topic);
            Assert.Equal("application/json", received.Properties.ContentType);
            Assert.Equal([new MqttUserProperty("seq", i.ToString(CultureInfo.InvariantCulture)), new MqttUserProperty("site", "Kunshan")], received.Properties.UserProperties);
        }
    }

    [Theory]
    [InlineData(MqttProtocolVersion.V500, MqttReasonCode.NotAuthorized)]
    [InlineData(MqttProtocolVersion.V311, MqttReasonCode.UnspecifiedError)]
    public async Task A_refused_subscription_returns_the_brokers_reason_code(MqttProtocolVersion version, MqttReasonCode expected)
    {
        // mosquitto 2.0's acl_file does not check subscriptions; its dynamic-security plugin does.
        using var dir = new TempDirectory("mosquitto-dynsec");
        await using MosquittoServer secured = await DynamicSecurityBrokerAsync(dir);
        await using var client = new MqttClient(Options($"fgw-acl-{Guid.NewGuid():N}", port: secured.Port, version: version) with
        {
            UserName = "gateway",
            Password = "gateway-secret"u8.ToArray(),
        });
        await client.StartAsync(Ct);

        IReadOnlyList<MqttReasonCode> codes = await client.SubscribeAsync(
            [new MqttSubscription("allowed/a", MqttQos.AtLeastOnce), new MqttSubscription("secret/#", MqttQos.AtLeastOnce)], Ct);

        Assert.Equal([MqttReasonCode.GrantedQos1, expected], codes);
    }

    [Theory]
    [InlineData(MqttProtocolVersion.V500, MqttReasonCode.NotAuthorized)]
    [InlineData(MqttProtocolVersion.V311, (MqttReasonCode)5)]
    public async Task A_refused_connect_fails_start_with_the_brokers_reason(MqttProtocolVersion version, MqttReasonCode expected)
    {
        using var dir = new TempDirectory("mosquitto-dynsec");
        await using MosquittoServer secured = await DynamicSecurityBrokerAsync(dir);
        await using var client = new MqttClient(Options($"fgw-badpw-{Guid.NewGuid():N}", port: secured.Port, version: version) with
        {
            UserName = "gateway",
            Password = "wrong"u8.ToArray(),
        });

        MqttConnectException error = await Assert.ThrowsAsync<MqttConnectException>(() => client.StartAsync(Ct));

        Assert.Equal(expected, error.ReasonCode);
        Assert.Equal(1, client.GetStats().ConnectFailures);
    }

    private static async Task<MosquittoServer> DynamicSecurityBrokerAsync(TempDirectory dir)
    {
        string config = dir.Combine("dynamic-security.json");
        CommandResult init = await CommandRunner.RunAsync("mosquitto_ctrl", ["dynsec", "init", config, "gateway", "gateway-secret"], s_deadline, Ct);
        Assert.True(init.ExitCode == 0, init.Output);
        JsonNode root = JsonNode.Parse(await File.ReadAllTextAsync(config, Ct))!;
        foreach (JsonNode? acl in root["roles"]![0]!["acls"]!.AsArray())
        {
            if ((string?)acl!["acltype"] == "subscribePattern" && (string?)acl["topic"] == "#")
            {
                acl["topic"] = "allowed/#";
            }
        }

        await File.WriteAllTextAsync(config, root.ToJsonString(), Ct);
        string arch = RuntimeInformation.OSArchitecture == Architecture.Arm64 ? "aarch64" : "x86_64";
        string plugin = $"/usr/lib/{arch}-linux-gnu/mosquitto_dynamic_security.so";
        Assert.True(File.Exists(plugin), $"{plugin} is missing: apt-get install mosquitto");
        MosquittoServer server = MosquittoServer.WithConfiguration($"plugin {plugin}\nplugin_opt_config_file {config}");
        await server.InitializeAsync();
        return server;
    }

    [Fact]
    public async Task Shared_subscriptions_split_the_stream_and_unsubscribe_stops_it()
    {
        const int Count = 200;
        string topic = $"shared/{Guid.NewGuid():N}";
        var a = new MessageCollector();
        var b = new MessageCollector();
        var all = new MessageCollector();
        await using var first = new MqttClient(Options($"fgw-share-a-{Guid.NewGuid():N}"), async (m, ct) =>
        {
            await a.HandleAsync(m, ct);
            await all.HandleAsync(m, ct);
        });
        await using var second = new MqttClient(Options($"fgw-share-b-{Guid.NewGuid():N}"), async (m, ct) =>
        {
            await b.HandleAsync(m, ct);
            await all.HandleAsync(m, ct);
        });
        await first.StartAsync(Ct);
        await second.StartAsync(Ct);
        await first.SubscribeAsync([new MqttSubscription($"$share/ingest/{topic}", MqttQos.AtLeastOnce)], Ct);
        await second.SubscribeAsync([new MqttSubscription($"$share/ingest/{topic}", MqttQos.AtLeastOnce)], Ct);
        await using var publisher = new MqttClient(Options($"fgw-share-pub-{Guid.NewGuid():N}"));
        await publisher.StartAsync(Ct);

        for (int i = 0; i < Count; i++)
        {
            await publisher.PublishAsync(Message(topic, i, MqttQos.AtLeastOnce), Ct);
        }

        await all.WaitForAsync(Count, s_deadline, Ct);
        Assert.True(a.Count > 0 && b.Count > 0, $"split {a.Count}/{b.Count}");
        Assert.Equal(Count, all.Payloads.Distinct().Count());

        Assert.Equal([MqttReasonCode.Success], await second.UnsubscribeAsync([$"$share/ingest/{topic}"], Ct));
        int before = b.Count;
        for (int i = 0; i < 20; i++)
        {
            await publisher.PublishAsync(Message(topic, Count + i, MqttQos.AtLeastOnce), Ct);
        }

        await all.WaitForAsync(Count + 20, s_deadline, Ct);
        Assert.Equal(before, b.Count);
        Assert.Equal(Count + 20, all.Count);
    }

    [Theory]
    [InlineData(MqttProtocolVersion.V311)]
    [InlineData(MqttProtocolVersion.V500)]
    public async Task A_clean_session_client_resubscribes_after_the_broker_restarts(MqttProtocolVersion version)
    {
        await using var own = new MosquittoServer();
        await own.InitializeAsync();
        string topic = $"resubscribe/{Guid.NewGuid():N}";
        var collector = new MessageCollector();
        await using var subscriber = new MqttClient(Options($"fgw-resub-{Guid.NewGuid():N}", port: own.Port, version: version), collector.HandleAsync);
        await subscriber.StartAsync(Ct);
        await subscriber.SubscribeAsync([new MqttSubscription(topic, MqttQos.AtLeastOnce)], Ct);

        Task lost = subscriber.WaitUntilDisconnectedAsync(Ct);
        await own.StopAsync();
        await lost.WaitAsync(s_deadline, Ct);
        await own.StartAsync();
        await subscriber.WaitUntilConnectedAsync(Ct).WaitAsync(s_deadline, Ct);
        Assert.False(subscriber.LastConnAck!.SessionPresent);

        // The resubscription is queued before anything else on the new connection; a publish after
        // the reconnect is therefore delivered.
        await using var publisher = new MqttClient(Options($"fgw-resub-pub-{Guid.NewGuid():N}", port: own.Port));
        await publisher.StartAsync(Ct);
        await own.WaitForLogAsync("Received SUBSCRIBE from " + subscriber.Options.ClientId, Ct).WaitAsync(s_deadline, Ct);
        await publisher.PublishAsync(Message(topic, 1, MqttQos.AtLeastOnce), Ct);
        await collector.WaitForAsync(1, s_deadline, Ct);

        Assert.Equal(1, subscriber.GetStats().Resubscribes);
        Assert.Equal(2, subscriber.GetStats().Connects);
    }

    [Fact]
    public async Task A_broker_that_stops_answering_is_detected_by_the_keep_alive_and_reconnected()
    {
        await using var own = new MosquittoServer();
        await own.InitializeAsync();
        var collector = new MessageCollector();
        string topic = $"frozen/{Guid.NewGuid():N}";
        MqttClientOptions options = Options($"fgw-frozen-{Guid.NewGuid():N}", port: own.Port, cleanStart: false, sessionExpiry: 3_600) with
        {
            KeepAlive = TimeSpan.FromSeconds(1),
            ConnectTimeout = TimeSpan.FromSeconds(1),
        };
        await using var client = new MqttClient(options, collector.HandleAsync);
        await client.StartAsync(Ct);
        await client.SubscribeAsync([new MqttSubscription(topic, MqttQos.AtLeastOnce)], Ct);

        // SIGSTOP freezes the broker with its sockets open: TCP stays up, nothing answers.
        Task lost = client.WaitUntilDisconnectedAsync(Ct);
        own.Process.Freeze();
        try
        {
            await lost.WaitAsync(s_deadline, Ct);
        }
        finally
        {
            own.Process.Thaw();
        }

        Assert.Equal(1, client.GetStats().PingTimeouts);
        await client.WaitUntilConnectedAsync(Ct).WaitAsync(s_deadline, Ct);
        await using var publisher = new MqttClient(Options($"fgw-frozen-pub-{Guid.NewGuid():N}", port: own.Port));
        await publisher.StartAsync(Ct);
        await publisher.PublishAsync(Message(topic, 7, MqttQos.AtLeastOnce), Ct);
        await collector.WaitForAsync(1, s_deadline, Ct);
        Assert.Equal(["m7"], collector.Payloads);
    }

    private static MqttApplicationMessage Message(string topic, int i, MqttQos qos) =>
        new() { Topic = topic, Qos = qos, Payload = Encoding.UTF8.GetBytes($"m{i}") };

    private static async Task ConnectSubscribeLeaveAsync(MqttClientOptions options, uint? disconnectExpiry = null)
    {
        await using var client = new MqttClient(options);
        await client.StartAsync(Ct);
        await client.SubscribeAsync([new MqttSubscription("expiry/#", MqttQos.AtLeastOnce)], Ct);
        await client.DisconnectAsync(sessionExpiryInterval: disconnectExpiry);
    }

    private static async Task<bool> SessionPresentAsync(MqttClientOptions options)
    {
        await using var client = new MqttClient(options);
        await client.StartAsync(Ct);
        bool present = client.LastConnAck!.SessionPresent;
        await client.DisconnectAsync();
        return present;
    }

    private MqttClientOptions Options(string clientId, int? port = null, MqttProtocolVersion version = MqttProtocolVersion.V500, bool cleanStart = true, uint sessionExpiry = 0) => new()
    {
        Host = MosquittoServer.Host,
        Port = port ?? broker.Port,
        ClientId = clientId,
        ProtocolVersion = version,
        CleanStart = cleanStart,
        SessionExpiryInterval = sessionExpiry,
        KeepAlive = TimeSpan.FromSeconds(30),
        ReconnectInitialDelay = TimeSpan.FromMilliseconds(50),
        ReconnectMaxDelay = TimeSpan.FromMilliseconds(500),
    };
}
