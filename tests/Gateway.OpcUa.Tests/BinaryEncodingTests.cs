using System.Buffers;
using FactoryGateway.OpcUa.Encoding;

namespace FactoryGateway.OpcUa.Tests;

/// <summary>Byte vectors from OPC 10000-6 §5.2 examples and hand-checked encodings of the built-in types.</summary>
public sealed class BinaryEncodingTests
{
    internal static byte[] Encode(Action<UaBinaryEncoder> write)
    {
        var buffer = new ArrayBufferWriter<byte>();
        write(new UaBinaryEncoder(buffer));
        return buffer.WrittenSpan.ToArray();
    }

    private static byte[] Hex(string hex) => Convert.FromHexString(hex.Replace(" ", string.Empty, StringComparison.Ordinal));

    [Fact]
    public void String_matches_the_specification_example()
    {
        // OPC 10000-6 §5.2.2.4: "水Boy" is 6 UTF-8 bytes after an Int32 length.
        byte[] expected = Hex("06000000 E6B0B4 426F79");

        Assert.Equal(expected, Encode(e => e.WriteString("水Boy")));
        var d = new UaBinaryDecoder(expected);
        Assert.Equal("水Boy", d.ReadString("s"));
        Assert.Equal(0, d.Remaining);
    }

    [Fact]
    public void Null_and_empty_strings_are_distinct()
    {
        Assert.Equal(Hex("FFFFFFFF"), Encode(e => e.WriteString(null)));
        Assert.Equal(Hex("00000000"), Encode(e => e.WriteString(string.Empty)));
        var d = new UaBinaryDecoder(Hex("FFFFFFFF 00000000"));
        Assert.Null(d.ReadString("a"));
        Assert.Equal(string.Empty, d.ReadString("b"));
    }

    [Fact]
    public void Guid_matches_the_specification_example()
    {
        // OPC 10000-6 §5.1.3: {72962B91-FA75-4AE6-8D28-B404DC7DAF63}.
        var guid = Guid.Parse("72962B91-FA75-4AE6-8D28-B404DC7DAF63");
        byte[] expected = Hex("912B9672 75FA E64A 8D28B404DC7DAF63");

        Assert.Equal(expected, Encode(e => e.WriteGuid(guid)));
        Assert.Equal(guid, new UaBinaryDecoder(expected).ReadGuid("g"));
    }

    [Theory]
    [InlineData("i=114", "0072")]                        // two-byte
    [InlineData("ns=5;i=1025", "01050104")]              // four-byte
    [InlineData("ns=300;i=70000", "022C01 70110100")]    // numeric
    [InlineData("ns=1;s=Hot水", "030100 06000000 486F74E6B0B4")]
    [InlineData("ns=4;g=72962b91-fa75-4ae6-8d28-b404dc7daf63", "040400 912B967275FAE64A8D28B404DC7DAF63")]
    [InlineData("ns=2;b=AQID", "050200 03000000 010203")]
    public void NodeId_encodings_match_the_specification(string text, string hex)
    {
        NodeId id = NodeId.Parse(text);

        Assert.Equal(Hex(hex), Encode(e => e.WriteNodeId(id)));
        Assert.Equal(id, new UaBinaryDecoder(Hex(hex)).ReadNodeId("n"));
        Assert.Equal(text, id.ToString());
    }

    [Fact]
    public void ExpandedNodeId_carries_namespace_uri_and_server_index_flags()
    {
        ExpandedNodeId id = ExpandedNodeId.Parse("svr=2;nsu=urn:a;i=5");
        byte[] bytes = Encode(e => e.WriteExpandedNodeId(id));

        // 0xC0 flags | two-byte encoding, id 5, String "urn:a", UInt32 2.
        Assert.Equal(Hex("C005 05000000 75726E3A61 02000000"), bytes);
        Assert.Equal(id, new UaBinaryDecoder(bytes).ReadExpandedNodeId("x"));
    }

