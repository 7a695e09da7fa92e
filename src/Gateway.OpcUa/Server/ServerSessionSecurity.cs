using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using FactoryGateway.OpcUa.Encoding;
using FactoryGateway.OpcUa.Pki;
using FactoryGateway.OpcUa.Transport;
using FactoryGateway.OpcUa.Transport.Security;

namespace FactoryGateway.OpcUa.Server;

/// <summary>
/// The server's part of session security on a secure channel (OPC 10000-4 §5.6.2, §5.6.3): checking
/// CreateSession's client certificate, nonce and ApplicationUri and signing the client's certificate
/// and nonce; verifying ActivateSession's client signature over our certificate and our last nonce;
/// decrypting an encrypted user-name password. Failures are ServiceFaults with the precise status.
/// </summary>
internal static class ServerSessionSecurity
{
    /// <summary>CreateSession on a secure channel: returns the ServerSignature over the client certificate and nonce.</summary>
    public static byte[] SignCreateSession(UaChannelSecurity security, string? applicationUri, ReadOnlySpan<byte> clientCertificate, ReadOnlySpan<byte> clientNonce)
    {
        if (!SecureChannelCrypto.FirstCertificate(clientCertificate).SequenceEqual(security.ClientCertificate.RawData))
        {
            throw new UaServiceFault(StatusCode.BadCertificateInvalid, "CreateSession's client certificate is not the secure channel's.");
        }

        if (clientNonce.Length < security.Policy.NonceLength)
        {
            throw new UaServiceFault(StatusCode.BadNonceInvalid, $"CreateSession's client nonce has {clientNonce.Length} bytes; {security.Policy} needs {security.Policy.NonceLength}.");
        }

        if (string.IsNullOrEmpty(applicationUri) || !CertificateStore.GetApplicationUris(security.ClientCertificate).Contains(applicationUri, StringComparer.Ordinal))
        {
            throw new UaServiceFault(StatusCode.BadCertificateUriInvalid, $"the client's ApplicationUri '{applicationUri}' is not in its certificate's SubjectAltName.");
        }

        using RSA key = security.ServerCertificate.GetRSAPrivateKey()!;
        return SessionCrypto.Sign(security.Policy, key, clientCertificate, clientNonce);
    }

    /// <summary>
    /// ActivateSession: on a secure channel the client certificate must be the one the session was
    /// created with and the ClientSignature must sign our certificate followed by our last nonce; a
    /// session created on a secure channel cannot be activated on a None channel.
    /// </summary>
    public static void VerifyActivateSession(UaServer server, ServerSession session, UaChannelSecurity? security, byte[] serverNonce, string? algorithm, ReadOnlySpan<byte> signature)
    {
        if (security is null)
        {
            if (session.ClientCertificate is not null)
            {
                Refuse(server, session, StatusCode.BadSecurityChecksFailed, "a session created on a secure channel cannot be activated on a None channel.");
            }

            return;
        }

        if (session.ClientCertificate is null || !session.ClientCertificate.AsSpan().SequenceEqual(security.ClientCertificate.RawData))
        {
            Refuse(server, session, StatusCode.BadSecurityChecksFailed, "the channel's client certificate is not the one the session was created with.");
        }

        if (algorithm != security.Policy.AsymmetricSignatureAlgorithm)
        {
            Refuse(server, session, StatusCode.BadApplicationSignatureInvalid, $"the client signed with '{algorithm}', not {security.Policy.AsymmetricSignatureAlgorithm}.");
        }

        using RSA key = security.ClientCertificate.GetRSAPublicKey()!;
        if (!SessionCrypto.Verify(security.Policy, key, security.ServerCertificate.RawData, serverNonce, signature))
        {
            Refuse(server, session, StatusCode.BadApplicationSignatureInvalid, "the client's signature over the server certificate and nonce is invalid.");
        }
    }

    /// <summary>The password of a UserNameIdentityToken on a secure channel: encrypted under the channel's policy.</summary>
    public static string DecryptPassword(UaChannelSecurity security, string? algorithm, ReadOnlySpan<byte> secret, byte[] serverNonce)
    {
        if (algorithm != security.Policy.AsymmetricEncryptionAlgorithm)
        {
            throw new UaServiceFault(StatusCode.BadIdentityTokenInvalid, $"the password is encrypted with '{algorithm}'; this endpoint needs {security.Policy.AsymmetricEncryptionAlgorithm}.");
        }

        using RSA key = security.ServerCertificate.GetRSAPrivateKey()!;
        try
        {
            byte[] password = SessionCrypto.DecryptSecret(security.Policy, key, secret, serverNonce);
            string text = System.Text.Encoding.UTF8.GetString(password);
            CryptographicOperations.ZeroMemory(password);
            return text;
        }
        catch (UaServiceException ex)
        {
            throw new UaServiceFault(ex.Status, ex.Message);
        }
    }

    private static void Refuse(UaServer server, ServerSession session, StatusCode status, string reason)
    {
        UaServerLog.SessionSecurityRefused(server.Logger, session.SessionId.ToString(), status.ToString(), reason);
        throw new UaServiceFault(status, reason);
    }
}
