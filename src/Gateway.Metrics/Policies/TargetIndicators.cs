using System.Collections.Frozen;

namespace FactoryGateway.Metrics.Policies;

/// <summary>
/// The indicators of spec indicators.md §4 (formula set fg-2026.1) that a target may name as measurable,
/// with the unit of their value. Declared, record-only indicators come from the target data itself.
/// </summary>
public static class TargetIndicators
{
    /// <summary>Spec §4 indicator ids and units.</summary>
    public static FrozenDictionary<string, TargetUnit> Measured { get; } = new Dictionary<string, TargetUnit>(StringComparer.Ordinal)
    {
        ["digital_networked_ratio"] = TargetUnit.Ratio,
        ["production_networked_ratio"] = TargetUnit.Ratio,
        ["equipment_digital_ratio"] = TargetUnit.Ratio,
        ["key_process_nc_ratio"] = TargetUnit.Ratio,
        ["equipment_nc_ratio"] = TargetUnit.Ratio,
        ["key_process_nc_work_share"] = TargetUnit.Ratio,
        ["robots_in_service"] = TargetUnit.Count,
        ["robots_registered"] = TargetUnit.Count,
        ["robot_density"] = TargetUnit.Per10kEmployees,
        ["utilization"] = TargetUnit.Ratio,
        ["oee"] = TargetUnit.Ratio,
        ["cycle_time_s"] = TargetUnit.Seconds,
        ["defect_rate"] = TargetUnit.Ratio,
        ["connected_devices"] = TargetUnit.Count,
        ["enterprises_served"] = TargetUnit.Count,
        ["retrofitted_devices"] = TargetUnit.Count,
    }.ToFrozenDictionary(StringComparer.Ordinal);

    /// <summary>The names used in the data file for each unit.</summary>
    public static string WireName(this TargetUnit unit) => unit switch
    {
        TargetUnit.Ratio => "ratio",
        TargetUnit.Count => "count",
        TargetUnit.Per10kEmployees => "per_10k_employees",
        TargetUnit.Cny => "cny",
        TargetUnit.Seconds => "seconds",
        _ => throw new ArgumentOutOfRangeException(nameof(unit), unit, null),
    };

    public static string WireName(this TargetComparison comparison) => comparison switch
    {
        TargetComparison.AtLeast => "at_least",
        TargetComparison.MoreThan => "more_than",
        TargetComparison.AtMost => "at_most",
        TargetComparison.ReductionAtLeast => "reduction_at_least",
        _ => throw new ArgumentOutOfRangeException(nameof(comparison), comparison, null),
    };

    public static string WireName(this TargetBasis basis) => basis switch
    {
        TargetBasis.Level => "level",
        TargetBasis.AddedInYear => "added_in_year",
        TargetBasis.Cumulative => "cumulative",
        TargetBasis.EachYear => "each_year",
        TargetBasis.BeforeAfter => "before_after",
        _ => throw new ArgumentOutOfRangeException(nameof(basis), basis, null),
    };

    public static string WireName(this TargetKind kind) => kind switch
    {
        TargetKind.Goal => "goal",
        TargetKind.AwardThreshold => "award_threshold",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };

    internal static bool TryParse(string? name, out TargetUnit unit) => TryParseWire(name, WireName, out unit);

    internal static bool TryParse(string? name, out TargetComparison comparison) => TryParseWire(name, WireName, out comparison);

    internal static bool TryParse(string? name, out TargetBasis basis) => TryParseWire(name, WireName, out basis);

    internal static bool TryParse(string? name, out TargetKind kind) => TryParseWire(name, WireName, out kind);

    private static bool TryParseWire<T>(string? name, Func<T, string> wireName, out T value)
        where T : struct, Enum
    {
        foreach (T candidate in Enum.GetValues<T>())
        {
            if (string.Equals(wireName(candidate), name, StringComparison.Ordinal))
            {
                value = candidate;
                return true;
            }
        }

        value = default;
        return false;
    }
}
