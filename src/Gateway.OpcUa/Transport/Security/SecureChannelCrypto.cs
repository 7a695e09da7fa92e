using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using FactoryGateway.OpcUa.Encoding;

namespace FactoryGateway.OpcUa.Transport.Security;

/// <summary>
/// Signs, encrypts, verifies and decrypts the chunks of one secure channel (OPC 10000-6 §6.7), on
/// either side of it (the client's <see cref="UaTcpChannel"/> and the server's connection):
/// OpenSecureChannel chunks with RSA (the sender's key signs, the receiver's key encrypts), every
/// other chunk with the symmetric keys derived from the two nonces.
/// A chunk that fails a check throws <see cref="UaServiceException"/> (<c>BadSecurityChecksFailed</c>
/// or a more precise code); nothing else escapes.
/// </summary>
internal sealed class SecureChannelCrypto : IDisposable
{
    /// <summary>Message header (8), SecureChannelId (4) and TokenId (4): the bytes before the encrypted part of a MSG/CLO chunk.</summary>
    public const int SymmetricSecurityHeaderEnd = 16;

    /// <summary>SequenceNumber and RequestId.</summary>
    public const int SequenceHeaderSize = 8;

    private readonly RSA _localKey;
    private readonly RSA _remoteKey;
    private readonly byte[] _localCertificate;
    private readonly byte[] _remoteCertificate;
    private readonly byte[] _localThumbprint;
    private readonly byte[] _remoteThumbprint;
    private readonly byte[] _policyUri;
    private readonly bool _isServer;
    private readonly Lock _keysLock = new();
    private SymmetricKeys? _current;
    private SymmetricKeys? _previous;
    // The keys we seal with. A client moves to a new token as soon as it has it; a server keeps the old token for
    // what it sends until the client's first chunk under the new one arrives (OPC 10000-6 §6.7.4), as the client
    // cannot read a chunk under a token whose OpenSecureChannel response it has not processed yet.
    private SymmetricKeys? _sending;

    /// <summary>The client's side of a channel: our application certificate signs, the server's encrypts.</summary>
    public SecureChannelCrypto(UaChannelSecurity security)
        : this(security.Policy, security.Encrypt, security.ClientCertificate, security.ServerCertificate, isServer: false)
    {
        Security = security;
    }

    private SecureChannelCrypto(UaSecurityPolicy policy, bool encrypt, X509Certificate2 local, X509Certificate2 remote, bool isServer)
    {
        Policy = policy;
        Encrypt = encrypt;
        _isServer = isServer;
        Security = new UaChannelSecurity(policy, encrypt, isServer ? remote : local, isServer ? local : remote);
        _localKey = local.GetRSAPrivateKey()
            ?? throw new UaServiceException(StatusCode.BadCertificateInvalid, "the application certificate has no RSA private key.");
        _remoteKey = remote.GetRSAPublicKey()
            ?? throw new UaServiceException(StatusCode.BadCertificateInvalid, $"the {Peer} certificate has no RSA public key.");
        CheckKeySize(_localKey, "application");
        CheckKeySize(_remoteKey, Peer);
        _localCertificate = local.RawData;
        _remoteCertificate = remote.RawData;
#pragma warning disable CA5350 // OPC 10000-6 §6.7.2.3 names certificates by their SHA-1 thumbprint; no security rests on it.
        _localThumbprint = SHA1.HashData(_localCertificate);
        _remoteThumbprint = SHA1.HashData(_remoteCertificate);
#pragma warning restore CA5350
        _policyUri = System.Text.Encoding.UTF8.GetBytes(Policy.Uri);
    }

    /// <summary>
    /// The server's side of a channel: <paramref name="serverCertificate"/> (with its private key)
    /// decrypts and signs, the client certificate from the OpenSecureChannel request (already checked
    /// against the trust list) verifies and encrypts. Sign or SignAndEncrypt is set by <see cref="Encrypt"/>
    /// once the request's MessageSecurityMode is known.
    /// </summary>
    public static SecureChannelCrypto ForServer(UaSecurityPolicy policy, X509Certificate2 serverCertificate, X509Certificate2 clientCertificate) =>
        new(policy, encrypt: true, serverCertificate, clientCertificate, isServer: true);

