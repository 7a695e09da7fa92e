using System.Globalization;
using System.Text;

namespace FactoryGateway.OpcUa.Encoding;

/// <summary>The identifier kinds of a NodeId (OPC 10000-3 §8.2.3).</summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1720:Identifier contains type name", Justification = "The names are the identifier types of OPC 10000-3.")]
public enum NodeIdType : byte
{
    Numeric = 0,
    String = 1,
    Guid = 2,
    Opaque = 3,
}

/// <summary>
/// An OPC UA NodeId: a namespace index and a numeric, string, GUID or opaque identifier. Immutable;
/// equality compares namespace and identifier. Text form (OPC 10000-6 §5.3.1.10):
/// <c>ns=2;s=TestMachine.PartsTotal</c>, <c>i=85</c>, <c>g=…</c>, <c>b=&lt;base64&gt;</c>.
/// </summary>
public sealed class NodeId : IEquatable<NodeId>
{
    private readonly uint _numeric;
    private readonly object? _identifier;

    public NodeId(uint identifier, ushort namespaceIndex = 0)
    {
        NamespaceIndex = namespaceIndex;
        IdType = NodeIdType.Numeric;
        _numeric = identifier;
    }

    public NodeId(string identifier, ushort namespaceIndex)
    {
        ArgumentNullException.ThrowIfNull(identifier);
        NamespaceIndex = namespaceIndex;
        IdType = NodeIdType.String;
        _identifier = identifier;
    }

    public NodeId(Guid identifier, ushort namespaceIndex)
    {
        NamespaceIndex = namespaceIndex;
        IdType = NodeIdType.Guid;
        _identifier = identifier;
    }

    public NodeId(byte[] identifier, ushort namespaceIndex)
    {
        ArgumentNullException.ThrowIfNull(identifier);
        NamespaceIndex = namespaceIndex;
        IdType = NodeIdType.Opaque;
        _identifier = identifier;
    }

    /// <summary>The null NodeId, <c>i=0</c>.</summary>
    public static NodeId Null { get; } = new(0u);

    public ushort NamespaceIndex { get; }

    public NodeIdType IdType { get; }

    /// <summary>True for <c>ns=0;i=0</c> (and an empty string/opaque or empty GUID in namespace 0).</summary>
    public bool IsNull => NamespaceIndex == 0 && IdType switch
    {
        NodeIdType.Numeric => _numeric == 0,
        NodeIdType.String => ((string)_identifier!).Length == 0,
        NodeIdType.Guid => (Guid)_identifier! == Guid.Empty,
        _ => ((byte[])_identifier!).Length == 0,
    };

    /// <summary>The numeric identifier (0 unless <see cref="IdType"/> is Numeric).</summary>
    public uint NumericIdentifier => _numeric;

    /// <summary>The string identifier, or null.</summary>
    public string? StringIdentifier => _identifier as string;

    /// <summary>The GUID identifier, or empty.</summary>
    public Guid GuidIdentifier => _identifier is Guid g ? g : Guid.Empty;

    /// <summary>The opaque identifier, or null. Callers must not modify it.</summary>
    public byte[]? OpaqueIdentifier => _identifier as byte[];

    /// <summary>The identifier: a boxed uint, a string, a Guid or a byte array.</summary>
    public object Identifier => _identifier ?? _numeric;

    public static NodeId Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        ExpandedNodeId expanded = ExpandedNodeId.Parse(text);
        if (expanded.NamespaceUri is not null || expanded.ServerIndex != 0)
        {
            throw new FormatException($"'{text}' is an ExpandedNodeId (nsu=/svr=); resolve it with ExpandedNodeId.ToNodeId(namespaceTable).");
        }

