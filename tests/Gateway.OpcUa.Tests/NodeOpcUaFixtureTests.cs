using FactoryGateway.Testing;

namespace FactoryGateway.OpcUa.Tests;

/// <summary>Proves the node-opcua fixture: a third-party OPC UA server answering UA-TCP.</summary>
public sealed class NodeOpcUaFixtureTests(NodeOpcUaServer server) : IClassFixture<NodeOpcUaServer>
{
    [Fact]
    public async Task The_server_answers_a_hello_with_an_acknowledge()
    {
        UaTcpAcknowledge ack = await UaTcpProbe.HelloAsync("127.0.0.1", server.Port, server.EndpointUrl, TestContext.Current.CancellationToken);

        Assert.Equal(0u, ack.ProtocolVersion);
        // OPC 10000-6 §7.1.2.3: buffers are at least 8,192 bytes and no larger than the client offered.
        Assert.InRange(ack.ReceiveBufferSize, 8_192u, 65_536u);
        Assert.InRange(ack.SendBufferSize, 8_192u, 65_536u);
        Assert.StartsWith($"opc.tcp://127.0.0.1:{server.Port}/", server.EndpointUrl, StringComparison.Ordinal);
    }
}
