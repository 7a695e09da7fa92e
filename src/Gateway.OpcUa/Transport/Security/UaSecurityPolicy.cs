using System.Security.Cryptography;

namespace FactoryGateway.OpcUa.Transport.Security;

/// <summary>
/// The algorithms and sizes of one SecurityPolicy (OPC 10000-7, the SecurityPolicy profiles): how the
/// OpenSecureChannel messages are signed and encrypted with RSA, and how the symmetric keys for the
/// other messages are derived and used (HMAC-SHA256 signatures, AES-CBC encryption).
/// </summary>
public sealed class UaSecurityPolicy
{
    public const string NoneUri = "http://opcfoundation.org/UA/SecurityPolicy#None";
    public const string Basic256Sha256Uri = "http://opcfoundation.org/UA/SecurityPolicy#Basic256Sha256";
    public const string Aes128Sha256RsaOaepUri = "http://opcfoundation.org/UA/SecurityPolicy#Aes128_Sha256_RsaOaep";
    public const string Aes256Sha256RsaPssUri = "http://opcfoundation.org/UA/SecurityPolicy#Aes256_Sha256_RsaPss";

    private const string RsaSha256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";
    private const string RsaPssSha256 = "http://opcfoundation.org/UA/security/rsa-pss-sha2-256";
    private const string RsaOaepSha1 = "http://www.w3.org/2001/04/xmlenc#rsa-oaep";
    private const string RsaOaepSha256 = "http://opcfoundation.org/UA/security/rsa-oaep-sha2-256";

    private UaSecurityPolicy(string uri, int encryptionKeyLength, RSASignaturePadding signaturePadding, string signatureUri, RSAEncryptionPadding encryptionPadding, string encryptionUri, int encryptionOverhead)
    {
        Uri = uri;
        SymmetricEncryptionKeyLength = encryptionKeyLength;
        AsymmetricSignaturePadding = signaturePadding;
        AsymmetricSignatureAlgorithm = signatureUri;
        AsymmetricEncryptionPadding = encryptionPadding;
        AsymmetricEncryptionAlgorithm = encryptionUri;
        AsymmetricEncryptionOverhead = encryptionOverhead;
    }

    /// <summary>Basic256Sha256: RSA-PKCS#1 v1.5 SHA-256 signatures, RSA-OAEP (SHA-1) encryption, AES-256-CBC.</summary>
    public static UaSecurityPolicy Basic256Sha256 { get; } =
        new(Basic256Sha256Uri, 32, RSASignaturePadding.Pkcs1, RsaSha256, RSAEncryptionPadding.OaepSHA1, RsaOaepSha1, 42);

    /// <summary>Aes128_Sha256_RsaOaep: RSA-PKCS#1 v1.5 SHA-256 signatures, RSA-OAEP (SHA-1) encryption, AES-128-CBC.</summary>
    public static UaSecurityPolicy Aes128Sha256RsaOaep { get; } =
        new(Aes128Sha256RsaOaepUri, 16, RSASignaturePadding.Pkcs1, RsaSha256, RSAEncryptionPadding.OaepSHA1, RsaOaepSha1, 42);

    /// <summary>Aes256_Sha256_RsaPss: RSA-PSS SHA-256 signatures, RSA-OAEP SHA-256 encryption, AES-256-CBC.</summary>
    public static UaSecurityPolicy Aes256Sha256RsaPss { get; } =
        new(Aes256Sha256RsaPssUri, 32, RSASignaturePadding.Pss, RsaPssSha256, RSAEncryptionPadding.OaepSHA256, RsaOaepSha256, 66);

    public string Uri { get; }

    /// <summary>Derived symmetric signing key length: 32 bytes (256 bits) in all three policies.</summary>
    public int SymmetricSigningKeyLength { get; } = 32;

    /// <summary>AES key length: 32 bytes (AES-256) or 16 (AES-128).</summary>
    public int SymmetricEncryptionKeyLength { get; }

    /// <summary>The AES block size, which is also the IV length.</summary>
    public int SymmetricBlockSize { get; } = 16;

    /// <summary>HMAC-SHA256 signature length.</summary>
    public int SymmetricSignatureLength { get; } = 32;

    /// <summary>SecureChannelNonceLength: 32 bytes in all three policies.</summary>
    public int NonceLength { get; } = 32;

    /// <summary>Smallest RSA key the policy allows, in bits (2,048 in all three).</summary>
    public int MinAsymmetricKeyLength { get; } = 2048;

    /// <summary>Largest RSA key the policy allows, in bits (4,096 in all three).</summary>
    public int MaxAsymmetricKeyLength { get; } = 4096;

    public RSASignaturePadding AsymmetricSignaturePadding { get; }

    /// <summary>The URI of the asymmetric signature algorithm, as sent in SignatureData.Algorithm.</summary>
    public string AsymmetricSignatureAlgorithm { get; }

    public RSAEncryptionPadding AsymmetricEncryptionPadding { get; }

    /// <summary>The URI of the asymmetric encryption algorithm, as sent in an encrypted user-name token.</summary>
    public string AsymmetricEncryptionAlgorithm { get; }

    /// <summary>Bytes of an RSA block taken by the OAEP padding: 2 × hash length + 2 (42 for SHA-1, 66 for SHA-256).</summary>
    public int AsymmetricEncryptionOverhead { get; }

    /// <summary>The policy for a URI, or null for None and for policies this stack does not implement.</summary>
    public static UaSecurityPolicy? Find(string? uri) => uri switch
    {
        Basic256Sha256Uri => Basic256Sha256,
        Aes128Sha256RsaOaepUri => Aes128Sha256RsaOaep,
        Aes256Sha256RsaPssUri => Aes256Sha256RsaPss,
        _ => null,
    };

    public byte[] Sign(RSA privateKey, ReadOnlySpan<byte> data) => privateKey.SignData(data.ToArray(), HashAlgorithmName.SHA256, AsymmetricSignaturePadding);

    public bool Verify(RSA publicKey, ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature) =>
        publicKey.VerifyData(data, signature, HashAlgorithmName.SHA256, AsymmetricSignaturePadding);

    public override string ToString() => Uri[(Uri.IndexOf('#', StringComparison.Ordinal) + 1)..];
}
