using System.Security.Cryptography;
using FactoryGateway.OpcUa.Encoding;
using FactoryGateway.OpcUa.Services;
using FactoryGateway.OpcUa.Transport.Security;

namespace FactoryGateway.OpcUa.Server;

/// <summary>
/// The service set of the server subset (OPC 10000-4 §5): each handler reads its request's fields
/// after the RequestHeader and returns the whole response body. A request for another service, or a
/// service refused as a whole, becomes a ServiceFault with the status that says why.
/// </summary>
internal static class UaServices
{
    public const string AnonymousPolicyId = "anonymous";
    public const string UserNamePolicyId = "username";
    private const uint SetPublishingModeRequest = 799;
    private const uint SetPublishingModeResponse = 802;

    public static ReadOnlyMemory<byte> Handle(UaServer server, UaServerConnection connection, uint requestId, uint service, UaRequestHeader header, ref UaBinaryDecoder d)
    {
        switch (service)
        {
            case ServiceIds.GetEndpointsRequest:
                return GetEndpoints(server, header, ref d);
            case UaServerCodec.FindServersRequest:
                return FindServers(server, header, ref d);
            case ServiceIds.CreateSessionRequest:
                return CreateSession(server, connection, header, ref d);
            case ServiceIds.ActivateSessionRequest:
                return ActivateSession(server, connection, header, ref d);
        }

        ServerSession session = server.FindSession(header.AuthenticationToken)
            ?? throw new UaServiceFault(StatusCode.BadSessionIdInvalid);
        lock (session.Sync)
        {
            if (session.Closed)
            {
                throw new UaServiceFault(StatusCode.BadSessionClosed);
            }

            if (!session.Activated)
            {
                throw new UaServiceFault(StatusCode.BadSessionNotActivated);
            }

            if (session.Connection != connection)
            {
                throw new UaServiceFault(StatusCode.BadSecureChannelIdInvalid);
            }

            session.LastActivity = server.Now;
            return service switch
            {
                ServiceIds.CloseSessionRequest => CloseSession(server, session, header, ref d),
                ServiceIds.BrowseRequest => Browse(server, session, header, ref d),
                ServiceIds.BrowseNextRequest => BrowseNext(server, session, header, ref d),
                ServiceIds.TranslateBrowsePathsToNodeIdsRequest => Translate(server, header, ref d),
                ServiceIds.ReadRequest => Read(server, header, ref d),
                UaServerCodec.WriteRequest => Write(server, header, ref d),
                ServiceIds.RegisterNodesRequest => RegisterNodes(server, header, ref d, ServiceIds.RegisterNodesResponse, true),
                ServiceIds.UnregisterNodesRequest => RegisterNodes(server, header, ref d, ServiceIds.UnregisterNodesResponse, false),
                ServiceIds.CreateSubscriptionRequest => CreateSubscription(server, session, header, ref d),
                ServiceIds.ModifySubscriptionRequest => ModifySubscription(server, session, header, ref d),
                SetPublishingModeRequest => SetPublishingMode(server, session, header, ref d),
                ServiceIds.DeleteSubscriptionsRequest => DeleteSubscriptions(server, session, header, ref d),
                ServiceIds.CreateMonitoredItemsRequest => CreateMonitoredItems(server, session, header, ref d),
                ServiceIds.DeleteMonitoredItemsRequest => DeleteMonitoredItems(server, session, header, ref d),
                ServiceIds.PublishRequest => Publish(server, session, connection, requestId, header, ref d),
                ServiceIds.RepublishRequest => Republish(server, session, header, ref d),
                ServiceIds.TransferSubscriptionsRequest => TransferSubscriptions(server, session, header, ref d),
                _ => throw new UaServiceFault(StatusCode.BadServiceUnsupported),
            };
        }
    }

    private static int Count(ref UaBinaryDecoder d, string field, int max, int minElementSize)
    {
        int count = d.ReadArrayLength(field, minElementSize);
        if (count <= 0)
        {
            throw new UaServiceFault(StatusCode.BadNothingToDo);
        }

        if (count > max)
        {
            throw new UaServiceFault(StatusCode.BadTooManyOperations);
        }

        return count;
    }

    // ---- Discovery (OPC 10000-4 §5.4) ----

    private static ReadOnlyMemory<byte> GetEndpoints(UaServer server, UaRequestHeader h, ref UaBinaryDecoder d)
    {
        d.ReadString("GetEndpointsRequest.EndpointUrl");
        d.ReadStringArray("GetEndpointsRequest.LocaleIds");
        string?[] profiles = d.ReadStringArray("GetEndpointsRequest.ProfileUris");
        IReadOnlyList<EndpointDescription> endpoints = profiles.Length == 0 || profiles.Contains(UaServer.TransportProfile) ? server.Endpoints : [];
        return UaServerCodec.Response(ServiceIds.GetEndpointsResponse, h.RequestHandle, server.Now, e => e.WriteArray(endpoints, UaServerCodec.WriteEndpointDescription));
    }

    private static ReadOnlyMemory<byte> FindServers(UaServer server, UaRequestHeader h, ref UaBinaryDecoder d)
    {
        d.ReadString("FindServersRequest.EndpointUrl");
        d.ReadStringArray("FindServersRequest.LocaleIds");
        string?[] uris = d.ReadStringArray("FindServersRequest.ServerUris");
        ApplicationDescription[] servers = uris.Length == 0 || uris.Contains(server.Options.ApplicationUri) ? [server.Application] : [];
        return UaServerCodec.Response(UaServerCodec.FindServersResponse, h.RequestHandle, server.Now, e => e.WriteArray(servers, StructureCodec.WriteApplicationDescription));
    }

    // ---- Sessions (OPC 10000-4 §5.6) ----

