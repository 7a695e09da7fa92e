using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace FactoryGateway.Mqtt.Packets;

/// <summary>
/// Encodes MQTT control packets into an <see cref="IBufferWriter{T}"/> (one <c>GetSpan</c>/<c>Advance</c>
/// per packet). Every field is checked before a byte is written: a packet the reader would reject
/// (U+0000 or a lone surrogate in a string, a string over 65,535 bytes, a wildcard in a topic name, packet
/// identifier 0, a property the packet may not carry, a remaining length over 268,435,455) throws
/// <see cref="ArgumentException"/> naming the packet and field, and nothing is written.
/// </summary>
public static class MqttPacketWriter
{
    /// <summary>The largest remaining length a 4-byte variable byte integer holds (MQTT 5.0 §1.5.5).</summary>
    public const int MaximumRemainingLength = 268_435_455;

    private static readonly UTF8Encoding s_utf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
    private static readonly List<uint> s_noIdentifiers = [];
    private static readonly List<MqttUserProperty> s_noUserProperties = [];

    /// <summary>Writes <paramref name="packet"/> and returns its size in bytes.</summary>
    public static int Write(IBufferWriter<byte> output, MqttPacket packet, MqttProtocolVersion version)
    {
        int remaining = MeasureBody(packet, version);
        int size = 1 + VariableByteIntegerSize(remaining) + remaining;
        Span<byte> span = output.GetSpan(size)[..size];
        var e = new Emitter(span, packet.Type);
        e.Byte(FirstByte(packet));
        e.VariableByteInteger((uint)remaining);
        Body(ref e, packet, version);
        output.Advance(size);
        return size;
    }

    /// <summary>The encoded size of <paramref name="packet"/>, fixed header included (checks it as <see cref="Write"/> does).</summary>
    public static int GetSize(MqttPacket packet, MqttProtocolVersion version)
    {
        int remaining = MeasureBody(packet, version);
        return 1 + VariableByteIntegerSize(remaining) + remaining;
    }

    public static int VariableByteIntegerSize(int value) => value switch
    {
        < 128 => 1,
        < 16_384 => 2,
        < 2_097_152 => 3,
        _ => 4,
    };

