using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using FactoryGateway.OpcUa.Client;
using FactoryGateway.OpcUa.Encoding;
using FactoryGateway.OpcUa.Pki;
using FactoryGateway.OpcUa.Services;
using FactoryGateway.OpcUa.Transport;
using FactoryGateway.OpcUa.Transport.Security;
using FactoryGateway.Testing;

namespace FactoryGateway.OpcUa.Tests;

/// <summary>
/// node-opcua with a user (<c>--users</c>) and its secure endpoints, its application certificate
/// issued by a test CA (SubjectAltName: its ApplicationUri and the IP address 127.0.0.1, no DNS name),
/// and a client PKI in a temporary directory whose trust list holds that CA, not the server's certificate.
/// </summary>
public sealed class SecureNodeOpcUaServer : IAsyncLifetime
{
    public const string UserName = "operator";
    public const string Password = "line-7-secret";
    public const string ApplicationUri = "urn:factorygateway:test-client";
    public const string ServerUri = "urn:factorygateway:node-test-server";

    private readonly TempDirectory _dir = new("opcua-client-pki");

    public SecureNodeOpcUaServer()
    {
        DateTimeOffset now = DateTimeOffset.UtcNow;
        using RSA caKey = RSA.Create(2048);
        var caRequest = new CertificateRequest("CN=FactoryGateway test CA", caKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        caRequest.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(caRequest.PublicKey, false));
        Ca = caRequest.CreateSelfSigned(now.AddDays(-1), now.AddDays(30));

        using RSA key = RSA.Create(2048);
        var request = new CertificateRequest("CN=FactoryGatewayTestPeer", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddUri(new Uri(ServerUri));
        san.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(
            X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.NonRepudiation | X509KeyUsageFlags.KeyEncipherment | X509KeyUsageFlags.DataEncipherment, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(Ca, true, false));
        using X509Certificate2 leaf = request.Create(Ca, now.AddHours(-1), now.AddDays(10), RandomNumberGenerator.GetBytes(12));
        File.WriteAllText(_dir.Combine("server-cert.pem"), leaf.ExportCertificatePem());
        File.WriteAllText(_dir.Combine("server-key.pem"), key.ExportPkcs8PrivateKeyPem());
        ServerCertificateThumbprint = leaf.Thumbprint;
        Server = new NodeOpcUaServer
        {
            ExtraArguments =
            [
                "--users", $"{UserName}:{Password}",
                "--certificate", _dir.Combine("server-cert.pem"), "--key", _dir.Combine("server-key.pem"), "--application-uri", ServerUri,
            ],
        };
    }

    public NodeOpcUaServer Server { get; }

    /// <summary>The CA that issued the server's certificate (trusted by <see cref="Pki"/>).</summary>
    public X509Certificate2 Ca { get; }

    public string ServerCertificateThumbprint { get; }

    public CertificateStore Pki { get; private set; } = null!;

    /// <summary>A user certificate for X.509 logins (with its private key).</summary>
    public X509Certificate2 UserCertificate { get; private set; } = null!;

    public TempDirectory Directory => _dir;

    public async ValueTask InitializeAsync()
    {
        await Server.InitializeAsync();
        Pki = CertificateStore.Open(new PkiOptions { Directory = _dir.Combine("pki"), HostName = "localhost" }, ApplicationUri, "FactoryGateway test client");
        Pki.AddTrusted(Ca);
        UserCertificate = CertificateStore.CreateApplicationCertificate("urn:factorygateway:test-user", "line operator", "localhost", 2048, DateTimeOffset.UtcNow, TimeSpan.FromDays(1));
    }

    public UaSessionOptions Options(string policyUri, MessageSecurityMode mode, UserIdentity? identity = null, CertificateStore? pki = null) => new()
    {
        SecurityPolicyUri = policyUri,
        SecurityMode = mode,
        Pki = pki ?? Pki,
        ApplicationUri = ApplicationUri,
        Identity = identity ?? UserIdentity.Anonymous,
    };

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync();
        Pki?.Dispose();
        UserCertificate?.Dispose();
        Ca.Dispose();
        _dir.Dispose();
    }
}

