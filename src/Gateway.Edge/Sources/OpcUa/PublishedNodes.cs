using System.Globalization;
using System.Text;
using System.Text.Json;
using FactoryGateway.Edge.Config;
using FactoryGateway.OpcUa.Encoding;
using FactoryGateway.OpcUa.Services;

namespace FactoryGateway.Edge.Sources.OpcUa;

/// <summary>Something in a publishednodes.json the edge does not take over as it is: its JSON path and why.</summary>
public sealed record PublishedNodesIssue(string Path, string Reason)
{
    public override string ToString() => $"{Path}: {Reason}";
}

/// <summary>The OPC UA sources made from a publishednodes.json, and every field that was not taken over as written.</summary>
public sealed record PublishedNodesImport(IReadOnlyList<OpcUaSourceOptions> Sources, IReadOnlyList<PublishedNodesIssue> Issues);

/// <summary>
/// Imports Microsoft OPC Publisher's <c>publishednodes.json</c> (an array of entries, each an <c>EndpointUrl</c> with
/// <c>OpcNodes</c>) as edge OPC UA sources, for <c>fgw edge import-publishednodes FILE</c>. Entries with the same endpoint,
/// security and user become one source; an entry's <c>DataSetWriterId</c> (else its <c>DataSetWriterGroup</c>) names its
/// device, else there is one device per endpoint. Each node becomes a custom mapping named by its <c>DataSetFieldId</c>
/// (else <c>DisplayName</c>, else its node id), made a valid signal name. A field the edge does not support, or takes over
/// differently, is reported with its JSON path; nothing is dropped silently.
/// </summary>
public static class PublishedNodes
{
    private static readonly string[] s_entryFields =
    [
        "EndpointUrl", "UseSecurity", "OpcAuthenticationMode", "OpcAuthenticationUsername", "OpcAuthenticationPassword", "OpcNodes",
        "DataSetWriterGroup", "DataSetWriterId", "DataSetPublishingInterval", "DataSetPublishingIntervalTimespan", "EndpointSecurityMode",
        "EndpointSecurityPolicy",
    ];

    private static readonly string[] s_nodeFields =
    [
        "Id", "ExpandedNodeId", "OpcSamplingInterval", "OpcSamplingIntervalTimespan", "OpcPublishingInterval", "OpcPublishingIntervalTimespan",
        "DataSetFieldId", "DisplayName", "HeartbeatInterval", "HeartbeatIntervalTimespan", "DeadbandType", "DeadbandValue", "DataChangeTrigger", "QueueSize",
    ];

    /// <summary>Parses <paramref name="json"/>; throws <see cref="FormatException"/> when it is not JSON or not an array of entries.</summary>
    public static PublishedNodesImport Import(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
        }
        catch (JsonException e)
        {
            throw new FormatException($"publishednodes.json is not JSON: {e.Message}", e);
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Array)
            {
                throw new FormatException($"publishednodes.json must be an array of entries; it is {document.RootElement.ValueKind}.");
            }

            var issues = new List<PublishedNodesIssue>();
            var sources = new List<OpcUaSourceOptions>();
            int index = 0;
            foreach (JsonElement entry in document.RootElement.EnumerateArray())
            {
                ImportEntry(entry, $"$[{index}]", sources, issues);
                index++;
            }

            foreach (OpcUaSourceOptions source in sources.Where(s => s.PublishingInterval == TimeSpan.Zero))
            {
                // No entry or node named one (zero marks "not set yet" while importing): the edge's default.
                source.PublishingInterval = new OpcUaSourceOptions().PublishingInterval;
            }

