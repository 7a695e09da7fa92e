using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using FactoryGateway.OpcUa.Encoding;
using FactoryGateway.OpcUa.Pki;
using FactoryGateway.OpcUa.Services;
using FactoryGateway.OpcUa.Transport;
using FactoryGateway.OpcUa.Transport.Security;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace FactoryGateway.OpcUa.Server;

/// <summary>A service failed as a whole: answered with a ServiceFault carrying <see cref="Status"/>.</summary>
internal sealed class UaServiceFault(StatusCode status, string? reason = null) : Exception(reason ?? status.ToString())
{
    public StatusCode Status { get; } = status;
}

/// <summary>
/// An OPC UA server subset for the factory simulator and the tests: UA-TCP with SecurityPolicy None
/// and the secure policies of <see cref="UaServerOptions.SecurityPolicyUris"/> (Sign and SignAndEncrypt), the discovery, session, view, attribute and subscription services, over a <see cref="UaAddressSpace"/>.
/// One accept loop; each connection runs its own reader and writer loops; a fault on one connection
/// closes that connection only. Sessions outlive their channel until their timeout.
/// </summary>
public sealed class UaServer : IAsyncDisposable
{
    /// <summary>The UA-TCP transport profile (OPC 10000-7).</summary>
    public const string TransportProfile = "http://opcfoundation.org/UA-Profile/Transport/uatcp-uasc-uabinary";

    private readonly ConcurrentDictionary<long, UaServerConnection> _connections = new();
    private readonly ConcurrentDictionary<NodeId, ServerSession> _sessions = new();
    private readonly ConcurrentDictionary<uint, ServerSession> _subscriptionOwners = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _connectionTasks = [];
    private readonly Lock _tasksLock = new();
    private readonly DateTime _startTime;
    private Socket? _listener;
    private Task _acceptLoop = Task.CompletedTask;
    private ITimer? _housekeeping;
    private long _nextConnectionId;
    private int _nextChannelId;
    private int _nextSubscriptionId;
    private int _nextMonitoredItemId;
    private long _connectionsAccepted;
    private long _connectionErrors;
    private long _sendQueueOverflows;
    private long _responsesTooLarge;
    private long _publishRequests;
    private long _publishResponses;
    private long _keepAlives;
    private long _serviceFaults;
    private long _certificatesRejected;

    public UaServer(UaServerOptions? options = null, UaAddressSpace? addressSpace = null, TimeProvider? time = null, ILogger<UaServer>? logger = null)
    {
        Options = (options ?? new UaServerOptions()).Validate();
        Time = time ?? TimeProvider.System;
        Logger = logger ?? (ILogger)NullLogger.Instance;
        AddressSpace = addressSpace ?? new UaAddressSpace(Options.ApplicationUri, Time);
        _startTime = Now;
        UaBaseNodes.AddServerObject(AddressSpace, Options, () => Status);
    }

    public UaServerOptions Options { get; }

    public UaAddressSpace AddressSpace { get; }

    public TimeProvider Time { get; }

    internal ILogger Logger { get; }

    internal DateTime Now => Time.GetUtcNow().UtcDateTime;

    /// <summary>The port listened on (known after <see cref="StartAsync"/>).</summary>
    public int Port { get; private set; }

    public string EndpointUrl => string.Create(CultureInfo.InvariantCulture, $"opc.tcp://{Options.HostName}:{Port}");

    public ServerState State { get; private set; } = ServerState.Running;

    public ServerStatus Status => new(_startTime, Now, State,
        new BuildInfo(Options.ProductUri, "FactoryGateway", Options.ApplicationName, typeof(UaServer).Assembly.GetName().Version?.ToString() ?? "0", "0", _startTime),
        0, LocalizedText.Null);

    public long ConnectionsAccepted => Interlocked.Read(ref _connectionsAccepted);

    /// <summary>Connections closed with an Error message (malformed input, limits, protocol faults).</summary>
    public long ConnectionErrors => Interlocked.Read(ref _connectionErrors);

    /// <summary>Connections closed because their send queue was full (overflow policy CloseConnection).</summary>
    public long SendQueueOverflows => Interlocked.Read(ref _sendQueueOverflows);

    /// <summary>Responses replaced by BadResponseTooLarge (beyond the client's MaxMessageSize or MaxChunkCount).</summary>
    public long ResponsesTooLarge => Interlocked.Read(ref _responsesTooLarge);

    /// <summary>Publish requests received (queued or refused).</summary>
    public long PublishRequests => Interlocked.Read(ref _publishRequests);

    public long PublishResponses => Interlocked.Read(ref _publishResponses);

    public long KeepAlives => Interlocked.Read(ref _keepAlives);

    public long ServiceFaults => Interlocked.Read(ref _serviceFaults);

    /// <summary>OpenSecureChannel requests refused because the client certificate failed the trust list or its checks.</summary>
    public long CertificatesRejected => Interlocked.Read(ref _certificatesRejected);

    public int ActiveSessions => _sessions.Count;

    public int ActiveConnections => _connections.Count;

    internal CertificateStore? Pki => Options.Pki;

