using Microsoft.Extensions.Logging;

namespace FactoryGateway.OpcUa.Server;

/// <summary>Log messages of the OPC UA server subset (event ids 4100–4149).</summary>
internal static partial class UaServerLog
{
    [LoggerMessage(4100, LogLevel.Information, "OPC UA server listening on {EndpointUrl}")]
    public static partial void Listening(ILogger logger, string endpointUrl);

    [LoggerMessage(4101, LogLevel.Debug, "OPC UA connection {ConnectionId} from {Remote} accepted")]
    public static partial void Accepted(ILogger logger, long connectionId, string remote);

    [LoggerMessage(4102, LogLevel.Warning, "OPC UA connection {ConnectionId} from {Remote} closed with {Status}: {Reason}")]
    public static partial void ConnectionFault(ILogger logger, long connectionId, string remote, string status, string reason);

    [LoggerMessage(4103, LogLevel.Debug, "OPC UA connection {ConnectionId} from {Remote} lost: {Reason}")]
    public static partial void ConnectionLost(ILogger logger, long connectionId, string remote, string reason);

    [LoggerMessage(4104, LogLevel.Debug, "OPC UA connection {ConnectionId}: secure channel {ChannelId} token {TokenId} {What}, lifetime {LifetimeMs} ms")]
    public static partial void ChannelOpened(ILogger logger, long connectionId, uint channelId, uint tokenId, string what, uint lifetimeMs);

    [LoggerMessage(4105, LogLevel.Debug, "OPC UA connection {ConnectionId}: secure channel {ChannelId} closed by the client")]
    public static partial void ChannelClosed(ILogger logger, long connectionId, uint channelId);

    [LoggerMessage(4106, LogLevel.Warning, "OPC UA connection {ConnectionId} from {Remote}: send queue full ({Capacity} messages); closing the connection (overflow policy CloseConnection)")]
    public static partial void SendQueueOverflow(ILogger logger, long connectionId, string remote, int capacity);

    [LoggerMessage(4107, LogLevel.Information, "OPC UA session {SessionId} '{SessionName}' activated ({Identity})")]
    public static partial void SessionActivated(ILogger logger, string sessionId, string? sessionName, string identity);

    [LoggerMessage(4108, LogLevel.Warning, "OPC UA session activation refused for user '{UserName}': {Status}")]
    public static partial void LoginRefused(ILogger logger, string? userName, string status);

    [LoggerMessage(4109, LogLevel.Information, "OPC UA session {SessionId} closed: {Reason}")]
    public static partial void SessionClosed(ILogger logger, string sessionId, string reason);

    [LoggerMessage(4110, LogLevel.Error, "OPC UA service {Service} failed unexpectedly; answered with BadInternalError")]
    public static partial void ServiceFailed(ILogger logger, string service, Exception exception);

    [LoggerMessage(4111, LogLevel.Information, "OPC UA subscription {SubscriptionId} expired (no Publish request for {LifetimeCount} publishing intervals)")]
    public static partial void SubscriptionExpired(ILogger logger, uint subscriptionId, uint lifetimeCount);

    [LoggerMessage(4112, LogLevel.Warning, "OPC UA connection {ConnectionId} from {Remote}: client certificate refused with {Status}: {Reason}")]
    public static partial void ClientCertificateRejected(ILogger logger, long connectionId, string remote, string status, string reason);

    [LoggerMessage(4113, LogLevel.Warning, "OPC UA session {SessionId} refused: {Status}: {Reason}")]
    public static partial void SessionSecurityRefused(ILogger logger, string sessionId, string status, string reason);
}
