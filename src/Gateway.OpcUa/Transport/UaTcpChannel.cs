using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Globalization;
using System.IO.Pipelines;
using System.Net.Sockets;
using FactoryGateway.OpcUa.Encoding;
using FactoryGateway.OpcUa.Transport.Security;

namespace FactoryGateway.OpcUa.Transport;

/// <summary>Reads a service response body after its ResponseHeader.</summary>
public delegate T UaResponseReader<T>(ref UaBinaryDecoder decoder);

/// <summary>The ResponseHeader of a service response (OPC 10000-4 §7.33).</summary>
public sealed record UaResponseHeader(DateTime Timestamp, uint RequestHandle, StatusCode ServiceResult, string?[] StringTable);

/// <summary>
/// A UA-TCP connection with one secure channel (OPC 10000-6 §6.7, §7.1): SecurityPolicy None, or
/// Basic256Sha256, Aes128_Sha256_RsaOaep or Aes256_Sha256_RsaPss in mode Sign or SignAndEncrypt
/// (<see cref="UaChannelSecurity"/>; the chunk cryptography is in <see cref="SecureChannelCrypto"/>).
/// One reader loop takes chunks off the socket, reassembles messages per request id and completes
/// the request waiting for them; senders serialise on a lock and split bodies into chunks within
/// the negotiated sizes. The security token is renewed at 75% of its lifetime. A transport fault
/// fails every pending request and completes <see cref="Completion"/>; the channel is not reused.
/// </summary>
public sealed class UaTcpChannel : IAsyncDisposable
{
    /// <summary>The SecurityPolicy URI of None (OPC 10000-7).</summary>
    public const string SecurityPolicyNone = "http://opcfoundation.org/UA/SecurityPolicy#None";

    private const int SymmetricHeaderSize = UaTcpFraming.HeaderSize + 16; // channel id, token id, sequence number, request id
    private const uint OpenSecureChannelRequestId = 446;
    private const uint OpenSecureChannelResponseId = 449;
    private const uint CloseSecureChannelRequestId = 452;
    private const uint ServiceFaultId = 397;

    // OPC 10000-6 §6.7.2.4: sequence numbers wrap to a value below 1,024 after UInt32.MaxValue - 1,024.
    private const uint SequenceWrapAt = uint.MaxValue - 1024;

    private readonly TcpClient _tcp;
    private readonly NetworkStream _stream;
    private readonly PipeReader _reader;
    private readonly UaChannelOptions _options;
    private readonly UaDecoderLimits _limits;
    private readonly TimeProvider _time;
    private readonly SecureChannelCrypto? _crypto;
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly SemaphoreSlim _slots;
    private readonly ConcurrentDictionary<uint, Pending> _pending = new();
    private readonly CancellationTokenSource _shutdown = new();
    private readonly TaskCompletionSource<UaTcpAcknowledgeInfo> _ack = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task _readLoop = Task.CompletedTask;
    private ITimer? _renewTimer;
    private Exception? _fault;
    private uint _sendSequence;
    private uint _lastReceivedSequence;
    private bool _receivedAny;
    private int _requestId;
    private int _requestHandle;
    private uint _sendChunkSize;
    private uint _serverMaxMessageSize;
    private uint _serverMaxChunkCount;
    private long _lateResponses;
    private long _renewals;

    private UaTcpChannel(TcpClient tcp, string endpointUrl, UaChannelOptions options, UaDecoderLimits limits, TimeProvider time, SecureChannelCrypto? crypto)
    {
        _crypto = crypto;
        _tcp = tcp;
        _stream = tcp.GetStream();
        _reader = PipeReader.Create(_stream, new StreamPipeReaderOptions(bufferSize: options.ReceiveBufferSize, minimumReadSize: 4096, leaveOpen: true));
        EndpointUrl = endpointUrl;
        _options = options;
        _limits = limits;
        _time = time;
        _slots = new SemaphoreSlim(options.MaxPendingRequests, options.MaxPendingRequests);
    }

    public string EndpointUrl { get; }

    /// <summary>The channel's security (null for SecurityPolicy None).</summary>
    public UaChannelSecurity? Security => _crypto?.Security;

    /// <summary>The SecurityPolicy URI the channel uses.</summary>
    public string SecurityPolicyUri => _crypto?.Policy.Uri ?? SecurityPolicyNone;

    public uint ChannelId { get; private set; }

    public uint TokenId { get; private set; }

    /// <summary>The token lifetime the server granted.</summary>
    public TimeSpan TokenLifetime { get; private set; }

    /// <summary>Token renewals completed.</summary>
    public long Renewals => Interlocked.Read(ref _renewals);

    /// <summary>Raised after a token renewal completes (on a pool thread).</summary>
    public event EventHandler? TokenRenewed;