    private static int MeasureBody(MqttPacket packet, MqttProtocolVersion version)
    {
        var m = new Emitter(default, packet.Type);
        Body(ref m, packet, version);
        if (m.Position > MaximumRemainingLength)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"{MqttThrow.PacketName(packet.Type)} remaining length: {m.Position} bytes exceed the protocol maximum of {MaximumRemainingLength}"), nameof(packet));
        }

        return m.Position;
    }

    private static byte FirstByte(MqttPacket packet)
    {
        int flags = packet switch
        {
            PublishPacket p => (p.Dup ? 0x08 : 0) | ((int)p.Qos << 1) | (p.Retain ? 1 : 0),
            PublishAckPacket { Type: MqttPacketType.PubRel } => 0x02,
            SubscribePacket or UnsubscribePacket => 0x02,
            _ => 0,
        };
        return (byte)(((int)packet.Type << 4) | flags);
    }

    private static void Body(ref Emitter e, MqttPacket packet, MqttProtocolVersion version)
    {
        bool v5 = version == MqttProtocolVersion.V500;
        switch (packet)
        {
            case ConnectPacket c:
                Connect(ref e, c);
                break;
            case ConnAckPacket c:
                e.Byte(c.SessionPresent ? (byte)1 : (byte)0);
                e.ReasonCode(c.ReasonCode, version);
                if (v5)
                {
                    e.Properties(c.Properties, MqttPropertyContext.ConnAck);
                }

                break;
            case PublishPacket p:
                if (p.Qos > MqttQos.ExactlyOnce)
                {
                    e.Fail("fixed header flags", "QoS must be 0, 1 or 2");
                }

                if (p.Dup && p.Qos == MqttQos.AtMostOnce)
                {
                    e.Fail("fixed header flags", "DUP must not be set on a QoS 0 message");
                }

                if (p.Topic.Length > 0 || !v5 || p.Properties.TopicAlias is null)
                {
                    e.TopicName(p.Topic, "topic name");
                }
                else
                {
                    e.String(string.Empty, "topic name");
                }

                if (p.Qos != MqttQos.AtMostOnce)
                {
                    e.PacketId(p.PacketId);
                }

                if (v5)
                {
                    e.Properties(p.Properties, MqttPropertyContext.Publish);
                }

                e.Bytes(p.Payload.Span);
                break;
            case PublishAckPacket a:
                e.PacketId(a.PacketId);
                if (v5)
                {
                    bool hasProperties = !a.Properties.IsEmpty;
                    if (a.ReasonCode != MqttReasonCode.Success || hasProperties)
                    {
                        e.ReasonCode(a.ReasonCode, version);
                    }

                    if (hasProperties)
                    {
                        e.Properties(a.Properties, MqttPropertyTable.ContextOf(a.Type));
                    }
                }

                break;
            case SubscribePacket s:
                e.PacketId(s.PacketId);
                if (v5)
                {
                    e.Properties(s.Properties, MqttPropertyContext.Subscribe);
                }

                if (s.Subscriptions.Count == 0)
                {
                    e.Fail("payload", "SUBSCRIBE needs at least one topic filter");
                }

                foreach (MqttSubscription sub in s.Subscriptions)
                {
                    e.TopicFilter(sub.TopicFilter);
                    if (sub.Qos > MqttQos.ExactlyOnce || sub.RetainHandling > MqttRetainHandling.DoNotSend)
                    {
                        e.Fail("subscription options", "QoS must be 0–2 and retain handling 0–2");
                    }

                    int options = (int)sub.Qos;
                    if (v5)
                    {
                        if (sub.NoLocal && MqttTopic.IsShared(sub.TopicFilter))
                        {
                            e.Fail("subscription options", "no local must not be set on a shared subscription");
                        }

                        options |= (sub.NoLocal ? 0x04 : 0) | (sub.RetainAsPublished ? 0x08 : 0) | ((int)sub.RetainHandling << 4);
                    }

                    e.Byte((byte)options);
                }

                break;
            case SubAckPacket s:
                e.PacketId(s.PacketId);
                if (v5)
                {
                    e.Properties(s.Properties, MqttPropertyContext.SubAck);
                }

                e.ReasonCodes(s.ReasonCodes, version);
                break;
            case UnsubscribePacket u:
                e.PacketId(u.PacketId);
                if (v5)
                {
                    e.Properties(u.Properties, MqttPropertyContext.Unsubscribe);
                }

                if (u.TopicFilters.Count == 0)
                {
                    e.Fail("payload", "UNSUBSCRIBE needs at least one topic filter");
                }

                foreach (string filter in u.TopicFilters)
                {
                    e.TopicFilter(filter);
                }

                break;
            case UnsubAckPacket u:
                e.PacketId(u.PacketId);
                if (v5)
                {
                    e.Properties(u.Properties, MqttPropertyContext.UnsubAck);
                    e.ReasonCodes(u.ReasonCodes, version);
                }

                break;
            case DisconnectPacket d:
                if (v5 && (d.ReasonCode != MqttReasonCode.Success || !d.Properties.IsEmpty))
                {
                    e.ReasonCode(d.ReasonCode, version);
                    if (!d.Properties.IsEmpty)
                    {
                        e.Properties(d.Properties, MqttPropertyContext.Disconnect);
                    }
                }

                break;
            case AuthPacket a:
                if (!v5)
                {
                    e.Fail("packet type", "AUTH does not exist in MQTT 3.1.1");
                }

                if (a.ReasonCode != MqttReasonCode.Success || !a.Properties.IsEmpty)
                {
                    e.ReasonCode(a.ReasonCode, version);
                    if (!a.Properties.IsEmpty)
                    {
                        e.Properties(a.Properties, MqttPropertyContext.Auth);
                    }
                }

                break;
            case PingReqPacket or PingRespPacket:
                break;
            default:
                throw new ArgumentException($"Unknown packet {packet.GetType().Name}.", nameof(packet));
        }
    }

    private static void Connect(ref Emitter e, ConnectPacket c)
    {
        bool v5 = c.ProtocolVersion == MqttProtocolVersion.V500;
        if (c.ProtocolVersion is not (MqttProtocolVersion.V311 or MqttProtocolVersion.V500))
        {
            e.Fail("protocol level", "must be 4 (3.1.1) or 5 (5.0)");
        }

        if (!v5 && c.Password is not null && c.UserName is null)
        {
            e.Fail("connect flags", "MQTT 3.1.1 needs a user name when a password is given");
        }

        e.String("MQTT", "protocol name");
        e.Byte((byte)c.ProtocolVersion);
        int flags = (c.UserName is not null ? 0x80 : 0) | (c.Password is not null ? 0x40 : 0) | (c.CleanStart ? 0x02 : 0);
        if (c.Will is { } will)
        {
            if (will.Qos > MqttQos.ExactlyOnce)
            {
                e.Fail("connect flags", "will QoS must be 0, 1 or 2");
            }

            flags |= 0x04 | ((int)will.Qos << 3) | (will.Retain ? 0x20 : 0);
        }

        e.Byte((byte)flags);
        e.UInt16(c.KeepAliveSeconds);
        if (v5)
        {
            e.Properties(c.Properties, MqttPropertyContext.Connect);
        }

        e.String(c.ClientId, "client identifier");
        if (c.Will is { } w)
        {
            if (v5)
            {
                e.Properties(w.Properties, MqttPropertyContext.Will);
            }

            e.TopicName(w.Topic, "will topic");
            e.Binary(w.Payload.Span, "will payload");
        }

        if (c.UserName is not null)
        {
            e.String(c.UserName, "user name");
        }

        if (c.Password is { } password)
        {
            e.Binary(password.Span, "password");
        }
    }

    /// <summary>Writes into a span, or only counts bytes when constructed over an empty span.</summary>
    private ref struct Emitter
    {
        private readonly Span<byte> _span;
        private readonly bool _measure;
        private readonly MqttPacketType _type;

        public Emitter(Span<byte> span, MqttPacketType type)
        {
            _span = span;
            _measure = span.IsEmpty;
            _type = type;
        }

        public int Position { get; private set; }

        public readonly void Fail(string field, string reason) =>
            throw new ArgumentException($"{MqttThrow.PacketName(_type)} {field}: {reason}");

        public void Byte(byte value)
        {
            if (!_measure)
            {
                _span[Position] = value;
            }

            Position++;
        }

        public void UInt16(ushort value)
        {
            if (!_measure)
            {
                BinaryPrimitives.WriteUInt16BigEndian(_span[Position..], value);
            }

            Position += 2;
        }

        public void UInt32(uint value)
        {
            if (!_measure)
            {
                BinaryPrimitives.WriteUInt32BigEndian(_span[Position..], value);
            }

            Position += 4;
        }

        public void VariableByteInteger(uint value)
        {
            if (value > MaximumRemainingLength)
            {
                Fail("variable byte integer", string.Create(CultureInfo.InvariantCulture, $"{value} exceeds {MaximumRemainingLength}"));
            }

            do
            {
                byte b = (byte)(value & 0x7F);
                value >>= 7;
                Byte(value > 0 ? (byte)(b | 0x80) : b);
            }
            while (value > 0);
        }

        public void Bytes(ReadOnlySpan<byte> bytes)
        {
            if (!_measure)
            {
                bytes.CopyTo(_span[Position..]);
            }

            Position += bytes.Length;
        }

        public void PacketId(ushort id)
        {
            if (id == 0)
            {
                Fail("packet identifier", "must not be 0");
            }

            UInt16(id);
        }

        public void ReasonCode(MqttReasonCode code, MqttProtocolVersion version)
        {
            if (!MqttReasonCodes.IsAllowed(_type, version, (byte)code))
            {
                Fail("reason code", string.Create(CultureInfo.InvariantCulture, $"0x{(byte)code:X2} is not a reason code of {MqttThrow.PacketName(_type)}"));
            }

            Byte((byte)code);
        }

        public void ReasonCodes(IReadOnlyList<MqttReasonCode> codes, MqttProtocolVersion version)
        {
            if (codes.Count == 0)
            {
                Fail("payload", "needs at least one reason code");
            }

            foreach (MqttReasonCode code in codes)
            {
                ReasonCode(code, version);
            }
        }

        public void String(string value, string field)
        {
            if (value.Contains('\0', StringComparison.Ordinal))
            {
                Fail(field, "contains U+0000");
            }

            int length;
            try
            {
                length = s_utf8.GetByteCount(value);
            }
            catch (EncoderFallbackException)
            {
                Fail(field, "contains a lone surrogate (not encodable as UTF-8)");
                return;
            }

            if (length > ushort.MaxValue)
            {
                Fail(field, string.Create(CultureInfo.InvariantCulture, $"{length} UTF-8 bytes exceed the limit of 65,535"));
            }

            UInt16((ushort)length);
            if (!_measure)
            {
                s_utf8.GetBytes(value, _span.Slice(Position, length));
            }

            Position += length;
        }

        public void TopicName(string topic, string field)
        {
            if (MqttTopic.ValidateName(topic) is { } invalid)
            {
                Fail(field, invalid);
            }

            String(topic, field);
        }

        public void TopicFilter(string filter)
        {
            if (MqttTopic.ValidateFilter(filter) is { } invalid)
            {
                Fail("topic filter", $"\"{filter}\" {invalid}");
            }

            String(filter, "topic filter");
        }

        public void Binary(ReadOnlySpan<byte> data, string field)
        {
            if (data.Length > ushort.MaxValue)
            {
                Fail(field, string.Create(CultureInfo.InvariantCulture, $"{data.Length} bytes exceed the limit of 65,535"));
            }

            UInt16((ushort)data.Length);
            Bytes(data);
        }

        public void Properties(MqttProperties p, MqttPropertyContext context)
        {
            var m = new Emitter(default, _type);
            m.PropertyList(p, context);
            VariableByteInteger((uint)m.Position);
            PropertyList(p, context);
        }

        private void PropertyList(MqttProperties p, MqttPropertyContext context)
        {
            ByteProperty(MqttPropertyId.PayloadFormatIndicator, p.PayloadFormatIndicator, context);
            UInt32Property(MqttPropertyId.MessageExpiryInterval, p.MessageExpiryInterval, context);
            StringProperty(MqttPropertyId.ContentType, p.ContentType, context);
            if (p.ResponseTopic is { } responseTopic && MqttTopic.ValidateName(responseTopic) is { } invalid)
            {
                Fail("property ResponseTopic", invalid);
            }

            StringProperty(MqttPropertyId.ResponseTopic, p.ResponseTopic, context);
            BinaryProperty(MqttPropertyId.CorrelationData, p.CorrelationData, context);
            List<uint> subscriptionIdentifiers = p.SubscriptionIdentifiersOrNull ?? s_noIdentifiers;
            if (subscriptionIdentifiers.Count > 1 && context != MqttPropertyContext.Publish)
            {
                Fail("property SubscriptionIdentifier", "appears more than once");
            }

            foreach (uint id in subscriptionIdentifiers)
            {
                Check(MqttPropertyId.SubscriptionIdentifier, context);
                if (id is 0 or > MaximumRemainingLength)
                {
                    Fail("property SubscriptionIdentifier", "must be 1–268,435,455");
                }

                Byte((byte)MqttPropertyId.SubscriptionIdentifier);
                VariableByteInteger(id);
            }

            UInt32Property(MqttPropertyId.SessionExpiryInterval, p.SessionExpiryInterval, context);
            StringProperty(MqttPropertyId.AssignedClientIdentifier, p.AssignedClientIdentifier, context);
            UInt16Property(MqttPropertyId.ServerKeepAlive, p.ServerKeepAlive, context);
            StringProperty(MqttPropertyId.AuthenticationMethod, p.AuthenticationMethod, context);
            BinaryProperty(MqttPropertyId.AuthenticationData, p.AuthenticationData, context);
            ByteProperty(MqttPropertyId.RequestProblemInformation, p.RequestProblemInformation, context);
            UInt32Property(MqttPropertyId.WillDelayInterval, p.WillDelayInterval, context);
            ByteProperty(MqttPropertyId.RequestResponseInformation, p.RequestResponseInformation, context);
            StringProperty(MqttPropertyId.ResponseInformation, p.ResponseInformation, context);
            StringProperty(MqttPropertyId.ServerReference, p.ServerReference, context);
            StringProperty(MqttPropertyId.ReasonString, p.ReasonString, context);
            UInt16Property(MqttPropertyId.ReceiveMaximum, p.ReceiveMaximum, context, nonZero: true);
            UInt16Property(MqttPropertyId.TopicAliasMaximum, p.TopicAliasMaximum, context);
            UInt16Property(MqttPropertyId.TopicAlias, p.TopicAlias, context, nonZero: true);
            ByteProperty(MqttPropertyId.MaximumQos, p.MaximumQos, context);
            ByteProperty(MqttPropertyId.RetainAvailable, p.RetainAvailable, context);
            foreach (MqttUserProperty user in p.UserPropertiesOrNull ?? s_noUserProperties)
            {
                Check(MqttPropertyId.UserProperty, context);
                Byte((byte)MqttPropertyId.UserProperty);
                String(user.Name, "property UserProperty name");
                String(user.Value, "property UserProperty value");
            }

            if (p.MaximumPacketSize == 0)
            {
                Fail("property MaximumPacketSize", "must not be 0");
            }

            UInt32Property(MqttPropertyId.MaximumPacketSize, p.MaximumPacketSize, context);
            ByteProperty(MqttPropertyId.WildcardSubscriptionAvailable, p.WildcardSubscriptionAvailable, context);
            ByteProperty(MqttPropertyId.SubscriptionIdentifierAvailable, p.SubscriptionIdentifierAvailable, context);
            ByteProperty(MqttPropertyId.SharedSubscriptionAvailable, p.SharedSubscriptionAvailable, context);
        }

        private readonly void Check(MqttPropertyId id, MqttPropertyContext context)
        {
            MqttPropertyTable.TryGet((byte)id, out _, out MqttPropertyContext allowed, out string name);
            if ((allowed & context) == 0)
            {
                Fail($"property {name}", context == MqttPropertyContext.Will ? "is not allowed in the will properties" : $"is not allowed in {MqttThrow.PacketName(_type)}");
            }
        }

        private void ByteProperty(MqttPropertyId id, byte? value, MqttPropertyContext context)
        {
            if (value is { } v)
            {
                Check(id, context);
                if (v > 1)
                {
                    Fail($"property {id}", "must be 0 or 1");
                }

                Byte((byte)id);
                Byte(v);
            }
        }

        private void UInt16Property(MqttPropertyId id, ushort? value, MqttPropertyContext context, bool nonZero = false)
        {
            if (value is { } v)
            {
                Check(id, context);
                if (nonZero && v == 0)
                {
                    Fail($"property {id}", "must not be 0");
                }

                Byte((byte)id);
                UInt16(v);
            }
        }

        private void UInt32Property(MqttPropertyId id, uint? value, MqttPropertyContext context)
        {
            if (value is { } v)
            {
                Check(id, context);
                Byte((byte)id);
                UInt32(v);
            }
        }

        private void StringProperty(MqttPropertyId id, string? value, MqttPropertyContext context)
        {
            if (value is not null)
            {
                Check(id, context);
                Byte((byte)id);
                String(value, $"property {id}");
            }
        }

        private void BinaryProperty(MqttPropertyId id, ReadOnlyMemory<byte>? value, MqttPropertyContext context)
        {
            if (value is { } v)
            {
                Check(id, context);
                Byte((byte)id);
                Binary(v.Span, $"property {id}");
            }
        }
    }
}