    [Fact]
    public void A_NodeId_with_ExpandedNodeId_flags_is_rejected()
    {
        var error = Assert.Throws<UaDecodeException>(() => new UaBinaryDecoder(Hex("8005")).ReadNodeId("ReadValueId.NodeId"));

        Assert.Equal("position 0, field 'ReadValueId.NodeId': NodeId encoding byte 0x80 carries ExpandedNodeId flags", error.Message);
    }

    [Fact]
    public void Numbers_are_little_endian_IEEE_754()
    {
        Assert.Equal(Hex("00CA9A3B"), Encode(e => e.WriteInt32(1_000_000_000)));
        Assert.Equal(Hex("FEFF"), Encode(e => e.WriteInt16(-2)));
        Assert.Equal(Hex("0000D0C0"), Encode(e => e.WriteFloat(-6.5f)));
        Assert.Equal(Hex("000000000000F03F"), Encode(e => e.WriteDouble(1.0)));
        Assert.Equal(Hex("01"), Encode(e => e.WriteBoolean(true)));
        var d = new UaBinaryDecoder(Hex("0000D0C0 FEFF 02"));
        Assert.Equal(-6.5f, d.ReadFloat("f"));
        Assert.Equal(-2, d.ReadInt16("s"));
        Assert.True(d.ReadBoolean("b")); // any non-zero byte is true
    }

    [Fact]
    public void DateTime_is_100ns_ticks_since_1601_and_clamps_at_both_ends()
    {
        var t = new DateTime(2024, 5, 1, 12, 0, 0, DateTimeKind.Utc).AddTicks(1234567);
        byte[] bytes = Encode(e => e.WriteDateTime(t));

        Assert.Equal(t.ToFileTimeUtc(), BitConverter.ToInt64(bytes));
        Assert.Equal(t, new UaBinaryDecoder(bytes).ReadDateTime("t"));
        Assert.Equal(Hex("0000000000000000"), Encode(e => e.WriteDateTime(new DateTime(1500, 1, 1, 0, 0, 0, DateTimeKind.Utc))));
        Assert.Equal(Hex("FFFFFFFFFFFFFF7F"), Encode(e => e.WriteDateTime(DateTime.MaxValue)));
        Assert.Equal(DateTime.MinValue, new UaBinaryDecoder(Hex("0000000000000000")).ReadDateTime("t"));
        Assert.Equal(DateTime.MinValue, new UaBinaryDecoder(Hex("FFFFFFFFFFFFFFFF")).ReadDateTime("t"));
        Assert.Equal(DateTime.MaxValue, new UaBinaryDecoder(Hex("FFFFFFFFFFFFFF7F")).ReadDateTime("t"));
    }

    [Fact]
    public void LocalizedText_and_QualifiedName_encode_their_masks()
    {
        Assert.Equal(Hex("03 02000000 656E 02000000 4869"), Encode(e => e.WriteLocalizedText(new LocalizedText("en", "Hi"))));
        Assert.Equal(Hex("02 02000000 4869"), Encode(e => e.WriteLocalizedText(new LocalizedText(null, "Hi"))));
        Assert.Equal(Hex("00"), Encode(e => e.WriteLocalizedText(null)));
        Assert.Equal(Hex("0200 0A000000 5061727473546F74616C"), Encode(e => e.WriteQualifiedName(new QualifiedName(2, "PartsTotal"))));
        Assert.Equal(new QualifiedName(2, "PartsTotal"), QualifiedName.Parse("2:PartsTotal"));
    }

