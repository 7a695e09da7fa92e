using System.Buffers;
using System.Buffers.Binary;
using System.Net.Sockets;
using FactoryGateway.OpcUa.Client;
using FactoryGateway.OpcUa.Encoding;
using FactoryGateway.OpcUa.Server;
using FactoryGateway.OpcUa.Services;
using FactoryGateway.OpcUa.Transport;

namespace FactoryGateway.OpcUa.Tests.Server;

/// <summary>
/// Clients that break the protocol, scripted on raw sockets: each is answered with an Error naming the
/// fault and its connection closed, while a session on another connection keeps working.
/// </summary>
public sealed class HostileClientTests : IAsyncLifetime
{
    private static readonly TimeSpan s_deadline = TimeSpan.FromSeconds(10);
    private readonly UaServer _server = new(new UaServerOptions { MaxChunkCount = 4, BufferSize = 8192, MaxMessageSize = 32_768, HelloTimeout = TimeSpan.FromSeconds(2) });

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _server.AddressSpace.AddVariable(UaNodeIds.ObjectsFolder, new NodeId("Probe", 1), new QualifiedName(1, "Probe"), UaNodeIds.Int32, new Variant(42));
        await _server.StartAsync(Token);
    }

    public ValueTask DisposeAsync() => _server.DisposeAsync();

    /// <summary>A raw UA-TCP connection: frames are built by hand, independent of the stack under test.</summary>
    private sealed class Raw : IAsyncDisposable
    {
        private readonly TcpClient _tcp = new() { NoDelay = true };
        private uint _sequence;

        public NetworkStream Stream { get; private set; } = null!;

        public uint ChannelId { get; private set; }

        public uint TokenId { get; private set; }

        public static async Task<Raw> ConnectAsync(int port)
        {
            var raw = new Raw();
            await raw._tcp.ConnectAsync("127.0.0.1", port, Token);
            raw.Stream = raw._tcp.GetStream();
            return raw;
        }

        public static byte[] Frame(string type, ReadOnlySpan<byte> body)
        {
            byte[] frame = new byte[8 + body.Length];
            System.Text.Encoding.ASCII.GetBytes(type).CopyTo(frame, 0);
            BinaryPrimitives.WriteUInt32LittleEndian(frame.AsSpan(4), (uint)frame.Length);
            body.CopyTo(frame.AsSpan(8));
            return frame;
        }

        public static byte[] Hello(uint receive = 65_536, uint send = 65_536)
        {
            var b = new ArrayBufferWriter<byte>();
            var e = new UaBinaryEncoder(b);
            e.WriteUInt32(0);
            e.WriteUInt32(receive);
            e.WriteUInt32(send);
            e.WriteUInt32(0);
            e.WriteUInt32(0);
            e.WriteString("opc.tcp://127.0.0.1/");
            return Frame("HELF", b.WrittenSpan);
        }

        public Task SendAsync(byte[] bytes) => Stream.WriteAsync(bytes, Token).AsTask();

        /// <summary>Reads one message: its 4-byte type and chunk flag, and the bytes after the header; null at end of stream.</summary>
        public async Task<(string Type, byte[] Body)?> ReadAsync()
        {
            byte[] header = new byte[8];
            int read = 0;
            while (read < 8)
            {
                int n = await Stream.ReadAsync(header.AsMemory(read), Token).AsTask().WaitAsync(s_deadline, Token);
                if (n == 0)
                {
                    return null;
                }

                read += n;
            }

            byte[] body = new byte[BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(4)) - 8];
            await Stream.ReadExactlyAsync(body, Token).AsTask().WaitAsync(s_deadline, Token);
            return (System.Text.Encoding.ASCII.GetString(header, 0, 4), body);
        }

        /// <summary>Hello/Acknowledge and OpenSecureChannel (Issue, None).</summary>
        public async Task OpenAsync()
        {
            await SendAsync(Hello());
            Assert.Equal("ACKF", (await ReadAsync())!.Value.Type);
            var b = new ArrayBufferWriter<byte>();
            var e = new UaBinaryEncoder(b);
            e.WriteUInt32(0);
            e.WriteString(UaTcpChannel.SecurityPolicyNone);
            e.WriteByteString(default);
            e.WriteByteString(default);
            e.WriteUInt32(++_sequence);
            e.WriteUInt32(1);
            e.WriteNodeId(new NodeId(446u));
            WriteRequestHeader(e, NodeId.Null);
            e.WriteUInt32(0);
            e.WriteInt32(0);
            e.WriteInt32(1);
            e.WriteByteString(default);
            e.WriteUInt32(60_000);
            await SendAsync(Frame("OPNF", b.WrittenSpan));
            (string type, byte[] body) = (await ReadAsync())!.Value;
            Assert.Equal("OPNF", type);
            var d = new UaBinaryDecoder(body.AsSpan());
            ChannelId = d.ReadUInt32("channel");
            d.ReadString("policy");
            d.ReadByteString("cert");
            d.ReadByteString("thumb");
            d.ReadUInt32("seq");
            d.ReadUInt32("request");
            d.ReadNodeId("type");
            d.Skip(8 + 4 + 4 + 1 + 4 + 3, "header"); // ResponseHeader: timestamp, handle, result, no diagnostics, no string table, no additional header
            d.ReadUInt32("version");
            Assert.Equal(ChannelId, d.ReadUInt32("token.channel"));
            TokenId = d.ReadUInt32("token.id");
        }

        public static void WriteRequestHeader(UaBinaryEncoder e, NodeId token)
        {
            e.WriteNodeId(token);
            e.WriteDateTime(DateTime.UtcNow);
            e.WriteUInt32(7);
            e.WriteUInt32(0);
            e.WriteString(null);
            e.WriteUInt32(10_000);
            e.WriteExtensionObject(null);
        }

        /// <summary>One MSG chunk with the channel's ids and the next sequence number.</summary>
        public byte[] Message(ReadOnlySpan<byte> body, char chunkType = 'F', uint? channelId = null, uint requestId = 2)
        {
            byte[] payload = new byte[16 + body.Length];
            BinaryPrimitives.WriteUInt32LittleEndian(payload, channelId ?? ChannelId);
            BinaryPrimitives.WriteUInt32LittleEndian(payload.AsSpan(4), TokenId);
            BinaryPrimitives.WriteUInt32LittleEndian(payload.AsSpan(8), ++_sequence);
            BinaryPrimitives.WriteUInt32LittleEndian(payload.AsSpan(12), requestId);
            body.CopyTo(payload.AsSpan(16));
            return Frame("MSG" + chunkType, payload);
        }

        public async ValueTask DisposeAsync()
        {
            _tcp.Dispose();
            await Task.CompletedTask;
        }
    }

    private static (uint Status, string Reason) Error(byte[] body)
    {
        var d = new UaBinaryDecoder(body.AsSpan());
        return (d.ReadUInt32("status"), d.ReadString("reason") ?? string.Empty);
    }

    /// <summary>Expects an Error with <paramref name="status"/>, then the end of the stream.</summary>
    private static async Task<string> ExpectErrorAsync(Raw raw, uint status)
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
        await using Raw raw = await Raw.ConnectAsync(_server.Port);
        await raw.SendAsync(Raw.Frame("XYZF", new byte[8]));

        string reason = await ExpectErrorAsync(raw, StatusCode.BadTcpMessageTypeInvalid);
        Assert.Contains("XYZ", reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_message_before_Hello_is_refused()
    {
        await using Raw raw = await Raw.ConnectAsync(_server.Port);
        await raw.SendAsync(Raw.Frame("MSGF", new byte[24]));

        await ExpectErrorAsync(raw, StatusCode.BadTcpMessageTypeInvalid);
    }

    [Fact]
    public async Task Hello_buffers_below_8192_are_refused()
    {
        await using Raw raw = await Raw.ConnectAsync(_server.Port);
        await raw.SendAsync(Raw.Hello(receive: 1024));

        string reason = await ExpectErrorAsync(raw, StatusCode.BadTcpInternalError);
        Assert.Contains("8,192", reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Acknowledge_lowers_the_buffer_sizes_to_the_smaller_side()
    {
        await using Raw raw = await Raw.ConnectAsync(_server.Port);
        await raw.SendAsync(Raw.Hello());

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
        await using Raw raw = await Raw.ConnectAsync(_server.Port);
        await raw.OpenAsync();
        await raw.SendAsync(raw.Message(new byte[9000]));

        string reason = await ExpectErrorAsync(raw, StatusCode.BadTcpMessageTypeInvalid);
        Assert.Contains("ReceiveBufferSize", reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_request_over_MaxChunkCount_is_refused_with_the_limit_named()
    {
        await using Raw raw = await Raw.ConnectAsync(_server.Port);
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
        await using Raw wrongChannel = await Raw.ConnectAsync(_server.Port);
        await wrongChannel.OpenAsync();
        await wrongChannel.SendAsync(wrongChannel.Message(new byte[4], channelId: wrongChannel.ChannelId + 1000));
        await ExpectErrorAsync(wrongChannel, StatusCode.BadTcpSecureChannelUnknown);

        await using Raw skipped = await Raw.ConnectAsync(_server.Port);
        await skipped.OpenAsync();
        skipped.Message([]); // a sequence number never sent
        await skipped.SendAsync(skipped.Message(new byte[4]));
        await ExpectErrorAsync(skipped, StatusCode.BadSequenceNumberInvalid);
    }

    [Fact]
    public async Task An_undecodable_service_body_is_a_ServiceFault_and_the_channel_stays_open()
    {
        await using Raw raw = await Raw.ConnectAsync(_server.Port);
        await raw.OpenAsync();
        var b = new ArrayBufferWriter<byte>();
        var e = new UaBinaryEncoder(b);
        e.WriteNodeId(new NodeId(ServiceIds.GetEndpointsRequest));
        Raw.WriteRequestHeader(e, NodeId.Null);
        e.WriteInt32(int.MaxValue); // EndpointUrl: a string length beyond the message
        await raw.SendAsync(raw.Message(b.WrittenSpan, requestId: 2));
        Assert.Equal(StatusCode.BadDecodingError, ResponseStatus(await raw.ReadAsync(), ServiceIds.ServiceFault));

        b.ResetWrittenCount();
        e.WriteNodeId(new NodeId(ServiceIds.GetEndpointsRequest));
        Raw.WriteRequestHeader(e, NodeId.Null);
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
        await using Raw raw = await Raw.ConnectAsync(_server.Port);

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
            await using Raw raw = await Raw.ConnectAsync(_server.Port);
            byte[] noise = new byte[random.Next(1, 600)];
            random.NextBytes(noise);
            switch (round % 3)
            {
                case 0:
                    await raw.SendAsync(noise);
                    break;
                case 1:
                    await raw.SendAsync(Raw.Hello());
                    await raw.SendAsync(noise);
                    break;
                default:
                    await raw.OpenAsync();
                    var b = new ArrayBufferWriter<byte>();
                    var e = new UaBinaryEncoder(b);
                    e.WriteNodeId(new NodeId(ServiceIds.CreateSessionRequest));
                    Raw.WriteRequestHeader(e, NodeId.Null);
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
