using System.Text.RegularExpressions;
using FactoryGateway.Metrics.Policies;
using FactoryGateway.Testing;

namespace FactoryGateway.Metrics.Tests.Policies;

/// <summary>The embedded target data against the policy texts (copies of the shared policy folder in Policies/Texts).</summary>
public sealed partial class PolicyTargetsDataTests
{
    private static readonly PolicyTargets s_data = PolicyTargets.Load();

    // Column order of the Jiaxing table (附件 嘉兴市工业企业智能化技术改造三年目标任务分解表) and the
    // region code, zone each column is stored under.
    private static readonly (string Column, string Region, string? Zone)[] s_jiaxingColumns =
    [
        ("全市", "330400", null),
        ("南湖区", "330402", null),
        ("秀洲区", "330411", null),
        ("嘉善县", "330421", null),
        ("平湖市", "330482", null),
        ("海盐县", "330424", null),
        ("海宁市", "330481", null),
        ("桐乡市", "330483", null),
        ("嘉兴经济技术开发区（国际商务区）", "330400", "etdz"),
        ("嘉兴港区", "330400", "port"),
    ];

    private static string PolicyText(string file) =>
        File.ReadAllText(Path.Combine(RepositoryLayout.Root, "tests", "Gateway.Metrics.Tests", "Policies", "Texts", file));

    [Fact]
    public void The_embedded_data_loads_and_validates()
    {
        Assert.Equal(5, s_data.Policies.Count);
        Assert.Equal(166, s_data.Targets.Count);
        Assert.Equal(s_data.Targets.Count, s_data.Targets.Select(t => t.Id).Distinct(StringComparer.Ordinal).Count());
        Assert.All(s_data.Targets, t => Assert.True(t.Value > 0, t.Id));
    }

    [Theory]
    [InlineData("chenzhou-2020", 6)]
    [InlineData("changsha-2015", 3)]
    [InlineData("jiaxing-2019", 127)]
    [InlineData("taixing-2022", 26)]
    [InlineData("kunshan-2021", 4)]
    public void Every_policy_has_its_targets(string policy, int count)
    {
        IReadOnlyList<PolicyTarget> targets = s_data.ForPolicy(policy);
        Assert.Equal(count, targets.Count);
        Assert.All(targets, t => Assert.StartsWith(policy + "/", t.Id, StringComparison.Ordinal));
    }

    [Fact]
    public void Every_quote_is_verbatim_in_its_policy_text()
    {
        Assert.All(s_data.Policies, p => Assert.Contains(p.File, s_data.Targets.Where(t => t.Policy == p.Id).Select(t => t.Source.File)));
        foreach (PolicyTarget target in s_data.Targets.Where(t => t.Source.Quote is not null))
        {
            string text = PolicyText(target.Source.File);
            Assert.True(text.Contains(target.Source.Quote!, StringComparison.Ordinal), $"{target.Id}: \"{target.Source.Quote}\" is not in {target.Source.File}");
        }
    }

