using FactoryGateway.Metrics.Indicators;
using FactoryGateway.Metrics.Policies;

namespace FactoryGateway.Metrics.Tests.Policies;

/// <summary>A region report's computed indicators against the goals the seed policies set for that region and year.</summary>
public sealed class RegionTargetProgressTests
{
    private static readonly PolicyTargets s_targets = PolicyTargets.Load();

    [Fact]
    public void Jiaxing_city_2021_goals_are_measured_from_the_reports_numerators_and_denominators()
    {
        IndicatorReport report = Report("region", "330400", "2021",
            Value("digital_networked_ratio", 6, 10),
            Value("robot_density", 3, 200),
            Value("robots_in_service", 3, 0),
            Value("equipment_nc_ratio", 0, 0));

        Dictionary<string, TargetProgress> progress = IndicatorReports.Targets(report, s_targets).ToDictionary(p => p.Target.Id);

        Assert.Equal(
            ["jiaxing-2019/digital-networked-ratio", "jiaxing-2019/equipment-nc-ratio", "jiaxing-2019/robot-density", "jiaxing-2019/table/robots-in-service/2021/330400"],
            progress.Keys.Order(StringComparer.Ordinal));
        Assert.Equal((0.6m, TargetVerdict.Met), (progress["jiaxing-2019/digital-networked-ratio"].Actual, progress["jiaxing-2019/digital-networked-ratio"].Verdict));
        Assert.Equal((150m, TargetVerdict.NotMet), (progress["jiaxing-2019/robot-density"].Actual, progress["jiaxing-2019/robot-density"].Verdict));
        Assert.Equal(0.75m, progress["jiaxing-2019/robot-density"].Progress);
        Assert.Equal((3m, TargetVerdict.NotMet), (progress["jiaxing-2019/table/robots-in-service/2021/330400"].Actual, progress["jiaxing-2019/table/robots-in-service/2021/330400"].Verdict));
        Assert.Equal(TargetVerdict.InsufficientData, progress["jiaxing-2019/equipment-nc-ratio"].Verdict); // no production device active
    }

    [Fact]
    public void A_county_gets_its_own_row_of_the_district_table_and_no_city_goal()
    {
        IndicatorReport report = Report("region", "330402", "2021-09", Value("robots_in_service", 1700, 0), Value("robot_density", 1700, 50_000));

        TargetProgress only = Assert.Single(IndicatorReports.Targets(report, s_targets));

        Assert.Equal("jiaxing-2019/table/robots-in-service/2021/330402", only.Target.Id);
        Assert.Equal(TargetVerdict.Met, only.Verdict); // 1,700 ≥ 1,620
    }

    [Theory]
    [InlineData("region", "330400", "2026")]   // no goal covers 2026
    [InlineData("enterprise", "91330402MA2B3C4D53", "2021")]
    public void Reports_without_goals_for_their_scope_and_year_list_none(string kind, string code, string window) =>
        Assert.Empty(IndicatorReports.Targets(Report(kind, code, window, Value("robots_in_service", 5, 0)), s_targets));

    private static IndicatorReport Report(string kind, string code, string window, params IndicatorValue[] values) =>
        new(new IndicatorScope(kind, code), IndicatorWindow.Parse(window), "fg-2026.1", values, [], []);

    private static IndicatorValue Value(string id, decimal numerator, decimal denominator) => new()
    {
        Id = id,
        FormulaSet = "fg-2026.1",
        Window = "w",
        Scope = "s",
        Numerator = numerator,
        Denominator = denominator,
        Value = id == "robots_in_service" ? numerator : denominator == 0 ? null : numerator / denominator * (id == "robot_density" ? 10_000m : 1m),
        Counted = [],
        Excluded = [],
        RegisterHash = new string('0', 64),
        LedgerRoots = [],
        Provisional = false,
    };
}
