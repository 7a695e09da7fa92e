using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using FactoryGateway.OpcUa.Encoding;
using FactoryGateway.OpcUa.Services;
using FactoryGateway.OpcUa.Transport;
using FactoryGateway.OpcUa.Transport.Security;

namespace FactoryGateway.OpcUa.Client;

/// <summary>
/// A client session over one secure channel (OPC 10000-4 §5.6): CreateSession/ActivateSession,
/// Browse/BrowseNext, Read, subscriptions and the Publish pipeline. Requests larger than the
/// configured per-call limits are split. A channel fault fails the calls in flight with
/// <see cref="UaServiceException"/>; reconnecting is the caller's (a later connection actor's) job.
/// </summary>
public sealed partial class UaSession : IAsyncDisposable
{
    private readonly UaTcpChannel _channel;
    private readonly UaSessionOptions _options;
    private readonly ConcurrentDictionary<uint, UaSubscription> _subscriptions = new();
    private readonly CancellationTokenSource _closing = new();
    private readonly Lock _ackLock = new();
    private readonly List<(uint SubscriptionId, uint SequenceNumber)> _acks = [];
    private readonly SemaphoreSlim _dispatchLock = new(1, 1);
    private readonly TimeProvider _time;
    private ITimer? _keepAliveTimer;
    private long _keepAliveReads;
    private int _publishWorkers;
    private long _publishResponses;
    private bool _closed;

