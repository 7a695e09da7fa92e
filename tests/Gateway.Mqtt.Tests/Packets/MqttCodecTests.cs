using System.Buffers;
using FactoryGateway.Mqtt.Packets;
using FactoryGateway.Testing;

namespace FactoryGateway.Mqtt.Tests.Packets;

public sealed class MqttCodecTests
{
    public static TheoryData<MqttProtocolVersion, string> Packets => SamplePackets.Names();

    [Theory]
    [MemberData(nameof(Packets))]
    public void Every_packet_round_trips_byte_for_byte(MqttProtocolVersion version, string name)
    {
        byte[] encoded = Encode(SamplePackets.Get(version, name), version);

        MqttPacket decoded = DecodeWhole(encoded, version);

        Assert.Equal(SamplePackets.Get(version, name).Type, decoded.Type);
        Assert.Equal(Convert.ToHexString(encoded), Convert.ToHexString(Encode(decoded, version)));
        Assert.Equal(encoded.Length, MqttPacketWriter.GetSize(decoded, version));
    }

    [Theory]
    [MemberData(nameof(Packets))]
    public void Every_prefix_of_a_packet_needs_more_data_and_consumes_nothing(MqttProtocolVersion version, string name)
    {
        byte[] encoded = Encode(SamplePackets.Get(version, name), version);
        var parser = new MqttPacketReader(version);

        for (int length = 0; length < encoded.Length; length++)
        {
            var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(encoded, 0, length));
            Assert.False(parser.TryRead(ref reader, out _), $"prefix of {length} bytes");
            Assert.Equal(0, reader.Consumed);
        }
    }

    [Theory]
    [MemberData(nameof(Packets))]
    public void A_packet_split_at_any_offset_decodes_the_same(MqttProtocolVersion version, string name)
    {
        byte[] encoded = Encode(SamplePackets.Get(version, name), version);
        string expected = Convert.ToHexString(encoded);
        var parser = new MqttPacketReader(version);

        for (int cut = 1; cut < encoded.Length; cut++)
        {
            var reader = new SequenceReader<byte>(SequenceSegments.Split(encoded, cut, cut + 3));
            Assert.True(parser.TryRead(ref reader, out MqttPacket? packet));
            Assert.Equal(encoded.Length, reader.Consumed);
            Assert.Equal(expected, Convert.ToHexString(Encode(packet, version)));
        }
    }

    [Fact]
    public void Fields_and_properties_survive_the_round_trip()
    {
        var connect = (ConnectPacket)DecodeWhole(Encode(SamplePackets.Get(MqttProtocolVersion.V500, "CONNECT full"), MqttProtocolVersion.V500), MqttProtocolVersion.V500);
        Assert.Equal("gateway-äöü-01", connect.ClientId);
        Assert.False(connect.CleanStart);
        Assert.Equal((ushort)15, connect.KeepAliveSeconds);
        Assert.Equal("edge", connect.UserName);
        Assert.Equal(new byte[] { 1, 2, 3, 0, 255 }, connect.Password!.Value.ToArray());
        Assert.Equal((uint)86_400, connect.Properties.SessionExpiryInterval);
        Assert.Equal((ushort)100, connect.Properties.ReceiveMaximum);
        Assert.Equal((uint)1_048_576, connect.Properties.MaximumPacketSize);
        Assert.Equal((ushort)16, connect.Properties.TopicAliasMaximum);
        Assert.Equal([new MqttUserProperty("site", "Kunshan-3")], connect.Properties.UserProperties);
        Assert.Equal("spBv1.0/STATE/host", connect.Will!.Topic);
        Assert.Equal(MqttQos.AtLeastOnce, connect.Will.Qos);
        Assert.True(connect.Will.Retain);
        Assert.Equal((uint)5, connect.Will.Properties.WillDelayInterval);
        Assert.Equal("OFFLINE"u8.ToArray(), connect.Will.Payload.ToArray());

        var publish = (PublishPacket)DecodeWhole(Encode(SamplePackets.Get(MqttProtocolVersion.V500, "PUBLISH qos2 dup retain"), MqttProtocolVersion.V500), MqttProtocolVersion.V500);
        Assert.True(publish.Dup);
        Assert.True(publish.Retain);
        Assert.Equal(MqttQos.ExactlyOnce, publish.Qos);
        Assert.Equal((ushort)65_535, publish.PacketId);
        Assert.Equal([1u, 268_435_455u], publish.Properties.SubscriptionIdentifiers);
        Assert.Equal((ushort)3, publish.Properties.TopicAlias);
        Assert.Equal(300, publish.Payload.Length);

        var subscribe = (SubscribePacket)DecodeWhole(Encode(SamplePackets.Get(MqttProtocolVersion.V500, "SUBSCRIBE"), MqttProtocolVersion.V500), MqttProtocolVersion.V500);
        Assert.Equal(new MqttSubscription("spBv1.0/#", MqttQos.ExactlyOnce) { NoLocal = true, RetainAsPublished = true, RetainHandling = MqttRetainHandling.DoNotSend }, subscribe.Subscriptions[1]);
        Assert.Equal("$share/ingest/factory/#", subscribe.Subscriptions[2].TopicFilter);
    }

    [Fact]
    public void Known_bytes_decode_as_the_specification_shows()
    {
        // MQTT 3.1.1 CONNECT as mosquitto_pub sends it: clean session, keep-alive 60, client id "c".
        byte[] connect = Convert.FromHexString("100D00044D5154540402003C000163");
        var packet = (ConnectPacket)DecodeWhole(connect, MqttProtocolVersion.V311);
        Assert.Equal(MqttProtocolVersion.V311, packet.ProtocolVersion);
        Assert.Equal("c", packet.ClientId);
        Assert.Equal((ushort)60, packet.KeepAliveSeconds);
        Assert.True(packet.CleanStart);

        // A remaining length of 321 is the two bytes C1 02 (MQTT 5.0 §1.5.5).
        byte[] big = Encode(new PublishPacket { Topic = "t", Payload = new byte[318] }, MqttProtocolVersion.V311);
        Assert.Equal("30C102", Convert.ToHexString(big, 0, 3));
    }

    [Fact]
    public void Two_packets_in_one_buffer_are_read_one_after_the_other_and_a_partial_third_waits()
    {
        byte[] one = Encode(new PublishPacket { Topic = "a/b", Payload = new byte[] { 1 } }, MqttProtocolVersion.V500);
        byte[] two = Encode(PingRespPacket.Instance, MqttProtocolVersion.V500);
        byte[] three = Encode(new PublishAckPacket(MqttPacketType.PubAck) { PacketId = 9 }, MqttProtocolVersion.V500);
        byte[] all = [.. one, .. two, .. three[..^1]];
        var parser = new MqttPacketReader(MqttProtocolVersion.V500);
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(all));

        Assert.True(parser.TryRead(ref reader, out MqttPacket? first));
        Assert.True(parser.TryRead(ref reader, out MqttPacket? second));
        Assert.False(parser.TryRead(ref reader, out _));

        Assert.IsType<PublishPacket>(first);
        Assert.IsType<PingRespPacket>(second);
        Assert.Equal(one.Length + two.Length, reader.Consumed);
    }

    public static TheoryData<MqttProtocolVersion, string, string> Malformed => new()
    {
        { MqttProtocolVersion.V500, "0000", "packet packet type at byte 0: packet type 0 is reserved" },
        { MqttProtocolVersion.V311, "F000", "packet packet type at byte 0: packet type 15 (AUTH) is reserved in MQTT 3.1.1" },
        { MqttProtocolVersion.V311, "3605000161000161", "PUBLISH fixed header flags at byte 0: QoS 3 is not a quality of service" },
        { MqttProtocolVersion.V311, "380300016100", "PUBLISH fixed header flags at byte 0: DUP is set on a QoS 0 message" },
        { MqttProtocolVersion.V311, "8006000100016100", "SUBSCRIBE fixed header flags at byte 0: flags are 0x0 where 0x2 is required" },
        { MqttProtocolVersion.V311, "C100", "PINGREQ fixed header flags at byte 0: flags are 0x1 where 0x0 is required" },
        { MqttProtocolVersion.V311, "30FFFFFFFF01", "PUBLISH remaining length at byte 1: variable byte integer is longer than 4 bytes" },
        { MqttProtocolVersion.V311, "308000", "PUBLISH remaining length at byte 1: variable byte integer is not in its shortest form" },
        { MqttProtocolVersion.V311, "30050003610062", "PUBLISH topic name at byte 2: contains U+0000 at character byte 1" },
        { MqttProtocolVersion.V311, "30040002C328", "PUBLISH topic name at byte 2: is not well-formed UTF-8" },
        { MqttProtocolVersion.V311, "30050003EDA080", "PUBLISH topic name at byte 2: is not well-formed UTF-8" },
        { MqttProtocolVersion.V311, "300500036172FF", "PUBLISH topic name at byte 2: is not well-formed UTF-8" },
        { MqttProtocolVersion.V311, "30050003612F2B", "PUBLISH topic name at byte 2: contains the wildcard '+'" },
        { MqttProtocolVersion.V311, "300400056162", "PUBLISH topic name at byte 2: length 5 exceeds the 2 byte(s) left in the packet" },
        { MqttProtocolVersion.V311, "30020000", "PUBLISH topic name at byte 2: is empty and no topic alias is given" },
        { MqttProtocolVersion.V500, "3003000000", "PUBLISH topic name at byte 2: is empty and no topic alias is given" },
        { MqttProtocolVersion.V311, "320400016100", "PUBLISH packet identifier at byte 5: the packet ends inside this field" },
        { MqttProtocolVersion.V311, "32050001610000", "PUBLISH packet identifier at byte 5: is 0" },
        { MqttProtocolVersion.V311, "4003000100", "PUBACK end of packet at byte 4: 1 byte(s) after the last field" },
        { MqttProtocolVersion.V311, "400100", "PUBACK packet identifier at byte 2: the packet ends inside this field" },
        { MqttProtocolVersion.V500, "4003000105", "PUBACK reason code at byte 4: 0x05 is not a reason code of PUBACK" },
        { MqttProtocolVersion.V500, "6003000110", "PUBREL fixed header flags at byte 0: flags are 0x0 where 0x2 is required" },
        { MqttProtocolVersion.V500, "6203000110", "PUBREL reason code at byte 4: 0x10 is not a reason code of PUBREL" },
        { MqttProtocolVersion.V500, "2006000003230001", "CONNACK property TopicAlias at byte 5: is not allowed in CONNACK" },
        { MqttProtocolVersion.V500, "200900000621000021000B", "CONNACK property ReceiveMaximum at byte 5: is 0" },
        { MqttProtocolVersion.V500, "200900000621000A21000B", "CONNACK property ReceiveMaximum at byte 8: appears more than once" },
        { MqttProtocolVersion.V500, "20050000020400", "CONNACK property identifier at byte 5: 0x04 is not a property identifier" },
        { MqttProtocolVersion.V500, "2003000005", "CONNACK properties length at byte 4: 5 byte(s) of properties exceed the 0 left in the packet" },
        { MqttProtocolVersion.V500, "20050000022502", "CONNACK property RetainAvailable at byte 5: value 2 is not 0 or 1" },
        { MqttProtocolVersion.V500, "200600000327000000", "CONNACK property MaximumPacketSize at byte 6: the packet ends inside this field" },
        { MqttProtocolVersion.V500, "2002008E", "CONNACK reason code at byte 3: 0x8E is not a reason code of CONNACK" },
        { MqttProtocolVersion.V311, "20020200", "CONNACK connect acknowledge flags at byte 2: reserved bits 7-1 are set" },
        { MqttProtocolVersion.V311, "20020105", "CONNACK connect acknowledge flags at byte 2: session present is set on a refused connection" },
        { MqttProtocolVersion.V311, "20020006", "CONNACK reason code at byte 3: 0x06 is not a reason code of CONNACK" },
        { MqttProtocolVersion.V311, "100C00044D5149540402003C0000", "CONNECT protocol name at byte 2: \"MQIT\" is not \"MQTT\"" },
        { MqttProtocolVersion.V311, "100C00044D5154540302003C0000", "CONNECT protocol level at byte 8: protocol level 3 is not supported (4 = 3.1.1, 5 = 5.0)" },
        { MqttProtocolVersion.V311, "100C00044D5154540403003C0000", "CONNECT connect flags at byte 9: reserved bit 0 is set" },
        { MqttProtocolVersion.V311, "100C00044D515454040A003C0000", "CONNECT connect flags at byte 9: will QoS or will retain is set without the will flag" },
        { MqttProtocolVersion.V311, "100C00044D515454041E003C0000", "CONNECT connect flags at byte 9: will QoS 3 is not a quality of service" },
        { MqttProtocolVersion.V311, "100E00044D5154540442003C00000000", "CONNECT connect flags at byte 9: password flag is set without the user name flag" },
        { MqttProtocolVersion.V500, "100E00044D5154540502003C00000000", "CONNECT end of packet at byte 15: 1 byte(s) after the last field" },
        { MqttProtocolVersion.V311, "82020001", "SUBSCRIBE payload at byte 4: has no topic filter" },
        { MqttProtocolVersion.V311, "82080001000361236201", "SUBSCRIBE topic filter at byte 4: \"a#b\" has '#' other than as the whole last level" },
        { MqttProtocolVersion.V311, "82050001000161", "SUBSCRIBE subscription options at byte 7: the packet ends inside this field" },
        { MqttProtocolVersion.V311, "8206000100016104", "SUBSCRIBE subscription options at byte 7: reserved bits 7-2 are set" },
        { MqttProtocolVersion.V311, "820700010002612B00", "SUBSCRIBE topic filter at byte 4: \"a+\" has '+' other than as a whole level" },
        { MqttProtocolVersion.V500, "820700010000016130", "SUBSCRIBE subscription options at byte 8: retain handling 3 is not defined" },
        { MqttProtocolVersion.V500, "8210000100000A247368617265 2F672F7405", "SUBSCRIBE subscription options at byte 17: no local is set on a shared subscription" },
        { MqttProtocolVersion.V500, "820D00010000072473686172652F00", "SUBSCRIBE topic filter at byte 5: \"$share/\" is a shared subscription without a share name and filter ($share/{ShareName}/{filter})" },
        { MqttProtocolVersion.V500, "82090001020B0000016100", "SUBSCRIBE property SubscriptionIdentifier at byte 5: is 0" },
        { MqttProtocolVersion.V500, "820A0001030B800000016100", "SUBSCRIBE property SubscriptionIdentifier at byte 6: variable byte integer is not in its shortest form" },
        { MqttProtocolVersion.V311, "A2020001", "UNSUBSCRIBE payload at byte 4: has no topic filter" },
        { MqttProtocolVersion.V311, "90020001", "SUBACK payload at byte 4: has no reason code" },
        { MqttProtocolVersion.V311, "9003000103", "SUBACK reason code at byte 4: 0x03 is not a reason code of SUBACK" },
        { MqttProtocolVersion.V500, "B00300010000", "UNSUBACK payload at byte 5: has no reason code" },
        { MqttProtocolVersion.V311, "D00100", "PINGRESP end of packet at byte 2: 1 byte(s) after the last field" },
        { MqttProtocolVersion.V311, "E00100", "DISCONNECT end of packet at byte 2: 1 byte(s) after the last field" },
        { MqttProtocolVersion.V500, "E00101", "DISCONNECT reason code at byte 2: 0x01 is not a reason code of DISCONNECT" },
        { MqttProtocolVersion.V500, "F00180", "AUTH reason code at byte 2: 0x80 is not a reason code of AUTH" },
        { MqttProtocolVersion.V500, "300A000161041F0001410203", "PUBLISH property ReasonString at byte 6: is not allowed in PUBLISH" },
        { MqttProtocolVersion.V500, "3009000161 05 26 00 01 41 00", "PUBLISH property UserProperty value at byte 10: the packet ends inside this field" },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public void A_malformed_packet_throws_naming_packet_field_offset_and_reason(MqttProtocolVersion version, string hex, string message)
    {
        byte[] bytes = Convert.FromHexString(hex.Replace(" ", string.Empty, StringComparison.Ordinal));
        var parser = new MqttPacketReader(version);

        MqttProtocolException error = Assert.Throws<MqttProtocolException>(() =>
        {
            var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(bytes));
            parser.TryRead(ref reader, out _);
        });

        Assert.Equal(message, error.Message);
    }

    [Fact]
    public void A_packet_over_the_maximum_size_is_refused_from_its_fixed_header_alone()
    {
        var parser = new MqttPacketReader(MqttProtocolVersion.V500, maximumPacketSize: 16);
        byte[] header = Convert.FromHexString("3020");

        MqttProtocolException error = Assert.Throws<MqttProtocolException>(() =>
        {
            var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(header));
            parser.TryRead(ref reader, out _);
        });

        Assert.Equal("PUBLISH remaining length at byte 1: packet of 34 bytes exceeds the maximum packet size of 16 bytes", error.Message);
        Assert.Equal(MqttReasonCode.PacketTooLarge, error.ReasonCode);
    }

    public static TheoryData<string, string> Unwritable => new()
    {
        { "topic U+0000", "PUBLISH topic name: contains U+0000" },
        { "topic lone surrogate", "PUBLISH topic name: contains a lone surrogate (not encodable as UTF-8)" },
        { "topic wildcard", "PUBLISH topic name: contains the wildcard '#'" },
        { "packet id 0", "PUBLISH packet identifier: must not be 0" },
        { "property not allowed", "PUBLISH property SessionExpiryInterval: is not allowed in PUBLISH" },
        { "topic alias 0", "PUBLISH property TopicAlias: must not be 0" },
        { "filter", "SUBSCRIBE topic filter: \"a/#/b\" has '#' other than as the whole last level" },
        { "no filters", "SUBSCRIBE payload: SUBSCRIBE needs at least one topic filter" },
        { "long string", "CONNECT client identifier: 70000 UTF-8 bytes exceed the limit of 65,535" },
        { "suback code", "SUBACK reason code: 0x81 is not a reason code of SUBACK" },
    };

    [Theory]
    [MemberData(nameof(Unwritable))]
    public void The_writer_refuses_what_the_reader_would_reject_and_writes_nothing(string name, string message)
    {
        MqttPacket packet = name switch
        {
            "topic U+0000" => new PublishPacket { Topic = "a\0b" },
            "topic lone surrogate" => new PublishPacket { Topic = "a\ud800" },
            "topic wildcard" => new PublishPacket { Topic = "a/#" },
            "packet id 0" => new PublishPacket { Topic = "a", Qos = MqttQos.AtLeastOnce },
            "property not allowed" => new PublishPacket { Topic = "a", Properties = new MqttProperties { SessionExpiryInterval = 1 } },
            "topic alias 0" => new PublishPacket { Topic = "a", Properties = new MqttProperties { TopicAlias = 0 } },
            "filter" => new SubscribePacket { PacketId = 1, Subscriptions = [new MqttSubscription("a/#/b")] },
            "no filters" => new SubscribePacket { PacketId = 1 },
            "long string" => new ConnectPacket { ClientId = new string('x', 70_000) },
            _ => new SubAckPacket { PacketId = 1, ReasonCodes = [MqttReasonCode.MalformedPacket] },
        };
        var output = new ArrayBufferWriter<byte>();

        ArgumentException error = Assert.Throws<ArgumentException>(() => MqttPacketWriter.Write(output, packet, MqttProtocolVersion.V500));

        Assert.Equal(message, error.Message);
        Assert.Equal(0, output.WrittenCount);
    }

    internal static byte[] Encode(MqttPacket packet, MqttProtocolVersion version)
    {
        var output = new ArrayBufferWriter<byte>();
        int size = MqttPacketWriter.Write(output, packet, version);
        Assert.Equal(size, output.WrittenCount);
        return output.WrittenSpan.ToArray();
    }

    private static MqttPacket DecodeWhole(byte[] bytes, MqttProtocolVersion version)
    {
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(bytes));
        Assert.True(new MqttPacketReader(version).TryRead(ref reader, out MqttPacket? packet));
        Assert.Equal(bytes.Length, reader.Consumed);
        return packet;
    }
}
