namespace FactoryGateway.Metrics.Policies;

/// <summary>The outcome of checking a figure against a target (data names: met, not_met, insufficient_data).</summary>
public enum TargetVerdict
{
    Met,
    NotMet,

    /// <summary>The inputs cannot decide the target either way (spec §4: fewer than 30 baseline defects, an empty denominator …).</summary>
    InsufficientData,
}

/// <summary>One product family's baseline and post values and its weight in the baseline mix.</summary>
public sealed record FamilyValues
{
    public required string Family { get; init; }

    /// <summary>The family's weight in the baseline product mix (any non-negative scale: parts, hours, a share).</summary>
    public required decimal BaselineMixWeight { get; init; }

    /// <summary>The value in the baseline window B (for example seconds per part, or a defect rate).</summary>
    public required decimal Baseline { get; init; }

    /// <summary>The value in the post window P.</summary>
    public required decimal Post { get; init; }
}

/// <summary>One product family's part counters and run time in the baseline and post windows.</summary>
public sealed record FamilyCounts
{
    public required string Family { get; init; }

    public required long BaselineParts { get; init; }

    public required long BaselineGood { get; init; }

    /// <summary>Run seconds in B (used for cycle time; 0 when only the defect rate is compared).</summary>
    public decimal BaselineRunSeconds { get; init; }

    public required long PostParts { get; init; }

    public required long PostGood { get; init; }

    /// <summary>Run seconds in P (used for cycle time).</summary>
    public decimal PostRunSeconds { get; init; }
}

/// <summary>One family's line of a before/after comparison.</summary>
public sealed record FamilyReduction
{
    public required string Family { get; init; }

    /// <summary>The family's share of the baseline mix (weights normalised to sum 1).</summary>
    public required decimal BaselineShare { get; init; }

    public required decimal Baseline { get; init; }

    public required decimal Post { get; init; }

    /// <summary>1 − post / baseline for this family alone; null when its baseline is 0.</summary>
    public required decimal? Reduction { get; init; }
}

/// <summary>A before/after comparison weighted by the baseline mix, with its verdict against a target reduction.</summary>
public sealed record BeforeAfterResult
{
    public required TargetVerdict Verdict { get; init; }

    /// <summary>The reduction the target asks for (0.30 for −30%).</summary>
    public required decimal TargetReduction { get; init; }

    /// <summary>Σ share_f × baseline_f: the baseline value at the baseline mix.</summary>
    public required decimal? BaselineValue { get; init; }

    /// <summary>Σ share_f × post_f: the post value re-weighted to the baseline mix.</summary>
    public required decimal? PostValue { get; init; }

    /// <summary>1 − PostValue / BaselineValue; null when the baseline value is 0 or a family has no post data.</summary>
    public required decimal? Reduction { get; init; }

    /// <summary>Defects (parts − good) in the baseline window, for a defect-rate comparison; otherwise null.</summary>
    public required long? BaselineDefects { get; init; }

    /// <summary>Why the verdict is <see cref="TargetVerdict.InsufficientData"/>; null otherwise.</summary>
    public required string? Reason { get; init; }

    public required IReadOnlyList<FamilyReduction> Families { get; init; }
}

/// <summary>
/// Before/after comparison of a project (spec indicators.md §4 "Before/after", the Changsha targets:
/// production cycle −30%, defect rate −30%). Baseline window B, post window P; each family's value is
/// weighted by its share of the baseline mix, so a shift of the product mix after the project neither
/// earns nor loses a reduction: value_X = Σ_f w_f · v_{X,f} with w_f the baseline mix shares, and
/// reduction = 1 − value_P / value_B. The target is met when reduction ≥ target.
/// </summary>
public static class BeforeAfterComparison
{
    /// <summary>
    /// Spec §4 (formula set fg-2026.1): with fewer defects than this in the baseline window the
    /// defect-rate verdict is insufficient_data, not pass or fail.
    /// </summary>
    public const long MinimumBaselineDefects = 30;

