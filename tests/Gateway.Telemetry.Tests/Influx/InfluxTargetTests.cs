using FactoryGateway.Telemetry.Influx;

namespace FactoryGateway.Telemetry.Tests.Influx;

public sealed class InfluxTargetTests
{
    private static readonly Uri s_base = new("http://127.0.0.1:8086/");

    [Fact]
    public void ToString_never_prints_the_password_or_the_token()
    {
        string v1 = InfluxTarget.ForV1(s_base, "plant", username: "gw", password: "hunter2").ToString();
        string v2 = InfluxTarget.ForV2(s_base, "acme", "raw", "tok-123").ToString();

        Assert.Contains("Database = plant", v1, StringComparison.Ordinal);
        Assert.Contains("Password = ***", v1, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", v1, StringComparison.Ordinal);
        Assert.Contains("Bucket = raw", v2, StringComparison.Ordinal);
        Assert.DoesNotContain("tok-123", v2, StringComparison.Ordinal);
    }

    public static TheoryData<InfluxTarget, string> InvalidTargets => new()
    {
        { InfluxTarget.ForV1(s_base, ""), "Database" },
        { InfluxTarget.ForV1(new Uri("ftp://host/"), "db"), "BaseUrl" },
        { InfluxTarget.ForV1(new Uri("http://host/?db=x"), "db"), "BaseUrl" },
        { InfluxTarget.ForV1(s_base, "db") with { Password = "p" }, "Username" },
        { InfluxTarget.ForV1(s_base, "db") with { Token = "t" }, "ApiVersion" },
        { InfluxTarget.ForV2(s_base, "", "b", "t"), "Organization" },
        { InfluxTarget.ForV2(s_base, "o", "", "t"), "Bucket" },
        { InfluxTarget.ForV2(s_base, "o", "b", ""), "Token" },
        { InfluxTarget.ForV2(s_base, "o", "b", "t") with { Database = "db" }, "ApiVersion" },
    };

    [Theory]
    [MemberData(nameof(InvalidTargets))]
    public void Validate_names_the_member_that_is_wrong(InfluxTarget target, string member)
    {
        var error = Assert.Throws<ArgumentException>(target.Validate);

        Assert.Equal(member, error.ParamName);
        Assert.StartsWith($"InfluxTarget.{member} ", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_client_refuses_an_invalid_target()
    {
        using var http = new HttpClient();

        Assert.Throws<ArgumentException>(() => new InfluxWriteClient(http, InfluxTarget.ForV1(s_base, ""), TimeProvider.System));
    }
}
