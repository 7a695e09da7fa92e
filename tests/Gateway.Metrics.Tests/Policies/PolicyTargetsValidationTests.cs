using System.Text;
using System.Text.Json.Nodes;
using FactoryGateway.Metrics.Policies;

namespace FactoryGateway.Metrics.Tests.Policies;

public sealed class PolicyTargetsValidationTests
{
    private const string TargetId = "jiaxing-2019/robots-nanhu-2020";

    // One policy with one valid target: each test breaks one thing and checks the exact error.
    private static JsonObject Valid() => JsonNode.Parse("""
        {
          "formatVersion": 1,
          "policies": [
            { "id": "jiaxing-2019", "file": "002.txt", "document": "嘉兴 2019", "region": "330400", "yearFrom": 2019, "yearTo": 2021 }
          ],
          "zones": [
            { "id": "port", "region": "330400", "name": "嘉兴港区", "note": "functional zone" }
          ],
          "declaredIndicators": [
            { "id": "smart_factory_demos", "name": "智能化工厂（数字化车间）示范", "unit": "count" }
          ],
          "targets": [
            {
              "id": "jiaxing-2019/robots-nanhu-2020", "policy": "jiaxing-2019", "kind": "goal",
              "indicator": "robots_in_service", "measurable": true, "region": "330402", "zone": null,
              "yearFrom": 2020, "yearTo": 2020, "basis": "level", "comparison": "at_least",
              "value": 1440, "unit": "count", "scope": "robots in service at the end of 2020",
              "source": { "file": "002.txt", "quote": null,
                          "table": { "row": "在役工业机器人（台）", "period": "到2020年底", "column": "南湖区", "cell": "1440" } }
            }
          ]
        }
        """)!.AsObject();

    private static JsonObject Target(JsonObject data, int index = 0) => data["targets"]![index]!.AsObject();

    private static PolicyTargets Parse(JsonObject data) => PolicyTargets.Parse(Encoding.UTF8.GetBytes(data.ToJsonString()));

    private static IReadOnlyList<string> Errors(JsonObject data) =>
        Assert.Throws<PolicyTargetsException>(() => Parse(data)).Errors;

    [Fact]
    public void The_minimal_data_is_valid()
    {
        PolicyTarget target = Assert.Single(Parse(Valid()).Targets);
        Assert.Equal((TargetId, 1440m, TargetUnit.Count, TargetBasis.Level), (target.Id, target.Value, target.Unit, target.Basis));
        Assert.Equal("南湖区", target.Source.Table!.Column);
    }

    [Theory]
    [InlineData("33040", "a region code has 6 digits, this one has 5 characters")]
    [InlineData("3304O2", "character 5 is 'O', not a digit")]
    [InlineData("990402", "'99' is not a GB/T 2260 province code")]
    public void A_bad_region_code_is_named_with_the_reason(string region, string reason)
    {
        JsonObject data = Valid();
        Target(data)["region"] = region;
        Assert.Equal([$"target '{TargetId}': region '{region}' is not a GB/T 2260 code: {reason}"], Errors(data));
    }

    [Fact]
    public void A_region_outside_the_policy_is_rejected()
    {
        JsonObject data = Valid();
        Target(data)["region"] = "330102";
        Assert.Equal([$"target '{TargetId}': region '330102' is outside the policy's region '330400'"], Errors(data));
    }

    [Fact]
    public void An_unknown_indicator_is_rejected()
    {
        JsonObject data = Valid();
        Target(data)["indicator"] = "robot_count";
        Assert.Equal([$"target '{TargetId}': unknown indicator 'robot_count'"], Errors(data));
    }

    [Fact]
    public void A_duplicate_target_id_is_rejected()
    {
        JsonObject data = Valid();
        data["targets"]!.AsArray().Add(Target(data).DeepClone());
        PolicyTargetsException ex = Assert.Throws<PolicyTargetsException>(() => Parse(data));
        Assert.Equal([$"target '{TargetId}' is listed twice"], ex.Errors);
        Assert.Equal($"invalid policy target data: target '{TargetId}' is listed twice", ex.Message);
    }