            return new PublishedNodesImport(sources, issues);
        }
    }

    private static void ImportEntry(JsonElement entry, string path, List<OpcUaSourceOptions> sources, List<PublishedNodesIssue> issues)
    {
        if (entry.ValueKind != JsonValueKind.Object)
        {
            issues.Add(new(path, $"an entry must be an object; it is {entry.ValueKind}"));
            return;
        }

        ReportUnknown(entry, path, s_entryFields, issues);
        string? endpoint = String(entry, "EndpointUrl", path, issues);
        if (string.IsNullOrWhiteSpace(endpoint))
        {
            issues.Add(new($"{path}.EndpointUrl", "is missing: the entry is skipped"));
            return;
        }

        var source = new OpcUaSourceOptions { Endpoint = endpoint };
        if (Bool(entry, "UseSecurity", path, issues) == true)
        {
            source.SecurityPolicy = "Basic256Sha256";
            source.SecurityMode = MessageSecurityMode.SignAndEncrypt;
        }

        if (String(entry, "EndpointSecurityMode", path, issues) is { } mode)
        {
            if (Enum.TryParse(mode, ignoreCase: true, out MessageSecurityMode parsed) && parsed is MessageSecurityMode.None or MessageSecurityMode.Sign or MessageSecurityMode.SignAndEncrypt)
            {
                source.SecurityMode = parsed;
                if (parsed == MessageSecurityMode.None)
                {
                    source.SecurityPolicy = "None";
                }
                else if (source.SecurityPolicy == "None")
                {
                    source.SecurityPolicy = "Basic256Sha256";
                }
            }
            else
            {
                issues.Add(new($"{path}.EndpointSecurityMode", $"\"{mode}\" is not None, Sign or SignAndEncrypt (Best is not supported: name the mode); {source.SecurityMode} is used"));
            }
        }

        if (String(entry, "EndpointSecurityPolicy", path, issues) is { } policy)
        {
            string name = policy[(policy.LastIndexOf('#') + 1)..];
            string? known = OpcUaSourceOptions.SecurityPolicies.FirstOrDefault(p => p.Equals(name, StringComparison.OrdinalIgnoreCase));
            if (known is null)
            {
                issues.Add(new($"{path}.EndpointSecurityPolicy", $"\"{policy}\" is not a supported policy ({string.Join(", ", OpcUaSourceOptions.SecurityPolicies)}); {source.SecurityPolicy} is used"));
            }
            else
            {
                source.SecurityPolicy = known;
                if (known == "None")
                {
                    source.SecurityMode = MessageSecurityMode.None;
                }
                else if (source.SecurityMode == MessageSecurityMode.None)
                {
                    source.SecurityMode = MessageSecurityMode.SignAndEncrypt;
                }
            }
        }

        string? authentication = String(entry, "OpcAuthenticationMode", path, issues);
        if (authentication is null || authentication.Equals("Anonymous", StringComparison.OrdinalIgnoreCase))
        {
            source.Identity = new OpcUaIdentityOptions();
        }
        else if (authentication.Equals("UsernamePassword", StringComparison.OrdinalIgnoreCase))
        {
            source.Identity = new OpcUaIdentityOptions
            {
                Type = OpcUaIdentityType.UserName,
                UserName = String(entry, "OpcAuthenticationUsername", path, issues),
                Password = String(entry, "OpcAuthenticationPassword", path, issues),
            };
            if (string.IsNullOrEmpty(source.Identity.UserName))
            {
                issues.Add(new($"{path}.OpcAuthenticationUsername", "is missing for UsernamePassword authentication"));
            }
        }
        else
        {
            issues.Add(new($"{path}.OpcAuthenticationMode", $"\"{authentication}\" is not supported (Anonymous or UsernamePassword); the entry is imported as Anonymous — configure Identity by hand"));
        }

        string deviceId = String(entry, "DataSetWriterId", path, issues) is { Length: > 0 } writer ? writer
            : String(entry, "DataSetWriterGroup", path, issues) is { Length: > 0 } group ? group
            : DeviceFromEndpoint(endpoint);
        double? entryPublishing = Milliseconds(entry, "DataSetPublishingInterval", path, issues);

        // One source per endpoint, security and user; one device per writer (or endpoint).
        OpcUaSourceOptions? existing = sources.FirstOrDefault(s => s.Endpoint == source.Endpoint && s.SecurityPolicy == source.SecurityPolicy
            && s.SecurityMode == source.SecurityMode && s.Identity.Type == source.Identity.Type && s.Identity.UserName == source.Identity.UserName);
        if (existing is null)
        {
            sources.Add(source);
            existing = source;
            existing.Name = DeviceFromEndpoint(endpoint);
            existing.PublishingInterval = TimeSpan.Zero;
        }
        else if (existing.Identity.Password != source.Identity.Password)
        {
            issues.Add(new($"{path}.OpcAuthenticationPassword", "differs from an earlier entry's for the same endpoint and user; the first is used"));
        }

        OpcUaDeviceOptions? device = existing.Devices.FirstOrDefault(d => d.Id == deviceId);
        if (device is null)
        {
            device = new OpcUaDeviceOptions { Id = deviceId, Profile = "custom" };
            existing.Devices.Add(device);
        }

        if (entryPublishing is { } ep)
        {
            SetPublishing(existing, ep, $"{path}.DataSetPublishingInterval", issues);
        }

        if (!entry.TryGetProperty("OpcNodes", out JsonElement nodes) && !TryGetIgnoreCase(entry, "OpcNodes", out nodes))
        {
            issues.Add(new($"{path}.OpcNodes", "is missing: the entry publishes nothing"));
        }
        else if (nodes.ValueKind != JsonValueKind.Array)
        {
            issues.Add(new($"{path}.OpcNodes", $"must be an array; it is {nodes.ValueKind}"));
        }
        else
        {
            int n = 0;
            foreach (JsonElement node in nodes.EnumerateArray())
            {
                ImportNode(node, $"{path}.OpcNodes[{n}]", existing, device, issues);
                n++;
            }
        }
    }

    private static void ImportNode(JsonElement node, string path, OpcUaSourceOptions source, OpcUaDeviceOptions device, List<PublishedNodesIssue> issues)
    {
        if (node.ValueKind != JsonValueKind.Object)
        {
            issues.Add(new(path, $"a node must be an object; it is {node.ValueKind}"));
            return;
        }

        ReportUnknown(node, path, s_nodeFields, issues);
        string? id = String(node, "Id", path, issues);
        string? expanded = String(node, "ExpandedNodeId", path, issues);
        string? text = expanded ?? id;
        if (string.IsNullOrWhiteSpace(text))
        {
            issues.Add(new(path, "has neither Id nor ExpandedNodeId: the node is skipped"));
            return;
        }

        ExpandedNodeId nodeId;
        try
        {
            nodeId = ExpandedNodeId.Parse(text);
        }
        catch (FormatException e)
        {
            issues.Add(new($"{path}.{(expanded is null ? "Id" : "ExpandedNodeId")}", $"\"{text}\" is not a node id the edge reads: {e.Message}; the node is skipped"));
            return;
        }

        string? field = String(node, "DataSetFieldId", path, issues);
        string? display = String(node, "DisplayName", path, issues);
        string signal = OpcUaNodeText.SanitizeSignal(field) ?? OpcUaNodeText.SanitizeSignal(display) ?? OpcUaNodeText.SanitizeSignal(nodeId.NodeId.Identifier.ToString()) ?? "value";
        if (field is not null && signal != field)
        {
            issues.Add(new($"{path}.DataSetFieldId", $"\"{field}\" is written as the signal \"{signal}\" (letters, digits and _ only)"));
        }

        string unique = signal;
        for (int k = 2; device.Nodes.Any(x => x.Signal == unique); k++)
        {
            unique = $"{signal}_{k}";
        }

        if (unique != signal)
        {
            issues.Add(new(path, $"the signal \"{signal}\" is already used by this device; this node is \"{unique}\""));
        }

        var mapping = new OpcUaNodeOptions { Node = nodeId.ToString(), Signal = unique };
        if (Milliseconds(node, "OpcSamplingInterval", path, issues) is { } sampling)
        {
            mapping.SamplingInterval = TimeSpan.FromMilliseconds(sampling);
        }

        if (Milliseconds(node, "OpcPublishingInterval", path, issues) is { } publishing)
        {
            SetPublishing(source, publishing, $"{path}.OpcPublishingInterval", issues);
        }

        if (Number(node, "QueueSize", path, issues) is { } queue)
        {
            if (queue is >= 1 and <= 10_000)
            {
                mapping.QueueSize = (uint)queue;
            }
            else
            {
                issues.Add(new($"{path}.QueueSize", $"{queue} is outside [1, 10000]; the default (1) is used"));
            }
        }

        if (String(node, "DeadbandType", path, issues) is { } deadband)
        {
            if (Enum.TryParse(deadband, ignoreCase: true, out DeadbandType type) && Enum.IsDefined(type))
            {
                mapping.DeadbandType = type;
                mapping.DeadbandValue = Number(node, "DeadbandValue", path, issues) ?? 0;
            }
            else
            {
                issues.Add(new($"{path}.DeadbandType", $"\"{deadband}\" is not None, Absolute or Percent; no deadband is used"));
            }
        }
        else if (Number(node, "DeadbandValue", path, issues) is not null)
        {
            issues.Add(new($"{path}.DeadbandValue", "is given without DeadbandType; no deadband is used"));
        }

        if (String(node, "DataChangeTrigger", path, issues) is { } trigger)
        {
            if (Enum.TryParse(trigger, ignoreCase: true, out DataChangeTrigger t) && Enum.IsDefined(t))
            {
                mapping.DataChangeTrigger = t;
            }
            else
            {
                issues.Add(new($"{path}.DataChangeTrigger", $"\"{trigger}\" is not Status, StatusValue or StatusValueTimestamp; the server's default is used"));
            }
        }

        if (Seconds(node, "HeartbeatInterval", path, issues) is { } heartbeat)
        {
            issues.Add(new($"{path}.HeartbeatInterval",
                $"{heartbeat} s: the edge does not repeat values; it sends a connection heartbeat per device every HeartbeatInterval of the edge options (at most 60 s), which the ingest's coverage uses"));
        }

        device.Nodes.Add(mapping);
    }

    private static void SetPublishing(OpcUaSourceOptions source, double milliseconds, string path, List<PublishedNodesIssue> issues)
    {
        if (milliseconds <= 0)
        {
            issues.Add(new(path, $"{milliseconds} ms is not positive; ignored"));
            return;
        }

        var interval = TimeSpan.FromMilliseconds(milliseconds);
        if (source.PublishingInterval == TimeSpan.Zero)
        {
            source.PublishingInterval = interval;
        }
        else if (interval != source.PublishingInterval)
        {
            TimeSpan used = interval < source.PublishingInterval ? interval : source.PublishingInterval;
            issues.Add(new(path, $"{milliseconds} ms differs from another node's {source.PublishingInterval.TotalMilliseconds} ms: the edge uses one publishing interval per server, the smallest ({used.TotalMilliseconds} ms)"));
            source.PublishingInterval = used;
        }
    }

    private static string DeviceFromEndpoint(string endpoint) =>
        Uri.TryCreate(endpoint, UriKind.Absolute, out Uri? uri) ? $"{uri.Host}_{uri.Port.ToString(CultureInfo.InvariantCulture)}" : OpcUaNodeText.SanitizeSignal(endpoint) ?? "device";

    private static void ReportUnknown(JsonElement element, string path, string[] known, List<PublishedNodesIssue> issues)
    {
        foreach (JsonProperty property in element.EnumerateObject())
        {
            if (!known.Contains(property.Name, StringComparer.OrdinalIgnoreCase))
            {
                issues.Add(new($"{path}.{property.Name}", "is not supported by the edge and was not imported"));
            }
        }
    }

    private static bool TryGetIgnoreCase(JsonElement element, string name, out JsonElement value)
    {
        foreach (JsonProperty property in element.EnumerateObject())
        {
            if (property.Name.Equals(name, StringComparison.OrdinalIgnoreCase))
            {
                value = property.Value;
                return true;
            }
        }

        value = default;
        return false;
    }

    private static string? String(JsonElement element, string name, string path, List<PublishedNodesIssue> issues)
    {
        if (!TryGetIgnoreCase(element, name, out JsonElement value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (value.ValueKind == JsonValueKind.String)
        {
            return value.GetString();
        }

        if (value.ValueKind == JsonValueKind.Number)
        {
            return value.GetRawText();
        }

        issues.Add(new($"{path}.{name}", $"must be a string; it is {value.ValueKind}"));
        return null;
    }

    private static bool? Bool(JsonElement element, string name, string path, List<PublishedNodesIssue> issues)
    {
        if (!TryGetIgnoreCase(element, name, out JsonElement value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (value.ValueKind is JsonValueKind.True or JsonValueKind.False)
        {
            return value.GetBoolean();
        }

        issues.Add(new($"{path}.{name}", $"must be true or false; it is {value.ValueKind}"));
        return null;
    }

    private static double? Number(JsonElement element, string name, string path, List<PublishedNodesIssue> issues)
    {
        if (!TryGetIgnoreCase(element, name, out JsonElement value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out double d) && double.IsFinite(d))
        {
            return d;
        }

        if (value.ValueKind == JsonValueKind.String && double.TryParse(value.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out double s) && double.IsFinite(s))
        {
            return s;
        }

        issues.Add(new($"{path}.{name}", $"must be a number; it is {value.GetRawText()}"));
        return null;
    }

    /// <summary>A milliseconds field, or its <c>…Timespan</c> twin (<c>hh:mm:ss.fff</c>).</summary>
    private static double? Milliseconds(JsonElement element, string name, string path, List<PublishedNodesIssue> issues)
    {
        if (Number(element, name, path, issues) is { } ms)
        {
            return ms;
        }

        return String(element, name + "Timespan", path, issues) is { } text
            ? TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out TimeSpan span) ? span.TotalMilliseconds : Invalid(path, name + "Timespan", text, issues)
            : null;
    }

    /// <summary>A seconds field (OPC Publisher's HeartbeatInterval), or its <c>…Timespan</c> twin.</summary>
    private static double? Seconds(JsonElement element, string name, string path, List<PublishedNodesIssue> issues) =>
        Number(element, name, path, issues) is { } s ? s
            : String(element, name + "Timespan", path, issues) is { } text
                ? TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out TimeSpan span) ? span.TotalSeconds : Invalid(path, name + "Timespan", text, issues)
                : null;

    private static double? Invalid(string path, string name, string text, List<PublishedNodesIssue> issues)
    {
        issues.Add(new($"{path}.{name}", $"\"{text}\" is not a time span (hh:mm:ss.fff)"));
        return null;
    }

    /// <summary>
    /// The imported sources as an edge configuration section (<c>{"OpcUa": [...]}</c>, JSON) to paste into the edge's
    /// configuration file. Passwords are left out unless <paramref name="includeSecrets"/>: set them with the
    /// <c>FGW_EDGE_OpcUa__N__Identity__Password</c> environment override.
    /// </summary>
    public static string ToEdgeConfigJson(PublishedNodesImport import, bool includeSecrets = false)
    {
        ArgumentNullException.ThrowIfNull(import);
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteStartArray("OpcUa");
            foreach (OpcUaSourceOptions source in import.Sources)
            {
                w.WriteStartObject();
                if (source.Name is not null)
                {
                    w.WriteString("Name", source.Name);
                }

                w.WriteString("Endpoint", source.Endpoint);
                w.WriteString("SecurityPolicy", source.SecurityPolicy);
                w.WriteString("SecurityMode", source.SecurityMode.ToString());
                if (source.Identity.Type != OpcUaIdentityType.Anonymous)
                {
                    w.WriteStartObject("Identity");
                    w.WriteString("Type", source.Identity.Type.ToString());
                    if (source.Identity.UserName is not null)
                    {
                        w.WriteString("UserName", source.Identity.UserName);
                    }

                    if (includeSecrets && source.Identity.Password is not null)
                    {
                        w.WriteString("Password", source.Identity.Password);
                    }

                    w.WriteEndObject();
                }

                w.WriteString("PublishingInterval", Span(source.PublishingInterval));

                w.WriteStartArray("Devices");
                foreach (OpcUaDeviceOptions device in source.Devices)
                {
                    w.WriteStartObject();
                    w.WriteString("Id", device.Id);
                    w.WriteString("Profile", device.Profile);
                    w.WriteStartArray("Nodes");
                    foreach (OpcUaNodeOptions node in device.Nodes)
                    {
                        w.WriteStartObject();
                        w.WriteString("Node", node.Node);
                        w.WriteString("Signal", node.Signal);
                        if (node.SamplingInterval is { } s)
                        {
                            w.WriteString("SamplingInterval", Span(s));
                        }

                        if (node.QueueSize is { } q)
                        {
                            w.WriteNumber("QueueSize", q);
                        }

                        if (node.DeadbandType != DeadbandType.None)
                        {
                            w.WriteString("DeadbandType", node.DeadbandType.ToString());
                            w.WriteNumber("DeadbandValue", node.DeadbandValue);
                        }

                        if (node.DataChangeTrigger is { } t)
                        {
                            w.WriteString("DataChangeTrigger", t.ToString());
                        }

                        w.WriteEndObject();
                    }

                    w.WriteEndArray();
                    w.WriteEndObject();
                }

                w.WriteEndArray();
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static string Span(TimeSpan value) => value.ToString("c", CultureInfo.InvariantCulture);
}
