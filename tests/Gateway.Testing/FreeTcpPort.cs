using System.Net;
using System.Net.Sockets;

namespace FactoryGateway.Testing;

/// <summary>Free loopback TCP ports for servers a test starts.</summary>
public static class FreeTcpPort
{
    /// <summary>
    /// A port that was free a moment ago. Another process can take it before the server binds; the
    /// fixtures retry their start with a new port when the server reports the address in use.
    /// </summary>
    public static int Next()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
