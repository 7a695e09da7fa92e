namespace FactoryGateway.Metrics.Indicators;

/// <summary>
/// The thresholds of formula set <c>fg-2026.1</c> for device status (spec §3), indicators (§4) and
/// integrity flags (§6). Every number an indicator depends on is named here; a report names the set.
/// </summary>
public sealed record IndicatorParameters
{
    public string FormulaSet { get; init; } = "fg-2026.1";

    /// <summary>§3 reporting day: covered shift minutes at least this share of the day's scheduled minutes.</summary>
    public decimal ReportingCoverageShare { get; init; } = 0.5m;

    /// <summary>§3 networked: reporting days at least this share of the scheduled (active) days.</summary>
    public decimal NetworkedReportingShare { get; init; } = 0.8m;

    /// <summary>§3 in service: reporting days at least this share when the device is not networked.</summary>
    public decimal InServiceReportingShare { get; init; } = 0.5m;

    /// <summary>§3 in service: run time at least this many hours …</summary>
    public decimal InServiceMinRunHours { get; init; } = 40m;

    /// <summary>… and at least this share of the scheduled shift hours in the window.</summary>
    public decimal InServiceMinRunShare { get; init; } = 0.05m;

    /// <summary>§3 in service: run with output evidence on at least this many distinct scheduled days.</summary>
    public int InServiceMinDays { get; init; } = 10;

    /// <summary>§4 robots_registered: robots younger than this many years since commissioning.</summary>
    public int RobotStockYears { get; init; } = 12;

    /// <summary>§4 key_process_nc_work_share: flag when it is this many percentage points below key_process_nc_ratio.</summary>
    public decimal WorkShareGapPoints { get; init; } = 20m;

    /// <summary>§4 connected_devices: substantive data on at least this many days in the window …</summary>
    public int ConnectedMinDays { get; init; } = 20;

    /// <summary>… and at least once in its last this many days.</summary>
    public int ConnectedRecentDays { get; init; } = 30;

    /// <summary>§6 heartbeat_only: days with samples but nothing substantive, at least this share of reporting days.</summary>
    public decimal HeartbeatOnlyShare { get; init; } = 0.2m;

    /// <summary>§6 test_mode_padding: days with run_test time above run time.</summary>
    public int TestModeDays { get; init; } = 5;

    /// <summary>§6 no_output: run hours in the window without parts or cycles.</summary>
    public decimal NoOutputRunHours { get; init; } = 40m;

    /// <summary>§6 clone: days with identical per-minute state vectors.</summary>
    public int CloneDays { get; init; } = 3;

    /// <summary>§6 clone: a day's vector takes part only with at least this many state transitions (an idle machine's flat day proves nothing).</summary>
    public int CloneMinTransitions { get; init; } = 5;

    /// <summary>§6 synthetic_timing: state transitions with sub-millisecond jitter against a fixed period.</summary>
    public int SyntheticTransitions { get; init; } = 50;

    /// <summary>§6 power_inconsistent: run time may exceed the growth of power_on_s by at most this share.</summary>
    public decimal PowerTolerance { get; init; } = 0.10m;
}
