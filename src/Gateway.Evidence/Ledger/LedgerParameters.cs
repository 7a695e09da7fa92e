namespace FactoryGateway.Evidence.Ledger;

/// <summary>
/// The evidence parameters of formula set <c>fg-2026.1</c> (docs spec "indicators" §2 and §6): every
/// threshold the accumulator applies is named here, never a literal in the code. A ledger row records the
/// formula set it was computed with.
/// </summary>
public sealed class LedgerParameters
{
    /// <summary>The formula set these defaults implement.</summary>
    public const string DefaultFormulaSet = "fg-2026.1";

    /// <summary>The formula set named in every row.</summary>
    public string FormulaSet { get; init; } = DefaultFormulaSet;

    /// <summary>
    /// Samples arriving more than this after the end of their (local) day do not change that day's row: they
    /// are counted as <c>late</c> on the arrival day's row. A day's rows are sealed once this has passed
    /// after the day's end. Spec §2: 48 h.
    /// </summary>
    public TimeSpan LateWindow { get; init; } = TimeSpan.FromHours(48);

    /// <summary>
    /// A minute is covered when the device's last evidence before it is at most this old (and no
    /// disconnect or Bad status is open). Spec §2: 120 s, twice the edge's 60 s heartbeat.
    /// </summary>
    public TimeSpan CoverageMaxAge { get; init; } = TimeSpan.FromSeconds(120);

    /// <summary>Samples arriving more than this after their source time are backfill (spec §6): stored, excluded from evidence, counted.</summary>
    public TimeSpan BackfillAge { get; init; } = TimeSpan.FromDays(7);

    /// <summary>
    /// Two consecutive intervals between state transitions that differ by less than this count as
    /// "regular" (the input of the <c>synthetic_timing</c> flag, spec §6: sub-millisecond jitter).
    /// </summary>
    public TimeSpan RegularJitter { get; init; } = TimeSpan.FromMilliseconds(1);

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid parameter.</summary>
    public LedgerParameters Validate()
    {
        if (string.IsNullOrWhiteSpace(FormulaSet) || FormulaSet.Length > 64)
        {
            throw new ArgumentException($"LedgerParameters.FormulaSet must be 1-64 characters (was '{FormulaSet}').", nameof(FormulaSet));
        }

        Check(LateWindow, TimeSpan.FromMinutes(1), TimeSpan.FromDays(31), nameof(LateWindow));
        Check(CoverageMaxAge, TimeSpan.FromSeconds(1), TimeSpan.FromHours(1), nameof(CoverageMaxAge));
        Check(BackfillAge, TimeSpan.FromMinutes(1), TimeSpan.FromDays(366), nameof(BackfillAge));
        Check(RegularJitter, TimeSpan.FromTicks(1), TimeSpan.FromSeconds(1), nameof(RegularJitter));
        return this;
    }

    internal long LateWindowNs => LateWindow.Ticks * 100;

    internal long CoverageMaxAgeNs => CoverageMaxAge.Ticks * 100;

    internal long BackfillAgeNs => BackfillAge.Ticks * 100;

    internal long RegularJitterNs => RegularJitter.Ticks * 100;

    private static void Check(TimeSpan value, TimeSpan min, TimeSpan max, string name)
    {
        if (value < min || value > max)
        {
            throw new ArgumentException($"LedgerParameters.{name} must be between {min} and {max} (was {value}).", name);
        }
    }
}