        return expanded.NodeId;
    }

    /// <summary>Parses a NodeId, resolving an <c>nsu=</c> namespace URI through <paramref name="namespaceTable"/>.</summary>
    public static NodeId Parse(string text, IReadOnlyList<string> namespaceTable) =>
        ExpandedNodeId.Parse(text).ToNodeId(namespaceTable);

    public static bool TryParse(string text, out NodeId? nodeId)
    {
        try
        {
            nodeId = Parse(text);
            return true;
        }
        catch (FormatException)
        {
            nodeId = null;
            return false;
        }
    }

    public bool Equals(NodeId? other)
    {
        if (other is null || other.NamespaceIndex != NamespaceIndex || other.IdType != IdType)
        {
            return false;
        }

        return IdType switch
        {
            NodeIdType.Numeric => other._numeric == _numeric,
            NodeIdType.String => string.Equals((string)other._identifier!, (string)_identifier!, StringComparison.Ordinal),
            NodeIdType.Guid => (Guid)other._identifier! == (Guid)_identifier!,
            _ => ((byte[])other._identifier!).AsSpan().SequenceEqual((byte[])_identifier!),
        };
    }

    public override bool Equals(object? obj) => obj is NodeId other && Equals(other);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.Add(NamespaceIndex);
        hash.Add(IdType);
        switch (IdType)
        {
            case NodeIdType.Numeric:
                hash.Add(_numeric);
                break;
            case NodeIdType.String:
                hash.Add((string)_identifier!, StringComparer.Ordinal);
                break;
            case NodeIdType.Guid:
                hash.Add((Guid)_identifier!);
                break;
            default:
                hash.AddBytes((byte[])_identifier!);
                break;
        }

        return hash.ToHashCode();
    }

    public static bool operator ==(NodeId? left, NodeId? right) => left is null ? right is null : left.Equals(right);

    public static bool operator !=(NodeId? left, NodeId? right) => !(left == right);

    public override string ToString()
    {
        var text = new StringBuilder();
        if (NamespaceIndex != 0)
        {
            text.Append("ns=").Append(NamespaceIndex.ToString(CultureInfo.InvariantCulture)).Append(';');
        }

        AppendIdentifier(text);
        return text.ToString();
    }

    internal void AppendIdentifier(StringBuilder text)
    {
        switch (IdType)
        {
            case NodeIdType.Numeric:
                text.Append("i=").Append(_numeric.ToString(CultureInfo.InvariantCulture));
                break;
            case NodeIdType.String:
                text.Append("s=").Append((string)_identifier!);
                break;
            case NodeIdType.Guid:
                text.Append("g=").Append(((Guid)_identifier!).ToString("D"));
                break;
            default:
                text.Append("b=").Append(Convert.ToBase64String((byte[])_identifier!));
                break;
        }
    }
}

/// <summary>
/// A NodeId that may name its namespace by URI and live on another server (OPC 10000-6 §5.2.2.10).
/// Text form: <c>svr=1;nsu=http://example.com/UA/;s=Pump</c>.
/// </summary>
public sealed class ExpandedNodeId : IEquatable<ExpandedNodeId>
{
    public ExpandedNodeId(NodeId nodeId, string? namespaceUri = null, uint serverIndex = 0)
    {
        ArgumentNullException.ThrowIfNull(nodeId);
        NodeId = nodeId;
        NamespaceUri = namespaceUri;
        ServerIndex = serverIndex;
    }

    public static ExpandedNodeId Null { get; } = new(NodeId.Null);

    /// <summary>The local NodeId; its namespace index is meaningless when <see cref="NamespaceUri"/> is set.</summary>
    public NodeId NodeId { get; }

    public string? NamespaceUri { get; }

    public uint ServerIndex { get; }

    public bool IsNull => NodeId.IsNull && NamespaceUri is null && ServerIndex == 0;

    /// <summary>
    /// The local NodeId, resolving <see cref="NamespaceUri"/> through the server's namespace array.
    /// Throws <see cref="FormatException"/> when the URI is not in the table or the node is on another server.
    /// </summary>
    public NodeId ToNodeId(IReadOnlyList<string> namespaceTable)
    {
        ArgumentNullException.ThrowIfNull(namespaceTable);
        if (ServerIndex != 0)
        {
            throw new FormatException($"{this} is on server {ServerIndex}, not the local server.");
        }

        if (NamespaceUri is null)
        {
            return NodeId;
        }

        for (int i = 0; i < namespaceTable.Count && i <= ushort.MaxValue; i++)
        {
            if (string.Equals(namespaceTable[i], NamespaceUri, StringComparison.Ordinal))
            {
                return WithNamespace(NodeId, (ushort)i);
            }
        }

        throw new FormatException($"namespace URI '{NamespaceUri}' is not in the server's namespace array.");
    }

    private static NodeId WithNamespace(NodeId id, ushort ns) => id.IdType switch
    {
        NodeIdType.Numeric => new NodeId(id.NumericIdentifier, ns),
        NodeIdType.String => new NodeId(id.StringIdentifier!, ns),
        NodeIdType.Guid => new NodeId(id.GuidIdentifier, ns),
        _ => new NodeId(id.OpaqueIdentifier!, ns),
    };

