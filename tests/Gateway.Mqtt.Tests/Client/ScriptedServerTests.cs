using System.Text;
using FactoryGateway.Mqtt.Client;
using FactoryGateway.Mqtt.Packets;
using FactoryGateway.Testing;

namespace FactoryGateway.Mqtt.Tests.Client;

/// <summary>
/// Exchanges no broker here produces on demand, driven step by step through a scripted server whose packets
/// are encoded by npm mqtt-packet: topic aliases towards the client (mosquitto 2.0.11 sends none to
/// subscribers; aedes speaks 3.1.1), a QoS 2 PUBLISH sent twice, a connection cut between two chosen packets.
/// </summary>
public sealed class ScriptedServerTests
{
    private static readonly TimeSpan s_deadline = TimeSpan.FromSeconds(30);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Packets_written_together_with_the_connack_are_read_without_waiting_for_more_data()
    {
        await using ScriptedMqttServer server = await ScriptedMqttServer.StartAsync(Ct);
        var collector = new MessageCollector();
        await using var client = new MqttClient(Options(server, persistent: true), collector.HandleAsync);
        Task start = client.StartAsync(Ct);
        await server.ExpectAsync("connect", Ct);

        // One socket write, as a broker resuming a session does; nothing follows it (no keep-alive here).
        await server.SendAsync(
            new { cmd = "connack", returnCode = 0, reasonCode = 0, sessionPresent = true },
            Publish("plant/a", "m0", qos: 1, id: 3));
        await start;

        await collector.WaitForAsync(1, s_deadline, Ct);
        Assert.Equal(3, (await server.ExpectAsync("puback", Ct)).MessageId);
        Assert.Equal(["m0"], collector.Payloads);
    }

    [Fact]
    public async Task The_acknowledgements_of_the_messages_of_one_read_are_written_with_one_flush()
    {
        const int Count = 20;
        await using ScriptedMqttServer server = await ScriptedMqttServer.StartAsync(Ct);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var collector = new MessageCollector
        {
            // Each message gives the other loops a turn: a writer woken per acknowledgement would flush it alone.
            Before = async (_, ct) =>
            {
                await release.Task.WaitAsync(ct);
                await Task.Yield();
            },
        };
        await using var client = new MqttClient(Options(server), collector.HandleAsync);
        Task start = client.StartAsync(Ct);
        await server.AcceptAsync(Ct);
        await start;

        // Twenty QoS 1 messages and a SUBACK in one write: once SubscribeAsync returns, all twenty have been
        // read (while the handler holds the first), and the client has nothing else to send.
        Task<IReadOnlyList<MqttReasonCode>> subscribing = client.SubscribeAsync([new MqttSubscription("plant/#", MqttQos.AtLeastOnce)], Ct);
        ScriptedPacket subscribe = await server.ExpectAsync("subscribe", Ct);
        await server.SendAsync([.. Enumerable.Range(1, Count).Select(i => Publish("plant/a", $"m{i}", qos: 1, id: i)), SubAck(subscribe.MessageId)]);
        await subscribing.WaitAsync(s_deadline, Ct);
        long flushesBefore = client.GetStats().Flushes;
        release.SetResult();

        for (int i = 1; i <= Count; i++)
        {
            Assert.Equal(i, (await server.ExpectAsync("puback", Ct)).MessageId);
        }

        Assert.Equal(1, client.GetStats().Flushes - flushesBefore);
        Assert.Equal(Count, collector.Count);
    }

