using System.Text;
using FactoryGateway.Mqtt.Client;
using FactoryGateway.Mqtt.Packets;

namespace FactoryGateway.Edge.Tests.Mqtt;

/// <summary>Publishing from a test's own MQTT client: QoS 1, acknowledged by the broker within a deadline.</summary>
internal static class TestPublishing
{
    private static readonly TimeSpan s_deadline = TimeSpan.FromSeconds(30);

    public static async Task PublishAsync(MqttClient publisher, string topic, string payload, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(s_deadline);
        MqttPublishResult result = await publisher.PublishAsync(
            new MqttApplicationMessage { Topic = topic, Payload = Encoding.UTF8.GetBytes(payload), Qos = MqttQos.AtLeastOnce },
            deadline.Token);
        Assert.Equal(MqttPublishOutcome.Acknowledged, result.Outcome);
    }
}
