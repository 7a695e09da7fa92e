using FactoryGateway.OpcUa.Encoding;

namespace FactoryGateway.OpcUa.Tests;

/// <summary>The text forms of NodeId and ExpandedNodeId (OPC 10000-6 §5.3.1.10–11).</summary>
public sealed class NodeIdTextTests
{
    [Theory]
    [InlineData("i=85")]
    [InlineData("ns=2;s=TestMachine.PartsTotal")]
    [InlineData("ns=2;s=a;b=c")]
    [InlineData("ns=65535;i=4294967295")]
    [InlineData("ns=1;g=09087e75-8e5e-499b-954f-f2a9603db28a")]
    [InlineData("ns=3;b=M/RbKBsRVkePCePcx24oRA==")]
    public void NodeId_text_round_trips(string text)
    {
        Assert.Equal(text, NodeId.Parse(text).ToString());
    }

    [Theory]
    [InlineData("ns=70000;i=1")]
    [InlineData("x=1")]
    [InlineData("i=abc")]
    [InlineData("ns=1")]
    [InlineData("g=not-a-guid")]
    [InlineData("b=***")]
    [InlineData("")]
    public void Malformed_NodeId_text_is_rejected(string text)
    {
        Assert.Throws<FormatException>(() => NodeId.Parse(text));
    }

    [Fact]
    public void A_namespace_uri_resolves_through_the_namespace_array()
    {
        string[] table = ["http://opcfoundation.org/UA/", "urn:factorygateway:peer", "urn:machines"];

        Assert.Equal(new NodeId("Press.Cycles", 2), NodeId.Parse("nsu=urn:machines;s=Press.Cycles", table));
        Assert.Throws<FormatException>(() => NodeId.Parse("nsu=urn:missing;i=1", table));
        Assert.Throws<FormatException>(() => NodeId.Parse("nsu=urn:machines;i=1"));
    }

    [Fact]
    public void A_semicolon_in_a_namespace_uri_is_escaped()
    {
        var id = new ExpandedNodeId(new NodeId(5u), "urn:a;b", 1);

        Assert.Equal("svr=1;nsu=urn:a%3Bb;i=5", id.ToString());
        Assert.Equal(id, ExpandedNodeId.Parse(id.ToString()));
    }

    [Fact]
    public void Equal_NodeIds_hash_alike()
    {
        Assert.Equal(NodeId.Parse("ns=3;b=AQID").GetHashCode(), new NodeId([1, 2, 3], 3).GetHashCode());
        Assert.Equal(NodeId.Parse("ns=2;s=x"), new NodeId("x", 2));
        Assert.NotEqual(NodeId.Parse("ns=2;s=x"), new NodeId("x", 3));
        Assert.True(NodeId.Null.IsNull);
    }
}
