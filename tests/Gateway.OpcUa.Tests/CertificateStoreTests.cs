using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using FactoryGateway.OpcUa.Encoding;
using FactoryGateway.OpcUa.Pki;
using FactoryGateway.OpcUa.Transport;
using FactoryGateway.Testing;

namespace FactoryGateway.OpcUa.Tests;

/// <summary>The PKI directory's checks of a server certificate: time, ApplicationUri, trust directly or through a CA, rejection and Trust.</summary>
public sealed class CertificateStoreTests : IDisposable
{
    private const string ServerUri = "urn:test:plc-7";
    private readonly TempDirectory _dir = new("opcua-pki");
    private readonly FixedClock _clock = new(DateTimeOffset.UtcNow);

    public void Dispose() => _dir.Dispose();

    private CertificateStore Open(bool autoAccept = false) =>
        CertificateStore.Open(new PkiOptions { Directory = _dir.Combine("pki"), HostName = "edge-01", AutoAcceptUntrusted = autoAccept }, "urn:test:edge", "edge", _clock);

    private X509Certificate2 ServerCertificate(string uri = ServerUri) =>
        CertificateStore.CreateApplicationCertificate(uri, "plc", "plc-7", 2048, _clock.GetUtcNow(), TimeSpan.FromDays(30));

    [Fact]
    public void The_application_certificate_names_the_ApplicationUri_and_host_and_is_RSA_2048_SHA256()
    {
        using CertificateStore store = Open();
        X509Certificate2 own = store.ApplicationCertificate;

        Assert.Equal(["urn:test:edge"], CertificateStore.GetApplicationUris(own));
        Assert.Contains("edge-01", own.Extensions.OfType<X509SubjectAlternativeNameExtension>().Single().EnumerateDnsNames());
        Assert.Equal("1.2.840.113549.1.1.11", own.SignatureAlgorithm.Value); // sha256WithRSAEncryption
        Assert.Equal(2048, own.GetRSAPublicKey()!.KeySize);
        Assert.True(own.HasPrivateKey);
        Assert.True(Directory.Exists(store.TrustedDirectory) && Directory.Exists(store.RejectedDirectory));
    }

    [Fact]
    public void A_certificate_for_another_ApplicationUri_is_replaced()
    {
        string first;
        using (CertificateStore store = Open())
        {
            first = store.ApplicationCertificate.Thumbprint;
        }

        using CertificateStore other = CertificateStore.Open(new PkiOptions { Directory = _dir.Combine("pki") }, "urn:test:renamed", "edge", _clock);

        Assert.NotEqual(first, other.ApplicationCertificate.Thumbprint);
        Assert.Equal("urn:test:renamed", other.ApplicationUri);
    }

    [Fact]
    public void An_untrusted_certificate_is_rejected_saved_and_trusted_by_thumbprint()
    {
        using CertificateStore store = Open();
        using X509Certificate2 server = ServerCertificate();

        UaServiceException error = Assert.Throws<UaServiceException>(() => store.ValidateServerCertificate(server, ServerUri));

        Assert.Equal(StatusCode.BadCertificateUntrusted, error.Status.CodeBits);
        Assert.True(File.Exists(Path.Combine(store.RejectedDirectory, server.Thumbprint + ".der")));
        Assert.False(store.Trust(new string('0', 40)));
        Assert.Throws<ArgumentException>(() => store.Trust("not-a-thumbprint"));
        Assert.True(store.Trust(server.Thumbprint));
        store.ValidateServerCertificate(server, ServerUri);
    }

    [Fact]
    public void Auto_accept_trusts_instead_of_rejecting()
    {
        using CertificateStore store = Open(autoAccept: true);
        using X509Certificate2 server = ServerCertificate();

        store.ValidateServerCertificate(server, ServerUri);

        Assert.True(File.Exists(Path.Combine(store.TrustedDirectory, server.Thumbprint + ".der")));
        Assert.Empty(Directory.EnumerateFiles(store.RejectedDirectory));
    }