    /// <summary>The application certificate (with its private key) of the secure endpoints.</summary>
    internal X509Certificate2? Certificate => Options.Pki?.ApplicationCertificate;

    /// <summary>Whether OpenSecureChannel may name this policy: None (always, for discovery) or an offered secure one.</summary>
    internal bool OffersPolicy(string? uri) => uri == UaTcpChannel.SecurityPolicyNone || (uri is not null && Options.SecurityPolicyUris.Contains(uri));

    /// <summary>Whether a channel may open with this policy and mode (None with None: always, for discovery).</summary>
    internal bool OffersEndpoint(string policyUri, MessageSecurityMode mode) => policyUri == UaTcpChannel.SecurityPolicyNone
        ? mode == MessageSecurityMode.None
        : Options.SecurityPolicyUris.Contains(policyUri) && mode is MessageSecurityMode.Sign or MessageSecurityMode.SignAndEncrypt;

    internal void CountCertificateRejected() => Interlocked.Increment(ref _certificatesRejected);

    /// <summary>Binds, listens and starts accepting connections.</summary>
    public Task StartAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var listener = new Socket(Options.ListenAddress.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            listener.Bind(new IPEndPoint(Options.ListenAddress, Options.Port));
            listener.Listen(128);
        }
        catch
        {
            listener.Dispose();
            throw;
        }

        _listener = listener;
        Port = ((IPEndPoint)listener.LocalEndPoint!).Port;
        _housekeeping = Time.CreateTimer(static s => ((UaServer)s!).Housekeeping(), this, Options.HousekeepingInterval, Options.HousekeepingInterval);
        _acceptLoop = Task.Run(AcceptLoopAsync, CancellationToken.None);
        UaServerLog.Listening(Logger, EndpointUrl);
        return Task.CompletedTask;
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listener!.AcceptAsync(_stop.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                if (_stop.IsCancellationRequested)
                {
                    return;
                }

                continue;
            }