    /// <summary>The channel's policy, mode and certificates (on the server, ClientCertificate carries no private key).</summary>
    public UaChannelSecurity Security { get; private set; }

    public UaSecurityPolicy Policy { get; }

    /// <summary>Whether MSG/CLO chunks are encrypted as well as signed (SignAndEncrypt).</summary>
    public bool Encrypt { get; private set; }

    /// <summary>On the server, sets Sign or SignAndEncrypt from the OpenSecureChannel request's MessageSecurityMode.</summary>
    public void SetEncrypt(bool encrypt)
    {
        Encrypt = encrypt;
        Security = Security with { Encrypt = encrypt };
    }

    /// <summary>The token whose keys protect the chunks we send now (0 before the channel opens).</summary>
    public uint CurrentTokenId
    {
        get
        {
            lock (_keysLock)
            {
                return _sending?.TokenId ?? 0;
            }
        }
    }

    /// <summary>The sender certificate a received OpenSecureChannel carries: the server's, or on the server the client's.</summary>
    private string Peer => _isServer ? "client" : "server";

    private int LocalKeyBytes => _localKey.KeySize / 8;

    private int RemoteKeyBytes => _remoteKey.KeySize / 8;

    private void CheckKeySize(RSA key, string which)
    {
        if (key.KeySize < Policy.MinAsymmetricKeyLength || key.KeySize > Policy.MaxAsymmetricKeyLength)
        {
            throw new UaServiceException(StatusCode.BadCertificatePolicyCheckFailed,
                $"the {which} certificate's RSA key has {key.KeySize} bits; {Policy} needs {Policy.MinAsymmetricKeyLength}..{Policy.MaxAsymmetricKeyLength}.");
        }
    }

    /// <summary>Bytes an OpenSecureChannel chunk needs beyond its body, padding and RSA expansion included (an upper bound).</summary>
    public int AsymmetricOverhead => 64 + _policyUri.Length + _localCertificate.Length + 20 + (2 * (LocalKeyBytes + RemoteKeyBytes)) + (4 * RemoteKeyBytes);

    /// <summary>The largest body of a MSG/CLO chunk of <paramref name="chunkSize"/> bytes.</summary>
    public int MaxSymmetricBody(int chunkSize)
    {
        if (!Encrypt)
        {
            return chunkSize - SymmetricSecurityHeaderEnd - SequenceHeaderSize - Policy.SymmetricSignatureLength;
        }

        // The encrypted part (sequence header, body, padding size byte, padding, signature) is a whole number of blocks.
        int block = Policy.SymmetricBlockSize;
        int encrypted = (chunkSize - SymmetricSecurityHeaderEnd) / block * block;
        return encrypted - SequenceHeaderSize - Policy.SymmetricSignatureLength - 1;
    }

    /// <summary>Padding bytes (after the PaddingSize byte) so that <paramref name="unpadded"/> plus the padding is a multiple of <paramref name="block"/>.</summary>
    public static int PaddingFor(int unpadded, int block) => (block - (unpadded % block)) % block;

    /// <summary>Writes the asymmetric security header (OPC 10000-6 §6.7.2.3) at <paramref name="at"/>; returns where it ends.</summary>
    public int WriteAsymmetricHeader(Span<byte> chunk, int at)
    {
        BinaryPrimitives.WriteInt32LittleEndian(chunk[at..], _policyUri.Length);
        _policyUri.CopyTo(chunk[(at + 4)..]);
        at += 4 + _policyUri.Length;
        BinaryPrimitives.WriteInt32LittleEndian(chunk[at..], _localCertificate.Length);
        _localCertificate.CopyTo(chunk[(at + 4)..]);
        at += 4 + _localCertificate.Length;
        BinaryPrimitives.WriteInt32LittleEndian(chunk[at..], _remoteThumbprint.Length);
        _remoteThumbprint.CopyTo(chunk[(at + 4)..]);
        return at + 4 + _remoteThumbprint.Length;
    }

