using FactoryGateway.Mqtt.Packets;

namespace FactoryGateway.Mqtt.Tests.Packets;

public sealed class MqttTopicTests
{
    [Theory]
    [InlineData("#")]
    [InlineData("+")]
    [InlineData("factory/+/state")]
    [InlineData("factory/#")]
    [InlineData("+/+/#")]
    [InlineData("/")]
    [InlineData("a//b")]
    [InlineData("spBv1.0/plant/NDATA/+")]
    [InlineData("$SYS/broker/#")]
    [InlineData("$share/ingest/factory/#")]
    [InlineData("$share/g/+")]
    [InlineData("$share/g//")]
    public void Valid_filters(string filter) => Assert.Null(MqttTopic.ValidateFilter(filter));

    [Theory]
    [InlineData("", "is empty")]
    [InlineData("a#", "has '#' other than as the whole last level")]
    [InlineData("#/a", "has '#' other than as the whole last level")]
    [InlineData("a/#/b", "has '#' other than as the whole last level")]
    [InlineData("a+", "has '+' other than as a whole level")]
    [InlineData("+a/b", "has '+' other than as a whole level")]
    [InlineData("$share/", "is a shared subscription without a share name and filter ($share/{ShareName}/{filter})")]
    [InlineData("$share//a", "is a shared subscription without a share name and filter ($share/{ShareName}/{filter})")]
    [InlineData("$share/g", "is a shared subscription without a share name and filter ($share/{ShareName}/{filter})")]
    [InlineData("$share/g/", "is a shared subscription with an empty filter")]
    [InlineData("$share/g+/a", "has a wildcard in the share name")]
    [InlineData("$share/g/a#", "has '#' other than as the whole last level")]
    public void Invalid_filters_say_why(string filter, string reason) => Assert.Equal(reason, MqttTopic.ValidateFilter(filter));

    [Theory]
    [InlineData("factory/cnc-01/state", null)]
    [InlineData("/", null)]
    [InlineData("", "is empty")]
    [InlineData("a/+/b", "contains the wildcard '+'")]
    [InlineData("a/#", "contains the wildcard '#'")]
    public void Topic_names_carry_no_wildcard(string topic, string? reason) => Assert.Equal(reason, MqttTopic.ValidateName(topic));
}
