using System.Buffers.Binary;

namespace FactoryGateway.Evidence.Ledger;

/// <summary>
/// The numbers of one device-day as the indicators read them (a <see cref="LedgerDay"/> without its keys and
/// without an allocation): what a month rollup (<see cref="LedgerMonth"/>) holds per sealed day.
/// </summary>
/// <remarks>
/// The minute digest is kept as its first 16 bytes (<see cref="DigestKey"/>): clone detection compares
/// digests for equality only, and two different minute vectors share a 128-bit prefix of their SHA-256 with
/// probability 2^-128 per pair. The full digest stays in <c>ledger_rows</c>.
/// </remarks>
public readonly record struct LedgerDayFigures
{
    /// <summary>Local day as days since 1970-01-01.</summary>
    public int Day { get; init; }

    public DateOnly Date => DateOnly.FromDayNumber(LocalDays.EpochDayNumber + Day);

    public long Samples { get; init; }

    public long Events { get; init; }

    public long Substantive { get; init; }

    public int CoveredShiftMinutes { get; init; }

    public long RunNanoseconds { get; init; }

    public long RunTestNanoseconds { get; init; }

    public long PartsDelta { get; init; }

    public long GoodDelta { get; init; }

    public long CyclesDelta { get; init; }

    public double PowerOnDeltaSeconds { get; init; }

    public int CounterResets { get; init; }

    public int Transitions { get; init; }

    public int RegularTransitions { get; init; }

    public long Backfill { get; init; }

    public IReadOnlyList<string> Identities { get; init; }

    /// <summary>The first 16 bytes of the minute vector's SHA-256, big-endian.</summary>
    public UInt128 DigestKey { get; init; }

    /// <summary>False for a view built without a minute digest (rows always have one).</summary>
    public bool HasDigest { get; init; }

    /// <summary>
    /// The per-minute state vector, run-length encoded (<see cref="MinuteStates.Encode"/>), usually a slice of
    /// the blob it was read from; empty when the view was read without it.
    /// </summary>
    public ReadOnlyMemory<byte> MinuteRuns { get; init; }

    /// <summary>The key of a minute digest: its first 16 bytes, big-endian (zero-padded when shorter).</summary>
    public static UInt128 KeyOf(ReadOnlySpan<byte> digest)
    {
        Span<byte> key = stackalloc byte[16];
        key.Clear();
        digest[..Math.Min(16, digest.Length)].CopyTo(key);
        return BinaryPrimitives.ReadUInt128BigEndian(key);
    }

    /// <summary>The figures of a row's summary column (<see cref="LedgerDay.ToSummary"/>) and identities.</summary>
    /// <exception cref="InvalidDataException">Not a summary.</exception>
    public static LedgerDayFigures FromSummary(int day, ReadOnlySpan<byte> s, IReadOnlyList<string> identities)
    {
        if (s.Length != LedgerDay.SummaryLength)
        {
            throw new InvalidDataException($"a ledger row summary has {LedgerDay.SummaryLength} bytes, not {s.Length}.");
        }

        return new LedgerDayFigures
        {
            Day = day,
            Samples = BinaryPrimitives.ReadInt64LittleEndian(s[0..]),
            Events = BinaryPrimitives.ReadInt64LittleEndian(s[8..]),
            Substantive = BinaryPrimitives.ReadInt64LittleEndian(s[16..]),
            RunNanoseconds = BinaryPrimitives.ReadInt64LittleEndian(s[24..]),
            RunTestNanoseconds = BinaryPrimitives.ReadInt64LittleEndian(s[32..]),
            PartsDelta = BinaryPrimitives.ReadInt64LittleEndian(s[40..]),
            GoodDelta = BinaryPrimitives.ReadInt64LittleEndian(s[48..]),
            CyclesDelta = BinaryPrimitives.ReadInt64LittleEndian(s[56..]),
            PowerOnDeltaSeconds = BinaryPrimitives.ReadDoubleLittleEndian(s[64..]),
            Backfill = BinaryPrimitives.ReadInt64LittleEndian(s[72..]),
            CoveredShiftMinutes = BinaryPrimitives.ReadInt32LittleEndian(s[88..]),
            CounterResets = BinaryPrimitives.ReadInt32LittleEndian(s[92..]),
            Transitions = BinaryPrimitives.ReadInt32LittleEndian(s[96..]),
            RegularTransitions = BinaryPrimitives.ReadInt32LittleEndian(s[100..]),
            DigestKey = KeyOf(s[104..]),
            HasDigest = true,
            Identities = identities,
        };
    }
}