    private UaSession(UaTcpChannel channel, UaSessionOptions options, TimeProvider time)
    {
        _channel = channel;
        _options = options;
        _time = time;
        // When the channel stops, every subscription's consumer sees why instead of waiting forever.
        _ = channel.Completion.ContinueWith(
            static (_, state) =>
            {
                var session = (UaSession)state!;
                Exception error = session._channel.Error ?? new UaServiceException(StatusCode.BadConnectionClosed, "the channel stopped.");
                session.FailSubscriptions(error as UaServiceException ?? new UaServiceException(StatusCode.BadConnectionClosed, error.Message, error));
            },
            this, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    private void FailSubscriptions(UaServiceException error)
    {
        if (_closed)
        {
            return;
        }

        foreach (UaSubscription s in _subscriptions.Values)
        {
            s.Complete(error);
        }
    }

    public NodeId SessionId { get; private set; } = NodeId.Null;

    internal NodeId AuthenticationToken { get; private set; } = NodeId.Null;

    public TimeSpan RevisedSessionTimeout { get; private set; }

    public IReadOnlyList<EndpointDescription> ServerEndpoints { get; private set; } = [];

    /// <summary>The server's operation limits, read after activation (zeros where the server sets none or does not say).</summary>
    public OperationLimits ServerLimits { get; private set; } = OperationLimits.None;

    public UaTcpChannel Channel => _channel;

    /// <summary>Publish responses received.</summary>
    public long PublishResponses => Interlocked.Read(ref _publishResponses);

    /// <summary>The last error that stopped a Publish worker (null while publishing runs normally).</summary>
    public Exception? PublishFault { get; private set; }

    /// <summary>Asks a server for its endpoints (GetEndpoints on a temporary channel).</summary>
    public static async Task<IReadOnlyList<EndpointDescription>> GetEndpointsAsync(string endpointUrl, UaChannelOptions? options = null, TimeProvider? time = null, CancellationToken cancellationToken = default)
    {
        await using UaTcpChannel channel = await UaTcpChannel.OpenAsync(endpointUrl, options, time, null, cancellationToken);
        EndpointDescription[] endpoints = await channel.RequestAsync(
            ServiceIds.GetEndpointsRequest, ServiceIds.GetEndpointsResponse, NodeId.Null,
            e =>
            {
                e.WriteString(endpointUrl);
                e.WriteInt32(-1); // LocaleIds
                e.WriteInt32(-1); // ProfileUris
            },
            static (ref UaBinaryDecoder d) => d.ReadArray("GetEndpointsResponse.Endpoints", static (ref UaBinaryDecoder x, string f) => StructureCodec.ReadEndpointDescription(ref x), 30),
            cancellationToken: cancellationToken);
        await channel.CloseAsync(cancellationToken);
        return endpoints;
    }

    /// <summary>
    /// Opens a channel (SecurityPolicy None, or the configured secure endpoint after checking its
    /// certificate against the PKI), creates and activates a session.
    /// </summary>
    public static async Task<UaSession> ConnectAsync(string endpointUrl, UaSessionOptions? options = null, TimeProvider? time = null, CancellationToken cancellationToken = default)
    {
        options = (options ?? new UaSessionOptions()).Validate();
        Transport.Security.UaChannelSecurity? security = await SessionSecurity.ResolveAsync(endpointUrl, options, time, cancellationToken);
        UaTcpChannel channel = await UaTcpChannel.OpenAsync(endpointUrl, security, options.Channel, time, options.DecoderLimits, cancellationToken);
        var session = new UaSession(channel, options, time ?? TimeProvider.System);
        try
        {
            await session.CreateAndActivateAsync(endpointUrl, cancellationToken);
            await session.ReadOperationLimitsAsync(cancellationToken);
            session.StartKeepAlive();
            return session;
        }
        catch
        {
            await channel.DisposeAsync();
            throw;
        }
    }

    private async Task CreateAndActivateAsync(string endpointUrl, CancellationToken cancellationToken)
    {
        byte[] clientNonce = RandomNumberGenerator.GetBytes(32);
        var client = new ApplicationDescription(_options.ApplicationUri, _options.ProductUri, new LocalizedText(null, _options.ApplicationName), ApplicationType.Client, null, null, []);
        CreateSessionResult created = await _channel.RequestAsync(
            ServiceIds.CreateSessionRequest, ServiceIds.CreateSessionResponse, NodeId.Null,
            e =>
            {
                StructureCodec.WriteApplicationDescription(e, client);
                e.WriteString(null);                      // ServerUri
                e.WriteString(endpointUrl);
                e.WriteString(_options.SessionName);
                e.WriteByteString(clientNonce);
                e.WriteByteString(_channel.Security?.ClientCertificate.RawData); // ClientCertificate: none with SecurityPolicy None
                e.WriteDouble(_options.RequestedSessionTimeout.TotalMilliseconds);
                e.WriteUInt32((uint)_options.Channel.MaxMessageSize);
            },
            static (ref UaBinaryDecoder d) =>
            {
                NodeId sessionId = d.ReadNodeId("CreateSessionResponse.SessionId");
                NodeId token = d.ReadNodeId("CreateSessionResponse.AuthenticationToken");
                double timeout = d.ReadDouble("CreateSessionResponse.RevisedSessionTimeout");
                ReadOnlyMemory<byte> nonce = d.ReadByteString("CreateSessionResponse.ServerNonce");
                ReadOnlyMemory<byte> certificate = d.ReadByteString("CreateSessionResponse.ServerCertificate");
                EndpointDescription[] endpoints = d.ReadArray("CreateSessionResponse.ServerEndpoints", static (ref UaBinaryDecoder x, string f) => StructureCodec.ReadEndpointDescription(ref x), 30);
                d.ReadArray("CreateSessionResponse.ServerSoftwareCertificates", static (ref UaBinaryDecoder x, string f) => (x.ReadByteString(f), x.ReadByteString(f)), 8);
                string? algorithm = d.ReadString("ServerSignature.Algorithm");
                byte[] signature = d.ReadByteString("ServerSignature.Signature").ToArray();
                return new CreateSessionResult(sessionId, token, timeout, nonce.ToArray(), certificate.ToArray(), endpoints) { SignatureAlgorithm = algorithm, Signature = signature };
            },
            cancellationToken: cancellationToken);

        SessionId = created.SessionId;
        AuthenticationToken = created.AuthenticationToken;
        RevisedSessionTimeout = TimeSpan.FromMilliseconds(created.RevisedSessionTimeout);
        ServerEndpoints = created.Endpoints;
        (string? Algorithm, byte[]? Signature) clientSignature = (null, null);
        if (_channel.Security is { } security)
        {
            SessionSecurity.VerifyServerSignature(security, created.ServerCertificate, created.ServerNonce, created.SignatureAlgorithm, created.Signature, clientNonce);
            SessionSecurity.VerifyServerEndpoints(security, _options.SecurityMode, created.Endpoints);
            clientSignature = SessionSecurity.ClientSignature(security, created.ServerCertificate, created.ServerNonce);
        }

        (ExtensionObject token, string? userAlgorithm, byte[]? userSignature) = CreateIdentityToken(created);
        await _channel.RequestAsync(
            ServiceIds.ActivateSessionRequest, ServiceIds.ActivateSessionResponse, AuthenticationToken,
            e =>
            {
                e.WriteString(clientSignature.Algorithm);
                e.WriteByteString(clientSignature.Signature);
                e.WriteInt32(-1);           // ClientSoftwareCertificates
                e.WriteArray(["en"], static (w, s) => w.WriteString(s)); // LocaleIds
                e.WriteExtensionObject(token);
                e.WriteString(userAlgorithm);
                e.WriteByteString(userSignature);
            },
            static (ref UaBinaryDecoder d) =>
            {
                d.ReadByteString("ActivateSessionResponse.ServerNonce");
                StatusCode[] results = d.ReadStatusCodeArray("ActivateSessionResponse.Results");
                d.ReadDiagnosticInfoArray("ActivateSessionResponse.DiagnosticInfos");
                return results;
            },
            cancellationToken: cancellationToken);
    }

    private (ExtensionObject Token, string? SignatureAlgorithm, byte[]? Signature) CreateIdentityToken(CreateSessionResult created)
    {
        UserIdentity identity = _options.Identity;
        // The endpoint this channel uses: its security policy and mode over opc.tcp.
        string channelPolicy = _channel.SecurityPolicyUri;
        UserTokenPolicy? policy = created.Endpoints
            .Where(e => e.SecurityPolicyUri == channelPolicy && e.SecurityMode == _options.SecurityMode)
            .SelectMany(e => e.UserIdentityTokens)
            .FirstOrDefault(p => p.TokenType == identity.TokenType);
        if (policy is null)
        {
            throw new UaServiceException(StatusCode.BadIdentityTokenRejected, $"the server offers no {identity.TokenType} user token policy on its {channelPolicy} {_options.SecurityMode} endpoint.");
        }

        if (identity.TokenType == UserTokenType.Anonymous)
        {
            return (new ExtensionObject(new IdentityTokenBody(ServiceIds.AnonymousIdentityToken, e => e.WriteString(policy.PolicyId))), null, null);
        }

        if (identity.Certificate is { } user)
        {
            (string algorithm, byte[] signature) = SessionSecurity.UserTokenSignature(user, policy.SecurityPolicyUri, channelPolicy, created.ServerCertificate, created.ServerNonce);
            return (new ExtensionObject(new IdentityTokenBody(ServiceIds.X509IdentityToken, e =>
            {
                e.WriteString(policy.PolicyId);
                e.WriteByteString(user.RawData);
            })), algorithm, signature);
        }

        // OPC 10000-4 §7.41: a token policy without a security policy uses the endpoint's.
        string? tokenPolicy = string.IsNullOrEmpty(policy.SecurityPolicyUri) ? channelPolicy : policy.SecurityPolicyUri;
        (byte[] secret, string? algorithm2) = EncryptPassword(identity.Password!, tokenPolicy, created);
        return (new ExtensionObject(new IdentityTokenBody(ServiceIds.UserNameIdentityToken, e =>
        {
            e.WriteString(policy.PolicyId);
            e.WriteString(identity.UserName);
            e.WriteByteString(secret, emptyAsNull: false);
            e.WriteString(algorithm2);
        })), null, null);
    }

    /// <summary>
    /// The UserNameIdentityToken secret (OPC 10000-4 §7.41.2.3): plain UTF-8 when the token policy has
    /// no security policy (or None); otherwise length + password + server nonce, RSA-encrypted with the
    /// server certificate's key using the policy's asymmetric encryption algorithm (OPC 10000-7).
    /// </summary>
    private static (byte[] Secret, string? Algorithm) EncryptPassword(string password, string? securityPolicyUri, CreateSessionResult created)
    {
        byte[] plain = System.Text.Encoding.UTF8.GetBytes(password);
        if (string.IsNullOrEmpty(securityPolicyUri) || securityPolicyUri == UaTcpChannel.SecurityPolicyNone)
        {
            return (plain, null);
        }

        (RSAEncryptionPadding padding, string algorithm, int overhead) = securityPolicyUri switch
        {
            "http://opcfoundation.org/UA/SecurityPolicy#Aes256_Sha256_RsaPss" => (RSAEncryptionPadding.OaepSHA256, "http://opcfoundation.org/UA/security/rsa-oaep-sha2-256", 66),
            "http://opcfoundation.org/UA/SecurityPolicy#Basic128Rsa15" => (RSAEncryptionPadding.Pkcs1, "http://www.w3.org/2001/04/xmlenc#rsa-1_5", 11),
            _ => (RSAEncryptionPadding.OaepSHA1, "http://www.w3.org/2001/04/xmlenc#rsa-oaep", 42),
        };
        if (created.ServerCertificate.Length == 0)
        {
            throw new UaServiceException(StatusCode.BadIdentityTokenInvalid, "the server sent no certificate to encrypt the password with.");
        }

        using X509Certificate2 certificate = X509CertificateLoader.LoadCertificate(SecureChannelCrypto.FirstCertificate(created.ServerCertificate));
        using RSA rsa = certificate.GetRSAPublicKey() ?? throw new UaServiceException(StatusCode.BadCertificateInvalid, "the server certificate has no RSA key.");
        return (SessionCrypto.EncryptSecret(rsa, padding, overhead, plain, created.ServerNonce), algorithm);
    }

    private async Task ReadOperationLimitsAsync(CancellationToken cancellationToken)
    {
        IReadOnlyList<DataValue> values = await ReadAsync(
            [
                new ReadValueId(WellKnownNodes.MaxNodesPerRead), new ReadValueId(WellKnownNodes.MaxNodesPerBrowse), new ReadValueId(WellKnownNodes.MaxNodesPerRegisterNodes),
                new ReadValueId(WellKnownNodes.MaxNodesPerTranslateBrowsePathsToNodeIds), new ReadValueId(WellKnownNodes.MaxMonitoredItemsPerCall),
            ],
            TimestampsToReturn.Neither, cancellationToken: cancellationToken);
        ServerLimits = new OperationLimits(Limit(values[0]), Limit(values[1]), Limit(values[2]), Limit(values[3]), Limit(values[4]));

        static uint Limit(DataValue value) =>
            value.Status.IsGood && value.Value.TryGetInt64(out long limit) && limit > 0 && limit <= uint.MaxValue ? (uint)limit : 0;
    }

    /// <summary>The batch size for a service: the configured limit, lowered to the server's operation limit when that is smaller.</summary>
    private static int BatchSize(int configured, uint serverLimit) => serverLimit == 0 ? configured : (int)Math.Min(configured, serverLimit);

    /// <summary>Reads attributes; requests over <see cref="UaSessionOptions.MaxNodesPerCall"/> (or the server's MaxNodesPerRead) are split.</summary>
    public async Task<IReadOnlyList<DataValue>> ReadAsync(IReadOnlyList<ReadValueId> nodes, TimestampsToReturn timestamps = TimestampsToReturn.Both, double maxAge = 0, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        var results = new List<DataValue>(nodes.Count);
        int size = BatchSize(_options.MaxNodesPerCall, ServerLimits.MaxNodesPerRead);
        for (int start = 0; start < nodes.Count; start += size)
        {
            ReadValueId[] batch = nodes.Skip(start).Take(size).ToArray();
            DataValue[] values = await _channel.RequestAsync(
                ServiceIds.ReadRequest, ServiceIds.ReadResponse, AuthenticationToken,
                e =>
                {
                    e.WriteDouble(maxAge);
                    e.WriteInt32((int)timestamps);
                    e.WriteArray(batch, WriteReadValueId);
                },
                static (ref UaBinaryDecoder d) =>
                {
                    DataValue[] r = d.ReadArray("ReadResponse.Results", static (ref UaBinaryDecoder x, string f) => x.ReadDataValue(f));
                    d.ReadDiagnosticInfoArray("ReadResponse.DiagnosticInfos");
                    return r;
                },
                cancellationToken: cancellationToken);
            if (values.Length != batch.Length)
            {
                throw new UaServiceException(StatusCode.BadUnknownResponse, $"Read returned {values.Length} results for {batch.Length} nodes.");
            }

            results.AddRange(values);
        }

        return results;
    }

    public async Task<DataValue> ReadValueAsync(NodeId nodeId, CancellationToken cancellationToken = default) =>
        (await ReadAsync([new ReadValueId(nodeId)], cancellationToken: cancellationToken))[0];

    /// <summary>The server's namespace array (Server.NamespaceArray, i=2255).</summary>
    public async Task<IReadOnlyList<string>> ReadNamespaceArrayAsync(CancellationToken cancellationToken = default)
    {
        DataValue value = await ReadValueAsync(WellKnownNodes.ServerNamespaceArray, cancellationToken);
        if (value.Status.IsBad || value.Value.Value is not string?[] uris)
        {
            throw new UaServiceException(value.Status.IsBad ? value.Status : StatusCode.BadUnknownResponse, "the namespace array could not be read.");
        }

        return uris.Select(u => u ?? string.Empty).ToArray();
    }

    /// <summary>The server's status (Server.ServerStatus, i=2256).</summary>
    public async Task<ServerStatus> ReadServerStatusAsync(CancellationToken cancellationToken = default)
    {
        DataValue value = await ReadValueAsync(WellKnownNodes.ServerStatus, cancellationToken);
        if (value.Value.Value is ExtensionObject { Value: ServerStatus status })
        {
            return status;
        }

        throw new UaServiceException(value.Status.IsBad ? value.Status : StatusCode.BadUnknownResponse, $"ServerStatus read as {value.Value}.");
    }

    internal static void WriteReadValueId(UaBinaryEncoder e, ReadValueId id)
    {
        e.WriteNodeId(id.NodeId);
        e.WriteUInt32(id.AttributeId);
        e.WriteString(id.IndexRange);
        e.WriteQualifiedName(id.DataEncoding);
    }

    /// <summary>Browses nodes (one BrowseResult each); follow continuation points with <see cref="BrowseNextAsync"/>.</summary>
    public async Task<IReadOnlyList<BrowseResult>> BrowseAsync(IReadOnlyList<BrowseDescription> nodes, uint maxReferencesPerNode = 0, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        var results = new List<BrowseResult>(nodes.Count);
        int size = BatchSize(_options.MaxNodesPerCall, ServerLimits.MaxNodesPerBrowse);
        for (int start = 0; start < nodes.Count; start += size)
        {
            BrowseDescription[] batch = nodes.Skip(start).Take(size).ToArray();
            BrowseResult[] page = await _channel.RequestAsync(
                ServiceIds.BrowseRequest, ServiceIds.BrowseResponse, AuthenticationToken,
                e =>
                {
                    e.WriteNodeId(NodeId.Null); // View.ViewId
                    e.WriteDateTime(default);   // View.Timestamp
                    e.WriteUInt32(0);           // View.ViewVersion
                    e.WriteUInt32(maxReferencesPerNode);
                    e.WriteArray(batch, static (w, b) =>
                    {
                        w.WriteNodeId(b.NodeId);
                        w.WriteInt32((int)b.Direction);
                        w.WriteNodeId(b.ReferenceTypeId);
                        w.WriteBoolean(b.IncludeSubtypes);
                        w.WriteUInt32(b.NodeClassMask);
                        w.WriteUInt32(b.ResultMask);
                    });
                },
                ReadBrowseResults("BrowseResponse.Results"),
                cancellationToken: cancellationToken);
            results.AddRange(page);
        }

        return results;
    }

    public Task<IReadOnlyList<BrowseResult>> BrowseNextAsync(IReadOnlyList<ReadOnlyMemory<byte>> continuationPoints, bool releaseContinuationPoints = false, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(continuationPoints);
        return BrowseNextCoreAsync(continuationPoints, releaseContinuationPoints, cancellationToken);
    }

    private async Task<IReadOnlyList<BrowseResult>> BrowseNextCoreAsync(IReadOnlyList<ReadOnlyMemory<byte>> continuationPoints, bool release, CancellationToken cancellationToken) =>
        await _channel.RequestAsync(
            ServiceIds.BrowseNextRequest, ServiceIds.BrowseNextResponse, AuthenticationToken,
            e =>
            {
                e.WriteBoolean(release);
                e.WriteArray(continuationPoints, static (w, c) => w.WriteByteString(c.Span, emptyAsNull: false));
            },
            ReadBrowseResults("BrowseNextResponse.Results"),
            cancellationToken: cancellationToken);

    private static UaResponseReader<BrowseResult[]> ReadBrowseResults(string field) => (ref UaBinaryDecoder d) =>
    {
        BrowseResult[] r = d.ReadArray(field, static (ref UaBinaryDecoder x, string f) => StructureCodec.ReadBrowseResult(ref x), 12);
        d.ReadDiagnosticInfoArray("DiagnosticInfos");
        return r;
    };

    /// <summary>Every reference of one node, following continuation points to the end.</summary>
    public async Task<IReadOnlyList<ReferenceDescription>> BrowseAllAsync(BrowseDescription node, uint maxReferencesPerNode = 0, CancellationToken cancellationToken = default)
    {
        var all = new List<ReferenceDescription>();
        BrowseResult result = (await BrowseAsync([node], maxReferencesPerNode, cancellationToken))[0];
        while (true)
        {
            if (result.Status.IsBad)
            {
                throw new UaServiceException(result.Status, $"browsing {node.NodeId} failed.");
            }

            all.AddRange(result.References);
            if (result.ContinuationPoint.IsEmpty)
            {
                return all;
            }

            result = (await BrowseNextAsync([result.ContinuationPoint], false, cancellationToken))[0];
        }
    }

    /// <summary>
    /// Resolves browse paths to node ids (TranslateBrowsePathsToNodeIds), split by the server's limit.
    /// Each path follows hierarchical references forward, subtypes included.
    /// </summary>
    public async Task<IReadOnlyList<BrowsePathResult>> TranslateBrowsePathsAsync(IReadOnlyList<BrowsePath> paths, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(paths);
        var results = new List<BrowsePathResult>(paths.Count);
        int size = BatchSize(_options.MaxNodesPerCall, ServerLimits.MaxNodesPerTranslateBrowsePathsToNodeIds);
        for (int start = 0; start < paths.Count; start += size)
        {
            BrowsePath[] batch = paths.Skip(start).Take(size).ToArray();
            BrowsePathResult[] page = await _channel.RequestAsync(
                ServiceIds.TranslateBrowsePathsToNodeIdsRequest, ServiceIds.TranslateBrowsePathsToNodeIdsResponse, AuthenticationToken,
                e => e.WriteArray(batch, static (w, path) =>
                {
                    w.WriteNodeId(path.StartingNode);
                    w.WriteArray(path.Path, static (x, name) =>
                    {
                        x.WriteNodeId(WellKnownNodes.HierarchicalReferences);
                        x.WriteBoolean(false); // IsInverse
                        x.WriteBoolean(true);  // IncludeSubtypes
                        x.WriteQualifiedName(name);
                    });
                }),
                static (ref UaBinaryDecoder d) =>
                {
                    BrowsePathResult[] r = d.ReadArray("TranslateBrowsePathsToNodeIdsResponse.Results", static (ref UaBinaryDecoder x, string f) =>
                    {
                        StatusCode status = x.ReadStatusCode(f);
                        BrowsePathTarget[] targets = x.ReadArray("BrowsePathResult.Targets", static (ref UaBinaryDecoder y, string g) =>
                            new BrowsePathTarget(y.ReadExpandedNodeId(g), y.ReadUInt32(g)), 6);
                        return new BrowsePathResult(status, targets);
                    }, 8);
                    d.ReadDiagnosticInfoArray("TranslateBrowsePathsToNodeIdsResponse.DiagnosticInfos");
                    return r;
                },
                cancellationToken: cancellationToken);
            if (page.Length != batch.Length)
            {
                throw new UaServiceException(StatusCode.BadUnknownResponse, $"TranslateBrowsePathsToNodeIds returned {page.Length} results for {batch.Length} paths.");
            }

            results.AddRange(page);
        }

        return results;
    }

    /// <summary>Registers nodes for repeated access (RegisterNodes); use the returned ids, in request order, in later calls.</summary>
    public async Task<IReadOnlyList<NodeId>> RegisterNodesAsync(IReadOnlyList<NodeId> nodes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        var results = new List<NodeId>(nodes.Count);
        int size = BatchSize(_options.MaxNodesPerCall, ServerLimits.MaxNodesPerRegisterNodes);
        for (int start = 0; start < nodes.Count; start += size)
        {
            NodeId[] batch = nodes.Skip(start).Take(size).ToArray();
            NodeId[] page = await _channel.RequestAsync(
                ServiceIds.RegisterNodesRequest, ServiceIds.RegisterNodesResponse, AuthenticationToken,
                e => e.WriteArray(batch, static (w, id) => w.WriteNodeId(id)),
                static (ref UaBinaryDecoder d) => d.ReadArray("RegisterNodesResponse.RegisteredNodeIds", static (ref UaBinaryDecoder x, string f) => x.ReadNodeId(f), 2),
                cancellationToken: cancellationToken);
            if (page.Length != batch.Length)
            {
                throw new UaServiceException(StatusCode.BadUnknownResponse, $"RegisterNodes returned {page.Length} ids for {batch.Length} nodes.");
            }

            results.AddRange(page);
        }

        return results;
    }

    /// <summary>Releases nodes registered with <see cref="RegisterNodesAsync"/>.</summary>
    public async Task UnregisterNodesAsync(IReadOnlyList<NodeId> nodes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        int size = BatchSize(_options.MaxNodesPerCall, ServerLimits.MaxNodesPerRegisterNodes);
        for (int start = 0; start < nodes.Count; start += size)
        {
            NodeId[] batch = nodes.Skip(start).Take(size).ToArray();
            await _channel.RequestAsync(
                ServiceIds.UnregisterNodesRequest, ServiceIds.UnregisterNodesResponse, AuthenticationToken,
                e => e.WriteArray(batch, static (w, id) => w.WriteNodeId(id)),
                static (ref UaBinaryDecoder d) => true,
                cancellationToken: cancellationToken);
        }
    }

    /// <summary>Creates a subscription; the session's Publish pipeline starts with the first one.</summary>
    public async Task<UaSubscription> CreateSubscriptionAsync(UaSubscriptionOptions? options = null, CancellationToken cancellationToken = default)
    {
        options = (options ?? new UaSubscriptionOptions()).Validate();
        (uint id, double interval, uint lifetime, uint keepAlive) = await _channel.RequestAsync(
            ServiceIds.CreateSubscriptionRequest, ServiceIds.CreateSubscriptionResponse, AuthenticationToken,
            e =>
            {
                e.WriteDouble(options.PublishingInterval);
                e.WriteUInt32(options.LifetimeCount);
                e.WriteUInt32(options.MaxKeepAliveCount);
                e.WriteUInt32(options.MaxNotificationsPerPublish);
                e.WriteBoolean(true);
                e.WriteByte(options.Priority);
            },
            static (ref UaBinaryDecoder d) => (
                d.ReadUInt32("CreateSubscriptionResponse.SubscriptionId"), d.ReadDouble("CreateSubscriptionResponse.RevisedPublishingInterval"),
                d.ReadUInt32("CreateSubscriptionResponse.RevisedLifetimeCount"), d.ReadUInt32("CreateSubscriptionResponse.RevisedMaxKeepAliveCount")),
            cancellationToken: cancellationToken);
        var subscription = new UaSubscription(this, id, interval, lifetime, keepAlive, options.MessageBufferCapacity, _options.PublishRequests);
        _subscriptions[id] = subscription;
        EnsurePublishing();
        return subscription;
    }

    internal async Task<IReadOnlyList<MonitoredItemResult>> CreateMonitoredItemsAsync(uint subscriptionId, IReadOnlyList<MonitoredItemRequest> items, CancellationToken cancellationToken)
    {
        var results = new List<MonitoredItemResult>(items.Count);
        int size = BatchSize(_options.MaxMonitoredItemsPerCall, ServerLimits.MaxMonitoredItemsPerCall);
        for (int start = 0; start < items.Count; start += size)
        {
            MonitoredItemRequest[] batch = items.Skip(start).Take(size).ToArray();
            var filters = batch.Select(i => i.Filter is null ? null : new ExtensionObject(i.Filter)).ToArray();
            (StatusCode Status, uint Id, double Sampling, uint Queue, EventFilterResult? FilterResult)[] page = await _channel.RequestAsync(
                ServiceIds.CreateMonitoredItemsRequest, ServiceIds.CreateMonitoredItemsResponse, AuthenticationToken,
                e =>
                {
                    e.WriteUInt32(subscriptionId);
                    e.WriteInt32((int)TimestampsToReturn.Both);
                    e.WriteInt32(batch.Length);
                    for (int i = 0; i < batch.Length; i++)
                    {
                        MonitoredItemRequest item = batch[i];
                        WriteReadValueId(e, item.ItemToMonitor);
                        e.WriteInt32((int)item.MonitoringMode);
                        e.WriteUInt32(item.ClientHandle);
                        e.WriteDouble(item.SamplingInterval);
                        e.WriteExtensionObject(filters[i]);
                        e.WriteUInt32(item.QueueSize);
                        e.WriteBoolean(item.DiscardOldest);
                    }
                },
                static (ref UaBinaryDecoder d) =>
                {
                    var r = d.ReadArray("CreateMonitoredItemsResponse.Results", static (ref UaBinaryDecoder x, string f) =>
                    {
                        StatusCode status = x.ReadStatusCode(f);
                        uint id = x.ReadUInt32(f);
                        double sampling = x.ReadDouble(f);
                        uint queue = x.ReadUInt32(f);
                        ExtensionObject filterResult = x.ReadExtensionObject(f);
                        return (status, id, sampling, queue, filterResult.Value as EventFilterResult);
                    }, 23);
                    d.ReadDiagnosticInfoArray("CreateMonitoredItemsResponse.DiagnosticInfos");
                    return r;
                },
                cancellationToken: cancellationToken);
            if (page.Length != batch.Length)
            {
                throw new UaServiceException(StatusCode.BadUnknownResponse, $"CreateMonitoredItems returned {page.Length} results for {batch.Length} items.");
            }

            for (int i = 0; i < page.Length; i++)
            {
                results.Add(new MonitoredItemResult(batch[i].ClientHandle, page[i].Status, page[i].Id, page[i].Sampling, page[i].Queue) { EventFilterResult = page[i].FilterResult });
            }
        }

        return results;
    }

    /// <summary>Calls methods (OPC 10000-4 §5.11.2); one result per request, in order. A method's own failure is in its result's status.</summary>
    public async Task<IReadOnlyList<CallMethodResult>> CallAsync(IReadOnlyList<CallMethodRequest> methods, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(methods);
        CallMethodResult[] results = await _channel.RequestAsync(
            ServiceIds.CallRequest, ServiceIds.CallResponse, AuthenticationToken,
            e => e.WriteArray(methods, static (w, m) =>
            {
                w.WriteNodeId(m.ObjectId);
                w.WriteNodeId(m.MethodId);
                w.WriteArray(m.InputArguments, static (x, v) => x.WriteVariant(v));
            }),
            static (ref UaBinaryDecoder d) =>
            {
                CallMethodResult[] r = d.ReadArray("CallResponse.Results", static (ref UaBinaryDecoder x, string f) =>
                {
                    StatusCode status = x.ReadStatusCode("CallMethodResult.StatusCode");
                    StatusCode[] inputs = x.ReadStatusCodeArray("CallMethodResult.InputArgumentResults");
                    x.ReadDiagnosticInfoArray("CallMethodResult.InputArgumentDiagnosticInfos");
                    Variant[] outputs = x.ReadArray("CallMethodResult.OutputArguments", static (ref UaBinaryDecoder y, string g) => y.ReadVariant(g), 1);
                    return new CallMethodResult(status, inputs, outputs);
                }, 16);
                d.ReadDiagnosticInfoArray("CallResponse.DiagnosticInfos");
                return r;
            },
            cancellationToken: cancellationToken);
        if (results.Length != methods.Count)
        {
            throw new UaServiceException(StatusCode.BadUnknownResponse, $"Call returned {results.Length} results for {methods.Count} methods.");
        }

        return results;
    }

    internal Task<(double Interval, uint Lifetime, uint KeepAlive)> ModifySubscriptionAsync(uint subscriptionId, UaSubscriptionOptions options, CancellationToken cancellationToken) =>
        _channel.RequestAsync(
            ServiceIds.ModifySubscriptionRequest, ServiceIds.ModifySubscriptionResponse, AuthenticationToken,
            e =>
            {
                e.WriteUInt32(subscriptionId);
                e.WriteDouble(options.PublishingInterval);
                e.WriteUInt32(options.LifetimeCount);
                e.WriteUInt32(options.MaxKeepAliveCount);
                e.WriteUInt32(options.MaxNotificationsPerPublish);
                e.WriteByte(options.Priority);
            },
            static (ref UaBinaryDecoder d) => (
                d.ReadDouble("ModifySubscriptionResponse.RevisedPublishingInterval"), d.ReadUInt32("ModifySubscriptionResponse.RevisedLifetimeCount"),
                d.ReadUInt32("ModifySubscriptionResponse.RevisedMaxKeepAliveCount")),
            cancellationToken: cancellationToken);

    internal async Task<IReadOnlyList<StatusCode>> DeleteMonitoredItemsAsync(uint subscriptionId, IReadOnlyList<uint> monitoredItemIds, CancellationToken cancellationToken)
    {
        var results = new List<StatusCode>(monitoredItemIds.Count);
        int size = BatchSize(_options.MaxMonitoredItemsPerCall, ServerLimits.MaxMonitoredItemsPerCall);
        for (int start = 0; start < monitoredItemIds.Count; start += size)
        {
            uint[] batch = monitoredItemIds.Skip(start).Take(size).ToArray();
            StatusCode[] page = await _channel.RequestAsync(
                ServiceIds.DeleteMonitoredItemsRequest, ServiceIds.DeleteMonitoredItemsResponse, AuthenticationToken,
                e =>
                {
                    e.WriteUInt32(subscriptionId);
                    e.WriteArray(batch, static (w, id) => w.WriteUInt32(id));
                },
                static (ref UaBinaryDecoder d) =>
                {
                    StatusCode[] r = d.ReadStatusCodeArray("DeleteMonitoredItemsResponse.Results");
                    d.ReadDiagnosticInfoArray("DeleteMonitoredItemsResponse.DiagnosticInfos");
                    return r;
                },
                cancellationToken: cancellationToken);
            results.AddRange(page);
        }

        return results;
    }

    internal async Task DeleteSubscriptionAsync(uint subscriptionId, CancellationToken cancellationToken)
    {
        _subscriptions.TryRemove(subscriptionId, out _);
        StatusCode[] results = await _channel.RequestAsync(
            ServiceIds.DeleteSubscriptionsRequest, ServiceIds.DeleteSubscriptionsResponse, AuthenticationToken,
            e => e.WriteArray([subscriptionId], static (w, id) => w.WriteUInt32(id)),
            static (ref UaBinaryDecoder d) =>
            {
                StatusCode[] r = d.ReadStatusCodeArray("DeleteSubscriptionsResponse.Results");
                d.ReadDiagnosticInfoArray("DeleteSubscriptionsResponse.DiagnosticInfos");
                return r;
            },
            cancellationToken: cancellationToken);
        if (results.Length == 1 && results[0].IsBad)
        {
            throw new UaServiceException(results[0], $"deleting subscription {subscriptionId} failed.");
        }
    }

    private void EnsurePublishing()
    {
        while (true)
        {
            int workers = Volatile.Read(ref _publishWorkers);
            if (workers >= _options.PublishRequests || _closing.IsCancellationRequested)
            {
                return;
            }

            if (Interlocked.CompareExchange(ref _publishWorkers, workers + 1, workers) == workers)
            {
                _ = Task.Run(PublishWorkerAsync);
            }
        }
    }

    private TimeSpan PublishTimeout()
    {
        double longest = 0;
        foreach (UaSubscription s in _subscriptions.Values)
        {
            longest = Math.Max(longest, s.PublishingInterval * s.MaxKeepAliveCount);
        }

        // The server holds a Publish request up to one keep-alive period; allow three before giving up.
        return TimeSpan.FromMilliseconds(Math.Max(_options.Channel.RequestTimeout.TotalMilliseconds, 3 * longest));
    }

    private async Task PublishWorkerAsync()
    {
        try
        {
            while (!_closing.IsCancellationRequested && !_subscriptions.IsEmpty)
            {
                (uint, uint)[] acks;
                lock (_ackLock)
                {
                    acks = [.. _acks];
                    _acks.Clear();
                }

                PublishResult result;
                try
                {
                    result = await _channel.RequestAsync(
                        ServiceIds.PublishRequest, ServiceIds.PublishResponse, AuthenticationToken,
                        e => e.WriteArray(acks, static (w, a) =>
                        {
                            w.WriteUInt32(a.Item1);
                            w.WriteUInt32(a.Item2);
                        }),
                        StructureCodec.ReadPublishResult, PublishTimeout(), _closing.Token);
                }
                catch (UaServiceException ex) when (ex.Status.CodeBits is StatusCode.BadTimeout)
                {
                    Requeue(acks);
                    continue;
                }
                catch (UaServiceException ex) when (ex.Status.CodeBits is StatusCode.BadTooManyPublishRequests or StatusCode.BadNoSubscription)
                {
                    // Fewer outstanding requests suffice (the server said so), or no subscription is left.
                    Requeue(acks);
                    return;
                }
                catch (UaServiceException ex)
                {
                    PublishFault = ex;
                    if (!_channel.IsOpen || ex.Status.CodeBits is StatusCode.BadSessionClosed or StatusCode.BadSessionIdInvalid or StatusCode.BadSessionNotActivated)
                    {
                        // The channel or the session is gone: consumers see the error instead of waiting forever.
                        FailSubscriptions(ex);
                    }

                    return;
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                Interlocked.Increment(ref _publishResponses);
                if (DropNotificationForTests?.Invoke(result.Message) == true)
                {
                    continue; // as if the response were lost on the way: not acknowledged, not delivered
                }

                await DispatchAsync(result);
            }
        }
        finally
        {
            Interlocked.Decrement(ref _publishWorkers);
        }
    }

    private void Requeue((uint, uint)[] acks)
    {
        lock (_ackLock)
        {
            _acks.AddRange(acks);
        }
    }

    private async Task DispatchAsync(PublishResult result)
    {
        if (!result.Message.IsKeepAlive)
        {
            lock (_ackLock)
            {
                _acks.Add((result.SubscriptionId, result.Message.SequenceNumber));
            }
        }

        if (!_subscriptions.TryGetValue(result.SubscriptionId, out UaSubscription? subscription))
        {
            return;
        }

        // One dispatcher at a time, so that messages reach the consumer in sequence order.
        await _dispatchLock.WaitAsync(_closing.Token);
        try
        {
            await subscription.AcceptAsync(result.Message, _closing.Token);
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            _dispatchLock.Release();
        }
    }

    /// <summary>Keep-alive reads sent while the session had no subscription to keep it alive.</summary>
    public long KeepAliveReads => Interlocked.Read(ref _keepAliveReads);

    /// <summary>The last keep-alive read's failure (null after a successful one).</summary>
    public UaServiceException? KeepAliveFault { get; private set; }

    /// <summary>Raised after each keep-alive read, with its failure or null (on a pool thread).</summary>
    public event EventHandler<UaServiceException?>? KeepAliveCompleted;

    private void StartKeepAlive()
    {
        // A session without Publish traffic expires after RevisedSessionTimeout (OPC 10000-4 §5.6.2):
        // read ServerStatus.State three times per timeout so one lost read does not lose the session.
        TimeSpan period = TimeSpan.FromMilliseconds(Math.Max(1000, RevisedSessionTimeout.TotalMilliseconds / 3));
        _keepAliveTimer = _time.CreateTimer(static state => ((UaSession)state!).KeepAliveTick(), this, period, period);
    }

    private void KeepAliveTick()
    {
        if (_closed || (!_subscriptions.IsEmpty && PublishFault is null))
        {
            return; // Publish requests keep the session alive.
        }

        _ = Task.Run(async () =>
        {
            UaServiceException? fault = null;
            try
            {
                await ReadValueAsync(WellKnownNodes.ServerStatusState, _closing.Token);
                Interlocked.Increment(ref _keepAliveReads);
            }
            catch (UaServiceException ex)
            {
                fault = ex;
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }

            KeepAliveFault = fault;
            KeepAliveCompleted?.Invoke(this, fault);
        });
    }

    /// <summary>Test hook: a Publish response for which this returns true is dropped as if lost.</summary>
    internal Func<NotificationMessage, bool>? DropNotificationForTests { get; set; }

    /// <summary>
    /// Asks the server to resend a NotificationMessage it still holds (Republish, OPC 10000-4 §5.14.6).
    /// Null when the server no longer has it or the call fails; a resent message is acknowledged.
    /// </summary>
    internal async Task<NotificationMessage?> RepublishAsync(uint subscriptionId, uint sequenceNumber, CancellationToken cancellationToken)
    {
        try
        {
            NotificationMessage message = await _channel.RequestAsync(
                ServiceIds.RepublishRequest, ServiceIds.RepublishResponse, AuthenticationToken,
                e =>
                {
                    e.WriteUInt32(subscriptionId);
                    e.WriteUInt32(sequenceNumber);
                },
                StructureCodec.ReadNotificationMessage,
                cancellationToken: cancellationToken);
            lock (_ackLock)
            {
                _acks.Add((subscriptionId, message.SequenceNumber));
            }

            return message;
        }
        catch (UaServiceException)
        {
            // BadMessageNotAvailable (gone from the retransmission queue) or a failed call: a gap.
            return null;
        }
    }

    /// <summary>Closes the session (deleting its subscriptions on the server) and the channel.</summary>
    public async Task CloseAsync(CancellationToken cancellationToken = default)
    {
        if (_closed)
        {
            return;
        }

        _closed = true;
        _keepAliveTimer?.Dispose();
        try
        {
            if (_channel.IsOpen)
            {
                await _channel.RequestAsync(
                    ServiceIds.CloseSessionRequest, ServiceIds.CloseSessionResponse, AuthenticationToken,
                    static e => e.WriteBoolean(true),
                    static (ref UaBinaryDecoder d) => true,
                    cancellationToken: cancellationToken);
            }
        }
        finally
        {
            await _closing.CancelAsync();
            foreach (UaSubscription s in _subscriptions.Values)
            {
                s.Complete(null);
            }

            await _channel.CloseAsync(cancellationToken);
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await CloseAsync();
        }
        catch (UaServiceException)
        {
            // Disposing a session on a broken channel: nothing more to tell the server.
        }

        await _channel.DisposeAsync();
        _closing.Dispose();
        _dispatchLock.Dispose();
    }

    private sealed record CreateSessionResult(NodeId SessionId, NodeId AuthenticationToken, double RevisedSessionTimeout, byte[] ServerNonce, byte[] ServerCertificate, EndpointDescription[] Endpoints)
    {
        public string? SignatureAlgorithm { get; init; }

        public byte[] Signature { get; init; } = [];
    }

    private sealed class IdentityTokenBody(uint encodingId, Action<UaBinaryEncoder> write) : IUaEncodable
    {
        public uint BinaryEncodingId => encodingId;

        public void Encode(UaBinaryEncoder encoder) => write(encoder);
    }
}
