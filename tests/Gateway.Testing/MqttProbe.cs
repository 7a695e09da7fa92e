using System.Net.Sockets;
using System.Text;

namespace FactoryGateway.Testing;

/// <summary>The MQTT brokers' readiness probe: an MQTT 3.1.1 CONNECT answered by CONNACK "accepted", not merely an open port.</summary>
public static class MqttProbe
{
    /// <summary>Null when the broker on <paramref name="host"/>:<paramref name="port"/> accepted a connection, else what it answered.</summary>
    public static async Task<string?> ConnectAsync(string host, int port, CancellationToken cancellationToken)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(host, port, cancellationToken);
        NetworkStream stream = client.GetStream();
        byte[] clientId = Encoding.ASCII.GetBytes("fgw-readiness-probe");
        byte[] connect =
        [
            0x10, (byte)(10 + 2 + clientId.Length),
            0x00, 0x04, (byte)'M', (byte)'Q', (byte)'T', (byte)'T', 0x04, 0x02, 0x00, 0x0A,
            0x00, (byte)clientId.Length, .. clientId,
        ];
        await stream.WriteAsync(connect, cancellationToken);
        byte[] connack = new byte[4];
        await stream.ReadExactlyAsync(connack, cancellationToken);
        await stream.WriteAsync(new byte[] { 0xE0, 0x00 }, cancellationToken); // DISCONNECT
        return connack is [0x20, 0x02, _, 0x00] ? null : $"CONNACK was {Convert.ToHexString(connack)}";
    }
}
