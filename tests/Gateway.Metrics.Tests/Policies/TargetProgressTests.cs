using FactoryGateway.Metrics.Policies;

namespace FactoryGateway.Metrics.Tests.Policies;

public sealed class TargetProgressTests
{
    private static readonly PolicyTargets s_data = PolicyTargets.Load();

    [Fact]
    public void A_count_target_progress_is_actual_over_target()
    {
        // Chenzhou: 累计实施生产设备智能化改造1000台以上; 250 verified retrofitted devices → 250 / 1000 = 0.25.
        PolicyTarget target = s_data.Get("chenzhou-2020/retrofitted-devices");
        TargetProgress quarter = TargetProgress.Of(target, 250);
        Assert.Equal((250m, 0.25m, TargetVerdict.NotMet), (quarter.Actual, quarter.Progress, quarter.Verdict));

        TargetProgress done = TargetProgress.Of(target, 1000);
        Assert.Equal((1m, TargetVerdict.Met), (done.Progress, done.Verdict));
    }

    [Fact]
    public void A_district_robot_target_uses_its_own_cell()
    {
        // 南湖区 到2020年底 1440 robots; 1152 in service → 1152 / 1440 = 0.8.
        TargetProgress progress = TargetProgress.Of(s_data.Get("jiaxing-2019/table/robots-in-service/2020/330402"), 1152);
        Assert.Equal((0.8m, TargetVerdict.NotMet), (progress.Progress, progress.Verdict));
    }

    [Fact]
    public void A_ratio_target_is_computed_from_numerator_and_denominator()
    {
        // 数字化设备联网率 ≥ 55%: 110 of 200 digital devices networked = 0.55 → met, progress 1.
        PolicyTarget target = s_data.Get("jiaxing-2019/digital-networked-ratio");
        TargetProgress met = TargetProgress.OfRatio(target, 110, 200);
        Assert.Equal((0.55m, 1m, TargetVerdict.Met, 110m, 200m), (met.Actual, met.Progress, met.Verdict, met.Numerator, met.Denominator));

        // 109 / 200 = 0.545; 0.545 / 0.55 = 0.9909… → not met.
        TargetProgress short1 = TargetProgress.OfRatio(target, 109, 200);
        Assert.Equal((0.545m, TargetVerdict.NotMet), (short1.Actual, short1.Verdict));
        Assert.Equal(0.545m / 0.55m, short1.Progress);
    }

    [Fact]
    public void Robot_density_is_per_ten_thousand_employees()
    {
        // 300 robots in service, 12,000 mean monthly employees → 300 / 12,000 × 10,000 = 250 per 10k;
        // 250 / 200 = 1.25.
        TargetProgress progress = TargetProgress.OfRatio(s_data.Get("jiaxing-2019/robot-density"), 300, 12_000);
        Assert.Equal((250m, 1.25m, TargetVerdict.Met), (progress.Actual, progress.Progress, progress.Verdict));
    }

    [Fact]
    public void An_empty_denominator_is_insufficient_data()
    {
        TargetProgress progress = TargetProgress.OfRatio(s_data.Get("taixing-2022/key-process-nc-ratio"), 0, 0);
        Assert.Equal((null, null, TargetVerdict.InsufficientData, "the denominator is 0"), (progress.Actual, progress.Progress, progress.Verdict, progress.Reason));
    }

    [Fact]
    public void More_than_is_strict()
    {
        // 连接设备数超5万台: exactly 50,000 is not above 50,000.
        PolicyTarget target = s_data.Get("kunshan-2021/platform-connected-devices");
        Assert.Equal(TargetVerdict.NotMet, TargetProgress.Of(target, 50_000).Verdict);
        Assert.Equal(TargetVerdict.Met, TargetProgress.Of(target, 50_001).Verdict);
    }

    [Fact]
    public void Reduction_targets_and_wrong_units_are_refused()
    {
        ArgumentException reduction = Assert.Throws<ArgumentException>(() => TargetProgress.Of(s_data.Get("changsha-2015/defect-rate-reduction"), 0.1m));
        Assert.StartsWith("target 'changsha-2015/defect-rate-reduction' is a before/after reduction: use OfBeforeAfter", reduction.Message, StringComparison.Ordinal);

        ArgumentException unit = Assert.Throws<ArgumentException>(() => TargetProgress.OfRatio(s_data.Get("chenzhou-2020/retrofitted-devices"), 1, 2));
        Assert.StartsWith("target 'chenzhou-2020/retrofitted-devices' is in count, not a ratio or a density", unit.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Regions_add_numerators_and_denominators_and_never_average_ratios()
    {
        // 南湖区 30 robots / 1,000 employees (300 per 10k), 秀洲区 10 / 3,000 (33.3 per 10k): the city is
        // 40 / 4,000 = 100 per 10k, not the mean 166.7.
        IReadOnlyList<RegionTotal> totals = RegionRollup.SumToCities([("330402", 30, 1_000), ("330411", 10, 3_000), ("321283", 5, 500)]);
        Assert.Equal(
            [("321200", 5m, 500m, 1), ("330400", 40m, 4_000m, 2)],
            totals.Select(t => (t.Region, t.Numerator, t.Denominator, t.Parts)));

        RegionTotal jiaxing = totals[1];
        TargetProgress density = TargetProgress.OfRatio(s_data.Get("jiaxing-2019/robot-density"), jiaxing.Numerator, jiaxing.Denominator);
        Assert.Equal((100m, 0.5m), (density.Actual, density.Progress));
    }

    [Theory]
    [InlineData("330402", "330400")]
    [InlineData("330483", "330400")]
    [InlineData("330400", "330400")]
    [InlineData("321283", "321200")]
    [InlineData("320583", "320500")]
    [InlineData("431000", "431000")]
    [InlineData("430100", "430100")]
    [InlineData("429004", "429004")]
    public void A_county_rolls_up_to_its_city(string county, string city) => Assert.Equal(city, RegionRollup.CityOf(county));

    [Fact]
    public void An_invalid_code_does_not_roll_up()
    {
        ArgumentException ex = Assert.Throws<ArgumentException>(() => RegionRollup.CityOf("3304x2"));
        Assert.StartsWith("region '3304x2' is not a GB/T 2260 code: character 5 is 'x', not a digit", ex.Message, StringComparison.Ordinal);
    }
}