    [Fact]
    public async Task Incoming_topic_aliases_map_to_their_topics_and_end_with_the_connection()
    {
        await using ScriptedMqttServer server = await ScriptedMqttServer.StartAsync(Ct);
        var collector = new MessageCollector();
        await using var client = new MqttClient(Options(server) with { TopicAliasMaximum = 4 }, collector.HandleAsync);
        Task start = client.StartAsync(Ct);
        ScriptedPacket connect = await server.AcceptAsync(Ct);
        await start;
        Assert.Equal(4, connect.Property("topicAliasMaximum")?.GetInt32());

        await server.SendAsync(
            Publish("plant/a", "m0", alias: 1),
            Publish(string.Empty, "m1", alias: 1),
            Publish("plant/b", "m2", alias: 2, qos: 1, id: 1),
            Publish(string.Empty, "m3", alias: 2),
            Publish("plant/c", "m4", alias: 1),
            Publish(string.Empty, "m5", alias: 1, qos: 1, id: 2),
            Publish(string.Empty, "m6", alias: 2));
        await collector.WaitForAsync(7, s_deadline, Ct);

        Assert.Equal(
            ["plant/a m0", "plant/a m1", "plant/b m2", "plant/b m3", "plant/c m4", "plant/c m5", "plant/b m6"],
            collector.Messages.Select(m => $"{m.Topic} {Encoding.UTF8.GetString(m.Payload.Span)}"));
        Assert.Equal(1, (await server.ExpectAsync("puback", Ct)).MessageId);
        Assert.Equal(2, (await server.ExpectAsync("puback", Ct)).MessageId);

        // The mappings belonged to that connection: alias 1 used on the next one without being set is a protocol error.
        await server.DropAsync();
        Assert.Equal(2, (await server.AcceptAsync(Ct)).Connection);
        await server.SendAsync(Publish(string.Empty, "m7", alias: 1));
        ScriptedPacket disconnect = await server.ExpectAsync("disconnect", Ct);

        Assert.Equal(2, disconnect.Connection);
        Assert.Equal((int)MqttReasonCode.ProtocolError, disconnect.ReasonCode);
        await server.WaitForClosedAsync(2, Ct);
        Assert.Equal(7, collector.Count);
        Assert.Equal(1, client.GetStats().ProtocolErrors);
    }

    [Theory]
    [InlineData((ushort)4, "plant/a", 5, MqttReasonCode.TopicAliasInvalid)]
    [InlineData((ushort)0, "plant/a", 1, MqttReasonCode.TopicAliasInvalid)]
    [InlineData((ushort)4, "", 3, MqttReasonCode.ProtocolError)]
    public async Task A_bad_incoming_topic_alias_ends_that_connection_with_a_disconnect(ushort maximum, string topic, int alias, MqttReasonCode expected)
    {
        await using ScriptedMqttServer server = await ScriptedMqttServer.StartAsync(Ct);
        var collector = new MessageCollector();
        await using var client = new MqttClient(Options(server) with { TopicAliasMaximum = maximum }, collector.HandleAsync);
        Task start = client.StartAsync(Ct);
        await server.AcceptAsync(Ct);
        await start;
        await server.SendAsync(Publish("plant/ok", "m0"));
        await collector.WaitForAsync(1, s_deadline, Ct);

        await server.SendAsync(Publish(topic, "m1", alias: alias));
        ScriptedPacket disconnect = await server.ExpectAsync("disconnect", Ct);

        Assert.Equal(1, disconnect.Connection);
        Assert.Equal((int)expected, disconnect.ReasonCode);
        await server.WaitForClosedAsync(1, Ct);
        Assert.Equal(["m0"], collector.Payloads);
        Assert.Equal(1, client.GetStats().ProtocolErrors);

        // Only that connection ends: the client connects again.
        Assert.Equal(2, (await server.AcceptAsync(Ct)).Connection);
    }

    [Fact]
    public async Task A_qos2_publish_that_comes_twice_reaches_the_handler_once_and_its_flow_completes()
    {
        await using ScriptedMqttServer server = await ScriptedMqttServer.StartAsync(Ct);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var collector = new MessageCollector { Before = (_, ct) => release.Task.WaitAsync(ct) };
        await using var client = new MqttClient(Options(server), collector.HandleAsync);
        Task start = client.StartAsync(Ct);
        await server.AcceptAsync(Ct);
        await start;

        // Both copies and a SUBACK in one write: when SubscribeAsync returns the client has read both copies,
        // while its handler still holds the first.
        Task<IReadOnlyList<MqttReasonCode>> subscribing = client.SubscribeAsync([new MqttSubscription("plant/#", MqttQos.ExactlyOnce)], Ct);
        ScriptedPacket subscribe = await server.ExpectAsync("subscribe", Ct);
        await server.SendAsync(
            Publish("plant/a", "m0", qos: 2, id: 7),
            Publish("plant/a", "m0", qos: 2, id: 7, dup: true),
            SubAck(subscribe.MessageId));
        await subscribing.WaitAsync(s_deadline, Ct);
        release.SetResult();

        // Each copy is acknowledged; the message is delivered once.
        Assert.Equal(7, (await server.ExpectAsync("pubrec", Ct)).MessageId);
        Assert.Equal(7, (await server.ExpectAsync("pubrec", Ct)).MessageId);
        await server.SendAsync(new { cmd = "pubrel", messageId = 7 });
        ScriptedPacket pubcomp = await server.ExpectAsync("pubcomp", Ct);
        Assert.Equal(7, pubcomp.MessageId);
        Assert.Equal((int)MqttReasonCode.Success, pubcomp.ReasonCode);

        // After PUBCOMP the identifier is free again: a new message with it is delivered.
        await server.SendAsync(Publish("plant/a", "m1", qos: 2, id: 7));
        Assert.Equal(7, (await server.ExpectAsync("pubrec", Ct)).MessageId);
        await server.SendAsync(new { cmd = "pubrel", messageId = 7 });
        Assert.Equal(7, (await server.ExpectAsync("pubcomp", Ct)).MessageId);

        Assert.Equal(["m0", "m1"], collector.Payloads);
        Assert.Equal(1, client.GetStats().DuplicatesSuppressed);
    }

