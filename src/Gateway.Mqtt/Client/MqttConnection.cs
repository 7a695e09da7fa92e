using System.Buffers;
using System.IO.Pipelines;
using System.Net.Security;
using System.Net.Sockets;
using System.Threading.Channels;
using FactoryGateway.Mqtt.Packets;

namespace FactoryGateway.Mqtt.Client;

/// <summary>An outgoing message in the client's data lane: a QoS 0 message or a QoS 1/2 flight.</summary>
internal readonly record struct OutgoingItem(MqttApplicationMessage? Message, OutgoingFlight? Flight);

/// <summary>A packet in a connection's control lane; <paramref name="Written"/> completes once it is flushed.</summary>
internal readonly record struct ControlItem(MqttPacket Packet, TaskCompletionSource? Written = null);

internal readonly record struct IncomingItem(MqttReceivedMessage Message, ushort PacketId);

/// <summary>
/// One TCP (optionally TLS) connection to the broker, over System.IO.Pipelines. Four loops: the reader
/// (decodes packets, settles acknowledgements, queues PUBLISH for the handler), the writer (control lane
/// first — acknowledgements, PINGREQ, PUBREL, SUBSCRIBE — then the client's data lane, flushed in batches),
/// the keep-alive lane (PINGREQ when idle, dead-connection detection) and the handler loop (runs the
/// application's handler, then acknowledges). The first loop to end ends the connection.
/// </summary>
internal sealed class MqttConnection : IDisposable
{
    // Packets written before one flush: enough to amortise the syscall, small enough that control traffic waits little.
    private const int WriteBatch = 64;

    private readonly MqttClient _client;
    private readonly MqttClientOptions _options;
    private readonly Stream _stream;
    private readonly PipeReader _reader;
    private readonly PipeWriter _writer;
    private readonly MqttPacketReader _parser;
    private readonly Channel<ControlItem> _control;
    private readonly Channel<IncomingItem> _incoming;
    private readonly CancellationTokenSource _cts = new();
    private readonly Dictionary<ushort, string> _incomingAliases = [];
    private readonly Dictionary<string, ushort> _outgoingAliases = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;
    private string? _closeReason;
    private long _lastSent;
    private long _lastReceived;
    private long _oldestPingAt;
    private int _pingsOutstanding;
    private volatile bool _readerPaused;

