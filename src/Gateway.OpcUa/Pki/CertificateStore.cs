using System.Formats.Asn1;
using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using FactoryGateway.OpcUa.Encoding;
using FactoryGateway.OpcUa.Transport;

namespace FactoryGateway.OpcUa.Pki;

/// <summary>
/// The application's PKI directory: <c>own/</c> holds the application instance certificate
/// (<c>certificate.der</c>) and its private key (<c>private.pem</c>, PKCS#8, readable by the owner
/// only), created on first use (RSA, SHA-256, SubjectAltName with the ApplicationUri and the host
/// name, OPC 10000-6 §6.2.2); <c>trusted/</c> holds the certificates (servers or their CAs) the
/// operator trusts; <c>rejected/</c> receives every server certificate that was refused as
/// untrusted, named by its thumbprint, so that <see cref="Trust"/> can move it to <c>trusted/</c>.
/// </summary>
public sealed class CertificateStore : IDisposable
{
    private const string CertificateFile = "certificate.der";
    private const string PrivateKeyFile = "private.pem";
    private static readonly Oid s_serverAuth = new("1.3.6.1.5.5.7.3.1");
    private static readonly Oid s_clientAuth = new("1.3.6.1.5.5.7.3.2");

    private readonly PkiOptions _options;
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();

    private CertificateStore(PkiOptions options, TimeProvider time, X509Certificate2 certificate)
    {
        _options = options;
        _time = time;
        ApplicationCertificate = certificate;
    }

    /// <summary>The application instance certificate, with its private key.</summary>
    public X509Certificate2 ApplicationCertificate { get; }

    /// <summary>The ApplicationUri in the application certificate's SubjectAltName.</summary>
    public string ApplicationUri => GetApplicationUris(ApplicationCertificate) is [string first, ..] ? first : string.Empty;

    public string OwnDirectory => Path.Combine(_options.Directory, "own");

    public string TrustedDirectory => Path.Combine(_options.Directory, "trusted");

    public string RejectedDirectory => Path.Combine(_options.Directory, "rejected");

    /// <summary>
    /// Opens the PKI directory (creating its folders), loading the application certificate or creating
    /// one for <paramref name="applicationUri"/> when there is none, it has expired or it names another
    /// ApplicationUri.
    /// </summary>
    public static CertificateStore Open(PkiOptions options, string applicationUri, string applicationName, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrEmpty(applicationUri);
        ArgumentException.ThrowIfNullOrEmpty(applicationName);
        options.Validate();
        time ??= TimeProvider.System;
        string own = Path.Combine(options.Directory, "own");
        Directory.CreateDirectory(own);
        Directory.CreateDirectory(Path.Combine(options.Directory, "trusted"));
        Directory.CreateDirectory(Path.Combine(options.Directory, "rejected"));
        string certificatePath = Path.Combine(own, CertificateFile);
        string keyPath = Path.Combine(own, PrivateKeyFile);
        DateTimeOffset now = time.GetUtcNow();
        X509Certificate2? certificate = null;
        if (File.Exists(certificatePath) && File.Exists(keyPath))
        {
            X509Certificate2 loaded = LoadWithKey(certificatePath, keyPath);
            if (loaded.NotAfter.ToUniversalTime() > now.UtcDateTime && GetApplicationUris(loaded).Contains(applicationUri, StringComparer.Ordinal))
            {
                certificate = loaded;
            }
            else
            {
                loaded.Dispose();
            }
        }

        if (certificate is null)
        {
            string host = string.IsNullOrEmpty(options.HostName) ? System.Net.Dns.GetHostName() : options.HostName;
            certificate = CreateApplicationCertificate(applicationUri, applicationName, host, options.KeySize, now, options.CertificateLifetime);
            File.WriteAllBytes(certificatePath, certificate.RawData);
            using RSA key = certificate.GetRSAPrivateKey()!;
            WritePrivate(keyPath, key.ExportPkcs8PrivateKeyPem());
        }

        return new CertificateStore(options, time, certificate);
    }

