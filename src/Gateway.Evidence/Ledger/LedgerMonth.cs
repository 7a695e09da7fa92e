using System.Buffers.Binary;
using System.Text;

namespace FactoryGateway.Evidence.Ledger;

/// <summary>
/// The month rollup of one device (table <c>ledger_months</c>): the indicator figures of the month's sealed
/// days packed in one blob, so that a window's indicators read one row per device-month instead of one per
/// device-day. Derived from the sealed rows' summaries, written in the same transaction that seals them,
/// and checked against them by <see cref="LedgerStore.Verify"/>.
/// </summary>
/// <remarks>
/// Layout (version 1): a version byte, the day count (varint), then per day in day order: the day's offset
/// in the month (varint), samples, events, substantive, run ns, run-test ns, parts, good, cycles, backfill
/// (zigzag varints), power-on seconds (8 bytes, the double's bits little-endian), covered shift minutes,
/// counter resets, transitions, regular transitions (zigzag varints), the minute digest's first 16 bytes, the
/// identity count (varint) and each identity as its UTF-8 length (varint) and bytes. About 50 bytes for a
/// production day, against the row summary's 136.
/// </remarks>
public static class LedgerMonth
{
    private const byte Version = 1;

    /// <summary>Most days a month has.</summary>
    public const int MaxDays = 31;

    /// <summary>Longest identity string the codec accepts (in UTF-8 bytes).</summary>
    public const int MaxIdentityBytes = 4096;

    /// <summary>The local day of the first day of the month holding local day <paramref name="day"/>.</summary>
    public static int MonthOf(int day)
    {
        var date = DateOnly.FromDayNumber(LocalDays.EpochDayNumber + day);
        return day - date.Day + 1;
    }

    /// <summary>The local day after the last day of the month starting at local day <paramref name="month"/>.</summary>
    public static int EndOf(int month)
    {
        var date = DateOnly.FromDayNumber(LocalDays.EpochDayNumber + month);
        return month + DateTime.DaysInMonth(date.Year, date.Month);
    }

    /// <summary>Packs the sealed days of one month (distinct days of that month, any order).</summary>
    /// <exception cref="ArgumentException">A day outside the month, or twice.</exception>
    public static byte[] Encode(int month, IReadOnlyList<LedgerDayFigures> days)
    {
        ArgumentNullException.ThrowIfNull(days);
        LedgerDayFigures[] ordered = [.. days.OrderBy(d => d.Day)];
        int end = EndOf(month);
        for (int i = 0; i < ordered.Length; i++)
        {
            if (ordered[i].Day < month || ordered[i].Day >= end || (i > 0 && ordered[i].Day == ordered[i - 1].Day))
            {
                throw new ArgumentException($"day {ordered[i].Day} is not a distinct day of the month starting at day {month}.", nameof(days));
            }
        }

        var writer = new Writer(64 * ordered.Length + 8);
        writer.Byte(Version);
        writer.Unsigned((ulong)ordered.Length);
        foreach (LedgerDayFigures d in ordered)
        {
            writer.Unsigned((ulong)(d.Day - month));
            writer.Signed(d.Samples);
            writer.Signed(d.Events);
            writer.Signed(d.Substantive);
            writer.Signed(d.RunNanoseconds);
            writer.Signed(d.RunTestNanoseconds);
            writer.Signed(d.PartsDelta);
            writer.Signed(d.GoodDelta);
            writer.Signed(d.CyclesDelta);
            writer.Signed(d.Backfill);
            writer.Fixed64(BitConverter.DoubleToInt64Bits(d.PowerOnDeltaSeconds));
            writer.Signed(d.CoveredShiftMinutes);
            writer.Signed(d.CounterResets);
            writer.Signed(d.Transitions);
            writer.Signed(d.RegularTransitions);
            writer.Digest(d.HasDigest ? d.DigestKey : UInt128.Zero);
            writer.Unsigned((ulong)d.Identities.Count);
            foreach (string identity in d.Identities)
            {
                writer.Text(identity);
            }
        }

        return writer.ToArray();
    }