    [Fact]
    public void Every_cell_of_the_Jiaxing_table_equals_the_policy_text()
    {
        // An independent reading of the table: after each period label come the ten columns' cells,
        // one per line (blank lines between rows); the row group is the last group label seen.
        string text = PolicyText("002_c1732456cd762f05.txt");
        string[] lines = [.. text[text.IndexOf("（2019～2021年）", StringComparison.Ordinal)..].Split('\n').Select(l => l.Trim())];
        (string Label, string Row, string Indicator, decimal Multiplier)[] groups =
        [
            ("投资（亿元）", "智能化改造投资（亿元）", "smart_retrofit_investment", 100_000_000m),
            ("在役工业机器人（台）", "在役工业机器人（台）", "robots_in_service", 1m),
            ("智能化工厂（数字化车间）示范（个）", "智能化工厂（数字化车间）示范（个）", "smart_factory_demos", 1m),
            ("拥有省级工程服务公司（家）", "拥有省级工程服务公司（家）", "provincial_engineering_service_companies", 1m),
        ];
        string[] periods = ["三年目标", "2019年", "2020年", "2021年", "到2019年底", "到2020年底", "到2021年底"];
        var tableTargets = s_data.Targets.Where(t => t.Source.Table is not null).ToList();

        int cells = 0;
        (string Label, string Row, string Indicator, decimal Multiplier)? group = null;
        for (int i = 0; i < lines.Length; i++)
        {
            foreach (var g in groups)
            {
                if (lines[i] == g.Label)
                {
                    group = g;
                }
            }

            if (group is not { } current || !periods.Contains(lines[i]))
            {
                continue;
            }

            string period = lines[i];
            string[] values = [.. lines.Skip(i + 1).Where(l => l.Length > 0).Take(s_jiaxingColumns.Length)];
            for (int c = 0; c < s_jiaxingColumns.Length; c++)
            {
                Assert.Matches(DigitsOnly(), values[c]);
                (string column, string region, string? zone) = s_jiaxingColumns[c];
                PolicyTarget target = Assert.Single(tableTargets, t =>
                    t.Source.Table!.Row == current.Row && t.Source.Table.Period == period && t.Source.Table.Column == column);
                Assert.Equal(values[c], target.Source.Table!.Cell);
                Assert.Equal(decimal.Parse(values[c], System.Globalization.CultureInfo.InvariantCulture) * current.Multiplier, target.Value);
                Assert.Equal(current.Indicator, target.Indicator);
                Assert.Equal(region, target.Region);
                Assert.Equal(zone, target.Zone);
                Assert.Equal(TargetComparison.AtLeast, target.Comparison);
                cells++;
            }
        }

        // 4 investment rows + 3 robot rows + 4 smart-factory rows + 1 service-company row, 10 columns each.
        Assert.Equal(120, cells);
        Assert.Equal(120, tableTargets.Count);
    }

    [Fact]
    public void Chosen_cells_of_the_Jiaxing_table_are_the_printed_numbers()
    {
        // 在役工业机器人（台） | 到2020年底 | 南湖区 | 1440
        PolicyTarget nanhu2020 = s_data.Get("jiaxing-2019/table/robots-in-service/2020/330402");
        Assert.Equal(1440m, nanhu2020.Value);
        Assert.Equal(("330402", 2020, 2020, TargetBasis.Level), (nanhu2020.Region, nanhu2020.YearFrom, nanhu2020.YearTo, nanhu2020.Basis));

        // 在役工业机器人（台） | 到2021年底 | 嘉善县 | 2790
        Assert.Equal(2790m, s_data.Get("jiaxing-2019/table/robots-in-service/2021/330421").Value);

        // 在役工业机器人（台） | 到2019年底 / 到2020年底 | 嘉兴港区 | 500 / 450: the text lowers the port
        // zone's target in 2020; the data keeps what is printed.
        Assert.Equal(500m, s_data.Get("jiaxing-2019/table/robots-in-service/2019/330400-port").Value);
        Assert.Equal(450m, s_data.Get("jiaxing-2019/table/robots-in-service/2020/330400-port").Value);

        // 平湖市 comes before 海盐县 in the table: 到2021年底 平湖市 2330, 海盐县 2080.
        Assert.Equal(2330m, s_data.Get("jiaxing-2019/table/robots-in-service/2021/330482").Value);
        Assert.Equal(2080m, s_data.Get("jiaxing-2019/table/robots-in-service/2021/330424").Value);

        // 智能化改造投资（亿元） | 2021年 | 海宁市 | 76 → 7.6 billion CNY
        Assert.Equal(7_600_000_000m, s_data.Get("jiaxing-2019/table/smart-retrofit-investment/2021/330481").Value);

        // 智能化工厂（数字化车间）示范（个） | 2020年 | 海宁市 | 6
        Assert.Equal(6m, s_data.Get("jiaxing-2019/table/smart-factory-demos/2020/330481").Value);

        // 拥有省级工程服务公司（家） | 到2021年底 | 桐乡市 | 5
        Assert.Equal(5m, s_data.Get("jiaxing-2019/table/provincial-engineering-service-companies/2021/330483").Value);

        // The city column of 2021 is also the text's "全市在役工业机器人达到1.8万台以上".
        PolicyTarget city2021 = s_data.Get("jiaxing-2019/table/robots-in-service/2021/330400");
        Assert.Equal(18_000m, city2021.Value);
        Assert.Equal("全市在役工业机器人达到1.8万台以上", city2021.Source.Quote);
        Assert.Equal("18000", city2021.Source.Table!.Cell);
    }

