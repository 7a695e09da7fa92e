using System.Net;
using System.Net.Sockets;

namespace FactoryGateway.Mqtt.Tests.Client;

/// <summary>Which way a packet crossed the <see cref="CuttingRelay"/>.</summary>
internal enum RelayDirection
{
    ClientToBroker,
    BrokerToClient,
}

/// <summary>An MQTT packet seen by the relay: its direction, connection (from 1), fixed-header byte and packet identifier (0 if none).</summary>
internal sealed record RelayedPacket(RelayDirection Direction, int Connection, byte Header, ushort PacketId)
{
    public int Type => Header >> 4;

    public bool Dup => Type == 3 && (Header & 0x08) != 0;
}

/// <summary>
/// A TCP relay between the client and a broker that frames MQTT packets (fixed header only) and, once,
/// cuts both connections instead of forwarding the first packet <c>cutAt</c> picks. Later connections are
/// relayed untouched. Every packet forwarded is recorded so a test can wait for one.
/// </summary>
internal sealed class CuttingRelay : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly int _brokerPort;
    private readonly Func<RelayedPacket, bool> _cutAt;
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _lock = new();
    private readonly List<RelayedPacket> _forwarded = [];
    private readonly List<(Func<RelayedPacket, bool> Match, TaskCompletionSource<RelayedPacket> Done)> _waits = [];
    private readonly List<Socket> _sockets = [];
    private readonly TaskCompletionSource<RelayedPacket> _cut = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Task _accepting;
    private int _connections;

    public CuttingRelay(int brokerPort, Func<RelayedPacket, bool> cutAt)
    {
        _brokerPort = brokerPort;
        _cutAt = cutAt;
        _listener.Start();
        _accepting = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>Completes with the packet that was not forwarded when the relay cut.</summary>
    public Task<RelayedPacket> Cut => _cut.Task;

    /// <summary>Waits for a forwarded packet (already seen or future) that matches.</summary>
    public Task<RelayedPacket> WaitForAsync(Func<RelayedPacket, bool> match, TimeSpan deadline, CancellationToken cancellationToken)
    {
        var done = new TaskCompletionSource<RelayedPacket>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_lock)
        {
            if (_forwarded.FirstOrDefault(match) is { } seen)
            {
                return Task.FromResult(seen);
            }

            _waits.Add((match, done));
        }

        return done.Task.WaitAsync(deadline, cancellationToken);
    }

    public IReadOnlyList<RelayedPacket> Forwarded
    {
        get
        {
            lock (_lock)
            {
                return [.. _forwarded];
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        lock (_lock)
        {
            _sockets.ForEach(s => s.Dispose());
        }

        try
        {
            await _accepting;
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }

        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client = await _listener.AcceptSocketAsync(_stop.Token);
            var broker = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            client.NoDelay = true;
            lock (_lock)
            {
                _sockets.Add(client);
                _sockets.Add(broker);
            }

            await broker.ConnectAsync(IPAddress.Loopback, _brokerPort, _stop.Token);
            int connection = ++_connections;
            _ = PumpAsync(client, broker, RelayDirection.ClientToBroker, connection);
            _ = PumpAsync(broker, client, RelayDirection.BrokerToClient, connection);
        }
    }

    private async Task PumpAsync(Socket from, Socket to, RelayDirection direction, int connection)
    {
        byte[] buffer = new byte[64 * 1024];
        int filled = 0;
        try
        {
            while (true)
            {
                if (filled == buffer.Length)
                {
                    Array.Resize(ref buffer, buffer.Length * 2);
                }

                int read = await from.ReceiveAsync(buffer.AsMemory(filled), _stop.Token);
                if (read == 0)
                {
                    break;
                }

                filled += read;
                int start = 0;
                while (TryFrame(buffer.AsSpan(start, filled - start), out int length, out ushort packetId))
                {
                    var packet = new RelayedPacket(direction, connection, buffer[start], packetId);
                    if (!_cut.Task.IsCompleted && _cutAt(packet) && _cut.TrySetResult(packet))
                    {
                        from.Dispose();
                        to.Dispose();
                        return;
                    }

                    await to.SendAsync(buffer.AsMemory(start, length), _stop.Token);
                    Record(packet);
                    start += length;
                }

                Buffer.BlockCopy(buffer, start, buffer, 0, filled - start);
                filled -= start;
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException)
        {
        }

        from.Dispose();
        to.Dispose();
    }

    private void Record(RelayedPacket packet)
    {
        List<TaskCompletionSource<RelayedPacket>> matched = [];
        lock (_lock)
        {
            _forwarded.Add(packet);
            foreach ((Func<RelayedPacket, bool> match, TaskCompletionSource<RelayedPacket> done) in _waits)
            {
                if (match(packet))
                {
                    matched.Add(done);
                }
            }
        }

        matched.ForEach(done => done.TrySetResult(packet));
    }

    /// <summary>One whole packet at the start of <paramref name="data"/>: its length and, for PUBLISH QoS 1/2 and PUBACK…PUBCOMP, its packet identifier.</summary>
    private static bool TryFrame(ReadOnlySpan<byte> data, out int length, out ushort packetId)
    {
        length = 0;
        packetId = 0;
        int remaining = 0;
        int at = 1;
        for (int shift = 0; ; shift += 7, at++)
        {
            if (at >= data.Length)
            {
                return false;
            }

            remaining |= (data[at] & 0x7F) << shift;
            if ((data[at] & 0x80) == 0)
            {
                break;
            }
        }

        length = at + 1 + remaining;
        if (data.Length < length)
        {
            return false;
        }

        int type = data[0] >> 4;
        int body = at + 1;
        if (type == 3 && ((data[0] >> 1) & 3) > 0)
        {
            int topicLength = (data[body] << 8) | data[body + 1];
            body += 2 + topicLength;
        }
        else if (type is not (4 or 5 or 6 or 7))
        {
            return true;
        }

        packetId = (ushort)((data[body] << 8) | data[body + 1]);
        return true;
    }
}