/// <summary>Our client against node-opcua's secure endpoints: every policy and mode, the three logins, subscriptions, renewal, trust and tampering.</summary>
public sealed class SecureInteropTests(SecureNodeOpcUaServer fixture) : IClassFixture<SecureNodeOpcUaServer>
{
    private static readonly TimeSpan s_deadline = TimeSpan.FromSeconds(20);

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private string Url => fixture.Server.EndpointUrl;

    [Theory]
    [InlineData(UaSecurityPolicy.Basic256Sha256Uri, MessageSecurityMode.Sign)]
    [InlineData(UaSecurityPolicy.Basic256Sha256Uri, MessageSecurityMode.SignAndEncrypt)]
    [InlineData(UaSecurityPolicy.Aes128Sha256RsaOaepUri, MessageSecurityMode.Sign)]
    [InlineData(UaSecurityPolicy.Aes128Sha256RsaOaepUri, MessageSecurityMode.SignAndEncrypt)]
    [InlineData(UaSecurityPolicy.Aes256Sha256RsaPssUri, MessageSecurityMode.Sign)]
    [InlineData(UaSecurityPolicy.Aes256Sha256RsaPssUri, MessageSecurityMode.SignAndEncrypt)]
    public async Task An_anonymous_session_reads_over_every_policy_and_mode(string policyUri, MessageSecurityMode mode)
    {
        await using UaSession session = await UaSession.ConnectAsync(Url, fixture.Options(policyUri, mode), cancellationToken: Token);

        ServerStatus status = await session.ReadServerStatusAsync(Token);
        IReadOnlyList<string> namespaces = await session.ReadNamespaceArrayAsync(Token);

        Assert.Equal(ServerState.Running, status.State);
        Assert.Equal("http://opcfoundation.org/UA/", namespaces[0]);
        Assert.Equal(policyUri, session.Channel.SecurityPolicyUri);
        Assert.Equal(mode == MessageSecurityMode.SignAndEncrypt, session.Channel.Security!.Encrypt);
    }

    [Fact]
    public async Task SecurityPolicy_None_still_works_beside_the_secure_endpoints()
    {
        await using UaSession session = await UaSession.ConnectAsync(Url, new UaSessionOptions(), cancellationToken: Token);

        Assert.Equal(ServerState.Running, (await session.ReadServerStatusAsync(Token)).State);
        Assert.Null(session.Channel.Security);
    }

