using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using FactoryGateway.OpcUa.Client;
using FactoryGateway.OpcUa.Encoding;
using FactoryGateway.OpcUa.Pki;
using FactoryGateway.OpcUa.Server;
using FactoryGateway.OpcUa.Services;
using FactoryGateway.OpcUa.Transport.Security;
using FactoryGateway.Testing;

namespace FactoryGateway.OpcUa.Tests.Server;

/// <summary>
/// Our server offering Basic256Sha256 (Sign, SignAndEncrypt) beside None, with its own PKI in a
/// temporary directory; a client PKI for our client whose certificate the server trusts (and which
/// trusts the server's); PEM files of a trusted and an untrusted certificate for node-opcua's client.
/// </summary>
public sealed class SecureServerFixture : IAsyncLifetime
{
    public const string UserName = "operator";
    public const string Password = "line-7-secret";
    public const string ClientUri = "urn:factorygateway:test-client";
    public const string NodeClientUri = "urn:factorygateway:node-test-client";

    private readonly TempDirectory _dir = new("opcua-secure-server");

    public UaServer Server { get; private set; } = null!;

    public CertificateStore ServerPki { get; private set; } = null!;

    public CertificateStore ClientPki { get; private set; } = null!;

    public NodeId Counter { get; private set; } = null!;

    public string EndpointUrl => Server.EndpointUrl;

    /// <summary>node-opcua's client PKI folder (its trust list of servers).</summary>
    public string NodeClientPki => _dir.Combine("node-client-pki");

    /// <summary>A client certificate the server trusts, as PEM files for node-opcua: certificate and PKCS#8 key.</summary>
    public (string Certificate, string Key) TrustedNodeClient { get; private set; }

    /// <summary>A client certificate the server does not trust.</summary>
    public (string Certificate, string Key, string Thumbprint) UntrustedNodeClient { get; private set; }

    public TempDirectory Directory => _dir;

    public async ValueTask InitializeAsync()
    {
        ServerPki = CertificateStore.Open(new PkiOptions { Directory = _dir.Combine("server-pki"), HostName = "localhost" }, "urn:factorygateway:simulator", "FactoryGateway simulator");
        ClientPki = CertificateStore.Open(new PkiOptions { Directory = _dir.Combine("client-pki"), HostName = "localhost" }, ClientUri, "FactoryGateway test client");
        ClientPki.AddTrusted(ServerPki.ApplicationCertificate);
        ServerPki.AddTrusted(ClientPki.ApplicationCertificate);
        using (X509Certificate2 trusted = CertificateStore.CreateApplicationCertificate(NodeClientUri, "FactoryGatewayTestClient", "localhost", 2048, DateTimeOffset.UtcNow, TimeSpan.FromDays(1)))
        {
            ServerPki.AddTrusted(trusted);
            TrustedNodeClient = WritePem(trusted, "trusted");
        }

        using (X509Certificate2 untrusted = CertificateStore.CreateApplicationCertificate(NodeClientUri, "FactoryGatewayTestClient", "localhost", 2048, DateTimeOffset.UtcNow, TimeSpan.FromDays(1)))
        {
            (string certificate, string key) = WritePem(untrusted, "untrusted");
            UntrustedNodeClient = (certificate, key, untrusted.Thumbprint);
        }

        var options = new UaServerOptions
        {
            UserValidator = static (user, password) => user == UserName && password == Password,
            MinPublishingInterval = TimeSpan.FromMilliseconds(20),
            Pki = ServerPki,
        };
        options.SecurityPolicyUris.Add(UaSecurityPolicy.Basic256Sha256Uri);
        Server = new UaServer(options);
        var model = new MachineryModel(Server.AddressSpace);
        MachineNodes robot = model.AddRobot("Robot1", new MachineNameplate("KUKA", "R-0815", "urn:example:robot:R-0815"));
        Counter = model.AddValue(robot, "Cycles", UaNodeIds.Int32, new Variant(0));
        await Server.StartAsync(TestContext.Current.CancellationToken);
    }

    /// <summary>Session options for our client with the given mode and identity, trusting the server through <paramref name="pki"/> (default: the trusted client PKI).</summary>
    public UaSessionOptions Options(MessageSecurityMode mode, UserIdentity? identity = null, CertificateStore? pki = null, string applicationUri = ClientUri) => new()
    {
        SecurityPolicyUri = UaSecurityPolicy.Basic256Sha256Uri,
        SecurityMode = mode,
        Pki = pki ?? ClientPki,
        ApplicationUri = applicationUri,
        Identity = identity ?? UserIdentity.Anonymous,
    };

    private (string Certificate, string Key) WritePem(X509Certificate2 certificate, string name)
    {
        string certificatePath = _dir.Combine(name + "-cert.pem");
        string keyPath = _dir.Combine(name + "-key.pem");
        File.WriteAllText(certificatePath, certificate.ExportCertificatePem());
        using RSA key = certificate.GetRSAPrivateKey()!;
        File.WriteAllText(keyPath, key.ExportPkcs8PrivateKeyPem());
        return (certificatePath, keyPath);
    }

    public async ValueTask DisposeAsync()
    {
        if (Server is not null)
        {
            await Server.DisposeAsync();
        }

        ServerPki?.Dispose();
        ClientPki?.Dispose();
        _dir.Dispose();
    }
}