    [Fact]
    public void Every_problem_is_listed_and_the_message_carries_the_first()
    {
        JsonObject data = Valid();
        Target(data)["value"] = -5;
        Target(data)["yearTo"] = 2022;
        PolicyTargetsException ex = Assert.Throws<PolicyTargetsException>(() => Parse(data));
        Assert.Equal(
            [
                $"target '{TargetId}': years 2020..2022 are outside the policy's 2019..2021",
                $"target '{TargetId}': a level target names one year, not 2020..2022",
                $"target '{TargetId}': the value must be positive, is -5",
            ],
            ex.Errors);
        Assert.Equal($"invalid policy target data: target '{TargetId}': years 2020..2022 are outside the policy's 2019..2021 (and 2 more)", ex.Message);
    }

    [Fact]
    public void A_ratio_above_one_and_a_unit_mismatch_are_rejected()
    {
        JsonObject data = Valid();
        Target(data)["indicator"] = "digital_networked_ratio";
        Target(data)["unit"] = "ratio";
        Target(data)["value"] = 55;
        Assert.Equal([$"target '{TargetId}': a ratio is at most 1, is 55"], Errors(data));

        Target(data)["unit"] = "count";
        Assert.Equal([$"target '{TargetId}': unit 'count' does not match indicator 'digital_networked_ratio' (ratio)"], Errors(data));
    }

    [Fact]
    public void Measurable_must_agree_with_the_indicator()
    {
        JsonObject data = Valid();
        Target(data)["measurable"] = false;
        Assert.Equal([$"target '{TargetId}': measurable is false but indicator 'robots_in_service' is measured (spec §4)"], Errors(data));

        Target(data)["indicator"] = "smart_factory_demos";
        Target(data)["measurable"] = true;
        Assert.Equal([$"target '{TargetId}': measurable is true but indicator 'smart_factory_demos' is declared (record only)"], Errors(data));
    }

    [Fact]
    public void A_reduction_must_be_a_before_after_ratio_below_one()
    {
        JsonObject data = Valid();
        Target(data)["comparison"] = "reduction_at_least";
        Assert.Equal(
            [
                $"target '{TargetId}': a reduction is a ratio below 1, is 1440 count",
                $"target '{TargetId}': a reduction target has the basis before_after, not level",
            ],
            Errors(data));
    }

    [Fact]
    public void Unknown_names_zone_and_source_problems_are_rejected()
    {
        JsonObject data = Valid();
        Target(data)["comparison"] = "atleast";
        Target(data)["zone"] = "etdz";
        Target(data)["source"]!["file"] = "003.txt";
        Assert.Equal(
            [
                $"target '{TargetId}': unknown comparison 'atleast' (at_least, more_than, at_most, reduction_at_least)",
                $"target '{TargetId}': unknown zone 'etdz' in region '330402'",
                $"target '{TargetId}': source file '003.txt' is not the policy's file '002.txt'",
            ],
            Errors(data));
    }

    [Fact]
    public void A_target_without_quote_or_table_is_rejected()
    {
        JsonObject data = Valid();
        Target(data)["source"]!["table"] = null;
        Assert.Equal([$"target '{TargetId}': the source has neither a quote nor a table cell"], Errors(data));
    }

    [Fact]
    public void A_declared_indicator_cannot_shadow_a_spec_indicator()
    {
        JsonObject data = Valid();
        data["declaredIndicators"]!.AsArray().Add(JsonNode.Parse("""{ "id": "robot_density", "name": "x", "unit": "count" }"""));
        Assert.Equal(["declared indicator 'robot_density' is a measured spec §4 indicator"], Errors(data));
    }

    [Fact]
    public void Malformed_json_and_unknown_fields_are_rejected()
    {
        PolicyTargetsException ex = Assert.Throws<PolicyTargetsException>(() => PolicyTargets.Parse("{\"formatVersion\": 1,"u8));
        Assert.StartsWith("not valid target JSON: ", Assert.Single(ex.Errors), StringComparison.Ordinal);

        JsonObject data = Valid();
        Target(data)["valeu"] = 3;
        Assert.Contains("'valeu'", Assert.Single(Errors(data)), StringComparison.Ordinal);
    }

    [Fact]
    public void A_policy_without_targets_is_rejected()
    {
        JsonObject data = Valid();
        data["policies"]!.AsArray().Add(JsonNode.Parse("""{ "id": "kunshan-2021", "file": "004.txt", "document": "昆山", "region": "320583", "yearFrom": 2021, "yearTo": 2023 }"""));
        Assert.Equal(["policy 'kunshan-2021' has no target"], Errors(data));
    }

    [Fact]
    public void A_wrong_format_version_is_rejected()
    {
        JsonObject data = Valid();
        data["formatVersion"] = 2;
        Assert.Equal(["formatVersion is 2, this reader knows 1"], Errors(data));
    }
}
