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

    /// <summary>
    /// The number of runs (value, length pairs) of an encoded vector: how often the per-minute state or its
    /// coverage changes over the day, plus one. Unchanged when the whole day is shifted by a few minutes.
    /// </summary>
    /// <exception cref="InvalidDataException">The bytes are not a run-length encoded 1,440-minute vector.</exception>
    public static int CountRuns(ReadOnlySpan<byte> encoded)
    {
        var runs = new RunReader(encoded);
        int count = 0;
        while (runs.Next(out _, out _))
        {
            count++;
        }

        return count;
    }

    /// <summary>
    /// The minute at which the vector first changes from one known state (0 off … 5 run_test) to another, or
    /// 1,440 when it never does. A copy of the day shifted by a few minutes changes within those minutes of it.
    /// </summary>
    /// <exception cref="InvalidDataException">The bytes are not a run-length encoded 1,440-minute vector.</exception>
    public static int FirstStateChange(ReadOnlySpan<byte> encoded)
    {
        var runs = new RunReader(encoded);
        int minute = 0;
        int known = -1;
        while (runs.Next(out byte value, out int run))
        {
            if (value <= MaxStateCode)
            {
                if (known >= 0 && value != known)
                {
                    while (runs.Next(out _, out _))
                    {
                    }

                    return minute;
                }

                known = value;
            }

            minute += run;
        }

        return MinutesPerDay;
    }

    /// <summary>
    /// Pearson's correlation of two encoded vectors (<see cref="Encode"/>) read as series of state codes
    /// (0 off … 5 run_test), over the <paramref name="minutes"/> where both have a known state (covered, state
    /// seen). Computed run by run from the encodings, with exact integer sums. NaN when fewer than two such
    /// minutes, or when either series is constant over them (a correlation is undefined).
    /// </summary>
    /// <exception cref="InvalidDataException">Either is not a run-length encoded 1,440-minute vector.</exception>
    public static double Correlation(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b, out int minutes) => Correlation(a, b, 0, out minutes);

    /// <summary>
    /// As <see cref="Correlation(ReadOnlySpan{byte}, ReadOnlySpan{byte}, out int)"/>, with minute m of
    /// <paramref name="a"/> paired with minute m + <paramref name="lag"/> of <paramref name="b"/> (the minutes
    /// without a partner are left out): the correlation of <paramref name="b"/> shifted back by the lag.
    /// </summary>
    /// <exception cref="InvalidDataException">Either is not a run-length encoded 1,440-minute vector.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The lag is a day or more.</exception>
    public static double Correlation(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b, int lag, out int minutes)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(Math.Abs(lag), MinutesPerDay, nameof(lag));
        var left = new RunReader(a);
        var right = new RunReader(b);
        byte x = 0, y = 0;
        int leftRun = 0, rightRun = 0;
        Skip(ref left, ref x, ref leftRun, Math.Max(0, -lag));
        Skip(ref right, ref y, ref rightRun, Math.Max(0, lag));
        long n = 0, sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
        while (true)
        {
            if (leftRun == 0 && !left.Next(out x, out leftRun))
            {
                break;
            }

            if (rightRun == 0 && !right.Next(out y, out rightRun))
            {
                break;
            }

            int step = Math.Min(leftRun, rightRun);
            if (x <= MaxStateCode && y <= MaxStateCode)
            {
                n += step;
                sx += x * step;
                sy += y * step;
                sxx += x * x * step;
                syy += y * y * step;
                sxy += x * y * step;
            }

            leftRun -= step;
            rightRun -= step;
        }

        // The rest of either (the minutes a lag leaves without a partner) is read too: the readers check both
        // encodings cover exactly 1,440 minutes.
        while (left.Next(out _, out _))
        {
        }

        while (right.Next(out _, out _))
        {
        }

        minutes = (int)n;
        long varianceX = (n * sxx) - (sx * sx);
        long varianceY = (n * syy) - (sy * sy);
        return n < 2 || varianceX == 0 || varianceY == 0
            ? double.NaN
            : ((n * sxy) - (sx * sy)) / Math.Sqrt((double)varianceX * varianceY);
    }

    // Consumes the first `count` minutes of a reader (its current run in value/run).
    private static void Skip(ref RunReader reader, ref byte value, ref int run, int count)
    {
        while (count > 0)
        {
            if (run == 0 && !reader.Next(out value, out run))
            {
                return;
            }

            int step = Math.Min(count, run);
            run -= step;
            count -= step;
        }
    }

    /// <summary>SHA-256 of the 1,440 bytes: equal digests mean identical per-minute state vectors.</summary>
    public static byte[] Digest(ReadOnlySpan<byte> minutes)
    {
        CheckLength(minutes.Length);
        return SHA256.HashData(minutes);
    }

    // The highest normalised state code (run_test); codes above it are NotCovered and CoveredUnknown.
    private const byte MaxStateCode = 5;

    // Reads an encoding run by run, checking that the runs cover exactly the day's 1,440 minutes.
    private ref struct RunReader(ReadOnlySpan<byte> encoded)
    {
        private readonly ReadOnlySpan<byte> _encoded = encoded;
        private int _position;
        private int _minutes;

        public bool Next(out byte value, out int run)
        {
            if (_position >= _encoded.Length)
            {
                if (_minutes != MinutesPerDay)
                {
                    throw new InvalidDataException($"minute states: the runs cover {_minutes} minutes, not {MinutesPerDay}.");
                }

                value = 0;
                run = 0;
                return false;
            }

            value = _encoded[_position++];
            uint length = 0;
            for (int shift = 0; ; shift += 7)
            {
                if (_position >= _encoded.Length || shift > 14)
                {
                    throw new InvalidDataException($"minute states: run length cut short or too long at byte {_position}.");
                }

                byte b = _encoded[_position++];
                length |= (uint)(b & 0x7F) << shift;
                if (b < 0x80)
                {
                    break;
                }
            }

            if (length == 0 || _minutes + length > MinutesPerDay)
            {
                throw new InvalidDataException($"minute states: a run of {length} at minute {_minutes} does not fit the day's {MinutesPerDay} minutes.");
            }

            _minutes += (int)length;
            run = (int)length;
            return true;
        }
    }

    private static void CheckLength(int length)
    {
        if (length != MinutesPerDay)
        {
            throw new ArgumentException($"a minute-state vector has {MinutesPerDay} entries, not {length}.");
        }
    }
}
