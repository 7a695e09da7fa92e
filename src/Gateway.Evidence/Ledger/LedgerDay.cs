namespace FactoryGateway.Evidence.Ledger;

/// <summary>
/// The part of a device-day row that indicators read (spec §3–§4, §6): counts and times, without the
/// per-minute vector (only its digest). Small enough to stream a quarter of a city's devices.
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

    public bool IsSealed { get; init; }

    public static LedgerDay From(DeviceDayRow row)
    {
        ArgumentNullException.ThrowIfNull(row);
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
            MinuteDigest = MinuteStates.Digest(row.Minutes),
            IsSealed = row.IsSealed,
        };
    }
}
