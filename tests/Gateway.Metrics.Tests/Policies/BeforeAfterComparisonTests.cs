using FactoryGateway.Metrics.Policies;

namespace FactoryGateway.Metrics.Tests.Policies;

public sealed class BeforeAfterComparisonTests
{
    private static readonly PolicyTargets s_data = PolicyTargets.Load();

    [Fact]
    public void Values_are_weighted_by_the_baseline_mix()
    {
        // A: weight 0.6, 100 s → 60 s; B: weight 0.4, 50 s → 45 s.
        // value_B = 0.6×100 + 0.4×50 = 80; value_P = 0.6×60 + 0.4×45 = 54; reduction = 1 − 54/80 = 0.325 ≥ 0.30.
        // (The plain mean of the family reductions, (0.4 + 0.1) / 2 = 0.25, would fail the target.)
        BeforeAfterResult result = BeforeAfterComparison.Compare(
            [
                new FamilyValues { Family = "A", BaselineMixWeight = 0.6m, Baseline = 100, Post = 60 },
                new FamilyValues { Family = "B", BaselineMixWeight = 0.4m, Baseline = 50, Post = 45 },
            ],
            0.30m);

        Assert.Equal((80m, 54m, 0.325m, TargetVerdict.Met), (result.BaselineValue, result.PostValue, result.Reduction, result.Verdict));
        Assert.Equal([("A", 0.6m, (decimal?)0.4m), ("B", 0.4m, 0.1m)], result.Families.Select(f => (f.Family, f.BaselineShare, f.Reduction)));
    }

    [Fact]
    public void A_small_reduction_is_not_met()
    {
        // One family, 80 s → 64 s: 1 − 64/80 = 0.2 < 0.30.
        BeforeAfterResult result = BeforeAfterComparison.Compare([new FamilyValues { Family = "A", BaselineMixWeight = 1, Baseline = 80, Post = 64 }], 0.30m);
        Assert.Equal((0.2m, TargetVerdict.NotMet), (result.Reduction, result.Verdict));
    }

    [Fact]
    public void The_defect_rate_is_compared_at_the_baseline_mix()
    {
        // A: B 1000 parts, 960 good (40 defects, 4%); P 500 parts, 490 good (2%).
        // B: B 500 parts, 490 good (10 defects, 2%); P 1500 parts, 1485 good (1%).
        // Baseline weights 1000 : 500. value_B = (1000×0.04 + 500×0.02) / 1500 = 50/1500;
        // value_P = (1000×0.02 + 500×0.01) / 1500 = 25/1500; reduction = 1 − 25/50 = 0.5.
        // Pooling the post window instead (25 defects / 2000 parts = 1.25%) would credit the shift of the
        // mix towards B and give 1 − 0.0125 / 0.0333… = 0.625.
        BeforeAfterResult result = BeforeAfterComparison.DefectRate(
            [
                new FamilyCounts { Family = "A", BaselineParts = 1000, BaselineGood = 960, PostParts = 500, PostGood = 490 },
                new FamilyCounts { Family = "B", BaselineParts = 500, BaselineGood = 490, PostParts = 1500, PostGood = 1485 },
            ],
            0.30m);

        Assert.Equal((0.5m, TargetVerdict.Met, (long?)50, (string?)null), (result.Reduction, result.Verdict, result.BaselineDefects, result.Reason));
        Assert.Equal([0.04m, 0.02m], result.Families.Select(f => f.Baseline));
        Assert.Equal([0.02m, 0.01m], result.Families.Select(f => f.Post));
    }

    [Theory]
    [InlineData(29, TargetVerdict.InsufficientData)]
    [InlineData(30, TargetVerdict.Met)]
    public void Fewer_than_thirty_baseline_defects_is_insufficient_data(long defects, TargetVerdict verdict)
    {
        // 10,000 baseline parts with `defects` defects; the post window halves the rate.
        BeforeAfterResult result = BeforeAfterComparison.DefectRate(
            [new FamilyCounts { Family = "A", BaselineParts = 10_000, BaselineGood = 10_000 - defects, PostParts = 20_000, PostGood = 20_000 - defects }],
            0.30m);

        Assert.Equal((verdict, (long?)defects, 0.5m), (result.Verdict, result.BaselineDefects, result.Reduction));
        Assert.Equal(verdict == TargetVerdict.InsufficientData ? $"the baseline has {defects} defects, fewer than 30" : null, result.Reason);
    }

