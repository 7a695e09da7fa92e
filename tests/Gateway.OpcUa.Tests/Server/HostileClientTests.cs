using System.Buffers;
using System.Buffers.Binary;
using System.Net.Sockets;
using FactoryGateway.OpcUa.Client;
using FactoryGateway.OpcUa.Encoding;
using FactoryGateway.OpcUa.Server;
using FactoryGateway.OpcUa.Services;

namespace FactoryGateway.OpcUa.Tests.Server;

/// <summary>
/// Clients that break the protocol, scripted on raw sockets: each is answered with an Error naming the
/// fault and its connection closed, while a session on another connection keeps working.
/// </summary>
public sealed class HostileClientTests : IAsyncLifetime
{
    private readonly UaServer _server = new(new UaServerOptions { MaxChunkCount = 4, BufferSize = 8192, MaxMessageSize = 32_768, HelloTimeout = TimeSpan.FromSeconds(2) });

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _server.AddressSpace.AddVariable(UaNodeIds.ObjectsFolder, new NodeId("Probe", 1), new QualifiedName(1, "Probe"), UaNodeIds.Int32, new Variant(42));
        await _server.StartAsync(Token);
    }

    public ValueTask DisposeAsync() => _server.DisposeAsync();

    private static (uint Status, string Reason) Error(byte[] body)
    {
        var d = new UaBinaryDecoder(body.AsSpan());
        return (d.ReadUInt32("status"), d.ReadString("reason") ?? string.Empty);
    }

    /// <summary>Expects an Error with <paramref name="status"/>, then the end of the stream.</summary>
    private static async Task<string> ExpectErrorAsync(RawUaConnection raw, uint status)
    {
        (string type, byte[] body) = (await raw.ReadAsync())!.Value;
        Assert.Equal("ERRF", type);
        (uint code, string reason) = Error(body);
        Assert.Equal(new StatusCode(status), new StatusCode(code));
        Assert.Null(await raw.ReadAsync());
        return reason;
    }

    [Fact]
    public async Task An_unknown_message_type_is_answered_with_Error_and_closed()
    {
        await using RawUaConnection raw = await RawUaConnection.ConnectAsync(_server.Port);
        await raw.SendAsync(RawUaConnection.Frame("XYZF", new byte[8]));

        string reason = await ExpectErrorAsync(raw, StatusCode.BadTcpMessageTypeInvalid);
        Assert.Contains("XYZ", reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_message_before_Hello_is_refused()
    {
        await using RawUaConnection raw = await RawUaConnection.ConnectAsync(_server.Port);
        await raw.SendAsync(RawUaConnection.Frame("MSGF", new byte[24]));

        await ExpectErrorAsync(raw, StatusCode.BadTcpMessageTypeInvalid);
    }

    [Fact]
    public async Task Hello_buffers_below_8192_are_refused()
    {
        await using RawUaConnection raw = await RawUaConnection.ConnectAsync(_server.Port);
        await raw.SendAsync(RawUaConnection.Hello(receive: 1024));

        string reason = await ExpectErrorAsync(raw, StatusCode.BadTcpInternalError);
        Assert.Contains("8,192", reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Acknowledge_lowers_the_buffer_sizes_to_the_smaller_side()
    {
        await using RawUaConnection raw = await RawUaConnection.ConnectAsync(_server.Port);
        await raw.SendAsync(RawUaConnection.Hello());

        (string type, byte[] body) = (await raw.ReadAsync())!.Value;
        Assert.Equal("ACKF", type);
        Assert.Equal(8192u, BinaryPrimitives.ReadUInt32LittleEndian(body.AsSpan(4)));
        Assert.Equal(8192u, BinaryPrimitives.ReadUInt32LittleEndian(body.AsSpan(8)));
        Assert.Equal(32_768u, BinaryPrimitives.ReadUInt32LittleEndian(body.AsSpan(12)));
        Assert.Equal(4u, BinaryPrimitives.ReadUInt32LittleEndian(body.AsSpan(16)));
    }

    [Fact]
    public async Task A_chunk_above_the_negotiated_size_is_refused_with_the_limit_named()
    {
        await using RawUaConnection raw = await RawUaConnection.ConnectAsync(_server.Port);
        await raw.OpenAsync();
        await raw.SendAsync(raw.Message(new byte[9000]));

        string reason = await ExpectErrorAsync(raw, StatusCode.BadTcpMessageTypeInvalid);
        Assert.Contains("ReceiveBufferSize", reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_request_over_MaxChunkCount_is_refused_with_the_limit_named()
    {
        await using RawUaConnection raw = await RawUaConnection.ConnectAsync(_server.Port);
        await raw.OpenAsync();
        for (int i = 0; i < 5; i++)
        {
            await raw.SendAsync(raw.Message(new byte[100], 'C'));
        }

        string reason = await ExpectErrorAsync(raw, StatusCode.BadTcpMessageTooLarge);
        Assert.Contains("MaxChunkCount 4", reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_message_for_another_channel_and_a_skipped_sequence_number_are_refused()
    {
        await using RawUaConnection wrongChannel = await RawUaConnection.ConnectAsync(_server.Port);
        await wrongChannel.OpenAsync();
        await wrongChannel.SendAsync(wrongChannel.Message(new byte[4], channelId: wrongChannel.ChannelId + 1000));
        await ExpectErrorAsync(wrongChannel, StatusCode.BadTcpSecureChannelUnknown);

        await using RawUaConnection skipped = await RawUaConnection.ConnectAsync(_server.Port);
        await skipped.OpenAsync();
        skipped.Message([]); // a sequence number never sent
        await skipped.SendAsync(skipped.Message(new byte[4]));
        await ExpectErrorAsync(skipped, StatusCode.BadSequenceNumberInvalid);
    }

    [Fact]
    public async Task An_undecodable_service_body_is_a_ServiceFault_and_the_channel_stays_open()
    {
        await using RawUaConnection raw = await RawUaConnection.ConnectAsync(_server.Port);
        await raw.OpenAsync();
        var b = new ArrayBufferWriter<byte>();
        var e = new UaBinaryEncoder(b);
        e.WriteNodeId(new NodeId(ServiceIds.GetEndpointsRequest));
        RawUaConnection.WriteRequestHeader(e, NodeId.Null);
        e.WriteInt32(int.MaxValue); // EndpointUrl: a string length beyond the message
        await raw.SendAsync(raw.Message(b.WrittenSpan, requestId: 2));
        Assert.Equal(StatusCode.BadDecodingError, ResponseStatus(await raw.ReadAsync(), ServiceIds.ServiceFault));

        b.ResetWrittenCount();
        e.WriteNodeId(new NodeId(ServiceIds.GetEndpointsRequest));
        RawUaConnection.WriteRequestHeader(e, NodeId.Null);
        e.WriteString(null);
        e.WriteInt32(-1);
        e.WriteInt32(-1);
        await raw.SendAsync(raw.Message(b.WrittenSpan, requestId: 3));
        Assert.Equal(StatusCode.Good, ResponseStatus(await raw.ReadAsync(), ServiceIds.GetEndpointsResponse));
    }

    private static uint ResponseStatus((string Type, byte[] Body)? reply, uint responseType)
    {
        Assert.NotNull(reply);
        Assert.Equal("MSGF", reply.Value.Type);
        var d = new UaBinaryDecoder(reply.Value.Body.AsSpan(16));
        Assert.Equal(new NodeId(responseType), d.ReadNodeId("type"));
        d.ReadDateTime("timestamp");
        Assert.Equal(7u, d.ReadUInt32("handle"));
        return d.ReadStatusCode("result").Code;
    }

    [Fact]
    public async Task A_connection_that_never_opens_a_channel_is_closed_after_HelloTimeout()
    {
        await using RawUaConnection raw = await RawUaConnection.ConnectAsync(_server.Port);

        await ExpectErrorAsync(raw, StatusCode.BadTimeout);
    }

    [Fact]
    public async Task Random_and_mutated_messages_never_stop_the_server_and_other_sessions_continue()
    {
        await using UaSession session = await UaSession.ConnectAsync(_server.EndpointUrl, cancellationToken: Token);
        var random = new Random(20_261_122);
        long errorsBefore = _server.ConnectionErrors;
        int answeredWithError = 0;
        for (int round = 0; round < 150; round++)
        {
            await using RawUaConnection raw = await RawUaConnection.ConnectAsync(_server.Port);
            byte[] noise = new byte[random.Next(1, 600)];
            random.NextBytes(noise);
            switch (round % 3)
            {
                case 0:
                    await raw.SendAsync(noise);
                    break;
                case 1:
                    await raw.SendAsync(RawUaConnection.Hello());
                    await raw.SendAsync(noise);
                    break;
                default:
                    await raw.OpenAsync();
                    var b = new ArrayBufferWriter<byte>();
                    var e = new UaBinaryEncoder(b);
                    e.WriteNodeId(new NodeId(ServiceIds.CreateSessionRequest));
                    RawUaConnection.WriteRequestHeader(e, NodeId.Null);
                    e.WriteRaw(noise);
                    byte[] message = raw.Message(b.WrittenSpan);
                    message[random.Next(8, message.Length)] ^= (byte)random.Next(1, 256);
                    await raw.SendAsync(message);
                    break;
            }

            raw.Stream.Socket.Shutdown(SocketShutdown.Send);
            // Whatever was said, the server ends the connection: an Error, a ServiceFault or a plain close.
            for (var reply = await raw.ReadAsync(); reply is not null; reply = await raw.ReadAsync())
            {
                if (reply.Value.Type == "ERRF")
                {
                    answeredWithError++;
                }
            }

            DataValue value = await session.ReadValueAsync(new NodeId("Probe", 1), Token);
            Assert.Equal(42, value.Value.Value);
        }

        Assert.True(answeredWithError > 50, $"{answeredWithError} Error answers");
        Assert.True(_server.ConnectionErrors - errorsBefore >= answeredWithError);
        Assert.True(session.Channel.IsOpen);
    }
}
