using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using BenchmarkDotNet.Attributes;
using FactoryGateway.OpcUa.Pki;
using FactoryGateway.OpcUa.Transport.Security;

namespace FactoryGateway.Benchmarks;

/// <summary>
/// The symmetric cost of a secure channel: one 64 KiB message sealed (padding, HMAC-SHA256,
/// AES-CBC) into the chunks a 64 KiB ReceiveBufferSize allows, as the client sends it, and opened
/// (AES-CBC decryption, HMAC check, padding check) as the client receives it. Mean is per message
/// byte (OperationsPerInvoke = 65,536), so it reads as ns/byte.
/// <c>dotnet run -c Release --project benchmarks/Gateway.Benchmarks -- --filter '*OpcUaSecureChunk*'</c>
/// </summary>
[MemoryDiagnoser]
public class OpcUaSecureChunkBenchmarks : IDisposable
{
    private const int MessageBytes = 64 * 1024;
    private const int ChunkSize = 65_536;

    private SecureChannelCrypto _client = null!;
    private SecureChannelCrypto _server = null!;
    private X509Certificate2 _clientCertificate = null!;
    private X509Certificate2 _serverCertificate = null!;
    private byte[] _message = [];
    private byte[] _chunk = [];
    private byte[][] _sealed = [];
    private byte[] _scratch = [];

    [Params(UaSecurityPolicy.Basic256Sha256Uri, UaSecurityPolicy.Aes128Sha256RsaOaepUri)]
    public string Policy { get; set; } = UaSecurityPolicy.Basic256Sha256Uri;

    [GlobalSetup]
    public void Setup()
    {
        DateTimeOffset now = DateTimeOffset.UtcNow;
        _clientCertificate = CertificateStore.CreateApplicationCertificate("urn:bench:client", "client", "localhost", 2048, now, TimeSpan.FromDays(1));
        _serverCertificate = CertificateStore.CreateApplicationCertificate("urn:bench:server", "server", "localhost", 2048, now, TimeSpan.FromDays(1));
        UaSecurityPolicy policy = UaSecurityPolicy.Find(Policy)!;
        _client = new SecureChannelCrypto(new UaChannelSecurity(policy, true, _clientCertificate, _serverCertificate));
        _server = new SecureChannelCrypto(new UaChannelSecurity(policy, true, _serverCertificate, _clientCertificate));
        byte[] clientNonce = RandomNumberGenerator.GetBytes(32);
        byte[] serverNonce = RandomNumberGenerator.GetBytes(32);
        _client.InstallToken(1, clientNonce, serverNonce);
        _server.InstallToken(1, serverNonce, clientNonce);
        _message = RandomNumberGenerator.GetBytes(MessageBytes);
        _chunk = new byte[ChunkSize];
        _scratch = new byte[ChunkSize];
        var chunks = new List<byte[]>();
        int maxBody = _client.MaxSymmetricBody(ChunkSize);
        for (int offset = 0; offset < MessageBytes; offset += maxBody)
        {
            int size = SealOne(offset, Math.Min(maxBody, MessageBytes - offset));
            chunks.Add(_chunk[..size]);
        }

        _sealed = [.. chunks];
        if (Open() != MessageBytes)
        {
            throw new InvalidOperationException("the sealed chunks do not open to the message.");
        }
    }

    private int SealOne(int offset, int length)
    {
        "MSGC"u8.CopyTo(_chunk);
        _message.AsSpan(offset, length).CopyTo(_chunk.AsSpan(24));
        return _client.SealSymmetric(_chunk, 24 + length);
    }

    [Benchmark(OperationsPerInvoke = MessageBytes)]
    public int Seal()
    {
        int maxBody = _client.MaxSymmetricBody(ChunkSize);
        int total = 0;
        for (int offset = 0; offset < MessageBytes; offset += maxBody)
        {
            total += SealOne(offset, Math.Min(maxBody, MessageBytes - offset));
        }

        return total;
    }

    [Benchmark(OperationsPerInvoke = MessageBytes)]
    public int Open()
    {
        int body = 0;
        foreach (byte[] chunk in _sealed)
        {
            chunk.CopyTo(_scratch, 0); // opening decrypts in place; the receive path also works on a copy
            body += _server.OpenSymmetric(_scratch.AsSpan(0, chunk.Length)) - 24;
        }

        return body;
    }

    public void Dispose()
    {
        _client?.Dispose();
        _server?.Dispose();
        _clientCertificate?.Dispose();
        _serverCertificate?.Dispose();
        GC.SuppressFinalize(this);
    }
}
