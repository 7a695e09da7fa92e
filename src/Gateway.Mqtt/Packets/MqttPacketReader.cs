using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;
using System.Text.Unicode;

namespace FactoryGateway.Mqtt.Packets;

/// <summary>
/// Decodes MQTT control packets in the Kestrel shape: <see cref="TryRead"/> returns false with nothing
/// consumed until a whole packet is buffered; a malformed packet or a protocol violation throws
/// <see cref="MqttProtocolException"/> naming the packet, the field, its byte offset and the reason.
/// A packet inside one buffer segment is decoded in place; one that spans segments is copied once
/// (stack up to 256 bytes, pooled above). Strings, binary fields and payloads are copied out, so a
/// packet outlives the buffer it was read from.
/// </summary>
public sealed class MqttPacketReader
{
    /// <summary>MQTT's own ceiling: a 4-byte remaining length of 268,435,455 plus a 5-byte fixed header (MQTT 5.0 §2.1.4).</summary>
    public const int ProtocolMaximumPacketSize = 268_435_460;

    private const int StackCopyBytes = 256;

    /// <param name="version">The negotiated protocol version (a CONNECT packet carries its own).</param>
    /// <param name="maximumPacketSize">Largest packet accepted, fixed header included; larger ones throw before their body is buffered.</param>
    public MqttPacketReader(MqttProtocolVersion version, int maximumPacketSize = ProtocolMaximumPacketSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maximumPacketSize, 2);
        Version = version;
        MaximumPacketSize = maximumPacketSize;
    }

    public MqttProtocolVersion Version { get; set; }

    public int MaximumPacketSize { get; }

    /// <summary>Reads one packet, or returns false (nothing consumed) when it is not complete yet.</summary>
    public bool TryRead(ref SequenceReader<byte> reader, [NotNullWhen(true)] out MqttPacket? packet)
    {
        packet = null;
        long start = reader.Consumed;
        if (!reader.TryRead(out byte first))
        {
            return false;
        }

        var type = (MqttPacketType)(first >> 4);
        int flags = first & 0x0F;
        CheckFixedHeader(type, flags);

        int remaining = 0;
        int lengthBytes = 0;
        while (true)
        {
            if (!reader.TryRead(out byte b))
            {
                reader.Rewind(reader.Consumed - start);
                return false;
            }

            remaining |= (b & 0x7F) << (7 * lengthBytes);
            lengthBytes++;
            if ((b & 0x80) == 0)
            {
                if (b == 0 && lengthBytes > 1)
                {
                    MqttThrow.Malformed(type, "remaining length", 1, "variable byte integer is not in its shortest form");
                }

                break;
            }

            if (lengthBytes == 4)
            {
                MqttThrow.Malformed(type, "remaining length", 1, "variable byte integer is longer than 4 bytes");
            }
        }

        long size = 1L + lengthBytes + remaining;
        if (size > MaximumPacketSize)
        {
            MqttThrow.TooLarge(type, size, MaximumPacketSize);
        }

        if (reader.Remaining < remaining)
        {
            reader.Rewind(reader.Consumed - start);
            return false;
        }

        int headerLength = 1 + lengthBytes;
        ReadOnlySpan<byte> unread = reader.UnreadSpan;
        if (unread.Length >= remaining)
        {
            packet = Decode(type, flags, unread[..remaining], headerLength);
        }
        else
        {
            packet = DecodeMultiSegment(type, flags, reader.UnreadSequence.Slice(0, remaining), headerLength);
        }

        reader.Advance(remaining);
        return true;
    }

    private MqttPacket DecodeMultiSegment(MqttPacketType type, int flags, ReadOnlySequence<byte> body, int headerLength)
    {
        int length = (int)body.Length;
        if (length <= StackCopyBytes)
        {
            Span<byte> copy = stackalloc byte[StackCopyBytes];
            body.CopyTo(copy);
            return Decode(type, flags, copy[..length], headerLength);
        }

        byte[] rented = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            body.CopyTo(rented);
            return Decode(type, flags, rented.AsSpan(0, length), headerLength);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    private void CheckFixedHeader(MqttPacketType type, int flags)
    {
        switch (type)
        {
            case 0:
                MqttThrow.Malformed(null, "packet type", 0, "packet type 0 is reserved");
                break;
            case MqttPacketType.Auth when Version == MqttProtocolVersion.V311:
                MqttThrow.Malformed(null, "packet type", 0, "packet type 15 (AUTH) is reserved in MQTT 3.1.1");
                break;
            case MqttPacketType.Publish:
                if ((flags & 0x06) == 0x06)
                {
                    MqttThrow.Malformed(type, "fixed header flags", 0, "QoS 3 is not a quality of service");
                }

                if ((flags & 0x08) != 0 && (flags & 0x06) == 0)
                {
                    MqttThrow.Malformed(type, "fixed header flags", 0, "DUP is set on a QoS 0 message");
                }

                break;
            case MqttPacketType.PubRel or MqttPacketType.Subscribe or MqttPacketType.Unsubscribe:
                if (flags != 0x02)
                {
                    MqttThrow.Malformed(type, "fixed header flags", 0, string.Create(CultureInfo.InvariantCulture, $"flags are 0x{flags:X} where 0x2 is required"));
                }

                break;
            default:
                if (flags != 0)
                {
                    MqttThrow.Malformed(type, "fixed header flags", 0, string.Create(CultureInfo.InvariantCulture, $"flags are 0x{flags:X} where 0x0 is required"));
                }

                break;
        }
    }

    private MqttPacket Decode(MqttPacketType type, int flags, ReadOnlySpan<byte> body, int headerLength)
    {
        var r = new BodyReader(body, type, headerLength);
        MqttPacket packet = type switch
        {
            MqttPacketType.Connect => ReadConnect(ref r),
            MqttPacketType.ConnAck => ReadConnAck(ref r),
            MqttPacketType.Publish => ReadPublish(ref r, flags),
            MqttPacketType.PubAck or MqttPacketType.PubRec or MqttPacketType.PubRel or MqttPacketType.PubComp => ReadPublishAck(ref r, type),
            MqttPacketType.Subscribe => ReadSubscribe(ref r),
            MqttPacketType.SubAck => ReadSubAck(ref r),
            MqttPacketType.Unsubscribe => ReadUnsubscribe(ref r),
            MqttPacketType.UnsubAck => ReadUnsubAck(ref r),
            MqttPacketType.PingReq => PingReqPacket.Instance,
            MqttPacketType.PingResp => PingRespPacket.Instance,
            MqttPacketType.Disconnect => ReadDisconnect(ref r),
            _ => ReadAuth(ref r),
        };
        r.ExpectEnd();
        return packet;
    }

    private static ConnectPacket ReadConnect(ref BodyReader r)
    {
        int at = r.Offset;
        string protocolName = r.ReadString("protocol name");
        if (protocolName != "MQTT")
        {
            MqttThrow.ProtocolError(r.Type, "protocol name", at, $"\"{protocolName}\" is not \"MQTT\"");
        }

        at = r.Offset;
        byte level = r.ReadByte("protocol level");
        if (level is not ((byte)MqttProtocolVersion.V311 or (byte)MqttProtocolVersion.V500))
        {
            throw new MqttProtocolException("CONNECT", "protocol level", at, string.Create(CultureInfo.InvariantCulture, $"protocol level {level} is not supported (4 = 3.1.1, 5 = 5.0)"), MqttReasonCode.UnsupportedProtocolVersion);
        }

        var version = (MqttProtocolVersion)level;
        at = r.Offset;
        byte connectFlags = r.ReadByte("connect flags");
        bool userNameFlag = (connectFlags & 0x80) != 0;
        bool passwordFlag = (connectFlags & 0x40) != 0;
        bool willRetain = (connectFlags & 0x20) != 0;
        int willQos = (connectFlags >> 3) & 0x03;
        bool willFlag = (connectFlags & 0x04) != 0;
        bool cleanStart = (connectFlags & 0x02) != 0;
        if ((connectFlags & 0x01) != 0)
        {
            MqttThrow.Malformed(r.Type, "connect flags", at, "reserved bit 0 is set");
        }

        if (willQos == 3)
        {
            MqttThrow.Malformed(r.Type, "connect flags", at, "will QoS 3 is not a quality of service");
        }

        if (!willFlag && (willQos != 0 || willRetain))
        {
            MqttThrow.Malformed(r.Type, "connect flags", at, "will QoS or will retain is set without the will flag");
        }

        if (version == MqttProtocolVersion.V311 && passwordFlag && !userNameFlag)
        {
            MqttThrow.Malformed(r.Type, "connect flags", at, "password flag is set without the user name flag");
        }

        ushort keepAlive = r.ReadUInt16("keep alive");
        MqttProperties properties = version == MqttProtocolVersion.V500 ? r.ReadProperties(MqttPropertyContext.Connect) : new();
        string clientId = r.ReadString("client identifier");
        MqttWill? will = null;
        if (willFlag)
        {
            MqttProperties willProperties = version == MqttProtocolVersion.V500 ? r.ReadProperties(MqttPropertyContext.Will) : new();
            string willTopic = r.ReadTopicName("will topic");
            ReadOnlyMemory<byte> willPayload = r.ReadBinary("will payload");
            will = new MqttWill { Topic = willTopic, Payload = willPayload, Qos = (MqttQos)willQos, Retain = willRetain, Properties = willProperties };
        }

        string? userName = userNameFlag ? r.ReadString("user name") : null;
        ReadOnlyMemory<byte>? password = passwordFlag ? r.ReadBinary("password") : (ReadOnlyMemory<byte>?)null;
        return new ConnectPacket
        {
            ProtocolVersion = version,
            ClientId = clientId,
            CleanStart = cleanStart,
            KeepAliveSeconds = keepAlive,
            UserName = userName,
            Password = password,
            Will = will,
            Properties = properties,
        };
    }

    private ConnAckPacket ReadConnAck(ref BodyReader r)
    {
        int at = r.Offset;
        byte ackFlags = r.ReadByte("connect acknowledge flags");
        if ((ackFlags & 0xFE) != 0)
        {
            MqttThrow.Malformed(r.Type, "connect acknowledge flags", at, "reserved bits 7-1 are set");
        }

        MqttReasonCode code = r.ReadReasonCode(Version);
        if (code != MqttReasonCode.Success && (ackFlags & 1) != 0)
        {
            MqttThrow.ProtocolError(r.Type, "connect acknowledge flags", at, "session present is set on a refused connection");
        }

        MqttProperties properties = Version == MqttProtocolVersion.V500 ? r.ReadProperties(MqttPropertyContext.ConnAck) : new();
        return new ConnAckPacket { SessionPresent = (ackFlags & 1) != 0, ReasonCode = code, Properties = properties };
    }

    private PublishPacket ReadPublish(ref BodyReader r, int flags)
    {
        var qos = (MqttQos)((flags >> 1) & 0x03);
        int topicAt = r.Offset;
        string topic = r.ReadString("topic name");
        if (topic.Length > 0 && MqttTopic.ValidateName(topic) is { } invalid)
        {
            MqttThrow.ProtocolError(r.Type, "topic name", topicAt, invalid);
        }

        ushort packetId = qos == MqttQos.AtMostOnce ? (ushort)0 : r.ReadPacketId();
        MqttProperties properties = Version == MqttProtocolVersion.V500 ? r.ReadProperties(MqttPropertyContext.Publish) : new();
        if (topic.Length == 0 && properties.TopicAlias is null)
        {
            MqttThrow.ProtocolError(r.Type, "topic name", topicAt, "is empty and no topic alias is given");
        }

        return new PublishPacket
        {
            Dup = (flags & 0x08) != 0,
            Qos = qos,
            Retain = (flags & 0x01) != 0,
            Topic = topic,
            PacketId = packetId,
            Properties = properties,
            Payload = r.ReadRest(),
        };
    }

    private PublishAckPacket ReadPublishAck(ref BodyReader r, MqttPacketType type)
    {
        ushort packetId = r.ReadPacketId();
        MqttReasonCode code = MqttReasonCode.Success;
        MqttProperties properties = new();
        if (Version == MqttProtocolVersion.V500 && !r.AtEnd)
        {
            code = r.ReadReasonCode(Version);
            if (!r.AtEnd)
            {
                properties = r.ReadProperties(MqttPropertyTable.ContextOf(type));
            }
        }

        return new PublishAckPacket(type) { PacketId = packetId, ReasonCode = code, Properties = properties };
    }

    private SubscribePacket ReadSubscribe(ref BodyReader r)
    {
        ushort packetId = r.ReadPacketId();
        MqttProperties properties = Version == MqttProtocolVersion.V500 ? r.ReadProperties(MqttPropertyContext.Subscribe) : new();
        r.ExpectPayload("has no topic filter");
        var subscriptions = new List<MqttSubscription>();
        while (!r.AtEnd)
        {
            string filter = r.ReadTopicFilter();
            int at = r.Offset;
            byte options = r.ReadByte("subscription options");
            int qos = options & 0x03;
            if (qos == 3)
            {
                MqttThrow.Malformed(r.Type, "subscription options", at, "QoS 3 is not a quality of service");
            }

            if (Version == MqttProtocolVersion.V311)
            {
                if ((options & 0xFC) != 0)
                {
                    MqttThrow.Malformed(r.Type, "subscription options", at, "reserved bits 7-2 are set");
                }

                subscriptions.Add(new MqttSubscription(filter, (MqttQos)qos));
                continue;
            }

            if ((options & 0xC0) != 0)
            {
                MqttThrow.Malformed(r.Type, "subscription options", at, "reserved bits 7-6 are set");
            }

            int retainHandling = (options >> 4) & 0x03;
            if (retainHandling == 3)
            {
                MqttThrow.Malformed(r.Type, "subscription options", at, "retain handling 3 is not defined");
            }

            bool noLocal = (options & 0x04) != 0;
            if (noLocal && MqttTopic.IsShared(filter))
            {
                MqttThrow.ProtocolError(r.Type, "subscription options", at, "no local is set on a shared subscription");
            }

            subscriptions.Add(new MqttSubscription(filter, (MqttQos)qos)
            {
                NoLocal = noLocal,
                RetainAsPublished = (options & 0x08) != 0,
                RetainHandling = (MqttRetainHandling)retainHandling,
            });
        }

        return new SubscribePacket { PacketId = packetId, Properties = properties, Subscriptions = subscriptions };
    }

    private SubAckPacket ReadSubAck(ref BodyReader r)
    {
        ushort packetId = r.ReadPacketId();
        MqttProperties properties = Version == MqttProtocolVersion.V500 ? r.ReadProperties(MqttPropertyContext.SubAck) : new();
        r.ExpectPayload("has no reason code");
        var codes = new List<MqttReasonCode>();
        while (!r.AtEnd)
        {
            codes.Add(r.ReadReasonCode(Version));
        }

        return new SubAckPacket { PacketId = packetId, Properties = properties, ReasonCodes = codes };
    }

    private UnsubscribePacket ReadUnsubscribe(ref BodyReader r)
    {
        ushort packetId = r.ReadPacketId();
        MqttProperties properties = Version == MqttProtocolVersion.V500 ? r.ReadProperties(MqttPropertyContext.Unsubscribe) : new();
        r.ExpectPayload("has no topic filter");
        var filters = new List<string>();
        while (!r.AtEnd)
        {
            filters.Add(r.ReadTopicFilter());
        }

        return new UnsubscribePacket { PacketId = packetId, Properties = properties, TopicFilters = filters };
    }

    private UnsubAckPacket ReadUnsubAck(ref BodyReader r)
    {
        ushort packetId = r.ReadPacketId();
        if (Version == MqttProtocolVersion.V311)
        {
            return new UnsubAckPacket { PacketId = packetId };
        }

        MqttProperties properties = r.ReadProperties(MqttPropertyContext.UnsubAck);
        r.ExpectPayload("has no reason code");
        var codes = new List<MqttReasonCode>();
        while (!r.AtEnd)
        {
            codes.Add(r.ReadReasonCode(Version));
        }

        return new UnsubAckPacket { PacketId = packetId, Properties = properties, ReasonCodes = codes };
    }

    private DisconnectPacket ReadDisconnect(ref BodyReader r)
    {
        if (Version == MqttProtocolVersion.V311 || r.AtEnd)
        {
            return new DisconnectPacket();
        }

        MqttReasonCode code = r.ReadReasonCode(Version);
        MqttProperties properties = r.AtEnd ? new() : r.ReadProperties(MqttPropertyContext.Disconnect);
        return new DisconnectPacket { ReasonCode = code, Properties = properties };
    }

    private AuthPacket ReadAuth(ref BodyReader r)
    {
        if (r.AtEnd)
        {
            return new AuthPacket();
        }

        MqttReasonCode code = r.ReadReasonCode(Version);
        MqttProperties properties = r.AtEnd ? new() : r.ReadProperties(MqttPropertyContext.Auth);
        return new AuthPacket { ReasonCode = code, Properties = properties };
    }

    /// <summary>Reads the fields of one packet body, which is complete in <see cref="_body"/>.</summary>
    private ref struct BodyReader
    {
        private static readonly UTF8Encoding s_utf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false);

        private readonly ReadOnlySpan<byte> _body;
        private readonly int _headerLength;
        private int _position;

        public BodyReader(ReadOnlySpan<byte> body, MqttPacketType type, int headerLength)
        {
            _body = body;
            Type = type;
            _headerLength = headerLength;
        }

        public MqttPacketType Type { get; }

        /// <summary>Offset of the next byte from the start of the packet (fixed header included).</summary>
        public readonly int Offset => _headerLength + _position;

        public readonly bool AtEnd => _position == _body.Length;

        public readonly void ExpectEnd()
        {
            if (!AtEnd)
            {
                MqttThrow.Malformed(Type, "end of packet", Offset, string.Create(CultureInfo.InvariantCulture, $"{_body.Length - _position} byte(s) after the last field"));
            }
        }

        public readonly void ExpectPayload(string reason)
        {
            if (AtEnd)
            {
                MqttThrow.ProtocolError(Type, "payload", Offset, reason);
            }
        }

        public byte ReadByte(string field)
        {
            Need(1, field);
            return _body[_position++];
        }

        public ushort ReadUInt16(string field)
        {
            Need(2, field);
            ushort value = BinaryPrimitives.ReadUInt16BigEndian(_body[_position..]);
            _position += 2;
            return value;
        }

        public uint ReadUInt32(string field)
        {
            Need(4, field);
            uint value = BinaryPrimitives.ReadUInt32BigEndian(_body[_position..]);
            _position += 4;
            return value;
        }

        public uint ReadVariableByteInteger(string field)
        {
            int at = Offset;
            uint value = 0;
            for (int i = 0; i < 4; i++)
            {
                byte b = ReadByte(field);
                value |= (uint)(b & 0x7F) << (7 * i);
                if ((b & 0x80) == 0)
                {
                    if (b == 0 && i > 0)
                    {
                        MqttThrow.Malformed(Type, field, at, "variable byte integer is not in its shortest form");
                    }

                    return value;
                }
            }

            MqttThrow.Malformed(Type, field, at, "variable byte integer is longer than 4 bytes");
            return 0;
        }

        public ushort ReadPacketId()
        {
            int at = Offset;
            ushort id = ReadUInt16("packet identifier");
            if (id == 0)
            {
                MqttThrow.ProtocolError(Type, "packet identifier", at, "is 0");
            }

            return id;
        }

        public MqttReasonCode ReadReasonCode(MqttProtocolVersion version)
        {
            int at = Offset;
            byte code = ReadByte("reason code");
            if (!MqttReasonCodes.IsAllowed(Type, version, code))
            {
                MqttThrow.ProtocolError(Type, "reason code", at, string.Create(CultureInfo.InvariantCulture, $"0x{code:X2} is not a reason code of {MqttThrow.PacketName(Type)}"));
            }

            return (MqttReasonCode)code;
        }

        /// <summary>A UTF-8 encoded string (MQTT 5.0 §1.5.4): well-formed UTF-8 without U+0000.</summary>
        public string ReadString(string field)
        {
            int at = Offset;
            ReadOnlySpan<byte> bytes = ReadLengthPrefixed(field);
            if (bytes.IndexOf((byte)0) is int nul and >= 0)
            {
                MqttThrow.Malformed(Type, field, at, string.Create(CultureInfo.InvariantCulture, $"contains U+0000 at character byte {nul}"));
            }

            if (!Utf8.IsValid(bytes))
            {
                MqttThrow.Malformed(Type, field, at, "is not well-formed UTF-8");
            }

            return s_utf8.GetString(bytes);
        }

        public string ReadTopicName(string field)
        {
            int at = Offset;
            string topic = ReadString(field);
            if (MqttTopic.ValidateName(topic) is { } invalid)
            {
                MqttThrow.ProtocolError(Type, field, at, invalid);
            }

            return topic;
        }

        public string ReadTopicFilter()
        {
            int at = Offset;
            string filter = ReadString("topic filter");
            if (MqttTopic.ValidateFilter(filter) is { } invalid)
            {
                MqttThrow.ProtocolError(Type, "topic filter", at, $"\"{filter}\" {invalid}");
            }

            return filter;
        }

        public ReadOnlyMemory<byte> ReadBinary(string field) => ReadLengthPrefixed(field).ToArray();

        public ReadOnlyMemory<byte> ReadRest()
        {
            ReadOnlyMemory<byte> rest = _body[_position..].ToArray();
            _position = _body.Length;
            return rest;
        }

        public MqttProperties ReadProperties(MqttPropertyContext context)
        {
            int lengthAt = Offset;
            uint length = ReadVariableByteInteger("properties length");
            if (length > (uint)(_body.Length - _position))
            {
                MqttThrow.Malformed(Type, "properties length", lengthAt, string.Create(CultureInfo.InvariantCulture, $"{length} byte(s) of properties exceed the {_body.Length - _position} left in the packet"));
            }

            int end = _position + (int)length;
            var properties = new MqttProperties();
            ulong seen = 0;
            while (_position < end)
            {
                int at = Offset;
                uint id = ReadVariableByteInteger("property identifier");
                if (id > 0xFF || !MqttPropertyTable.TryGet((byte)id, out MqttPropertyType propertyType, out MqttPropertyContext allowed, out string name))
                {
                    MqttThrow.Malformed(Type, "property identifier", at, string.Create(CultureInfo.InvariantCulture, $"0x{id:X2} is not a property identifier"));
                    return properties;
                }

                string field = MqttPropertyTable.FieldName((byte)id);
                if ((allowed & context) == 0)
                {
                    MqttThrow.ProtocolError(Type, field, at, context == MqttPropertyContext.Will ? "is not allowed in the will properties" : $"is not allowed in {MqttThrow.PacketName(Type)}");
                }

                var pid = (MqttPropertyId)id;
                bool repeatable = pid == MqttPropertyId.UserProperty || (pid == MqttPropertyId.SubscriptionIdentifier && context == MqttPropertyContext.Publish);
                ulong bit = 1UL << (int)id;
                if (!repeatable && (seen & bit) != 0)
                {
                    MqttThrow.ProtocolError(Type, field, at, "appears more than once");
                }

                seen |= bit;
                ReadProperty(properties, pid, propertyType, field, at);
                if (_position > end)
                {
                    MqttThrow.Malformed(Type, field, at, "runs past the end of the properties");
                }
            }

            return properties;
        }

        private void ReadProperty(MqttProperties p, MqttPropertyId id, MqttPropertyType type, string field, int at)
        {
            switch (type)
            {
                case MqttPropertyType.Byte:
                    byte b = ReadByte(field);
                    if (b > 1)
                    {
                        MqttThrow.ProtocolError(Type, field, at, string.Create(CultureInfo.InvariantCulture, $"value {b} is not 0 or 1"));
                    }

                    SetByte(p, id, b);
                    break;
                case MqttPropertyType.TwoByteInteger:
                    ushort u16 = ReadUInt16(field);
                    if (u16 == 0 && id is MqttPropertyId.ReceiveMaximum or MqttPropertyId.TopicAlias)
                    {
                        MqttThrow.ProtocolError(Type, field, at, "is 0");
                    }

                    SetUInt16(p, id, u16);
                    break;
                case MqttPropertyType.FourByteInteger:
                    uint u32 = ReadUInt32(field);
                    if (u32 == 0 && id == MqttPropertyId.MaximumPacketSize)
                    {
                        MqttThrow.ProtocolError(Type, field, at, "is 0");
                    }

                    SetUInt32(p, id, u32);
                    break;
                case MqttPropertyType.VariableByteInteger:
                    uint vbi = ReadVariableByteInteger(field);
                    if (vbi == 0)
                    {
                        MqttThrow.ProtocolError(Type, field, at, "is 0");
                    }

                    p.SubscriptionIdentifiers.Add(vbi);
                    break;
                case MqttPropertyType.Utf8String:
                    string s = ReadString(field);
                    switch (id)
                    {
                        case MqttPropertyId.ContentType:
                            p.ContentType = s;
                            break;
                        case MqttPropertyId.ResponseTopic:
                            if (MqttTopic.ValidateName(s) is { } invalid)
                            {
                                MqttThrow.ProtocolError(Type, field, at, invalid);
                            }

                            p.ResponseTopic = s;
                            break;
                        case MqttPropertyId.AssignedClientIdentifier:
                            p.AssignedClientIdentifier = s;
                            break;
                        case MqttPropertyId.AuthenticationMethod:
                            p.AuthenticationMethod = s;
                            break;
                        case MqttPropertyId.ResponseInformation:
                            p.ResponseInformation = s;
                            break;
                        case MqttPropertyId.ServerReference:
                            p.ServerReference = s;
                            break;
                        default:
                            p.ReasonString = s;
                            break;
                    }

                    break;
                case MqttPropertyType.BinaryData:
                    ReadOnlyMemory<byte> data = ReadBinary(field);
                    if (id == MqttPropertyId.CorrelationData)
                    {
                        p.CorrelationData = data;
                    }
                    else
                    {
                        p.AuthenticationData = data;
                    }

                    break;
                default:
                    string key = ReadString("property UserProperty name");
                    string value = ReadString("property UserProperty value");
                    p.UserProperties.Add(new MqttUserProperty(key, value));
                    break;
            }
        }

        private static void SetByte(MqttProperties p, MqttPropertyId id, byte value)
        {
            switch (id)
            {
                case MqttPropertyId.PayloadFormatIndicator:
                    p.PayloadFormatIndicator = value;
                    break;
                case MqttPropertyId.RequestProblemInformation:
                    p.RequestProblemInformation = value;
                    break;
                case MqttPropertyId.RequestResponseInformation:
                    p.RequestResponseInformation = value;
                    break;
                case MqttPropertyId.MaximumQos:
                    p.MaximumQos = value;
                    break;
                case MqttPropertyId.RetainAvailable:
                    p.RetainAvailable = value;
                    break;
                case MqttPropertyId.WildcardSubscriptionAvailable:
                    p.WildcardSubscriptionAvailable = value;
                    break;
                case MqttPropertyId.SubscriptionIdentifierAvailable:
                    p.SubscriptionIdentifierAvailable = value;
                    break;
                default:
                    p.SharedSubscriptionAvailable = value;
                    break;
            }
        }

        private static void SetUInt16(MqttProperties p, MqttPropertyId id, ushort value)
        {
            switch (id)
            {
                case MqttPropertyId.ServerKeepAlive:
                    p.ServerKeepAlive = value;
                    break;
                case MqttPropertyId.ReceiveMaximum:
                    p.ReceiveMaximum = value;
                    break;
                case MqttPropertyId.TopicAliasMaximum:
                    p.TopicAliasMaximum = value;
                    break;
                default:
                    p.TopicAlias = value;
                    break;
            }
        }

        private static void SetUInt32(MqttProperties p, MqttPropertyId id, uint value)
        {
            switch (id)
            {
                case MqttPropertyId.MessageExpiryInterval:
                    p.MessageExpiryInterval = value;
                    break;
                case MqttPropertyId.SessionExpiryInterval:
                    p.SessionExpiryInterval = value;
                    break;
                case MqttPropertyId.WillDelayInterval:
                    p.WillDelayInterval = value;
                    break;
                default:
                    p.MaximumPacketSize = value;
                    break;
            }
        }

        private ReadOnlySpan<byte> ReadLengthPrefixed(string field)
        {
            int at = Offset;
            ushort length = ReadUInt16(field);
            if (length > _body.Length - _position)
            {
                MqttThrow.Malformed(Type, field, at, string.Create(CultureInfo.InvariantCulture, $"length {length} exceeds the {_body.Length - _position} byte(s) left in the packet"));
            }

            ReadOnlySpan<byte> bytes = _body.Slice(_position, length);
            _position += length;
            return bytes;
        }

        private readonly void Need(int bytes, string field)
        {
            if (_body.Length - _position < bytes)
            {
                MqttThrow.Malformed(Type, field, Offset, "the packet ends inside this field");
            }
        }
    }
}
