using FactoryGateway.Mqtt.Packets;

namespace FactoryGateway.Mqtt.Tests.Packets;

/// <summary>Valid packets of every type, with every property a packet may carry, for both protocol versions.</summary>
internal static class SamplePackets
{
    public static IEnumerable<(string Name, MqttPacket Packet)> For(MqttProtocolVersion version)
    {
        bool v5 = version == MqttProtocolVersion.V500;
        MqttProperties P(Action<MqttProperties> fill)
        {
            var p = new MqttProperties();
            if (v5)
            {
                fill(p);
                p.UserProperties.Add(new MqttUserProperty("site", "Kunshan-3"));
            }

            return p;
        }

        yield return ("CONNECT minimal", new ConnectPacket { ProtocolVersion = version, ClientId = "c1", KeepAliveSeconds = 60 });
        yield return ("CONNECT full", new ConnectPacket
        {
            ProtocolVersion = version,
            ClientId = "gateway-äöü-01",
            CleanStart = false,
            KeepAliveSeconds = 15,
            UserName = "edge",
            Password = new byte[] { 1, 2, 3, 0, 255 },
            Will = new MqttWill
            {
                Topic = "spBv1.0/STATE/host",
                Payload = "OFFLINE"u8.ToArray(),
                Qos = MqttQos.AtLeastOnce,
                Retain = true,
                Properties = P(p =>
                {
                    p.PayloadFormatIndicator = 1;
                    p.MessageExpiryInterval = 3600;
                    p.ContentType = "text/plain";
                    p.ResponseTopic = "reply/here";
                    p.CorrelationData = new byte[] { 9, 8 };
                    p.WillDelayInterval = 5;
                }),
            },
            Properties = P(p =>
            {
                p.SessionExpiryInterval = 86_400;
                p.ReceiveMaximum = 100;
                p.MaximumPacketSize = 1_048_576;
                p.TopicAliasMaximum = 16;
                p.RequestResponseInformation = 1;
                p.RequestProblemInformation = 0;
                p.AuthenticationMethod = "SCRAM-SHA-256";
                p.AuthenticationData = new byte[] { 0x10, 0x20 };
            }),
        });
        yield return ("CONNACK", new ConnAckPacket
        {
            SessionPresent = true,
            Properties = P(p =>
            {
                p.SessionExpiryInterval = 60;
                p.ReceiveMaximum = 20;
                p.MaximumQos = 1;
                p.RetainAvailable = 1;
                p.MaximumPacketSize = 65_536;
                p.AssignedClientIdentifier = "auto-123";
                p.TopicAliasMaximum = 10;
                p.ReasonString = "welcome";
                p.WildcardSubscriptionAvailable = 1;
                p.SubscriptionIdentifierAvailable = 0;
                p.SharedSubscriptionAvailable = 1;
                p.ServerKeepAlive = 30;
                p.ResponseInformation = "resp/";
                p.ServerReference = "other:1883";
                p.AuthenticationMethod = "SCRAM-SHA-256";
                p.AuthenticationData = new byte[] { 1 };
            }),
        });
        yield return ("CONNACK refused", new ConnAckPacket { ReasonCode = v5 ? MqttReasonCode.NotAuthorized : (MqttReasonCode)5 });
        yield return ("PUBLISH qos0", new PublishPacket { Topic = "factory/cnc-01/state", Payload = "{\"state\":4}"u8.ToArray() });
        yield return ("PUBLISH qos1 empty payload", new PublishPacket { Topic = "a", Qos = MqttQos.AtLeastOnce, PacketId = 1 });
        yield return ("PUBLISH qos2 dup retain", new PublishPacket
        {
            Topic = "spBv1.0/plant/NDATA/line-7",
            Qos = MqttQos.ExactlyOnce,
            Dup = true,
            Retain = true,
            PacketId = 65_535,
            Payload = Enumerable.Range(0, 300).Select(i => (byte)i).ToArray(),
            Properties = P(p =>
            {
                p.PayloadFormatIndicator = 0;
                p.MessageExpiryInterval = 10;
                p.TopicAlias = 3;
                p.ResponseTopic = "r";
                p.CorrelationData = new byte[] { 7 };
                p.ContentType = "application/x-protobuf";
                p.SubscriptionIdentifiers.Add(1);
                p.SubscriptionIdentifiers.Add(268_435_455);
            }),
        });
        if (v5)
        {
            yield return ("PUBLISH by topic alias", new PublishPacket { Topic = string.Empty, Properties = P(p => p.TopicAlias = 7), Payload = new byte[] { 1 } });
        }

        foreach (MqttPacketType ack in new[] { MqttPacketType.PubAck, MqttPacketType.PubRec, MqttPacketType.PubRel, MqttPacketType.PubComp })
        {
            yield return ($"{ack} plain", new PublishAckPacket(ack) { PacketId = 42 });
            if (v5)
            {
                MqttReasonCode code = ack is MqttPacketType.PubRel or MqttPacketType.PubComp ? MqttReasonCode.PacketIdentifierNotFound : MqttReasonCode.NoMatchingSubscribers;
                yield return ($"{ack} reason only", new PublishAckPacket(ack) { PacketId = 43, ReasonCode = code });
                yield return ($"{ack} with properties", new PublishAckPacket(ack) { PacketId = 44, Properties = P(p => p.ReasonString = "ok") });
            }
        }

        yield return ("SUBSCRIBE", new SubscribePacket
        {
            PacketId = 7,
            Properties = P(p => p.SubscriptionIdentifiers.Add(300)),
            Subscriptions =
            [
                new MqttSubscription("factory/+/state", MqttQos.AtMostOnce),
                new MqttSubscription("spBv1.0/#", MqttQos.ExactlyOnce) { NoLocal = v5, RetainAsPublished = v5, RetainHandling = v5 ? MqttRetainHandling.DoNotSend : 0 },
                new MqttSubscription("$share/ingest/factory/#", MqttQos.AtLeastOnce),
            ],
        });
        yield return ("SUBACK", new SubAckPacket
        {
            PacketId = 7,
            Properties = P(p => p.ReasonString = "partly"),
            ReasonCodes = [MqttReasonCode.Success, MqttReasonCode.GrantedQos2, MqttReasonCode.UnspecifiedError, .. v5 ? new[] { MqttReasonCode.NotAuthorized } : []],
        });
        yield return ("UNSUBSCRIBE", new UnsubscribePacket { PacketId = 8, Properties = P(_ => { }), TopicFilters = ["factory/+/state", "#"] });
        yield return ("UNSUBACK", v5
            ? new UnsubAckPacket { PacketId = 8, Properties = P(p => p.ReasonString = "done"), ReasonCodes = [MqttReasonCode.Success, MqttReasonCode.NoSubscriptionExisted] }
            : new UnsubAckPacket { PacketId = 8 });
        yield return ("PINGREQ", PingReqPacket.Instance);
        yield return ("PINGRESP", PingRespPacket.Instance);
        yield return ("DISCONNECT normal", new DisconnectPacket());
        if (v5)
        {
            yield return ("DISCONNECT reason", new DisconnectPacket { ReasonCode = MqttReasonCode.DisconnectWithWillMessage });
            yield return ("DISCONNECT properties", new DisconnectPacket
            {
                ReasonCode = MqttReasonCode.ServerShuttingDown,
                Properties = P(p =>
                {
                    p.SessionExpiryInterval = 0;
                    p.ReasonString = "bye";
                    p.ServerReference = "b2";
                }),
            });
            yield return ("AUTH empty", new AuthPacket());
            yield return ("AUTH continue", new AuthPacket
            {
                ReasonCode = MqttReasonCode.ContinueAuthentication,
                Properties = P(p =>
                {
                    p.AuthenticationMethod = "SCRAM-SHA-256";
                    p.AuthenticationData = new byte[] { 1, 2, 3 };
                    p.ReasonString = "step 2";
                }),
            });
        }
    }

    public static TheoryData<MqttProtocolVersion, string> Names()
    {
        var data = new TheoryData<MqttProtocolVersion, string>();
        foreach (MqttProtocolVersion version in new[] { MqttProtocolVersion.V311, MqttProtocolVersion.V500 })
        {
            foreach ((string name, _) in For(version))
            {
                data.Add(version, name);
            }
        }

        return data;
    }

    public static MqttPacket Get(MqttProtocolVersion version, string name) => For(version).Single(p => p.Name == name).Packet;
}
