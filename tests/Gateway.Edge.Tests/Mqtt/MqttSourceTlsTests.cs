using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using FactoryGateway.Edge.Config;
using FactoryGateway.Mqtt.Client;
using FactoryGateway.Mqtt.Packets;
using FactoryGateway.Testing;

namespace FactoryGateway.Edge.Tests.Mqtt;

/// <summary>The MQTT source over TLS to a mosquitto listener that requires a client certificate from a test CA.</summary>
public sealed class MqttSourceTlsTests : IAsyncLifetime
{
    private readonly TempDirectory _dir = new("edge-mqtt-tls");
    private MosquittoServer? _broker;
    private int _tlsPort;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        DateTimeOffset now = DateTimeOffset.UtcNow;
        // P-256 keys: made in microseconds where RSA 2048 takes a noticeable share of the test.
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest("CN=FactoryGateway edge test CA", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        using X509Certificate2 ca = caRequest.CreateSelfSigned(now.AddDays(-1), now.AddDays(1));
        await File.WriteAllTextAsync(_dir.Combine("ca.crt"), ca.ExportCertificatePem(), Ct);
        await IssueAsync(ca, "server", "CN=127.0.0.1", "1.3.6.1.5.5.7.3.1", now, [1]);
        await IssueAsync(ca, "client", "CN=edge-1", "1.3.6.1.5.5.7.3.2", now, [2]);

        _tlsPort = FreeTcpPort.Next();
        _broker = MosquittoServer.WithConfiguration(string.Create(
            CultureInfo.InvariantCulture,
            $"listener {_tlsPort} {MosquittoServer.Host}\ncertfile {_dir.Combine("server.crt")}\nkeyfile {_dir.Combine("server.key")}\ncafile {_dir.Combine("ca.crt")}\nrequire_certificate true"));
        await _broker.InitializeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (_broker is not null)
        {
            await _broker.DisposeAsync();
        }

        _dir.Dispose();
    }

    [Fact]
    public async Task The_source_connects_with_the_configured_ca_and_client_certificate_and_maps_data()
    {
        string prefix = $"plant{Guid.NewGuid():N}";
        var options = new MqttSourceOptions
        {
            Host = MosquittoServer.Host,
            Port = _tlsPort,
            Tls = new MqttTlsOptions
            {
                Enabled = true,
                CaFile = _dir.Combine("ca.crt"),
                ClientCertificateFile = _dir.Combine("client.crt"),
                ClientKeyFile = _dir.Combine("client.key"),
            },
            Json = { new MqttJsonMappingOptions { Topic = prefix + "/{device}/t", Signals = { ["temperature"] = "t" }, TimestampPath = "ts" } },
        };
        await using MqttSourceRun run = await MqttSourceRun.StartAsync(options, _broker!, Ct);

        // Published on the broker's plain listener; received over TLS.
        await using var publisher = new MqttClient(new MqttClientOptions { Host = MosquittoServer.Host, Port = _broker!.Port, ClientId = $"publisher-{Guid.NewGuid():N}" });
        await publisher.StartAsync(Ct);
        await publisher.PublishAsync(new MqttApplicationMessage { Topic = $"{prefix}/oven/t", Payload = Encoding.UTF8.GetBytes("""{"ts":1700000000000,"t":180.5}"""), Qos = MqttQos.AtLeastOnce }, Ct);

        Assert.Equal(180.5, Assert.Single(await run.Sink.WaitForSamplesAsync("oven", 1, Ct)).Value.AsFloat);
    }

    private async Task IssueAsync(X509Certificate2 ca, string name, string subject, string usage, DateTimeOffset now, byte[] serial)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(usage)], false));
        using X509Certificate2 certificate = request.Create(ca, now.AddDays(-1), now.AddDays(1), serial);
        await File.WriteAllTextAsync(_dir.Combine($"{name}.crt"), certificate.ExportCertificatePem(), Ct);
        await File.WriteAllTextAsync(_dir.Combine($"{name}.key"), key.ExportPkcs8PrivateKeyPem(), Ct);
    }
}
