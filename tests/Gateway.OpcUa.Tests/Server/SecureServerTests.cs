using System.Globalization;
using System.Text.Json;
using FactoryGateway.OpcUa.Client;
using FactoryGateway.OpcUa.Encoding;
using FactoryGateway.OpcUa.Pki;
using FactoryGateway.OpcUa.Server;
using FactoryGateway.OpcUa.Services;
using FactoryGateway.OpcUa.Transport;
using FactoryGateway.OpcUa.Transport.Security;
using FactoryGateway.Testing;

namespace FactoryGateway.OpcUa.Tests.Server;

/// <summary>
/// Our server's Basic256Sha256 endpoints (Sign, SignAndEncrypt) against our own client and against
/// node-opcua's client (tests/peers/opcua-client.mjs): the endpoints with the server certificate,
/// sessions with signatures and encrypted passwords, browse, read, subscriptions, token renewal, and a
/// client certificate the server does not trust refused with BadSecurityChecksFailed and kept in its
/// <c>rejected/</c> folder.
/// </summary>
public sealed class SecureServerTests(SecureServerFixture fixture) : IClassFixture<SecureServerFixture>
{
    // node-opcua loads in several seconds on a busy machine.
    private static readonly TimeSpan s_nodeDeadline = TimeSpan.FromSeconds(90);
    private static readonly TimeSpan s_deadline = TimeSpan.FromSeconds(20);

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private string Url => fixture.EndpointUrl;

    [Fact]
    public async Task GetEndpoints_offers_None_and_Basic256Sha256_Sign_and_SignAndEncrypt_with_the_server_certificate()
    {
        IReadOnlyList<EndpointDescription> endpoints = await UaSession.GetEndpointsAsync(Url, cancellationToken: Token);

        Assert.Equal(
            [(UaTcpChannel.SecurityPolicyNone, MessageSecurityMode.None), (UaSecurityPolicy.Basic256Sha256Uri, MessageSecurityMode.Sign), (UaSecurityPolicy.Basic256Sha256Uri, MessageSecurityMode.SignAndEncrypt)],
            endpoints.Select(e => (e.SecurityPolicyUri, e.SecurityMode)));
        Assert.True(endpoints[0].ServerCertificate.IsEmpty);
        Assert.All(endpoints.Skip(1), e => Assert.Equal(fixture.ServerPki.ApplicationCertificate.RawData, e.ServerCertificate.ToArray()));
        Assert.True(endpoints[2].SecurityLevel > endpoints[1].SecurityLevel);
    }

    [Theory]
    [InlineData(MessageSecurityMode.Sign)]
    [InlineData(MessageSecurityMode.SignAndEncrypt)]
    public async Task Our_client_logs_in_with_an_encrypted_password_reads_browses_and_subscribes(MessageSecurityMode mode)
    {
        UserIdentity user = UserIdentity.FromUserName(SecureServerFixture.UserName, SecureServerFixture.Password);
        await using UaSession session = await UaSession.ConnectAsync(Url, fixture.Options(mode, user), cancellationToken: Token);

        Assert.Equal(mode == MessageSecurityMode.SignAndEncrypt, session.Channel.Security!.Encrypt);
        Assert.Equal(ServerState.Running, (await session.ReadServerStatusAsync(Token)).State);
        IReadOnlyList<ReferenceDescription> objects = await session.BrowseAllAsync(new BrowseDescription(new NodeId(85u)), cancellationToken: Token);
        Assert.Contains(objects, r => r.BrowseName.Name == "Server");

        UaSubscription subscription = await session.CreateSubscriptionAsync(new UaSubscriptionOptions { PublishingInterval = 20 }, Token);
        await subscription.CreateMonitoredItemsAsync([new MonitoredItemRequest(new ReadValueId(fixture.Counter)) { SamplingInterval = 0, QueueSize = 100 }], Token);
        var values = new List<long>();
        int next = 1_000 * (int)mode;
        bool written = false;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(Token);
        deadline.CancelAfter(s_deadline);
        await foreach (SubscriptionMessage message in subscription.Messages.ReadAllAsync(deadline.Token))
        {
            values.AddRange(message.DataChanges.Select(n => n.Value.Value.TryGetInt64(out long v) ? v : -1));
            if (!written && values.Count > 0)
            {
                // The initial value arrived: the item is live; four changes follow.
                for (int i = 0; i < 4; i++)
                {
                    fixture.Server.AddressSpace.SetValue(fixture.Counter, new Variant(next + i), DateTime.UtcNow.AddMilliseconds(i));
                }

                written = true;
            }

            if (values.Contains(next + 3))
            {
                break;
            }
        }

        Assert.Equal([next, next + 1, next + 2, next + 3], values.Where(v => v >= next && v <= next + 3));
        Assert.Null(session.PublishFault);
    }

