using System.Security.Cryptography;

namespace FactoryGateway.Evidence.Ledger;

/// <summary>
/// A device-day's per-minute state vector: for each of the 1,440 minutes of the local day, the normalised
/// state at the minute's start when the minute is covered, <see cref="CoveredUnknown"/> when it is covered
/// but no state has been seen, and <see cref="NotCovered"/> otherwise. Stored run-length encoded; its
/// SHA-256 digest is the clone test's input (spec §6).
/// </summary>
public static class MinuteStates
{
    public const int MinutesPerDay = 1440;

    /// <summary>The minute is not covered: no evidence within the coverage age, or a disconnect or Bad status open.</summary>
    public const byte NotCovered = 255;

    /// <summary>The minute is covered but the device has reported no <c>state</c> yet.</summary>
    public const byte CoveredUnknown = 254;

    /// <summary>A vector with every minute not covered.</summary>
    public static byte[] CreateEmpty()
    {
        var minutes = new byte[MinutesPerDay];
        minutes.AsSpan().Fill(NotCovered);
        return minutes;
    }

    /// <summary>Minutes that are covered (state known or not).</summary>
    public static int CountCovered(ReadOnlySpan<byte> minutes) => minutes.Length - minutes.Count(NotCovered);

    /// <summary>Run-length encoding: (value, run length as an unsigned LEB128 varint) pairs, in minute order.</summary>
    public static byte[] Encode(ReadOnlySpan<byte> minutes)
    {
        CheckLength(minutes.Length);
        var output = new List<byte>(32);
        int i = 0;
        while (i < minutes.Length)
        {
            byte value = minutes[i];
            int run = 1;
            while (i + run < minutes.Length && minutes[i + run] == value)
            {
                run++;
            }

            output.Add(value);
            for (uint remaining = (uint)run; ; remaining >>= 7)
            {
                if (remaining < 0x80)
                {
                    output.Add((byte)remaining);
                    break;
                }

                output.Add((byte)(remaining | 0x80));
            }

            i += run;
        }

        return [.. output];
    }

    /// <summary>Decodes <see cref="Encode"/>'s output.</summary>
    /// <exception cref="InvalidDataException">The bytes are not a run-length encoded 1,440-minute vector.</exception>
    public static byte[] Decode(ReadOnlySpan<byte> encoded)
    {
        var minutes = new byte[MinutesPerDay];
        int written = 0;
        int i = 0;
        while (i < encoded.Length)
        {
            byte value = encoded[i++];
            uint run = 0;
            int shift = 0;
            while (true)
            {
                if (i >= encoded.Length || shift > 14)
                {
                    throw new InvalidDataException($"minute states: run length cut short or too long at byte {i}.");
                }

                byte b = encoded[i++];
                run |= (uint)(b & 0x7F) << shift;
                if (b < 0x80)
                {
                    break;
                }

                shift += 7;
            }

            if (run == 0 || written + run > MinutesPerDay)
            {
                throw new InvalidDataException($"minute states: a run of {run} at minute {written} does not fit the day's {MinutesPerDay} minutes.");
            }

            minutes.AsSpan(written, (int)run).Fill(value);
            written += (int)run;
        }

        if (written != MinutesPerDay)
        {
            throw new InvalidDataException($"minute states: the runs cover {written} minutes, not {MinutesPerDay}.");
        }

        return minutes;
    }

    /// <summary>SHA-256 of the 1,440 bytes: equal digests mean identical per-minute state vectors.</summary>
    public static byte[] Digest(ReadOnlySpan<byte> minutes)
    {
        CheckLength(minutes.Length);
        return SHA256.HashData(minutes);
    }

    private static void CheckLength(int length)
    {
        if (length != MinutesPerDay)
        {
            throw new ArgumentException($"a minute-state vector has {MinutesPerDay} entries, not {length}.");
        }
    }
}
