using System.Text.Json.Serialization;

namespace FactoryGateway.Metrics.Policies;

// The data file's shape as written; PolicyTargets validates it into the public records. Every member is
// nullable so that a missing field becomes a named validation error rather than a serializer exception.
internal sealed class PolicyTargetsFile
{
    public int? FormatVersion { get; set; }

    public string? Comment { get; set; }

    public List<PolicyDocumentJson?>? Policies { get; set; }

    public List<PolicyZoneJson?>? Zones { get; set; }

    public List<DeclaredIndicatorJson?>? DeclaredIndicators { get; set; }

    public List<PolicyTargetJson?>? Targets { get; set; }
}

internal sealed class PolicyDocumentJson
{
    public string? Id { get; set; }

    public string? File { get; set; }

    public string? Document { get; set; }

    public string? Region { get; set; }

    public int? YearFrom { get; set; }

    public int? YearTo { get; set; }
}

internal sealed class PolicyZoneJson
{
    public string? Id { get; set; }

    public string? Region { get; set; }

    public string? Name { get; set; }

    public string? Note { get; set; }
}

internal sealed class DeclaredIndicatorJson
{
    public string? Id { get; set; }

    public string? Name { get; set; }

    public string? Unit { get; set; }
}

internal sealed class PolicyTargetJson
{
    public string? Id { get; set; }

    public string? Policy { get; set; }

    public string? Kind { get; set; }

    public string? Indicator { get; set; }

    public bool? Measurable { get; set; }

    public string? Region { get; set; }

    public string? Zone { get; set; }

    public int? YearFrom { get; set; }

    public int? YearTo { get; set; }

    public string? Basis { get; set; }

    public string? Comparison { get; set; }

    public decimal? Value { get; set; }

    public string? Unit { get; set; }

    public string? Scope { get; set; }

    public string? Note { get; set; }

    public TargetSourceJson? Source { get; set; }
}

internal sealed class TargetSourceJson
{
    public string? File { get; set; }

    public string? Quote { get; set; }

    public TableCellJson? Table { get; set; }
}

internal sealed class TableCellJson
{
    public string? Row { get; set; }

    public string? Period { get; set; }

    public string? Column { get; set; }

    public string? Cell { get; set; }
}

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    ReadCommentHandling = System.Text.Json.JsonCommentHandling.Disallow)]
[JsonSerializable(typeof(PolicyTargetsFile))]
internal sealed partial class PolicyTargetsJsonContext : JsonSerializerContext;