    [Fact]
    public async Task A_wrong_password_is_refused_on_an_encrypted_channel()
    {
        UserIdentity wrong = UserIdentity.FromUserName(SecureServerFixture.UserName, "not-the-password");

        UaServiceException error = await Assert.ThrowsAsync<UaServiceException>(() => UaSession.ConnectAsync(Url, fixture.Options(MessageSecurityMode.SignAndEncrypt, wrong), cancellationToken: Token));

        Assert.Equal(StatusCode.BadUserAccessDenied, error.Status.CodeBits);
    }

    [Fact]
    public async Task Our_client_with_an_untrusted_certificate_is_refused_and_its_certificate_lands_in_rejected()
    {
        using var dir = new TempDirectory("opcua-stranger-pki");
        using CertificateStore stranger = CertificateStore.Open(new PkiOptions { Directory = dir.Path, HostName = "localhost" }, SecureServerFixture.ClientUri, "stranger");
        stranger.AddTrusted(fixture.ServerPki.ApplicationCertificate);
        long rejectedBefore = fixture.Server.CertificatesRejected;

        UaServiceException error = await Assert.ThrowsAsync<UaServiceException>(() => UaSession.ConnectAsync(Url, fixture.Options(MessageSecurityMode.SignAndEncrypt, pki: stranger), cancellationToken: Token));

        Assert.Equal(StatusCode.BadSecurityChecksFailed, error.Status.CodeBits);
        Assert.Equal(rejectedBefore + 1, fixture.Server.CertificatesRejected);
        Assert.True(File.Exists(Path.Combine(fixture.ServerPki.RejectedDirectory, stranger.ApplicationCertificate.Thumbprint + ".der")));
    }

    [Fact]
    public async Task Token_renewals_under_SignAndEncrypt_keep_the_session_and_its_subscription_going()
    {
        await using UaSession session = await UaSession.ConnectAsync(Url, fixture.Options(MessageSecurityMode.SignAndEncrypt), cancellationToken: Token);
        UaSubscription subscription = await session.CreateSubscriptionAsync(new UaSubscriptionOptions { PublishingInterval = 20 }, Token);
        await subscription.CreateMonitoredItemsAsync([new MonitoredItemRequest(new ReadValueId(fixture.Counter)) { SamplingInterval = 0, QueueSize = 100 }], Token);
        uint firstToken = session.Channel.TokenId;
        const int Base = 5_000;
        var values = new List<long>();
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(Token);
        deadline.CancelAfter(s_deadline);
        await foreach (SubscriptionMessage message in subscription.Messages.ReadAllAsync(deadline.Token))
        {
            if (message.DataChanges.Count == 0)
            {
                continue;
            }

            values.AddRange(message.DataChanges.Select(n => n.Value.Value.TryGetInt64(out long v) ? v : -1).Where(v => v is >= Base and < Base + 6));
            if (values.Count >= 6)
            {
                break;
            }

            // Renew while Publish requests are outstanding, then change the value: it must arrive under the new keys.
            await session.Channel.RenewAsync(Token);
            fixture.Server.AddressSpace.SetValue(fixture.Counter, new Variant(Base + values.Count), DateTime.UtcNow);
        }

        Assert.Equal(Enumerable.Range(Base, 6).Select(i => (long)i), values);
        Assert.True(session.Channel.Renewals >= 6);
        Assert.NotEqual(firstToken, session.Channel.TokenId);
        Assert.Equal(ServerState.Running, (await session.ReadServerStatusAsync(Token)).State);
    }

