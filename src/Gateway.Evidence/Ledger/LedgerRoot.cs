using System.Security.Cryptography;

namespace FactoryGateway.Evidence.Ledger;

/// <summary>The Merkle root over the sealed row hashes of one enterprise's devices on one local day.</summary>
public sealed record LedgerRoot(string Enterprise, int Day, byte[] Root, int Rows)
{
    public DateOnly Date => DateOnly.FromDayNumber(LocalDays.EpochDayNumber + Day);

    public string RootHex => Convert.ToHexStringLower(Root);
}

/// <summary>
/// The enterprise-day Merkle tree: leaves are the row hashes in ordinal order of device id, a leaf is
/// SHA-256(0x00 ‖ row hash), an inner node SHA-256(0x01 ‖ left ‖ right), and an odd node at the end of a
/// level is carried up unchanged (the RFC 6962 shape, so a leaf can never pose as a node).
/// </summary>
public static class MerkleTree
{
    public static byte[] Root(IReadOnlyList<byte[]> rowHashesInDeviceOrder)
    {
        ArgumentNullException.ThrowIfNull(rowHashesInDeviceOrder);
        if (rowHashesInDeviceOrder.Count == 0)
        {
            return SHA256.HashData(ReadOnlySpan<byte>.Empty);
        }

        var level = new List<byte[]>(rowHashesInDeviceOrder.Count);
        Span<byte> buffer = stackalloc byte[65];
        foreach (byte[] hash in rowHashesInDeviceOrder)
        {
            buffer[0] = 0x00;
            hash.CopyTo(buffer[1..]);
            level.Add(SHA256.HashData(buffer[..33]));
        }

        while (level.Count > 1)
        {
            var next = new List<byte[]>((level.Count + 1) / 2);
            for (int i = 0; i < level.Count; i += 2)
            {
                if (i + 1 == level.Count)
                {
                    next.Add(level[i]);
                    continue;
                }

                buffer[0] = 0x01;
                level[i].CopyTo(buffer[1..]);
                level[i + 1].CopyTo(buffer[33..]);
                next.Add(SHA256.HashData(buffer));
            }

            level = next;
        }

        return level[0];
    }
}
