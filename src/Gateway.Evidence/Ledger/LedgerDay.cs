using System.Buffers.Binary;

namespace FactoryGateway.Evidence.Ledger;

/// <summary>
/// The part of a device-day row that indicators read (spec §3–§4, §6): counts and times, the per-minute
/// vector's digest and the vector itself run-length encoded (<see cref="MinuteStates.Encode"/>, for the clone
/// test's correlation). Small enough to stream a quarter of a city's devices.
/// </summary>
public sealed record LedgerDay
{
    public required string Enterprise { get; init; }

    public required string Device { get; init; }

    /// <summary>Local day as days since 1970-01-01.</summary>
    public required int Day { get; init; }

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

    public IReadOnlyList<string> Identities { get; init; } = [];

    /// <summary>SHA-256 of the per-minute state vector.</summary>
    public byte[] MinuteDigest { get; init; } = [];

    /// <summary>The per-minute state vector, run-length encoded (<see cref="MinuteStates.Encode"/>); empty when not read.</summary>
    public byte[] MinuteRuns { get; init; } = [];

    public bool IsSealed { get; init; }

    /// <summary>The numbers of this view without its keys (the minute digest as its 16-byte key).</summary>
    public LedgerDayFigures ToFigures() => new()
    {
        Day = Day,
        Samples = Samples,
        Events = Events,
        Substantive = Substantive,
        CoveredShiftMinutes = CoveredShiftMinutes,
        RunNanoseconds = RunNanoseconds,
        RunTestNanoseconds = RunTestNanoseconds,
        PartsDelta = PartsDelta,
        GoodDelta = GoodDelta,
        CyclesDelta = CyclesDelta,
        PowerOnDeltaSeconds = PowerOnDeltaSeconds,
        CounterResets = CounterResets,
        Transitions = Transitions,
        RegularTransitions = RegularTransitions,
        Backfill = Backfill,
        Identities = Identities,
        DigestKey = LedgerDayFigures.KeyOf(MinuteDigest),
        HasDigest = MinuteDigest.Length > 0,
        MinuteRuns = MinuteRuns,
    };

    /// <summary>The bytes of <see cref="ToSummary"/>: the indicator view of a row in one column.</summary>
    public const int SummaryLength = (8 * 11) + (4 * 4) + 32;

    /// <summary>
    /// Writes the numbers of this view (little-endian, fixed layout) and the minute digest: the ledger stores
    /// them beside the row, so that a window's indicators read one column per row instead of twenty.
    /// </summary>
    public byte[] ToSummary()
    {
        var bytes = new byte[SummaryLength];
        Span<byte> s = bytes;
        BinaryPrimitives.WriteInt64LittleEndian(s[0..], Samples);
        BinaryPrimitives.WriteInt64LittleEndian(s[8..], Events);
        BinaryPrimitives.WriteInt64LittleEndian(s[16..], Substantive);
        BinaryPrimitives.WriteInt64LittleEndian(s[24..], RunNanoseconds);
        BinaryPrimitives.WriteInt64LittleEndian(s[32..], RunTestNanoseconds);
        BinaryPrimitives.WriteInt64LittleEndian(s[40..], PartsDelta);
        BinaryPrimitives.WriteInt64LittleEndian(s[48..], GoodDelta);
        BinaryPrimitives.WriteInt64LittleEndian(s[56..], CyclesDelta);
        BinaryPrimitives.WriteDoubleLittleEndian(s[64..], PowerOnDeltaSeconds);
        BinaryPrimitives.WriteInt64LittleEndian(s[72..], Backfill);
        BinaryPrimitives.WriteInt64LittleEndian(s[80..], 0); // reserved
        BinaryPrimitives.WriteInt32LittleEndian(s[88..], CoveredShiftMinutes);
        BinaryPrimitives.WriteInt32LittleEndian(s[92..], CounterResets);
        BinaryPrimitives.WriteInt32LittleEndian(s[96..], Transitions);
        BinaryPrimitives.WriteInt32LittleEndian(s[100..], RegularTransitions);
        MinuteDigest.CopyTo(s[104..]);
        return bytes;
    }

    /// <summary>Reads <see cref="ToSummary"/>'s bytes back.</summary>
    /// <exception cref="InvalidDataException">Not a summary.</exception>
    public static LedgerDay FromSummary(string enterprise, string device, int day, ReadOnlySpan<byte> s, IReadOnlyList<string> identities, bool isSealed) =>
        FromSummary(enterprise, device, day, s, identities, isSealed, []);

    /// <summary>Reads <see cref="ToSummary"/>'s bytes back, with the row's encoded minute vector.</summary>
    /// <exception cref="InvalidDataException">Not a summary.</exception>
    public static LedgerDay FromSummary(string enterprise, string device, int day, ReadOnlySpan<byte> s, IReadOnlyList<string> identities, bool isSealed, byte[] minuteRuns)
    {
        if (s.Length != SummaryLength)
        {
            throw new InvalidDataException($"a ledger row summary has {SummaryLength} bytes, not {s.Length}.");
        }

        return new LedgerDay
        {
            Enterprise = enterprise,
            Device = device,
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
            MinuteDigest = s[104..].ToArray(),
            Identities = identities,
            IsSealed = isSealed,
            MinuteRuns = minuteRuns,
        };
    }

    public static LedgerDay From(DeviceDayRow row) => From(row, MinuteStates.Digest(row?.Minutes ?? throw new ArgumentNullException(nameof(row))));

    /// <summary>The view of <paramref name="row"/> with its minute digest already computed.</summary>
    public static LedgerDay From(DeviceDayRow row, byte[] minuteDigest) =>
        From(row, minuteDigest, MinuteStates.Encode(row?.Minutes ?? throw new ArgumentNullException(nameof(row))));

    /// <summary>The view of <paramref name="row"/> with its minute digest and encoded vector already computed.</summary>
    public static LedgerDay From(DeviceDayRow row, byte[] minuteDigest, byte[] minuteRuns)
    {
        ArgumentNullException.ThrowIfNull(row);
        ArgumentNullException.ThrowIfNull(minuteDigest);
        ArgumentNullException.ThrowIfNull(minuteRuns);
        return new LedgerDay
        {
            Enterprise = row.Enterprise,
            Device = row.Device,
            Day = row.Day,
            Samples = row.Samples,
            Events = row.Events,
            Substantive = row.Substantive,
            CoveredShiftMinutes = row.CoveredShiftMinutes,
            RunNanoseconds = row.StateNanosecondsOf(MachineState.Run),
            RunTestNanoseconds = row.StateNanosecondsOf(MachineState.RunTest),
            PartsDelta = row.PartsDelta,
            GoodDelta = row.GoodDelta,
            CyclesDelta = row.CyclesDelta,
            PowerOnDeltaSeconds = row.PowerOnDeltaSeconds,
            CounterResets = row.CounterResets,
            Transitions = row.Transitions,
            RegularTransitions = row.RegularTransitions,
            Backfill = row.Backfill,
            Identities = [.. row.Identities],
            MinuteDigest = minuteDigest,
            MinuteRuns = minuteRuns,
            IsSealed = row.IsSealed,
        };
    }
}