    private static ReadOnlyMemory<byte> CreateSession(UaServer server, UaServerConnection connection, UaRequestHeader h, ref UaBinaryDecoder d)
    {
        ApplicationDescription client = StructureCodec.ReadApplicationDescription(ref d);
        d.ReadString("CreateSessionRequest.ServerUri");
        d.ReadString("CreateSessionRequest.EndpointUrl");
        string? name = d.ReadString("CreateSessionRequest.SessionName");
        ReadOnlyMemory<byte> clientNonce = d.ReadByteString("CreateSessionRequest.ClientNonce");
        ReadOnlyMemory<byte> clientCertificate = d.ReadByteString("CreateSessionRequest.ClientCertificate");
        double requested = d.ReadDouble("CreateSessionRequest.RequestedSessionTimeout");
        d.ReadUInt32("CreateSessionRequest.MaxResponseMessageSize");
        if (server.SessionCount >= server.Options.MaxSessions)
        {
            throw new UaServiceFault(StatusCode.BadTooManySessions);
        }

        UaChannelSecurity? security = connection.Security;
        if (security is null && !server.Options.AllowSecurityNone)
        {
            throw new UaServiceFault(UaServerStatus.BadSecurityModeInsufficient, "sessions need a secure channel on this server.");
        }

        byte[] serverSignature = [];
        if (security is not null)
        {
            serverSignature = ServerSessionSecurity.SignCreateSession(security, client.ApplicationUri, clientCertificate.Span, clientNonce.Span);
        }

        double timeout = double.IsFinite(requested) ? requested : 0;
        timeout = Math.Clamp(timeout, server.Options.MinSessionTimeout.TotalMilliseconds, server.Options.MaxSessionTimeout.TotalMilliseconds);
        var session = new ServerSession(server, UaServer.NewSessionNodeId(), UaServer.NewSessionNodeId(), name, TimeSpan.FromMilliseconds(timeout), connection)
        {
            ClientCertificate = security?.ClientCertificate.RawData,
            ServerNonce = RandomNumberGenerator.GetBytes(32),
        };
        server.AddSession(session);
        byte[] nonce = session.ServerNonce;
        IReadOnlyList<EndpointDescription> endpoints = server.Endpoints;
        return UaServerCodec.Response(ServiceIds.CreateSessionResponse, h.RequestHandle, server.Now, e =>
        {
            e.WriteNodeId(session.SessionId);
            e.WriteNodeId(session.AuthenticationToken);
            e.WriteDouble(timeout);
            e.WriteByteString(nonce);
            e.WriteByteString(security is null ? default : security.ServerCertificate.RawData); // none with SecurityPolicy None
            e.WriteArray(endpoints, UaServerCodec.WriteEndpointDescription);
            e.WriteInt32(-1); // ServerSoftwareCertificates
            e.WriteString(security?.Policy.AsymmetricSignatureAlgorithm);
            e.WriteByteString(serverSignature);
            e.WriteUInt32((uint)server.Options.MaxMessageSize);
        });
    }

    private static ReadOnlyMemory<byte> ActivateSession(UaServer server, UaServerConnection connection, UaRequestHeader h, ref UaBinaryDecoder d)
    {
        string? signatureAlgorithm = d.ReadString("ActivateSessionRequest.ClientSignature.Algorithm");
        ReadOnlyMemory<byte> signature = d.ReadByteString("ActivateSessionRequest.ClientSignature.Signature");
        d.ReadArray("ActivateSessionRequest.ClientSoftwareCertificates", static (ref UaBinaryDecoder x, string f) => (x.ReadByteString(f), x.ReadByteString(f)), 8);
        d.ReadStringArray("ActivateSessionRequest.LocaleIds");
        ExtensionObject token = d.ReadExtensionObject("ActivateSessionRequest.UserIdentityToken");
        d.ReadString("ActivateSessionRequest.UserTokenSignature.Algorithm");
        d.ReadByteString("ActivateSessionRequest.UserTokenSignature.Signature");

        ServerSession session = server.FindSession(h.AuthenticationToken) ?? throw new UaServiceFault(StatusCode.BadSessionIdInvalid);
        byte[] serverNonce;
        lock (session.Sync)
        {
            serverNonce = session.ServerNonce;
        }

        UaChannelSecurity? security = connection.Security;
        ServerSessionSecurity.VerifyActivateSession(server, session, security, serverNonce, signatureAlgorithm, signature.Span);
        string identity = CheckIdentity(server, token, security, serverNonce);
        byte[] nonce = RandomNumberGenerator.GetBytes(32);
        lock (session.Sync)
        {
            if (session.Closed)
            {
                throw new UaServiceFault(StatusCode.BadSessionClosed);
            }

            session.Activated = true;
            session.Connection = connection;
            session.Identity = identity;
            session.LastActivity = server.Now;
            session.ServerNonce = nonce;
        }

        UaServerLog.SessionActivated(server.Logger, session.SessionId.ToString(), session.Name, identity);
        return UaServerCodec.Response(ServiceIds.ActivateSessionResponse, h.RequestHandle, server.Now, e =>
        {
            e.WriteByteString(nonce);
            e.WriteInt32(-1); // Results
            e.WriteInt32(-1); // DiagnosticInfos
        });
    }

    /// <summary>Checks a user identity token (OPC 10000-4 §7.41) against the offered policies; returns how to name the identity.</summary>
    private static string CheckIdentity(UaServer server, ExtensionObject token, UaChannelSecurity? security, byte[] serverNonce)
    {
        uint type = token.TypeId.NamespaceIndex == 0 && token.TypeId.IdType == NodeIdType.Numeric ? token.TypeId.NumericIdentifier : uint.MaxValue;
        if (token.IsNull || type == ServiceIds.AnonymousIdentityToken)
        {
            if (!server.Options.AllowAnonymous)
            {
                UaServerLog.LoginRefused(server.Logger, null, "BadIdentityTokenRejected");
                throw new UaServiceFault(StatusCode.BadIdentityTokenRejected, "anonymous access is not allowed.");
            }

            return "anonymous";
        }

        if (type != ServiceIds.UserNameIdentityToken || token.Encoding != ExtensionObjectEncoding.Binary)
        {
            throw new UaServiceFault(StatusCode.BadIdentityTokenInvalid, $"identity token {token.TypeId} is not supported.");
        }

        var t = new UaBinaryDecoder(token.Body, UaDecoderLimits.Default);
        string? policyId = t.ReadString("UserNameIdentityToken.PolicyId");
        string? userName = t.ReadString("UserNameIdentityToken.UserName");
        ReadOnlyMemory<byte> password = t.ReadByteString("UserNameIdentityToken.Password");
        string? algorithm = t.ReadString("UserNameIdentityToken.EncryptionAlgorithm");
        UaUserValidator? validator = server.Options.UserValidator;
        if (validator is null || (policyId is not null && policyId != UserNamePolicyId))
        {
            UaServerLog.LoginRefused(server.Logger, userName, "BadIdentityTokenRejected");
            throw new UaServiceFault(StatusCode.BadIdentityTokenRejected, "no such user-name token policy.");
        }

        if (string.IsNullOrEmpty(userName))
        {
            throw new UaServiceFault(StatusCode.BadIdentityTokenInvalid, "the user name is empty.");
        }

        string secret;
        if (security is null)
        {
            if (!string.IsNullOrEmpty(algorithm))
            {
                // On a SecurityPolicy None endpoint without a token security policy the password travels as plain UTF-8.
                throw new UaServiceFault(StatusCode.BadIdentityTokenInvalid, "the password must not be encrypted on this endpoint.");
            }

            secret = System.Text.Encoding.UTF8.GetString(password.Span);
        }
        else
        {
            secret = ServerSessionSecurity.DecryptPassword(security, algorithm, password.Span, serverNonce);
        }

        if (!validator(userName, secret))
        {
            UaServerLog.LoginRefused(server.Logger, userName, "BadUserAccessDenied");
            throw new UaServiceFault(StatusCode.BadUserAccessDenied);
        }

        return "user " + userName;
    }