    private MqttConnection(MqttClient client, Stream stream, long epoch, int controlCapacity)
    {
        _client = client;
        _options = client.Options;
        _time = client.Time;
        _stream = stream;
        Epoch = epoch;
        _reader = PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: 65_536, minimumReadSize: 4_096, leaveOpen: true));
        _writer = PipeWriter.Create(stream, new StreamPipeWriterOptions(minimumBufferSize: 65_536, leaveOpen: true));
        _parser = new MqttPacketReader(_options.ProtocolVersion, _options.MaximumPacketSize);
        _control = Channel.CreateBounded<ControlItem>(new BoundedChannelOptions(controlCapacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
        _incoming = Channel.CreateBounded<IncomingItem>(new BoundedChannelOptions(_options.IncomingQueueCapacity) { SingleReader = true, SingleWriter = true, FullMode = BoundedChannelFullMode.Wait });
        _lastSent = _lastReceived = _time.GetTimestamp();
    }

    public long Epoch { get; }

    public ConnAckPacket ConnAck { get; private set; } = new();

    public MqttProtocolVersion Version => _options.ProtocolVersion;

    public int BrokerMaximumPacketSize => ConnAck.Properties.MaximumPacketSize is { } max ? (int)Math.Min(max, int.MaxValue) : MqttPacketReader.ProtocolMaximumPacketSize;

    public TimeSpan KeepAlive => ConnAck.Properties.ServerKeepAlive is { } server ? TimeSpan.FromSeconds(server) : _options.KeepAlive;

    /// <summary>TCP connect, TLS, CONNECT and CONNACK within <see cref="MqttClientOptions.ConnectTimeout"/>. Throws <see cref="MqttConnectException"/> when the broker refuses.</summary>
    public static async Task<MqttConnection> OpenAsync(MqttClient client, long epoch, int controlCapacity, CancellationToken cancellationToken)
    {
        MqttClientOptions options = client.Options;
        using var timeout = new CancellationTokenSource(options.ConnectTimeout, client.Time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        Stream? stream = null;
        try
        {
            await socket.ConnectAsync(options.Host, options.Port, linked.Token);
            stream = new NetworkStream(socket, ownsSocket: true);
            if (options.Tls is { } tls)
            {
                var ssl = new SslStream(stream, leaveInnerStreamOpen: false);
                stream = ssl;
                await ssl.AuthenticateAsClientAsync(tls, linked.Token);
            }

            var connection = new MqttConnection(client, stream, epoch, controlCapacity);
            MqttPacketWriter.Write(connection._writer, client.BuildConnect(), options.ProtocolVersion);
            await connection._writer.FlushAsync(linked.Token);
            MqttPacket? first = await connection.ReadOnePacketAsync(linked.Token)
                ?? throw new IOException("The broker closed the connection before CONNACK.");
            if (first is not ConnAckPacket connAck)
            {
                throw new MqttProtocolException($"The broker answered CONNECT with {first.Type} instead of CONNACK.");
            }

            if (connAck.ReasonCode != MqttReasonCode.Success)
            {
                throw new MqttConnectException(connAck.ReasonCode, $"The broker refused the connection: {DescribeRefusal(connAck, options.ProtocolVersion)}.");
            }

            connection.ConnAck = connAck;
            return connection;
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            await DisposeQuietlyAsync(stream, socket);
            throw new TimeoutException($"No CONNACK from {options.Host}:{options.Port} within {options.ConnectTimeout}.");
        }
        catch
        {
            await DisposeQuietlyAsync(stream, socket);
            throw;
        }
    }

    /// <summary>Queues a control packet; false when the connection is closing.</summary>
    public bool TryEnqueueControl(MqttPacket packet, TaskCompletionSource? written = null) => _control.Writer.TryWrite(new ControlItem(packet, written));

    public async ValueTask EnqueueControlAsync(MqttPacket packet)
    {
        try
        {
            await _control.Writer.WriteAsync(new ControlItem(packet), _cts.Token);
        }
        catch (Exception e) when (e is OperationCanceledException or ChannelClosedException or ObjectDisposedException)
        {
            // The connection is closing; the session state resends what still matters on the next one.
        }
    }

    /// <summary>Runs the connection until it ends; returns why it ended.</summary>
    public async Task<string> RunAsync(CancellationToken stopping)
    {
        using CancellationTokenRegistration registration = stopping.Register(() => Close("the client is stopping"));
        Task reading = ReadLoopAsync();
        Task writing = WriteLoopAsync();
        Task pinging = PingLoopAsync();
        _ = HandlerLoopAsync(stopping);
        await Task.WhenAny(reading, writing, pinging);
        Close("a connection loop ended");
        await Task.WhenAll(reading.ContinueWith(_ => { }, TaskScheduler.Default), writing.ContinueWith(_ => { }, TaskScheduler.Default), pinging.ContinueWith(_ => { }, TaskScheduler.Default));
        await DisposeQuietlyAsync(_stream, null);
        return _closeReason ?? "closed";
    }

    /// <summary>Writes <paramref name="packet"/> (DISCONNECT) after what is queued, then closes.</summary>
    public async Task SendAndCloseAsync(MqttPacket packet, TimeSpan timeout)
    {
        var written = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (TryEnqueueControl(packet, written))
        {
            try
            {
                await written.Task.WaitAsync(timeout, _time);
            }
            catch (TimeoutException)
            {
            }
        }

        Close("disconnected by the client");
    }

    /// <summary>Releases the cancellation source once the connection has ended (after <see cref="RunAsync"/>).</summary>
    public void Dispose() => _cts.Dispose();

    public void Close(string reason)
    {
        Interlocked.CompareExchange(ref _closeReason, reason, null);
        _control.Writer.TryComplete();
        _incoming.Writer.TryComplete();
        try
        {
            _cts.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }
    }

    private static string DescribeRefusal(ConnAckPacket connAck, MqttProtocolVersion version)
    {
        if (version == MqttProtocolVersion.V500)
        {
            return connAck.Properties.ReasonString is { } reason ? $"{connAck.ReasonCode} ({reason})" : connAck.ReasonCode.ToString();
        }

        return (byte)connAck.ReasonCode switch
        {
            1 => "unacceptable protocol version",
            2 => "identifier rejected",
            3 => "server unavailable",
            4 => "bad user name or password",
            5 => "not authorized",
            _ => $"return code {(byte)connAck.ReasonCode}",
        };
    }

    private static async ValueTask DisposeQuietlyAsync(Stream? stream, Socket? socket)
    {
        try
        {
            if (stream is not null)
            {
                await stream.DisposeAsync();
            }
            else
            {
                socket?.Dispose();
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or SocketException or InvalidOperationException)
        {
        }
    }

    private async Task<MqttPacket?> ReadOnePacketAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            ReadResult result = await _reader.ReadAsync(cancellationToken);
            ReadOnlySequence<byte> buffer = result.Buffer;
            MqttPacket? packet = TryParseOne(buffer, out SequencePosition consumed);
            if (packet is not null)
            {
                // Only what was consumed is examined: bytes that came with the CONNACK (a session's queued
                // PUBLISH) are read at once by the read loop, not when the next segment arrives.
                _reader.AdvanceTo(consumed);
                return packet;
            }

            _reader.AdvanceTo(consumed, buffer.End);

            if (result.IsCompleted)
            {
                return null;
            }
        }
    }

    private MqttPacket? TryParseOne(ReadOnlySequence<byte> buffer, out SequencePosition consumed)
    {
        var reader = new SequenceReader<byte>(buffer);
        bool read = _parser.TryRead(ref reader, out MqttPacket? packet);
        consumed = reader.Position;
        return read ? packet : null;
    }

    private SequencePosition ParseAll(ReadOnlySequence<byte> buffer, List<MqttPacket> packets)
    {
        var reader = new SequenceReader<byte>(buffer);
        while (_parser.TryRead(ref reader, out MqttPacket? packet))
        {
            packets.Add(packet);
        }

        return reader.Position;
    }

    private async Task ReadLoopAsync()
    {
        var packets = new List<MqttPacket>();
        try
        {
            while (true)
            {
                ReadResult result = await _reader.ReadAsync(_cts.Token);
                ReadOnlySequence<byte> buffer = result.Buffer;
                packets.Clear();
                SequencePosition consumed = buffer.Start;
                try
                {
                    consumed = ParseAll(buffer, packets);
                }
                finally
                {
                    _reader.AdvanceTo(consumed, buffer.End);
                }

                if (packets.Count > 0)
                {
                    Volatile.Write(ref _lastReceived, _time.GetTimestamp());
                }

                foreach (MqttPacket packet in packets)
                {
                    await HandleAsync(packet);
                }

                if (result.IsCompleted)
                {
                    Close("the broker closed the connection");
                    return;
                }
            }
        }
        catch (MqttProtocolException e)
        {
            _client.CountProtocolError();
            MqttClientLog.ProtocolViolation(_client.Logger, _options.ClientId, e.Message);
            if (Version == MqttProtocolVersion.V500)
            {
                var written = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                if (TryEnqueueControl(new DisconnectPacket { ReasonCode = e.ReasonCode == MqttReasonCode.PacketTooLarge ? MqttReasonCode.PacketTooLarge : e.ReasonCode == MqttReasonCode.MalformedPacket ? MqttReasonCode.MalformedPacket : MqttReasonCode.ProtocolError }, written))
                {
                    await Task.WhenAny(written.Task, Task.Delay(TimeSpan.FromSeconds(1), _time));
                }
            }

            Close($"protocol violation: {e.Message}");
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or SocketException or ObjectDisposedException or InvalidOperationException)
        {
            Close(e is OperationCanceledException ? "closed" : $"read failed: {e.Message}");
        }
    }

    private async ValueTask HandleAsync(MqttPacket packet)
    {
        switch (packet)
        {
            case PublishPacket publish:
                await ReceivePublishAsync(publish);
                break;
            case PublishAckPacket { Type: MqttPacketType.PubAck or MqttPacketType.PubComp } ack:
                _client.CompleteFlight(ack.PacketId, ack.ReasonCode, ack.Properties.ReasonString);
                break;
            case PublishAckPacket { Type: MqttPacketType.PubRec } rec:
                if ((byte)rec.ReasonCode >= 0x80)
                {
                    _client.CompleteFlight(rec.PacketId, rec.ReasonCode, rec.Properties.ReasonString);
                }
                else
                {
                    bool known = _client.MarkReceived(rec.PacketId);
                    await EnqueueControlAsync(new PublishAckPacket(MqttPacketType.PubRel)
                    {
                        PacketId = rec.PacketId,
                        ReasonCode = known || Version == MqttProtocolVersion.V311 ? MqttReasonCode.Success : MqttReasonCode.PacketIdentifierNotFound,
                    });
                }

                break;
            case PublishAckPacket { Type: MqttPacketType.PubRel } rel:
                bool awaited = _client.Release(rel.PacketId);
                await EnqueueControlAsync(new PublishAckPacket(MqttPacketType.PubComp)
                {
                    PacketId = rel.PacketId,
                    ReasonCode = awaited || Version == MqttProtocolVersion.V311 ? MqttReasonCode.Success : MqttReasonCode.PacketIdentifierNotFound,
                });
                break;
            case SubAckPacket or UnsubAckPacket:
                _client.CompleteRequest(packet);
                break;
            case PingRespPacket:
                Volatile.Write(ref _pingsOutstanding, 0);
                break;
            case DisconnectPacket disconnect:
                MqttClientLog.ServerDisconnect(_client.Logger, _options.ClientId, disconnect.ReasonCode, disconnect.Properties.ReasonString);
                Close($"the broker sent DISCONNECT ({disconnect.ReasonCode})");
                break;
            default:
                throw new MqttProtocolException(MqttThrow.PacketName(packet.Type), "packet type", 0, "is not sent by a broker to a client", MqttReasonCode.ProtocolError);
        }
    }

    private async ValueTask ReceivePublishAsync(PublishPacket publish)
    {
        string topic = ResolveTopicAlias(publish);
        _client.CountReceived();
        if (publish.Qos == MqttQos.ExactlyOnce && _client.IsAwaitingRelease(publish.PacketId))
        {
            // Accepted before (PUBREC sent), PUBREL not yet seen: acknowledge again, deliver once.
            _client.CountDuplicateSuppressed();
            await EnqueueControlAsync(new PublishAckPacket(MqttPacketType.PubRec) { PacketId = publish.PacketId });
            return;
        }

        var item = new IncomingItem(
            new MqttReceivedMessage
            {
                Topic = topic,
                Payload = publish.Payload,
                Qos = publish.Qos,
                Retain = publish.Retain,
                Dup = publish.Dup,
                Properties = publish.Properties,
            },
            publish.PacketId);
        if (_incoming.Writer.TryWrite(item))
        {
            return;
        }

        if (publish.Qos == MqttQos.AtMostOnce && _options.IncomingOverflowPolicy == MqttIncomingOverflowPolicy.DropNewestQos0)
        {
            _client.CountIncomingDropped();
            MqttClientLog.IncomingDropped(_client.Logger, _options.ClientId, topic);
            return;
        }

        _readerPaused = true;
        try
        {
            await _incoming.Writer.WriteAsync(item, _cts.Token);
        }
        finally
        {
            _readerPaused = false;
            Volatile.Write(ref _lastReceived, _time.GetTimestamp());
        }
    }

    private string ResolveTopicAlias(PublishPacket publish)
    {
        if (publish.Properties.TopicAlias is not { } alias)
        {
            return publish.Topic;
        }

        if (alias > _options.TopicAliasMaximum)
        {
            throw new MqttProtocolException("PUBLISH", "property TopicAlias", 0, $"alias {alias} exceeds the client's Topic Alias Maximum of {_options.TopicAliasMaximum}", MqttReasonCode.TopicAliasInvalid);
        }

        if (publish.Topic.Length > 0)
        {
            _incomingAliases[alias] = publish.Topic;
            return publish.Topic;
        }

        return _incomingAliases.TryGetValue(alias, out string? topic)
            ? topic
            : throw new MqttProtocolException("PUBLISH", "property TopicAlias", 0, $"alias {alias} was never set on this connection", MqttReasonCode.ProtocolError);
    }

    private async Task WriteLoopAsync()
    {
        ChannelReader<OutgoingItem> data = _client.Outgoing.Reader;
        try
        {
            while (true)
            {
                int written = 0;
                bool blocked = false;
                while (written < WriteBatch)
                {
                    bool any = false;
                    while (_control.Reader.TryRead(out ControlItem control))
                    {
                        MqttPacketWriter.Write(_writer, control.Packet, Version);
                        written++;
                        any = true;
                        if (control.Written is { } done)
                        {
                            await FlushAsync();
                            done.TrySetResult();
                        }
                    }

                    if (!blocked && data.TryPeek(out OutgoingItem head))
                    {
                        if (head.Flight is not null && !_client.Window.TryAcquire())
                        {
                            blocked = true;
                            break;
                        }

                        if (data.TryRead(out OutgoingItem item))
                        {
                            MqttPacketWriter.Write(_writer, BuildData(item, slotTaken: head.Flight is not null), Version);
                            written++;
                            any = true;
                        }
                        else if (head.Flight is not null)
                        {
                            _client.Window.Release();
                        }
                    }

                    if (!any)
                    {
                        break;
                    }
                }

                if (written > 0)
                {
                    await FlushAsync();
                    continue;
                }

                Task<bool> controlReady = _control.Reader.WaitToReadAsync(_cts.Token).AsTask();
                Task dataReady = blocked ? _client.Window.WaitForRoomAsync(_cts.Token) : data.WaitToReadAsync(_cts.Token).AsTask();
                Task first = await Task.WhenAny(controlReady, dataReady);
                if (first == controlReady && !await controlReady)
                {
                    return;
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or SocketException or ObjectDisposedException or InvalidOperationException or ChannelClosedException)
        {
            Close(e is OperationCanceledException or ChannelClosedException ? "closed" : $"write failed: {e.Message}");
        }
    }

    private async ValueTask FlushAsync()
    {
        FlushResult result = await _writer.FlushAsync(_cts.Token);
        Volatile.Write(ref _lastSent, _time.GetTimestamp());
        if (result.IsCompleted || result.IsCanceled)
        {
            throw new OperationCanceledException();
        }
    }

    private PublishPacket BuildData(OutgoingItem item, bool slotTaken)
    {
        if (item.Flight is { } flight)
        {
            if (!slotTaken && !_client.Window.TryAcquire())
            {
                // Another item was read than the one peeked (a closing connection's writer took it);
                // over-commit by one rather than reorder.
                _client.Window.ForceAcquire();
            }

            _client.AdmitFlight(flight);
            return BuildPublish(flight.Message, flight.PacketId, dup: false, useAlias: true);
        }

        if (slotTaken)
        {
            _client.Window.Release();
        }

        return BuildPublish(item.Message!, 0, dup: false, useAlias: true);
    }

    public PublishPacket BuildPublish(MqttApplicationMessage message, ushort packetId, bool dup, bool useAlias)
    {
        MqttProperties properties = message.Properties ?? new MqttProperties();
        string topic = message.Topic;
        if (useAlias && _options.UseOutgoingTopicAliases && Version == MqttProtocolVersion.V500 && ConnAck.Properties.TopicAliasMaximum is > 0 and var max)
        {
            properties = CopyWithoutAlias(properties);
            if (_outgoingAliases.TryGetValue(topic, out ushort alias))
            {
                properties.TopicAlias = alias;
                topic = string.Empty;
                _client.CountAliasUsed();
            }
            else if (_outgoingAliases.Count < max)
            {
                alias = (ushort)(_outgoingAliases.Count + 1);
                _outgoingAliases.Add(topic, alias);
                properties.TopicAlias = alias;
            }
        }

        return new PublishPacket
        {
            Topic = topic,
            Payload = message.Payload,
            Qos = message.Qos,
            Retain = message.Retain,
            Dup = dup,
            PacketId = packetId,
            Properties = Version == MqttProtocolVersion.V500 ? properties : new MqttProperties(),
        };
    }

    private static MqttProperties CopyWithoutAlias(MqttProperties source)
    {
        var copy = new MqttProperties
        {
            PayloadFormatIndicator = source.PayloadFormatIndicator,
            MessageExpiryInterval = source.MessageExpiryInterval,
            ContentType = source.ContentType,
            ResponseTopic = source.ResponseTopic,
            CorrelationData = source.CorrelationData,
        };
        copy.UserProperties.AddRange(source.UserProperties);
        return copy;
    }

    private async Task PingLoopAsync()
    {
        TimeSpan keepAlive = KeepAlive;
        try
        {
            if (keepAlive == TimeSpan.Zero)
            {
                await Task.Delay(Timeout.InfiniteTimeSpan, _time, _cts.Token);
                return;
            }

            TimeSpan timeout = _options.PingTimeout > TimeSpan.Zero ? _options.PingTimeout : keepAlive;
            TimeSpan idleBeforePing = keepAlive / 2;
            TimeSpan period = keepAlive / 4;
            while (true)
            {
                await Task.Delay(period, _time, _cts.Token);
                if (Volatile.Read(ref _pingsOutstanding) > 0 && !_readerPaused
                    && _time.GetElapsedTime(Volatile.Read(ref _oldestPingAt)) > timeout
                    && _time.GetElapsedTime(Volatile.Read(ref _lastReceived)) > timeout)
                {
                    _client.CountPingTimeout();
                    MqttClientLog.PingTimeout(_client.Logger, _options.ClientId, _time.GetElapsedTime(Volatile.Read(ref _oldestPingAt)));
                    Close("no PINGRESP within the ping timeout");
                    return;
                }

                if (_time.GetElapsedTime(Volatile.Read(ref _lastSent)) >= idleBeforePing)
                {
                    if (Interlocked.Increment(ref _pingsOutstanding) == 1)
                    {
                        Volatile.Write(ref _oldestPingAt, _time.GetTimestamp());
                    }

                    TryEnqueueControl(PingReqPacket.Instance);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task HandlerLoopAsync(CancellationToken stopping)
    {
        try
        {
            while (await _incoming.Reader.WaitToReadAsync(stopping))
            {
                while (_closeReason is null && _incoming.Reader.TryRead(out IncomingItem item))
                {
                    if (!await _client.InvokeHandlerAsync(item.Message, stopping))
                    {
                        Close("the message handler failed");
                        return;
                    }

                    switch (item.Message.Qos)
                    {
                        case MqttQos.AtLeastOnce:
                            await EnqueueControlAsync(new PublishAckPacket(MqttPacketType.PubAck) { PacketId = item.PacketId });
                            break;
                        case MqttQos.ExactlyOnce:
                            _client.AwaitRelease(item.PacketId);
                            await EnqueueControlAsync(new PublishAckPacket(MqttPacketType.PubRec) { PacketId = item.PacketId });
                            break;
                    }
                }

                if (_closeReason is not null)
                {
                    return;
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }
}