    /// <summary>
    /// A self-signed application instance certificate (OPC 10000-6 §6.2.2): RSA with SHA-256 and
    /// PKCS#1 v1.5, SubjectAltName with the ApplicationUri and the host name, key usage for signing
    /// and key encipherment (and certificate signing, as it is self-signed), server and client
    /// authentication, valid from one hour before <paramref name="now"/>.
    /// </summary>
    public static X509Certificate2 CreateApplicationCertificate(string applicationUri, string applicationName, string hostName, int keySize, DateTimeOffset now, TimeSpan lifetime)
    {
        ArgumentException.ThrowIfNullOrEmpty(applicationUri);
        ArgumentException.ThrowIfNullOrEmpty(applicationName);
        ArgumentException.ThrowIfNullOrEmpty(hostName);
        using RSA rsa = RSA.Create(keySize);
        var subject = new X500DistinguishedNameBuilder();
        subject.AddCommonName(applicationName);
        var request = new CertificateRequest(subject.Build(), rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddUri(new Uri(applicationUri));
        san.AddDnsName(hostName);
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(
            X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.NonRepudiation | X509KeyUsageFlags.KeyEncipherment | X509KeyUsageFlags.DataEncipherment | X509KeyUsageFlags.KeyCertSign,
            true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([s_serverAuth, s_clientAuth], false));
        var subjectKeyId = new X509SubjectKeyIdentifierExtension(request.PublicKey, false);
        request.CertificateExtensions.Add(subjectKeyId);
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromSubjectKeyIdentifier(subjectKeyId));
        return request.CreateSelfSigned(now.AddHours(-1), now + lifetime);
    }

    /// <summary>The URIs in a certificate's SubjectAltName extension (GeneralName uniformResourceIdentifier, tag [6]).</summary>
    public static IReadOnlyList<string> GetApplicationUris(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        var uris = new List<string>();
        foreach (X509Extension extension in certificate.Extensions)
        {
            if (extension.Oid?.Value != "2.5.29.17")
            {
                continue;
            }

            try
            {
                var reader = new AsnReader(extension.RawData, AsnEncodingRules.DER);
                AsnReader names = reader.ReadSequence();
                var uriTag = new Asn1Tag(TagClass.ContextSpecific, 6);
                while (names.HasData)
                {
                    if (names.PeekTag().HasSameClassAndValue(uriTag))
                    {
                        uris.Add(names.ReadCharacterString(UniversalTagNumber.IA5String, uriTag));
                    }
                    else
                    {
                        names.ReadEncodedValue();
                    }
                }
            }
            catch (AsnContentException)
            {
                // A malformed SubjectAltName names no URI.
            }
        }

        return uris;
    }

    /// <summary>
    /// Checks a server certificate (OPC 10000-4 §6.1.3): its validity period on the injected clock,
    /// an RSA key, that its SubjectAltName holds <paramref name="applicationUri"/> (the server's
    /// ApplicationUri from its endpoint description) when given, and that it is trusted — itself in
    /// <c>trusted/</c>, or chaining to a certificate there. An untrusted certificate is written to
    /// <c>rejected/</c> (unless <see cref="PkiOptions.AutoAcceptUntrusted"/>, which trusts it instead)
    /// and fails with <c>BadCertificateUntrusted</c> naming its thumbprint. Every failure is a
    /// <see cref="UaServiceException"/>.
    /// <para>
    /// With <paramref name="hostName"/> (the host of the endpoint URL connected to) the certificate's
    /// SubjectAltName must name it as a DNS name or IP address (<c>BadCertificateHostNameInvalid</c>).
    /// <paramref name="issuers"/> are CA certificates the server sent after its own (they help build
    /// the chain, they are not trusted by being sent). A chain that reaches a trusted CA but is broken
    /// fails with a precise status and is not saved to <c>rejected/</c>, as trusting the leaf would not mend it:
    /// an issuer outside its validity (<c>BadCertificateIssuerTimeInvalid</c>), an issuer that is not a
    /// CA (<c>BadCertificateIssuerUseNotAllowed</c>), a signature that does not verify (<c>BadCertificateInvalid</c>).
    /// </para>
    /// </summary>
    public void ValidateServerCertificate(X509Certificate2 certificate, string? applicationUri, string? hostName = null, X509Certificate2Collection? issuers = null) =>
        Validate(certificate, applicationUri, "server", hostName, issuers);

    /// <summary>
    /// Checks a client certificate presented in OpenSecureChannel to this application acting as a
    /// server: the same checks as <see cref="ValidateServerCertificate"/> (validity, RSA key, trust;
    /// the ApplicationUri is checked later against CreateSession's client description). An untrusted
    /// certificate lands in <c>rejected/</c> so that an operator can trust it.
    /// </summary>
    public void ValidateClientCertificate(X509Certificate2 certificate) => Validate(certificate, null, "client", null, null);

    private void Validate(X509Certificate2 certificate, string? applicationUri, string role, string? hostName, X509Certificate2Collection? issuers)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        DateTime now = _time.GetUtcNow().UtcDateTime;
        if (now < certificate.NotBefore.ToUniversalTime() || now > certificate.NotAfter.ToUniversalTime())
        {
            throw new UaServiceException(StatusCode.BadCertificateTimeInvalid, string.Create(CultureInfo.InvariantCulture,
                $"the {role} certificate {certificate.Thumbprint} is valid from {certificate.NotBefore.ToUniversalTime():u} to {certificate.NotAfter.ToUniversalTime():u}, not now ({now:u})."));
        }