    /// <summary>
    /// Pads, signs (client key) and encrypts (server key) an OpenSecureChannel chunk whose plaintext
    /// sequence header starts at <paramref name="headerEnd"/> and whose body ends at
    /// <paramref name="plainEnd"/>; writes the MessageSize and returns the chunk's length.
    /// </summary>
    public int SealAsymmetric(byte[] chunk, int headerEnd, int plainEnd)
    {
        int signatureLength = LocalKeyBytes;
        int cipherBlock = RemoteKeyBytes;
        int plainBlock = cipherBlock - Policy.AsymmetricEncryptionOverhead;
        bool extraPadding = cipherBlock > 256;
        int unpadded = plainEnd - headerEnd + 1 + (extraPadding ? 1 : 0) + signatureLength;
        int padding = PaddingFor(unpadded, plainBlock);
        int at = plainEnd;
        chunk[at++] = (byte)padding;
        chunk.AsSpan(at, padding).Fill((byte)padding);
        at += padding;
        if (extraPadding)
        {
            chunk[at++] = (byte)(padding >> 8);
        }

        int plainLength = at + signatureLength - headerEnd;
        int blocks = plainLength / plainBlock;
        int size = headerEnd + (blocks * cipherBlock);
        BinaryPrimitives.WriteUInt32LittleEndian(chunk.AsSpan(4), (uint)size);
        byte[] signature = Policy.Sign(_localKey, chunk.AsSpan(0, at));
        signature.CopyTo(chunk, at);
        byte[] plain = chunk.AsSpan(headerEnd, plainLength).ToArray();
        for (int i = 0; i < blocks; i++)
        {
            if (!_remoteKey.TryEncrypt(plain.AsSpan(i * plainBlock, plainBlock), chunk.AsSpan(headerEnd + (i * cipherBlock), cipherBlock), Policy.AsymmetricEncryptionPadding, out int written) || written != cipherBlock)
            {
                throw new UaServiceException(StatusCode.BadEncodingError, "RSA encryption of the OpenSecureChannel chunk failed.");
            }
        }

        return size;
    }

