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

    /// <summary>§6 clone: days with identical per-minute state vectors (digest), or with correlated ones (<see cref="ClonePearsonMin"/>).</summary>
    public int CloneDays { get; init; } = 3;

    /// <summary>§6 clone: a day's vector takes part only with at least this many state transitions (an idle machine's flat day proves nothing).</summary>
    public int CloneMinTransitions { get; init; } = 5;

    /// <summary>§6 clone: a day counts for a pair when Pearson's r of their per-minute state codes is at least this (the spec's 0.99).</summary>
    public decimal ClonePearsonMin { get; init; } = 0.99m;

    /// <summary>§6 clone: … over at least this many minutes where both devices' states are known (an hour; fewer prove little).</summary>
    public int ClonePearsonMinMinutes { get; init; } = 60;

    /// <summary>
    /// §6 clone: a day's r is the highest over lags of −this … +this minutes (a copy re-timestamped by a minute
    /// otherwise escapes: with 40-minute stretches of run and idle a one-minute shift alone brings r to about 0.95).
    /// </summary>
    public int ClonePearsonMaxLagMinutes { get; init; } = 2;

    /// <summary>
    /// §6 clone, which pairs are correlated at all: devices of one enterprise whose day's vectors have run counts
    /// (state changes + 1, <see cref="Evidence.Ledger.MinuteStates.CountRuns"/>) within this many runs of each other …
    /// </summary>
    public int ClonePearsonRunSlack { get; init; } = 4;

    /// <summary>… or within this share of the larger count (a copy shifted in time keeps its runs; each changed stretch adds at most two).</summary>
    public decimal ClonePearsonRunShare { get; init; } = 0.1m;

    /// <summary>
    /// §6 clone, the bound on its cost: per device and day, at most this many other devices are correlated with
    /// it in each of the two candidate orders (by run count, by the minute of the first state change), and at most
    /// this many of the devices sharing its digest are counted as its twins. With many devices of one enterprise
    /// alike (a line running in lockstep, or one stream copied many times) the test then costs a bounded amount
    /// per device instead of growing with the square of the crowd; a copy still lands next to its original in the
    /// first-change order, and a device with more twins than this is flagged with the nearest of them.
    /// </summary>
    public int CloneMaxComparisons { get; init; } = 8;

    /// <summary>§6 synthetic_timing: state transitions with sub-millisecond jitter against a fixed period.</summary>
    public int SyntheticTransitions { get; init; } = 50;

    /// <summary>§6 power_inconsistent: run time may exceed the growth of power_on_s by at most this share.</summary>
    public decimal PowerTolerance { get; init; } = 0.10m;
}
