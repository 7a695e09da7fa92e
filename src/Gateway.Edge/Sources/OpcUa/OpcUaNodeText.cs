using System.Text;
using FactoryGateway.OpcUa.Client;
using FactoryGateway.OpcUa.Encoding;

namespace FactoryGateway.Edge.Sources.OpcUa;

/// <summary>
/// A node as the edge configuration writes it: an ExpandedNodeId (<c>nsu=urn:plant;s=Mill1.Speed</c>, <c>ns=2;i=7</c>),
/// or a browse path of <c>/</c>-separated browse names, each qualified by its namespace URI in braces
/// (<c>/{http://opcfoundation.org/UA/Machinery/}Machines/{urn:plant}Mill1</c>; a name without braces is in namespace 0).
/// A path starting with <c>/</c> starts at the Objects folder; one starting with <c>./</c> at the device's root object.
/// </summary>
public sealed record OpcUaNodeText(ExpandedNodeId? NodeId, IReadOnlyList<UaBrowseName> Path, bool IsRelative)
{
    /// <summary>The URI of namespace 0.</summary>
    public const string UaNamespace = "http://opcfoundation.org/UA/";

    /// <summary>Parses <paramref name="text"/>; false with a reason when it is neither a node id nor a browse path.</summary>
    public static bool TryParse(string text, out OpcUaNodeText? node, out string? error)
    {
        node = null;
        error = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            error = "is empty";
            return false;
        }

        bool relative = text.StartsWith("./", StringComparison.Ordinal);
        if (relative || text.StartsWith('/'))
        {
            var path = new List<UaBrowseName>();
            string rest = text[(relative ? 2 : 1)..];
            int i = 0;
            while (i < rest.Length)
            {
                string uri = UaNamespace;
                if (rest[i] == '{')
                {
                    int close = rest.IndexOf('}', i);
                    if (close < 0)
                    {
                        error = $"\"{text}\": '{{' at {i + (relative ? 2 : 1)} has no closing '}}'";
                        return false;
                    }

                    uri = rest[(i + 1)..close];
                    i = close + 1;
                }

                int slash = rest.IndexOf('/', i);
                string name = slash < 0 ? rest[i..] : rest[i..slash];
                if (name.Length == 0)
                {
                    error = $"\"{text}\" has an empty browse name";
                    return false;
                }

                path.Add(new UaBrowseName(uri, name));
                i = slash < 0 ? rest.Length : slash + 1;
                if (slash >= 0 && i == rest.Length)
                {
                    error = $"\"{text}\" ends with '/'";
                    return false;
                }
            }

            if (path.Count == 0)
            {
                error = $"\"{text}\" is a browse path without a name";
                return false;
            }

            node = new OpcUaNodeText(null, path, relative);
            return true;
        }

        try
        {
            node = new OpcUaNodeText(ExpandedNodeId.Parse(text), [], false);
            return true;
        }
        catch (FormatException e)
        {
            error = $"\"{text}\" is neither a node id (nsu=…;s=…, ns=…;i=…) nor a browse path (/{{uri}}Name/…): {e.Message}";
            return false;
        }
    }

    /// <summary>Parses or throws <see cref="FormatException"/>.</summary>
    public static OpcUaNodeText Parse(string text) =>
        TryParse(text, out OpcUaNodeText? node, out string? error) ? node! : throw new FormatException(error);

    /// <summary>The reference the connection resolves after every reconnect; a relative path starts at <paramref name="root"/>.</summary>
    public UaNodeReference ToReference(ExpandedNodeId? root = null)
    {
        if (NodeId is not null)
        {
            return UaNodeReference.Parse(NodeId.ToString());
        }

        if (IsRelative && root is null)
        {
            throw new InvalidOperationException("a path relative to the device's root needs the root.");
        }

        return UaNodeReference.FromBrowsePath(Path, IsRelative ? root!.ToString() : null);
    }

    /// <summary>Writes a browse path in this notation.</summary>
    public static string FormatPath(IEnumerable<UaBrowseName> path, bool relative = false)
    {
        ArgumentNullException.ThrowIfNull(path);
        var text = new StringBuilder(relative ? "." : "");
        foreach (UaBrowseName name in path)
        {
            text.Append('/');
            if (name.NamespaceUri != UaNamespace)
            {
                text.Append('{').Append(name.NamespaceUri).Append('}');
            }

            text.Append(name.Name);
        }

        return text.ToString();
    }

    public override string ToString() => NodeId?.ToString() ?? FormatPath(Path, IsRelative);

    /// <summary>A name the line protocol and the ingest accept as a signal: ASCII letters, digits and '_', 1 to 128 long.</summary>
    public static bool IsValidSignal(string name) =>
        !string.IsNullOrEmpty(name) && name.Length <= 128 && name.All(c => char.IsAsciiLetterOrDigit(c) || c == '_');

    /// <summary>
    /// A signal name made from free text (an OPC Publisher DataSetFieldId or DisplayName): every run of other
    /// characters becomes one '_', leading and trailing '_' are dropped, at most 128 characters; null when nothing is left.
    /// </summary>
    public static string? SanitizeSignal(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        var name = new StringBuilder(text.Length);
        foreach (char c in text)
        {
            if (char.IsAsciiLetterOrDigit(c) || c == '_')
            {
                name.Append(c);
            }
            else if (name.Length > 0 && name[^1] != '_')
            {
                name.Append('_');
            }
        }

        string result = name.ToString().Trim('_');
        if (result.Length > 128)
        {
            result = result[..128].TrimEnd('_');
        }

        return result.Length == 0 ? null : result;
    }
}
