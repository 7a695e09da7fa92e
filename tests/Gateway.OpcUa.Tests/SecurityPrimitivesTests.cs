using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using FactoryGateway.OpcUa.Encoding;
using FactoryGateway.OpcUa.Pki;
using FactoryGateway.OpcUa.Transport;
using FactoryGateway.OpcUa.Transport.Security;

namespace FactoryGateway.OpcUa.Tests;

/// <summary>
/// The secure channel's primitives without a peer: P_SHA256 against the published TLS 1.2 PRF
/// vector, padding arithmetic, and chunks sealed by one side and opened by a mirror of the other
/// (its keys derived from the same nonces the other way round), including tampering.
/// </summary>
public sealed class SecurityPrimitivesTests
{
    private static readonly DateTimeOffset s_now = DateTimeOffset.UtcNow;
    private static readonly Lazy<X509Certificate2> s_client = new(() => Certificate("urn:test:client", 2048));
    private static readonly Lazy<X509Certificate2> s_server = new(() => Certificate("urn:test:server", 2048));
    private static readonly Lazy<X509Certificate2> s_server4096 = new(() => Certificate("urn:test:server4096", 4096));

    private static X509Certificate2 Certificate(string uri, int bits) =>
        CertificateStore.CreateApplicationCertificate(uri, "test", "localhost", bits, s_now, TimeSpan.FromDays(1));

    [Fact]
    public void P_SHA256_matches_the_published_TLS_1_2_PRF_vector()
    {
        // The TLS 1.2 PRF test vector posted to the IETF TLS list (msg03416): PRF = P_SHA256(secret, label + seed).
        byte[] secret = Convert.FromHexString("9bbe436ba940f017b17652849a71db35");
        byte[] seed = [.. "test label"u8, .. Convert.FromHexString("a0ba9f936cda311827a6f796ffd5198c")];
        byte[] expected = Convert.FromHexString(
            "e3f229ba727be17b8d122620557cd453c2aab21d07c3d495329b52d4e61edb5a6b301791e90d35c9c9a46b4e14baf9af0fa022f7077def17abfd3797c0564bab4fbc91666e9def9b97fce34f796789baa48082d122ee42c5a72e5a5110fff70187347b66");

        Assert.Equal(expected, PSha256.Derive(secret, seed, 100));
        Assert.Equal(expected[..32], PSha256.Derive(secret, seed, 32));
        Assert.Equal(expected[..80], PSha256.Derive(secret, seed, 80)); // 2.5 HMAC blocks, as 32 + 16 + 16 key material needs
    }

    [Theory]
    [InlineData(0, 16, 0)]
    [InlineData(1, 16, 15)]
    [InlineData(16, 16, 0)]
    [InlineData(17, 16, 15)]
    [InlineData(31, 16, 1)]
    [InlineData(100, 214, 114)]   // one 2,048-bit OAEP-SHA1 block holds 214 bytes
    [InlineData(446, 446, 0)]     // one 4,096-bit OAEP-SHA1 block holds 446 bytes
    public void Padding_fills_to_the_next_block(int unpadded, int block, int expected)
    {
        Assert.Equal(expected, SecureChannelCrypto.PaddingFor(unpadded, block));
        Assert.Equal(0, (unpadded + expected) % block);
    }

