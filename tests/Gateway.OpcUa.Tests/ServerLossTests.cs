using FactoryGateway.OpcUa.Client;
using FactoryGateway.OpcUa.Encoding;
using FactoryGateway.OpcUa.Services;
using FactoryGateway.OpcUa.Transport;
using FactoryGateway.Testing;

namespace FactoryGateway.OpcUa.Tests;

/// <summary>
/// The server goes away under a live subscription (its own node-opcua instance, stopped and started
/// again): every waiter fails with a status instead of hanging, and a new session works after the restart.
/// </summary>
public sealed class ServerLossTests(NodeOpcUaServer server) : IClassFixture<NodeOpcUaServer>
{
    private static readonly TimeSpan s_deadline = TimeSpan.FromSeconds(20);

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Stopping_the_server_fails_the_subscription_and_pending_calls_then_a_new_session_works()
    {
        await using UaSession session = await UaSession.ConnectAsync(server.EndpointUrl, cancellationToken: Token);
        UaSubscription subscription = await session.CreateSubscriptionAsync(new UaSubscriptionOptions { PublishingInterval = 100 }, Token);
        await subscription.CreateMonitoredItemsAsync([new MonitoredItemRequest(new ReadValueId(new NodeId("TestMachine.PartsTotal", 1))) { SamplingInterval = 100 }], Token);
        SubscriptionMessage first = await subscription.Messages.ReadAsync(Token).AsTask().WaitAsync(s_deadline, Token);
        Assert.NotEmpty(first.DataChanges);

        await server.StopAsync();

        // The consumer sees the loss as an error on the message stream, within the deadline.
        UaServiceException lost = await Assert.ThrowsAsync<UaServiceException>(async () =>
        {
            await foreach (SubscriptionMessage message in subscription.Messages.ReadAllAsync(Token).WithCancellation(Token))
            {
                _ = message;
            }
        }).WaitAsync(s_deadline, Token);
        Assert.True(lost.Status.IsBad);
        Assert.False(session.Channel.IsOpen);
        await Assert.ThrowsAsync<UaServiceException>(() => session.ReadValueAsync(WellKnownNodes.ServerStatusState, Token));

        await server.StartAsync();
        await using UaSession again = await UaSession.ConnectAsync(server.EndpointUrl, cancellationToken: Token);
        Assert.Equal(ServerState.Running, (await again.ReadServerStatusAsync(Token)).State);
    }
}