    [Fact]
    public void A_trusted_certificate_with_another_ApplicationUri_fails_with_BadCertificateUriInvalid()
    {
        using CertificateStore store = Open();
        using X509Certificate2 server = ServerCertificate("urn:test:someone-else");
        store.AddTrusted(server);

        UaServiceException error = Assert.Throws<UaServiceException>(() => store.ValidateServerCertificate(server, ServerUri));

        Assert.Equal(StatusCode.BadCertificateUriInvalid, error.Status.CodeBits);
    }

    [Fact]
    public void An_expired_or_not_yet_valid_certificate_fails_with_BadCertificateTimeInvalid()
    {
        using CertificateStore store = Open();
        using X509Certificate2 server = ServerCertificate();
        store.AddTrusted(server);

        _clock.Now = _clock.Now.AddDays(31);
        Assert.Equal(StatusCode.BadCertificateTimeInvalid, Assert.Throws<UaServiceException>(() => store.ValidateServerCertificate(server, ServerUri)).Status.CodeBits);
        _clock.Now = _clock.Now.AddDays(-40);
        Assert.Equal(StatusCode.BadCertificateTimeInvalid, Assert.Throws<UaServiceException>(() => store.ValidateServerCertificate(server, ServerUri)).Status.CodeBits);
    }

    [Fact]
    public void A_certificate_issued_by_a_trusted_CA_is_trusted_and_one_from_another_CA_is_not()
    {
        using CertificateStore store = Open();
        using X509Certificate2 ca = CreateCa("CN=Plant CA");
        using X509Certificate2 otherCa = CreateCa("CN=Other CA");
        using X509Certificate2 issued = Issue(ca, ServerUri);
        using X509Certificate2 foreign = Issue(otherCa, ServerUri);
        store.AddTrusted(ca);

        store.ValidateServerCertificate(issued, ServerUri);
        Assert.Equal(StatusCode.BadCertificateUntrusted, Assert.Throws<UaServiceException>(() => store.ValidateServerCertificate(foreign, ServerUri)).Status.CodeBits);
    }

    [Fact]
    public void A_CA_that_is_not_trusted_leaves_its_certificate_untrusted_and_saved_in_rejected()
    {
        using CertificateStore store = Open();
        using X509Certificate2 ca = CreateCa("CN=Plant CA");
        using X509Certificate2 issued = Issue(ca, ServerUri);

        UaServiceException error = Assert.Throws<UaServiceException>(() => store.ValidateServerCertificate(issued, ServerUri, issuers: [ca]));

        Assert.Equal(StatusCode.BadCertificateUntrusted, error.Status.CodeBits);
        Assert.True(File.Exists(Path.Combine(store.RejectedDirectory, issued.Thumbprint + ".der")));
    }

    [Fact]
    public void A_chain_through_an_intermediate_the_server_sends_reaches_the_trusted_root()
    {
        using CertificateStore store = Open();
        using X509Certificate2 root = CreateCa("CN=Plant Root");
        using X509Certificate2 intermediate = IssueCa(root, "CN=Line 7 CA");
        using X509Certificate2 issued = Issue(intermediate, ServerUri);
        store.AddTrusted(root);

        store.ValidateServerCertificate(issued, ServerUri, issuers: [intermediate]);
        Assert.Equal(StatusCode.BadCertificateUntrusted, Assert.Throws<UaServiceException>(() => store.ValidateServerCertificate(issued, ServerUri)).Status.CodeBits);
    }

    [Fact]
    public void An_expired_trusted_CA_refuses_the_certificates_it_issued()
    {
        using CertificateStore store = Open();
        using RSA caKey = RSA.Create(2048);
        using X509Certificate2 ca = CreateCa("CN=Plant CA", caKey, _clock.GetUtcNow().AddDays(-1), _clock.GetUtcNow().AddYears(1));
        using X509Certificate2 expiredCopy = CreateCa("CN=Plant CA", caKey, _clock.GetUtcNow().AddYears(-2), _clock.GetUtcNow().AddDays(-1));
        using X509Certificate2 issued = Issue(ca, ServerUri);
        store.AddTrusted(expiredCopy);

        UaServiceException error = Assert.Throws<UaServiceException>(() => store.ValidateServerCertificate(issued, ServerUri));

        Assert.Equal(StatusCode.BadCertificateIssuerTimeInvalid, error.Status.CodeBits);
        Assert.False(File.Exists(Path.Combine(store.RejectedDirectory, issued.Thumbprint + ".der")));
    }