    [Fact]
    public async Task A_qos2_publish_redelivered_on_a_new_connection_while_the_handler_still_runs_is_delivered_once()
    {
        await using ScriptedMqttServer server = await ScriptedMqttServer.StartAsync(Ct);
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var collector = new MessageCollector
        {
            Before = (_, ct) =>
            {
                entered.TrySetResult();
                return release.Task.WaitAsync(ct);
            },
        };
        await using var client = new MqttClient(Options(server, persistent: true), collector.HandleAsync);
        Task start = client.StartAsync(Ct);
        await server.AcceptAsync(Ct);
        await start;
        await server.SendAsync(Publish("plant/a", "m0", qos: 2, id: 9));
        await entered.Task.WaitAsync(s_deadline, Ct);

        // The connection is cut while the handler runs; the server, keeping the session, sends the message again.
        await server.DropAsync();
        await server.AcceptAsync(Ct, sessionPresent: true);
        Task<IReadOnlyList<MqttReasonCode>> subscribing = client.SubscribeAsync([new MqttSubscription("plant/#", MqttQos.ExactlyOnce)], Ct);
        ScriptedPacket subscribe = await server.ExpectAsync("subscribe", Ct);
        await server.SendAsync(
            Publish("plant/a", "m0", qos: 2, id: 9, dup: true),
            SubAck(subscribe.MessageId));
        await subscribing.WaitAsync(s_deadline, Ct);
        release.SetResult();

        ScriptedPacket pubrec = await server.ExpectAsync("pubrec", Ct);
        Assert.Equal((2, 9), (pubrec.Connection, pubrec.MessageId));
        await server.SendAsync(new { cmd = "pubrel", messageId = 9 }, Publish("plant/a", "m1", qos: 2, id: 10));
        Assert.Equal(9, (await server.ExpectAsync("pubcomp", Ct)).MessageId);
        Assert.Equal(10, (await server.ExpectAsync("pubrec", Ct)).MessageId);

        Assert.Equal(["m0", "m1"], collector.Payloads);
        Assert.Equal(1, client.GetStats().DuplicatesSuppressed);
    }

    [Fact]
    public async Task A_handler_that_finishes_after_the_session_was_lost_does_not_block_the_packet_id_in_the_new_session()
    {
        await using ScriptedMqttServer server = await ScriptedMqttServer.StartAsync(Ct);
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var collector = new MessageCollector
        {
            Before = (m, ct) =>
            {
                entered.TrySetResult();
                return m.Payload.Span.SequenceEqual("m0"u8) ? release.Task.WaitAsync(ct) : Task.CompletedTask;
            },
        };
        await using var client = new MqttClient(Options(server, persistent: true), collector.HandleAsync);
        Task start = client.StartAsync(Ct);
        await server.AcceptAsync(Ct);
        await start;
        await server.SendAsync(Publish("plant/a", "m0", qos: 2, id: 9));
        await entered.Task.WaitAsync(s_deadline, Ct);

        // Cut while the handler runs; the server has lost the session and reuses packet id 9 for a new message.
        await server.DropAsync();
        await server.AcceptAsync(Ct, sessionPresent: false);
        release.SetResult();
        await collector.WaitForAsync(1, s_deadline, Ct);
        await server.SendAsync(Publish("plant/a", "m1", qos: 2, id: 9));

        ScriptedPacket pubrec = await server.ExpectAsync("pubrec", Ct);
        Assert.Equal((2, 9), (pubrec.Connection, pubrec.MessageId));
        await collector.WaitForAsync(2, s_deadline, Ct);
        Assert.Equal(["m0", "m1"], collector.Payloads);
        Assert.Equal(0, client.GetStats().DuplicatesSuppressed);
    }