    [Fact]
    public void A_Variant_matrix_carries_its_dimensions()
    {
        Variant matrix = Variant.FromArray(BuiltInType.Int32, (int[])[1, 2, 3, 4, 5, 6], [2, 3]);
        byte[] bytes = Encode(e => e.WriteVariant(matrix));

        // 0xC6 = Int32 | array | dimensions; 6 elements; 2 dimensions [2, 3].
        Assert.Equal(Hex("C6 06000000 01000000 02000000 03000000 04000000 05000000 06000000 02000000 02000000 03000000"), bytes);
        Variant decoded = new UaBinaryDecoder(bytes).ReadVariant("v");
        Assert.Equal(matrix, decoded);
        Assert.Equal([2, 3], decoded.ArrayDimensions);
    }

    [Fact]
    public void Variant_dimensions_that_do_not_match_the_array_are_rejected()
    {
        byte[] bytes = Hex("C6 02000000 01000000 02000000 02000000 02000000 02000000");

        var error = Assert.Throws<UaDecodeException>(() => new UaBinaryDecoder(bytes).ReadVariant("Value"));

        Assert.Contains("ArrayDimensions [2,2] do not match an array of 2", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DataValue_with_picoseconds_round_trips_every_field()
    {
        var value = new DataValue(new Variant(42.5), new StatusCode(0x4092_0000), new DateTime(2025, 1, 2, 3, 4, 5, DateTimeKind.Utc), new DateTime(2025, 1, 2, 3, 4, 6, DateTimeKind.Utc))
        {
            SourcePicoseconds = 9_999,
            ServerPicoseconds = 10,
        };
        byte[] bytes = Encode(e => e.WriteDataValue(value));

        Assert.Equal(0x3F, bytes[0]);
        Assert.Equal(value, new UaBinaryDecoder(bytes).ReadDataValue("dv"));
        Assert.Equal("UncertainInitialValue (0x40920000)", value.Status.ToString());
    }

    [Fact]
    public void An_unknown_ExtensionObject_keeps_its_bytes_and_re_encodes_exactly()
    {
        byte[] bytes = Hex("0102 8913 01 03000000 0A0B0C");  // ns=2;i=5001, binary, 3-byte body

        ExtensionObject eo = new UaBinaryDecoder(bytes.AsMemory()).ReadExtensionObject("eo");

        Assert.Equal(new NodeId(5001u, 2), eo.TypeId);
        Assert.Null(eo.Value);
        Assert.Equal(Hex("0A0B0C"), eo.Body.ToArray());
        Assert.Equal(bytes, Encode(e => e.WriteExtensionObject(eo)));
    }

    [Fact]
    public void DiagnosticInfo_nests_inner_diagnostics()
    {
        var info = new DiagnosticInfo { SymbolicId = 1, Locale = 2, AdditionalInfo = "x", InnerStatusCode = new StatusCode(StatusCode.BadTimeout), InnerDiagnosticInfo = new DiagnosticInfo { NamespaceUri = 3 } };
        byte[] bytes = Encode(e => e.WriteDiagnosticInfo(info));

        Assert.Equal(info, new UaBinaryDecoder(bytes).ReadDiagnosticInfo("di"));
    }

    [Fact]
    public void ByteStrings_are_slices_of_the_message_not_copies()
    {
        byte[] message = Hex("03000000 010203");

        ReadOnlyMemory<byte> slice = new UaBinaryDecoder(message.AsMemory()).ReadByteString("b");

        Assert.True(System.Runtime.InteropServices.MemoryMarshal.TryGetArray(slice, out ArraySegment<byte> segment));
        Assert.Same(message, segment.Array);
        Assert.Equal(4, segment.Offset);
    }

    [Fact]
    public void Status_codes_have_symbolic_names_and_severity()
    {
        var status = new StatusCode(StatusCode.BadNodeIdUnknown);

        Assert.True(status.IsBad);
        Assert.Equal("BadNodeIdUnknown", status.Name);
        Assert.Equal("BadNodeIdUnknown (0x80340000)", status.ToString());
        Assert.True(new StatusCode(0).IsGood);
        Assert.Equal("0x80FF0000", new StatusCode(0x80FF_0000).ToString());
    }
}
