using System.Net;
using System.Net.Sockets;
using FactoryGateway.OpcUa.Client;
using FactoryGateway.OpcUa.Services;
using FactoryGateway.OpcUa.Transport;
using FactoryGateway.Testing;

namespace FactoryGateway.OpcUa.Tests;

/// <summary>
/// Our client talks to the real node-opcua server through a loopback relay that corrupts random bytes
/// of the server's answers once the secure channel is open: every call either succeeds or fails with a
/// <see cref="UaServiceException"/> within its timeout — no other exception, no hang.
/// </summary>
public sealed class CorruptingLinkTests(NodeOpcUaServer server) : IClassFixture<NodeOpcUaServer>
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    public async Task Corrupted_responses_fail_calls_with_a_status_and_never_hang(int seed)
    {
        await using var relay = new CorruptingRelay(server.Port, seed);
        string url = server.EndpointUrl.Replace($":{server.Port}/", $":{relay.Port}/", StringComparison.Ordinal);
        var options = new UaSessionOptions { Channel = new UaChannelOptions { RequestTimeout = TimeSpan.FromSeconds(3), ConnectTimeout = TimeSpan.FromSeconds(5) } };
        int succeeded = 0;
        int failed = 0;

        try
        {
            await using UaSession session = await UaSession.ConnectAsync(url, options, cancellationToken: Token);
            for (int i = 0; i < 6; i++)
            {
                try
                {
                    await session.BrowseAllAsync(new BrowseDescription(WellKnownNodes.Server), cancellationToken: Token);
                    await session.ReadServerStatusAsync(Token);
                    succeeded++;
                }
                catch (UaServiceException)
                {
                    failed++;
                }
            }
        }
        catch (UaServiceException)
        {
            failed++;
        }

        TestContext.Current.TestOutputHelper?.WriteLine($"seed {seed}: {relay.Corrupted} bytes corrupted, {succeeded} rounds succeeded, {failed} failed");
        Assert.True(relay.Corrupted > 0 || succeeded == 6, "the relay corrupted nothing");
        Assert.True(succeeded + failed > 0);
    }

    /// <summary>Relays one connection; after the first 4 KiB from the server, flips about one byte in 2,000.</summary>
    private sealed class CorruptingRelay : IAsyncDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _relaying;
        private readonly Random _random;
        private long _corrupted;

        public CorruptingRelay(int serverPort, int seed)
        {
            _random = new Random(seed);
            _listener.Start();
            _relaying = RelayAsync(serverPort);
        }

        public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

        public long Corrupted => Interlocked.Read(ref _corrupted);

        private async Task RelayAsync(int serverPort)
        {
            try
            {
                using TcpClient client = await _listener.AcceptTcpClientAsync(_stop.Token);
                using var upstream = new TcpClient();
                await upstream.ConnectAsync(IPAddress.Loopback, serverPort, _stop.Token);
                Task up = CopyAsync(client.GetStream(), upstream.GetStream(), corrupt: false);
                Task down = CopyAsync(upstream.GetStream(), client.GetStream(), corrupt: true);
                await Task.WhenAny(up, down);
            }
            catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException)
            {
            }
        }

        private async Task CopyAsync(NetworkStream from, NetworkStream to, bool corrupt)
        {
            byte[] buffer = new byte[16 * 1024];
            long total = 0;
            try
            {
                while (true)
                {
                    int n = await from.ReadAsync(buffer, _stop.Token);
                    if (n == 0)
                    {
                        return;
                    }

                    if (corrupt)
                    {
                        for (int i = 0; i < n; i++)
                        {
                            if (total + i >= 4096 && _random.Next(2000) == 0)
                            {
                                buffer[i] ^= (byte)(1 << _random.Next(8));
                                Interlocked.Increment(ref _corrupted);
                            }
                        }
                    }

                    total += n;
                    await to.WriteAsync(buffer.AsMemory(0, n), _stop.Token);
                }
            }
            catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
            {
            }
            finally
            {
                to.Socket.Shutdown(SocketShutdown.Both);
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            _listener.Stop();
            await _relaying;
            _stop.Dispose();
        }
    }
}
