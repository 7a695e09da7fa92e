using System.Buffers;
using FactoryGateway.OpcUa.Client;
using FactoryGateway.OpcUa.Encoding;
using FactoryGateway.OpcUa.Server;
using FactoryGateway.OpcUa.Services;
using FactoryGateway.OpcUa.Transport;

namespace FactoryGateway.OpcUa.Tests.Server;

/// <summary>The server's own limits: operations per call, the client's response size, sessions, and the bounded send queue.</summary>
public sealed class ServerLimitTests : IAsyncLifetime
{
    private readonly UaServer _server = new(new UaServerOptions { MaxNodesPerCall = 500, MaxSessions = 2, SendQueueCapacity = 8 });

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        for (int i = 0; i < 500; i++)
        {
            _server.AddressSpace.AddVariable(UaNodeIds.ObjectsFolder, new NodeId(i.ToString(System.Globalization.CultureInfo.InvariantCulture), 1), new QualifiedName(1, $"V{i}"), UaNodeIds.Double, new Variant(i * 1.5));
        }

        await _server.StartAsync(Token);
    }

    public ValueTask DisposeAsync() => _server.DisposeAsync();

    private static ReadValueId[] Nodes(int count) => Enumerable.Range(0, count).Select(i => new ReadValueId(new NodeId(i.ToString(System.Globalization.CultureInfo.InvariantCulture), 1))).ToArray();

    [Fact]
    public async Task A_call_over_the_operation_limit_is_refused_with_BadTooManyOperations_and_the_client_batches_below_it()
    {
        await using UaSession session = await UaSession.ConnectAsync(_server.EndpointUrl, cancellationToken: Token);
        ReadValueId[] nodes = [.. Nodes(500), .. Nodes(1)];

        UaServiceException refused = await Assert.ThrowsAsync<UaServiceException>(() => session.Channel.RequestAsync(
            ServiceIds.ReadRequest, ServiceIds.ReadResponse, session.AuthenticationToken, e =>
            {
                e.WriteDouble(0);
                e.WriteInt32((int)TimestampsToReturn.Neither);
                e.WriteArray(nodes, UaSession.WriteReadValueId);
            }, static (ref UaBinaryDecoder d) => 0, cancellationToken: Token));
        IReadOnlyList<DataValue> batched = await session.ReadAsync(nodes, cancellationToken: Token);

        Assert.Equal(StatusCode.BadTooManyOperations, refused.Status.Code);
        Assert.Equal(500u, session.ServerLimits.MaxNodesPerRead);
        Assert.Equal(501, batched.Count);
        Assert.All(batched, v => Assert.True(v.Status.IsGood));
    }

    [Fact]
    public async Task A_response_beyond_the_clients_MaxMessageSize_becomes_BadResponseTooLarge()
    {
        var options = new UaSessionOptions { Channel = new UaChannelOptions { ReceiveBufferSize = 8192, MaxMessageSize = 8192 } };
        await using UaSession session = await UaSession.ConnectAsync(_server.EndpointUrl, options, cancellationToken: Token);

        UaServiceException error = await Assert.ThrowsAsync<UaServiceException>(() => session.ReadAsync(Nodes(500), cancellationToken: Token));
        DataValue small = await session.ReadValueAsync(new NodeId("2", 1), Token);

        Assert.Equal(StatusCode.BadResponseTooLarge, error.Status.Code);
        Assert.Equal(3.0, small.Value.Value);
        Assert.Equal(1, _server.ResponsesTooLarge);
    }

    [Fact]
    public async Task Sessions_beyond_MaxSessions_are_refused()
    {
        await using UaSession first = await UaSession.ConnectAsync(_server.EndpointUrl, cancellationToken: Token);
        await using UaSession second = await UaSession.ConnectAsync(_server.EndpointUrl, cancellationToken: Token);

        UaServiceException error = await Assert.ThrowsAsync<UaServiceException>(() => UaSession.ConnectAsync(_server.EndpointUrl, cancellationToken: Token));

        Assert.Equal(StatusCode.BadTooManySessions, error.Status.Code);
    }

    [Fact]
    public async Task A_client_that_does_not_read_its_responses_is_disconnected_when_its_send_queue_is_full()
    {
        await using UaSession bystander = await UaSession.ConnectAsync(_server.EndpointUrl, cancellationToken: Token);
        await using RawUaConnection raw = await RawUaConnection.ConnectAsync(_server.Port);
        await raw.OpenAsync();
        var request = new ArrayBufferWriter<byte>();
        var e = new UaBinaryEncoder(request);
        e.WriteNodeId(new NodeId(ServiceIds.GetEndpointsRequest));
        RawUaConnection.WriteRequestHeader(e, NodeId.Null);
        e.WriteString(null);
        e.WriteInt32(-1);
        e.WriteInt32(-1);

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(Token);
        deadline.CancelAfter(TimeSpan.FromSeconds(30));
        try
        {
            // Requests without reading a single response: the socket buffers fill, then the send queue.
            while (_server.SendQueueOverflows == 0)
            {
                var batch = new ArrayBufferWriter<byte>();
                for (int i = 0; i < 1000; i++)
                {
                    batch.Write(raw.Message(request.WrittenSpan));
                }

                await raw.Stream.WriteAsync(batch.WrittenMemory, deadline.Token);
            }
        }
        catch (IOException)
        {
            // The server dropped the connection while we were still sending.
        }

        while (_server.SendQueueOverflows == 0)
        {
            await Task.Delay(10, deadline.Token); // polling interval within the deadline
        }

        Assert.Equal(1, _server.SendQueueOverflows);
        Assert.Equal(3.0, (await bystander.ReadValueAsync(new NodeId("2", 1), Token)).Value.Value);
    }
}
