using System.Globalization;
using System.Net;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using FactoryGateway.Mqtt.Client;
using FactoryGateway.Mqtt.Packets;
using FactoryGateway.Testing;

namespace FactoryGateway.Mqtt.Tests.Client;

/// <summary>MQTT over TLS (SslStream) to a mosquitto TLS listener with a certificate from a test CA.</summary>
public sealed class TlsTests : IAsyncLifetime
{
    private static readonly TimeSpan s_deadline = TimeSpan.FromSeconds(30);

    private readonly TempDirectory _dir = new("mqtt-tls");
    private X509Certificate2? _ca;
    private MosquittoServer? _broker;
    private int _tlsPort;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        DateTimeOffset now = DateTimeOffset.UtcNow;
        using var caKey = RSA.Create(2048);
        var caRequest = new CertificateRequest("CN=FactoryGateway test CA", caKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        _ca = caRequest.CreateSelfSigned(now.AddDays(-1), now.AddDays(1));

        using var serverKey = RSA.Create(2048);
        var serverRequest = new CertificateRequest("CN=127.0.0.1", serverKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        serverRequest.CertificateExtensions.Add(names.Build());
        serverRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        serverRequest.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        using X509Certificate2 server = serverRequest.Create(_ca, now.AddDays(-1), now.AddDays(1), [1, 2, 3, 4]);
        await File.WriteAllTextAsync(_dir.Combine("server.crt"), server.ExportCertificatePem(), Ct);
        await File.WriteAllTextAsync(_dir.Combine("server.key"), serverKey.ExportPkcs8PrivateKeyPem(), Ct);

        _tlsPort = FreeTcpPort.Next();
        string tls = string.Create(CultureInfo.InvariantCulture, $"listener {_tlsPort} {MosquittoServer.Host}\ncertfile {_dir.Combine("server.crt")}\nkeyfile {_dir.Combine("server.key")}");
        _broker = MosquittoServer.WithConfiguration(tls);
        await _broker.InitializeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (_broker is not null)
        {
            await _broker.DisposeAsync();
        }

        _ca?.Dispose();
        _dir.Dispose();
    }

    [Fact]
    public async Task A_client_that_trusts_the_ca_publishes_and_receives_over_tls()
    {
        var collector = new MessageCollector();
        await using var client = new MqttClient(Options(trustTestCa: true), collector.HandleAsync);
        await client.StartAsync(Ct);
        await client.SubscribeAsync([new MqttSubscription("tls/#", MqttQos.AtLeastOnce)], Ct);

        for (int i = 0; i < 100; i++)
        {
            MqttPublishResult result = await client.PublishAsync(new MqttApplicationMessage { Topic = "tls/a", Qos = MqttQos.AtLeastOnce, Payload = Encoding.UTF8.GetBytes($"m{i}") }, Ct);
            Assert.Equal(MqttPublishOutcome.Acknowledged, result.Outcome);
        }

        await collector.WaitForAsync(100, s_deadline, Ct);
        Assert.Equal(Enumerable.Range(0, 100).Select(i => $"m{i}"), collector.Payloads);
    }

    [Fact]
    public async Task A_client_that_does_not_trust_the_servers_certificate_never_connects()
    {
        await using var client = new MqttClient(Options(trustTestCa: false));
        using var giveUp = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        giveUp.CancelAfter(TimeSpan.FromSeconds(2));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.StartAsync(giveUp.Token));

        Assert.True(client.GetStats().ConnectFailures >= 1);
        Assert.Equal(0, client.GetStats().Connects);
    }

    private MqttClientOptions Options(bool trustTestCa) => new()
    {
        Host = MosquittoServer.Host,
        Port = _tlsPort,
        ClientId = $"fgw-tls-{Guid.NewGuid():N}",
        ReconnectInitialDelay = TimeSpan.FromMilliseconds(50),
        ReconnectMaxDelay = TimeSpan.FromMilliseconds(200),
        Tls = new SslClientAuthenticationOptions
        {
            TargetHost = MosquittoServer.Host,
            CertificateChainPolicy = trustTestCa
                ? new X509ChainPolicy { TrustMode = X509ChainTrustMode.CustomRootTrust, RevocationMode = X509RevocationMode.NoCheck, CustomTrustStore = { _ca! } }
                : null,
        },
    };
}