    [Fact]
    public void Districts_and_zones_add_up_to_the_city_in_every_row()
    {
        foreach (IGrouping<(string, string), PolicyTarget> row in s_data.Targets
            .Where(t => t.Source.Table is not null)
            .GroupBy(t => (t.Source.Table!.Row, t.Source.Table.Period)))
        {
            decimal city = row.Single(t => t.Region == "330400" && t.Zone is null).Value;
            decimal parts = row.Where(t => t.Region != "330400" || t.Zone is not null).Sum(t => t.Value);
            Assert.Equal(city, parts);
        }
    }

    [Fact]
    public void The_Jiaxing_text_targets_use_the_spec_indicators()
    {
        // 行业骨干企业装备数控化率达到70%以上 — 装备数控化率, not 关键工序数控化率.
        PolicyTarget nc = s_data.Get("jiaxing-2019/equipment-nc-ratio");
        Assert.Equal(("equipment_nc_ratio", 0.70m, TargetUnit.Ratio, true), (nc.Indicator, nc.Value, nc.Unit, nc.Measurable));

        // 行业骨干企业数字化设备联网率达到55%以上 — the 两化融合 digital-device networked ratio.
        PolicyTarget networked = s_data.Get("jiaxing-2019/digital-networked-ratio");
        Assert.Equal(("digital_networked_ratio", 0.55m), (networked.Indicator, networked.Value));

        // 规上制造业企业工业机器人密度达到200台/万人以上
        PolicyTarget density = s_data.Get("jiaxing-2019/robot-density");
        Assert.Equal(("robot_density", 200m, TargetUnit.Per10kEmployees), (density.Indicator, density.Value, density.Unit));
    }

    [Fact]
    public void The_other_headline_targets_are_as_printed()
    {
        // 重点企业关键工序数控化率达65%
        PolicyTarget taixing = s_data.Get("taixing-2022/key-process-nc-ratio");
        Assert.Equal(("key_process_nc_ratio", 0.65m, "321283", 2024), (taixing.Indicator, taixing.Value, taixing.Region, taixing.YearTo));

        // 累计实施生产设备智能化改造1000台以上
        PolicyTarget chenzhou = s_data.Get("chenzhou-2020/retrofitted-devices");
        Assert.Equal(("retrofitted_devices", 1000m, "431000", 2020, 2025, TargetBasis.Cumulative),
            (chenzhou.Indicator, chenzhou.Value, chenzhou.Region, chenzhou.YearFrom, chenzhou.YearTo, chenzhou.Basis));

        // 对服务企业数超500家、连接设备数超5万台的平台 — strictly more than.
        PolicyTarget devices = s_data.Get("kunshan-2021/platform-connected-devices");
        Assert.Equal(("connected_devices", 50_000m, TargetComparison.MoreThan, TargetKind.AwardThreshold),
            (devices.Indicator, devices.Value, devices.Comparison, devices.Kind));
    }

