namespace FactoryGateway.Mqtt.Packets;

/// <summary>A user property: a UTF-8 string pair that may repeat, order preserved (MQTT 5.0 §3.1.2.11.8).</summary>
public sealed record MqttUserProperty(string Name, string Value);

/// <summary>
/// The MQTT 5.0 properties of one packet (or of a will message). A <c>null</c> member is absent from
/// the wire. Which members a packet may carry is checked by the reader and the writer
/// (<see cref="MqttPropertyTable"/>); an MQTT 3.1.1 packet carries none.
/// </summary>
public sealed class MqttProperties
{
    public byte? PayloadFormatIndicator { get; set; }

    public uint? MessageExpiryInterval { get; set; }

    public string? ContentType { get; set; }

    public string? ResponseTopic { get; set; }

    public ReadOnlyMemory<byte>? CorrelationData { get; set; }

    private List<uint>? _subscriptionIdentifiers;
    private List<MqttUserProperty>? _userProperties;

    /// <summary>Subscription identifiers: one in SUBSCRIBE, one or more in a PUBLISH from the server (the list is created on first use).</summary>
    public List<uint> SubscriptionIdentifiers => _subscriptionIdentifiers ??= [];

    public uint? SessionExpiryInterval { get; set; }

    public string? AssignedClientIdentifier { get; set; }

    public ushort? ServerKeepAlive { get; set; }

    public string? AuthenticationMethod { get; set; }

    public ReadOnlyMemory<byte>? AuthenticationData { get; set; }

    public byte? RequestProblemInformation { get; set; }

    public uint? WillDelayInterval { get; set; }

    public byte? RequestResponseInformation { get; set; }

    public string? ResponseInformation { get; set; }

    public string? ServerReference { get; set; }

    public string? ReasonString { get; set; }

    public ushort? ReceiveMaximum { get; set; }

    public ushort? TopicAliasMaximum { get; set; }

    public ushort? TopicAlias { get; set; }

    public byte? MaximumQos { get; set; }

    public byte? RetainAvailable { get; set; }

    /// <summary>User properties in wire order (the list is created on first use).</summary>
    public List<MqttUserProperty> UserProperties => _userProperties ??= [];

    public uint? MaximumPacketSize { get; set; }

    public byte? WildcardSubscriptionAvailable { get; set; }

    public byte? SubscriptionIdentifierAvailable { get; set; }

    public byte? SharedSubscriptionAvailable { get; set; }

    internal List<uint>? SubscriptionIdentifiersOrNull => _subscriptionIdentifiers;

    internal List<MqttUserProperty>? UserPropertiesOrNull => _userProperties;

    /// <summary>True when no property is present.</summary>
    public bool IsEmpty =>
        PayloadFormatIndicator is null && MessageExpiryInterval is null && ContentType is null && ResponseTopic is null
        && CorrelationData is null && _subscriptionIdentifiers is not { Count: > 0 } && SessionExpiryInterval is null
        && AssignedClientIdentifier is null && ServerKeepAlive is null && AuthenticationMethod is null
        && AuthenticationData is null && RequestProblemInformation is null && WillDelayInterval is null
        && RequestResponseInformation is null && ResponseInformation is null && ServerReference is null
        && ReasonString is null && ReceiveMaximum is null && TopicAliasMaximum is null && TopicAlias is null
        && MaximumQos is null && RetainAvailable is null && _userProperties is not { Count: > 0 } && MaximumPacketSize is null
        && WildcardSubscriptionAvailable is null && SubscriptionIdentifierAvailable is null && SharedSubscriptionAvailable is null;
}

/// <summary>Where a property set sits: a packet type, or the will properties of CONNECT.</summary>
[Flags]
public enum MqttPropertyContext
{
    None = 0,
    Connect = 1 << 1,
    ConnAck = 1 << 2,
    Publish = 1 << 3,
    PubAck = 1 << 4,
    PubRec = 1 << 5,
    PubRel = 1 << 6,
    PubComp = 1 << 7,
    Subscribe = 1 << 8,
    SubAck = 1 << 9,
    Unsubscribe = 1 << 10,
    UnsubAck = 1 << 11,
    Disconnect = 1 << 14,
    Auth = 1 << 15,
    Will = 1 << 16,
}

/// <summary>The wire type of a property value (MQTT 5.0 §1.5).</summary>
public enum MqttPropertyType
{
    Byte,
    TwoByteInteger,
    FourByteInteger,
    VariableByteInteger,
    Utf8String,
    BinaryData,
    Utf8StringPair,
}

/// <summary>MQTT 5.0 §2.2.2.2, table 2-4: each property's type and the packets that may carry it.</summary>
public static class MqttPropertyTable
{
    private const MqttPropertyContext AllAcks = MqttPropertyContext.PubAck | MqttPropertyContext.PubRec | MqttPropertyContext.PubRel | MqttPropertyContext.PubComp;
    private const MqttPropertyContext PublishAndWill = MqttPropertyContext.Publish | MqttPropertyContext.Will;

    private static readonly (MqttPropertyType Type, MqttPropertyContext Allowed, string Name)?[] s_table = Build();

    // Field names for error messages, built once: a decoder that formatted them per property would allocate per packet.
    private static readonly string[] s_fieldNames = [.. s_table.Select(e => e is { } entry ? $"property {entry.Name}" : string.Empty)];

