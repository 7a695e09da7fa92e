using FactoryGateway.Mqtt.Client;
using FactoryGateway.Mqtt.Packets;
using FactoryGateway.Testing;

namespace FactoryGateway.Mqtt.Tests.Client;

/// <summary>QoS 2 towards the client across a connection cut in the middle of the flow, against a real mosquitto through a relay.</summary>
public sealed class ExactlyOnceAcrossCutTests(MosquittoServer broker) : IClassFixture<MosquittoServer>
{
    private const int PubRec = 5;
    private const int PubRel = 6;
    private const int PubComp = 7;

    private static readonly TimeSpan s_deadline = TimeSpan.FromSeconds(30);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_qos2_message_cut_off_before_its_flow_completes_is_delivered_exactly_once(bool cutClientPubRec)
    {
        (RelayDirection direction, int cutType) = cutClientPubRec ? (RelayDirection.ClientToBroker, PubRec) : (RelayDirection.BrokerToClient, PubRel);
        string topic = $"exactly-once/{Guid.NewGuid():N}";
        await using var relay = new CuttingRelay(broker.Port, p => p.Direction == direction && p.Type == cutType);
        var collector = new MessageCollector();
        // No keep-alive: a PINGRESP must not be what wakes the client up to a resent packet.
        await using var subscriber = new MqttClient(Options($"fgw-cut-sub-{Guid.NewGuid():N}", relay.Port, persistent: true) with { KeepAlive = TimeSpan.Zero }, collector.HandleAsync);
        await subscriber.StartAsync(Ct);
        await subscriber.SubscribeAsync([new MqttSubscription(topic, MqttQos.ExactlyOnce)], Ct);
        await using var publisher = new MqttClient(Options($"fgw-cut-pub-{Guid.NewGuid():N}", broker.Port));
        await publisher.StartAsync(Ct);

        // The client's PUBREC never reaches the broker (it sends the PUBLISH again, DUP), or the broker's
        // PUBREL never reaches the client (it sends the PUBREL again); the client reconnects either way.
        Assert.Equal(MqttPublishOutcome.Acknowledged, (await publisher.PublishAsync(Message(topic, "m0"), Ct)).Outcome);
        RelayedPacket cut = await relay.Cut.WaitAsync(s_deadline, Ct);
        await relay.WaitForAsync(p => p is { Connection: 2, Direction: RelayDirection.ClientToBroker, Type: PubComp } && p.PacketId == cut.PacketId, s_deadline, Ct);

        // QoS 2 keeps order: once m1 has arrived, nothing published before it can still come.
        Assert.Equal(MqttPublishOutcome.Acknowledged, (await publisher.PublishAsync(Message(topic, "m1"), Ct)).Outcome);
        await collector.WaitForAsync(2, s_deadline, Ct);

        Assert.Equal(["m0", "m1"], collector.Payloads);
        Assert.Equal(2, subscriber.GetStats().Connects);
        if (direction == RelayDirection.ClientToBroker)
        {
            Assert.Contains(relay.Forwarded, p => p is { Connection: 2, Direction: RelayDirection.BrokerToClient, Type: 3, Dup: true } && p.PacketId == cut.PacketId);
            Assert.Equal(1, subscriber.GetStats().DuplicatesSuppressed);
        }
        else
        {
            Assert.Contains(relay.Forwarded, p => p is { Connection: 2, Direction: RelayDirection.BrokerToClient, Type: PubRel } && p.PacketId == cut.PacketId);
            Assert.Equal(0, subscriber.GetStats().DuplicatesSuppressed);
        }
    }

    private static MqttApplicationMessage Message(string topic, string payload) =>
        new() { Topic = topic, Qos = MqttQos.ExactlyOnce, Payload = System.Text.Encoding.UTF8.GetBytes(payload) };

    private static MqttClientOptions Options(string clientId, int port, bool persistent = false) => new()
    {
        Host = MosquittoServer.Host,
        Port = port,
        ClientId = clientId,
        ProtocolVersion = MqttProtocolVersion.V500,
        CleanStart = !persistent,
        SessionExpiryInterval = persistent ? 3_600u : 0,
        KeepAlive = TimeSpan.FromSeconds(30),
        ReconnectInitialDelay = TimeSpan.FromMilliseconds(50),
        ReconnectMaxDelay = TimeSpan.FromMilliseconds(500),
    };
}
