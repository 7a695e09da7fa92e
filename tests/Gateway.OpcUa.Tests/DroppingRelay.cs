using System.Net;
using System.Net.Sockets;

namespace FactoryGateway.OpcUa.Tests;

/// <summary>
/// A loopback TCP relay in front of a server that can cut every connection it carries (as a broken
/// network link would) while the server stays up; new connections are relayed again afterwards.
/// </summary>
public sealed class DroppingRelay : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _lock = new();
    private readonly List<(TcpClient Client, TcpClient Server)> _pairs = [];
    private readonly Task _accepting;
    private readonly int _serverPort;
    private long _accepted;
    private long _dropped;

    public DroppingRelay(int serverPort)
    {
        _serverPort = serverPort;
        _listener.Start();
        _accepting = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public long Accepted => Interlocked.Read(ref _accepted);

    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>The endpoint URL with the server's port replaced by the relay's.</summary>
    public string Rewrite(string endpointUrl, int serverPort) =>
        endpointUrl.Replace($":{serverPort}/", $":{Port}/", StringComparison.Ordinal);

    /// <summary>Resets every relayed connection (both sides see the link break).</summary>
    public int DropAll()
    {
        (TcpClient Client, TcpClient Server)[] pairs;
        lock (_lock)
        {
            pairs = [.. _pairs];
            _pairs.Clear();
        }

        foreach ((TcpClient client, TcpClient server) in pairs)
        {
            Reset(client);
            Reset(server);
            Interlocked.Increment(ref _dropped);
        }

        return pairs.Length;
    }

    private static void Reset(TcpClient tcp)
    {
        try
        {
            if (tcp.Client is { } socket)
            {
                socket.LingerState = new LingerOption(true, 0);
                socket.Close();
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
        }

        tcp.Dispose();
    }

    private async Task AcceptAsync()
    {
        try
        {
            while (true)
            {
                TcpClient client = await _listener.AcceptTcpClientAsync(_stop.Token);
                var server = new TcpClient();
                try
                {
                    await server.ConnectAsync(IPAddress.Loopback, _serverPort, _stop.Token);
                }
                catch (SocketException)
                {
                    client.Dispose();
                    server.Dispose();
                    continue;
                }

                Interlocked.Increment(ref _accepted);
                lock (_lock)
                {
                    _pairs.Add((client, server));
                }

                _ = PumpAsync(client, server);
                _ = PumpAsync(server, client);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
    }

    private async Task PumpAsync(TcpClient from, TcpClient to)
    {
        byte[] buffer = new byte[64 * 1024];
        try
        {
            NetworkStream input = from.GetStream();
            NetworkStream output = to.GetStream();
            while (true)
            {
                int read = await input.ReadAsync(buffer, _stop.Token);
                if (read == 0)
                {
                    break;
                }

                await output.WriteAsync(buffer.AsMemory(0, read), _stop.Token);
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or OperationCanceledException or InvalidOperationException)
        {
        }

        Reset(to);
        Reset(from);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        DropAll();
        await _accepting;
        _stop.Dispose();
    }
}