    [Theory]
    [InlineData(UaSecurityPolicy.Basic256Sha256Uri, true)]
    [InlineData(UaSecurityPolicy.Basic256Sha256Uri, false)]
    [InlineData(UaSecurityPolicy.Aes128Sha256RsaOaepUri, true)]
    [InlineData(UaSecurityPolicy.Aes256Sha256RsaPssUri, true)]
    public void Symmetric_chunks_of_every_size_round_trip_and_fill_the_chunk(string policyUri, bool encrypt)
    {
        (SecureChannelCrypto client, SecureChannelCrypto server) = Pair(policyUri, encrypt, s_server.Value);
        const int ChunkSize = 8192;
        int maxBody = client.MaxSymmetricBody(ChunkSize);
        foreach (int length in new[] { 0, 1, 15, 16, 17, 100, maxBody - 1, maxBody })
        {
            byte[] chunk = new byte[ChunkSize];
            int plainEnd = WritePlain(chunk, length, out byte[] body);
            int size = client.SealSymmetric(chunk, plainEnd);

            Assert.InRange(size, plainEnd, ChunkSize);
            Assert.Equal((uint)size, BinaryPrimitives.ReadUInt32LittleEndian(chunk.AsSpan(4)));
            if (encrypt)
            {
                Assert.Equal(0, (size - SecureChannelCrypto.SymmetricSecurityHeaderEnd) % 16);
                Assert.False(chunk.AsSpan(24, length).SequenceEqual(body) && length > 16, "the body went out in clear");
            }

            int end = server.OpenSymmetric(chunk.AsSpan(0, size));
            Assert.Equal(plainEnd, end);
            Assert.Equal(body, chunk[24..end]);
        }

        Assert.True(maxBody > ChunkSize - 100);
    }

    [Theory]
    [InlineData(4)]     // message size field (signed)
    [InlineData(13)]    // token id → unknown token
    [InlineData(20)]    // first encrypted block
    [InlineData(200)]   // body
    [InlineData(-1)]    // last byte: signature
    public void A_flipped_bit_anywhere_fails_the_chunk_with_a_status(int offset)
    {
        (SecureChannelCrypto client, SecureChannelCrypto server) = Pair(UaSecurityPolicy.Aes256Sha256RsaPssUri, encrypt: true, s_server.Value);
        byte[] chunk = new byte[8192];
        int size = client.SealSymmetric(chunk, WritePlain(chunk, 500, out _));
        chunk[offset < 0 ? size + offset : offset] ^= 0x10;

        UaServiceException error = Assert.Throws<UaServiceException>(() => server.OpenSymmetric(chunk.AsSpan(0, size)));

        Assert.Contains(error.Status.CodeBits, new uint[] { StatusCode.BadSecurityChecksFailed, StatusCode.BadSecureChannelTokenUnknown });
    }

    [Fact]
    public void After_a_renewal_chunks_under_the_previous_token_still_open_and_older_ones_do_not()
    {
        (SecureChannelCrypto client, SecureChannelCrypto server) = Pair(UaSecurityPolicy.Basic256Sha256Uri, encrypt: true, s_server.Value);
        byte[] old = new byte[8192];
        int oldSize = client.SealSymmetric(old, WritePlain(old, 50, out _));
        byte[] clientNonce = RandomNumberGenerator.GetBytes(32);
        byte[] serverNonce = RandomNumberGenerator.GetBytes(32);
        client.InstallToken(2, clientNonce, serverNonce);
        server.InstallToken(2, serverNonce, clientNonce);
        byte[] fresh = new byte[8192];
        int freshSize = client.SealSymmetric(fresh, WritePlain(fresh, 50, out _));

        Assert.Equal(2u, BinaryPrimitives.ReadUInt32LittleEndian(fresh.AsSpan(12)));
        server.OpenSymmetric(fresh.AsSpan(0, freshSize));
        server.OpenSymmetric(old.AsSpan(0, oldSize));
        server.InstallToken(3, RandomNumberGenerator.GetBytes(32), RandomNumberGenerator.GetBytes(32));
        UaServiceException error = Assert.Throws<UaServiceException>(() => server.OpenSymmetric(old.AsSpan(0, oldSize)));
        Assert.Equal(StatusCode.BadSecureChannelTokenUnknown, error.Status.CodeBits);
    }

