using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using FactoryGateway.OpcUa.Pki;

namespace FactoryGateway.Edge.Sources.OpcUa;

/// <summary>What <see cref="OpcUaTrust.Trust"/> did.</summary>
/// <param name="Thumbprint">The SHA-1 thumbprint of the certificate now trusted.</param>
/// <param name="Subject">Its subject.</param>
/// <param name="WasRejected">True when it was moved from <c>rejected/</c>; false when a certificate file was added to <c>trusted/</c> directly.</param>
public sealed record OpcUaTrustResult(string Thumbprint, string Subject, bool WasRejected);

/// <summary>
/// <c>fgw edge trust CERT</c>: trusts an OPC UA server certificate in the edge's PKI (<see cref="OpcUaSource.PkiDirectory"/>).
/// CERT is a thumbprint of a certificate in <c>rejected/</c> (where the source saves every server certificate it refused,
/// see <c>fgw edge status</c> or the connection's reason), or the path of a DER or PEM certificate file.
/// </summary>
public static class OpcUaTrust
{
    /// <summary>
    /// Trusts <paramref name="certificate"/> (a 40-hex-digit SHA-1 thumbprint, or a file path). Throws
    /// <see cref="ArgumentException"/> when it names no rejected certificate and no readable certificate file.
    /// </summary>
    public static OpcUaTrustResult Trust(string dataDirectory, string certificate, TimeProvider? time = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(dataDirectory);
        ArgumentException.ThrowIfNullOrEmpty(certificate);
        using CertificateStore store = OpcUaSource.OpenPki(dataDirectory, time: time);
        string thumbprint = certificate.Replace(":", "", StringComparison.Ordinal).Replace(" ", "", StringComparison.Ordinal);
        bool isThumbprint = thumbprint.Length == 40 && thumbprint.All(char.IsAsciiHexDigit);
        if (isThumbprint && !File.Exists(certificate))
        {
            string subject = SubjectOf(Path.Combine(store.RejectedDirectory, thumbprint.ToUpperInvariant() + ".der"));
            if (!store.Trust(thumbprint))
            {
                throw new ArgumentException($"no rejected certificate has the thumbprint {thumbprint} in {store.RejectedDirectory}.", nameof(certificate));
            }

            return new OpcUaTrustResult(thumbprint.ToUpperInvariant(), subject, WasRejected: true);
        }

        if (!File.Exists(certificate))
        {
            throw new ArgumentException($"{certificate} is neither a SHA-1 thumbprint (40 hex digits) nor a certificate file.", nameof(certificate));
        }

        X509Certificate2 loaded;
        try
        {
            loaded = X509CertificateLoader.LoadCertificateFromFile(certificate);
        }
        catch (CryptographicException e)
        {
            throw new ArgumentException($"{certificate} is not a DER or PEM certificate: {e.Message}", nameof(certificate), e);
        }

        using (loaded)
        {
            // A file from rejected/ is moved; any other file is copied into trusted/.
            bool rejected = store.Trust(loaded.Thumbprint);
            if (!rejected)
            {
                store.AddTrusted(loaded);
            }

            return new OpcUaTrustResult(loaded.Thumbprint, loaded.Subject, rejected);
        }
    }

    /// <summary>The certificates refused so far (thumbprint and subject), for <c>fgw edge trust --list</c>.</summary>
    public static IReadOnlyList<OpcUaTrustResult> ListRejected(string dataDirectory, TimeProvider? time = null)
    {
        using CertificateStore store = OpcUaSource.OpenPki(dataDirectory, time: time);
        X509Certificate2Collection rejected = store.GetRejected();
        try
        {
            return [.. rejected.Select(c => new OpcUaTrustResult(c.Thumbprint, c.Subject, WasRejected: true))];
        }
        finally
        {
            foreach (X509Certificate2 c in rejected)
            {
                c.Dispose();
            }
        }
    }

    private static string SubjectOf(string path)
    {
        if (!File.Exists(path))
        {
            return "";
        }

        try
        {
            using X509Certificate2 c = X509CertificateLoader.LoadCertificateFromFile(path);
            return c.Subject;
        }
        catch (CryptographicException)
        {
            return "";
        }
    }
}
