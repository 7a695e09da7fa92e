using System.Buffers;
using System.Buffers.Binary;
using System.Net.Sockets;
using FactoryGateway.OpcUa.Encoding;
using FactoryGateway.OpcUa.Transport;

namespace FactoryGateway.OpcUa.Tests.Server;

/// <summary>A raw UA-TCP connection: frames are built by hand, independent of the stack under test.</summary>
internal sealed class RawUaConnection : IAsyncDisposable
{
    private static readonly TimeSpan s_deadline = TimeSpan.FromSeconds(10);

    private readonly TcpClient _tcp = new() { NoDelay = true };
    private uint _sequence;

    public NetworkStream Stream { get; private set; } = null!;

    public uint ChannelId { get; private set; }

    public uint TokenId { get; private set; }

    public static async Task<RawUaConnection> ConnectAsync(int port)
    {
        var raw = new RawUaConnection();
        await raw._tcp.ConnectAsync("127.0.0.1", port, TestContext.Current.CancellationToken);
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

    public Task SendAsync(byte[] bytes) => Stream.WriteAsync(bytes, TestContext.Current.CancellationToken).AsTask();

    /// <summary>Reads one message: its 4-byte type and chunk flag, and the bytes after the header; null at end of stream.</summary>
    public async Task<(string Type, byte[] Body)?> ReadAsync()
    {
        byte[] header = new byte[8];
        int read = 0;
        while (read < 8)
        {
            int n = await Stream.ReadAsync(header.AsMemory(read), TestContext.Current.CancellationToken).AsTask().WaitAsync(s_deadline, TestContext.Current.CancellationToken);
            if (n == 0)
            {
                return null;
            }

            read += n;
        }

        byte[] body = new byte[BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(4)) - 8];
        await Stream.ReadExactlyAsync(body, TestContext.Current.CancellationToken).AsTask().WaitAsync(s_deadline, TestContext.Current.CancellationToken);
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
