using System.Collections.Frozen;
using System.Globalization;
using System.Text.Json;
using FactoryGateway.Evidence;

namespace FactoryGateway.Metrics.Policies;

/// <summary>
/// The quantitative targets of the seed policies (spec indicators.md §4 "Targets … are data", §7
/// <c>…/targets</c>), loaded from the data file embedded in this assembly and validated on load.
/// </summary>
public sealed class PolicyTargets
{
    /// <summary>The embedded data file's resource name (Policies/targets.json).</summary>
    public const string ResourceName = "FactoryGateway.Metrics.Policies.targets.json";

    /// <summary>The data format this reader understands.</summary>
    public const int FormatVersion = 1;

    // Years a policy or target may name: the seed policies run 2015–2025; anything outside this is a typo.
    private const int MinYear = 2000;
    private const int MaxYear = 2100;

    private readonly FrozenDictionary<string, PolicyTarget> _byId;

    private PolicyTargets(
        IReadOnlyList<PolicyDocument> policies,
        IReadOnlyList<PolicyZone> zones,
        FrozenDictionary<string, TargetIndicator> indicators,
        IReadOnlyList<PolicyTarget> targets)
    {
        Policies = policies;
        Zones = zones;
        Indicators = indicators;
        Targets = targets;
        _byId = targets.ToFrozenDictionary(t => t.Id, StringComparer.Ordinal);
    }

    public IReadOnlyList<PolicyDocument> Policies { get; }

    public IReadOnlyList<PolicyZone> Zones { get; }

    /// <summary>Every indicator a target may name: the spec §4 measured ones and the declared record-only ones.</summary>
    public FrozenDictionary<string, TargetIndicator> Indicators { get; }

    /// <summary>All targets in file order.</summary>
    public IReadOnlyList<PolicyTarget> Targets { get; }