    [Theory]
    [InlineData(UaSecurityPolicy.Basic256Sha256Uri, 2048)]
    [InlineData(UaSecurityPolicy.Aes256Sha256RsaPssUri, 2048)]
    [InlineData(UaSecurityPolicy.Basic256Sha256Uri, 4096)]   // ExtraPaddingSize: the receiver's key is over 2,048 bits
    [InlineData(UaSecurityPolicy.Aes256Sha256RsaPssUri, 4096)]
    public void OpenSecureChannel_chunks_round_trip_through_RSA_and_reject_tampering(string policyUri, int serverBits)
    {
        X509Certificate2 serverCertificate = serverBits == 4096 ? s_server4096.Value : s_server.Value;
        (SecureChannelCrypto client, SecureChannelCrypto server) = Pair(policyUri, encrypt: true, serverCertificate);
        foreach (int length in new[] { 1, 120, 500 })
        {
            byte[] chunk = new byte[length + 256 + client.AsymmetricOverhead];
            "OPNF"u8.CopyTo(chunk);
            int headerEnd = client.WriteAsymmetricHeader(chunk, 12);
            byte[] body = RandomNumberGenerator.GetBytes(length + 8);
            body.CopyTo(chunk, headerEnd);
            int size = client.SealAsymmetric(chunk, headerEnd, headerEnd + body.Length);

            byte[] copy = chunk[..size];
            int end = server.OpenAsymmetric(copy);
            Assert.Equal(body, copy[headerEnd..end]);

            chunk[size - 3] ^= 1;
            UaServiceException error = Assert.Throws<UaServiceException>(() => server.OpenAsymmetric(chunk.AsSpan(0, size)));
            Assert.Equal(StatusCode.BadSecurityChecksFailed, error.Status.CodeBits);
        }
    }

    [Fact]
    public void Padding_that_does_not_match_its_length_is_rejected()
    {
        byte[] chunk = new byte[64];
        chunk.AsSpan(40, 4).Fill(3);     // PaddingSize 3 and three padding bytes, then the signature at 44
        Assert.Equal(40, SecureChannelCrypto.RemovePadding(chunk, 24, 44, extraPadding: false));

        chunk[41] = 2;
        Assert.Equal(StatusCode.BadSecurityChecksFailed, Assert.Throws<UaServiceException>(() => SecureChannelCrypto.RemovePadding(chunk, 24, 44, false)).Status.CodeBits);
        chunk[43] = 30;                  // a length reaching before the body
        Assert.Equal(StatusCode.BadSecurityChecksFailed, Assert.Throws<UaServiceException>(() => SecureChannelCrypto.RemovePadding(chunk, 24, 44, false)).Status.CodeBits);
    }

    [Fact]
    public void The_first_certificate_of_a_chain_is_cut_at_its_DER_length()
    {
        byte[] one = s_client.Value.RawData;
        byte[] chain = [.. one, .. s_server.Value.RawData];

        Assert.Equal(one, SecureChannelCrypto.FirstCertificate(chain).ToArray());
        Assert.Equal(one, SecureChannelCrypto.FirstCertificate(one).ToArray());
    }

    private static int WritePlain(byte[] chunk, int length, out byte[] body)
    {
        "MSGF"u8.CopyTo(chunk);
        BinaryPrimitives.WriteUInt32LittleEndian(chunk.AsSpan(8), 7);     // channel id
        BinaryPrimitives.WriteUInt32LittleEndian(chunk.AsSpan(16), 42);   // sequence number
        BinaryPrimitives.WriteUInt32LittleEndian(chunk.AsSpan(20), 9);    // request id
        body = RandomNumberGenerator.GetBytes(length);
        body.CopyTo(chunk, 24);
        return 24 + length;
    }

    /// <summary>A client and a mirror that plays the server: certificates swapped, nonces swapped, so it opens what the client seals.</summary>
    private static (SecureChannelCrypto Client, SecureChannelCrypto Server) Pair(string policyUri, bool encrypt, X509Certificate2 serverCertificate)
    {
        UaSecurityPolicy policy = UaSecurityPolicy.Find(policyUri)!;
        var client = new SecureChannelCrypto(new UaChannelSecurity(policy, encrypt, s_client.Value, serverCertificate));
        var server = new SecureChannelCrypto(new UaChannelSecurity(policy, encrypt, serverCertificate, s_client.Value));
        byte[] clientNonce = RandomNumberGenerator.GetBytes(32);
        byte[] serverNonce = RandomNumberGenerator.GetBytes(32);
        client.InstallToken(1, clientNonce, serverNonce);
        server.InstallToken(1, serverNonce, clientNonce);
        return (client, server);
    }
}
