namespace FactoryGateway.Metrics.Policies;

/// <summary>How a target's value is compared with the actual figure (data name in brackets).</summary>
public enum TargetComparison
{
    /// <summary>Met when actual ≥ target (<c>at_least</c>; 达到 …以上, 达 …).</summary>
    AtLeast,

    /// <summary>Met when actual &gt; target (<c>more_than</c>; 超过, 超 …).</summary>
    MoreThan,

    /// <summary>Met when actual ≤ target (<c>at_most</c>; 不超过).</summary>
    AtMost,

    /// <summary>
    /// A before/after target (<c>reduction_at_least</c>; 降低/缩短 …%): met when
    /// 1 − value_after / value_before ≥ target.
    /// </summary>
    ReductionAtLeast,
}

/// <summary>What the target's figure counts over its years (data name in brackets).</summary>
public enum TargetBasis
{
    /// <summary>A level reached in the target year: a stock (robots in service at year end) or a ratio (<c>level</c>).</summary>
    Level,

    /// <summary>What is added during the single target year (<c>added_in_year</c>).</summary>
    AddedInYear,

    /// <summary>What is added over the whole span yearFrom..yearTo (<c>cumulative</c>; 累计).</summary>
    Cumulative,

    /// <summary>The same figure in every year of the span (<c>each_year</c>; 每年, or an award threshold valid each year).</summary>
    EachYear,

    /// <summary>A before/after comparison of a project (<c>before_after</c>).</summary>
    BeforeAfter,
}

/// <summary>Whether a target is a policy goal or the threshold of an award (data name in brackets).</summary>
public enum TargetKind
{
    /// <summary>A goal the policy sets for the region (<c>goal</c>).</summary>
    Goal,

    /// <summary>A threshold a single subject must pass to receive an award (<c>award_threshold</c>).</summary>
    AwardThreshold,
}

/// <summary>The unit of a target's value (data name in brackets).</summary>
public enum TargetUnit
{
    /// <summary>A ratio as a decimal, 0.55 for 55% (<c>ratio</c>).</summary>
    Ratio,

    /// <summary>A count of devices, enterprises, projects … (<c>count</c>).</summary>
    Count,

    /// <summary>Per 10,000 employees, as robot density (<c>per_10k_employees</c>).</summary>
    Per10kEmployees,

    /// <summary>Chinese yuan; 亿元 in a text is 10^8 CNY (<c>cny</c>).</summary>
    Cny,

    /// <summary>Seconds (<c>seconds</c>).</summary>
    Seconds,
}

/// <summary>One seed policy document.</summary>
public sealed record PolicyDocument
{
    /// <summary>Policy id as in spec §7, for example <c>jiaxing-2019</c>.</summary>
    public required string Id { get; init; }

    /// <summary>The policy text's file name in the shared policy folder.</summary>
    public required string File { get; init; }

    /// <summary>Document number and title.</summary>
    public required string Document { get; init; }

    /// <summary>GB/T 2260 code of the issuing city or county.</summary>
    public required string Region { get; init; }

    public required int YearFrom { get; init; }

    public required int YearTo { get; init; }
}

/// <summary>A functional zone a policy sets targets for that has no GB/T 2260 code of its own (for example 嘉兴港区).</summary>
public sealed record PolicyZone
{
    /// <summary>Zone id, unique within its region, for example <c>port</c>.</summary>
    public required string Id { get; init; }

    /// <summary>The GB/T 2260 code the zone belongs to (the city).</summary>
    public required string Region { get; init; }

    public required string Name { get; init; }

    public required string Note { get; init; }
}

/// <summary>An indicator a target may name: a spec §4 indicator telemetry measures, or a declared record-only one.</summary>
public sealed record TargetIndicator
{
    public required string Id { get; init; }

    public required string Name { get; init; }

    public required TargetUnit Unit { get; init; }

    /// <summary>True for the spec §4 indicators computed from the register and ledger.</summary>
    public required bool Measurable { get; init; }
}

/// <summary>One cell of a table in a policy text: row label, period label, column header and the cell as printed.</summary>
public sealed record TableCellSource
{
    public required string Row { get; init; }

    public required string Period { get; init; }

    public required string Column { get; init; }

    public required string Cell { get; init; }
}

/// <summary>Where a target comes from: the policy file and the exact sentence, table cell, or both.</summary>
public sealed record TargetSource
{
    public required string File { get; init; }

    /// <summary>The exact Chinese text the target is read from, verbatim from the file; null for a table cell only.</summary>
    public required string? Quote { get; init; }

    public required TableCellSource? Table { get; init; }
}

/// <summary>A quantitative target of a policy for one region (or zone) and year span.</summary>
public sealed record PolicyTarget
{
    /// <summary>Unique id, <c>{policy}/{name}</c>, for example <c>jiaxing-2019/table/robots-in-service/2020/330402</c>.</summary>
    public required string Id { get; init; }

    /// <summary>The policy id (<see cref="PolicyDocument.Id"/>).</summary>
    public required string Policy { get; init; }

    public required TargetKind Kind { get; init; }

    /// <summary>The indicator id the target is measured by (<see cref="TargetIndicator.Id"/>).</summary>
    public required string Indicator { get; init; }

    /// <summary>False when telemetry cannot measure the target: the figure is taken on declaration (record only).</summary>
    public required bool Measurable { get; init; }

    /// <summary>GB/T 2260 code: the city, or a district/county.</summary>
    public required string Region { get; init; }

    /// <summary>A functional zone within <see cref="Region"/> (<see cref="PolicyZone.Id"/>), or null.</summary>
    public required string? Zone { get; init; }

    public required int YearFrom { get; init; }

    public required int YearTo { get; init; }

    public required TargetBasis Basis { get; init; }

    public required TargetComparison Comparison { get; init; }

    /// <summary>The target value in <see cref="Unit"/>; for a reduction the fraction (0.30 for −30%).</summary>
    public required decimal Value { get; init; }

    public required TargetUnit Unit { get; init; }

    /// <summary>Who or what the target covers, for example "industry backbone enterprises (行业骨干企业)".</summary>
    public required string Scope { get; init; }

    public required string? Note { get; init; }

    public required TargetSource Source { get; init; }

    /// <summary>True when <paramref name="year"/> lies within yearFrom..yearTo.</summary>
    public bool Covers(int year) => year >= YearFrom && year <= YearTo;
}
