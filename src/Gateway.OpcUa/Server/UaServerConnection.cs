using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Threading.Channels;
using FactoryGateway.OpcUa.Encoding;
using FactoryGateway.OpcUa.Services;
using FactoryGateway.OpcUa.Transport;
using FactoryGateway.OpcUa.Transport.Security;

namespace FactoryGateway.OpcUa.Server;

/// <summary>A protocol fault on a server connection: answered with an Error message and the connection closed.</summary>
internal sealed class UaConnectionFault(StatusCode status, string reason) : Exception(reason)
{
    public StatusCode Status { get; } = status;
}

/// <summary>
/// One client connection (OPC 10000-6 §7.1, §6.7): Hello/Acknowledge, one secure channel (Issue,
/// Renew, Close), chunk reassembly within the negotiated limits and sequence-number checks. One
/// reader loop parses chunks off a <see cref="PipeReader"/> and hands whole requests to the server;
/// one writer loop drains the bounded send queue, splitting bodies into chunks of the client's
/// ReceiveBufferSize. Any protocol fault is answered with Error and closes only this connection.
/// A channel with a SecurityPolicy other than None signs (and encrypts) every chunk with a
/// <see cref="SecureChannelCrypto"/> made for the client certificate of its OpenSecureChannel, which
/// must pass the server's trust list.
/// </summary>
internal sealed class UaServerConnection : IDisposable
{
    private const uint OpenSecureChannelRequestId = 446;
    private const uint OpenSecureChannelResponseId = 449;
    private const uint SequenceWrapAt = uint.MaxValue - 1024;
    private const int SymmetricHeaderSize = UaTcpFraming.HeaderSize + 16;

    private readonly UaServer _server;
    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    private readonly PipeReader _reader;
    private readonly Channel<Outgoing> _queue;
    private readonly UaServerOptions _options;
    private readonly UaDecoderLimits _limits;
    private readonly Dictionary<uint, Partial> _partials = [];
    private readonly DateTime _connectedAt;
    private readonly Lock _tokenLock = new();
    private string? _policyUri;
    private SecureChannelCrypto? _crypto;
    private MessageSecurityMode _mode;
    private Token? _current;
    private Token? _previous;
    private bool _helloReceived;
    private uint _maxChunkIn;
    private uint _sendChunkSize;
    private uint _clientMaxMessageSize;
    private uint _clientMaxChunkCount;
    private bool _anySequence;
    private uint _lastSequence;
    private uint _sendSequence;
    private int _closing;