    [Fact]
    public async Task An_anonymous_subscription_transfers_to_a_new_session_with_the_same_client_certificate_but_not_to_another()
    {
        UaSessionOptions options = fixture.Options(MessageSecurityMode.SignAndEncrypt);
        await using UaSession first = await UaSession.ConnectAsync(Url, options, cancellationToken: Token);
        UaSubscription original = await first.CreateSubscriptionAsync(new UaSubscriptionOptions { PublishingInterval = 20 }, Token);
        await original.CreateMonitoredItemsAsync([new MonitoredItemRequest(new ReadValueId(fixture.Counter)) { SamplingInterval = 0, QueueSize = 100 }], Token);
        using var dir = new TempDirectory("opcua-other-client");
        using CertificateStore other = CertificateStore.Open(new PkiOptions { Directory = dir.Path, HostName = "localhost" }, SecureServerFixture.ClientUri, "other client");
        other.AddTrusted(fixture.ServerPki.ApplicationCertificate);
        fixture.ServerPki.AddTrusted(other.ApplicationCertificate);
        await using UaSession stranger = await UaSession.ConnectAsync(Url, fixture.Options(MessageSecurityMode.SignAndEncrypt, pki: other), cancellationToken: Token);
        await using UaSession second = await UaSession.ConnectAsync(Url, options, cancellationToken: Token);

        SubscriptionTransferResult refused = Assert.Single(await stranger.TransferSubscriptionsAsync([original], cancellationToken: Token));
        SubscriptionTransferResult moved = Assert.Single(await second.TransferSubscriptionsAsync([original], cancellationToken: Token));
        SubscriptionTransferResult refusedAgain = Assert.Single(await stranger.TransferSubscriptionsAsync([original], cancellationToken: Token));

        Assert.Equal(StatusCode.BadUserAccessDenied, refused.Status.CodeBits);
        Assert.True(moved.Status.IsGood, moved.Status.ToString());
        Assert.Equal(StatusCode.BadUserAccessDenied, refusedAgain.Status.CodeBits);
        const int Value = 7_000;
        bool written = false;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(Token);
        deadline.CancelAfter(s_deadline);
        await foreach (SubscriptionMessage message in moved.Subscription!.Messages.ReadAllAsync(deadline.Token))
        {
            long[] values = [.. message.DataChanges.Select(n => n.Value.Value.TryGetInt64(out long v) ? v : -1)];
            if (values.Contains(Value))
            {
                break;
            }

            if (!written && values.Length > 0)
            {
                // The current value came first (SendInitialValues); a change now reaches the new session.
                fixture.Server.AddressSpace.SetValue(fixture.Counter, new Variant(Value), DateTime.UtcNow);
                written = true;
            }
        }

        Assert.True(written);
        Assert.Null(second.PublishFault);
    }

    // ---- node-opcua's client ----

    private string[] NodeArguments(MessageSecurityMode mode, (string Certificate, string Key) certificate, params string[] extra) =>
    [
        "opcua-client.mjs", "--endpoint", Url, "--pki", fixture.NodeClientPki,
        "--security", $"Basic256Sha256:{mode}", "--certificate", certificate.Certificate, "--key", certificate.Key,
        "--application-uri", SecureServerFixture.NodeClientUri, .. extra,
    ];

    private static ServerProcess StartNode(string[] arguments)
    {
        Prerequisites.PeerModule("node-opcua");
        return ServerProcess.Start("opcua-client", Prerequisites.Node, arguments, RepositoryLayout.PeersDirectory);
    }

    private static List<JsonElement> Events(string output) =>
        output.Split('\n').Select(l => l.Trim()).Where(l => l.StartsWith("{\"event\"", StringComparison.Ordinal))
            .Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();

