using System.Globalization;

namespace FactoryGateway.Metrics.Policies;

/// <summary>
/// Progress of an actual figure against a policy target (spec §4: progress = actual / target per region
/// and year). For a before/after target progress is reduction / target reduction.
/// </summary>
public sealed record TargetProgress
{
    public required PolicyTarget Target { get; init; }

    /// <summary>The actual figure in the target's unit; null when it cannot be computed.</summary>
    public required decimal? Actual { get; init; }

    /// <summary>The numerator the actual was computed from (ratios, density); null when given directly.</summary>
    public required decimal? Numerator { get; init; }

    /// <summary>The denominator the actual was computed from (ratios: active devices; density: employees).</summary>
    public required decimal? Denominator { get; init; }

    /// <summary>Actual / target (reduction / target reduction for before/after); null with insufficient data.</summary>
    public required decimal? Progress { get; init; }

    public required TargetVerdict Verdict { get; init; }

    /// <summary>Why the verdict is insufficient_data; null otherwise.</summary>
    public required string? Reason { get; init; }

    /// <summary>The before/after comparison behind a reduction target; null for other targets.</summary>
    public required BeforeAfterResult? Comparison { get; init; }

    /// <summary>Progress for a figure given directly: a count, an amount, or a ratio already computed.</summary>
    /// <exception cref="ArgumentException">The target is a before/after reduction (use <see cref="OfBeforeAfter"/>) or the actual is negative.</exception>
    public static TargetProgress Of(PolicyTarget target, decimal actual)
    {
        ArgumentNullException.ThrowIfNull(target);
        NotReduction(target);
        if (actual < 0)
        {
            throw new ArgumentException($"target '{target.Id}': the actual figure is not negative, is {actual.ToString(CultureInfo.InvariantCulture)}", nameof(actual));
        }

        return Build(target, actual, null, null);
    }

    /// <summary>
    /// Progress for a ratio (numerator / denominator) or a density per 10,000 employees (numerator /
    /// denominator × 10,000). Regional figures pass summed numerators and denominators, never averaged
    /// ratios (<see cref="RegionRollup.SumToCities"/>). A denominator of 0 gives insufficient_data.
    /// </summary>
    /// <exception cref="ArgumentException">The target's unit is neither a ratio nor per 10,000 employees, or a part is negative.</exception>
    public static TargetProgress OfRatio(PolicyTarget target, decimal numerator, decimal denominator)
    {
        ArgumentNullException.ThrowIfNull(target);
        NotReduction(target);
        if (target.Unit is not (TargetUnit.Ratio or TargetUnit.Per10kEmployees))
        {
            throw new ArgumentException($"target '{target.Id}' is in {target.Unit.WireName()}, not a ratio or a density", nameof(target));
        }

        if (numerator < 0 || denominator < 0)
        {
            throw new ArgumentException($"target '{target.Id}': numerator and denominator are not negative ({numerator.ToString(CultureInfo.InvariantCulture)}/{denominator.ToString(CultureInfo.InvariantCulture)})", nameof(numerator));
        }

        if (denominator == 0)
        {
            return new TargetProgress
            {
                Target = target,
                Actual = null,
                Numerator = numerator,
                Denominator = denominator,
                Progress = null,
                Verdict = TargetVerdict.InsufficientData,
                Reason = "the denominator is 0",
                Comparison = null,
            };
        }

        decimal actual = target.Unit == TargetUnit.Per10kEmployees
            ? numerator * 10_000m / denominator
            : numerator / denominator;
        return Build(target, actual, numerator, denominator);
    }

    /// <summary>Progress for a before/after reduction target from its comparison (<see cref="BeforeAfterComparison"/>).</summary>
    /// <exception cref="ArgumentException">The target is not a reduction, or the comparison was made against another target reduction.</exception>
    public static TargetProgress OfBeforeAfter(PolicyTarget target, BeforeAfterResult comparison)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(comparison);
        if (target.Comparison != TargetComparison.ReductionAtLeast)
        {
            throw new ArgumentException($"target '{target.Id}' is {target.Comparison.WireName()}, not a before/after reduction", nameof(target));
        }

        if (comparison.TargetReduction != target.Value)
        {
            throw new ArgumentException(
                $"target '{target.Id}' asks for a reduction of {target.Value.ToString(CultureInfo.InvariantCulture)}, the comparison was made for {comparison.TargetReduction.ToString(CultureInfo.InvariantCulture)}",
                nameof(comparison));
        }

        bool decided = comparison.Verdict != TargetVerdict.InsufficientData && comparison.Reduction is not null;
        return new TargetProgress
        {
            Target = target,
            Actual = comparison.Reduction,
            Numerator = null,
            Denominator = null,
            Progress = decided ? comparison.Reduction / target.Value : null,
            Verdict = comparison.Verdict,
            Reason = comparison.Reason,
            Comparison = comparison,
        };
    }

    private static TargetProgress Build(PolicyTarget target, decimal actual, decimal? numerator, decimal? denominator)
    {
        bool met = target.Comparison switch
        {
            TargetComparison.AtLeast => actual >= target.Value,
            TargetComparison.MoreThan => actual > target.Value,
            TargetComparison.AtMost => actual <= target.Value,
            _ => throw new ArgumentOutOfRangeException(nameof(target), target.Comparison, "not a level comparison"),
        };

        return new TargetProgress
        {
            Target = target,
            Actual = actual,
            Numerator = numerator,
            Denominator = denominator,
            Progress = actual / target.Value,
            Verdict = met ? TargetVerdict.Met : TargetVerdict.NotMet,
            Reason = null,
            Comparison = null,
        };
    }

    private static void NotReduction(PolicyTarget target)
    {
        if (target.Comparison == TargetComparison.ReductionAtLeast)
        {
            throw new ArgumentException($"target '{target.Id}' is a before/after reduction: use {nameof(OfBeforeAfter)}", nameof(target));
        }
    }
}
