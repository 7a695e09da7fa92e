using FactoryGateway.OpcUa.Encoding;
using FactoryGateway.OpcUa.Services;

namespace FactoryGateway.OpcUa.Tests;

/// <summary>The event structures of OPC 10000-4 §7.22.3 and §7.25.3 in the binary encoding of OPC 10000-6 §5.2.</summary>
public sealed class EventEncodingTests
{
    private static byte[] Hex(string hex) => Convert.FromHexString(hex.Replace(" ", string.Empty, StringComparison.Ordinal));

    [Fact]
    public void EventFilter_encodes_its_select_clauses_and_an_empty_where_clause_byte_for_byte()
    {
        var filter = new EventFilter(
        [
            SimpleAttributeOperand.Field(WellKnownNodes.BaseEventType, "Severity"),
            new SimpleAttributeOperand(WellKnownNodes.ConditionType, [], AttributeIds.NodeId),
        ]);
        byte[] body = BinaryEncodingTests.Encode(e => ((IUaEncodable)filter).Encode(e));

        // Two SimpleAttributeOperands: TypeDefinitionId (four-byte NodeId 0x01, ns 0, i=2041 / i=2782), BrowsePath
        // (one QualifiedName "Severity" / none), AttributeId 13 / 1, IndexRange null; then the where clause with 0 elements.
        byte[] expected = Hex(
            "02000000"
            + "01 00 F907" + "01000000" + "0000 08000000 5365766572697479" + "0D000000" + "FFFFFFFF"
            + "01 00 DE0A" + "00000000" + "01000000" + "FFFFFFFF"
            + "00000000");
        Assert.Equal(expected, body);
        Assert.Equal(ServiceIds.EventFilter, ((IUaEncodable)filter).BinaryEncodingId);

        var d = new UaBinaryDecoder(body);
        Assert.Equal(filter, StructureCodec.ReadEventFilter(ref d));
        Assert.Equal(0, d.Remaining);
    }

    [Fact]
    public void EventFilter_with_an_OfType_where_clause_round_trips()
    {
        var filter = new EventFilter([SimpleAttributeOperand.Field(WellKnownNodes.BaseEventType, "EventType")]) { OfType = WellKnownNodes.GeneralModelChangeEventType };
        byte[] body = BinaryEncodingTests.Encode(e => ((IUaEncodable)filter).Encode(e));

        // The where clause: one element, operator 14 (OfType), one operand: ExtensionObject i=597 (LiteralOperand), binary,
        // 5 bytes: a Variant NodeId (0x11) in the four-byte form i=2133.
        Assert.EndsWith("01000000" + "0E000000" + "01000000" + "01005502" + "01" + "05000000" + "1101005508", Convert.ToHexString(body), StringComparison.Ordinal);
        var d = new UaBinaryDecoder(body.AsMemory());
        Assert.Equal(filter, StructureCodec.ReadEventFilter(ref d));
    }

    [Fact]
    public void EventNotificationList_decodes_inside_a_notification_message_extension_object()
    {
        var list = new EventNotificationList(
        [
            new EventFieldList(7, [new Variant((ushort)800), new Variant(new NodeId("Mill1", 1)), Variant.Null, new Variant(true)]),
            new EventFieldList(8, []),
        ]);
        byte[] bytes = BinaryEncodingTests.Encode(e => e.WriteExtensionObject(new ExtensionObject(new EventNotificationListBody(list))));

        ExtensionObject eo = new UaBinaryDecoder(bytes.AsMemory()).ReadExtensionObject("eo");

        Assert.Equal(new NodeId(ServiceIds.EventNotificationList), eo.TypeId);
        EventNotificationList decoded = Assert.IsType<EventNotificationList>(eo.Value);
        Assert.Equal([7u, 8u], decoded.Events.Select(e => e.ClientHandle));
        Assert.Equal(list.Events[0].EventFields, decoded.Events[0].EventFields);
        Assert.Empty(decoded.Events[1].EventFields);
    }

    [Fact]
    public void EventFilterResult_decodes_select_and_where_clause_results()
    {
        var result = new EventFilterResult([new StatusCode(0), new StatusCode(StatusCode.BadNodeIdUnknown)], [new StatusCode(0)]);
        byte[] body = BinaryEncodingTests.Encode(e => StructureCodec.WriteEventFilterResult(e, result));

        var d = new UaBinaryDecoder(body);
        EventFilterResult decoded = StructureCodec.ReadEventFilterResult(ref d);

        Assert.Equal(result.SelectClauseResults, decoded.SelectClauseResults);
        Assert.Equal(result.WhereClauseResults, decoded.WhereClauseResults);
        Assert.Equal(0, d.Remaining);
    }

    [Fact]
    public void A_forged_event_count_fails_with_the_field_and_position()
    {
        // An EventNotificationList claiming a million events in 8 bytes.
        byte[] bytes = Hex("40420F00 00000000");

        var ex = Assert.Throws<UaDecodeException>(() =>
        {
            var d = new UaBinaryDecoder(bytes);
            StructureCodec.ReadEventNotificationList(ref d);
        });
        Assert.Contains("EventNotificationList.Events", ex.Message, StringComparison.Ordinal);
    }
}
