using FactoryGateway.Edge.Config;
using FactoryGateway.Edge.Signals;
using FactoryGateway.Edge.Sources.OpcUa;
using FactoryGateway.OpcUa.Services;
using FactoryGateway.Testing;
using static FactoryGateway.Edge.Tests.OpcUa.RecordingSink;

namespace FactoryGateway.Edge.Tests.OpcUa;

/// <summary>A secure OPC UA source refuses an unknown server certificate until the operator trusts it.</summary>
public sealed class OpcUaTrustTests(MachinesOpcUaServer server) : IClassFixture<MachinesOpcUaServer>
{
    [Fact]
    public async Task An_untrusted_server_is_refused_until_trusted_then_the_identity_carries_its_certificate_thumbprint()
    {
        using var data = new TempDirectory("edge-opcua-trust");
        var options = new OpcUaSourceOptions
        {
            Endpoint = server.EndpointUrl,
            SecurityPolicy = "Basic256Sha256",
            SecurityMode = MessageSecurityMode.SignAndEncrypt,
            AllowHostNameMismatch = true, // node-opcua's self-signed certificate names the machine's host name, not 127.0.0.1
            PublishingInterval = TimeSpan.FromMilliseconds(100),
            Devices = { new OpcUaDeviceOptions { Id = "Mill1" } },
        };
        await using var source = new OpcUaSource(options, data.Path) { InitialRetryDelay = TimeSpan.FromMilliseconds(200), MaxRetryDelay = TimeSpan.FromMilliseconds(500) };
        var sink = new RecordingSink();
        using var stop = new CancellationTokenSource();
        Task run = source.RunAsync(sink, stop.Token);

        await sink.WaitAsync("the connection refused as untrusted", e => e.OfType<ConnectionEvent>().Any(c => !c.Up));
        ConnectionEvent refused = sink.Events.OfType<ConnectionEvent>().First();
        Assert.Contains("BadCertificateUntrusted", refused.Reason, StringComparison.Ordinal);
        OpcUaTrustResult rejected = Assert.Single(OpcUaTrust.ListRejected(data.Path));
        Assert.Throws<ArgumentException>(() => OpcUaTrust.Trust(data.Path, new string('0', 40)));

        OpcUaTrustResult trusted = OpcUaTrust.Trust(data.Path, rejected.Thumbprint.ToLowerInvariant());

        Assert.True(trusted.WasRejected);
        Assert.Empty(OpcUaTrust.ListRejected(data.Path));
        await sink.WaitAsync("the connection up, the identity with the thumbprint and a state", e =>
            e.OfType<ConnectionEvent>().Any(c => c.Up) && e.OfType<IdentityEvent>().Any() && e.OfType<EdgeSample>().Any(s => s.Signal == CanonicalSignals.State));
        await stop.CancelAsync();
        await run;

        DeviceIdentity identity = sink.Events.OfType<IdentityEvent>().First().Identity;
        Assert.Equal((rejected.Thumbprint, "MT-0001"), (identity.CertificateThumbprint, identity.SerialNumber));
    }

    [Fact]
    public void A_certificate_file_is_trusted_directly()
    {
        using var data = new TempDirectory("edge-opcua-trust");
        using var certificate = FactoryGateway.OpcUa.Pki.CertificateStore.CreateApplicationCertificate(
            "urn:test:server", "Test Server", "localhost", 2048, DateTimeOffset.UtcNow, TimeSpan.FromDays(30));
        string file = data.Combine("server.der");
        File.WriteAllBytes(file, certificate.RawData);

        OpcUaTrustResult result = OpcUaTrust.Trust(data.Path, file);

        Assert.Equal((certificate.Thumbprint, false), (result.Thumbprint, result.WasRejected));
        Assert.True(File.Exists(Path.Combine(OpcUaSource.PkiDirectory(data.Path), "trusted", certificate.Thumbprint + ".der")));
    }
}
