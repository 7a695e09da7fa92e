using FactoryGateway.Mqtt.Sparkplug;

namespace FactoryGateway.Mqtt.Tests.Sparkplug;

public sealed class SparkplugTopicTests
{
    [Theory]
    [InlineData("spBv1.0/G/NBIRTH/E", SparkplugMessageType.NBirth, "G", "E", null)]
    [InlineData("spBv1.0/G/NDEATH/E", SparkplugMessageType.NDeath, "G", "E", null)]
    [InlineData("spBv1.0/G/NDATA/E", SparkplugMessageType.NData, "G", "E", null)]
    [InlineData("spBv1.0/G/NCMD/E", SparkplugMessageType.NCmd, "G", "E", null)]
    [InlineData("spBv1.0/G/DBIRTH/E/D", SparkplugMessageType.DBirth, "G", "E", "D")]
    [InlineData("spBv1.0/G/DDEATH/E/D", SparkplugMessageType.DDeath, "G", "E", "D")]
    [InlineData("spBv1.0/G/DDATA/E/D", SparkplugMessageType.DData, "G", "E", "D")]
    [InlineData("spBv1.0/G/DCMD/E/D", SparkplugMessageType.DCmd, "G", "E", "D")]
    [InlineData("spBv1.0/STATE/host1", SparkplugMessageType.State, "", "host1", null)]
    public void Sparkplug_topics_parse(string topic, SparkplugMessageType type, string group, string node, string? device)
    {
        Assert.True(SparkplugTopic.TryParse(topic, out SparkplugTopic? parsed));
        Assert.Equal(new SparkplugTopic(type, group, node, device), parsed);
    }

    [Theory]
    [InlineData("spAv1.0/G/NBIRTH/E")]
    [InlineData("spBv1.0/G/NBIRTH")]
    [InlineData("spBv1.0/G/NBIRTH/E/D")]
    [InlineData("spBv1.0/G/DDATA/E")]
    [InlineData("spBv1.0/G/XDATA/E")]
    [InlineData("spBv1.0/G//E")]
    [InlineData("spBv1.0/STATE/h/extra")]
    [InlineData("factory/press1/telemetry")]
    public void Other_topics_do_not_parse(string topic)
    {
        Assert.False(SparkplugTopic.TryParse(topic, out _));
    }

    [Fact]
    public void Topics_are_built_in_the_specification_shape()
    {
        Assert.Equal("spBv1.0/G/NCMD/E", SparkplugTopic.NodeTopic("G", SparkplugMessageType.NCmd, "E"));
        Assert.Equal("spBv1.0/G/DCMD/E/D", SparkplugTopic.DeviceTopic("G", SparkplugMessageType.DCmd, "E", "D"));
        Assert.Equal("spBv1.0/STATE/h", SparkplugTopic.StateTopic("h"));
    }
}
