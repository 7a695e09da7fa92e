using Microsoft.Extensions.Logging;

namespace FactoryGateway.Edge.Sources.OpcUa;

/// <summary>Log messages of the edge's OPC UA source (event ids 5600–5649). Passwords are never logged.</summary>
internal static partial class OpcUaSourceLog
{
    [LoggerMessage(5600, LogLevel.Information, "OPC UA source {Source}: device {Device} is a {Profile} at {Root} with {Items} monitored item(s)")]
    public static partial void DeviceFound(ILogger logger, string source, string device, string profile, string root, int items);

    [LoggerMessage(5601, LogLevel.Warning, "OPC UA source {Source}: discovery failed ({Reason}); retrying in {Delay}")]
    public static partial void DiscoveryFailed(ILogger logger, string source, string reason, TimeSpan delay);

    [LoggerMessage(5602, LogLevel.Information, "OPC UA source {Source}: connected")]
    public static partial void Connected(ILogger logger, string source);

    [LoggerMessage(5603, LogLevel.Warning, "OPC UA source {Source}: disconnected: {Reason}")]
    public static partial void Disconnected(ILogger logger, string source, string reason);

    [LoggerMessage(5604, LogLevel.Warning, "OPC UA source {Source}: reading the nameplates failed: {Reason}")]
    public static partial void NameplateFailed(ILogger logger, string source, string reason);

    [LoggerMessage(5605, LogLevel.Warning, "OPC UA source {Source}: device {Device} item {Item} is unavailable (0x{Status:X8}): {Reason}")]
    public static partial void ItemUnavailable(ILogger logger, string source, string device, string item, uint status, string reason);

    [LoggerMessage(5607, LogLevel.Warning, "OPC UA source {Source}: device {Device} is not on the server as configured and is not read until the edge restarts: {Reason}")]
    public static partial void DeviceNotFound(ILogger logger, string source, string device, string reason);

    [LoggerMessage(5606, LogLevel.Information, "OPC UA source {Source}: data gap of {Duration} ({Recovery})")]
    public static partial void DataGap(ILogger logger, string source, TimeSpan duration, string recovery);

    [LoggerMessage(5608, LogLevel.Information, "OPC UA source {Source}: device {Device} takes its alarms from the events of {Notifier} (source filter: {Sources} node(s), 0 = every event)")]
    public static partial void AlarmsFrom(ILogger logger, string source, string device, string notifier, int sources);

    [LoggerMessage(5609, LogLevel.Warning, "OPC UA source {Source}: device {Device}: the server offers no events for it (no event notifier); alarms are not read")]
    public static partial void NoEvents(ILogger logger, string source, string device);

    [LoggerMessage(5610, LogLevel.Information, "OPC UA source {Source}: device {Device} alarm {Condition} severity {Severity} active {Active} ({Message}); {DownAlarms} down alarm(s) active")]
    public static partial void AlarmChanged(ILogger logger, string source, string device, string condition, ushort severity, bool active, string message, int downAlarms);

    [LoggerMessage(5611, LogLevel.Information, "OPC UA source {Source}: the server reports a model change; browsing for the devices again")]
    public static partial void ModelChanged(ILogger logger, string source);

    [LoggerMessage(5612, LogLevel.Warning, "OPC UA source {Source}: browsing for the devices again failed ({Reason}); the devices found keep streaming")]
    public static partial void RediscoveryFailed(ILogger logger, string source, string reason);

    [LoggerMessage(5613, LogLevel.Warning, "OPC UA source {Source}: device {Device} is no longer on the server: {Reason}")]
    public static partial void DeviceRemoved(ILogger logger, string source, string device, string reason);

    [LoggerMessage(5614, LogLevel.Information, "OPC UA source {Source}: the server offers no model change events ({Reason}); devices are browsed again every {Interval}")]
    public static partial void NoModelChangeEvents(ILogger logger, string source, string reason, TimeSpan interval);
}