    [Theory]
    [InlineData(MqttProtocolVersion.V311)]
    [InlineData(MqttProtocolVersion.V500)]
    public async Task After_a_reconnect_the_client_resends_pubrel_where_pubrec_had_arrived_and_publish_with_dup_where_not(MqttProtocolVersion version)
    {
        await using ScriptedMqttServer server = await ScriptedMqttServer.StartAsync(Ct);
        await using var client = new MqttClient(Options(server, persistent: true, version: version));
        Task start = client.StartAsync(Ct);
        await server.AcceptAsync(Ct);
        await start;

        ValueTask<MqttPublishResult> first = client.PublishAsync(new MqttApplicationMessage { Topic = "plant/out", Qos = MqttQos.ExactlyOnce, Payload = "m0"u8.ToArray() }, Ct);
        ValueTask<MqttPublishResult> second = client.PublishAsync(new MqttApplicationMessage { Topic = "plant/out", Qos = MqttQos.ExactlyOnce, Payload = "m1"u8.ToArray() }, Ct);
        ScriptedPacket p0 = await server.ExpectAsync("publish", Ct);
        ScriptedPacket p1 = await server.ExpectAsync("publish", Ct);
        Assert.Equal(("m0", 2, false, "m1", 2, false), (p0.Payload, p0.Qos, p0.Dup, p1.Payload, p1.Qos, p1.Dup));
        await server.SendAsync(new { cmd = "pubrec", messageId = p0.MessageId });
        Assert.Equal(p0.MessageId, (await server.ExpectAsync("pubrel", Ct)).MessageId);

        // Cut before PUBCOMP (m0) and before PUBREC (m1); the server kept the session.
        await server.DropAsync();
        await server.AcceptAsync(Ct, sessionPresent: true);
        ScriptedPacket rel0 = await server.NextAsync(Ct);
        ScriptedPacket again1 = await server.NextAsync(Ct);

        Assert.Equal(("pubrel", 2, p0.MessageId), (rel0.Command, rel0.Connection, rel0.MessageId));
        Assert.Equal(("publish", 2, p1.MessageId, true, "m1"), (again1.Command, again1.Connection, again1.MessageId, again1.Dup, again1.Payload));
        await server.SendAsync(new { cmd = "pubcomp", messageId = p0.MessageId }, new { cmd = "pubrec", messageId = p1.MessageId });
        Assert.Equal(p1.MessageId, (await server.ExpectAsync("pubrel", Ct)).MessageId);
        await server.SendAsync(new { cmd = "pubcomp", messageId = p1.MessageId });

        Assert.Equal(MqttPublishOutcome.Acknowledged, (await first.AsTask().WaitAsync(s_deadline, Ct)).Outcome);
        Assert.Equal(MqttPublishOutcome.Acknowledged, (await second.AsTask().WaitAsync(s_deadline, Ct)).Outcome);
        Assert.Equal(2, client.GetStats().MessagesResent);
    }

    private static object SubAck(int messageId) => new { cmd = "suback", messageId, granted = (int[])[2] };

    private static object Publish(string topic, string payload, int alias = 0, int qos = 0, int id = 0, bool dup = false) => new
    {
        cmd = "publish",
        topic,
        payload,
        qos,
        dup,
        retain = false,
        messageId = qos > 0 ? id : (int?)null,
        properties = alias > 0 ? new { topicAlias = alias } : null,
    };

    private static MqttClientOptions Options(ScriptedMqttServer server, bool persistent = false, MqttProtocolVersion version = MqttProtocolVersion.V500) => new()
    {
        Host = ScriptedMqttServer.Host,
        Port = server.Port,
        ClientId = $"fgw-scripted-{Guid.NewGuid():N}",
        ProtocolVersion = version,
        CleanStart = !persistent,
        SessionExpiryInterval = persistent && version == MqttProtocolVersion.V500 ? 3_600u : 0,

        // No PINGREQ in the middle of a scripted exchange.
        KeepAlive = TimeSpan.Zero,
        ReconnectInitialDelay = TimeSpan.FromMilliseconds(20),
        ReconnectMaxDelay = TimeSpan.FromMilliseconds(200),
    };
}