    // ---- TransferSubscriptions (OPC 10000-4 §5.13.7) ----

    /// <summary>How long a transfer waits for the other session's lock (held briefly by services and timers) before giving up on that subscription.</summary>
    private static readonly TimeSpan s_transferLockWait = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Moves subscriptions of another session to this one (the caller holds this session's lock). The
    /// owner must be the same user — and for anonymous sessions the same client certificate on secure
    /// channels (an anonymous session on None has no identity to compare): otherwise BadUserAccessDenied.
    /// Unknown ids are BadSubscriptionIdInvalid. The old session's client gets GoodSubscriptionTransferred;
    /// with SendInitialValues every item queues its current value.
    /// </summary>
    private static ReadOnlyMemory<byte> TransferSubscriptions(UaServer server, ServerSession session, UaRequestHeader h, ref UaBinaryDecoder d)
    {
        int count = Count(ref d, "TransferSubscriptionsRequest.SubscriptionIds", server.Options.MaxSubscriptionsPerSession, 4);
        uint[] ids = new uint[count];
        for (int i = 0; i < count; i++)
        {
            ids[i] = d.ReadUInt32("TransferSubscriptionsRequest.SubscriptionIds");
        }

        bool sendInitialValues = d.ReadBoolean("TransferSubscriptionsRequest.SendInitialValues");
        var results = new (StatusCode Status, uint[] Available)[count];
        for (int i = 0; i < count; i++)
        {
            results[i] = TransferOne(server, session, ids[i], sendInitialValues);
        }

        return UaServerCodec.Response(ServiceIds.TransferSubscriptionsResponse, h.RequestHandle, server.Now, e =>
        {
            e.WriteArray(results, static (w, r) =>
            {
                w.WriteStatusCode(r.Status);
                w.WriteArray(r.Available, static (x, n) => x.WriteUInt32(n));
            });
            e.WriteInt32(-1); // DiagnosticInfos
        });
    }

    private static (StatusCode Status, uint[] Available) TransferOne(UaServer server, ServerSession session, uint id, bool sendInitialValues)
    {
        ServerSession? owner = server.FindSubscriptionOwner(id);
        if (owner is null)
        {
            return (StatusCode.BadSubscriptionIdInvalid, []);
        }

        if (owner == session)
        {
            return (StatusCode.Good, [.. session.Subscriptions[id].AvailableSequenceNumbers()]);
        }

        if (!owner.Sync.TryEnter(s_transferLockWait))
        {
            return (StatusCode.BadInternalError, []);
        }

        try
        {
            if (owner.Closed || !owner.Subscriptions.TryGetValue(id, out ServerSubscription? subscription))
            {
                return (StatusCode.BadSubscriptionIdInvalid, []);
            }

            bool sameUser = owner.Identity == session.Identity && (owner.Identity != "anonymous"
                || (owner.ClientCertificate is not null && session.ClientCertificate is not null && owner.ClientCertificate.AsSpan().SequenceEqual(session.ClientCertificate)));
            if (!sameUser)
            {
                return (StatusCode.BadUserAccessDenied, []);
            }

            owner.GiveAway(subscription);
            subscription.MoveTo(session);
            session.Subscriptions[id] = subscription;
            server.RegisterSubscription(id, session);
            if (sendInitialValues)
            {
                DateTime now = server.Now;
                foreach (ServerMonitoredItem item in subscription.Items.Values)
                {
                    DataValue current = ReadAttribute(server.AddressSpace, item.Node, item.AttributeId, now);
                    item.SendCurrent(item.AttributeId == AttributeIds.Value ? current with { ServerTimestamp = now } : current);
                }
            }

            return (StatusCode.Good, [.. subscription.AvailableSequenceNumbers()]);
        }
        finally
        {
            owner.Sync.Exit();
        }
    }

    private static ReadOnlyMemory<byte> CloseSession(UaServer server, ServerSession session, UaRequestHeader h, ref UaBinaryDecoder d)
    {
        d.ReadBoolean("CloseSessionRequest.DeleteSubscriptions");
        server.CloseSession(session, StatusCode.BadSessionClosed, "closed by the client");
        return UaServerCodec.Response(ServiceIds.CloseSessionResponse, h.RequestHandle, server.Now, static _ => { });
    }

    // ---- View (OPC 10000-4 §5.8) ----

    private static ReadOnlyMemory<byte> Browse(UaServer server, ServerSession session, UaRequestHeader h, ref UaBinaryDecoder d)
    {
        NodeId view = d.ReadNodeId("BrowseRequest.View.ViewId");
        d.ReadDateTime("BrowseRequest.View.Timestamp");
        d.ReadUInt32("BrowseRequest.View.ViewVersion");
        uint maxReferences = d.ReadUInt32("BrowseRequest.RequestedMaxReferencesPerNode");
        if (!view.IsNull)
        {
            throw new UaServiceFault(UaServerStatus.BadViewIdUnknown);
        }

        int count = Count(ref d, "BrowseRequest.NodesToBrowse", server.Options.MaxNodesPerCall, 14);
        var results = new BrowseResult[count];
        for (int i = 0; i < count; i++)
        {
            NodeId nodeId = d.ReadNodeId("BrowseDescription.NodeId");
            int direction = d.ReadInt32("BrowseDescription.BrowseDirection");
            NodeId referenceType = d.ReadNodeId("BrowseDescription.ReferenceTypeId");
            bool subtypes = d.ReadBoolean("BrowseDescription.IncludeSubtypes");
            uint classMask = d.ReadUInt32("BrowseDescription.NodeClassMask");
            uint resultMask = d.ReadUInt32("BrowseDescription.ResultMask");
            results[i] = BrowseOne(server, session, nodeId, direction, referenceType, subtypes, classMask, resultMask, maxReferences);
        }

        return UaServerCodec.Response(ServiceIds.BrowseResponse, h.RequestHandle, server.Now, e =>
        {
            e.WriteArray(results, UaServerCodec.WriteBrowseResult);
            e.WriteInt32(-1);
        });
    }

    private static BrowseResult BrowseOne(UaServer server, ServerSession session, NodeId nodeId, int direction, NodeId referenceType, bool subtypes, uint classMask, uint resultMask, uint maxReferences)
    {
        UaAddressSpace space = server.AddressSpace;
        UaNode? node = space.Find(nodeId);
        if (node is null)
        {
            return new BrowseResult(StatusCode.BadNodeIdUnknown, default, []);
        }

        if (direction is < 0 or > 2)
        {
            return new BrowseResult(UaServerStatus.BadBrowseDirectionInvalid, default, []);
        }

        if (!referenceType.IsNull && space.Find(referenceType)?.NodeClass != NodeClass.ReferenceType)
        {
            return new BrowseResult(UaServerStatus.BadReferenceTypeIdInvalid, default, []);
        }

        var found = new List<ReferenceDescription>();
        foreach (UaReference r in node.References)
        {
            if ((direction == 0 && !r.IsForward) || (direction == 1 && r.IsForward))
            {
                continue;
            }

            if (!referenceType.IsNull && r.ReferenceTypeId != referenceType && !(subtypes && space.IsSubtypeOf(r.ReferenceTypeId, referenceType)))
            {
                continue;
            }

            UaNode? target = space.Find(r.TargetId);
            NodeClass targetClass = target?.NodeClass ?? NodeClass.Unspecified;
            if (classMask != 0 && ((uint)targetClass & classMask) == 0)
            {
                continue;
            }

            NodeId? typeDefinition = target is { NodeClass: NodeClass.Object or NodeClass.Variable } ? UaAddressSpace.TypeDefinition(target) : null;
            found.Add(new ReferenceDescription(
                (resultMask & 1) != 0 ? r.ReferenceTypeId : NodeId.Null,
                (resultMask & 2) != 0 && r.IsForward,
                new ExpandedNodeId(r.TargetId),
                (resultMask & 8) != 0 && target is not null ? target.BrowseName : QualifiedName.Null,
                (resultMask & 16) != 0 && target is not null ? target.DisplayName : LocalizedText.Null,
                (resultMask & 4) != 0 ? targetClass : NodeClass.Unspecified,
                (resultMask & 32) != 0 && typeDefinition is not null ? new ExpandedNodeId(typeDefinition) : ExpandedNodeId.Null));
        }

        return Page(server, session, found, maxReferences);
    }

    private static BrowseResult Page(UaServer server, ServerSession session, List<ReferenceDescription> references, uint maxReferences)
    {
        if (maxReferences == 0 || references.Count <= maxReferences)
        {
            return new BrowseResult(default, default, references);
        }

        if (session.ContinuationCount >= server.Options.MaxBrowseContinuationPoints)
        {
            return new BrowseResult(StatusCode.BadNoContinuationPoints, default, []);
        }

        List<ReferenceDescription> page = references.GetRange(0, (int)maxReferences);
        ReadOnlyMemory<byte> point = session.AddContinuation(new BrowseContinuation(references.GetRange((int)maxReferences, references.Count - (int)maxReferences), maxReferences));
        return new BrowseResult(default, point, page);
    }

    private static ReadOnlyMemory<byte> BrowseNext(UaServer server, ServerSession session, UaRequestHeader h, ref UaBinaryDecoder d)
    {
        bool release = d.ReadBoolean("BrowseNextRequest.ReleaseContinuationPoints");
        int count = Count(ref d, "BrowseNextRequest.ContinuationPoints", server.Options.MaxNodesPerCall, 4);
        var results = new BrowseResult[count];
        for (int i = 0; i < count; i++)
        {
            ReadOnlyMemory<byte> point = d.ReadByteString("BrowseNextRequest.ContinuationPoint");
            BrowseContinuation? continuation = session.TakeContinuation(point.Span);
            results[i] = continuation is null
                ? new BrowseResult(StatusCode.BadContinuationPointInvalid, default, [])
                : release ? new BrowseResult(default, default, []) : Page(server, session, continuation.Remaining, continuation.MaxReferences);
        }

        return UaServerCodec.Response(ServiceIds.BrowseNextResponse, h.RequestHandle, server.Now, e =>
        {
            e.WriteArray(results, UaServerCodec.WriteBrowseResult);
            e.WriteInt32(-1);
        });
    }

    private static ReadOnlyMemory<byte> Translate(UaServer server, UaRequestHeader h, ref UaBinaryDecoder d)
    {
        UaAddressSpace space = server.AddressSpace;
        int count = Count(ref d, "TranslateBrowsePathsToNodeIdsRequest.BrowsePaths", server.Options.MaxNodesPerCall, 6);
        var results = new BrowsePathResult[count];
        for (int i = 0; i < count; i++)
        {
            NodeId start = d.ReadNodeId("BrowsePath.StartingNode");
            var elements = d.ReadArray("RelativePath.Elements", static (ref UaBinaryDecoder x, string f) =>
                (Type: x.ReadNodeId(f), Inverse: x.ReadBoolean(f), Subtypes: x.ReadBoolean(f), Name: x.ReadQualifiedName(f)), 7);
            if (space.Find(start) is null)
            {
                results[i] = new BrowsePathResult(StatusCode.BadNodeIdUnknown, []);
                continue;
            }

            if (elements.Length == 0)
            {
                results[i] = new BrowsePathResult(StatusCode.BadNothingToDo, []);
                continue;
            }

            if (elements.Any(e => string.IsNullOrEmpty(e.Name.Name)))
            {
                results[i] = new BrowsePathResult(UaServerStatus.BadBrowseNameInvalid, []);
                continue;
            }

            var current = new List<NodeId> { start };
            foreach (var element in elements)
            {
                var next = new List<NodeId>();
                foreach (NodeId from in current)
                {
                    foreach (UaReference r in space.Get(from).References)
                    {
                        if (r.IsForward == element.Inverse)
                        {
                            continue;
                        }

                        if (!element.Type.IsNull && r.ReferenceTypeId != element.Type && !(element.Subtypes && space.IsSubtypeOf(r.ReferenceTypeId, element.Type)))
                        {
                            continue;
                        }

                        if (space.Find(r.TargetId) is { } target && target.BrowseName == element.Name && !next.Contains(r.TargetId))
                        {
                            next.Add(r.TargetId);
                        }
                    }
                }

                current = next;
                if (current.Count == 0)
                {
                    break;
                }
            }

            results[i] = current.Count == 0
                ? new BrowsePathResult(UaServerStatus.BadNoMatch, [])
                : new BrowsePathResult(default, current.Select(n => new BrowsePathTarget(new ExpandedNodeId(n), uint.MaxValue)).ToArray());
        }

        return UaServerCodec.Response(ServiceIds.TranslateBrowsePathsToNodeIdsResponse, h.RequestHandle, server.Now, e =>
        {
            e.WriteArray(results, static (w, r) =>
            {
                w.WriteStatusCode(r.Status);
                w.WriteArray(r.Targets, static (x, t) =>
                {
                    x.WriteExpandedNodeId(t.TargetId);
                    x.WriteUInt32(t.RemainingPathIndex);
                });
            });
            e.WriteInt32(-1);
        });
    }

    private static ReadOnlyMemory<byte> RegisterNodes(UaServer server, UaRequestHeader h, ref UaBinaryDecoder d, uint responseId, bool register)
    {
        int count = Count(ref d, "RegisterNodesRequest.NodesToRegister", server.Options.MaxNodesPerCall, 2);
        var nodes = new NodeId[count];
        for (int i = 0; i < count; i++)
        {
            nodes[i] = d.ReadNodeId("NodesToRegister");
        }

        // Registration is an optimisation hint: this server hands back the same ids.
        return UaServerCodec.Response(responseId, h.RequestHandle, server.Now, e =>
        {
            if (register)
            {
                e.WriteArray(nodes, static (w, n) => w.WriteNodeId(n));
            }
        });
    }

    // ---- Attributes (OPC 10000-4 §5.10) ----

    private static ReadOnlyMemory<byte> Read(UaServer server, UaRequestHeader h, ref UaBinaryDecoder d)
    {
        double maxAge = d.ReadDouble("ReadRequest.MaxAge");
        int timestamps = d.ReadInt32("ReadRequest.TimestampsToReturn");
        if (maxAge < 0 || double.IsNaN(maxAge))
        {
            throw new UaServiceFault(UaServerStatus.BadMaxAgeInvalid);
        }

        if (timestamps is < 0 or > 3)
        {
            throw new UaServiceFault(UaServerStatus.BadTimestampsToReturnInvalid);
        }

        int count = Count(ref d, "ReadRequest.NodesToRead", server.Options.MaxNodesPerCall, 10);
        var results = new DataValue[count];
        DateTime now = server.Now;
        for (int i = 0; i < count; i++)
        {
            ReadValueId id = UaServerCodec.ReadReadValueId(ref d, "ReadValueId");
            results[i] = ReadOne(server.AddressSpace, id, (TimestampsToReturn)timestamps, now);
        }

        return UaServerCodec.Response(ServiceIds.ReadResponse, h.RequestHandle, now, e =>
        {
            e.WriteArray(results, static (w, v) => w.WriteDataValue(v));
            e.WriteInt32(-1);
        });
    }

    private static DataValue ReadOne(UaAddressSpace space, ReadValueId id, TimestampsToReturn timestamps, DateTime now)
    {
        UaNode? node = space.Find(id.NodeId);
        if (node is null)
        {
            return new DataValue { Status = StatusCode.BadNodeIdUnknown };
        }

        if (id.DataEncoding is { Name: not null })
        {
            return new DataValue { Status = UaServerStatus.BadDataEncodingInvalid };
        }

        if (id.IndexRange is not null)
        {
            return new DataValue { Status = UaServerStatus.BadIndexRangeInvalid };
        }

        DataValue value = ReadAttribute(space, node, id.AttributeId, now);
        if (id.AttributeId != AttributeIds.Value || value.Status.IsBad)
        {
            return value;
        }

        return timestamps switch
        {
            TimestampsToReturn.Source => value with { ServerTimestamp = default },
            TimestampsToReturn.Server => value with { SourceTimestamp = default, ServerTimestamp = now },
            TimestampsToReturn.Neither => value with { SourceTimestamp = default, ServerTimestamp = default },
            _ => value with { ServerTimestamp = now },
        };
    }

    /// <summary>One attribute of a node (OPC 10000-3 §5); BadAttributeIdInvalid for one its node class does not have.</summary>
    public static DataValue ReadAttribute(UaAddressSpace space, UaNode node, uint attributeId, DateTime now)
    {
        NodeClass c = node.NodeClass;
        bool variable = c is NodeClass.Variable or NodeClass.VariableType;
        bool type = c is NodeClass.ObjectType or NodeClass.VariableType or NodeClass.DataType or NodeClass.ReferenceType;
        Variant? v = attributeId switch
        {
            1 => new Variant(node.NodeId),
            2 => new Variant((int)c),
            3 => new Variant(node.BrowseName),
            4 => new Variant(node.DisplayName),
            5 => new Variant(node.Description ?? LocalizedText.Null),
            6 or 7 => new Variant(0u),
            8 when type => new Variant(node.IsAbstract),
            9 when c == NodeClass.ReferenceType => new Variant(node.Symmetric),
            10 when c == NodeClass.ReferenceType => new Variant(node.InverseName ?? LocalizedText.Null),
            12 when c == NodeClass.Object => new Variant(node.EventNotifier),
            13 when c == NodeClass.Variable => null,
            13 when c == NodeClass.VariableType => Variant.Null,
            14 when variable => new Variant(node.DataType),
            15 when variable => new Variant(node.ValueRank),
            16 when variable => Variant.Null,
            17 or 18 when c == NodeClass.Variable => new Variant(node.AccessLevel),
            19 when c == NodeClass.Variable => new Variant(node.MinimumSamplingInterval),
            20 when c == NodeClass.Variable => new Variant(false),
            27 when c == NodeClass.Variable => new Variant((uint)node.AccessLevel),
            _ => Variant.Null,
        };
        if (attributeId == AttributeIds.Value && c == NodeClass.Variable)
        {
            return node.Value;
        }

        bool valid = attributeId is >= 1 and <= 7 || (attributeId is 8 && type) || (attributeId is 9 or 10 && c == NodeClass.ReferenceType)
            || (attributeId is 12 && c == NodeClass.Object) || (attributeId is 13 or 14 or 15 or 16 && variable)
            || (attributeId is 17 or 18 or 19 or 20 or 27 && c == NodeClass.Variable);
        _ = now;
        return valid ? new DataValue(v ?? Variant.Null) : new DataValue { Status = StatusCode.BadAttributeIdInvalid };
    }

    private static ReadOnlyMemory<byte> Write(UaServer server, UaRequestHeader h, ref UaBinaryDecoder d)
    {
        int count = Count(ref d, "WriteRequest.NodesToWrite", server.Options.MaxNodesPerCall, 12);
        var results = new StatusCode[count];
        UaAddressSpace space = server.AddressSpace;
        for (int i = 0; i < count; i++)
        {
            NodeId nodeId = d.ReadNodeId("WriteValue.NodeId");
            uint attributeId = d.ReadUInt32("WriteValue.AttributeId");
            string? indexRange = d.ReadString("WriteValue.IndexRange");
            DataValue value = d.ReadDataValue("WriteValue.Value");
            results[i] = WriteOne(server, space, nodeId, attributeId, indexRange, value);
        }

        return UaServerCodec.Response(UaServerCodec.WriteResponse, h.RequestHandle, server.Now, e =>
        {
            e.WriteArray(results, static (w, s) => w.WriteStatusCode(s));
            e.WriteInt32(-1);
        });
    }

    private static StatusCode WriteOne(UaServer server, UaAddressSpace space, NodeId nodeId, uint attributeId, string? indexRange, DataValue value)
    {
        UaNode? node = space.Find(nodeId);
        if (node is null)
        {
            return StatusCode.BadNodeIdUnknown;
        }

        if (ReadAttribute(space, node, attributeId, server.Now).Status.IsBad)
        {
            return StatusCode.BadAttributeIdInvalid;
        }

        if (attributeId != AttributeIds.Value)
        {
            return UaServerStatus.BadNotWritable;
        }

        if (!node.IsWritable || node.ValueSource is not null)
        {
            return UaServerStatus.BadNotWritable;
        }

        if (indexRange is not null || value.ServerTimestamp != default)
        {
            return UaServerStatus.BadWriteNotSupported;
        }

        if (!Fits(space, node, value.Value))
        {
            return UaServerStatus.BadTypeMismatch;
        }

        DateTime source = value.SourceTimestamp == default ? server.Now : value.SourceTimestamp;
        space.SetValue(nodeId, value.Value, source, value.Status);
        space.RaiseWritten(node, node.Value);
        return default;
    }

    /// <summary>Whether a value matches a variable's data type and value rank (OPC 10000-3 §5.6.2).</summary>
    private static bool Fits(UaAddressSpace space, UaNode node, Variant value)
    {
        if (value.IsNull)
        {
            return false;
        }

        if ((node.ValueRank == -1 && value.IsArray) || (node.ValueRank >= 1 && !value.IsArray))
        {
            return false;
        }

        NodeId type = node.DataType;
        if (space.IsSubtypeOf(type, UaNodeIds.Enumeration))
        {
            return value.Type == BuiltInType.Int32;
        }

        for (NodeId? t = type; t is not null; t = Parent(space, t))
        {
            if (t.NamespaceIndex == 0 && t.IdType == NodeIdType.Numeric && t.NumericIdentifier is >= 1 and <= 25)
            {
                return (uint)value.Type == t.NumericIdentifier;
            }

            if (t == UaNodeIds.Number)
            {
                return value.TryGetDouble(out _) && value.Type != BuiltInType.Boolean;
            }

            if (t == UaNodeIds.BaseDataType)
            {
                return true;
            }
        }

        return value.Type == node.Value.Value.Type;
    }

    private static NodeId? Parent(UaAddressSpace space, NodeId type) =>
        space.Find(type)?.References.Where(r => !r.IsForward && r.ReferenceTypeId == UaNodeIds.HasSubtype).Select(r => r.TargetId).FirstOrDefault();

    // ---- Subscriptions (OPC 10000-4 §5.13) ----

    private static (double Interval, uint Lifetime, uint KeepAlive) Revise(UaServer server, double interval, uint lifetime, uint keepAlive)
    {
        double min = server.Options.MinPublishingInterval.TotalMilliseconds;
        interval = double.IsFinite(interval) && interval > min ? Math.Min(interval, 3_600_000) : min;
        keepAlive = Math.Clamp(keepAlive, 1, 10_000);
        // OPC 10000-4 §5.13.2.2: the lifetime count is at least three times the keep-alive count.
        lifetime = Math.Max(lifetime, keepAlive * 3);
        return (interval, lifetime, keepAlive);
    }

    private static ReadOnlyMemory<byte> CreateSubscription(UaServer server, ServerSession session, UaRequestHeader h, ref UaBinaryDecoder d)
    {
        double interval = d.ReadDouble("CreateSubscriptionRequest.RequestedPublishingInterval");
        uint lifetime = d.ReadUInt32("CreateSubscriptionRequest.RequestedLifetimeCount");
        uint keepAlive = d.ReadUInt32("CreateSubscriptionRequest.RequestedMaxKeepAliveCount");
        uint maxNotifications = d.ReadUInt32("CreateSubscriptionRequest.MaxNotificationsPerPublish");
        bool enabled = d.ReadBoolean("CreateSubscriptionRequest.PublishingEnabled");
        byte priority = d.ReadByte("CreateSubscriptionRequest.Priority");
        if (session.Subscriptions.Count >= server.Options.MaxSubscriptionsPerSession)
        {
            throw new UaServiceFault(StatusCode.BadTooManySubscriptions);
        }

        (interval, lifetime, keepAlive) = Revise(server, interval, lifetime, keepAlive);
        var subscription = new ServerSubscription(session, server.NextSubscriptionId(), server.Options.MaxRetransmissionQueue) { PublishingEnabled = enabled };
        session.Subscriptions[subscription.Id] = subscription;
        server.RegisterSubscription(subscription.Id, session);
        subscription.Configure(interval, lifetime, keepAlive, maxNotifications, priority);
        return UaServerCodec.Response(ServiceIds.CreateSubscriptionResponse, h.RequestHandle, server.Now, e =>
        {
            e.WriteUInt32(subscription.Id);
            e.WriteDouble(interval);
            e.WriteUInt32(lifetime);
            e.WriteUInt32(keepAlive);
        });
    }

    private static ServerSubscription Subscription(ServerSession session, uint id) =>
        session.Subscriptions.GetValueOrDefault(id) ?? throw new UaServiceFault(StatusCode.BadSubscriptionIdInvalid);

    private static ReadOnlyMemory<byte> ModifySubscription(UaServer server, ServerSession session, UaRequestHeader h, ref UaBinaryDecoder d)
    {
        uint id = d.ReadUInt32("ModifySubscriptionRequest.SubscriptionId");
        double interval = d.ReadDouble("ModifySubscriptionRequest.RequestedPublishingInterval");
        uint lifetime = d.ReadUInt32("ModifySubscriptionRequest.RequestedLifetimeCount");
        uint keepAlive = d.ReadUInt32("ModifySubscriptionRequest.RequestedMaxKeepAliveCount");
        uint maxNotifications = d.ReadUInt32("ModifySubscriptionRequest.MaxNotificationsPerPublish");
        byte priority = d.ReadByte("ModifySubscriptionRequest.Priority");
        ServerSubscription subscription = Subscription(session, id);
        (interval, lifetime, keepAlive) = Revise(server, interval, lifetime, keepAlive);
        subscription.Configure(interval, lifetime, keepAlive, maxNotifications, priority);
        return UaServerCodec.Response(ServiceIds.ModifySubscriptionResponse, h.RequestHandle, server.Now, e =>
        {
            e.WriteDouble(interval);
            e.WriteUInt32(lifetime);
            e.WriteUInt32(keepAlive);
        });
    }

    private static ReadOnlyMemory<byte> SetPublishingMode(UaServer server, ServerSession session, UaRequestHeader h, ref UaBinaryDecoder d)
    {
        bool enabled = d.ReadBoolean("SetPublishingModeRequest.PublishingEnabled");
        uint[] ids = d.ReadUInt32Array("SetPublishingModeRequest.SubscriptionIds");
        if (ids.Length == 0)
        {
            throw new UaServiceFault(StatusCode.BadNothingToDo);
        }

        StatusCode[] results = ids.Select(id =>
        {
            if (!session.Subscriptions.TryGetValue(id, out ServerSubscription? s))
            {
                return new StatusCode(StatusCode.BadSubscriptionIdInvalid);
            }

            s.PublishingEnabled = enabled;
            return default;
        }).ToArray();
        return StatusResults(server, SetPublishingModeResponse, h, results);
    }

    private static ReadOnlyMemory<byte> DeleteSubscriptions(UaServer server, ServerSession session, UaRequestHeader h, ref UaBinaryDecoder d)
    {
        uint[] ids = d.ReadUInt32Array("DeleteSubscriptionsRequest.SubscriptionIds");
        if (ids.Length == 0)
        {
            throw new UaServiceFault(StatusCode.BadNothingToDo);
        }

        StatusCode[] results = ids.Select(id => session.DeleteSubscription(id) ? default : new StatusCode(StatusCode.BadSubscriptionIdInvalid)).ToArray();
        return StatusResults(server, ServiceIds.DeleteSubscriptionsResponse, h, results);
    }

    private static ReadOnlyMemory<byte> StatusResults(UaServer server, uint responseId, UaRequestHeader h, StatusCode[] results) =>
        UaServerCodec.Response(responseId, h.RequestHandle, server.Now, e =>
        {
            e.WriteArray(results, static (w, s) => w.WriteStatusCode(s));
            e.WriteInt32(-1);
        });

    private static ReadOnlyMemory<byte> CreateMonitoredItems(UaServer server, ServerSession session, UaRequestHeader h, ref UaBinaryDecoder d)
    {
        uint subscriptionId = d.ReadUInt32("CreateMonitoredItemsRequest.SubscriptionId");
        int timestamps = d.ReadInt32("CreateMonitoredItemsRequest.TimestampsToReturn");
        ServerSubscription subscription = Subscription(session, subscriptionId);
        if (timestamps is < 0 or > 3)
        {
            throw new UaServiceFault(UaServerStatus.BadTimestampsToReturnInvalid);
        }

        int count = Count(ref d, "CreateMonitoredItemsRequest.ItemsToCreate", server.Options.MaxMonitoredItemsPerCall, 24);
        var results = new (StatusCode Status, uint Id, double Sampling, uint Queue)[count];
        for (int i = 0; i < count; i++)
        {
            ReadValueId item = UaServerCodec.ReadReadValueId(ref d, "MonitoredItemCreateRequest.ItemToMonitor");
            int mode = d.ReadInt32("MonitoredItemCreateRequest.MonitoringMode");
            uint handle = d.ReadUInt32("MonitoringParameters.ClientHandle");
            double sampling = d.ReadDouble("MonitoringParameters.SamplingInterval");
            ExtensionObject filter = d.ReadExtensionObject("MonitoringParameters.Filter");
            uint queueSize = d.ReadUInt32("MonitoringParameters.QueueSize");
            bool discardOldest = d.ReadBoolean("MonitoringParameters.DiscardOldest");
            results[i] = CreateItem(server, subscription, item, mode, handle, sampling, filter, queueSize, discardOldest, (TimestampsToReturn)timestamps);
        }

        return UaServerCodec.Response(ServiceIds.CreateMonitoredItemsResponse, h.RequestHandle, server.Now, e =>
        {
            e.WriteArray(results, static (w, r) =>
            {
                w.WriteStatusCode(r.Status);
                w.WriteUInt32(r.Id);
                w.WriteDouble(r.Sampling);
                w.WriteUInt32(r.Queue);
                w.WriteExtensionObject(null); // FilterResult
            });
            e.WriteInt32(-1);
        });
    }

    private static (StatusCode, uint, double, uint) CreateItem(
        UaServer server, ServerSubscription subscription, ReadValueId id, int mode, uint handle, double sampling, ExtensionObject filterObject, uint queueSize, bool discardOldest, TimestampsToReturn timestamps)
    {
        UaAddressSpace space = server.AddressSpace;
        UaNode? node = space.Find(id.NodeId);
        if (node is null)
        {
            return (StatusCode.BadNodeIdUnknown, 0, 0, 0);
        }

        if (ReadAttribute(space, node, id.AttributeId, server.Now).Status.Code == StatusCode.BadAttributeIdInvalid)
        {
            return (StatusCode.BadAttributeIdInvalid, 0, 0, 0);
        }

        if (mode is < 0 or > 2)
        {
            return (UaServerStatus.BadMonitoringModeInvalid, 0, 0, 0);
        }

        if (id.IndexRange is not null)
        {
            return (UaServerStatus.BadIndexRangeInvalid, 0, 0, 0);
        }

        DataChangeFilter? filter = null;
        if (!filterObject.IsNull)
        {
            if (filterObject.TypeId != new NodeId(ServiceIds.DataChangeFilter) || filterObject.Encoding != ExtensionObjectEncoding.Binary)
            {
                return (UaServerStatus.BadMonitoredItemFilterUnsupported, 0, 0, 0);
            }

            var f = new UaBinaryDecoder(filterObject.Body, UaDecoderLimits.Default);
            int trigger = f.ReadInt32("DataChangeFilter.Trigger");
            uint deadbandType = f.ReadUInt32("DataChangeFilter.DeadbandType");
            double deadband = f.ReadDouble("DataChangeFilter.DeadbandValue");
            if (id.AttributeId != AttributeIds.Value)
            {
                return (UaServerStatus.BadFilterNotAllowed, 0, 0, 0);
            }

            if (trigger is < 0 or > 2 || deadbandType > 2 || deadband < 0 || double.IsNaN(deadband))
            {
                return (UaServerStatus.BadDeadbandFilterInvalid, 0, 0, 0);
            }

            if (deadbandType == (uint)DeadbandType.Percent)
            {
                // A percent deadband needs an EURange property; this server's variables have none.
                return (UaServerStatus.BadMonitoredItemFilterUnsupported, 0, 0, 0);
            }

            if (deadbandType == (uint)DeadbandType.Absolute && !space.IsSubtypeOf(node.DataType, UaNodeIds.Number))
            {
                return (UaServerStatus.BadFilterNotAllowed, 0, 0, 0);
            }

            filter = new DataChangeFilter((DataChangeTrigger)trigger, (DeadbandType)deadbandType, deadband);
        }

        double revised = sampling < 0 || double.IsNaN(sampling) ? subscription.PublishingInterval : sampling;
        revised = Math.Min(Math.Max(revised, Math.Max(server.Options.MinSamplingInterval.TotalMilliseconds, node.MinimumSamplingInterval)), 3_600_000);
        uint queue = Math.Clamp(queueSize, 1, (uint)server.Options.MaxQueueSize);
        var item = new ServerMonitoredItem(subscription, server.NextMonitoredItemId(), node, id.AttributeId, handle, (MonitoringMode)mode, revised, queue, discardOldest, filter, timestamps);
        subscription.Add(item);
        if (item.IsEventDriven)
        {
            // Registered before the first read: a change from here on waits for the session lock held now and
            // is sampled after the initial value (an equal value is filtered as no change).
            node.AddMonitor(item);
        }

        DataValue initial = ReadAttribute(space, node, id.AttributeId, server.Now);
        item.Start(id.AttributeId == AttributeIds.Value ? initial with { ServerTimestamp = server.Now } : initial);

        return (default, item.Id, revised, queue);
    }

    private static ReadOnlyMemory<byte> DeleteMonitoredItems(UaServer server, ServerSession session, UaRequestHeader h, ref UaBinaryDecoder d)
    {
        uint subscriptionId = d.ReadUInt32("DeleteMonitoredItemsRequest.SubscriptionId");
        ServerSubscription subscription = Subscription(session, subscriptionId);
        int count = Count(ref d, "DeleteMonitoredItemsRequest.MonitoredItemIds", server.Options.MaxMonitoredItemsPerCall, 4);
        var results = new StatusCode[count];
        for (int i = 0; i < count; i++)
        {
            results[i] = subscription.Remove(d.ReadUInt32("MonitoredItemId")) ? default : new StatusCode(UaServerStatus.BadMonitoredItemIdInvalid);
        }

        return StatusResults(server, ServiceIds.DeleteMonitoredItemsResponse, h, results);
    }

    private static ReadOnlyMemory<byte> Publish(UaServer server, ServerSession session, UaServerConnection connection, uint requestId, UaRequestHeader h, ref UaBinaryDecoder d)
    {
        var acks = d.ReadArray("PublishRequest.SubscriptionAcknowledgements", static (ref UaBinaryDecoder x, string f) => (x.ReadUInt32(f), x.ReadUInt32(f)), 8);
        var results = new StatusCode[acks.Length];
        for (int i = 0; i < acks.Length; i++)
        {
            results[i] = session.Subscriptions.TryGetValue(acks[i].Item1, out ServerSubscription? s)
                ? s.Acknowledge(acks[i].Item2)
                : new StatusCode(StatusCode.BadSubscriptionIdInvalid);
        }

        DateTime deadline = h.TimeoutHint == 0 ? DateTime.MaxValue : server.Now.AddMilliseconds(h.TimeoutHint);
        session.QueuePublish(new PendingPublish(connection, requestId, h.RequestHandle, deadline, results));
        return default; // answered when a subscription publishes
    }

    private static ReadOnlyMemory<byte> Republish(UaServer server, ServerSession session, UaRequestHeader h, ref UaBinaryDecoder d)
    {
        uint subscriptionId = d.ReadUInt32("RepublishRequest.SubscriptionId");
        uint sequence = d.ReadUInt32("RepublishRequest.RetransmitSequenceNumber");
        NotificationMessage message = Subscription(session, subscriptionId).Find(sequence) ?? throw new UaServiceFault(StatusCode.BadMessageNotAvailable);
        return UaServerCodec.Response(ServiceIds.RepublishResponse, h.RequestHandle, server.Now, e => UaServerCodec.WriteNotificationMessage(e, message));
    }
}