    /// <summary>Compares per-family values weighted by the baseline mix against <paramref name="targetReduction"/>.</summary>
    /// <exception cref="ArgumentException">No families, a repeated or empty family name, a negative weight or value, or weights summing to 0.</exception>
    public static BeforeAfterResult Compare(IReadOnlyList<FamilyValues> families, decimal targetReduction)
    {
        ArgumentNullException.ThrowIfNull(families);
        CheckTarget(targetReduction);
        if (families.Count == 0)
        {
            throw new ArgumentException("a before/after comparison needs at least one product family", nameof(families));
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        decimal weightSum = 0;
        foreach (FamilyValues f in families)
        {
            if (string.IsNullOrWhiteSpace(f.Family) || !names.Add(f.Family))
            {
                throw new ArgumentException($"product family '{f.Family}' is empty or listed twice", nameof(families));
            }

            if (f.BaselineMixWeight < 0 || f.Baseline < 0 || f.Post < 0)
            {
                throw new ArgumentException($"product family '{f.Family}': weight and values are not negative (weight {f.BaselineMixWeight}, baseline {f.Baseline}, post {f.Post})", nameof(families));
            }

            weightSum += f.BaselineMixWeight;
        }

        if (weightSum == 0)
        {
            throw new ArgumentException("the baseline mix weights sum to 0", nameof(families));
        }

        // Weighted sums on the weights as given; dividing by their sum cancels in the reduction, so it is
        // applied only to the reported values (fewer decimal roundings in the verdict).
        decimal weightedBaseline = 0;
        decimal weightedPost = 0;
        var lines = new List<FamilyReduction>(families.Count);
        foreach (FamilyValues f in families)
        {
            weightedBaseline += f.BaselineMixWeight * f.Baseline;
            weightedPost += f.BaselineMixWeight * f.Post;
            lines.Add(new FamilyReduction
            {
                Family = f.Family,
                BaselineShare = f.BaselineMixWeight / weightSum,
                Baseline = f.Baseline,
                Post = f.Post,
                Reduction = f.Baseline == 0 ? null : 1 - (f.Post / f.Baseline),
            });
        }

        if (weightedBaseline == 0)
        {
            return new BeforeAfterResult
            {
                Verdict = TargetVerdict.InsufficientData,
                TargetReduction = targetReduction,
                BaselineValue = 0,
                PostValue = weightedPost / weightSum,
                Reduction = null,
                BaselineDefects = null,
                Reason = "the baseline value is 0: no reduction can be computed",
                Families = lines,
            };
        }

        decimal reduction = 1 - (weightedPost / weightedBaseline);
        return new BeforeAfterResult
        {
            Verdict = reduction >= targetReduction ? TargetVerdict.Met : TargetVerdict.NotMet,
            TargetReduction = targetReduction,
            BaselineValue = weightedBaseline / weightSum,
            PostValue = weightedPost / weightSum,
            Reduction = reduction,
            BaselineDefects = null,
            Reason = null,
            Families = lines,
        };
    }

    /// <summary>
    /// Defect rate (1 − good / parts) per family, weighted by the families' baseline parts. With fewer than
    /// <paramref name="minimumBaselineDefects"/> defects in the baseline the verdict is insufficient_data.
    /// </summary>
    public static BeforeAfterResult DefectRate(IReadOnlyList<FamilyCounts> families, decimal targetReduction, long minimumBaselineDefects = MinimumBaselineDefects)
    {
        ArgumentNullException.ThrowIfNull(families);
        CheckCounts(families);
        long defects = families.Sum(f => f.BaselineParts - f.BaselineGood);
        return FromCounts(
            families,
            targetReduction,
            f => (decimal)(f.BaselineParts - f.BaselineGood) / f.BaselineParts,
            f => (decimal)(f.PostParts - f.PostGood) / f.PostParts,
            defects,
            defects < minimumBaselineDefects ? $"the baseline has {defects} defects, fewer than {minimumBaselineDefects}" : null);
    }

    /// <summary>Unit cycle time (run seconds / parts) per family, weighted by the families' baseline parts.</summary>
    public static BeforeAfterResult CycleTime(IReadOnlyList<FamilyCounts> families, decimal targetReduction)
    {
        ArgumentNullException.ThrowIfNull(families);
        CheckCounts(families);
        foreach (FamilyCounts f in families)
        {
            if (f.BaselineRunSeconds < 0 || f.PostRunSeconds < 0)
            {
                throw new ArgumentException($"product family '{f.Family}': run seconds are not negative", nameof(families));
            }
        }

        return FromCounts(families, targetReduction, f => f.BaselineRunSeconds / f.BaselineParts, f => f.PostRunSeconds / f.PostParts, null, null);
    }

    private static BeforeAfterResult FromCounts(
        IReadOnlyList<FamilyCounts> families,
        decimal targetReduction,
        Func<FamilyCounts, decimal> baseline,
        Func<FamilyCounts, decimal> post,
        long? baselineDefects,
        string? insufficient)
    {
        // A family made in B but not in P has no post value at the baseline mix: the comparison cannot be made.
        FamilyCounts? missing = families.FirstOrDefault(f => f.PostParts == 0);
        if (missing is not null)
        {
            CheckTarget(targetReduction);
            return new BeforeAfterResult
            {
                Verdict = TargetVerdict.InsufficientData,
                TargetReduction = targetReduction,
                BaselineValue = null,
                PostValue = null,
                Reduction = null,
                BaselineDefects = baselineDefects,
                Reason = $"product family '{missing.Family}' made no parts in the post window",
                Families = [],
            };
        }

        BeforeAfterResult result = Compare(
            [.. families.Select(f => new FamilyValues { Family = f.Family, BaselineMixWeight = f.BaselineParts, Baseline = baseline(f), Post = post(f) })],
            targetReduction);
        if (insufficient is not null)
        {
            result = result with { Verdict = TargetVerdict.InsufficientData, Reason = insufficient };
        }

        return result with { BaselineDefects = baselineDefects };
    }

    private static void CheckCounts(IReadOnlyList<FamilyCounts> families)
    {
        if (families.Count == 0)
        {
            throw new ArgumentException("a before/after comparison needs at least one product family", nameof(families));
        }

        foreach (FamilyCounts f in families)
        {
            if (f.BaselineParts <= 0)
            {
                throw new ArgumentException($"product family '{f.Family}' has no baseline parts: it is not part of the baseline mix", nameof(families));
            }

            if (f.BaselineGood < 0 || f.BaselineGood > f.BaselineParts || f.PostParts < 0 || f.PostGood < 0 || f.PostGood > f.PostParts)
            {
                throw new ArgumentException(
                    $"product family '{f.Family}': good parts lie between 0 and parts (baseline {f.BaselineGood}/{f.BaselineParts}, post {f.PostGood}/{f.PostParts})",
                    nameof(families));
            }
        }
    }

    private static void CheckTarget(decimal targetReduction)
    {
        if (targetReduction is <= 0 or >= 1)
        {
            throw new ArgumentOutOfRangeException(nameof(targetReduction), targetReduction, "a target reduction lies between 0 and 1 (0.30 for −30%)");
        }
    }
}
