using System.Security.Cryptography;

namespace FactoryGateway.OpcUa.Transport.Security;

/// <summary>
/// The P_SHA256 pseudo-random function of TLS 1.2 (RFC 5246 §5), which OPC UA uses to derive the
/// symmetric keys of a secure channel from the two nonces (OPC 10000-6 §6.7.5):
/// A(0) = seed, A(i) = HMAC(secret, A(i-1)), output = HMAC(secret, A(1) + seed) + HMAC(secret, A(2) + seed) + …
/// </summary>
public static class PSha256
{
    public static void Derive(ReadOnlySpan<byte> secret, ReadOnlySpan<byte> seed, Span<byte> output)
    {
        const int HashLength = 32;
        byte[] a = new byte[HashLength + seed.Length];
        HMACSHA256.HashData(secret, seed, a.AsSpan(0, HashLength)); // A(1)
        seed.CopyTo(a.AsSpan(HashLength));
        Span<byte> block = stackalloc byte[HashLength];
        Span<byte> next = stackalloc byte[HashLength];
        int written = 0;
        while (written < output.Length)
        {
            HMACSHA256.HashData(secret, a, block);                               // HMAC(secret, A(i) + seed)
            int n = Math.Min(HashLength, output.Length - written);
            block[..n].CopyTo(output[written..]);
            written += n;
            HMACSHA256.HashData(secret, a.AsSpan(0, HashLength), next); // A(i+1)
            next.CopyTo(a);
        }
    }

    public static byte[] Derive(ReadOnlySpan<byte> secret, ReadOnlySpan<byte> seed, int length)
    {
        byte[] output = new byte[length];
        Derive(secret, seed, output);
        return output;
    }
}
