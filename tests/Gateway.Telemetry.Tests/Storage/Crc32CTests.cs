using System.Text;
using FactoryGateway.Telemetry.Storage;

namespace FactoryGateway.Telemetry.Tests.Storage;

public sealed class Crc32CTests
{
    [Fact]
    public void Matches_the_Castagnoli_check_value()
    {
        // The catalogue check value of CRC-32/ISCSI (CRC-32C) over "123456789".
        Assert.Equal(0xE3069283u, Crc32C.Compute("123456789"u8));
        Assert.Equal(0u, Crc32C.Compute([]));
    }

    [Fact]
    public void Matches_the_RFC_3720_test_vectors()
    {
        // RFC 3720 (iSCSI) appendix B.4: 32 bytes of zeros, of 0xFF, and ascending 0..31.
        Assert.Equal(0x8A9136AAu, Crc32C.Compute(new byte[32]));
        Assert.Equal(0x62A8AB43u, Crc32C.Compute(Enumerable.Repeat((byte)0xFF, 32).ToArray()));
        Assert.Equal(0x46DD794Eu, Crc32C.Compute(Enumerable.Range(0, 32).Select(i => (byte)i).ToArray()));
    }

    [Fact]
    public void Appending_in_pieces_equals_computing_over_the_whole()
    {
        byte[] data = Encoding.ASCII.GetBytes("The quick brown fox jumps over the lazy dog, then over the lazy dog again.");
        uint whole = Crc32C.Compute(data);
        for (int split = 0; split <= data.Length; split++)
        {
            Assert.Equal(whole, Crc32C.Append(Crc32C.Compute(data.AsSpan(0, split)), data.AsSpan(split)));
        }
    }

    [Fact]
    public void Every_tail_length_past_the_eight_byte_steps_is_covered()
    {
        // Lengths 0..40 exercise the 8-byte loop, the 4-byte step and the single-byte tail; compare against
        // a bitwise reference implementation.
        byte[] data = Enumerable.Range(0, 40).Select(i => (byte)((i * 37) + 11)).ToArray();
        for (int length = 0; length <= data.Length; length++)
        {
            Assert.Equal(Reference(data.AsSpan(0, length)), Crc32C.Compute(data.AsSpan(0, length)));
        }

        static uint Reference(ReadOnlySpan<byte> bytes)
        {
            uint crc = uint.MaxValue;
            foreach (byte b in bytes)
            {
                crc ^= b;
                for (int bit = 0; bit < 8; bit++)
                {
                    crc = (crc & 1) != 0 ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
                }
            }

            return ~crc;
        }
    }
}
