namespace FactoryGateway.OpcUa.Encoding;

/// <summary>How an ExtensionObject's body is encoded (OPC 10000-6 §5.2.2.15).</summary>
public enum ExtensionObjectEncoding : byte
{
    None = 0,
    Binary = 1,
    Xml = 2,
}

/// <summary>
/// A structure wrapped with the NodeId of its encoding. Structures this stack knows are decoded into
/// <see cref="Value"/>; unknown ones keep their body bytes untouched in <see cref="Body"/> so that
/// they can be passed on or re-encoded exactly.
/// </summary>
public sealed class ExtensionObject
{
    public ExtensionObject(NodeId typeId, ExtensionObjectEncoding encoding, ReadOnlyMemory<byte> body)
    {
        ArgumentNullException.ThrowIfNull(typeId);
        TypeId = typeId;
        Encoding = encoding;
        Body = body;
    }

    /// <summary>Wraps a structure this stack encodes (its binary encoding id is the type id).</summary>
    public ExtensionObject(IUaEncodable value)
    {
        ArgumentNullException.ThrowIfNull(value);
        TypeId = new NodeId(value.BinaryEncodingId);
        Encoding = ExtensionObjectEncoding.Binary;
        Value = value;
    }

    internal ExtensionObject(NodeId typeId, ReadOnlyMemory<byte> body, object value)
    {
        TypeId = typeId;
        Encoding = ExtensionObjectEncoding.Binary;
        Body = body;
        Value = value;
    }

    public static ExtensionObject Null { get; } = new(NodeId.Null, ExtensionObjectEncoding.None, default);

    /// <summary>The NodeId of the body's encoding (for example <c>i=811</c>, DataChangeNotification_Encoding_DefaultBinary).</summary>
    public NodeId TypeId { get; }

    public ExtensionObjectEncoding Encoding { get; }

    /// <summary>The encoded body (UTF-8 text for Xml); empty for None or for a value created in code.</summary>
    public ReadOnlyMemory<byte> Body { get; }

    /// <summary>The decoded structure, when this stack knows the type; otherwise null.</summary>
    public object? Value { get; }

    public bool IsNull => Encoding == ExtensionObjectEncoding.None && TypeId.IsNull;

    public override string ToString() => Value?.ToString() ?? $"ExtensionObject {TypeId} ({Body.Length} bytes)";
}

/// <summary>A structure the stack can encode as an ExtensionObject body.</summary>
public interface IUaEncodable
{
    /// <summary>The numeric namespace-0 id of the structure's DefaultBinary encoding.</summary>
    uint BinaryEncodingId { get; }

    void Encode(UaBinaryEncoder encoder);
}