    /// <summary>Appends the days of a rollup that fall in [<paramref name="fromDay"/>, <paramref name="toDay"/>) to <paramref name="into"/>, in day order.</summary>
    /// <exception cref="InvalidDataException">Not a rollup of this version; names the byte offset and the reason.</exception>
    public static void Decode(ReadOnlySpan<byte> blob, int month, int fromDay, int toDay, List<LedgerDayFigures> into)
    {
        ArgumentNullException.ThrowIfNull(into);
        var reader = new Reader(blob);
        byte version = reader.Byte();
        if (version != Version)
        {
            throw new InvalidDataException($"a month rollup of version {version} at offset 0 (this build reads version {Version}).");
        }

        int count = reader.Count(MaxDays, "days");
        int end = EndOf(month);
        int previous = -1;
        for (int i = 0; i < count; i++)
        {
            int offset = reader.Position;
            int day = month + reader.Count(MaxDays - 1, "day offset");
            if (day >= end || day <= previous)
            {
                throw new InvalidDataException($"a month rollup's day at offset {offset} is outside its month or out of order.");
            }

            previous = day;
            var figures = new LedgerDayFigures
            {
                Day = day,
                Samples = reader.Signed(),
                Events = reader.Signed(),
                Substantive = reader.Signed(),
                RunNanoseconds = reader.Signed(),
                RunTestNanoseconds = reader.Signed(),
                PartsDelta = reader.Signed(),
                GoodDelta = reader.Signed(),
                CyclesDelta = reader.Signed(),
                Backfill = reader.Signed(),
                PowerOnDeltaSeconds = BitConverter.Int64BitsToDouble(reader.Fixed64()),
                CoveredShiftMinutes = reader.Int32(),
                CounterResets = reader.Int32(),
                Transitions = reader.Int32(),
                RegularTransitions = reader.Int32(),
                DigestKey = reader.Digest(),
                HasDigest = true,
                Identities = reader.Identities(),
            };
            if (day >= fromDay && day < toDay)
            {
                into.Add(figures);
            }
        }

        if (reader.Position != blob.Length)
        {
            throw new InvalidDataException($"a month rollup has {blob.Length - reader.Position} byte(s) after its last day at offset {reader.Position}.");
        }
    }

    /// <summary>
    /// Packs the encoded per-minute vectors (<see cref="LedgerDayFigures.MinuteRuns"/>; days without one are left
    /// out) of one month's sealed days (column
    /// <c>ledger_months.minutes</c>, beside the rollup): a version byte, the day count (varint), then per day in
    /// day order its offset in the month (varint), the encoding's length (varint) and the encoding.
    /// </summary>
    /// <exception cref="ArgumentException">A day outside the month, or twice.</exception>
    public static byte[] EncodeMinutes(int month, IReadOnlyList<LedgerDayFigures> days)
    {
        ArgumentNullException.ThrowIfNull(days);
        LedgerDayFigures[] ordered = [.. days.Where(d => !d.MinuteRuns.IsEmpty).OrderBy(d => d.Day)];
        int end = EndOf(month);
        var writer = new Writer(16 + ordered.Sum(d => d.MinuteRuns.Length + 4));
        writer.Byte(Version);
        writer.Unsigned((ulong)ordered.Length);
        for (int i = 0; i < ordered.Length; i++)
        {
            int day = ordered[i].Day;
            if (day < month || day >= end || (i > 0 && day == ordered[i - 1].Day))
            {
                throw new ArgumentException($"day {day} is not a distinct day of the month starting at day {month}.", nameof(days));
            }

            writer.Unsigned((ulong)(day - month));
            writer.Bytes(ordered[i].MinuteRuns.Span);
        }

        return writer.ToArray();
    }

    /// <summary>
    /// Sets <see cref="LedgerDayFigures.MinuteRuns"/> of the days of <paramref name="days"/> from index
    /// <paramref name="start"/> on (in day order, all of month <paramref name="month"/>) to their slices of
    /// <paramref name="blob"/> (<see cref="EncodeMinutes"/>); a day the blob does not hold keeps none.
    /// </summary>
    /// <exception cref="InvalidDataException">Not a minutes blob of this version; names the byte offset and the reason.</exception>
    public static void AttachMinutes(ReadOnlyMemory<byte> blob, int month, List<LedgerDayFigures> days, int start)
    {
        ArgumentNullException.ThrowIfNull(days);
        var reader = new Reader(blob.Span);
        byte version = reader.Byte();
        if (version != Version)
        {
            throw new InvalidDataException($"a month's minute vectors of version {version} at offset 0 (this build reads version {Version}).");
        }

        int count = reader.Count(MaxDays, "days");
        int end = EndOf(month);
        int previous = -1;
        int next = start;
        for (int i = 0; i < count; i++)
        {
            int offset = reader.Position;
            int day = month + reader.Count(MaxDays - 1, "day offset");
            if (day >= end || day <= previous)
            {
                throw new InvalidDataException($"a month's minute vector at offset {offset} is outside its month or out of order.");
            }

            previous = day;
            int length = reader.Count(MaxMinuteRunsBytes, "vector length");
            int at = reader.Skip(length);
            while (next < days.Count && days[next].Day < day)
            {
                next++;
            }

            if (next < days.Count && days[next].Day == day)
            {
                days[next] = days[next] with { MinuteRuns = blob.Slice(at, length) };
                next++;
            }
        }

        if (reader.Position != blob.Length)
        {
            throw new InvalidDataException($"a month's minute vectors have {blob.Length - reader.Position} byte(s) after the last day at offset {reader.Position}.");
        }
    }

    // The longest run-length encoding of 1,440 minutes: a value byte and a 1-byte length per minute.
    private const int MaxMinuteRunsBytes = 2 * MinuteStates.MinutesPerDay;

    private sealed class Writer(int capacity)
    {
        private byte[] _buffer = new byte[Math.Max(16, capacity)];
        private int _length;

        public void Byte(byte value)
        {
            Ensure(1);
            _buffer[_length++] = value;
        }

