using FactoryGateway.OpcUa.Client;
using FactoryGateway.OpcUa.Server;
using FactoryGateway.OpcUa.Services;
using FactoryGateway.OpcUa.Transport.Security;

namespace FactoryGateway.OpcUa.Tests.Server;

/// <summary>
/// Token renewal under Basic256Sha256 SignAndEncrypt driven by one stepped clock shared by our client
/// and our server: the client renews at 75% of a 10 s token, the server's housekeeping checks expiry
/// on the same clock, and every call after a renewal travels under the new keys.
/// </summary>
public sealed class SecureRenewalTests(SecureServerFixture fixture) : IClassFixture<SecureServerFixture>
{
    private static readonly TimeSpan s_deadline = TimeSpan.FromSeconds(20);
    private static readonly TimeSpan s_lifetime = TimeSpan.FromSeconds(10);

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_client_renews_on_the_shared_clock_and_the_server_keeps_the_channel_past_the_first_tokens_expiry()
    {
        var clock = new SteppedClock();
        var serverOptions = new UaServerOptions { Pki = fixture.ServerPki, MinTokenLifetime = s_lifetime, MaxTokenLifetime = s_lifetime };
        serverOptions.SecurityPolicyUris.Add(UaSecurityPolicy.Basic256Sha256Uri);
        await using var server = new UaServer(serverOptions, time: clock);
        await server.StartAsync(Token);
        UaSessionOptions options = fixture.Options(MessageSecurityMode.SignAndEncrypt);
        options.Channel.RequestedTokenLifetime = s_lifetime;
        await using UaSession session = await UaSession.ConnectAsync(server.EndpointUrl, options, clock, Token);
        Assert.Equal(s_lifetime, session.Channel.TokenLifetime);
        var tokens = new List<uint> { session.Channel.TokenId };

        for (int i = 1; i <= 3; i++)
        {
            var renewed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            void OnRenewed(object? sender, EventArgs e) => renewed.TrySetResult();
            session.Channel.TokenRenewed += OnRenewed;
            clock.Advance(s_lifetime * 0.75); // the client's renewal timer and the server's housekeeping fire
            await renewed.Task.WaitAsync(s_deadline, Token);
            session.Channel.TokenRenewed -= OnRenewed;

            tokens.Add(session.Channel.TokenId);
            Assert.Equal((int)ServerState.Running, (await session.ReadValueAsync(WellKnownNodes.ServerStatusState, Token)).Value.Value);
        }

        // 22.5 s have passed: the first token expired (with its 25% grace) at 12.5 s, the channel lives on its renewals.
        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(3, session.Channel.Renewals);
        Assert.Equal(tokens.Distinct().Count(), tokens.Count);
        Assert.True(session.Channel.Security!.Encrypt);
        Assert.Equal(0, server.ConnectionErrors);
        Assert.Equal(1, server.ActiveConnections);
        Assert.Equal((int)ServerState.Running, (await session.ReadValueAsync(WellKnownNodes.ServerStatusState, Token)).Value.Value);
    }
}
