using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace FactoryGateway.Telemetry.Storage;

/// <summary>
/// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78, initial value and final XOR 0xFFFFFFFF),
/// the checksum of iSCSI, ext4 metadata and Kafka record batches. It runs on
/// <see cref="BitOperations.Crc32C(uint, ulong)"/>, which is the SSE4.2 / ARMv8 CRC32C instruction where
/// the CPU has one, eight bytes per step.
/// </summary>
public static class Crc32C
{
    /// <summary>Returns the CRC-32C of <paramref name="data"/>.</summary>
    public static uint Compute(ReadOnlySpan<byte> data) => ~Update(uint.MaxValue, data);

    /// <summary>
    /// Continues a finished CRC-32C (as returned by <see cref="Compute"/>) over more bytes:
    /// <c>Append(Compute(a), b) == Compute(a ++ b)</c>.
    /// </summary>
    public static uint Append(uint crc, ReadOnlySpan<byte> data) => ~Update(~crc, data);

    // The raw register update: no initial value, no final XOR.
    private static uint Update(uint state, ReadOnlySpan<byte> data)
    {
        ref byte start = ref MemoryMarshal.GetReference(data);
        int length = data.Length;
        int offset = 0;

        for (; length - offset >= sizeof(ulong); offset += sizeof(ulong))
        {
            ulong word = Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref start, offset));
            // The CRC is defined over the bytes in memory order, which is a little-endian read.
            state = BitOperations.Crc32C(state, BitConverter.IsLittleEndian ? word : BinaryPrimitives.ReverseEndianness(word));
        }

        if (length - offset >= sizeof(uint))
        {
            uint word = Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref start, offset));
            state = BitOperations.Crc32C(state, BitConverter.IsLittleEndian ? word : BinaryPrimitives.ReverseEndianness(word));
            offset += sizeof(uint);
        }

        for (; offset < length; offset++)
        {
            state = BitOperations.Crc32C(state, Unsafe.Add(ref start, offset));
        }

        return state;
    }
}
