using System.Globalization;
using FactoryGateway.Testing;

namespace FactoryGateway.Mqtt.Tests;

/// <summary>
/// Proves the mosquitto fixture with Debian's own clients (mosquitto_pub / mosquitto_sub), independently
/// of Gateway.Mqtt's client.
/// </summary>
public sealed class MosquittoFixtureTests(MosquittoServer broker) : IClassFixture<MosquittoServer>
{
    private static readonly TimeSpan s_deadline = TimeSpan.FromSeconds(30);

    private string Port => broker.Port.ToString(CultureInfo.InvariantCulture);

    [Fact]
    public async Task A_qos1_message_goes_through_the_broker()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        string clientId = $"fgw-sub-{Guid.NewGuid():N}";
        await using ServerProcess subscriber = ServerProcess.Start(
            "mosquitto_sub",
            Prerequisites.MosquittoSub,
            ["-h", MosquittoServer.Host, "-p", Port, "-i", clientId, "-q", "1", "-t", "factory/+/state", "-C", "1", "-v"]);
        // Publish only once the broker has the subscription: a completion check, not a sleep.
        await broker.WaitForLogAsync($"Received SUBSCRIBE from {clientId}", ct).WaitAsync(s_deadline, ct);

        CommandResult publish = await CommandRunner.RunAsync(
            Prerequisites.MosquittoPub,
            ["-h", MosquittoServer.Host, "-p", Port, "-q", "1", "-t", "factory/cnc-01/state", "-m", "{\"state\":4}"],
            s_deadline,
            ct);
        Assert.True(publish.ExitCode == 0, publish.Output);

        await subscriber.Exited.WaitAsync(s_deadline, ct);
        await subscriber.StopAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(0, subscriber.ExitCode);
        Assert.Contains("factory/cnc-01/state {\"state\":4}", subscriber.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_queued_qos1_message_survives_a_broker_restart()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        string clientId = $"fgw-persistent-{Guid.NewGuid():N}";
        string[] subscribe = ["-h", MosquittoServer.Host, "-p", Port, "-i", clientId, "-c", "-q", "1", "-t", "queued/#", "-v"];

        // A persistent session (-c) subscribes and leaves: -E exits once the subscription is acknowledged.
        CommandResult register = await CommandRunner.RunAsync(Prerequisites.MosquittoSub, [.. subscribe, "-E"], s_deadline, ct);
        Assert.True(register.ExitCode == 0, register.Output);

        CommandResult publish = await CommandRunner.RunAsync(
            Prerequisites.MosquittoPub, ["-h", MosquittoServer.Host, "-p", Port, "-q", "1", "-t", "queued/a", "-m", "kept"], s_deadline, ct);
        Assert.True(publish.ExitCode == 0, publish.Output);

        await broker.StopAsync();
        await broker.StartAsync();

        CommandResult receive = await CommandRunner.RunAsync(Prerequisites.MosquittoSub, [.. subscribe, "-C", "1"], s_deadline, ct);
        Assert.True(receive.ExitCode == 0, receive.Output + broker.Process.Describe());
        Assert.Contains("queued/a kept", receive.Output, StringComparison.Ordinal);
    }
}