    /// <summary>Parses <c>[svr=n;][ns=n;|nsu=uri;](i=|s=|g=|b=)identifier</c>.</summary>
    public static ExpandedNodeId Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        ReadOnlySpan<char> rest = text;
        uint server = 0;
        ushort ns = 0;
        string? uri = null;
        if (rest.StartsWith("svr=", StringComparison.Ordinal))
        {
            int semi = rest.IndexOf(';');
            if (semi < 0 || !uint.TryParse(rest[4..semi], NumberStyles.None, CultureInfo.InvariantCulture, out server))
            {
                throw Bad(text, "svr= needs a server index followed by ';'");
            }

            rest = rest[(semi + 1)..];
        }

        if (rest.StartsWith("nsu=", StringComparison.Ordinal))
        {
            int semi = rest.IndexOf(';');
            if (semi < 0)
            {
                throw Bad(text, "nsu= needs a namespace URI followed by ';'");
            }

            uri = Uri.UnescapeDataString(rest[4..semi].ToString());
            rest = rest[(semi + 1)..];
        }
        else if (rest.StartsWith("ns=", StringComparison.Ordinal))
        {
            int semi = rest.IndexOf(';');
            if (semi < 0 || !ushort.TryParse(rest[3..semi], NumberStyles.None, CultureInfo.InvariantCulture, out ns))
            {
                throw Bad(text, "ns= needs a namespace index (0–65535) followed by ';'");
            }

            rest = rest[(semi + 1)..];
        }

        if (rest.Length < 2 || rest[1] != '=')
        {
            throw Bad(text, "expected i=, s=, g= or b=");
        }

        ReadOnlySpan<char> id = rest[2..];
        NodeId nodeId;
        switch (rest[0])
        {
            case 'i':
                if (!uint.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out uint numeric))
                {
                    throw Bad(text, "i= needs an unsigned 32-bit integer");
                }

                nodeId = new NodeId(numeric, ns);
                break;
            case 's':
                nodeId = new NodeId(id.ToString(), ns);
                break;
            case 'g':
                if (!Guid.TryParse(id, out Guid guid))
                {
                    throw Bad(text, "g= needs a GUID");
                }

                nodeId = new NodeId(guid, ns);
                break;
            case 'b':
                byte[] bytes;
                try
                {
                    bytes = Convert.FromBase64String(id.ToString());
                }
                catch (FormatException)
                {
                    throw Bad(text, "b= needs base64");
                }

                nodeId = new NodeId(bytes, ns);
                break;
            default:
                throw Bad(text, "expected i=, s=, g= or b=");
        }

        return new ExpandedNodeId(nodeId, uri, server);
    }

    private static FormatException Bad(string text, string reason) => new($"invalid NodeId '{text}': {reason}.");

    public bool Equals(ExpandedNodeId? other) =>
        other is not null && other.ServerIndex == ServerIndex && string.Equals(other.NamespaceUri, NamespaceUri, StringComparison.Ordinal)
        && (NamespaceUri is null ? other.NodeId.Equals(NodeId) : SameIdentifier(other.NodeId, NodeId));

    private static bool SameIdentifier(NodeId a, NodeId b) => WithNamespace(a, 0).Equals(WithNamespace(b, 0));

    public override bool Equals(object? obj) => obj is ExpandedNodeId other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(NodeId.IdType, NodeId.Identifier is byte[]? 0 : NodeId.Identifier.GetHashCode(), NamespaceUri, ServerIndex);

    public override string ToString()
    {
        var text = new StringBuilder();
        if (ServerIndex != 0)
        {
            text.Append("svr=").Append(ServerIndex.ToString(CultureInfo.InvariantCulture)).Append(';');
        }

        if (NamespaceUri is not null)
        {
            text.Append("nsu=").Append(NamespaceUri.Replace("%", "%25", StringComparison.Ordinal).Replace(";", "%3B", StringComparison.Ordinal)).Append(';');
        }
        else if (NodeId.NamespaceIndex != 0)
        {
            text.Append("ns=").Append(NodeId.NamespaceIndex.ToString(CultureInfo.InvariantCulture)).Append(';');
        }

        NodeId.AppendIdentifier(text);
        return text.ToString();
    }
}