    /// <summary>Responses that arrived after their request had timed out (dropped).</summary>
    public long LateResponses => Interlocked.Read(ref _lateResponses);

    /// <summary>The sizes agreed in Hello/Acknowledge.</summary>
    public UaTcpAcknowledgeInfo Negotiated { get; private set; } = new(0, 0, 0, 0, 0);

    /// <summary>Completes when the channel stops, faulted or closed.</summary>
    public Task Completion => _completion.Task;

    public bool IsOpen => _fault is null;

    /// <summary>Why the channel stopped (null while open).</summary>
    public Exception? Error => _fault;

    internal UaDecoderLimits DecoderLimits => _limits;

    internal TimeProvider Time => _time;

    internal TimeSpan DefaultTimeout => _options.RequestTimeout;

    /// <summary>Connects, exchanges Hello/Acknowledge and opens a secure channel with SecurityPolicy None.</summary>
    public static Task<UaTcpChannel> OpenAsync(string endpointUrl, UaChannelOptions? options = null, TimeProvider? time = null, UaDecoderLimits? limits = null, CancellationToken cancellationToken = default) =>
        OpenAsync(endpointUrl, security: null, options, time, limits, cancellationToken);

    /// <summary>
    /// Connects, exchanges Hello/Acknowledge and opens a secure channel: with SecurityPolicy None when
    /// <paramref name="security"/> is null, otherwise signed (and encrypted) as it says. The caller has
    /// validated the server certificate in <paramref name="security"/> against its trust list.
    /// </summary>
    public static async Task<UaTcpChannel> OpenAsync(
        string endpointUrl, UaChannelSecurity? security, UaChannelOptions? options = null, TimeProvider? time = null, UaDecoderLimits? limits = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(endpointUrl);
        options = (options ?? new UaChannelOptions()).Validate();
        time ??= TimeProvider.System;
        limits ??= UaDecoderLimits.Default;
        if (!Uri.TryCreate(endpointUrl, UriKind.Absolute, out Uri? uri) || uri.Scheme != "opc.tcp" || string.IsNullOrEmpty(uri.Host))
        {
            throw new UaServiceException(StatusCode.BadTcpEndpointUrlInvalid, $"'{endpointUrl}' is not an opc.tcp:// URL.");
        }

        if (System.Text.Encoding.UTF8.GetByteCount(endpointUrl) > 4096)
        {
            throw new UaServiceException(StatusCode.BadTcpEndpointUrlInvalid, "the endpoint URL is longer than 4,096 bytes (OPC 10000-6 §7.1.2.3).");
        }

        using var connectTimeout = new CancellationTokenSource(options.ConnectTimeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, connectTimeout.Token);
        var tcp = new TcpClient { NoDelay = true };
        UaTcpChannel? channel = null;
        SecureChannelCrypto? crypto = null;
        try
        {
            crypto = security is null ? null : new SecureChannelCrypto(security);
            string host = uri.IdnHost;
            await tcp.ConnectAsync(host, uri.Port < 0 ? 4840 : uri.Port, linked.Token);
            channel = new UaTcpChannel(tcp, endpointUrl, options, limits, time, crypto);
            channel._readLoop = Task.Run(channel.ReadLoopAsync, CancellationToken.None);
            await channel.HelloAsync(linked.Token);
            await channel.OpenSecureChannelAsync(renew: false, linked.Token);
            return channel;
        }
        catch (OperationCanceledException) when (connectTimeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            await DisposeQuietly(channel, tcp);
            throw new UaServiceException(StatusCode.BadTimeout, $"connecting to {endpointUrl} took longer than {options.ConnectTimeout.TotalSeconds:0.#} s.");
        }
        catch (SocketException ex)
        {
            await DisposeQuietly(channel, tcp);
            throw new UaServiceException(StatusCode.BadCommunicationError, $"cannot connect to {endpointUrl}: {ex.Message}", ex);
        }
        catch
        {
            await DisposeQuietly(channel, tcp);
            if (channel is null)
            {
                crypto?.Dispose();
            }

            throw;
        }
    }

    private static async Task DisposeQuietly(UaTcpChannel? channel, TcpClient tcp)
    {
        if (channel is not null)
        {
            await channel.DisposeAsync();
        }
        else
        {
            tcp.Dispose();
        }
    }