    [Theory]
    [InlineData(UaSecurityPolicy.Basic256Sha256Uri, MessageSecurityMode.Sign)]
    [InlineData(UaSecurityPolicy.Basic256Sha256Uri, MessageSecurityMode.SignAndEncrypt)]
    [InlineData(UaSecurityPolicy.Aes128Sha256RsaOaepUri, MessageSecurityMode.SignAndEncrypt)]
    [InlineData(UaSecurityPolicy.Aes256Sha256RsaPssUri, MessageSecurityMode.SignAndEncrypt)]
    public async Task A_user_name_login_works_and_a_wrong_password_is_refused(string policyUri, MessageSecurityMode mode)
    {
        UaSessionOptions good = fixture.Options(policyUri, mode, UserIdentity.FromUserName(SecureNodeOpcUaServer.UserName, SecureNodeOpcUaServer.Password));
        await using (UaSession session = await UaSession.ConnectAsync(Url, good, cancellationToken: Token))
        {
            Assert.Equal(ServerState.Running, (await session.ReadServerStatusAsync(Token)).State);
        }

        UaSessionOptions bad = fixture.Options(policyUri, mode, UserIdentity.FromUserName(SecureNodeOpcUaServer.UserName, "wrong"));
        UaServiceException error = await Assert.ThrowsAsync<UaServiceException>(() => UaSession.ConnectAsync(Url, bad, cancellationToken: Token));
        TestContext.Current.TestOutputHelper?.WriteLine(error.Message);
        Assert.True(error.Status.IsBad);
        Assert.DoesNotContain("wrong", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(UaSecurityPolicy.Basic256Sha256Uri, MessageSecurityMode.SignAndEncrypt)]
    [InlineData(UaSecurityPolicy.Aes128Sha256RsaOaepUri, MessageSecurityMode.Sign)]
    [InlineData(UaSecurityPolicy.Aes256Sha256RsaPssUri, MessageSecurityMode.SignAndEncrypt)]
    public async Task An_X509_user_logs_in_with_a_signature_from_its_key(string policyUri, MessageSecurityMode mode)
    {
        UaSessionOptions options = fixture.Options(policyUri, mode, UserIdentity.FromCertificate(fixture.UserCertificate));

        await using UaSession session = await UaSession.ConnectAsync(Url, options, cancellationToken: Token);

        Assert.Equal(ServerState.Running, (await session.ReadServerStatusAsync(Token)).State);
    }

    [Fact]
    public async Task A_subscription_delivers_over_an_encrypted_channel_across_token_renewals()
    {
        UaSessionOptions options = fixture.Options(UaSecurityPolicy.Aes256Sha256RsaPssUri, MessageSecurityMode.SignAndEncrypt);
        await using UaSession session = await UaSession.ConnectAsync(Url, options, cancellationToken: Token);
        UaSubscription subscription = await session.CreateSubscriptionAsync(new UaSubscriptionOptions { PublishingInterval = 100 }, Token);
        await subscription.CreateMonitoredItemsAsync(
            [new MonitoredItemRequest(new ReadValueId(new NodeId("TestMachine.PartsTotal", 1))) { SamplingInterval = 100 }], Token);

        var values = new List<long>();
        uint firstToken = session.Channel.TokenId;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(Token);
        deadline.CancelAfter(s_deadline);
        await foreach (SubscriptionMessage message in subscription.Messages.ReadAllAsync(deadline.Token))
        {
            foreach (MonitoredItemNotification n in message.DataChanges)
            {
                Assert.True(n.Value.Value.TryGetInt64(out long v));
                values.Add(v);
            }

            // Renew twice while Publish requests are outstanding: the keys change under live traffic.
            if (values.Count is 3 or 6 && session.Channel.Renewals < values.Count / 3)
            {
                await session.Channel.RenewAsync(Token);
            }

            if (values.Count >= 9)
            {
                break;
            }
        }

        Assert.Equal(2, session.Channel.Renewals);
        Assert.NotEqual(firstToken, session.Channel.TokenId);
        Assert.Equal(values.Order(), values);
        Assert.Equal(0, subscription.MissedMessages);
        Assert.Null(session.PublishFault);
        Assert.Equal(ServerState.Running, (await session.ReadServerStatusAsync(Token)).State);
    }

    [Fact]
    public async Task An_anonymous_subscription_transfers_to_a_new_session_on_a_SignAndEncrypt_channel_with_the_same_certificate()
    {
        // node-opcua refuses anonymous transfers on an unsecured channel; on a secure one the same client certificate identifies the owner.
        UaSessionOptions options = fixture.Options(UaSecurityPolicy.Basic256Sha256Uri, MessageSecurityMode.SignAndEncrypt);
        await using UaSession first = await UaSession.ConnectAsync(Url, options, cancellationToken: Token);
        UaSubscription original = await first.CreateSubscriptionAsync(new UaSubscriptionOptions { PublishingInterval = 100 }, Token);
        await original.CreateMonitoredItemsAsync([new MonitoredItemRequest(new ReadValueId(new NodeId("TestMachine.PartsTotal", 1))) { SamplingInterval = 100 }], Token);
        await using UaSession second = await UaSession.ConnectAsync(Url, options, cancellationToken: Token);

        IReadOnlyList<SubscriptionTransferResult> results = await second.TransferSubscriptionsAsync([original], cancellationToken: Token);

        SubscriptionTransferResult result = Assert.Single(results);
        Assert.True(result.Status.IsGood, result.Status.ToString());
        Assert.Equal(original.Id, result.Subscription!.Id);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(Token);
        deadline.CancelAfter(s_deadline);
        await foreach (SubscriptionMessage message in result.Subscription.Messages.ReadAllAsync(deadline.Token))
        {
            if (message.DataChanges.Count > 0)
            {
                Assert.True(message.DataChanges[0].Value.Value.TryGetInt64(out _));
                break;
            }
        }

        Assert.NotEqual(first.Channel.ChannelId, second.Channel.ChannelId);
        Assert.Null(second.PublishFault);
    }

    [Fact]
    public async Task A_large_Read_is_chunked_both_ways_under_encryption()
    {
        UaSessionOptions options = fixture.Options(UaSecurityPolicy.Basic256Sha256Uri, MessageSecurityMode.SignAndEncrypt);
        options.MaxNodesPerCall = 5000;
        await using UaSession session = await UaSession.ConnectAsync(Url, options, cancellationToken: Token);
        ReadValueId[] nodes = Enumerable.Range(0, 3000)
            .Select(i => i % 2 == 0 ? new ReadValueId(WellKnownNodes.ServerNamespaceArray) : new ReadValueId(new NodeId($"Unknown.{i:D6}.padding-to-make-it-longer", 1)))
            .ToArray();

        IReadOnlyList<DataValue> values = await session.ReadAsync(nodes, cancellationToken: Token);

        Assert.Equal(3000, values.Count);
        Assert.All(values.Where((_, i) => i % 2 == 0), v => Assert.IsType<string?[]>(v.Value.Value));
        Assert.All(values.Where((_, i) => i % 2 == 1), v => Assert.Equal(StatusCode.BadNodeIdUnknown, v.Status.CodeBits));
    }

    [Fact]
    public async Task An_untrusted_server_is_refused_and_rejected_until_the_operator_trusts_it()
    {
        using var dir = new TempDirectory("opcua-untrusted");
        using CertificateStore pki = CertificateStore.Open(new PkiOptions { Directory = dir.Combine("pki"), HostName = "localhost" }, SecureNodeOpcUaServer.ApplicationUri, "test client");
        UaSessionOptions options = fixture.Options(UaSecurityPolicy.Basic256Sha256Uri, MessageSecurityMode.SignAndEncrypt, pki: pki);

        UaServiceException refused = await Assert.ThrowsAsync<UaServiceException>(() => UaSession.ConnectAsync(Url, options, cancellationToken: Token));

        TestContext.Current.TestOutputHelper?.WriteLine(refused.Message);
        Assert.Equal(StatusCode.BadCertificateUntrusted, refused.Status.CodeBits);
        X509Certificate2Collection rejected = pki.GetRejected();
        X509Certificate2 serverCertificate = Assert.Single(rejected);
        Assert.Contains(serverCertificate.Thumbprint, refused.Message, StringComparison.Ordinal);
        Assert.True(pki.Trust(serverCertificate.Thumbprint.ToLowerInvariant()));
        serverCertificate.Dispose();

        Assert.Empty(Directory.EnumerateFiles(pki.RejectedDirectory));
        await using UaSession session = await UaSession.ConnectAsync(Url, options, cancellationToken: Token);
        Assert.Equal(ServerState.Running, (await session.ReadServerStatusAsync(Token)).State);
    }

    [Fact]
    public async Task The_server_certificate_is_trusted_through_its_CA_and_names_the_endpoint_IP_address()
    {
        await using UaSession session = await UaSession.ConnectAsync(Url, fixture.Options(UaSecurityPolicy.Basic256Sha256Uri, MessageSecurityMode.Sign), cancellationToken: Token);

        Assert.Equal(fixture.ServerCertificateThumbprint, session.Channel.Security!.ServerCertificate.Thumbprint);
        Assert.False(File.Exists(Path.Combine(fixture.Pki.TrustedDirectory, fixture.ServerCertificateThumbprint + ".der")));
        Assert.Empty(Directory.EnumerateFiles(fixture.Pki.RejectedDirectory));
    }

    [Fact]
    public async Task A_host_name_the_server_certificate_does_not_name_is_refused_unless_explicitly_allowed()
    {
        // The certificate names 127.0.0.1 only: "localhost" reaches the same server under a name it does not carry.
        string byName = Url.Replace("127.0.0.1", "localhost", StringComparison.Ordinal);
        UaSessionOptions options = fixture.Options(UaSecurityPolicy.Basic256Sha256Uri, MessageSecurityMode.SignAndEncrypt);

        UaServiceException refused = await Assert.ThrowsAsync<UaServiceException>(() => UaSession.ConnectAsync(byName, options, cancellationToken: Token));
        options.AllowHostNameMismatch = true;
        await using UaSession session = await UaSession.ConnectAsync(byName, options, cancellationToken: Token);

        Assert.Equal(StatusCode.BadCertificateHostNameInvalid, refused.Status.CodeBits);
        Assert.Contains("'localhost'", refused.Message, StringComparison.Ordinal);
        Assert.Equal(ServerState.Running, (await session.ReadServerStatusAsync(Token)).State);
    }

    [Fact]
    public async Task A_server_certificate_from_a_CA_the_client_does_not_trust_is_refused()
    {
        using var dir = new TempDirectory("opcua-other-ca");
        using CertificateStore pki = CertificateStore.Open(new PkiOptions { Directory = dir.Combine("pki"), HostName = "localhost" }, SecureNodeOpcUaServer.ApplicationUri, "test client");
        using RSA otherKey = RSA.Create(2048);
        using X509Certificate2 otherCa = new CertificateRequest("CN=Another plant CA", otherKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)
            .CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        pki.AddTrusted(otherCa);

        UaServiceException refused = await Assert.ThrowsAsync<UaServiceException>(() =>
            UaSession.ConnectAsync(Url, fixture.Options(UaSecurityPolicy.Basic256Sha256Uri, MessageSecurityMode.Sign, pki: pki), cancellationToken: Token));

        Assert.Equal(StatusCode.BadCertificateUntrusted, refused.Status.CodeBits);
        Assert.Single(Directory.EnumerateFiles(pki.RejectedDirectory));
    }

    [Fact]
    public async Task Auto_accept_trusts_an_unknown_server_only_when_asked()
    {
        using var dir = new TempDirectory("opcua-autoaccept");
        using CertificateStore pki = CertificateStore.Open(
            new PkiOptions { Directory = dir.Combine("pki"), HostName = "localhost", AutoAcceptUntrusted = true }, SecureNodeOpcUaServer.ApplicationUri, "test client");

        await using UaSession session = await UaSession.ConnectAsync(Url, fixture.Options(UaSecurityPolicy.Aes128Sha256RsaOaepUri, MessageSecurityMode.SignAndEncrypt, pki: pki), cancellationToken: Token);

        X509Certificate2Collection trusted = pki.GetTrusted();
        Assert.Single(trusted);
        Assert.Empty(Directory.EnumerateFiles(pki.RejectedDirectory));
        foreach (X509Certificate2 c in trusted)
        {
            c.Dispose();
        }
    }

    [Fact]
    public async Task The_application_certificate_is_created_once_and_reused()
    {
        string own = fixture.Pki.OwnDirectory;
        using CertificateStore again = CertificateStore.Open(new PkiOptions { Directory = fixture.Directory.Combine("pki") }, SecureNodeOpcUaServer.ApplicationUri, "FactoryGateway test client");

        Assert.Equal(fixture.Pki.ApplicationCertificate.Thumbprint, again.ApplicationCertificate.Thumbprint);
        Assert.True(again.ApplicationCertificate.HasPrivateKey);
        Assert.Equal(SecureNodeOpcUaServer.ApplicationUri, again.ApplicationUri);
        Assert.Equal(2048, again.ApplicationCertificate.GetRSAPublicKey()!.KeySize);
        Assert.True(File.Exists(Path.Combine(own, "certificate.der")));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(own, "private.pem")));
        }

        await Task.CompletedTask;
    }

    [Fact]
    public void Secure_options_without_a_PKI_or_with_a_mismatched_mode_are_refused()
    {
        Assert.Throws<ArgumentException>(() => new UaSessionOptions { SecurityPolicyUri = UaSecurityPolicy.Basic256Sha256Uri, SecurityMode = MessageSecurityMode.Sign }.Validate());
        Assert.Throws<ArgumentException>(() => new UaSessionOptions { SecurityMode = MessageSecurityMode.Sign }.Validate());
        Assert.Throws<ArgumentException>(() => new UaSessionOptions { SecurityPolicyUri = "http://opcfoundation.org/UA/SecurityPolicy#Basic128Rsa15", SecurityMode = MessageSecurityMode.Sign, Pki = fixture.Pki }.Validate());
        Assert.Throws<ArgumentException>(() => fixture.Options(UaSecurityPolicy.Basic256Sha256Uri, MessageSecurityMode.Sign) is var o && (o.ApplicationUri = "urn:other") is not null ? o.Validate() : null);
    }

    [Theory]
    [InlineData(20)]    // the encrypted sequence header
    [InlineData(100)]   // the body
    [InlineData(-1)]    // the signature's last byte
    [InlineData(13)]    // the token id
    public async Task A_tampered_encrypted_chunk_fails_the_call_with_a_status(int offset)
    {
        await using var relay = new TamperingRelay(fixture.Server.Port);
        string url = Url.Replace($":{fixture.Server.Port}/", $":{relay.Port}/", StringComparison.Ordinal);
        UaSessionOptions options = fixture.Options(UaSecurityPolicy.Basic256Sha256Uri, MessageSecurityMode.SignAndEncrypt);
        options.Channel = new UaChannelOptions { RequestTimeout = TimeSpan.FromSeconds(5) };
        await using UaSession session = await UaSession.ConnectAsync(url, options, cancellationToken: Token);
        Assert.Equal(ServerState.Running, (await session.ReadServerStatusAsync(Token)).State);

        relay.TamperNextMessage(offset);
        UaServiceException error = await Assert.ThrowsAsync<UaServiceException>(() => session.ReadServerStatusAsync(Token));

        TestContext.Current.TestOutputHelper?.WriteLine($"offset {offset}: {error.Message}");
        Assert.Equal(1, relay.Tampered);
        Assert.Contains(error.Status.CodeBits, new uint[] { StatusCode.BadSecurityChecksFailed, StatusCode.BadSecureChannelTokenUnknown });
        UaServiceException after = await Assert.ThrowsAsync<UaServiceException>(() => session.ReadServerStatusAsync(Token));
        Assert.True(after.Status.IsBad);
    }

    /// <summary>
    /// Relays every connection to the server unchanged, except that once armed it flips one bit at a
    /// given offset of the next MSG chunk from the server (negative offsets count from the chunk's end).
    /// </summary>
    private sealed class TamperingRelay : IAsyncDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _accepting;
        private readonly List<Task> _connections = [];
        private const int Disarmed = int.MinValue;
        private int _armedOffset = Disarmed;
        private int _tampered;

        public TamperingRelay(int serverPort)
        {
            _listener.Start();
            _accepting = AcceptAsync(serverPort);
        }

        public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

        public int Tampered => Volatile.Read(ref _tampered);

        public void TamperNextMessage(int offset) => Volatile.Write(ref _armedOffset, offset);

        private async Task AcceptAsync(int serverPort)
        {
            try
            {
                while (true)
                {
                    TcpClient client = await _listener.AcceptTcpClientAsync(_stop.Token);
                    lock (_connections)
                    {
                        _connections.Add(RelayAsync(client, serverPort));
                    }
                }
            }
            catch (Exception ex) when (ex is SocketException or OperationCanceledException or ObjectDisposedException)
            {
            }
        }

        private async Task RelayAsync(TcpClient client, int serverPort)
        {
            using (client)
            using (var upstream = new TcpClient())
            {
                try
                {
                    await upstream.ConnectAsync(IPAddress.Loopback, serverPort, _stop.Token);
                    Task up = client.GetStream().CopyToAsync(upstream.GetStream(), _stop.Token);
                    Task down = CopyChunksAsync(upstream.GetStream(), client.GetStream());
                    await Task.WhenAny(up, down);
                }
                catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
                {
                }
            }
        }

        private async Task CopyChunksAsync(NetworkStream from, NetworkStream to)
        {
            byte[] header = new byte[8];
            try
            {
                while (true)
                {
                    await from.ReadExactlyAsync(header, _stop.Token);
                    int size = BitConverter.ToInt32(header, 4);
                    byte[] chunk = new byte[size];
                    header.CopyTo(chunk, 0);
                    await from.ReadExactlyAsync(chunk.AsMemory(8), _stop.Token);
                    if (chunk[0] == 'M' && chunk[1] == 'S' && chunk[2] == 'G' && Interlocked.Exchange(ref _armedOffset, Disarmed) is int offset && offset != Disarmed)
                    {
                        chunk[offset < 0 ? size + offset : offset] ^= 0x04;
                        Interlocked.Increment(ref _tampered);
                    }

                    await to.WriteAsync(chunk, _stop.Token);
                }
            }
            catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException or EndOfStreamException)
            {
            }
            finally
            {
                to.Socket.Shutdown(SocketShutdown.Both);
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            _listener.Stop();
            await _accepting;
            Task[] connections;
            lock (_connections)
            {
                connections = [.. _connections];
            }

            await Task.WhenAll(connections);
            _stop.Dispose();
        }
    }
}