        using (RSA? key = certificate.GetRSAPublicKey())
        {
            if (key is null)
            {
                throw new UaServiceException(StatusCode.BadCertificatePolicyCheckFailed, $"the {role} certificate {certificate.Thumbprint} has no RSA key.");
            }
        }

        if (!string.IsNullOrEmpty(applicationUri) && !GetApplicationUris(certificate).Contains(applicationUri, StringComparer.Ordinal))
        {
            throw new UaServiceException(StatusCode.BadCertificateUriInvalid,
                $"the {role} certificate {certificate.Thumbprint} does not name the {role}'s ApplicationUri '{applicationUri}' in its SubjectAltName.");
        }

        if (!string.IsNullOrEmpty(hostName) && !NamesHost(certificate, hostName))
        {
            throw new UaServiceException(StatusCode.BadCertificateHostNameInvalid,
                $"the {role} certificate {certificate.Thumbprint} does not name the host '{hostName}' of the endpoint URL in its SubjectAltName DNS names or IP addresses.");
        }

        (StatusCode Status, string Reason)? broken = CheckChain(certificate, now, issuers, out bool trusted);
        if (broken is { } b)
        {
            throw new UaServiceException(b.Status, $"the {role} certificate {certificate.Thumbprint} ({certificate.Subject}) chains to a trusted CA, but {b.Reason}");
        }

        if (trusted)
        {
            return;
        }

        lock (_lock)
        {
            if (_options.AutoAcceptUntrusted)
            {
                AddTrusted(certificate);
                return;
            }

            File.WriteAllBytes(Path.Combine(RejectedDirectory, certificate.Thumbprint + ".der"), certificate.RawData);
        }