    [Fact]
    public void Cycle_time_is_run_seconds_per_part_at_the_baseline_mix()
    {
        // A: 100,000 s / 1,000 parts = 100 s → 40,000 s / 800 = 50 s. B: 50,000 s / 1,000 = 50 s → 40,000 s / 1,000 = 40 s.
        // Equal baseline parts: value_B = (100 + 50)/2 = 75, value_P = (50 + 40)/2 = 45, reduction = 1 − 45/75 = 0.4.
        BeforeAfterResult result = BeforeAfterComparison.CycleTime(
            [
                new FamilyCounts { Family = "A", BaselineParts = 1000, BaselineGood = 1000, BaselineRunSeconds = 100_000, PostParts = 800, PostGood = 800, PostRunSeconds = 40_000 },
                new FamilyCounts { Family = "B", BaselineParts = 1000, BaselineGood = 1000, BaselineRunSeconds = 50_000, PostParts = 1000, PostGood = 1000, PostRunSeconds = 40_000 },
            ],
            0.30m);

        Assert.Equal((75m, 45m, 0.4m, TargetVerdict.Met), (result.BaselineValue, result.PostValue, result.Reduction, result.Verdict));
    }

    [Fact]
    public void A_family_missing_after_the_project_is_insufficient_data()
    {
        BeforeAfterResult result = BeforeAfterComparison.CycleTime(
            [
                new FamilyCounts { Family = "A", BaselineParts = 10, BaselineGood = 10, BaselineRunSeconds = 100, PostParts = 10, PostGood = 10, PostRunSeconds = 50 },
                new FamilyCounts { Family = "B", BaselineParts = 10, BaselineGood = 10, BaselineRunSeconds = 100, PostParts = 0, PostGood = 0 },
            ],
            0.30m);
        Assert.Equal((TargetVerdict.InsufficientData, "product family 'B' made no parts in the post window"), (result.Verdict, result.Reason));
    }

    [Fact]
    public void Invalid_inputs_are_refused()
    {
        ArgumentException twice = Assert.Throws<ArgumentException>(() => BeforeAfterComparison.Compare(
            [
                new FamilyValues { Family = "A", BaselineMixWeight = 1, Baseline = 1, Post = 1 },
                new FamilyValues { Family = "A", BaselineMixWeight = 1, Baseline = 1, Post = 1 },
            ],
            0.30m));
        Assert.StartsWith("product family 'A' is empty or listed twice", twice.Message, StringComparison.Ordinal);

        ArgumentException good = Assert.Throws<ArgumentException>(() => BeforeAfterComparison.DefectRate(
            [new FamilyCounts { Family = "A", BaselineParts = 10, BaselineGood = 11, PostParts = 10, PostGood = 10 }],
            0.30m));
        Assert.StartsWith("product family 'A': good parts lie between 0 and parts (baseline 11/10, post 10/10)", good.Message, StringComparison.Ordinal);

        Assert.Throws<ArgumentOutOfRangeException>(() => BeforeAfterComparison.Compare([new FamilyValues { Family = "A", BaselineMixWeight = 1, Baseline = 1, Post = 1 }], 30m));
    }

    [Fact]
    public void The_Changsha_targets_take_their_verdict_from_the_comparison()
    {
        PolicyTarget defect = s_data.Get("changsha-2015/defect-rate-reduction");
        BeforeAfterResult halved = BeforeAfterComparison.DefectRate(
            [new FamilyCounts { Family = "A", BaselineParts = 1000, BaselineGood = 960, PostParts = 1000, PostGood = 980 }],
            defect.Value);
        TargetProgress met = TargetProgress.OfBeforeAfter(defect, halved);
        // 40 → 20 defects per 1000: reduction 0.5; progress 0.5 / 0.30.
        Assert.Equal((0.5m, 0.5m / 0.30m, TargetVerdict.Met), (met.Actual, met.Progress, met.Verdict));

        BeforeAfterResult few = BeforeAfterComparison.DefectRate(
            [new FamilyCounts { Family = "A", BaselineParts = 1000, BaselineGood = 980, PostParts = 1000, PostGood = 990 }],
            defect.Value);
        TargetProgress insufficient = TargetProgress.OfBeforeAfter(defect, few);
        Assert.Equal((null, TargetVerdict.InsufficientData, "the baseline has 20 defects, fewer than 30"), (insufficient.Progress, insufficient.Verdict, insufficient.Reason));

        PolicyTarget cycle = s_data.Get("changsha-2015/production-cycle-reduction");
        ArgumentException mismatch = Assert.Throws<ArgumentException>(() => TargetProgress.OfBeforeAfter(cycle, BeforeAfterComparison.Compare(
            [new FamilyValues { Family = "A", BaselineMixWeight = 1, Baseline = 10, Post = 5 }], 0.5m)));
        Assert.StartsWith("target 'changsha-2015/production-cycle-reduction' asks for a reduction of 0.3, the comparison was made for 0.5", mismatch.Message, StringComparison.Ordinal);
    }
}
