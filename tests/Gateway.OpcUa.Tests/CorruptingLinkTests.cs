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
public sealed class CorruptingLinkTests(NodeOpcUaServer server, SecureNodeOpcUaServer secure) : IClassFixture<NodeOpcUaServer>, IClassFixture<SecureNodeOpcUaServer>
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    public Task Corrupted_responses_fail_calls_with_a_status_and_never_hang(int seed) =>
        RunAsync(server.Port, server.EndpointUrl, new UaSessionOptions(), seed, cleanConnections: 0, cleanBytes: 4096);

    /// <summary>
    /// The same over SignAndEncrypt: a corrupted encrypted chunk fails its signature check. The
    /// endpoint query and the session's establishment (under 12 KiB of certificates and endpoints)
    /// pass clean, so the corruption hits the encrypted Browse and Read responses.
    /// </summary>
    [Theory]
    [InlineData(11)]
    [InlineData(12)]
    [InlineData(13)]
    [InlineData(14)]
    public Task Corrupted_encrypted_responses_fail_calls_with_a_status_and_never_hang(int seed) =>
        RunAsync(secure.Server.Port, secure.Server.EndpointUrl, secure.Options(Transport.Security.UaSecurityPolicy.Basic256Sha256Uri, MessageSecurityMode.SignAndEncrypt), seed,
            cleanConnections: 1, cleanBytes: 12 * 1024);

    private static async Task RunAsync(int port, string endpointUrl, UaSessionOptions options, int seed, int cleanConnections, int cleanBytes)
    {
        await using var relay = new CorruptingRelay(port, seed, cleanConnections, cleanBytes);
        string url = endpointUrl.Replace($":{port}/", $":{relay.Port}/", StringComparison.Ordinal);
        options.Channel = new UaChannelOptions { RequestTimeout = TimeSpan.FromSeconds(3), ConnectTimeout = TimeSpan.FromSeconds(5) };
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

        TestContext.Current.TestOutputHelper?.WriteLine($"seed {seed}: {relay.Corrupted} of {relay.Relayed} bytes corrupted, {succeeded} rounds succeeded, {failed} failed");
        Assert.True(relay.Corrupted > 0 || succeeded == 6, "the relay corrupted nothing");
        Assert.True(succeeded + failed > 0);
    }

    /// <summary>
    /// Relays connections (a secure connect asks for the endpoints on a first one); on each after the
    /// first <c>cleanConnections</c>, past the first <c>cleanBytes</c> from the server, flips about one
    /// byte in 2,000.
    /// </summary>
    private sealed class CorruptingRelay : IAsyncDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _relaying;
        private readonly List<Task> _connections = [];
        private readonly int _cleanConnections;
        private readonly int _cleanBytes;
        private readonly Random _random;
        private long _corrupted;
        private long _relayed;

        public CorruptingRelay(int serverPort, int seed, int cleanConnections, int cleanBytes)
        {
            _cleanConnections = cleanConnections;
            _cleanBytes = cleanBytes;
            _random = new Random(seed);
            _listener.Start();
            _relaying = RelayAsync(serverPort);
        }

        public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

        public long Corrupted => Interlocked.Read(ref _corrupted);

        /// <summary>Bytes relayed from the server on the connections that may be corrupted.</summary>
        public long Relayed => Interlocked.Read(ref _relayed);

        private async Task RelayAsync(int serverPort)
        {
            try
            {
                while (true)
                {
                    TcpClient client = await _listener.AcceptTcpClientAsync(_stop.Token);
                    lock (_connections)
                    {
                        _connections.Add(RelayOneAsync(client, serverPort, corrupt: _connections.Count >= _cleanConnections));
                    }
                }
            }
            catch (Exception ex) when (ex is SocketException or OperationCanceledException or ObjectDisposedException)
            {
            }
        }

        private async Task RelayOneAsync(TcpClient accepted, int serverPort, bool corrupt)
        {
            try
            {
                using TcpClient client = accepted;
                using var upstream = new TcpClient();
                await upstream.ConnectAsync(IPAddress.Loopback, serverPort, _stop.Token);
                Task up = CopyAsync(client.GetStream(), upstream.GetStream(), corrupt: false);
                Task down = CopyAsync(upstream.GetStream(), client.GetStream(), corrupt);
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
                        // One Random for every connection: locked in case two overlap.
                        lock (_random)
                        {
                            for (int i = 0; i < n; i++)
                            {
                                if (total + i >= _cleanBytes && _random.Next(2000) == 0)
                                {
                                    buffer[i] ^= (byte)(1 << _random.Next(8));
                                    Interlocked.Increment(ref _corrupted);
                                }
                            }
                        }
                    }

                    total += n;
                    if (corrupt)
                    {
                        Interlocked.Add(ref _relayed, n);
                    }

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
            Task[] connections;
            lock (_connections)
            {
                connections = [.. _connections];
            }

            await Task.WhenAll(connections);
            _stop.Dispose();
        }
    }
}
