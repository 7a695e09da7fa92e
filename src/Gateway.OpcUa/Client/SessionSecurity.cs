using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using FactoryGateway.OpcUa.Encoding;
using FactoryGateway.OpcUa.Services;
using FactoryGateway.OpcUa.Transport;
using FactoryGateway.OpcUa.Transport.Security;

namespace FactoryGateway.OpcUa.Client;

/// <summary>
/// The session's part of security (OPC 10000-4 §5.6.2, §5.6.3): choosing the server's endpoint for
/// the configured policy and mode and checking its certificate against the PKI, the server's
/// signature in CreateSession, the client's signature in ActivateSession and the X.509 user token
/// signature.
/// </summary>
internal static class SessionSecurity
{
    private const string UaTcpTransport = "http://opcfoundation.org/UA-Profile/Transport/uatcp-uasc-uabinary";

    /// <summary>
    /// For a secure configuration: asks the server for its endpoints (over a SecurityPolicy None
    /// channel, as OPC 10000-4 §5.4.4 allows), picks the one with the configured policy and mode,
    /// and validates its certificate (validity, ApplicationUri, trust); null for SecurityPolicy None.
    /// </summary>
    public static async Task<UaChannelSecurity?> ResolveAsync(string endpointUrl, UaSessionOptions options, TimeProvider? time, CancellationToken cancellationToken)
    {
        UaSecurityPolicy? policy = UaSecurityPolicy.Find(options.SecurityPolicyUri);
        if (policy is null)
        {
            return null;
        }

        IReadOnlyList<EndpointDescription> endpoints = await UaSession.GetEndpointsAsync(endpointUrl, options.Channel, time, cancellationToken);
        EndpointDescription endpoint = endpoints.FirstOrDefault(e => e.SecurityPolicyUri == policy.Uri && e.SecurityMode == options.SecurityMode
                && (string.IsNullOrEmpty(e.TransportProfileUri) || e.TransportProfileUri == UaTcpTransport))
            ?? throw new UaServiceException(endpoints.Any(e => e.SecurityPolicyUri == policy.Uri) ? StatusCode.BadSecurityModeRejected : StatusCode.BadSecurityPolicyRejected,
                $"{endpointUrl} offers no endpoint with {policy} {options.SecurityMode} (it offers {string.Join(", ", endpoints.Select(e => $"{UaSecurityPolicy.Find(e.SecurityPolicyUri)?.ToString() ?? e.SecurityPolicyUri} {e.SecurityMode}").Distinct())}).");
        if (endpoint.ServerCertificate.IsEmpty)
        {
            throw new UaServiceException(StatusCode.BadCertificateInvalid, $"the {policy} endpoint of {endpointUrl} publishes no server certificate.");
        }

        X509Certificate2 serverCertificate;
        ReadOnlySpan<byte> chain = endpoint.ServerCertificate.Span;
        try
        {
            serverCertificate = X509CertificateLoader.LoadCertificate(SecureChannelCrypto.FirstCertificate(chain));
        }
        catch (CryptographicException ex)
        {
            throw new UaServiceException(StatusCode.BadCertificateInvalid, $"the server certificate of {endpointUrl} cannot be read: {ex.Message}", ex);
        }

        using DisposableCollection issuers = Issuers(chain[SecureChannelCrypto.FirstCertificate(chain).Length..]);
        string? host = options.AllowHostNameMismatch ? null : new Uri(endpointUrl).DnsSafeHost;
        CertificateStoreOf(options).ValidateServerCertificate(serverCertificate, endpoint.Server.ApplicationUri, host, issuers);
        return new UaChannelSecurity(policy, options.SecurityMode == MessageSecurityMode.SignAndEncrypt, CertificateStoreOf(options).ApplicationCertificate, serverCertificate);
    }

    /// <summary>The CA certificates a server sent after its own in the ServerCertificate field (a DER chain); what does not parse is left out.</summary>
    private static DisposableCollection Issuers(ReadOnlySpan<byte> rest)
    {
        var issuers = new DisposableCollection();
        while (!rest.IsEmpty)
        {
            ReadOnlySpan<byte> next = SecureChannelCrypto.FirstCertificate(rest);
            try
            {
                issuers.Add(X509CertificateLoader.LoadCertificate(next));
            }
            catch (CryptographicException)
            {
                break;
            }

            rest = rest[next.Length..];
        }

        return issuers;
    }

    private sealed class DisposableCollection : X509Certificate2Collection, IDisposable
    {
        public void Dispose()
        {
            foreach (X509Certificate2 certificate in this)
            {
                certificate.Dispose();
            }
        }
    }

    private static Pki.CertificateStore CertificateStoreOf(UaSessionOptions options) =>
        options.Pki ?? throw new InvalidOperationException("UaSessionOptions.Pki is required for a secure endpoint.");