    private async Task HelloAsync(CancellationToken cancellationToken)
    {
        byte[] url = System.Text.Encoding.UTF8.GetBytes(EndpointUrl);
        byte[] hello = new byte[32 + url.Length];
        "HELF"u8.CopyTo(hello);
        BinaryPrimitives.WriteUInt32LittleEndian(hello.AsSpan(4), (uint)hello.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(hello.AsSpan(8), 0); // ProtocolVersion
        BinaryPrimitives.WriteUInt32LittleEndian(hello.AsSpan(12), (uint)_options.ReceiveBufferSize);
        BinaryPrimitives.WriteUInt32LittleEndian(hello.AsSpan(16), (uint)_options.SendBufferSize);
        BinaryPrimitives.WriteUInt32LittleEndian(hello.AsSpan(20), (uint)_options.MaxMessageSize);
        BinaryPrimitives.WriteUInt32LittleEndian(hello.AsSpan(24), (uint)_options.MaxChunkCount);
        BinaryPrimitives.WriteInt32LittleEndian(hello.AsSpan(28), url.Length);
        url.CopyTo(hello, 32);
        await _stream.WriteAsync(hello, cancellationToken);
        UaTcpAcknowledgeInfo ack = await _ack.Task.WaitAsync(cancellationToken);
        // OPC 10000-6 §7.1.2.4: the client sends chunks no larger than the server's ReceiveBufferSize.
        _sendChunkSize = Math.Min((uint)_options.SendBufferSize, ack.ReceiveBufferSize);
        if (_sendChunkSize < 8192 || ack.SendBufferSize > _options.ReceiveBufferSize)
        {
            throw Fault(new UaServiceException(StatusCode.BadTcpInternalError, $"the server's Acknowledge sizes are invalid (receive {ack.ReceiveBufferSize}, send {ack.SendBufferSize})."));
        }

        _serverMaxMessageSize = ack.MaxMessageSize;
        _serverMaxChunkCount = ack.MaxChunkCount;
        Negotiated = ack;
    }

    private async Task OpenSecureChannelAsync(bool renew, CancellationToken cancellationToken)
    {
        var body = new ArrayBufferWriter<byte>(128);
        var encoder = new UaBinaryEncoder(body);
        uint handle = NextHandle();
        // OPC 10000-6 §6.7.4: a fresh client nonce for every token; none with SecurityPolicy None.
        byte[] clientNonce = _crypto is null ? [] : System.Security.Cryptography.RandomNumberGenerator.GetBytes(_crypto.Policy.NonceLength);
        encoder.WriteNodeId(new NodeId(OpenSecureChannelRequestId));
        WriteRequestHeader(encoder, NodeId.Null, handle, _options.RequestTimeout);
        encoder.WriteUInt32(0);                 // ClientProtocolVersion
        encoder.WriteInt32(renew ? 1 : 0);      // RequestType: Issue / Renew
        encoder.WriteInt32(_crypto?.Security.MessageSecurityMode ?? 1); // MessageSecurityMode: None 1, Sign 2, SignAndEncrypt 3
        encoder.WriteByteString(clientNonce);
        encoder.WriteUInt32((uint)_options.RequestedTokenLifetime.TotalMilliseconds);
        byte[] response = await ExchangeAsync(UaTcpMessageType.OpenSecureChannel, body.WrittenMemory, _options.RequestTimeout, cancellationToken);
        (uint channelId, uint tokenId, uint lifetime, byte[] serverNonce) = DecodeResponse(response, OpenSecureChannelResponseId, handle, static (ref UaBinaryDecoder d) =>
        {
            d.ReadUInt32("OpenSecureChannelResponse.ServerProtocolVersion");
            uint channel = d.ReadUInt32("SecurityToken.ChannelId");
            uint token = d.ReadUInt32("SecurityToken.TokenId");
            d.ReadDateTime("SecurityToken.CreatedAt");
            uint revised = d.ReadUInt32("SecurityToken.RevisedLifetime");
            byte[] nonce = d.ReadByteString("OpenSecureChannelResponse.ServerNonce").ToArray();
            return (channel, token, revised, nonce);
        });
        if (renew && channelId != ChannelId)
        {
            throw Fault(new UaServiceException(StatusCode.BadSecureChannelIdInvalid, $"the renewed token names channel {channelId}, not {ChannelId}."));
        }

        if (_crypto is not null)
        {
            try
            {
                // From here on the client sends with the new token; the server's chunks under the
                // previous token stay acceptable until it switches (OPC 10000-4 §5.5.2).
                _crypto.InstallToken(tokenId, clientNonce, serverNonce);
            }
            catch (UaServiceException ex)
            {
                throw Fault(ex);
            }
        }

        ChannelId = channelId;
        TokenId = tokenId;
        TokenLifetime = TimeSpan.FromMilliseconds(Math.Max(lifetime, 1000));
        ScheduleRenewal();
        if (renew)
        {
            Interlocked.Increment(ref _renewals);
            TokenRenewed?.Invoke(this, EventArgs.Empty);
        }
    }

    private void ScheduleRenewal()
    {
        // OPC 10000-4 §5.5.2: renew after 75% of the lifetime has passed.
        TimeSpan due = TokenLifetime * 0.75;
        _renewTimer?.Dispose();
        _renewTimer = _time.CreateTimer(static state => ((UaTcpChannel)state!).RenewInBackground(), this, due, Timeout.InfiniteTimeSpan);
    }

    private void RenewInBackground()
    {
        if (_fault is not null)
        {
            return;
        }

        _ = Task.Run(async () =>
        {
            try
            {
                await OpenSecureChannelAsync(renew: true, _shutdown.Token);
            }
            catch (Exception ex) when (ex is UaServiceException or OperationCanceledException or IOException or UaDecodeException or ObjectDisposedException)
            {
                Fault(ex is UaServiceException ? ex : new UaServiceException(StatusCode.BadSecureChannelClosed, "renewing the security token failed.", ex));
            }
        });
    }

    /// <summary>Renews the security token now (normally the channel does this at 75% of the lifetime).</summary>
    public Task RenewAsync(CancellationToken cancellationToken = default) => OpenSecureChannelAsync(renew: true, cancellationToken);

    internal uint NextHandle() => unchecked((uint)Interlocked.Increment(ref _requestHandle));

    internal void WriteRequestHeader(UaBinaryEncoder encoder, NodeId authenticationToken, uint handle, TimeSpan timeout)
    {
        encoder.WriteNodeId(authenticationToken);
        encoder.WriteDateTime(_time.GetUtcNow().UtcDateTime);
        encoder.WriteUInt32(handle);
        encoder.WriteUInt32(0);       // ReturnDiagnostics: none
        encoder.WriteString(null);    // AuditEntryId
        encoder.WriteUInt32((uint)Math.Min(timeout.TotalMilliseconds, uint.MaxValue)); // TimeoutHint
        encoder.WriteExtensionObject(null); // AdditionalHeader
    }

    /// <summary>
    /// Sends one service request and decodes its response. <paramref name="writeBody"/> writes the
    /// fields after the RequestHeader; <paramref name="read"/> reads the fields after the ResponseHeader.
    /// A ServiceFault or bad ServiceResult throws <see cref="UaServiceException"/>, as do a timeout
    /// (BadTimeout), a closed channel and an undecodable response (BadDecodingError).
    /// </summary>
    public async Task<T> RequestAsync<T>(
        uint requestEncodingId, uint responseEncodingId, NodeId authenticationToken, Action<UaBinaryEncoder> writeBody, UaResponseReader<T> read,
        TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(writeBody);
        ArgumentNullException.ThrowIfNull(read);
        TimeSpan limit = timeout ?? _options.RequestTimeout;
        var body = new ArrayBufferWriter<byte>(256);
        var encoder = new UaBinaryEncoder(body);
        uint handle = NextHandle();
        encoder.WriteNodeId(new NodeId(requestEncodingId));
        WriteRequestHeader(encoder, authenticationToken, handle, limit);
        writeBody(encoder);
        byte[] response = await ExchangeAsync(UaTcpMessageType.Message, body.WrittenMemory, limit, cancellationToken);
        return DecodeResponse(response, responseEncodingId, handle, read);
    }

    private T DecodeResponse<T>(byte[] response, uint responseEncodingId, uint handle, UaResponseReader<T> read)
    {
        try
        {
            var decoder = new UaBinaryDecoder(response.AsMemory(), _limits);
            NodeId type = decoder.ReadNodeId("response type");
            UaResponseHeader header = ReadResponseHeader(ref decoder);
            if (type.NamespaceIndex == 0 && type.IdType == NodeIdType.Numeric && type.NumericIdentifier == ServiceFaultId)
            {
                throw new UaServiceException(header.ServiceResult, "the server answered with a ServiceFault.");
            }

            if (type.NamespaceIndex != 0 || type.IdType != NodeIdType.Numeric || type.NumericIdentifier != responseEncodingId)
            {
                throw new UaServiceException(StatusCode.BadUnknownResponse, $"expected response type i={responseEncodingId}, got {type}.");
            }

            if (header.RequestHandle != handle)
            {
                throw new UaServiceException(StatusCode.BadUnknownResponse, $"the response carries request handle {header.RequestHandle}, not {handle}.");
            }

            if (header.ServiceResult.IsBad)
            {
                throw new UaServiceException(header.ServiceResult, $"the server rejected the request (response type i={responseEncodingId}).");
            }

            return read(ref decoder);
        }
        catch (UaDecodeException ex)
        {
            throw new UaServiceException(StatusCode.BadDecodingError, $"the response could not be decoded: {ex.Message}", ex);
        }
    }

    internal static UaResponseHeader ReadResponseHeader(ref UaBinaryDecoder decoder)
    {
        DateTime timestamp = decoder.ReadDateTime("ResponseHeader.Timestamp");
        uint handle = decoder.ReadUInt32("ResponseHeader.RequestHandle");
        StatusCode result = decoder.ReadStatusCode("ResponseHeader.ServiceResult");
        decoder.ReadDiagnosticInfo("ResponseHeader.ServiceDiagnostics");
        string?[] strings = decoder.ReadStringArray("ResponseHeader.StringTable");
        decoder.ReadExtensionObject("ResponseHeader.AdditionalHeader");
        return new UaResponseHeader(timestamp, handle, result, strings);
    }

    private async Task<byte[]> ExchangeAsync(UaTcpMessageType type, ReadOnlyMemory<byte> body, TimeSpan timeout, CancellationToken cancellationToken)
    {
        ThrowIfFaulted();
        using var timeoutCts = new CancellationTokenSource(timeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeoutCts.Token, _shutdown.Token);
        try
        {
            await _slots.WaitAsync(linked.Token);
        }
        catch (OperationCanceledException) when (timeoutCts.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new UaServiceException(StatusCode.BadTimeout, $"no request slot became free within {timeout.TotalSeconds:0.###} s (MaxPendingRequests {_options.MaxPendingRequests}).");
        }
        catch (OperationCanceledException) when (_fault is not null && !cancellationToken.IsCancellationRequested)
        {
            ThrowIfFaulted();
            throw;
        }

        uint requestId = unchecked((uint)Interlocked.Increment(ref _requestId));
        var pending = new Pending();
        _pending[requestId] = pending;
        try
        {
            ThrowIfFaulted();
            await SendAsync(type, requestId, body, linked.Token);
            using (linked.Token.UnsafeRegister(static s => ((Pending)s!).Completion.TrySetCanceled(), pending))
            {
                return await pending.Completion.Task;
            }
        }
        catch (OperationCanceledException) when (timeoutCts.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new UaServiceException(StatusCode.BadTimeout, $"no response within {timeout.TotalSeconds:0.###} s.");
        }
        catch (OperationCanceledException) when (_fault is not null && !cancellationToken.IsCancellationRequested)
        {
            ThrowIfFaulted();
            throw;
        }
        finally
        {
            _pending.TryRemove(requestId, out _);
            _slots.Release();
        }
    }

    private void ThrowIfFaulted()
    {
        if (_fault is { } fault)
        {
            throw fault is UaServiceException s
                ? new UaServiceException(s.Status, s.Message.Length > 0 ? "the channel is closed: " + s.Message : "the channel is closed.", fault)
                : new UaServiceException(StatusCode.BadConnectionClosed, "the channel is closed: " + fault.Message, fault);
        }
    }

    private async Task SendAsync(UaTcpMessageType type, uint requestId, ReadOnlyMemory<byte> body, CancellationToken cancellationToken)
    {
        int maxBody = _crypto?.MaxSymmetricBody((int)_sendChunkSize) ?? (int)_sendChunkSize - SymmetricHeaderSize;
        int chunks = type == UaTcpMessageType.Message ? Math.Max(1, (body.Length + maxBody - 1) / maxBody) : 1;
        if (_serverMaxMessageSize != 0 && body.Length > _serverMaxMessageSize)
        {
            throw new UaServiceException(StatusCode.BadRequestTooLarge, $"the request body is {body.Length} bytes; the server's MaxMessageSize is {_serverMaxMessageSize}.");
        }

        if (_serverMaxChunkCount != 0 && chunks > _serverMaxChunkCount)
        {
            throw new UaServiceException(StatusCode.BadRequestTooLarge, $"the request needs {chunks} chunks; the server's MaxChunkCount is {_serverMaxChunkCount}.");
        }

        byte[] buffer = ArrayPool<byte>.Shared.Rent(type == UaTcpMessageType.OpenSecureChannel ? body.Length + 256 + (_crypto?.AsymmetricOverhead ?? 0) : (int)_sendChunkSize);
        await _sendLock.WaitAsync(cancellationToken);
        try
        {
            int offset = 0;
            for (int i = 0; i < chunks; i++)
            {
                int length = type == UaTcpMessageType.Message ? Math.Min(maxBody, body.Length - offset) : body.Length;
                bool final = i == chunks - 1;
                int size = WriteChunk(buffer, type, final, requestId, body.Span.Slice(offset, length));
                // A chunk is written whole or the channel is faulted: never cancel mid-chunk.
                await _stream.WriteAsync(buffer.AsMemory(0, size), CancellationToken.None);
                offset += length;
            }
        }
        catch (IOException ex)
        {
            throw Fault(new UaServiceException(StatusCode.BadConnectionClosed, "sending failed: " + ex.Message, ex));
        }
        finally
        {
            _sendLock.Release();
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private int WriteChunk(byte[] buffer, UaTcpMessageType type, bool final, uint requestId, ReadOnlySpan<byte> body)
    {
        Span<byte> span = buffer;
        span[0] = (byte)((uint)type & 0xFF);
        span[1] = (byte)(((uint)type >> 8) & 0xFF);
        span[2] = (byte)(((uint)type >> 16) & 0xFF);
        span[3] = final ? (byte)'F' : (byte)'C';
        int at = 8;
        BinaryPrimitives.WriteUInt32LittleEndian(span[at..], ChannelId);
        at += 4;
        int securityHeaderEnd;
        if (type == UaTcpMessageType.OpenSecureChannel && _crypto is not null)
        {
            // Asymmetric security header (OPC 10000-6 §6.7.2.3): policy URI, our certificate, the server certificate's thumbprint.
            at = _crypto.WriteAsymmetricHeader(span, at);
        }
        else if (type == UaTcpMessageType.OpenSecureChannel)
        {
            // Asymmetric security header (OPC 10000-6 §6.7.2.3): policy URI, no certificate, no thumbprint.
            int uriLength = System.Text.Encoding.UTF8.GetBytes(SecurityPolicyNone, span[(at + 4)..]);
            BinaryPrimitives.WriteInt32LittleEndian(span[at..], uriLength);
            at += 4 + uriLength;
            BinaryPrimitives.WriteInt32LittleEndian(span[at..], -1);
            BinaryPrimitives.WriteInt32LittleEndian(span[(at + 4)..], -1);
            at += 8;
        }
        else
        {
            BinaryPrimitives.WriteUInt32LittleEndian(span[at..], TokenId);
            at += 4;
        }

        securityHeaderEnd = at;
        _sendSequence = _sendSequence >= SequenceWrapAt ? 1 : _sendSequence + 1;
        BinaryPrimitives.WriteUInt32LittleEndian(span[at..], _sendSequence);
        BinaryPrimitives.WriteUInt32LittleEndian(span[(at + 4)..], requestId);
        at += 8;
        body.CopyTo(span[at..]);
        at += body.Length;
        if (_crypto is not null)
        {
            return type == UaTcpMessageType.OpenSecureChannel ? _crypto.SealAsymmetric(buffer, securityHeaderEnd, at) : _crypto.SealSymmetric(span, at);
        }

        BinaryPrimitives.WriteUInt32LittleEndian(span[4..], (uint)at);
        return at;
    }

    private async Task ReadLoopAsync()
    {
        Exception? error = null;
        try
        {
            while (true)
            {
                ReadResult result = await _reader.ReadAsync(_shutdown.Token);
                ReadOnlySequence<byte> buffer = result.Buffer;
                SequencePosition consumed = buffer.Start;
                try
                {
                    var reader = new SequenceReader<byte>(buffer);
                    while (UaTcpFraming.TryReadChunk(ref reader, (uint)_options.ReceiveBufferSize, out UaTcpChunk chunk))
                    {
                        HandleChunk(chunk);
                        consumed = reader.Position;
                    }
                }
                finally
                {
                    _reader.AdvanceTo(consumed, buffer.End);
                }

                if (result.IsCompleted || result.IsCanceled)
                {
                    error = new UaServiceException(StatusCode.BadConnectionClosed, "the server closed the connection.");
                    break;
                }
            }
        }
        catch (OperationCanceledException) when (_shutdown.IsCancellationRequested)
        {
            error = new UaServiceException(StatusCode.BadSecureChannelClosed, "the channel was closed.");
        }
        catch (Exception ex) when (ex is UaTcpFramingException or UaDecodeException or UaServiceException)
        {
            error = ex is UaServiceException ? ex : new UaServiceException(StatusCode.BadTcpMessageTypeInvalid, ex.Message, ex);
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException)
        {
            error = new UaServiceException(StatusCode.BadConnectionClosed, "the connection failed: " + ex.Message, ex);
        }

        Fault(error);
        await _reader.CompleteAsync();
    }

    private void HandleChunk(UaTcpChunk chunk)
    {
        if (_crypto is not null && chunk.MessageType is UaTcpMessageType.OpenSecureChannel or UaTcpMessageType.Message or UaTcpMessageType.CloseSecureChannel)
        {
            HandleProtectedChunk(chunk);
            return;
        }

        ReadOnlySpan<byte> span = chunk.ContiguousBody(out byte[]? rented);

        try
        {
            switch (chunk.MessageType)
            {
                case UaTcpMessageType.Acknowledge:
                    HandleAcknowledge(span);
                    break;
                case UaTcpMessageType.Error:
                    {
                        var d = new UaBinaryDecoder(span, _limits);
                        StatusCode status = d.ReadStatusCode("Error.Error");
                        string? reason = d.ReadString("Error.Reason");
                        throw new UaServiceException(status, $"the server sent Error: {reason}");
                    }

                case UaTcpMessageType.OpenSecureChannel:
                case UaTcpMessageType.Message:
                case UaTcpMessageType.CloseSecureChannel:
                    HandleSecureChunk(chunk.MessageType, chunk.ChunkType, span);
                    break;
                default:
                    throw new UaServiceException(StatusCode.BadTcpMessageTypeInvalid, $"unexpected {chunk.MessageType} message from the server.");
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

    /// <summary>
    /// A chunk of a signed (and encrypted) channel: copied whole (header included, as the signature
    /// covers it) into a pooled buffer, decrypted and verified there, then handled like a plain chunk.
    /// </summary>
    private void HandleProtectedChunk(UaTcpChunk chunk)
    {
        int size = (int)chunk.Body.Length + UaTcpFraming.HeaderSize;
        byte[] buffer = ArrayPool<byte>.Shared.Rent(size);
        try
        {
            uint type = (uint)chunk.MessageType;
            buffer[0] = (byte)type;
            buffer[1] = (byte)(type >> 8);
            buffer[2] = (byte)(type >> 16);
            buffer[3] = chunk.ChunkType;
            BinaryPrimitives.WriteUInt32LittleEndian(buffer.AsSpan(4), (uint)size);
            chunk.Body.CopyTo(buffer.AsSpan(UaTcpFraming.HeaderSize));
            if (size < SymmetricHeaderSize)
            {
                throw new UaServiceException(StatusCode.BadSecurityChecksFailed, $"a {size}-byte chunk is too short for its security header.");
            }

            int end = chunk.MessageType == UaTcpMessageType.OpenSecureChannel
                ? _crypto!.OpenAsymmetric(buffer.AsSpan(0, size))
                : _crypto!.OpenSymmetric(buffer.AsSpan(0, size));
            HandleSecureChunk(chunk.MessageType, chunk.ChunkType, buffer.AsSpan(UaTcpFraming.HeaderSize, end - UaTcpFraming.HeaderSize));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private void HandleAcknowledge(ReadOnlySpan<byte> span)
    {
        var d = new UaBinaryDecoder(span, _limits);
        var ack = new UaTcpAcknowledgeInfo(
            d.ReadUInt32("Acknowledge.ProtocolVersion"), d.ReadUInt32("Acknowledge.ReceiveBufferSize"), d.ReadUInt32("Acknowledge.SendBufferSize"),
            d.ReadUInt32("Acknowledge.MaxMessageSize"), d.ReadUInt32("Acknowledge.MaxChunkCount"));
        if (!_ack.TrySetResult(ack))
        {
            throw new UaServiceException(StatusCode.BadTcpMessageTypeInvalid, "a second Acknowledge arrived.");
        }
    }

    private void HandleSecureChunk(UaTcpMessageType type, byte chunkType, ReadOnlySpan<byte> span)
    {
        var d = new UaBinaryDecoder(span, _limits);
        uint channelId = d.ReadUInt32("SecureChannelId");
        if (type == UaTcpMessageType.OpenSecureChannel)
        {
            string? policy = d.ReadString("SecurityPolicyUri");
            if (policy != SecurityPolicyUri)
            {
                throw new UaServiceException(StatusCode.BadSecurityChecksFailed, $"the server answered with security policy '{policy}', not {SecurityPolicyUri}.");
            }

            d.ReadByteString("SenderCertificate");
            d.ReadByteString("ReceiverCertificateThumbprint");
        }
        else
        {
            if (channelId != ChannelId)
            {
                throw new UaServiceException(StatusCode.BadTcpSecureChannelUnknown, $"a chunk for channel {channelId} arrived on channel {ChannelId}.");
            }

            // Any token the server issued on this channel is accepted: after a renewal the server may
            // use the old token until it sees the new one (OPC 10000-4 §5.5.2).
            d.ReadUInt32("TokenId");
        }

        uint sequence = d.ReadUInt32("SequenceNumber");
        uint requestId = d.ReadUInt32("RequestId");
        CheckSequence(sequence);
        ReadOnlySpan<byte> payload = span[d.Position..];
        if (!_pending.TryGetValue(requestId, out Pending? pending))
        {
            if (chunkType != (byte)'C')
            {
                Interlocked.Increment(ref _lateResponses);
            }

            return;
        }

        if (chunkType == (byte)'A')
        {
            var abort = new UaBinaryDecoder(payload, _limits);
            StatusCode status = abort.ReadStatusCode("Abort.Error");
            string? reason = abort.ReadString("Abort.Reason");
            pending.Completion.TrySetException(new UaServiceException(status, $"the server aborted the response: {reason}"));
            return;
        }

        if (pending.Discarding)
        {
            return;
        }

        pending.Chunks++;
        long total = (pending.Assembly?.WrittenCount ?? 0) + payload.Length;
        if (pending.Chunks > _options.MaxChunkCount || total > _options.MaxMessageSize)
        {
            pending.Discarding = chunkType == (byte)'C';
            pending.Assembly = null;
            pending.Completion.TrySetException(new UaServiceException(StatusCode.BadResponseTooLarge,
                string.Create(CultureInfo.InvariantCulture, $"the response exceeds MaxChunkCount {_options.MaxChunkCount} or MaxMessageSize {_options.MaxMessageSize}.")));
            return;
        }

        if (chunkType == (byte)'C')
        {
            pending.Assembly ??= new ArrayBufferWriter<byte>(Math.Max(payload.Length * 2, 1024));
            pending.Assembly.Write(payload);
            return;
        }

        byte[] message;
        if (pending.Assembly is null)
        {
            message = payload.ToArray();
        }
        else
        {
            pending.Assembly.Write(payload);
            message = pending.Assembly.WrittenSpan.ToArray();
            pending.Assembly = null;
        }

        pending.Completion.TrySetResult(message);
    }

    private void CheckSequence(uint sequence)
    {
        if (_receivedAny)
        {
            bool next = sequence == _lastReceivedSequence + 1 || (_lastReceivedSequence >= SequenceWrapAt && sequence < 1024);
            if (!next)
            {
                throw new UaServiceException(StatusCode.BadSequenceNumberInvalid, $"sequence number {sequence} follows {_lastReceivedSequence}.");
            }
        }

        _receivedAny = true;
        _lastReceivedSequence = sequence;
    }

    private Exception Fault(Exception? error)
    {
        error ??= new UaServiceException(StatusCode.BadConnectionClosed, "the channel stopped.");
        if (Interlocked.CompareExchange(ref _fault, error, null) is { } earlier)
        {
            return earlier;
        }

        _renewTimer?.Dispose();
        _ack.TrySetException(error);
        foreach (KeyValuePair<uint, Pending> entry in _pending)
        {
            entry.Value.Completion.TrySetException(error is UaServiceException s
                ? new UaServiceException(s.Status, s.Message, error)
                : new UaServiceException(StatusCode.BadConnectionClosed, error.Message, error));
        }

        try
        {
            _shutdown.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }

        _tcp.Client.Close();
        _completion.TrySetResult();
        return error;
    }

    /// <summary>Sends CloseSecureChannel (no response is expected) and closes the connection.</summary>
    public async Task CloseAsync(CancellationToken cancellationToken = default)
    {
        if (_fault is null && ChannelId != 0)
        {
            var body = new ArrayBufferWriter<byte>(64);
            var encoder = new UaBinaryEncoder(body);
            encoder.WriteNodeId(new NodeId(CloseSecureChannelRequestId));
            WriteRequestHeader(encoder, NodeId.Null, NextHandle(), _options.RequestTimeout);
            try
            {
                await SendAsync(UaTcpMessageType.CloseSecureChannel, unchecked((uint)Interlocked.Increment(ref _requestId)), body.WrittenMemory, cancellationToken);
            }
            catch (UaServiceException)
            {
                // Already broken: closing is all that is left.
            }
        }

        Fault(new UaServiceException(StatusCode.BadSecureChannelClosed, "the channel was closed."));
        await _readLoop;
    }

    public async ValueTask DisposeAsync()
    {
        Fault(new UaServiceException(StatusCode.BadSecureChannelClosed, "the channel was disposed."));
        await _readLoop;
        _tcp.Dispose();
        _renewTimer?.Dispose();
        _crypto?.Dispose();

        // _shutdown (cancelled by Fault), _sendLock and _slots are not disposed: a request still in flight when the
        // channel is disposed finishes afterwards (its answer faulted with the channel's error) and releases its
        // slot and send lock then, and a request that starts now must meet the channel's error, not an
        // ObjectDisposedException. They own no OS handle (no AvailableWaitHandle is taken), so the GC has them.
    }

    private sealed class Pending
    {
        public TaskCompletionSource<byte[]> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public ArrayBufferWriter<byte>? Assembly { get; set; }

        public int Chunks { get; set; }

        public bool Discarding { get; set; }
    }
}

/// <summary>The fields of Acknowledge (OPC 10000-6 §7.1.2.4): the server's limits for this connection.</summary>
public sealed record UaTcpAcknowledgeInfo(uint ProtocolVersion, uint ReceiveBufferSize, uint SendBufferSize, uint MaxMessageSize, uint MaxChunkCount);