    /// <summary>
    /// Checks and decrypts a whole OpenSecureChannel chunk from the peer (<paramref name="chunk"/>
    /// holds the 8-byte message header too): its policy, that it carries the peer's certificate and
    /// names our certificate, the RSA decryption with our key, the signature with the peer's key and
    /// the padding. The plaintext replaces the ciphertext in place; returns where the body ends.
    /// </summary>
    public int OpenAsymmetric(Span<byte> chunk)
    {
        try
        {
            var d = new UaBinaryDecoder(chunk[12..], UaDecoderLimits.Default);
            string? policy = d.ReadString("SecurityPolicyUri");
            if (policy != Policy.Uri)
            {
                throw new UaServiceException(StatusCode.BadSecurityPolicyRejected, $"the {Peer} sent OpenSecureChannel with security policy '{policy}', not {Policy.Uri}.");
            }

            ReadOnlySpan<byte> sender = d.ReadByteString("SenderCertificate").Span;
            if (!FirstCertificate(sender).SequenceEqual(_remoteCertificate))
            {
                throw new UaServiceException(StatusCode.BadCertificateInvalid, $"the {Peer} signed OpenSecureChannel with a certificate other than the channel's.");
            }

            if (!d.ReadByteString("ReceiverCertificateThumbprint").Span.SequenceEqual(_localThumbprint))
            {
                throw new UaServiceException(StatusCode.BadCertificateInvalid, $"the {Peer} encrypted OpenSecureChannel for a certificate other than ours.");
            }

            int headerEnd = 12 + d.Position;
            int cipherBlock = LocalKeyBytes;
            int cipherLength = chunk.Length - headerEnd;
            if (cipherLength <= 0 || cipherLength % cipherBlock != 0)
            {
                throw new UaServiceException(StatusCode.BadSecurityChecksFailed, $"the encrypted part of OpenSecureChannel is {cipherLength} bytes, not a multiple of the {cipherBlock}-byte RSA block.");
            }

            byte[] cipher = chunk[headerEnd..].ToArray();
            int plainLength = 0;
            for (int i = 0; i < cipher.Length; i += cipherBlock)
            {
                if (!_localKey.TryDecrypt(cipher.AsSpan(i, cipherBlock), chunk[(headerEnd + plainLength)..], Policy.AsymmetricEncryptionPadding, out int written))
                {
                    throw new UaServiceException(StatusCode.BadSecurityChecksFailed, $"the {Peer}'s OpenSecureChannel could not be decrypted.");
                }

                plainLength += written;
            }

            int plainEnd = headerEnd + plainLength;
            int signatureStart = plainEnd - RemoteKeyBytes;
            if (signatureStart < headerEnd + SequenceHeaderSize + 1)
            {
                throw new UaServiceException(StatusCode.BadSecurityChecksFailed, $"the {Peer}'s OpenSecureChannel is too short for its signature.");
            }

            if (!Policy.Verify(_remoteKey, chunk[..signatureStart], chunk[signatureStart..plainEnd]))
            {
                throw new UaServiceException(StatusCode.BadSecurityChecksFailed, $"the signature of the {Peer}'s OpenSecureChannel is invalid.");
            }

            return RemovePadding(chunk, headerEnd + SequenceHeaderSize, signatureStart, extraPadding: cipherBlock > 256);
        }
        catch (CryptographicException ex)
        {
            throw new UaServiceException(StatusCode.BadSecurityChecksFailed, $"the {Peer}'s OpenSecureChannel failed decryption or signature checks: " + ex.Message, ex);
        }
        catch (UaDecodeException ex)
        {
            throw new UaServiceException(StatusCode.BadSecurityChecksFailed, "the asymmetric security header is malformed: " + ex.Message, ex);
        }
    }

    /// <summary>
    /// Finds where the body ends: the last byte before <paramref name="signatureStart"/> is a padding
    /// byte (every padding byte and the PaddingSize byte hold the padding length), or, with a key over
    /// 2,048 bits, the ExtraPaddingSize byte holding the length's high byte. Checks every padding byte.
    /// </summary>
    public static int RemovePadding(ReadOnlySpan<byte> chunk, int bodyStart, int signatureStart, bool extraPadding)
    {
        int at = signatureStart - 1;
        int padding = chunk[at];
        if (extraPadding)
        {
            at--;
            padding = (padding << 8) | chunk[at];
        }

        int paddingSizeAt = at - padding;
        if (paddingSizeAt < bodyStart)
        {
            throw new UaServiceException(StatusCode.BadSecurityChecksFailed, $"the padding length {padding} runs past the start of the body.");
        }

        byte value = (byte)padding;
        for (int i = paddingSizeAt; i < at; i++)
        {
            if (chunk[i] != value)
            {
                throw new UaServiceException(StatusCode.BadSecurityChecksFailed, $"padding byte {i - paddingSizeAt} is 0x{chunk[i]:X2}, not 0x{value:X2}.");
            }
        }

        return paddingSizeAt;
    }

