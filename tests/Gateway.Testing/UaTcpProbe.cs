using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text;

namespace FactoryGateway.Testing;

/// <summary>The fields of a UA-TCP Acknowledge message (OPC 10000-6 §7.1.2.4).</summary>
public sealed record UaTcpAcknowledge(uint ProtocolVersion, uint ReceiveBufferSize, uint SendBufferSize, uint MaxMessageSize, uint MaxChunkCount);

/// <summary>
/// A raw UA-TCP Hello, for fixture readiness only. It is deliberately independent of Gateway.OpcUa so
/// that a fault in our stack cannot hide behind the fixture that tests it.
/// </summary>
public static class UaTcpProbe
{
    public static async Task<UaTcpAcknowledge> HelloAsync(string host, int port, string endpointUrl, CancellationToken cancellationToken)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(host, port, cancellationToken);
        NetworkStream stream = client.GetStream();

        byte[] url = Encoding.UTF8.GetBytes(endpointUrl);
        byte[] hello = new byte[32 + url.Length];
        "HELF"u8.CopyTo(hello);
        BinaryPrimitives.WriteUInt32LittleEndian(hello.AsSpan(4), (uint)hello.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(hello.AsSpan(8), 0);       // ProtocolVersion
        BinaryPrimitives.WriteUInt32LittleEndian(hello.AsSpan(12), 65_536); // ReceiveBufferSize
        BinaryPrimitives.WriteUInt32LittleEndian(hello.AsSpan(16), 65_536); // SendBufferSize
        BinaryPrimitives.WriteUInt32LittleEndian(hello.AsSpan(20), 0);      // MaxMessageSize: no limit
        BinaryPrimitives.WriteUInt32LittleEndian(hello.AsSpan(24), 0);      // MaxChunkCount: no limit
        BinaryPrimitives.WriteInt32LittleEndian(hello.AsSpan(28), url.Length);
        url.CopyTo(hello, 32);
        await stream.WriteAsync(hello, cancellationToken);

        byte[] header = new byte[8];
        await stream.ReadExactlyAsync(header, cancellationToken);
        uint size = BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(4));
        if (size is < 8 or > 65_536)
        {
            throw new InvalidDataException($"UA-TCP message size {size} is out of range.");
        }

        byte[] body = new byte[size - 8];
        await stream.ReadExactlyAsync(body, cancellationToken);
        string type = Encoding.ASCII.GetString(header, 0, 4);
        if (type == "ERRF")
        {
            uint status = BinaryPrimitives.ReadUInt32LittleEndian(body);
            throw new InvalidDataException($"the server answered Hello with Error 0x{status:X8}.");
        }

        if (type != "ACKF" || body.Length < 20)
        {
            throw new InvalidDataException($"expected ACKF with 20 bytes, got {type} with {body.Length}.");
        }

        return new UaTcpAcknowledge(
            BinaryPrimitives.ReadUInt32LittleEndian(body),
            BinaryPrimitives.ReadUInt32LittleEndian(body.AsSpan(4)),
            BinaryPrimitives.ReadUInt32LittleEndian(body.AsSpan(8)),
            BinaryPrimitives.ReadUInt32LittleEndian(body.AsSpan(12)),
            BinaryPrimitives.ReadUInt32LittleEndian(body.AsSpan(16)));
    }
}