    [Theory]
    [InlineData(MessageSecurityMode.Sign)]
    [InlineData(MessageSecurityMode.SignAndEncrypt)]
    public async Task Node_client_logs_in_browses_reads_and_subscribes_over_Basic256Sha256(MessageSecurityMode mode)
    {
        const int Changes = 5;
        int first = 10_000 * (int)mode;
        fixture.Server.AddressSpace.SetValue(fixture.Counter, new Variant(first), DateTime.UtcNow);
        string counter = string.Create(CultureInfo.InvariantCulture, $"ns={fixture.Counter.NamespaceIndex};i={fixture.Counter.NumericIdentifier}");
        if (fixture.Counter.IdType == NodeIdType.String)
        {
            counter = string.Create(CultureInfo.InvariantCulture, $"ns={fixture.Counter.NamespaceIndex};s={fixture.Counter.StringIdentifier}");
        }

        await using ServerProcess client = StartNode(NodeArguments(mode, fixture.TrustedNodeClient,
            "--user", $"{SecureServerFixture.UserName}:{SecureServerFixture.Password}", "--browse", "i=85", "--read", "i=2255",
            "--subscribe", counter, "--count", (Changes + 1).ToString(CultureInfo.InvariantCulture)));
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(Token);
        deadline.CancelAfter(s_nodeDeadline);
        try
        {
            await client.WaitForLineAsync(l => l.Contains("\"event\":\"subscribed\"", StringComparison.Ordinal) || l.Contains("\"event\":\"error\"", StringComparison.Ordinal), deadline.Token);
        }
        catch (OperationCanceledException) when (!Token.IsCancellationRequested)
        {
            throw new TimeoutException($"node-opcua did not subscribe within {s_nodeDeadline.TotalSeconds} s.{Environment.NewLine}{client.Describe()}");
        }

        for (int i = 1; i <= Changes; i++)
        {
            fixture.Server.AddressSpace.SetValue(fixture.Counter, new Variant(first + i), DateTime.UtcNow.AddMilliseconds(i));
        }

        await client.Exited.WaitAsync(s_nodeDeadline, Token);
        List<JsonElement> events = Events(client.Output);
        Assert.True(client.ExitCode == 0, client.Describe());
        JsonElement session = Assert.Single(events, e => e.GetProperty("event").GetString() == "session");
        Assert.Equal(mode.ToString(), session.GetProperty("securityMode").GetString());
        Assert.Equal(UaSecurityPolicy.Basic256Sha256Uri, session.GetProperty("securityPolicy").GetString());
        JsonElement browse = Assert.Single(events, e => e.GetProperty("event").GetString() == "browse");
        Assert.Contains(browse.GetProperty("references").EnumerateArray(), r => r.GetProperty("browseName").GetString() == "Server");
        JsonElement read = Assert.Single(events, e => e.GetProperty("event").GetString() == "read");
        Assert.Equal("Good", read.GetProperty("status").GetString());
        Assert.Contains(UaAddressSpace.UaNamespace, read.GetProperty("value").EnumerateArray().Select(v => v.GetString()));
        int[] values = events.Where(e => e.GetProperty("event").GetString() == "change").Select(e => e.GetProperty("value").GetInt32()).ToArray();
        Assert.Equal(Enumerable.Range(first, Changes + 1), values);
    }

    [Fact]
    public async Task Node_client_with_an_untrusted_certificate_is_refused_and_its_certificate_lands_in_rejected()
    {
        long rejectedBefore = fixture.Server.CertificatesRejected;

        await using ServerProcess client = StartNode(NodeArguments(MessageSecurityMode.SignAndEncrypt, (fixture.UntrustedNodeClient.Certificate, fixture.UntrustedNodeClient.Key), "--read", "i=2255"));
        await client.Exited.WaitAsync(s_nodeDeadline, Token);

        List<JsonElement> events = Events(client.Output);
        Assert.Equal(1, client.ExitCode);
        Assert.DoesNotContain(events, e => e.GetProperty("event").GetString() == "session");
        JsonElement error = Assert.Single(events, e => e.GetProperty("event").GetString() == "error");
        // node-opcua reports the Error (BadSecurityChecksFailed) that closed the socket during OpenSecureChannel this way.
        Assert.Contains("rejected by server", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.True(fixture.Server.CertificatesRejected > rejectedBefore, client.Describe());
        Assert.True(File.Exists(Path.Combine(fixture.ServerPki.RejectedDirectory, fixture.UntrustedNodeClient.Thumbprint + ".der")), client.Describe());
    }
}