    [Fact]
    public void The_Changsha_targets_are_before_after_reductions_and_operating_cost_is_not_measurable()
    {
        IReadOnlyList<PolicyTarget> changsha = s_data.ForPolicy("changsha-2015");
        Assert.All(changsha, t => Assert.Equal((TargetComparison.ReductionAtLeast, TargetBasis.BeforeAfter, 0.30m, "430100"), (t.Comparison, t.Basis, t.Value, t.Region)));
        Assert.Equal(
            [("operating_cost", false, "试点示范项目运营成本降低30%"), ("cycle_time_s", true, "产品生产周期缩短30%"), ("defect_rate", true, "不良品率降低30%")],
            changsha.Select(t => (t.Indicator, t.Measurable, t.Source.Quote!)));
    }

    [Fact]
    public void Record_only_targets_name_declared_indicators()
    {
        Assert.All(s_data.Targets, t => Assert.Equal(s_data.Indicators[t.Indicator].Measurable, t.Measurable));
        Assert.False(s_data.Get("chenzhou-2020/smart-workshops").Measurable);
        Assert.False(s_data.Get("jiaxing-2019/table/smart-factory-demos/2019-2021/330400").Measurable);
        // Measurable: Chenzhou 1, Changsha 2, Jiaxing 3 text targets + 30 robot cells, Taixing 2, Kunshan 2.
        Assert.Equal(40, s_data.Targets.Count(t => t.Measurable));
    }

    [Fact]
    public void Region_and_year_queries_return_the_targets_in_force()
    {
        // 南湖区 in 2020: investment and smart-factory demos of 2020, robots at the end of 2020, and the
        // two three-year targets (investment, smart-factory demos 2019–2021).
        Assert.Equal(
            [
                "jiaxing-2019/table/smart-retrofit-investment/2019-2021/330402",
                "jiaxing-2019/table/smart-retrofit-investment/2020/330402",
                "jiaxing-2019/table/robots-in-service/2020/330402",
                "jiaxing-2019/table/smart-factory-demos/2019-2021/330402",
                "jiaxing-2019/table/smart-factory-demos/2020/330402",
            ],
            s_data.ForRegionAndYear("330402", 2020).Select(t => t.Id));

        // The port zone is asked for by its zone id; the city query does not return zone targets.
        Assert.Equal(5, s_data.ForRegionAndYear("330400", 2020, "port").Count);
        Assert.DoesNotContain(s_data.ForRegionAndYear("330400", 2021), t => t.Zone is not null);
        Assert.Contains(s_data.ForRegionAndYear("330400", 2021), t => t.Id == "jiaxing-2019/robot-density");
        Assert.Empty(s_data.ForRegionAndYear("330402", 2022));

        // Chenzhou's cumulative 2020–2025 targets are in force in every year of the span.
        Assert.Equal(6, s_data.ForRegionAndYear("431000", 2023).Count);
        Assert.Equal(12, s_data.ForRegion("330402").Count);
        // Robots in service: 3 years × 10 Jiaxing columns, and Taixing's 360 robots applied.
        Assert.Equal(31, s_data.ForIndicator("robots_in_service").Count);
    }

    [Fact]
    public void The_policy_document_lists_every_target_with_its_quote()
    {
        string doc = File.ReadAllText(Path.Combine(RepositoryLayout.Root, "docs", "policies.md"));
        foreach (PolicyTarget target in s_data.Targets.Where(t => t.Source.Table is null))
        {
            Assert.Contains($"| `{target.Id[(target.Policy.Length + 1)..]}` | `{target.Indicator}` |", doc, StringComparison.Ordinal);
            Assert.Contains($"「{target.Source.Quote}」", doc, StringComparison.Ordinal);
        }

        foreach (IGrouping<(string, string), PolicyTarget> row in s_data.Targets
            .Where(t => t.Source.Table is not null)
            .GroupBy(t => (t.Source.Table!.Row, t.Source.Table.Period)))
        {
            Assert.Contains($"| {row.Key.Item1} | {row.Key.Item2} | {string.Join(" | ", row.Select(t => t.Source.Table!.Cell))} |", doc, StringComparison.Ordinal);
        }
    }

    [GeneratedRegex("^[0-9]+$")]
    private static partial Regex DigitsOnly();
}
