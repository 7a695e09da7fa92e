namespace FactoryGateway.Mqtt.Packets;

/// <summary>Which reason codes each packet may carry (MQTT 5.0 §3.x.2.1 tables; 3.1.1 §3.2.2.3, §3.9.3).</summary>
internal static class MqttReasonCodes
{
    private static readonly bool[] s_pubAck = Set(0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99);
    private static readonly bool[] s_pubRel = Set(0x00, 0x92);
    private static readonly bool[] s_subAck = Set(0x00, 0x01, 0x02, 0x80, 0x83, 0x87, 0x8F, 0x91, 0x97, 0x9E, 0xA1, 0xA2);
    private static readonly bool[] s_subAck311 = Set(0x00, 0x01, 0x02, 0x80);
    private static readonly bool[] s_unsubAck = Set(0x00, 0x11, 0x80, 0x83, 0x87, 0x8F, 0x91);
    private static readonly bool[] s_connAck = Set(0x00, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8A, 0x8C, 0x90, 0x95, 0x97, 0x99, 0x9A, 0x9B, 0x9C, 0x9D, 0x9F);
    private static readonly bool[] s_connAck311 = Set(0x00, 0x01, 0x02, 0x03, 0x04, 0x05);
    private static readonly bool[] s_disconnect = Set(0x00, 0x04, 0x80, 0x81, 0x82, 0x83, 0x87, 0x89, 0x8B, 0x8D, 0x8E, 0x8F, 0x90, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9A, 0x9B, 0x9C, 0x9D, 0x9E, 0x9F, 0xA0, 0xA1, 0xA2);
    private static readonly bool[] s_auth = Set(0x00, 0x18, 0x19);

    public static bool IsAllowed(MqttPacketType packet, MqttProtocolVersion version, byte code) => packet switch
    {
        MqttPacketType.ConnAck => (version == MqttProtocolVersion.V500 ? s_connAck : s_connAck311)[code],
        MqttPacketType.PubAck or MqttPacketType.PubRec => s_pubAck[code],
        MqttPacketType.PubRel or MqttPacketType.PubComp => s_pubRel[code],
        MqttPacketType.SubAck => (version == MqttProtocolVersion.V500 ? s_subAck : s_subAck311)[code],
        MqttPacketType.UnsubAck => s_unsubAck[code],
        MqttPacketType.Disconnect => s_disconnect[code],
        MqttPacketType.Auth => s_auth[code],
        _ => false,
    };

    private static bool[] Set(params byte[] codes)
    {
        bool[] set = new bool[256];
        foreach (byte code in codes)
        {
            set[code] = true;
        }

        return set;
    }
}
