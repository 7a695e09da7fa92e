namespace FactoryGateway.Metrics.Indicators;

/// <summary>The integrity flags of spec §6 that the ledger can show for a device in a window.</summary>
public enum IntegrityCheck
{
    HeartbeatOnly,
    TestModePadding,
    NoOutput,
    Clone,
    DuplicateIdentity,
    SyntheticTiming,
    Backfill,
    FutureTimestamp,
    CounterRegression,
    IdentityChange,
    PowerInconsistent,
}

/// <summary>A flag raised on a device, with the numbers that raised it.</summary>
public sealed record RaisedFlag(IntegrityCheck Flag, string Evidence)
{
    /// <summary>The spec's snake_case name (<c>heartbeat_only</c>, …).</summary>
    public string Name => FlagNames.Of(Flag);
}

/// <summary>Spec names of the flags.</summary>
public static class FlagNames
{
    public static string Of(IntegrityCheck flag) => flag switch
    {
        IntegrityCheck.HeartbeatOnly => "heartbeat_only",
        IntegrityCheck.TestModePadding => "test_mode_padding",
        IntegrityCheck.NoOutput => "no_output",
        IntegrityCheck.Clone => "clone",
        IntegrityCheck.DuplicateIdentity => "duplicate_identity",
        IntegrityCheck.SyntheticTiming => "synthetic_timing",
        IntegrityCheck.Backfill => "backfill",
        IntegrityCheck.CounterRegression => "counter_regression",
        IntegrityCheck.IdentityChange => "identity_change",
        IntegrityCheck.PowerInconsistent => "power_inconsistent",
        IntegrityCheck.FutureTimestamp => "future_timestamp",
        _ => throw new ArgumentOutOfRangeException(nameof(flag), flag, null),
    };
}

/// <summary>
/// One registered device in one window (spec §3): how long it was active, its scheduled and reporting
/// days, whether it is networked and in service, its flags, and the totals the indicators add up.
/// </summary>
public sealed record DeviceEvaluation
{
    public required IndicatorDevice Device { get; init; }

    /// <summary>Active days ÷ window days: the device's weight in ratio denominators (0 when not active).</summary>
    public required decimal Weight { get; init; }

    public bool IsActive => Weight > 0;

    public required int ScheduledDays { get; init; }

    public required long ScheduledSeconds { get; init; }

    public required int ReportingDays { get; init; }

    /// <summary>Days with substantive data (scheduled or not).</summary>
    public required int SubstantiveDays { get; init; }

    public required bool EveryWeekSubstantive { get; init; }

    public required bool IdentityConsistent { get; init; }

    public required IReadOnlyList<RaisedFlag> Flags { get; init; }

    public bool IsFlagged => Flags.Count > 0;

    /// <summary>Flags found but resolved by an operator for this window: listed with the resolution, not counted.</summary>
    public IReadOnlyList<ResolvedFlag> ResolvedFlags { get; init; } = [];

    public required bool IsNetworked { get; init; }

    public required bool IsInService { get; init; }

    public required decimal RunSeconds { get; init; }

    public required decimal RunTestSeconds { get; init; }

    /// <summary>Distinct scheduled days with run time and output evidence.</summary>
    public required int OutputDays { get; init; }

    public required long Parts { get; init; }

    public required long GoodParts { get; init; }

    public required long Cycles { get; init; }

    /// <summary>The last day with substantive data, if any.</summary>
    public required DateOnly? LastSubstantiveDay { get; init; }

    /// <summary>Why the device is not networked (null when it is).</summary>
    public string? NotNetworkedReason { get; init; }

    /// <summary>Why the device is not in service (null when it is).</summary>
    public string? NotInServiceReason { get; init; }
}