        throw new UaServiceException(StatusCode.BadCertificateUntrusted,
            $"the {role} certificate {certificate.Thumbprint} ({certificate.Subject}) is not trusted; it was saved to rejected/{certificate.Thumbprint}.der — trust it with Trust(\"{certificate.Thumbprint}\").");
    }

    /// <summary>Whether the certificate's SubjectAltName names <paramref name="hostName"/>: a DNS name (case-insensitive) or an IP address.</summary>
    public static bool NamesHost(X509Certificate2 certificate, string hostName)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        ArgumentException.ThrowIfNullOrEmpty(hostName);
        bool isAddress = System.Net.IPAddress.TryParse(hostName, out System.Net.IPAddress? address);
        foreach (X509SubjectAlternativeNameExtension san in certificate.Extensions.OfType<X509SubjectAlternativeNameExtension>())
        {
            try
            {
                if (san.EnumerateDnsNames().Any(n => string.Equals(n, hostName, StringComparison.OrdinalIgnoreCase))
                    || (isAddress && san.EnumerateIPAddresses().Any(a => a.Equals(address))))
                {
                    return true;
                }
            }
            catch (CryptographicException)
            {
                // A malformed SubjectAltName names no host.
            }
        }

        return false;
    }

    /// <summary>
    /// Builds the certificate's chain to the certificates in <c>trusted/</c> on the injected clock
    /// (no revocation lists are kept, so revocation is not checked). <paramref name="trusted"/> says
    /// whether it is trusted (itself in <c>trusted/</c>, or issued through a trusted CA); the result is
    /// non-null when the chain reaches a trusted certificate but fails on the way.
    /// </summary>
    private (StatusCode Status, string Reason)? CheckChain(X509Certificate2 certificate, DateTime now, X509Certificate2Collection? issuers, out bool trusted)
    {
        trusted = false;
        X509Certificate2Collection anchors = LoadDirectory(TrustedDirectory);
        try
        {
            foreach (X509Certificate2 t in anchors)
            {
                if (t.RawData.AsSpan().SequenceEqual(certificate.RawData))
                {
                    trusted = true;
                    return null;
                }
            }

            using var chain = new X509Chain();
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.AddRange(anchors);
            if (issuers is not null)
            {
                chain.ChainPolicy.ExtraStore.AddRange(issuers);
            }

            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            chain.ChainPolicy.VerificationTime = now;
            chain.ChainPolicy.VerificationTimeIgnored = false;
            bool built = chain.Build(certificate);
            try
            {
                if (built)
                {
                    trusted = chain.ChainElements.Count > 1;
                    return null;
                }

                X509Certificate2 top = chain.ChainElements[^1].Certificate;
                bool anchored = chain.ChainElements.Count > 1 && anchors.Any(t => t.RawData.AsSpan().SequenceEqual(top.RawData));
                if (!anchored)
                {
                    return null; // reaches no trusted certificate: untrusted, the operator may trust it
                }

                for (int i = 0; i < chain.ChainElements.Count; i++)
                {
                    X509ChainElement element = chain.ChainElements[i];
                    X509ChainStatusFlags flags = element.ChainElementStatus.Aggregate(X509ChainStatusFlags.NoError, (f, s) => f | s.Status);
                    string name = element.Certificate.Subject;
                    if ((flags & X509ChainStatusFlags.NotSignatureValid) != 0)
                    {
                        return (StatusCode.BadCertificateInvalid, $"the signature of '{name}' does not verify with its issuer's key.");
                    }

                    if (i > 0 && (flags & X509ChainStatusFlags.NotTimeValid) != 0)
                    {
                        return (StatusCode.BadCertificateIssuerTimeInvalid, string.Create(CultureInfo.InvariantCulture,
                            $"the issuer '{name}' is valid from {element.Certificate.NotBefore.ToUniversalTime():u} to {element.Certificate.NotAfter.ToUniversalTime():u}, not now ({now:u})."));
                    }

                    if (i > 0 && (flags & (X509ChainStatusFlags.InvalidBasicConstraints | X509ChainStatusFlags.NotValidForUsage)) != 0)
                    {
                        return (StatusCode.BadCertificateIssuerUseNotAllowed, $"the issuer '{name}' may not issue certificates ({flags}).");
                    }
                }

                X509ChainStatusFlags all = chain.ChainStatus.Aggregate(X509ChainStatusFlags.NoError, (f, s) => f | s.Status);
                return (StatusCode.BadCertificateInvalid, $"the chain does not validate ({all}).");
            }
            finally
            {
                foreach (X509ChainElement element in chain.ChainElements)
                {
                    element.Certificate.Dispose();
                }
            }
        }
        finally
        {
            foreach (X509Certificate2 t in anchors)
            {
                t.Dispose();
            }
        }
    }

    /// <summary>Adds a certificate to <c>trusted/</c>.</summary>
    public void AddTrusted(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        File.WriteAllBytes(Path.Combine(TrustedDirectory, certificate.Thumbprint + ".der"), certificate.RawData);
    }

    /// <summary>
    /// Moves a rejected certificate to <c>trusted/</c> (the operator's "trust this server" action).
    /// Returns false when <c>rejected/</c> holds no certificate with this SHA-1 thumbprint (hex, any case).
    /// </summary>
    public bool Trust(string thumbprint)
    {
        ArgumentException.ThrowIfNullOrEmpty(thumbprint);
        if (thumbprint.Length != 40 || !thumbprint.All(char.IsAsciiHexDigit))
        {
            throw new ArgumentException($"'{thumbprint}' is not a SHA-1 thumbprint (40 hex digits).", nameof(thumbprint));
        }

        string name = thumbprint.ToUpperInvariant() + ".der";
        lock (_lock)
        {
            string source = Path.Combine(RejectedDirectory, name);
            if (!File.Exists(source))
            {
                return false;
            }

            File.Move(source, Path.Combine(TrustedDirectory, name), overwrite: true);
            return true;
        }
    }

    /// <summary>The certificates in <c>rejected/</c> (the caller disposes them).</summary>
    public X509Certificate2Collection GetRejected() => LoadDirectory(RejectedDirectory);

    /// <summary>The certificates in <c>trusted/</c> (the caller disposes them).</summary>
    public X509Certificate2Collection GetTrusted() => LoadDirectory(TrustedDirectory);

    private static X509Certificate2Collection LoadDirectory(string directory)
    {
        var collection = new X509Certificate2Collection();
        foreach (string file in Directory.EnumerateFiles(directory))
        {
            if (!file.EndsWith(".der", StringComparison.OrdinalIgnoreCase) && !file.EndsWith(".cer", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            try
            {
                collection.Add(X509CertificateLoader.LoadCertificateFromFile(file));
            }
            catch (CryptographicException)
            {
                // A file that is not a certificate trusts nothing.
            }
        }

        return collection;
    }

    private static X509Certificate2 LoadWithKey(string certificatePath, string keyPath)
    {
        using X509Certificate2 certificate = X509CertificateLoader.LoadCertificateFromFile(certificatePath);
        using RSA key = RSA.Create();
        key.ImportFromPem(File.ReadAllText(keyPath));
        return certificate.CopyWithPrivateKey(key);
    }

    private static void WritePrivate(string path, string text)
    {
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using var writer = new StreamWriter(path, System.Text.Encoding.ASCII, options);
        writer.Write(text);
    }

    public void Dispose() => ApplicationCertificate.Dispose();
}
