namespace FactoryGateway.OpcUa.Pki;

/// <summary>Settings of the application's certificate store. Validate with <see cref="Validate"/> at start-up.</summary>
public sealed class PkiOptions
{
    /// <summary>
    /// The directory that holds <c>own/</c> (the application certificate and its private key),
    /// <c>trusted/</c> and <c>rejected/</c>. No default: a host names it (the edge's state directory).
    /// </summary>
    public string Directory { get; set; } = string.Empty;

    /// <summary>
    /// Trusts every server certificate it is shown (and stores it in <c>trusted/</c>). Default false:
    /// OPC 10000-2 §8 asks that an unknown certificate be rejected until an administrator trusts it;
    /// only a commissioning or test set-up should turn this on.
    /// </summary>
    public bool AutoAcceptUntrusted { get; set; }

    /// <summary>
    /// RSA key size of a newly created application certificate, in bits. Default 2,048: the minimum
    /// of Basic256Sha256, Aes128_Sha256_RsaOaep and Aes256_Sha256_RsaPss (OPC 10000-7), which every
    /// server accepts; the policies allow up to 4,096.
    /// </summary>
    public int KeySize { get; set; } = 2048;

    /// <summary>
    /// Validity of a newly created application certificate. Default 12 months: the OPC Foundation .NET
    /// stack's <c>CertificateFactory.DefaultLifeTime</c>. An expired certificate is replaced on the next start.
    /// </summary>
    public TimeSpan CertificateLifetime { get; set; } = TimeSpan.FromDays(365);

    /// <summary>The DNS name written into the certificate's SubjectAltName. Default: this machine's host name.</summary>
    public string? HostName { get; set; }

    public PkiOptions Validate()
    {
        if (string.IsNullOrWhiteSpace(Directory))
        {
            throw new ArgumentException("PkiOptions.Directory must name the PKI directory.", nameof(Directory));
        }

        if (KeySize is not (2048 or 3072 or 4096))
        {
            throw new ArgumentOutOfRangeException(nameof(KeySize), KeySize, "PkiOptions.KeySize must be 2048, 3072 or 4096.");
        }

        if (CertificateLifetime < TimeSpan.FromDays(1) || CertificateLifetime > TimeSpan.FromDays(365 * 30))
        {
            throw new ArgumentOutOfRangeException(nameof(CertificateLifetime), CertificateLifetime, "PkiOptions.CertificateLifetime must be between 1 day and 30 years.");
        }

        return this;
    }
}
