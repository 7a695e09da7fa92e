using System.Globalization;
using System.Text.Json;

namespace FactoryGateway.Testing;

/// <summary>
/// Publishes JSON messages through npm <c>mqtt</c> (<c>tests/peers/mqtt-json-publish.mjs</c>): a third-party
/// client's bytes on the wire, each message at QoS 1, and asserts that the script published them all.
/// </summary>
public static class MqttJsPublisher
{
    private static readonly TimeSpan s_deadline = TimeSpan.FromSeconds(30);

    public static async Task PublishAsync(int port, (string Topic, string Payload)[] messages, CancellationToken cancellationToken)
    {
        Prerequisites.PeerModule("mqtt");
        using var dir = new TempDirectory("json-publish");
        string file = dir.Combine("messages.json");
        await File.WriteAllTextAsync(file, JsonSerializer.Serialize(messages.Select(m => new Dictionary<string, string> { ["topic"] = m.Topic, ["payload"] = m.Payload })), cancellationToken);
        CommandResult result = await CommandRunner.RunAsync(
            Prerequisites.Node,
            [Path.Combine(RepositoryLayout.PeersDirectory, "mqtt-json-publish.mjs"), "--port", port.ToString(CultureInfo.InvariantCulture), "--messages", file],
            s_deadline,
            cancellationToken);
        Assert.True(result.ExitCode == 0 && result.Output.Contains($"PUBLISHED {messages.Length}", StringComparison.Ordinal), result.Output);
    }
}