    /// <summary>Loads and validates the embedded data file.</summary>
    /// <exception cref="PolicyTargetsException">The data is invalid.</exception>
    public static PolicyTargets Load()
    {
        using Stream stream = typeof(PolicyTargets).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"the embedded resource '{ResourceName}' is missing from {typeof(PolicyTargets).Assembly.GetName().Name}");
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        return Parse(buffer.GetBuffer().AsSpan(0, (int)buffer.Length));
    }

    /// <summary>Parses and validates target data (UTF-8 JSON in the format of Policies/targets.json).</summary>
    /// <exception cref="PolicyTargetsException">The data is invalid; every problem found is listed.</exception>
    public static PolicyTargets Parse(ReadOnlySpan<byte> utf8Json)
    {
        PolicyTargetsFile? file;
        try
        {
            file = JsonSerializer.Deserialize(utf8Json, PolicyTargetsJsonContext.Default.PolicyTargetsFile);
        }
        catch (JsonException ex)
        {
            throw new PolicyTargetsException([$"not valid target JSON: {ex.Message}"]);
        }

        if (file is null)
        {
            throw new PolicyTargetsException(["the data is null"]);
        }

        return new Validator().Validate(file);
    }

    /// <summary>The target with this id, or null.</summary>
    public PolicyTarget? Find(string id) => _byId.GetValueOrDefault(id);

    /// <summary>The target with this id.</summary>
    /// <exception cref="KeyNotFoundException">No target has this id.</exception>
    public PolicyTarget Get(string id) =>
        _byId.TryGetValue(id, out PolicyTarget? target) ? target : throw new KeyNotFoundException($"no policy target has the id '{id}'");

    /// <summary>The targets of one policy (for example <c>jiaxing-2019</c>), in file order.</summary>
    public IReadOnlyList<PolicyTarget> ForPolicy(string policyId) =>
        [.. Targets.Where(t => string.Equals(t.Policy, policyId, StringComparison.Ordinal))];

    /// <summary>
    /// The targets set for exactly this region (and zone, when given; without a zone, zone targets are
    /// not returned), in file order. A city's targets are not its districts' targets.
    /// </summary>
    public IReadOnlyList<PolicyTarget> ForRegion(string region, string? zone = null) =>
        [.. Targets.Where(t => IsRegion(t, region, zone))];

    /// <summary>
    /// The targets for exactly this region (and zone) whose year span covers <paramref name="year"/>:
    /// a level target of that year, a target added in that year, and a cumulative or each-year target
    /// whose span includes it.
    /// </summary>
    public IReadOnlyList<PolicyTarget> ForRegionAndYear(string region, int year, string? zone = null) =>
        [.. Targets.Where(t => IsRegion(t, region, zone) && t.Covers(year))];

    /// <summary>The targets measured by one indicator, in file order.</summary>
    public IReadOnlyList<PolicyTarget> ForIndicator(string indicator) =>
        [.. Targets.Where(t => string.Equals(t.Indicator, indicator, StringComparison.Ordinal))];

    private static bool IsRegion(PolicyTarget target, string region, string? zone) =>
        string.Equals(target.Region, region, StringComparison.Ordinal) && string.Equals(target.Zone, zone, StringComparison.Ordinal);

    private sealed class Validator
    {
        private readonly List<string> _errors = [];

        public PolicyTargets Validate(PolicyTargetsFile file)
        {
            if (file.FormatVersion != FormatVersion)
            {
                Error($"formatVersion is {Show(file.FormatVersion)}, this reader knows {FormatVersion}");
            }

            Dictionary<string, PolicyDocument> policies = ReadPolicies(file.Policies);
            List<PolicyZone> zones = ReadZones(file.Zones);
            Dictionary<string, TargetIndicator> indicators = ReadIndicators(file.DeclaredIndicators);
            List<PolicyTarget> targets = ReadTargets(file.Targets, policies, zones, indicators);

            // Counted over every target entry, valid or not, so that a broken target is reported once.
            var withTargets = new HashSet<string>((file.Targets ?? []).Select(t => t?.Policy ?? string.Empty), StringComparer.Ordinal);
            foreach (PolicyDocument policy in policies.Values)
            {
                if (!withTargets.Contains(policy.Id))
                {
                    Error($"policy '{policy.Id}' has no target");
                }
            }

            if (_errors.Count > 0)
            {
                throw new PolicyTargetsException(_errors);
            }

            return new PolicyTargets([.. policies.Values], zones, indicators.ToFrozenDictionary(StringComparer.Ordinal), targets);
        }

        private Dictionary<string, PolicyDocument> ReadPolicies(List<PolicyDocumentJson?>? list)
        {
            var policies = new Dictionary<string, PolicyDocument>(StringComparer.Ordinal);
            if (list is null || list.Count == 0)
            {
                Error("the data lists no policies");
                return policies;
            }

            for (int i = 0; i < list.Count; i++)
            {
                PolicyDocumentJson? p = list[i];
                string what = $"policy {i + 1}";
                if (p is null || string.IsNullOrWhiteSpace(p.Id))
                {
                    Error($"{what}: the id is missing");
                    continue;
                }

                what = $"policy '{p.Id}'";
                if (policies.ContainsKey(p.Id))
                {
                    Error($"{what} is listed twice");
                    continue;
                }

                bool ok = Required(what, "file", p.File) & Required(what, "document", p.Document) & Region(what, p.Region);
                ok &= Years(what, p.YearFrom, p.YearTo);
                if (ok)
                {
                    policies.Add(p.Id, new PolicyDocument
                    {
                        Id = p.Id,
                        File = p.File!,
                        Document = p.Document!,
                        Region = p.Region!,
                        YearFrom = p.YearFrom!.Value,
                        YearTo = p.YearTo!.Value,
                    });
                }
            }

            return policies;
        }

        private List<PolicyZone> ReadZones(List<PolicyZoneJson?>? list)
        {
            var zones = new List<PolicyZone>();
            foreach (PolicyZoneJson? z in list ?? [])
            {
                if (z is null || string.IsNullOrWhiteSpace(z.Id))
                {
                    Error($"zone {zones.Count + 1}: the id is missing");
                    continue;
                }

                string what = $"zone '{z.Id}'";
                bool ok = Region(what, z.Region) & Required(what, "name", z.Name) & Required(what, "note", z.Note);
                if (ok && zones.Any(x => x.Id == z.Id && x.Region == z.Region))
                {
                    Error($"{what} is listed twice in region '{z.Region}'");
                    ok = false;
                }

                if (ok)
                {
                    zones.Add(new PolicyZone { Id = z.Id, Region = z.Region!, Name = z.Name!, Note = z.Note! });
                }
            }

            return zones;
        }

        private Dictionary<string, TargetIndicator> ReadIndicators(List<DeclaredIndicatorJson?>? list)
        {
            var indicators = new Dictionary<string, TargetIndicator>(StringComparer.Ordinal);
            foreach ((string id, TargetUnit unit) in TargetIndicators.Measured)
            {
                indicators.Add(id, new TargetIndicator { Id = id, Name = id, Unit = unit, Measurable = true });
            }

            foreach (DeclaredIndicatorJson? d in list ?? [])
            {
                if (d is null || string.IsNullOrWhiteSpace(d.Id))
                {
                    Error("a declared indicator has no id");
                    continue;
                }

                string what = $"declared indicator '{d.Id}'";
                if (TargetIndicators.Measured.ContainsKey(d.Id))
                {
                    Error($"{what} is a measured spec §4 indicator");
                    continue;
                }

                if (indicators.ContainsKey(d.Id))
                {
                    Error($"{what} is listed twice");
                    continue;
                }

                if (!IsIdentifier(d.Id))
                {
                    Error($"{what}: an indicator id is lower-case letters, digits and '_', starting with a letter");
                    continue;
                }

                bool ok = Required(what, "name", d.Name);
                if (!TargetIndicators.TryParse(d.Unit, out TargetUnit unit))
                {
                    Error($"{what}: unknown unit {Show(d.Unit)}");
                    ok = false;
                }

                if (ok)
                {
                    indicators.Add(d.Id, new TargetIndicator { Id = d.Id, Name = d.Name!, Unit = unit, Measurable = false });
                }
            }

            return indicators;
        }

        private List<PolicyTarget> ReadTargets(
            List<PolicyTargetJson?>? list,
            Dictionary<string, PolicyDocument> policies,
            List<PolicyZone> zones,
            Dictionary<string, TargetIndicator> indicators)
        {
            var targets = new List<PolicyTarget>();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            if (list is null || list.Count == 0)
            {
                Error("the data lists no targets");
                return targets;
            }

            for (int i = 0; i < list.Count; i++)
            {
                PolicyTargetJson? t = list[i];
                if (t is null || string.IsNullOrWhiteSpace(t.Id))
                {
                    Error($"target {i + 1}: the id is missing");
                    continue;
                }

                string what = $"target '{t.Id}'";
                if (!seen.Add(t.Id))
                {
                    Error($"{what} is listed twice");
                    continue;
                }

                PolicyTarget? target = ReadTarget(what, t, policies, zones, indicators);
                if (target is not null)
                {
                    targets.Add(target);
                }
            }

            return targets;
        }

        private PolicyTarget? ReadTarget(
            string what,
            PolicyTargetJson t,
            Dictionary<string, PolicyDocument> policies,
            List<PolicyZone> zones,
            Dictionary<string, TargetIndicator> indicators)
        {
            int errorsBefore = _errors.Count;

            PolicyDocument? policy = null;
            if (t.Policy is null || !policies.TryGetValue(t.Policy, out policy))
            {
                Error($"{what}: unknown policy {Show(t.Policy)}");
            }
            else if (!t.Id!.StartsWith(policy.Id + "/", StringComparison.Ordinal))
            {
                Error($"{what}: the id does not start with its policy '{policy.Id}/'");
            }

            TargetIndicator? indicator = null;
            if (t.Indicator is null || !indicators.TryGetValue(t.Indicator, out indicator))
            {
                Error($"{what}: unknown indicator {Show(t.Indicator)}");
            }
            else if (t.Measurable is null)
            {
                Error($"{what}: measurable is missing");
            }
            else if (t.Measurable.Value != indicator.Measurable)
            {
                Error(indicator.Measurable
                    ? $"{what}: measurable is false but indicator '{indicator.Id}' is measured (spec §4)"
                    : $"{what}: measurable is true but indicator '{indicator.Id}' is declared (record only)");
            }

            if (!TargetIndicators.TryParse(t.Kind, out TargetKind kind))
            {
                Error($"{what}: unknown kind {Show(t.Kind)} (goal, award_threshold)");
            }

            bool basisKnown = TargetIndicators.TryParse(t.Basis, out TargetBasis basis);
            if (!basisKnown)
            {
                Error($"{what}: unknown basis {Show(t.Basis)} (level, added_in_year, cumulative, each_year, before_after)");
            }

            if (!TargetIndicators.TryParse(t.Comparison, out TargetComparison comparison))
            {
                Error($"{what}: unknown comparison {Show(t.Comparison)} (at_least, more_than, at_most, reduction_at_least)");
            }

            if (!TargetIndicators.TryParse(t.Unit, out TargetUnit unit))
            {
                Error($"{what}: unknown unit {Show(t.Unit)} (ratio, count, per_10k_employees, cny, seconds)");
            }

            if (Region(what, t.Region) && policy is not null
                && t.Region != policy.Region && RegionRollup.CityOf(t.Region!) != policy.Region)
            {
                Error($"{what}: region '{t.Region}' is outside the policy's region '{policy.Region}'");
            }

            if (t.Zone is not null && !zones.Any(z => z.Id == t.Zone && z.Region == t.Region))
            {
                Error($"{what}: unknown zone '{t.Zone}' in region {Show(t.Region)}");
            }

            if (Years(what, t.YearFrom, t.YearTo) && policy is not null
                && (t.YearFrom < policy.YearFrom || t.YearTo > policy.YearTo))
            {
                Error($"{what}: years {t.YearFrom}..{t.YearTo} are outside the policy's {policy.YearFrom}..{policy.YearTo}");
            }

            if (basisKnown && t.YearFrom is not null && t.YearTo is not null && t.YearFrom != t.YearTo
                && basis is TargetBasis.Level or TargetBasis.AddedInYear)
            {
                Error($"{what}: a {basis.WireName()} target names one year, not {t.YearFrom}..{t.YearTo}");
            }

            CheckValue(what, t.Value, comparison, basis, unit, indicator);
            Required(what, "scope", t.Scope);
            TargetSource? source = ReadSource(what, t.Source, policy);

            if (_errors.Count > errorsBefore)
            {
                return null;
            }

            return new PolicyTarget
            {
                Id = t.Id!,
                Policy = policy!.Id,
                Kind = kind,
                Indicator = indicator!.Id,
                Measurable = indicator.Measurable,
                Region = t.Region!,
                Zone = t.Zone,
                YearFrom = t.YearFrom!.Value,
                YearTo = t.YearTo!.Value,
                Basis = basis,
                Comparison = comparison,
                Value = t.Value!.Value,
                Unit = unit,
                Scope = t.Scope!,
                Note = t.Note,
                Source = source!,
            };
        }

        private void CheckValue(string what, decimal? value, TargetComparison comparison, TargetBasis basis, TargetUnit unit, TargetIndicator? indicator)
        {
            if (value is null)
            {
                Error($"{what}: the value is missing");
                return;
            }

            if (value <= 0)
            {
                Error($"{what}: the value must be positive, is {value.Value.ToString(CultureInfo.InvariantCulture)}");
                return;
            }

            if (comparison == TargetComparison.ReductionAtLeast)
            {
                if (unit != TargetUnit.Ratio || value >= 1)
                {
                    Error($"{what}: a reduction is a ratio below 1, is {value.Value.ToString(CultureInfo.InvariantCulture)} {unit.WireName()}");
                }

                if (basis != TargetBasis.BeforeAfter)
                {
                    Error($"{what}: a reduction target has the basis before_after, not {basis.WireName()}");
                }

                return;
            }

            if (basis == TargetBasis.BeforeAfter)
            {
                Error($"{what}: a before_after target has the comparison reduction_at_least, not {comparison.WireName()}");
            }

            if (indicator is not null && indicator.Unit != unit)
            {
                Error($"{what}: unit '{unit.WireName()}' does not match indicator '{indicator.Id}' ({indicator.Unit.WireName()})");
            }
            else if (unit == TargetUnit.Ratio && value > 1)
            {
                Error($"{what}: a ratio is at most 1, is {value.Value.ToString(CultureInfo.InvariantCulture)}");
            }
        }

        private TargetSource? ReadSource(string what, TargetSourceJson? source, PolicyDocument? policy)
        {
            if (source is null)
            {
                Error($"{what}: the source is missing");
                return null;
            }

            if (policy is not null && !string.Equals(source.File, policy.File, StringComparison.Ordinal))
            {
                Error($"{what}: source file {Show(source.File)} is not the policy's file '{policy.File}'");
            }

            if (string.IsNullOrWhiteSpace(source.Quote) && source.Table is null)
            {
                Error($"{what}: the source has neither a quote nor a table cell");
                return null;
            }

            TableCellSource? table = null;
            if (source.Table is { } cell)
            {
                string cellWhat = what + " table cell";
                if (Required(cellWhat, "row", cell.Row) & Required(cellWhat, "period", cell.Period)
                    & Required(cellWhat, "column", cell.Column) & Required(cellWhat, "cell", cell.Cell))
                {
                    table = new TableCellSource { Row = cell.Row!, Period = cell.Period!, Column = cell.Column!, Cell = cell.Cell! };
                }
            }

            return new TargetSource { File = source.File ?? string.Empty, Quote = source.Quote, Table = table };
        }

        private bool Required(string what, string field, string? value)
        {
            if (string.IsNullOrWhiteSpace(value))
            {
                Error($"{what}: {field} is missing");
                return false;
            }

            return true;
        }

        private bool Region(string what, string? code)
        {
            if (!RegionCode.TryValidate(code, out string reason))
            {
                Error($"{what}: region {Show(code)} is not a GB/T 2260 code: {reason}");
                return false;
            }

            return true;
        }

        private bool Years(string what, int? from, int? to)
        {
            if (from is null || to is null)
            {
                Error($"{what}: yearFrom and yearTo are required");
                return false;
            }

            if (from < MinYear || to > MaxYear || from > to)
            {
                Error($"{what}: years {from}..{to} are not a span within {MinYear}..{MaxYear}");
                return false;
            }

            return true;
        }

        private void Error(string message) => _errors.Add(message);

        private static bool IsIdentifier(string id) =>
            char.IsAsciiLetterLower(id[0]) && id.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '_');

        private static string Show(object? value) => value switch
        {
            null => "(missing)",
            string s => $"'{s}'",
            _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "(missing)",
        };
    }
}
