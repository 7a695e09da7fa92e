using System.Buffers.Binary;
using System.Security.Cryptography;
using FactoryGateway.OpcUa.Encoding;

namespace FactoryGateway.OpcUa.Transport.Security;

/// <summary>
/// The session-level cryptography both sides share (OPC 10000-4 §5.6.2, §5.6.3, §7.41.2.3): the
/// signature over a certificate followed by a nonce (CreateSession's ServerSignature, ActivateSession's
/// ClientSignature and the X.509 user token signature), and the encrypted user-name secret
/// (length, password, server nonce, RSA-encrypted in blocks with the policy's asymmetric algorithm).
/// </summary>
internal static class SessionCrypto
{
    /// <summary>Signs <paramref name="certificate"/> (its first certificate) followed by <paramref name="nonce"/> with <paramref name="key"/>.</summary>
    public static byte[] Sign(UaSecurityPolicy policy, RSA key, ReadOnlySpan<byte> certificate, ReadOnlySpan<byte> nonce) =>
        policy.Sign(key, [.. SecureChannelCrypto.FirstCertificate(certificate), .. nonce]);

    /// <summary>Whether <paramref name="signature"/> signs the certificate followed by the nonce under the policy (a malformed signature is invalid).</summary>
    public static bool Verify(UaSecurityPolicy policy, RSA key, ReadOnlySpan<byte> certificate, ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> signature)
    {
        try
        {
            return policy.Verify(key, [.. SecureChannelCrypto.FirstCertificate(certificate), .. nonce], signature);
        }
        catch (CryptographicException)
        {
            return false;
        }
    }

    /// <summary>
    /// The UserNameIdentityToken secret: the 4-byte length of password and nonce, the UTF-8 password,
    /// the server nonce, encrypted in RSA blocks with the server certificate's key.
    /// </summary>
    public static byte[] EncryptSecret(RSA serverKey, RSAEncryptionPadding padding, int overhead, ReadOnlySpan<byte> password, ReadOnlySpan<byte> serverNonce)
    {
        byte[] block = new byte[4 + password.Length + serverNonce.Length];
        BinaryPrimitives.WriteInt32LittleEndian(block, password.Length + serverNonce.Length);
        password.CopyTo(block.AsSpan(4));
        serverNonce.CopyTo(block.AsSpan(4 + password.Length));
        int plainBlock = (serverKey.KeySize / 8) - overhead;
        using var output = new MemoryStream();
        for (int offset = 0; offset < block.Length; offset += plainBlock)
        {
            output.Write(serverKey.Encrypt(block.AsSpan(offset, Math.Min(plainBlock, block.Length - offset)).ToArray(), padding));
        }

        CryptographicOperations.ZeroMemory(block);
        return output.ToArray();
    }

    /// <summary>
    /// Decrypts a UserNameIdentityToken secret with the server's key and checks that it ends with the
    /// nonce the server last issued; returns the password bytes. Throws <see cref="UaServiceException"/>
    /// (BadIdentityTokenInvalid) when it does not decrypt or the nonce or length is wrong.
    /// </summary>
    public static byte[] DecryptSecret(UaSecurityPolicy policy, RSA serverKey, ReadOnlySpan<byte> secret, ReadOnlySpan<byte> serverNonce)
    {
        int cipherBlock = serverKey.KeySize / 8;
        if (secret.Length == 0 || secret.Length % cipherBlock != 0)
        {
            throw new UaServiceException(StatusCode.BadIdentityTokenInvalid, $"the encrypted password is {secret.Length} bytes, not a multiple of the {cipherBlock}-byte RSA block.");
        }

        byte[] plain = new byte[secret.Length];
        int length = 0;
        try
        {
            for (int i = 0; i < secret.Length; i += cipherBlock)
            {
                if (!serverKey.TryDecrypt(secret.Slice(i, cipherBlock), plain.AsSpan(length), policy.AsymmetricEncryptionPadding, out int written))
                {
                    throw new UaServiceException(StatusCode.BadIdentityTokenInvalid, "the encrypted password does not decrypt.");
                }

                length += written;
            }
        }
        catch (CryptographicException ex)
        {
            throw new UaServiceException(StatusCode.BadIdentityTokenInvalid, "the encrypted password does not decrypt: " + ex.Message, ex);
        }

        int declared = length >= 4 ? BinaryPrimitives.ReadInt32LittleEndian(plain) : -1;
        if (declared != length - 4 || declared < serverNonce.Length || !plain.AsSpan(4 + declared - serverNonce.Length, serverNonce.Length).SequenceEqual(serverNonce))
        {
            CryptographicOperations.ZeroMemory(plain);
            throw new UaServiceException(StatusCode.BadIdentityTokenInvalid, "the encrypted password does not end with the server's last nonce.");
        }

        byte[] password = plain.AsSpan(4, declared - serverNonce.Length).ToArray();
        CryptographicOperations.ZeroMemory(plain);
        return password;
    }
}
