using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using FactoryGateway.OpcUa.Encoding;
using FactoryGateway.OpcUa.Transport;

namespace FactoryGateway.OpcUa.Tests;

/// <summary>
/// A peer that breaks the protocol (a loopback listener scripted by the test, not a stand-in for a
/// server): the channel fails with a status, within its connect timeout, and never hangs.
/// </summary>
public sealed class HostilePeerTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static async Task<UaServiceException> OpenAgainstAsync(Func<NetworkStream, Task> peer)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        Task serving = Task.Run(async () =>
        {
            using TcpClient client = await listener.AcceptTcpClientAsync(Token);
            NetworkStream stream = client.GetStream();
            byte[] header = new byte[8];
            await stream.ReadExactlyAsync(header, Token);
            await stream.ReadExactlyAsync(new byte[BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(4)) - 8], Token);
            try
            {
                await peer(stream);
            }
            catch (IOException)
            {
                // The client hung up first (the expected reaction to the misbehaviour): the peer's script ends here.
            }
        }, Token);

        var options = new UaChannelOptions { ConnectTimeout = TimeSpan.FromSeconds(10) };
        UaServiceException error = await Assert.ThrowsAsync<UaServiceException>(() => UaTcpChannel.OpenAsync($"opc.tcp://127.0.0.1:{port}/x", options, cancellationToken: Token));
        await serving.WaitAsync(TimeSpan.FromSeconds(10), Token);
        return error;
    }

    private static byte[] Acknowledge()
    {
        byte[] ack = new byte[28];
        "ACKF"u8.CopyTo(ack);
        BinaryPrimitives.WriteUInt32LittleEndian(ack.AsSpan(4), 28);
        BinaryPrimitives.WriteUInt32LittleEndian(ack.AsSpan(12), 65_536);
        BinaryPrimitives.WriteUInt32LittleEndian(ack.AsSpan(16), 65_536);
        return ack;
    }

    [Fact]
    public async Task An_Error_answer_to_Hello_fails_with_the_peers_status_and_reason()
    {
        UaServiceException error = await OpenAgainstAsync(async stream =>
        {
            byte[] reason = "no such endpoint"u8.ToArray();
            byte[] err = new byte[16 + reason.Length];
            "ERRF"u8.CopyTo(err);
            BinaryPrimitives.WriteUInt32LittleEndian(err.AsSpan(4), (uint)err.Length);
            BinaryPrimitives.WriteUInt32LittleEndian(err.AsSpan(8), StatusCode.BadTcpEndpointUrlInvalid);
            BinaryPrimitives.WriteInt32LittleEndian(err.AsSpan(12), reason.Length);
            reason.CopyTo(err, 16);
            await stream.WriteAsync(err, Token);
        });

        Assert.Equal(StatusCode.BadTcpEndpointUrlInvalid, error.Status.CodeBits);
        Assert.Contains("no such endpoint", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Garbage_after_Acknowledge_fails_the_channel_with_a_framing_status()
    {
        UaServiceException error = await OpenAgainstAsync(async stream =>
        {
            await stream.WriteAsync(Acknowledge(), Token);
            await stream.WriteAsync("GARBAGE!GARBAGE!"u8.ToArray(), Token);
            _ = await stream.ReadAsync(new byte[1024], Token); // the OpenSecureChannel request; the client then closes
        });

        Assert.Equal(StatusCode.BadTcpMessageTypeInvalid, error.Status.CodeBits);
        Assert.IsType<UaTcpFramingException>(error.InnerException?.InnerException ?? error.InnerException);
    }

    [Fact]
    public async Task A_peer_that_closes_after_Hello_fails_with_BadConnectionClosed()
    {
        UaServiceException error = await OpenAgainstAsync(_ => Task.CompletedTask);

        Assert.Equal(StatusCode.BadConnectionClosed, error.Status.CodeBits);
    }

    [Fact]
    public async Task A_peer_that_never_answers_fails_at_the_connect_timeout()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var options = new UaChannelOptions { ConnectTimeout = TimeSpan.FromMilliseconds(500) };

        UaServiceException error = await Assert.ThrowsAsync<UaServiceException>(() => UaTcpChannel.OpenAsync($"opc.tcp://127.0.0.1:{port}/x", options, cancellationToken: Token));

        Assert.Equal(StatusCode.BadTimeout, error.Status.CodeBits);
    }
}
