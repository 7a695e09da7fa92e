using FactoryGateway.OpcUa.Encoding;
using Microsoft.Extensions.Logging;

namespace FactoryGateway.OpcUa.Client;

/// <summary>
/// Log messages of the OPC UA connection actor (event ids 4000–4049). Identities appear as their token
/// type and user name only; passwords are never logged.
/// </summary>
internal static partial class UaConnectionLog
{
    [LoggerMessage(4000, LogLevel.Information, "OPC UA {Endpoint}: connecting (attempt {Attempt}) as {Identity}")]
    public static partial void Connecting(ILogger logger, string endpoint, int attempt, string identity);

    [LoggerMessage(4001, LogLevel.Information, "OPC UA {Endpoint}: connected, session {SessionId}, {Subscriptions} subscription(s), {Items} monitored item(s) ({Recovery})")]
    public static partial void Connected(ILogger logger, string endpoint, string sessionId, int subscriptions, int items, string recovery);

    [LoggerMessage(4002, LogLevel.Warning, "OPC UA {Endpoint}: connection attempt {Attempt} failed ({Status}): {Reason}; retrying in {Delay}")]
    public static partial void ConnectFailed(ILogger logger, string endpoint, int attempt, string status, string reason, TimeSpan delay);

    [LoggerMessage(4003, LogLevel.Warning, "OPC UA {Endpoint}: connection lost ({Status}): {Reason}")]
    public static partial void ConnectionLost(ILogger logger, string endpoint, string status, string reason);

    [LoggerMessage(4004, LogLevel.Information, "OPC UA {Endpoint}: data gap of {Duration} closed ({Recovery})")]
    public static partial void GapClosed(ILogger logger, string endpoint, TimeSpan duration, UaRecovery recovery);

    [LoggerMessage(4005, LogLevel.Information, "OPC UA {Endpoint}: subscription {Subscription} ({SubscriptionId}) transferred to the new session")]
    public static partial void Transferred(ILogger logger, string endpoint, string subscription, uint subscriptionId);

    [LoggerMessage(4006, LogLevel.Information, "OPC UA {Endpoint}: subscription {Subscription} ({SubscriptionId}) could not be transferred ({Status}); creating it again")]
    public static partial void TransferRefused(ILogger logger, string endpoint, string subscription, uint subscriptionId, StatusCode status);

    [LoggerMessage(4007, LogLevel.Warning, "OPC UA {Endpoint}: item {Key} ({Node}) of subscription {Subscription} is unavailable ({Status}): {Reason}")]
    public static partial void ItemUnavailable(ILogger logger, string endpoint, string subscription, string key, string node, StatusCode status, string reason);

    [LoggerMessage(4008, LogLevel.Information, "OPC UA {Endpoint}: namespace array changed across the reconnect; node ids resolved again ({Count} namespace(s))")]
    public static partial void NamespacesChanged(ILogger logger, string endpoint, int count);

    [LoggerMessage(4009, LogLevel.Debug, "OPC UA {Endpoint}: delivery channel full; the oldest event was dropped")]
    public static partial void EventDropped(ILogger logger, string endpoint);

    [LoggerMessage(4010, LogLevel.Information, "OPC UA {Endpoint}: stopped")]
    public static partial void Stopped(ILogger logger, string endpoint);

    [LoggerMessage(4011, LogLevel.Debug, "OPC UA {Endpoint}: closing the old session failed: {Reason}")]
    public static partial void CloseFailed(ILogger logger, string endpoint, string reason);

    [LoggerMessage(4012, LogLevel.Warning, "OPC UA {Endpoint}: ConditionRefresh on subscription {Subscription} failed ({Status}): {Reason}; alarms already active are seen only when they next change")]
    public static partial void ConditionRefreshFailed(ILogger logger, string endpoint, string subscription, StatusCode status, string reason);
}