    public UaServerConnection(UaServer server, Socket socket, long id)
    {
        _server = server;
        _socket = socket;
        _options = server.Options;
        _limits = new UaDecoderLimits { MaxMessageSize = _options.MaxMessageSize }.Validate();
        _stream = new NetworkStream(socket, ownsSocket: true);
        _reader = PipeReader.Create(_stream, new StreamPipeReaderOptions(bufferSize: _options.BufferSize, minimumReadSize: 4096, leaveOpen: true));
        _queue = Channel.CreateBounded<Outgoing>(new BoundedChannelOptions(_options.SendQueueCapacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
        _maxChunkIn = (uint)_options.BufferSize;
        _connectedAt = server.Now;
        Id = id;
        Remote = socket.RemoteEndPoint?.ToString() ?? "?";
    }

    public long Id { get; }

    public string Remote { get; }

    public uint ChannelId { get; private set; }

    public bool IsClosing => Volatile.Read(ref _closing) != 0;

    /// <summary>The channel's security (policy, mode, both certificates), or null for SecurityPolicy None.</summary>
    public UaChannelSecurity? Security => _crypto?.Security;

    /// <summary>The channel's MessageSecurityMode (None until it opens).</summary>
    public MessageSecurityMode SecurityMode => _mode;

    /// <summary>Runs the reader and writer loops until the connection closes.</summary>
    public async Task RunAsync()
    {
        Task writer = Task.Run(WriteLoopAsync);
        await ReadLoopAsync();
        await writer;
    }

    public void Dispose()
    {
        _stream.Dispose();
        _crypto?.Dispose();
    }

    private async Task ReadLoopAsync()
    {
        try
        {
            while (true)
            {
                ReadResult result = await _reader.ReadAsync();
                ReadOnlySequence<byte> buffer = result.Buffer;
                SequencePosition consumed = buffer.Start;
                try
                {
                    var reader = new SequenceReader<byte>(buffer);
                    while (!IsClosing && UaTcpFraming.TryReadChunk(ref reader, _maxChunkIn, out UaTcpChunk chunk))
                    {
                        HandleChunk(chunk);
                        consumed = reader.Position;
                    }
                }
                finally
                {
                    _reader.AdvanceTo(consumed, buffer.End);
                }

                if (result.IsCompleted || result.IsCanceled || IsClosing)
                {
                    break;
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (UaConnectionFault fault)
        {
            Fail(fault.Status, fault.Message);
        }
        catch (UaTcpFramingException ex)
        {
            Fail(StatusCode.BadTcpMessageTypeInvalid, ex.Message);
        }
        catch (UaDecodeException ex)
        {
            Fail(StatusCode.BadDecodingError, ex.Message);
        }
        catch (UaServiceException ex)
        {
            // A chunk failed its signature, decryption or token checks.
            Fail(ex.Status, ex.Message);
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException)
        {
            UaServerLog.ConnectionLost(_server.Logger, Id, Remote, ex.Message);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // A defect of ours must not take the server down: this connection ends with BadInternalError.
            UaServerLog.ServiceFailed(_server.Logger, "connection reader", ex);
            Fail(StatusCode.BadInternalError, "internal error while handling a message.");
        }

        Close();
        await _reader.CompleteAsync();
    }

    private void HandleChunk(UaTcpChunk chunk)
    {
        ReadOnlySpan<byte> span = chunk.ContiguousBody(out byte[]? rented);

        try
        {
            switch (chunk.MessageType)
            {
                case UaTcpMessageType.Hello:
                    HandleHello(span);
                    break;
                case UaTcpMessageType.OpenSecureChannel:
                case UaTcpMessageType.CloseSecureChannel:
                case UaTcpMessageType.Message:
                    if (!_helloReceived)
                    {
                        throw new UaConnectionFault(StatusCode.BadTcpMessageTypeInvalid, $"{chunk.MessageType} before Hello.");
                    }

                    HandleSecureChunk(chunk.MessageType, chunk.ChunkType, span, chunk.Body);
                    break;
                default:
                    throw new UaConnectionFault(StatusCode.BadTcpMessageTypeInvalid, $"a client does not send {chunk.MessageType}.");
            }
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    private void HandleHello(ReadOnlySpan<byte> span)
    {
        if (_helloReceived)
        {
            throw new UaConnectionFault(StatusCode.BadTcpMessageTypeInvalid, "a second Hello.");
        }

        var d = new UaBinaryDecoder(span, _limits);
        uint version = d.ReadUInt32("Hello.ProtocolVersion");
        uint receive = d.ReadUInt32("Hello.ReceiveBufferSize");
        uint send = d.ReadUInt32("Hello.SendBufferSize");
        uint maxMessage = d.ReadUInt32("Hello.MaxMessageSize");
        uint maxChunks = d.ReadUInt32("Hello.MaxChunkCount");
        string? url = d.ReadString("Hello.EndpointUrl");
        if (receive < 8192 || send < 8192)
        {
            throw new UaConnectionFault(StatusCode.BadTcpInternalError, string.Create(CultureInfo.InvariantCulture, $"Hello buffer sizes {receive}/{send} are below 8,192 (OPC 10000-6 §7.1.2.3)."));
        }

        if (url is not null && System.Text.Encoding.UTF8.GetByteCount(url) > 4096)
        {
            throw new UaConnectionFault(StatusCode.BadTcpEndpointUrlInvalid, "the endpoint URL is longer than 4,096 bytes.");
        }

        _ = version; // OPC 10000-6 §7.1.2.3: a server answers any version with its own (0).
        _helloReceived = true;
        _maxChunkIn = Math.Min((uint)_options.BufferSize, send);
        _sendChunkSize = Math.Min((uint)_options.BufferSize, receive);
        _clientMaxMessageSize = maxMessage;
        _clientMaxChunkCount = maxChunks;
        byte[] ack = new byte[20];
        BinaryPrimitives.WriteUInt32LittleEndian(ack, 0);
        BinaryPrimitives.WriteUInt32LittleEndian(ack.AsSpan(4), _maxChunkIn);
        BinaryPrimitives.WriteUInt32LittleEndian(ack.AsSpan(8), _sendChunkSize);
        BinaryPrimitives.WriteUInt32LittleEndian(ack.AsSpan(12), (uint)_options.MaxMessageSize);
        BinaryPrimitives.WriteUInt32LittleEndian(ack.AsSpan(16), (uint)_options.MaxChunkCount);
        Enqueue(new Outgoing(UaTcpMessageType.Acknowledge, 0, ack));
    }

    private void HandleSecureChunk(UaTcpMessageType type, byte chunkType, ReadOnlySpan<byte> span, ReadOnlySequence<byte> body)
    {
        var d = new UaBinaryDecoder(span, _limits);
        uint channelId = d.ReadUInt32("SecureChannelId");
        if (type == UaTcpMessageType.OpenSecureChannel)
        {
            string? policyUri = d.ReadString("SecurityPolicyUri");
            ReadOnlyMemory<byte> sender = d.ReadByteString("SenderCertificate");
            ReadOnlyMemory<byte> receiverThumbprint = d.ReadByteString("ReceiverCertificateThumbprint");
            if (!_server.OffersPolicy(policyUri))
            {
                throw new UaConnectionFault(UaServerStatus.BadSecurityPolicyRejected, $"security policy '{policyUri}' is not offered.");
            }

            if (channelId != ChannelId)
            {
                throw new UaConnectionFault(StatusCode.BadTcpSecureChannelUnknown, $"OpenSecureChannel names channel {channelId}, this connection has {ChannelId}.");
            }

            if (_policyUri is not null && _policyUri != policyUri)
            {
                throw new UaConnectionFault(UaServerStatus.BadSecurityPolicyRejected, "a renewal cannot change the security policy.");
            }

            if (_crypto is null && UaSecurityPolicy.Find(policyUri) is { } policy)
            {
                _crypto = CreateCrypto(policy, sender.Span, receiverThumbprint.Span);
            }
        }
        else
        {
            if (ChannelId == 0 || channelId != ChannelId)
            {
                throw new UaConnectionFault(StatusCode.BadTcpSecureChannelUnknown, $"a {type} chunk for channel {channelId}, this connection has {(ChannelId == 0 ? "none open" : ChannelId)}.");
            }

            CheckToken(d.ReadUInt32("TokenId"));
        }

        if (_crypto is null)
        {
            HandlePlainChunk(type, chunkType, span[d.Position..]);
            return;
        }

        // The signature covers the message header too: the chunk is rebuilt whole in a pooled buffer,
        // verified (and decrypted) there in place.
        int size = (int)body.Length + UaTcpFraming.HeaderSize;
        byte[] buffer = ArrayPool<byte>.Shared.Rent(size);
        try
        {
            WriteHeader(buffer, type, chunkType, size);
            body.CopyTo(buffer.AsSpan(UaTcpFraming.HeaderSize));
            int headerEnd = UaTcpFraming.HeaderSize + d.Position;
            int end = type == UaTcpMessageType.OpenSecureChannel
                ? _crypto.OpenAsymmetric(buffer.AsSpan(0, size))
                : _crypto.OpenSymmetric(buffer.AsSpan(0, size));
            HandlePlainChunk(type, chunkType, buffer.AsSpan(headerEnd, end - headerEnd));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// The crypto of a channel opened with a secure policy: the OpenSecureChannel must be encrypted for
    /// our certificate and signed with a client certificate the server trusts (OPC 10000-4 §5.5.2).
    /// A refused certificate lands in the server's <c>rejected/</c> folder; the client is told only
    /// BadSecurityChecksFailed (OPC 10000-6 §6.7.6 asks not to reveal why), the log says why.
    /// </summary>
    private SecureChannelCrypto CreateCrypto(UaSecurityPolicy policy, ReadOnlySpan<byte> sender, ReadOnlySpan<byte> receiverThumbprint)
    {
        X509Certificate2 serverCertificate = _server.Certificate
            ?? throw new UaConnectionFault(UaServerStatus.BadSecurityPolicyRejected, $"{policy} is offered without a server certificate.");
        string ours = serverCertificate.Thumbprint;
        if (!Convert.ToHexString(receiverThumbprint).Equals(ours, StringComparison.OrdinalIgnoreCase))
        {
            throw new UaConnectionFault(StatusCode.BadSecurityChecksFailed, $"OpenSecureChannel is encrypted for certificate {Convert.ToHexString(receiverThumbprint)}, not this server's {ours}.");
        }

        X509Certificate2 client;
        try
        {
            client = X509CertificateLoader.LoadCertificate(SecureChannelCrypto.FirstCertificate(sender));
        }
        catch (CryptographicException ex)
        {
            throw new UaConnectionFault(StatusCode.BadSecurityChecksFailed, "the client certificate cannot be read: " + ex.Message);
        }

        try
        {
            _server.Pki!.ValidateClientCertificate(client);
            return SecureChannelCrypto.ForServer(policy, serverCertificate, client);
        }
        catch (UaServiceException ex)
        {
            client.Dispose();
            _server.CountCertificateRejected();
            UaServerLog.ClientCertificateRejected(_server.Logger, Id, Remote, ex.Status.ToString(), ex.Message);
            throw new UaConnectionFault(StatusCode.BadSecurityChecksFailed, "the client certificate was not accepted.");
        }
    }

    private void HandlePlainChunk(UaTcpMessageType type, byte chunkType, ReadOnlySpan<byte> plain)
    {
        var s = new UaBinaryDecoder(plain, _limits);
        uint sequence = s.ReadUInt32("SequenceNumber");
        uint requestId = s.ReadUInt32("RequestId");
        CheckSequence(sequence);
        ReadOnlySpan<byte> payload = plain[s.Position..];
        if (chunkType == (byte)'A')
        {
            _partials.Remove(requestId);
            return;
        }

        _partials.TryGetValue(requestId, out Partial? partial);
        int chunks = (partial?.Chunks ?? 0) + 1;
        long total = (partial?.Body.WrittenCount ?? 0) + payload.Length;
        if (chunks > _options.MaxChunkCount || total > _options.MaxMessageSize)
        {
            throw new UaConnectionFault(StatusCode.BadTcpMessageTooLarge, string.Create(CultureInfo.InvariantCulture,
                $"request {requestId} exceeds MaxChunkCount {_options.MaxChunkCount} or MaxMessageSize {_options.MaxMessageSize} ({chunks} chunks, {total} bytes)."));
        }

        if (chunkType == (byte)'C')
        {
            if (partial is null)
            {
                if (_partials.Count >= _options.MaxPartialMessages)
                {
                    throw new UaConnectionFault(StatusCode.BadTcpNotEnoughResources, $"more than MaxPartialMessages {_options.MaxPartialMessages} requests in reassembly.");
                }

                partial = new Partial();
                _partials[requestId] = partial;
            }

            partial.Chunks = chunks;
            partial.Body.Write(payload);
            return;
        }

        byte[] message;
        if (partial is null)
        {
            message = payload.ToArray();
        }
        else
        {
            partial.Body.Write(payload);
            message = partial.Body.WrittenSpan.ToArray();
            _partials.Remove(requestId);
        }

        switch (type)
        {
            case UaTcpMessageType.OpenSecureChannel:
                HandleOpen(requestId, message);
                break;
            case UaTcpMessageType.CloseSecureChannel:
                UaServerLog.ChannelClosed(_server.Logger, Id, ChannelId);
                Close();
                break;
            default:
                _server.Dispatch(this, requestId, message);
                break;
        }
    }

    private void CheckToken(uint tokenId)
    {
        lock (_tokenLock)
        {
            if (_current is not null && tokenId == _current.Id)
            {
                // OPC 10000-4 §5.5.2: once the client uses the new token the old one is no longer accepted.
                _previous = null;
                return;
            }

            if (_previous is not null && tokenId == _previous.Id)
            {
                return;
            }
        }

        throw new UaConnectionFault(StatusCode.BadSecureChannelTokenUnknown, $"token {tokenId} is not a token of channel {ChannelId}.");
    }

    private void CheckSequence(uint sequence)
    {
        if (_anySequence)
        {
            bool next = sequence == _lastSequence + 1 || (_lastSequence >= SequenceWrapAt && sequence < 1024);
            if (!next)
            {
                throw new UaConnectionFault(StatusCode.BadSequenceNumberInvalid, $"sequence number {sequence} follows {_lastSequence}.");
            }
        }

        _anySequence = true;
        _lastSequence = sequence;
    }

    private void HandleOpen(uint requestId, byte[] message)
    {
        var d = new UaBinaryDecoder(message.AsMemory(), _limits);
        NodeId type = d.ReadNodeId("request type");
        if (type != new NodeId(OpenSecureChannelRequestId))
        {
            throw new UaConnectionFault(StatusCode.BadTcpMessageTypeInvalid, $"an OPN message carries {type}, not OpenSecureChannelRequest.");
        }

        UaRequestHeader header = UaServerCodec.ReadRequestHeader(ref d);
        d.ReadUInt32("OpenSecureChannelRequest.ClientProtocolVersion");
        int requestType = d.ReadEnum("OpenSecureChannelRequest.RequestType", 0, 1);
        var mode = (MessageSecurityMode)d.ReadEnum("OpenSecureChannelRequest.SecurityMode", 0, 3);
        ReadOnlyMemory<byte> clientNonce = d.ReadByteString("OpenSecureChannelRequest.ClientNonce");
        uint requested = d.ReadUInt32("OpenSecureChannelRequest.RequestedLifetime");
        string policyUri = _crypto?.Policy.Uri ?? UaTcpChannel.SecurityPolicyNone;
        if (!_server.OffersEndpoint(policyUri, mode) || (_policyUri is not null && mode != _mode))
        {
            throw new UaConnectionFault(UaServerStatus.BadSecurityModeRejected, $"security mode {mode} is not offered with {UaSecurityPolicy.Find(policyUri)?.ToString() ?? "None"}{(_policyUri is null ? string.Empty : " or differs from the channel's")}.");
        }

        if (_crypto is not null && clientNonce.Length != _crypto.Policy.NonceLength)
        {
            throw new UaConnectionFault(StatusCode.BadNonceInvalid, $"the client nonce has {clientNonce.Length} bytes; {_crypto.Policy} needs {_crypto.Policy.NonceLength}.");
        }

        DateTime now = _server.Now;
        uint lifetime = (uint)Math.Clamp(requested == 0 ? _options.MaxTokenLifetime.TotalMilliseconds : requested, _options.MinTokenLifetime.TotalMilliseconds, _options.MaxTokenLifetime.TotalMilliseconds);
        Token token;
        lock (_tokenLock)
        {
            if (requestType == 0)
            {
                if (ChannelId != 0)
                {
                    throw new UaConnectionFault(UaServerStatus.BadRequestTypeInvalid, "Issue on a connection whose channel is already open.");
                }

                ChannelId = _server.NextChannelId();
                _policyUri = policyUri;
                _mode = mode;
                _crypto?.SetEncrypt(mode == MessageSecurityMode.SignAndEncrypt);
                token = new Token(1, now, TimeSpan.FromMilliseconds(lifetime));
                _current = token;
            }
            else
            {
                if (ChannelId == 0 || _current is null)
                {
                    throw new UaConnectionFault(StatusCode.BadTcpSecureChannelUnknown, "Renew before the channel was issued.");
                }

                token = new Token(_current.Id + 1, now, TimeSpan.FromMilliseconds(lifetime));
                _previous = _current;
                _current = token;
            }
        }

        // OPC 10000-6 §6.7.4: a fresh server nonce for every token; none with SecurityPolicy None.
        byte[] serverNonce = _crypto is null ? [] : RandomNumberGenerator.GetBytes(_crypto.Policy.NonceLength);
        var body = new ArrayBufferWriter<byte>(96);
        var e = new UaBinaryEncoder(body);
        e.WriteNodeId(new NodeId(OpenSecureChannelResponseId));
        StructureCodec.WriteResponseHeader(e, header.RequestHandle, now, default);
        e.WriteUInt32(0); // ServerProtocolVersion
        e.WriteUInt32(ChannelId);
        e.WriteUInt32(token.Id);
        e.WriteDateTime(token.CreatedAt);
        e.WriteUInt32(lifetime);
        e.WriteByteString(serverNonce);
        UaServerLog.ChannelOpened(_server.Logger, Id, ChannelId, token.Id, requestType == 0 ? "issued" : "renewed", lifetime);
        // The new token's keys are installed when the response is written: every chunk queued before it
        // still goes out under the token the client holds.
        PendingToken? pending = _crypto is null ? null : new PendingToken(token.Id, clientNonce.ToArray(), serverNonce);
        Enqueue(new Outgoing(UaTcpMessageType.OpenSecureChannel, requestId, body.WrittenMemory, pending));
    }

    /// <summary>Closes the channel when its token expired more than 25% of its lifetime ago (OPC 10000-4 §5.5.2), or Hello never came.</summary>
    public void CheckExpiry(DateTime now)
    {
        if (IsClosing)
        {
            return;
        }

        Token? current;
        lock (_tokenLock)
        {
            current = _current;
        }

        if (current is null)
        {
            if (now - _connectedAt > _options.HelloTimeout)
            {
                Fail(StatusCode.BadTimeout, $"no secure channel was opened within HelloTimeout {_options.HelloTimeout.TotalSeconds:0.#} s.");
            }
        }
        else if (now > current.CreatedAt + (current.Lifetime * 1.25))
        {
            Fail(StatusCode.BadSecureChannelClosed, "the security token expired without renewal.");
        }
    }

    /// <summary>
    /// Queues a service response. One beyond the client's MaxMessageSize or MaxChunkCount becomes a
    /// ServiceFault BadResponseTooLarge for the same request.
    /// </summary>
    public void SendResponse(uint requestId, uint requestHandle, ReadOnlyMemory<byte> body)
    {
        int perChunk = MaxBodyPerChunk;
        long chunks = Math.Max(1, (body.Length + perChunk - 1) / perChunk);
        if ((_clientMaxMessageSize != 0 && body.Length > _clientMaxMessageSize) || (_clientMaxChunkCount != 0 && chunks > _clientMaxChunkCount))
        {
            _server.CountResponseTooLarge();
            body = UaServerCodec.ServiceFault(requestHandle, _server.Now, StatusCode.BadResponseTooLarge);
        }

        Enqueue(new Outgoing(UaTcpMessageType.Message, requestId, body));
    }

    /// <summary>The largest body of one MSG chunk of the client's ReceiveBufferSize.</summary>
    private int MaxBodyPerChunk => _crypto?.MaxSymmetricBody((int)_sendChunkSize) ?? (int)_sendChunkSize - SymmetricHeaderSize;

    private void Enqueue(Outgoing message)
    {
        if (IsClosing)
        {
            return;
        }

        if (!_queue.Writer.TryWrite(message))
        {
            // Overflow policy CloseConnection: the client does not read what it asked for.
            _server.CountSendQueueOverflow();
            UaServerLog.SendQueueOverflow(_server.Logger, Id, Remote, _options.SendQueueCapacity);
            Abort(); // the writer may be blocked on a client that does not read
        }
    }

    /// <summary>Drops the connection at once: pending socket operations fail and both loops end.</summary>
    public void Abort()
    {
        Close();
        try
        {
            _socket.Close();
        }
        catch (ObjectDisposedException)
        {
        }
    }

    /// <summary>Sends Error with the status and reason, then closes the connection (OPC 10000-6 §7.1.2.5).</summary>
    public void Fail(StatusCode status, string reason)
    {
        if (IsClosing)
        {
            return;
        }

        _server.CountConnectionError();
        UaServerLog.ConnectionFault(_server.Logger, Id, Remote, status.ToString(), reason);
        var body = new ArrayBufferWriter<byte>(64 + reason.Length);
        var e = new UaBinaryEncoder(body);
        e.WriteStatusCode(status);
        e.WriteString(reason.Length > 4096 ? reason[..4096] : reason);
        _queue.Writer.TryWrite(new Outgoing(UaTcpMessageType.Error, 0, body.WrittenMemory));
        Close();
    }

    /// <summary>Stops reading and lets the writer send what is queued, then closes the socket.</summary>
    public void Close()
    {
        if (Interlocked.Exchange(ref _closing, 1) != 0)
        {
            return;
        }

        _queue.Writer.TryComplete();
        _reader.CancelPendingRead();
    }

    private async Task WriteLoopAsync()
    {
        var output = new ArrayBufferWriter<byte>(_options.BufferSize);
        try
        {
            await foreach (Outgoing message in _queue.Reader.ReadAllAsync())
            {
                WriteMessage(output, message);
                if (output.WrittenCount >= _options.BufferSize || !_queue.Reader.TryPeek(out _))
                {
                    await _stream.WriteAsync(output.WrittenMemory);
                    output.ResetWrittenCount();
                }
            }

            if (output.WrittenCount > 0)
            {
                await _stream.WriteAsync(output.WrittenMemory);
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException)
        {
            Close();
        }

        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
        }

        await _stream.DisposeAsync();
    }

    private void WriteMessage(ArrayBufferWriter<byte> output, Outgoing message)
    {
        switch (message.Type)
        {
            case UaTcpMessageType.Acknowledge:
            case UaTcpMessageType.Error:
                {
                    Span<byte> header = output.GetSpan(UaTcpFraming.HeaderSize);
                    WriteHeader(header, message.Type, (byte)'F', UaTcpFraming.HeaderSize + message.Body.Length);
                    output.Advance(UaTcpFraming.HeaderSize);
                    output.Write(message.Body.Span);
                    break;
                }

            case UaTcpMessageType.OpenSecureChannel:
                WriteOpenResponse(output, message);
                break;

            default:
                {
                    int perChunk = MaxBodyPerChunk;
                    ReadOnlySpan<byte> body = message.Body.Span;
                    uint tokenId;
                    lock (_tokenLock)
                    {
                        tokenId = _current!.Id;
                    }

                    do
                    {
                        int take = Math.Min(perChunk, body.Length);
                        bool last = take == body.Length;
                        int size = SymmetricHeaderSize + take;
                        Span<byte> chunk = output.GetSpan((int)_sendChunkSize);
                        WriteHeader(chunk, message.Type, last ? (byte)'F' : (byte)'C', size);
                        BinaryPrimitives.WriteUInt32LittleEndian(chunk[8..], ChannelId);
                        BinaryPrimitives.WriteUInt32LittleEndian(chunk[12..], tokenId);
                        BinaryPrimitives.WriteUInt32LittleEndian(chunk[16..], NextSequence());
                        BinaryPrimitives.WriteUInt32LittleEndian(chunk[20..], message.RequestId);
                        body[..take].CopyTo(chunk[SymmetricHeaderSize..]);
                        output.Advance(_crypto?.SealSymmetric(chunk, size) ?? size);
                        body = body[take..];
                    }
                    while (!body.IsEmpty);
                    break;
                }
        }
    }

    /// <summary>
    /// The OpenSecureChannel response: with None a plain asymmetric security header without
    /// certificates (OPC 10000-6 §6.7.2.3); otherwise our certificate and the client's thumbprint,
    /// signed with our key and encrypted with the client's. Then the new token's keys are installed.
    /// </summary>
    private void WriteOpenResponse(ArrayBufferWriter<byte> output, Outgoing message)
    {
        if (_crypto is null)
        {
            var headerBody = new ArrayBufferWriter<byte>(128);
            var e = new UaBinaryEncoder(headerBody);
            e.WriteUInt32(ChannelId);
            e.WriteString(UaTcpChannel.SecurityPolicyNone);
            e.WriteByteString(default);
            e.WriteByteString(default);
            e.WriteUInt32(NextSequence());
            e.WriteUInt32(message.RequestId);
            int size = UaTcpFraming.HeaderSize + headerBody.WrittenCount + message.Body.Length;
            Span<byte> chunk = output.GetSpan(size);
            WriteHeader(chunk, message.Type, (byte)'F', size);
            headerBody.WrittenSpan.CopyTo(chunk[UaTcpFraming.HeaderSize..]);
            message.Body.Span.CopyTo(chunk[(UaTcpFraming.HeaderSize + headerBody.WrittenCount)..]);
            output.Advance(size);
            return;
        }

        byte[] buffer = new byte[UaTcpFraming.HeaderSize + 4 + _crypto.AsymmetricOverhead + message.Body.Length];
        WriteHeader(buffer, message.Type, (byte)'F', 0);
        BinaryPrimitives.WriteUInt32LittleEndian(buffer.AsSpan(UaTcpFraming.HeaderSize), ChannelId);
        int headerEnd = _crypto.WriteAsymmetricHeader(buffer, UaTcpFraming.HeaderSize + 4);
        BinaryPrimitives.WriteUInt32LittleEndian(buffer.AsSpan(headerEnd), NextSequence());
        BinaryPrimitives.WriteUInt32LittleEndian(buffer.AsSpan(headerEnd + 4), message.RequestId);
        message.Body.Span.CopyTo(buffer.AsSpan(headerEnd + 8));
        int sealedSize = _crypto.SealAsymmetric(buffer, headerEnd, headerEnd + 8 + message.Body.Length);
        output.Write(buffer.AsSpan(0, sealedSize));
        if (message.Token is { } token)
        {
            _crypto.InstallToken(token.Id, token.ClientNonce, token.ServerNonce);
        }
    }

    private uint NextSequence()
    {
        // OPC 10000-6 §6.7.2.4: wrap to a value below 1,024 after UInt32.MaxValue - 1,024.
        _sendSequence = _sendSequence >= SequenceWrapAt ? 1 : _sendSequence + 1;
        return _sendSequence;
    }

    private static void WriteHeader(Span<byte> header, UaTcpMessageType type, byte chunkType, int size)
    {
        uint t = (uint)type;
        header[0] = (byte)t;
        header[1] = (byte)(t >> 8);
        header[2] = (byte)(t >> 16);
        header[3] = chunkType;
        BinaryPrimitives.WriteUInt32LittleEndian(header[4..], (uint)size);
    }

    private readonly record struct Outgoing(UaTcpMessageType Type, uint RequestId, ReadOnlyMemory<byte> Body, PendingToken? Token = null);

    /// <summary>A token issued in an OpenSecureChannel response: its keys are derived when the response is written.</summary>
    private sealed record PendingToken(uint Id, byte[] ClientNonce, byte[] ServerNonce);

    private sealed record Token(uint Id, DateTime CreatedAt, TimeSpan Lifetime);

    private sealed class Partial
    {
        public ArrayBufferWriter<byte> Body { get; } = new(4096);

        public int Chunks { get; set; }
    }
}