    /// <summary>
    /// Derives the keys of a newly issued token from the two nonces (OPC 10000-6 §6.7.5): the client's
    /// keys from P_SHA256(ServerNonce, ClientNonce), the server's from P_SHA256(ClientNonce, ServerNonce),
    /// each split into signing key, encrypting key and IV. The previous token's keys stay valid for
    /// chunks the peer sends until it switches to the new token. A client sends with the new token from here on; a
    /// server from the client's first chunk under it.
    /// </summary>
    public void InstallToken(uint tokenId, ReadOnlySpan<byte> clientNonce, ReadOnlySpan<byte> serverNonce)
    {
        ReadOnlySpan<byte> peerNonce = _isServer ? clientNonce : serverNonce;
        if (peerNonce.Length != Policy.NonceLength)
        {
            throw new UaServiceException(StatusCode.BadNonceInvalid, $"the {Peer} nonce has {peerNonce.Length} bytes; {Policy} needs {Policy.NonceLength}.");
        }

        // The keys two tokens back are not disposed here: the reader loop may still hold them for a
        // moment; their AES objects are released when collected.
        var keys = new SymmetricKeys(tokenId, Policy, clientNonce, serverNonce, _isServer);
        lock (_keysLock)
        {
            _previous = _current;
            _current = keys;
            if (!_isServer || _sending is null)
            {
                _sending = keys;
            }
        }
    }

    /// <summary>
    /// Pads (SignAndEncrypt), signs and encrypts a MSG/CLO chunk in place: <paramref name="chunk"/>
    /// holds the header, channel id, sequence header and body up to <paramref name="plainEnd"/>. Writes
    /// the current TokenId and the MessageSize; returns the chunk's length.
    /// </summary>
    public int SealSymmetric(Span<byte> chunk, int plainEnd)
    {
        SymmetricKeys keys;
        lock (_keysLock)
        {
            keys = _sending ?? throw new UaServiceException(StatusCode.BadSecureChannelTokenUnknown, "no security token has been issued yet.");
        }

        BinaryPrimitives.WriteUInt32LittleEndian(chunk[12..], keys.TokenId);
        int at = plainEnd;
        if (Encrypt)
        {
            int padding = PaddingFor(plainEnd - SymmetricSecurityHeaderEnd + 1 + Policy.SymmetricSignatureLength, Policy.SymmetricBlockSize);
            chunk.Slice(at, padding + 1).Fill((byte)padding);
            at += padding + 1;
        }

        int size = at + Policy.SymmetricSignatureLength;
        BinaryPrimitives.WriteUInt32LittleEndian(chunk[4..], (uint)size);
        HMACSHA256.HashData(keys.SendSigningKey, chunk[..at], chunk[at..size]);
        if (Encrypt)
        {
            Span<byte> encrypted = chunk[SymmetricSecurityHeaderEnd..size];
            keys.SendAes.EncryptCbc(encrypted, keys.SendIv, encrypted, PaddingMode.None);
        }

        return size;
    }

    /// <summary>
    /// Decrypts (SignAndEncrypt) and verifies a whole MSG/CLO chunk from the peer in place with the
    /// keys of the token it names; returns where its body ends.
    /// </summary>
    public int OpenSymmetric(Span<byte> chunk)
    {
        uint tokenId = BinaryPrimitives.ReadUInt32LittleEndian(chunk[12..]);
        SymmetricKeys keys;
        lock (_keysLock)
        {
            keys = _current?.TokenId == tokenId ? _current
                : _previous?.TokenId == tokenId ? _previous
                : throw new UaServiceException(StatusCode.BadSecureChannelTokenUnknown, $"a chunk uses security token {tokenId}, which this channel does not hold.");
            if (_isServer && keys == _current)
            {
                _sending = _current; // the client uses the new token: so do we from now on
            }
        }

        int signatureStart = chunk.Length - Policy.SymmetricSignatureLength;
        if (signatureStart < SymmetricSecurityHeaderEnd + SequenceHeaderSize + (Encrypt ? 1 : 0))
        {
            throw new UaServiceException(StatusCode.BadSecurityChecksFailed, $"a {chunk.Length}-byte chunk is too short for its sequence header and signature.");
        }

        try
        {
            if (Encrypt)
            {
                Span<byte> encrypted = chunk[SymmetricSecurityHeaderEnd..];
                if (encrypted.Length % Policy.SymmetricBlockSize != 0)
                {
                    throw new UaServiceException(StatusCode.BadSecurityChecksFailed, $"the encrypted part of a chunk is {encrypted.Length} bytes, not a multiple of the AES block.");
                }

                keys.ReceiveAes.DecryptCbc(encrypted, keys.ReceiveIv, encrypted, PaddingMode.None);
            }

            Span<byte> expected = stackalloc byte[32];
            HMACSHA256.HashData(keys.ReceiveSigningKey, chunk[..signatureStart], expected);
            if (!CryptographicOperations.FixedTimeEquals(expected, chunk[signatureStart..]))
            {
                throw new UaServiceException(StatusCode.BadSecurityChecksFailed, "a chunk's signature is invalid.");
            }
        }
        catch (CryptographicException ex)
        {
            throw new UaServiceException(StatusCode.BadSecurityChecksFailed, "a chunk could not be decrypted: " + ex.Message, ex);
        }

        return Encrypt ? RemovePadding(chunk, SymmetricSecurityHeaderEnd + SequenceHeaderSize, signatureStart, extraPadding: false) : signatureStart;
    }

