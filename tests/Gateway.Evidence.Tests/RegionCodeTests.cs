namespace FactoryGateway.Evidence.Tests;

public sealed class RegionCodeTests
{
    [Theory]
    [InlineData("330402")] // 嘉兴市南湖区, a county
    [InlineData("330400")] // 嘉兴市, a city
    [InlineData("431000")] // 郴州市
    [InlineData("110000")] // 北京市, a province-level code
    [InlineData("820000")] // 澳门
    public void A_GB_T_2260_code_is_valid(string code)
    {
        Assert.True(RegionCode.TryValidate(code, out string reason));
        Assert.Equal("", reason);
    }

    [Theory]
    [InlineData(null, "the code is missing")]
    [InlineData("33040", "a region code has 6 digits, this one has 5 characters")]
    [InlineData("3304021", "a region code has 6 digits, this one has 7 characters")]
    [InlineData("33040A", "character 6 is 'A', not a digit")]
    [InlineData("000000", "'00' is not a GB/T 2260 province code")]
    [InlineData("990402", "'99' is not a GB/T 2260 province code")]
    public void An_invalid_code_is_refused_with_the_reason(string? code, string expected)
    {
        Assert.False(RegionCode.TryValidate(code, out string reason));
        Assert.Equal(expected, reason);
        Assert.False(RegionCode.IsValid(code));
    }
}