    [Fact]
    public void A_certificate_signed_by_another_key_under_the_trusted_CA_name_is_refused()
    {
        using CertificateStore store = Open();
        using X509Certificate2 ca = CreateCa("CN=Plant CA");
        using X509Certificate2 impostor = CreateCa("CN=Plant CA");
        using X509Certificate2 forged = Issue(impostor, ServerUri, authorityKeyId: false);
        store.AddTrusted(ca);

        UaServiceException error = Assert.Throws<UaServiceException>(() => store.ValidateServerCertificate(forged, ServerUri));

        Assert.Equal(StatusCode.BadCertificateInvalid, error.Status.CodeBits);
    }

    [Theory]
    [InlineData("plc-7", true)]
    [InlineData("PLC-7", true)]
    [InlineData("10.0.0.7", true)]
    [InlineData("plc-8", false)]
    [InlineData("10.0.0.8", false)]
    [InlineData("localhost", false)]
    public void The_host_name_of_the_endpoint_URL_must_be_in_the_SubjectAltName(string host, bool accepted)
    {
        using CertificateStore store = Open();
        using X509Certificate2 ca = CreateCa("CN=Plant CA");
        using X509Certificate2 issued = Issue(ca, ServerUri, dns: "plc-7", ip: "10.0.0.7");
        store.AddTrusted(ca);

        if (accepted)
        {
            store.ValidateServerCertificate(issued, ServerUri, host);
        }
        else
        {
            Assert.Equal(StatusCode.BadCertificateHostNameInvalid, Assert.Throws<UaServiceException>(() => store.ValidateServerCertificate(issued, ServerUri, host)).Status.CodeBits);
        }
    }

    [Fact]
    public void Options_are_validated()
    {
        Assert.Throws<ArgumentException>(() => new PkiOptions().Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new PkiOptions { Directory = "x", KeySize = 1024 }.Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new PkiOptions { Directory = "x", CertificateLifetime = TimeSpan.Zero }.Validate());
    }

    private X509Certificate2 CreateCa(string name)
    {
        using RSA key = RSA.Create(2048);
        return CreateCa(name, key, _clock.GetUtcNow().AddDays(-1), _clock.GetUtcNow().AddYears(1));
    }

    private static X509Certificate2 CreateCa(string name, RSA key, DateTimeOffset notBefore, DateTimeOffset notAfter)
    {
        var request = new CertificateRequest(name, key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        return request.CreateSelfSigned(notBefore, notAfter);
    }

    private X509Certificate2 IssueCa(X509Certificate2 issuer, string name)
    {
        using RSA key = RSA.Create(2048);
        var request = new CertificateRequest(name, key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(issuer, true, false));
        using X509Certificate2 issued = request.Create(issuer, _clock.GetUtcNow().AddHours(-1), _clock.GetUtcNow().AddDays(60), RandomNumberGenerator.GetBytes(12));
        return issued.CopyWithPrivateKey(key);
    }

    private X509Certificate2 Issue(X509Certificate2 ca, string uri, bool authorityKeyId = true, string? dns = null, string? ip = null)
    {
        using RSA key = RSA.Create(2048);
        var request = new CertificateRequest("CN=plc", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddUri(new Uri(uri));
        if (dns is not null)
        {
            san.AddDnsName(dns);
        }

        if (ip is not null)
        {
            san.AddIpAddress(System.Net.IPAddress.Parse(ip));
        }

        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        if (authorityKeyId)
        {
            request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(ca, true, false));
        }

        using X509Certificate2 issued = request.Create(ca, _clock.GetUtcNow().AddHours(-1), _clock.GetUtcNow().AddDays(30), RandomNumberGenerator.GetBytes(12));
        return issued.CopyWithPrivateKey(key);
    }

    private sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = now;

        public override DateTimeOffset GetUtcNow() => Now;
    }
}
