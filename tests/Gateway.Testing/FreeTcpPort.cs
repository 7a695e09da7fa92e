using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace FactoryGateway.Testing;

/// <summary>Free loopback TCP ports for servers a test starts.</summary>
/// <remarks>
/// Ports come from below the kernel's ephemeral range (<c>/proc/sys/net/ipv4/ip_local_port_range</c>, 32768–60999
/// by default), never from it: the kernel hands ephemeral ports to outgoing connections as their source ports, so
/// a server's port taken from that range can be occupied by any client's connection while the server is stopped
/// (a test that stops InfluxDB for 30 s while the forwarder keeps reconnecting, then starts it again on the same
/// ports, met exactly that). Below the range only another listener can take a port, and this class does not hand
/// out one port twice in a process.
/// </remarks>
public static class FreeTcpPort
{
    /// <summary>The lowest port handed out: above the registered ports that services on a test machine commonly use.</summary>
    public const int Lowest = 20_000;

    private static readonly Lock s_lock = new();
    private static readonly HashSet<int> s_issued = [];
    private static readonly int s_highest = EphemeralLow() - 1;

    /// <summary>
    /// A port that was free a moment ago, below the ephemeral range and not handed out before in this process.
    /// Another process can still take it before the server binds; the fixtures retry their start with a new port
    /// when the server reports the address in use.
    /// </summary>
    public static int Next()
    {
        lock (s_lock)
        {
            if (s_highest - Lowest >= 1_000)
            {
                for (int attempt = 0; attempt < 1_000; attempt++)
                {
                    int port = Random.Shared.Next(Lowest, s_highest + 1);
                    if (!s_issued.Contains(port) && IsFree(port))
                    {
                        s_issued.Add(port);
                        return port;
                    }
                }
            }

            // A machine whose ephemeral range starts too low: let the kernel choose.
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            return ((IPEndPoint)listener.LocalEndpoint).Port;
        }
    }

    private static bool IsFree(int port)
    {
        var listener = new TcpListener(IPAddress.Loopback, port);
        try
        {
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
        finally
        {
            listener.Stop();
        }
    }

    private static int EphemeralLow()
    {
        try
        {
            string[] range = File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range").Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            return int.Parse(range[0], CultureInfo.InvariantCulture);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return 32_768; // Linux's default lower bound
        }
    }
}
