using System.Net;
using System.Net.Sockets;
using FactoryGateway.Testing;

namespace FactoryGateway.Telemetry.Tests;

/// <summary>The fixtures' port picker: ports no outgoing connection can take while a server is stopped.</summary>
public sealed class FreeTcpPortTests
{
    [Fact]
    public void Ports_are_bindable_distinct_and_below_the_ephemeral_range_that_outgoing_connections_draw_from()
    {
        int[] ports = [.. Enumerable.Range(0, 200).Select(_ => FreeTcpPort.Next())];

        Assert.Equal(ports.Length, ports.Distinct().Count());
        int ephemeralLow = int.Parse(File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range").Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)[0], System.Globalization.CultureInfo.InvariantCulture);
        Assert.All(ports, p => Assert.InRange(p, FreeTcpPort.Lowest, ephemeralLow - 1));

        // An outgoing connection's source port is never one of them.
        using var server = new TcpListener(IPAddress.Loopback, ports[0]);
        server.Start();
        using var client = new TcpClient();
        client.Connect(IPAddress.Loopback, ports[0]);
        Assert.InRange(((IPEndPoint)client.Client.LocalEndPoint!).Port, ephemeralLow, 65_535);
        using var listener = new TcpListener(IPAddress.Loopback, ports[1]);
        listener.Start(); // still free for its server
    }
}