    /// <summary>"property &lt;Name&gt;" for a known identifier, as error messages name the field.</summary>
    internal static string FieldName(byte id) => s_fieldNames[id];

    public static MqttPropertyContext ContextOf(MqttPacketType type) => (MqttPropertyContext)(1 << (int)type);

    /// <summary>The property's type, allowed contexts and name; false for an unknown identifier.</summary>
    public static bool TryGet(byte id, out MqttPropertyType type, out MqttPropertyContext allowed, out string name)
    {
        if (s_table[id] is { } entry)
        {
            (type, allowed, name) = entry;
            return true;
        }

        (type, allowed, name) = (default, MqttPropertyContext.None, string.Empty);
        return false;
    }

    private static (MqttPropertyType, MqttPropertyContext, string)?[] Build()
    {
        var table = new (MqttPropertyType, MqttPropertyContext, string)?[256];
        void Add(MqttPropertyId id, MqttPropertyType type, MqttPropertyContext allowed) => table[(byte)id] = (type, allowed, id.ToString());

        Add(MqttPropertyId.PayloadFormatIndicator, MqttPropertyType.Byte, PublishAndWill);
        Add(MqttPropertyId.MessageExpiryInterval, MqttPropertyType.FourByteInteger, PublishAndWill);
        Add(MqttPropertyId.ContentType, MqttPropertyType.Utf8String, PublishAndWill);
        Add(MqttPropertyId.ResponseTopic, MqttPropertyType.Utf8String, PublishAndWill);
        Add(MqttPropertyId.CorrelationData, MqttPropertyType.BinaryData, PublishAndWill);
        Add(MqttPropertyId.SubscriptionIdentifier, MqttPropertyType.VariableByteInteger, MqttPropertyContext.Publish | MqttPropertyContext.Subscribe);
        Add(MqttPropertyId.SessionExpiryInterval, MqttPropertyType.FourByteInteger, MqttPropertyContext.Connect | MqttPropertyContext.ConnAck | MqttPropertyContext.Disconnect);
        Add(MqttPropertyId.AssignedClientIdentifier, MqttPropertyType.Utf8String, MqttPropertyContext.ConnAck);
        Add(MqttPropertyId.ServerKeepAlive, MqttPropertyType.TwoByteInteger, MqttPropertyContext.ConnAck);
        Add(MqttPropertyId.AuthenticationMethod, MqttPropertyType.Utf8String, MqttPropertyContext.Connect | MqttPropertyContext.ConnAck | MqttPropertyContext.Auth);
        Add(MqttPropertyId.AuthenticationData, MqttPropertyType.BinaryData, MqttPropertyContext.Connect | MqttPropertyContext.ConnAck | MqttPropertyContext.Auth);
        Add(MqttPropertyId.RequestProblemInformation, MqttPropertyType.Byte, MqttPropertyContext.Connect);
        Add(MqttPropertyId.WillDelayInterval, MqttPropertyType.FourByteInteger, MqttPropertyContext.Will);
        Add(MqttPropertyId.RequestResponseInformation, MqttPropertyType.Byte, MqttPropertyContext.Connect);
        Add(MqttPropertyId.ResponseInformation, MqttPropertyType.Utf8String, MqttPropertyContext.ConnAck);
        Add(MqttPropertyId.ServerReference, MqttPropertyType.Utf8String, MqttPropertyContext.ConnAck | MqttPropertyContext.Disconnect);
        Add(MqttPropertyId.ReasonString, MqttPropertyType.Utf8String, MqttPropertyContext.ConnAck | AllAcks | MqttPropertyContext.SubAck | MqttPropertyContext.UnsubAck | MqttPropertyContext.Disconnect | MqttPropertyContext.Auth);
        Add(MqttPropertyId.ReceiveMaximum, MqttPropertyType.TwoByteInteger, MqttPropertyContext.Connect | MqttPropertyContext.ConnAck);
        Add(MqttPropertyId.TopicAliasMaximum, MqttPropertyType.TwoByteInteger, MqttPropertyContext.Connect | MqttPropertyContext.ConnAck);
        Add(MqttPropertyId.TopicAlias, MqttPropertyType.TwoByteInteger, MqttPropertyContext.Publish);
        Add(MqttPropertyId.MaximumQos, MqttPropertyType.Byte, MqttPropertyContext.ConnAck);
        Add(MqttPropertyId.RetainAvailable, MqttPropertyType.Byte, MqttPropertyContext.ConnAck);
        Add(MqttPropertyId.UserProperty, MqttPropertyType.Utf8StringPair, (MqttPropertyContext)~0);
        Add(MqttPropertyId.MaximumPacketSize, MqttPropertyType.FourByteInteger, MqttPropertyContext.Connect | MqttPropertyContext.ConnAck);
        Add(MqttPropertyId.WildcardSubscriptionAvailable, MqttPropertyType.Byte, MqttPropertyContext.ConnAck);
        Add(MqttPropertyId.SubscriptionIdentifierAvailable, MqttPropertyType.Byte, MqttPropertyContext.ConnAck);
        Add(MqttPropertyId.SharedSubscriptionAvailable, MqttPropertyType.Byte, MqttPropertyContext.ConnAck);
        return table;
    }
}