            socket.NoDelay = true;
            long id = Interlocked.Increment(ref _nextConnectionId);
            var connection = new UaServerConnection(this, socket, id);
            _connections[id] = connection;
            Interlocked.Increment(ref _connectionsAccepted);
            UaServerLog.Accepted(Logger, id, connection.Remote);
            Task run = Task.Run(async () =>
            {
                try
                {
                    await connection.RunAsync();
                }
                finally
                {
                    _connections.TryRemove(id, out _);
                    connection.Dispose();
                }
            });
            lock (_tasksLock)
            {
                _connectionTasks.RemoveAll(t => t.IsCompleted);
                _connectionTasks.Add(run);
            }
        }
    }

    private void Housekeeping()
    {
        DateTime now = Now;
        foreach (UaServerConnection connection in _connections.Values)
        {
            connection.CheckExpiry(now);
        }

        foreach (ServerSession session in _sessions.Values)
        {
            lock (session.Sync)
            {
                if (now - session.LastActivity > session.Timeout)
                {
                    CloseSession(session, StatusCode.BadSessionClosed, "the session timed out");
                }
                else
                {
                    session.ExpirePublishRequests();
                }
            }
        }
    }

    internal uint NextChannelId() => (uint)Interlocked.Increment(ref _nextChannelId);

    internal uint NextSubscriptionId() => (uint)Interlocked.Increment(ref _nextSubscriptionId);

    internal uint NextMonitoredItemId() => (uint)Interlocked.Increment(ref _nextMonitoredItemId);

    internal void CountConnectionError() => Interlocked.Increment(ref _connectionErrors);

    internal void CountSendQueueOverflow() => Interlocked.Increment(ref _sendQueueOverflows);

    internal void CountResponseTooLarge() => Interlocked.Increment(ref _responsesTooLarge);

    internal void CountPublishRequest() => Interlocked.Increment(ref _publishRequests);

    internal void CountPublishResponse(bool keepAlive)
    {
        Interlocked.Increment(ref _publishResponses);
        if (keepAlive)
        {
            Interlocked.Increment(ref _keepAlives);
        }
    }

    internal void RegisterSubscription(uint id, ServerSession session) => _subscriptionOwners[id] = session;

    internal void ForgetSubscription(uint id) => _subscriptionOwners.TryRemove(id, out _);

    internal ServerSession? FindSubscriptionOwner(uint id) => _subscriptionOwners.GetValueOrDefault(id);

    internal int SessionCount => _sessions.Count;

    internal void AddSession(ServerSession session) => _sessions[session.AuthenticationToken] = session;

    internal ServerSession? FindSession(NodeId authenticationToken) => _sessions.GetValueOrDefault(authenticationToken);

    /// <summary>Closes a session (the caller holds its lock).</summary>
    internal void CloseSession(ServerSession session, StatusCode status, string reason)
    {
        if (session.Closed)
        {
            return;
        }

        _sessions.TryRemove(session.AuthenticationToken, out _);
        session.Close(status);
        UaServerLog.SessionClosed(Logger, session.SessionId.ToString(), reason);
    }

    /// <summary>
    /// The endpoints this server offers, all UA-TCP with the same user token policies: SecurityPolicy
    /// None (unless <see cref="UaServerOptions.AllowSecurityNone"/> is off), then each secure policy with
    /// Sign and SignAndEncrypt, carrying the server certificate. SecurityLevel ranks them for clients
    /// that pick the best (None 0, Sign 1, SignAndEncrypt 2, one more for RSA-PSS).
    /// </summary>
    internal IReadOnlyList<EndpointDescription> Endpoints
    {
        get
        {
            var tokens = new List<UserTokenPolicy>();
            if (Options.AllowAnonymous)
            {
                tokens.Add(new UserTokenPolicy(UaServices.AnonymousPolicyId, UserTokenType.Anonymous, null, null, null));
            }

            if (Options.UserValidator is not null)
            {
                // No token security policy: on a secure endpoint the password is encrypted under the channel's policy (OPC 10000-4 §7.41).
                tokens.Add(new UserTokenPolicy(UaServices.UserNamePolicyId, UserTokenType.UserName, null, null, null));
            }

            var endpoints = new List<EndpointDescription>();
            if (Options.AllowSecurityNone)
            {
                endpoints.Add(new EndpointDescription(EndpointUrl, Application, default, MessageSecurityMode.None, UaTcpChannel.SecurityPolicyNone, tokens, TransportProfile, 0));
            }

            ReadOnlyMemory<byte> certificate = Certificate?.RawData ?? default;
            foreach (string uri in Options.SecurityPolicyUris)
            {
                byte bonus = uri == UaSecurityPolicy.Aes256Sha256RsaPssUri ? (byte)1 : (byte)0;
                endpoints.Add(new EndpointDescription(EndpointUrl, Application, certificate, MessageSecurityMode.Sign, uri, tokens, TransportProfile, (byte)(1 + bonus)));
                endpoints.Add(new EndpointDescription(EndpointUrl, Application, certificate, MessageSecurityMode.SignAndEncrypt, uri, tokens, TransportProfile, (byte)(2 + bonus)));
            }

            return endpoints;
        }
    }

    internal ApplicationDescription Application =>
        new(Options.ApplicationUri, Options.ProductUri, new LocalizedText(null, Options.ApplicationName), ApplicationType.Server, null, null, [EndpointUrl]);

    /// <summary>Decodes a whole request and answers it on <paramref name="connection"/> (on its reader thread).</summary>
    internal void Dispatch(UaServerConnection connection, uint requestId, byte[] message)
    {
        var d = new UaBinaryDecoder(message.AsMemory(), UaDecoderLimits.Default);
        NodeId type;
        UaRequestHeader header;
        try
        {
            type = d.ReadNodeId("request type");
            header = UaServerCodec.ReadRequestHeader(ref d);
        }
        catch (UaDecodeException ex)
        {
            connection.Fail(StatusCode.BadDecodingError, "undecodable request header: " + ex.Message);
            return;
        }

        uint service = type.NamespaceIndex == 0 && type.IdType == NodeIdType.Numeric ? type.NumericIdentifier : 0;
        ReadOnlyMemory<byte> response;
        try
        {
            response = UaServices.Handle(this, connection, requestId, service, header, ref d);
        }
        catch (UaServiceFault fault)
        {
            Interlocked.Increment(ref _serviceFaults);
            response = UaServerCodec.ServiceFault(header.RequestHandle, Now, fault.Status);
        }
        catch (UaDecodeException)
        {
            Interlocked.Increment(ref _serviceFaults);
            response = UaServerCodec.ServiceFault(header.RequestHandle, Now, StatusCode.BadDecodingError);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // A defect in a service answers that request with BadInternalError; the channel and the server go on.
            Interlocked.Increment(ref _serviceFaults);
            UaServerLog.ServiceFailed(Logger, type.ToString(), ex);
            response = UaServerCodec.ServiceFault(header.RequestHandle, Now, StatusCode.BadInternalError);
        }

        if (!response.IsEmpty)
        {
            connection.SendResponse(requestId, header.RequestHandle, response);
        }
    }

    internal static NodeId NewSessionNodeId() => new(new Guid(RandomNumberGenerator.GetBytes(16)), 1);

    /// <summary>Stops listening, closes every connection and session.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_stop.IsCancellationRequested)
        {
            return;
        }

        State = ServerState.Shutdown;
        await _stop.CancelAsync();
        _housekeeping?.Dispose();
        _listener?.Dispose();
        await _acceptLoop;
        foreach (ServerSession session in _sessions.Values)
        {
            lock (session.Sync)
            {
                CloseSession(session, StatusCode.BadShutdown, "the server stopped");
            }
        }

        foreach (UaServerConnection connection in _connections.Values)
        {
            connection.Close();
        }

        Task[] running;
        lock (_tasksLock)
        {
            running = [.. _connectionTasks];
        }

        try
        {
            // Each connection sends what it has queued, then closes; one whose client stopped reading is dropped.
            await Task.WhenAll(running).WaitAsync(Options.ShutdownGrace);
        }
        catch (TimeoutException)
        {
            foreach (UaServerConnection connection in _connections.Values)
            {
                connection.Abort();
            }

            await Task.WhenAll(running);
        }

        _stop.Dispose();
    }
}