    /// <summary>The first certificate of a DER chain (certificates sent one after another): its SEQUENCE's length.</summary>
    public static ReadOnlySpan<byte> FirstCertificate(ReadOnlySpan<byte> chain)
    {
        if (chain.Length < 4 || chain[0] != 0x30)
        {
            return chain;
        }

        int length;
        int header;
        if (chain[1] < 0x80)
        {
            length = chain[1];
            header = 2;
        }
        else
        {
            int bytes = chain[1] & 0x7F;
            if (bytes is 0 or > 3 || chain.Length < 2 + bytes)
            {
                return chain;
            }

            length = 0;
            for (int i = 0; i < bytes; i++)
            {
                length = (length << 8) | chain[2 + i];
            }

            header = 2 + bytes;
        }

        return header + length <= chain.Length ? chain[..(header + length)] : chain;
    }

    public void Dispose()
    {
        lock (_keysLock)
        {
            _current?.Dispose();
            _previous?.Dispose();
        }

        _localKey.Dispose();
        _remoteKey.Dispose();
    }

    /// <summary>One token's keys: the client's (P_SHA256(ServerNonce, ClientNonce)) protect what the client sends, the server's what the server sends.</summary>
    private sealed class SymmetricKeys : IDisposable
    {
        public SymmetricKeys(uint tokenId, UaSecurityPolicy policy, ReadOnlySpan<byte> clientNonce, ReadOnlySpan<byte> serverNonce, bool isServer)
        {
            TokenId = tokenId;
            int sign = policy.SymmetricSigningKeyLength;
            int encrypt = policy.SymmetricEncryptionKeyLength;
            int iv = policy.SymmetricBlockSize;
            byte[] client = PSha256.Derive(serverNonce, clientNonce, sign + encrypt + iv);
            byte[] server = PSha256.Derive(clientNonce, serverNonce, sign + encrypt + iv);
            byte[] send = isServer ? server : client;
            byte[] receive = isServer ? client : server;
            SendSigningKey = send[..sign];
            SendIv = send[(sign + encrypt)..];
            ReceiveSigningKey = receive[..sign];
            ReceiveIv = receive[(sign + encrypt)..];
            SendAes = Aes.Create();
            SendAes.Key = send[sign..(sign + encrypt)];
            ReceiveAes = Aes.Create();
            ReceiveAes.Key = receive[sign..(sign + encrypt)];
            CryptographicOperations.ZeroMemory(client);
            CryptographicOperations.ZeroMemory(server);
        }

        public uint TokenId { get; }

        public byte[] SendSigningKey { get; }

        public byte[] SendIv { get; }

        public Aes SendAes { get; }

        public byte[] ReceiveSigningKey { get; }

        public byte[] ReceiveIv { get; }

        public Aes ReceiveAes { get; }

        public void Dispose()
        {
            SendAes.Dispose();
            ReceiveAes.Dispose();
        }
    }
}
