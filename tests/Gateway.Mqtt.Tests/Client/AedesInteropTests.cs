using System.Globalization;
using System.Text;
using FactoryGateway.Mqtt.Client;
using FactoryGateway.Mqtt.Packets;
using FactoryGateway.Testing;

namespace FactoryGateway.Mqtt.Tests.Client;

/// <summary>The client against aedes (npm), a second broker implementation; aedes speaks MQTT 3.1.1.</summary>
public sealed class AedesInteropTests(AedesServer broker) : IClassFixture<AedesServer>
{
    private static readonly TimeSpan s_deadline = TimeSpan.FromSeconds(30);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData(MqttQos.AtMostOnce)]
    [InlineData(MqttQos.AtLeastOnce)]
    [InlineData(MqttQos.ExactlyOnce)]
    public async Task Every_message_published_arrives_exactly_once_in_order(MqttQos qos)
    {
        const int Count = 1_000;
        string topic = $"aedes/{Guid.NewGuid():N}/count";
        var collector = new MessageCollector();
        await using var subscriber = new MqttClient(Options($"fgw-aedes-sub-{Guid.NewGuid():N}"), collector.HandleAsync);
        await subscriber.StartAsync(Ct);
        Assert.Equal([(MqttReasonCode)(byte)qos], await subscriber.SubscribeAsync([new MqttSubscription(topic, qos)], Ct));
        await using var publisher = new MqttClient(Options($"fgw-aedes-pub-{Guid.NewGuid():N}"));
        await publisher.StartAsync(Ct);

        MqttPublishResult[] results = await Task.WhenAll(Enumerable.Range(0, Count).Select(i =>
            publisher.PublishAsync(Message(topic, i, qos), Ct).AsTask()));
        await WaitAsync(collector, Count);

        Assert.All(results, r => Assert.Equal(qos == MqttQos.AtMostOnce ? MqttPublishOutcome.Queued : MqttPublishOutcome.Acknowledged, r.Outcome));
        Assert.Equal(Enumerable.Range(0, Count).Select(i => $"m{i}"), collector.Payloads);
    }

    [Fact]
    public async Task A_persistent_session_receives_the_qos1_messages_published_while_it_was_away()
    {
        const int Count = 300;
        string clientId = $"fgw-aedes-persistent-{Guid.NewGuid():N}";
        string topic = $"aedes-away/{Guid.NewGuid():N}";
        await using (var subscriber = new MqttClient(Options(clientId, persistent: true), new MessageCollector().HandleAsync))
        {
            await subscriber.StartAsync(Ct);
            await subscriber.SubscribeAsync([new MqttSubscription(topic, MqttQos.AtLeastOnce)], Ct);
            await subscriber.DisconnectAsync();
        }

        await using (var publisher = new MqttClient(Options($"fgw-aedes-pub-{Guid.NewGuid():N}")))
        {
            await publisher.StartAsync(Ct);
            for (int i = 0; i < Count; i++)
            {
                Assert.Equal(MqttPublishOutcome.Acknowledged, (await publisher.PublishAsync(Message(topic, i, MqttQos.AtLeastOnce), Ct)).Outcome);
            }

            await publisher.DisconnectAsync();
        }

        var collector = new MessageCollector();
        await using var again = new MqttClient(Options(clientId, persistent: true), collector.HandleAsync);
        await again.StartAsync(Ct);
        await WaitAsync(collector, Count);

        Assert.True(again.LastConnAck!.SessionPresent);
        Assert.Equal(Enumerable.Range(0, Count).Select(i => $"m{i}"), collector.Payloads);
    }

    [Fact]
    public async Task A_dropped_connection_is_restored_and_the_will_is_published()
    {
        string willTopic = $"aedes-will/{Guid.NewGuid():N}";
        var wills = new MessageCollector();
        await using var watcher = new MqttClient(Options($"fgw-aedes-watch-{Guid.NewGuid():N}"), wills.HandleAsync);
        await watcher.StartAsync(Ct);
        await watcher.SubscribeAsync([new MqttSubscription(willTopic, MqttQos.AtLeastOnce)], Ct);
        await using var client = new MqttClient(Options($"fgw-aedes-will-{Guid.NewGuid():N}") with
        {
            Will = new MqttWill { Topic = willTopic, Payload = "OFFLINE"u8.ToArray(), Qos = MqttQos.AtLeastOnce },
        });
        await client.StartAsync(Ct);

        Task lost = client.WaitUntilDisconnectedAsync(Ct);
        client.DropConnection();
        await lost.WaitAsync(s_deadline, Ct);
        await WaitAsync(wills, 1);
        await client.WaitUntilConnectedAsync(Ct).WaitAsync(s_deadline, Ct);

        Assert.Equal(["OFFLINE"], wills.Payloads);
        Assert.Equal(2, client.GetStats().Connects);
    }

    private static MqttApplicationMessage Message(string topic, int i, MqttQos qos) =>
        new() { Topic = topic, Qos = qos, Payload = Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"m{i}")) };

    private async Task WaitAsync(MessageCollector collector, int count)
    {
        try
        {
            await collector.WaitForAsync(count, s_deadline, Ct);
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"{e.Message}{Environment.NewLine}{broker.Process.Describe()}", e);
        }
    }

    private MqttClientOptions Options(string clientId, bool persistent = false) => new()
    {
        Host = AedesServer.Host,
        Port = broker.Port,
        ClientId = clientId,
        ProtocolVersion = MqttProtocolVersion.V311,
        CleanStart = !persistent,
        KeepAlive = TimeSpan.FromSeconds(30),
        ReconnectInitialDelay = TimeSpan.FromMilliseconds(50),
        ReconnectMaxDelay = TimeSpan.FromMilliseconds(500),
    };
}
