using FactoryGateway.OpcUa.Encoding;
using FactoryGateway.OpcUa.Services;

namespace FactoryGateway.Edge.Sources.OpcUa;

/// <summary>One event as the edge reads it: the fields of <see cref="AlarmEvents.Filter"/>, decoded.</summary>
/// <param name="ConditionKey">The condition the event is about (its ConditionId, else its type and source); null for an event that is no condition.</param>
internal sealed record AlarmEvent(
    NodeId? EventType, NodeId? SourceNode, DateTime Time, ushort Severity, string? Message, string? ConditionKey, bool? Active, bool? Retain)
{
    public bool IsRefreshStart => EventType == WellKnownNodes.RefreshStartEventType;

    public bool IsRefreshEnd => EventType == WellKnownNodes.RefreshEndEventType;
}

/// <summary>
/// The event filter of a device's event item (OPC 10000-4 §7.22.3; fields of BaseEventType, ConditionType and
/// AlarmConditionType, OPC 10000-5 §6.4.2 and OPC 10000-9 §5.5, §5.8) and the decoding of its events.
/// </summary>
internal static class AlarmEvents
{
    // 0: EventId (selected so that a log can name the event; not used in the state).
    private const int EventType = 1;
    private const int SourceNode = 2;
    private const int Time = 3;
    private const int Severity = 4;
    private const int Message = 5;
    private const int ConditionId = 6;
    private const int ActiveStateId = 7;
    private const int Retain = 8;

    /// <summary>The select clauses, in the order of the constants above.</summary>
    public static EventFilter Filter { get; } = new(
    [
        SimpleAttributeOperand.Field(WellKnownNodes.BaseEventType, "EventId"),
        SimpleAttributeOperand.Field(WellKnownNodes.BaseEventType, "EventType"),
        SimpleAttributeOperand.Field(WellKnownNodes.BaseEventType, "SourceNode"),
        SimpleAttributeOperand.Field(WellKnownNodes.BaseEventType, "Time"),
        SimpleAttributeOperand.Field(WellKnownNodes.BaseEventType, "Severity"),
        SimpleAttributeOperand.Field(WellKnownNodes.BaseEventType, "Message"),
        // OPC 10000-4 §7.7.4: the ConditionId is the NodeId attribute of the ConditionType with an empty path.
        new SimpleAttributeOperand(WellKnownNodes.ConditionType, [], AttributeIds.NodeId),
        SimpleAttributeOperand.Field(WellKnownNodes.AlarmConditionType, "ActiveState", "Id"),
        SimpleAttributeOperand.Field(WellKnownNodes.ConditionType, "Retain"),
    ]);

    /// <summary>Decodes one event's fields; a field the server could not select arrives as null (or a StatusCode) and reads as unknown.</summary>
    public static AlarmEvent Decode(IReadOnlyList<Variant> fields)
    {
        ArgumentNullException.ThrowIfNull(fields);
        Variant Field(int i) => i < fields.Count ? fields[i] : Variant.Null;
        NodeId? type = Field(EventType).Value as NodeId;
        NodeId? source = Field(SourceNode).Value as NodeId;
        DateTime time = Field(Time).Value is DateTime t ? t : default;
        ushort severity = Field(Severity).TryGetInt64(out long s) && s is >= 0 and <= ushort.MaxValue ? (ushort)s : (ushort)0;
        string? message = Field(Message).Value switch
        {
            LocalizedText l => l.Text,
            string text => text,
            _ => null,
        };
        bool? active = Field(ActiveStateId).Value is bool a ? a : null;
        bool? retain = Field(Retain).Value is bool r ? r : null;
        string? key = Field(ConditionId).Value is NodeId { IsNull: false } condition ? condition.ToString()
            : active is not null && type is not null ? $"{type}@{source}"
            : null;
        return new AlarmEvent(type, source, time, severity, message, key, active, retain);
    }
}