    /// <summary>
    /// Checks CreateSession's answer on a secure channel: the server certificate is the channel's,
    /// the server nonce is long enough, and ServerSignature signs our certificate followed by our
    /// nonce with the server's key under the channel's policy.
    /// </summary>
    public static void VerifyServerSignature(UaChannelSecurity security, ReadOnlySpan<byte> serverCertificate, ReadOnlySpan<byte> serverNonce, string? algorithm, ReadOnlySpan<byte> signature, ReadOnlySpan<byte> clientNonce)
    {
        if (!SecureChannelCrypto.FirstCertificate(serverCertificate).SequenceEqual(security.ServerCertificate.RawData))
        {
            throw new UaServiceException(StatusCode.BadCertificateInvalid, "CreateSession returned a server certificate other than the secure channel's.");
        }

        if (serverNonce.Length < security.Policy.NonceLength)
        {
            throw new UaServiceException(StatusCode.BadNonceInvalid, $"CreateSession returned a {serverNonce.Length}-byte server nonce; {security.Policy} needs {security.Policy.NonceLength}.");
        }

        if (algorithm != security.Policy.AsymmetricSignatureAlgorithm)
        {
            throw new UaServiceException(StatusCode.BadApplicationSignatureInvalid, $"the server signed CreateSession with '{algorithm}', not {security.Policy.AsymmetricSignatureAlgorithm}.");
        }

        using RSA key = security.ServerCertificate.GetRSAPublicKey()!;
        if (!SessionCrypto.Verify(security.Policy, key, security.ClientCertificate.RawData, clientNonce, signature))
        {
            throw new UaServiceException(StatusCode.BadApplicationSignatureInvalid, "the server's CreateSession signature over our certificate and nonce is invalid.");
        }
    }

    /// <summary>
    /// CreateSession's ServerEndpoints must still offer the endpoint the channel was opened for (with
    /// the same certificate, where the list carries certificates): a downgrade of the unsecured
    /// GetEndpoints answer shows up here (OPC 10000-4 §5.6.2).
    /// </summary>
    public static void VerifyServerEndpoints(UaChannelSecurity security, MessageSecurityMode mode, IReadOnlyList<EndpointDescription> endpoints)
    {
        // Servers may leave the certificates out of this list (node-opcua does); where one is given it must match.
        bool found = endpoints.Any(e => e.SecurityPolicyUri == security.Policy.Uri && e.SecurityMode == mode
            && (e.ServerCertificate.IsEmpty || SecureChannelCrypto.FirstCertificate(e.ServerCertificate.Span).SequenceEqual(security.ServerCertificate.RawData)));
        if (!found)
        {
            throw new UaServiceException(StatusCode.BadSecurityChecksFailed, $"CreateSession's endpoint list has no {security.Policy} {mode} endpoint with the channel's server certificate; the endpoint list may have been altered.");
        }
    }

    /// <summary>ActivateSession's ClientSignature: our key signs the server certificate followed by the server nonce.</summary>
    public static (string Algorithm, byte[] Signature) ClientSignature(UaChannelSecurity security, ReadOnlySpan<byte> serverCertificate, ReadOnlySpan<byte> serverNonce)
    {
        using RSA key = security.ClientCertificate.GetRSAPrivateKey()!;
        return (security.Policy.AsymmetricSignatureAlgorithm, SessionCrypto.Sign(security.Policy, key, serverCertificate, serverNonce));
    }

    /// <summary>
    /// The X.509 user token's signature (OPC 10000-4 §5.6.3.2): the user's key signs the server
    /// certificate followed by the server nonce, under the token policy's security policy, or the
    /// channel's when the token policy names none.
    /// </summary>
    public static (string Algorithm, byte[] Signature) UserTokenSignature(X509Certificate2 user, string? tokenPolicyUri, string channelPolicyUri, ReadOnlySpan<byte> serverCertificate, ReadOnlySpan<byte> serverNonce)
    {
        UaSecurityPolicy policy = UaSecurityPolicy.Find(string.IsNullOrEmpty(tokenPolicyUri) ? channelPolicyUri : tokenPolicyUri)
            ?? throw new UaServiceException(StatusCode.BadIdentityTokenRejected,
                $"an X.509 user token needs a security policy to sign with; the token policy names '{tokenPolicyUri}' on a {channelPolicyUri} channel.");
        using RSA key = user.GetRSAPrivateKey() ?? throw new UaServiceException(StatusCode.BadIdentityTokenInvalid, "the user certificate has no RSA private key.");
        return (policy.AsymmetricSignatureAlgorithm, SessionCrypto.Sign(policy, key, serverCertificate, serverNonce));
    }
}