        public void Unsigned(ulong value)
        {
            Ensure(10);
            while (value >= 0x80)
            {
                _buffer[_length++] = (byte)(value | 0x80);
                value >>= 7;
            }

            _buffer[_length++] = (byte)value;
        }

        public void Signed(long value) => Unsigned((ulong)((value << 1) ^ (value >> 63)));

        public void Fixed64(long value)
        {
            Ensure(8);
            BinaryPrimitives.WriteInt64LittleEndian(_buffer.AsSpan(_length), value);
            _length += 8;
        }

        public void Digest(UInt128 value)
        {
            Ensure(16);
            BinaryPrimitives.WriteUInt128BigEndian(_buffer.AsSpan(_length), value);
            _length += 16;
        }

        public void Text(string value)
        {
            int bytes = Encoding.UTF8.GetByteCount(value);
            if (bytes > MaxIdentityBytes)
            {
                throw new ArgumentException($"an identity of {bytes} UTF-8 bytes is over the rollup's limit of {MaxIdentityBytes}.", nameof(value));
            }

            Unsigned((ulong)bytes);
            Ensure(bytes);
            _length += Encoding.UTF8.GetBytes(value, _buffer.AsSpan(_length));
        }

        public void Bytes(ReadOnlySpan<byte> value)
        {
            Unsigned((ulong)value.Length);
            Ensure(value.Length);
            value.CopyTo(_buffer.AsSpan(_length));
            _length += value.Length;
        }

        public byte[] ToArray() => _buffer.AsSpan(0, _length).ToArray();

        private void Ensure(int more)
        {
            if (_length + more > _buffer.Length)
            {
                Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, _length + more));
            }
        }
    }

    private ref struct Reader(ReadOnlySpan<byte> bytes)
    {
        private readonly ReadOnlySpan<byte> _bytes = bytes;

        public int Position { get; private set; }

        public byte Byte()
        {
            Need(1);
            return _bytes[Position++];
        }

        public ulong Unsigned()
        {
            // Fast paths: a one-byte value (most counts), or a varint with its ten possible bytes inside the buffer.
            int position = Position;
            if ((uint)position < (uint)_bytes.Length && _bytes[position] < 0x80)
            {
                Position = position + 1;
                return _bytes[position];
            }

            if (_bytes.Length - position >= 10)
            {
                ReadOnlySpan<byte> bytes = _bytes.Slice(position, 10);
                ulong result = 0;
                for (int i = 0; i < bytes.Length; i++)
                {
                    byte b = bytes[i];
                    result |= (ulong)(b & 0x7F) << (7 * i);
                    if (b < 0x80)
                    {
                        Position = position + i + 1;
                        return result;
                    }
                }

                throw new InvalidDataException($"a month rollup's varint at offset {position} is longer than 10 bytes.");
            }

            ulong value = 0;
            for (int shift = 0; shift < 64; shift += 7)
            {
                byte b = Byte();
                value |= (ulong)(b & 0x7F) << shift;
                if (b < 0x80)
                {
                    return value;
                }
            }

            throw new InvalidDataException($"a month rollup's varint at offset {position} is longer than 10 bytes.");
        }

        public long Signed()
        {
            ulong raw = Unsigned();
            return (long)(raw >> 1) ^ -(long)(raw & 1);
        }

        public int Int32()
        {
            int start = Position;
            long value = Signed();
            return value is >= int.MinValue and <= int.MaxValue ? (int)value
                : throw new InvalidDataException($"a month rollup's 32-bit value at offset {start} is out of range.");
        }

        public int Count(int limit, string what)
        {
            int start = Position;
            ulong value = Unsigned();
            return value <= (ulong)limit ? (int)value
                : throw new InvalidDataException($"a month rollup's {what} at offset {start} is {value}, over the limit of {limit}.");
        }

        public long Fixed64()
        {
            Need(8);
            long value = BinaryPrimitives.ReadInt64LittleEndian(_bytes[Position..]);
            Position += 8;
            return value;
        }

        public UInt128 Digest()
        {
            Need(16);
            UInt128 value = BinaryPrimitives.ReadUInt128BigEndian(_bytes[Position..]);
            Position += 16;
            return value;
        }

        public string[] Identities()
        {
            int count = Count(MaxDays * 1024, "identity count");
            if (count == 0)
            {
                return [];
            }

            string[] identities = new string[count];
            for (int i = 0; i < count; i++)
            {
                int length = Count(MaxIdentityBytes, "identity length");
                Need(length);
                identities[i] = Encoding.UTF8.GetString(_bytes.Slice(Position, length));
                Position += length;
            }

            return identities;
        }

        // Skips count bytes and returns where they start.
        public int Skip(int count)
        {
            Need(count);
            int at = Position;
            Position += count;
            return at;
        }

        private readonly void Need(int count)
        {
            if (_bytes.Length - Position < count)
            {
                throw new InvalidDataException($"a month rollup ends at offset {_bytes.Length}, inside a value that needs {count} byte(s) from offset {Position}.");
            }
        }
    }
}
