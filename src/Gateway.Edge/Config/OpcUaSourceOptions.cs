using FactoryGateway.Edge.Sources.OpcUa;
using FactoryGateway.OpcUa.Services;

namespace FactoryGateway.Edge.Config;

/// <summary>How the edge identifies itself to an OPC UA server (key <c>OpcUa:N:Identity</c>).</summary>
public enum OpcUaIdentityType
{
    Anonymous = 0,
    UserName = 1,
    Certificate = 2,
}

/// <summary>The user identity of an OPC UA session (key <c>OpcUa:N:Identity</c>).</summary>
public sealed class OpcUaIdentityOptions
{
    /// <summary>Anonymous (the default: what a server offers out of the box), UserName or Certificate.</summary>
    public OpcUaIdentityType Type { get; set; } = OpcUaIdentityType.Anonymous;

    /// <summary>The user name of a UserName identity.</summary>
    public string? UserName { get; set; }

    /// <summary>The password of a UserName identity; never logged. Prefer the <c>FGW_EDGE_OpcUa__N__Identity__Password</c> override to a file.</summary>
    public string? Password { get; set; }

    /// <summary>A PEM or DER X.509 user certificate (Certificate identity).</summary>
    public string? CertificateFile { get; set; }

    /// <summary>The PEM private key of <see cref="CertificateFile"/> (Certificate identity).</summary>
    public string? PrivateKeyFile { get; set; }

    internal void Validate(string key, EdgeConfigurationErrors errors)
    {
        switch (Type)
        {
            case OpcUaIdentityType.Anonymous:
                break;
            case OpcUaIdentityType.UserName:
                errors.Required($"{key}:UserName", UserName);
                if (Password is null)
                {
                    errors.Add($"{key}:Password", "is required for a UserName identity");
                }

                break;
            case OpcUaIdentityType.Certificate:
                if (errors.Required($"{key}:CertificateFile", CertificateFile) && !File.Exists(CertificateFile))
                {
                    errors.Add($"{key}:CertificateFile", $"{CertificateFile} does not exist");
                }

                if (errors.Required($"{key}:PrivateKeyFile", PrivateKeyFile) && !File.Exists(PrivateKeyFile))
                {
                    errors.Add($"{key}:PrivateKeyFile", $"{PrivateKeyFile} does not exist");
                }

                break;
            default:
                errors.Add($"{key}:Type", $"{Type} is not Anonymous, UserName or Certificate");
                break;
        }
    }
}

/// <summary>One OPC UA server the edge reads (configuration key <c>OpcUa:N</c>).</summary>
public sealed class OpcUaSourceOptions
{
    /// <summary>The security policies the OPC UA client implements, by the names this configuration uses.</summary>
    public static IReadOnlyList<string> SecurityPolicies { get; } = ["None", "Basic256Sha256", "Aes128_Sha256_RsaOaep", "Aes256_Sha256_RsaPss"];

    /// <summary>A name for logs and health; defaults to the endpoint URL.</summary>
    public string? Name { get; set; }

    /// <summary>The server's endpoint URL, <c>opc.tcp://host:port/path</c>.</summary>
    public string Endpoint { get; set; } = "";

    /// <summary>
    /// None, Basic256Sha256, Aes128_Sha256_RsaOaep or Aes256_Sha256_RsaPss. Default None: what every server
    /// offers for a first connection; a plant network should use Basic256Sha256 or newer.
    /// </summary>
    public string SecurityPolicy { get; set; } = "None";

    /// <summary>None, Sign or SignAndEncrypt. Default None, to match <see cref="SecurityPolicy"/> None.</summary>
    public MessageSecurityMode SecurityMode { get; set; } = MessageSecurityMode.None;

    public OpcUaIdentityOptions Identity { get; set; } = new();

    /// <summary>
    /// Trust every server certificate shown (it is stored in the PKI's <c>trusted/</c>). Default false: OPC 10000-2 §8
    /// asks that an unknown certificate be rejected until an operator trusts it (<c>fgw edge trust</c>).
    /// </summary>
    public bool AutoAcceptUntrusted { get; set; }

    /// <summary>
    /// Accept a server certificate that does not name the endpoint's host (its SAN lists other DNS names or
    /// addresses). Default false (OPC 10000-4 §6.1.3 host-name check): many controllers ship certificates naming
    /// only their factory host name, and an operator who reaches them by address opts in here, per server.
    /// </summary>
    public bool AllowHostNameMismatch { get; set; }

    /// <summary>The subscription's publishing interval. Default 1 s: the usual telemetry cadence (and the OPC UA client's default).</summary>
    public TimeSpan PublishingInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// The default sampling interval of every monitored item. Default null: the publishing interval (OPC 10000-4
    /// §5.12.1.2, a sampling interval of -1), so a value is sampled once per message.
    /// </summary>
    public TimeSpan? SamplingInterval { get; set; }

    /// <summary>
    /// How often the source browses the server again for its devices while it runs: a configured device that appears
    /// (a machine added to the Machines folder) is read from then on, one that disappears is reported down, one whose
    /// model changed is planned again. Default 60 s: a machine added to a cell is read within a minute, at the cost of
    /// one short session and a few Browse/Translate calls per device per minute. A server that emits
    /// GeneralModelChangeEvents gets the browse at once as well. Between 1 s and 24 h.
    /// </summary>
    public TimeSpan RediscoveryInterval { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>The devices this server serves.</summary>
    public IList<OpcUaDeviceOptions> Devices { get; init; } = [];

    /// <summary>The configured name, or the endpoint URL.</summary>
    public string DisplayName => string.IsNullOrWhiteSpace(Name) ? Endpoint : Name;

    internal void Validate(string key, EdgeConfigurationErrors errors)
    {
        if (errors.Required($"{key}:Endpoint", Endpoint)
            && (!Uri.TryCreate(Endpoint, UriKind.Absolute, out Uri? uri) || !uri.Scheme.Equals("opc.tcp", StringComparison.OrdinalIgnoreCase)))
        {
            errors.Add($"{key}:Endpoint", $"\"{Endpoint}\" is not an opc.tcp:// URL");
        }

        bool policyKnown = SecurityPolicies.Contains(SecurityPolicy, StringComparer.OrdinalIgnoreCase);
        if (!policyKnown)
        {
            errors.Add($"{key}:SecurityPolicy", $"\"{SecurityPolicy}\" is not one of {string.Join(", ", SecurityPolicies)}");
        }

        if (SecurityMode is not (MessageSecurityMode.None or MessageSecurityMode.Sign or MessageSecurityMode.SignAndEncrypt))
        {
            errors.Add($"{key}:SecurityMode", $"{SecurityMode} is not None, Sign or SignAndEncrypt");
        }
        else if (policyKnown && SecurityPolicy.Equals("None", StringComparison.OrdinalIgnoreCase) != (SecurityMode == MessageSecurityMode.None))
        {
            errors.Add($"{key}:SecurityMode", $"{SecurityMode} does not fit SecurityPolicy {SecurityPolicy}: None goes with None only");
        }

        (Identity ?? new OpcUaIdentityOptions()).Validate($"{key}:Identity", errors);
        if (PublishingInterval <= TimeSpan.Zero || PublishingInterval > TimeSpan.FromMinutes(10))
        {
            errors.Add($"{key}:PublishingInterval", $"{PublishingInterval} is outside (0, 10 min]");
        }

        if (RediscoveryInterval < TimeSpan.FromSeconds(1) || RediscoveryInterval > TimeSpan.FromHours(24))
        {
            errors.Add($"{key}:RediscoveryInterval", $"{RediscoveryInterval} is outside [1 s, 24 h]");
        }

        if (SamplingInterval is { } sampling && (sampling < TimeSpan.Zero || sampling > TimeSpan.FromMinutes(10)))
        {
            errors.Add($"{key}:SamplingInterval", $"{sampling} is outside [0, 10 min]");
        }

        if (Devices.Count == 0)
        {
            errors.Add($"{key}:Devices", "lists no device");
        }

        var ids = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < Devices.Count; i++)
        {
            Devices[i].Validate($"{key}:Devices:{i}", errors);
            if (!string.IsNullOrWhiteSpace(Devices[i].Id) && !ids.Add(Devices[i].Id))
            {
                errors.Add($"{key}:Devices:{i}:Id", $"\"{Devices[i].Id}\" is listed twice for this server");
            }
        }
    }
}

/// <summary>How a device's OPC UA nodes become canonical signals.</summary>
public enum OpcUaDeviceProfile
{
    /// <summary>Detected from the type definition of the device's object (machine tool, robot or Machinery machine).</summary>
    Auto = 0,

    /// <summary>OPC 40501-1 MachineToolType.</summary>
    MachineTool = 1,

    /// <summary>OPC 40010-1 MotionDeviceSystemType.</summary>
    Robot = 2,

    /// <summary>An OPC 40001-1 machine (Machinery building blocks and nameplate) of no more specific type.</summary>
    Machinery = 3,

    /// <summary>A retrofit current sensor: the state from a current and two thresholds.</summary>
    CurrentSensor = 4,

    /// <summary>Only the configured node mappings.</summary>
    Custom = 5,
}

/// <summary>One device behind an OPC UA server (configuration key <c>OpcUa:N:Devices:M</c>).</summary>
public sealed class OpcUaDeviceOptions
{
    /// <summary>The device id (the <c>dev</c> tag), as in the asset register.</summary>
    public string Id { get; set; } = "";

    /// <summary>
    /// auto, machine-tool, robot, machinery, current-sensor or custom. Default auto: the type definition of the
    /// device's object says which companion specification it follows.
    /// </summary>
    public string Profile { get; set; } = "auto";

    /// <summary>
    /// The machine's or robot's object: a node id (<c>nsu=urn:plant;s=Mill1</c>) or a browse path from the Objects
    /// folder (<c>/{http://opcfoundation.org/UA/Machinery/}Machines/{urn:plant}Mill1</c>). Default: the object in the
    /// Machinery <c>Machines</c> folder whose browse name is the device id, or the only one there.
    /// </summary>
    public string? Root { get; set; }

    /// <summary>Node mappings: passed through under their signal names (on top of a profile's, or alone for custom and current-sensor).</summary>
    public IList<OpcUaNodeOptions> Nodes { get; init; } = [];

    /// <summary>The parsed <see cref="Profile"/>, or null when it is not a known profile.</summary>
    public OpcUaDeviceProfile? ProfileKind => ParseProfile(Profile);

    /// <summary>Parses a profile name (case-insensitive, with or without dashes).</summary>
    public static OpcUaDeviceProfile? ParseProfile(string? text) =>
        (text ?? "").Replace("-", "", StringComparison.Ordinal).Replace("_", "", StringComparison.Ordinal).ToUpperInvariant() switch
        {
            "AUTO" => OpcUaDeviceProfile.Auto,
            "MACHINETOOL" => OpcUaDeviceProfile.MachineTool,
            "ROBOT" => OpcUaDeviceProfile.Robot,
            "MACHINERY" => OpcUaDeviceProfile.Machinery,
            "CURRENTSENSOR" => OpcUaDeviceProfile.CurrentSensor,
            "CUSTOM" => OpcUaDeviceProfile.Custom,
            _ => null,
        };

    /// <summary>The one id a device cannot have: the OPC UA source's subscription to model changes goes by it.</summary>
    internal const string ReservedId = "(model changes)";

    internal void Validate(string key, EdgeConfigurationErrors errors)
    {
        if (errors.Required($"{key}:Id", Id) && (Id.Length > 128 || Id.Any(char.IsControl)))
        {
            errors.Add($"{key}:Id", "must be at most 128 characters, without control characters");
        }

        if (Id == ReservedId)
        {
            errors.Add($"{key}:Id", $"\"{ReservedId}\" is the name of the source's own model-change subscription");
        }

        OpcUaDeviceProfile? profile = ProfileKind;
        if (profile is null)
        {
            errors.Add($"{key}:Profile", $"\"{Profile}\" is not auto, machine-tool, robot, machinery, current-sensor or custom");
        }

        if (Root is not null && !OpcUaNodeText.TryParse(Root, out _, out string? rootError))
        {
            errors.Add($"{key}:Root", rootError!);
        }

        if (profile == OpcUaDeviceProfile.Custom && Nodes.Count == 0)
        {
            errors.Add($"{key}:Nodes", "a custom device needs at least one node mapping");
        }

        int thresholdNodes = 0;
        var signals = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < Nodes.Count; i++)
        {
            Nodes[i].Validate($"{key}:Nodes:{i}", errors);
            if (Nodes[i].HasThresholds)
            {
                thresholdNodes++;
            }

            if (!string.IsNullOrWhiteSpace(Nodes[i].Signal) && !signals.Add(Nodes[i].Signal))
            {
                errors.Add($"{key}:Nodes:{i}:Signal", $"\"{Nodes[i].Signal}\" is mapped twice");
            }
        }

        if (profile == OpcUaDeviceProfile.CurrentSensor && thresholdNodes != 1)
        {
            errors.Add($"{key}:Nodes", $"a current-sensor device needs exactly one node with IdleThreshold and RunThreshold; it has {thresholdNodes}");
        }
        else if (profile != OpcUaDeviceProfile.CurrentSensor && thresholdNodes > 0)
        {
            errors.Add($"{key}:Nodes", "thresholds (IdleThreshold, RunThreshold) are for the current-sensor profile only");
        }
    }
}

/// <summary>One node mapped to a signal (configuration key <c>OpcUa:N:Devices:M:Nodes:K</c>).</summary>
public sealed class OpcUaNodeOptions
{
    /// <summary>A node id (<c>nsu=urn:plant;s=Spindle.Speed</c>) or a browse path (<c>/{urn:plant}Line7/{urn:plant}Speed</c>); relative to the device's Root when it starts with <c>./</c>.</summary>
    public string Node { get; set; } = "";

    /// <summary>The signal name the values are written under (a canonical name or a process value name).</summary>
    public string Signal { get; set; } = "";

    /// <summary>This node's sampling interval; default the server's <see cref="OpcUaSourceOptions.SamplingInterval"/>.</summary>
    public TimeSpan? SamplingInterval { get; set; }

    /// <summary>Values the server queues between two publishes. Default 1: the latest value per publishing interval.</summary>
    public uint? QueueSize { get; set; }

    /// <summary>None, Absolute or Percent. Default none.</summary>
    public DeadbandType DeadbandType { get; set; } = DeadbandType.None;

    public double DeadbandValue { get; set; }

    /// <summary>Status, StatusValue or StatusValueTimestamp. Default null: the server's default (StatusValue).</summary>
    public DataChangeTrigger? DataChangeTrigger { get; set; }

    /// <summary>Current-sensor profile: at or above this the machine is idle (below it, off).</summary>
    public double? IdleThreshold { get; set; }

    /// <summary>Current-sensor profile: at or above this the machine runs.</summary>
    public double? RunThreshold { get; set; }

    internal bool HasThresholds => IdleThreshold is not null || RunThreshold is not null;

    internal void Validate(string key, EdgeConfigurationErrors errors)
    {
        if (errors.Required($"{key}:Node", Node) && !OpcUaNodeText.TryParse(Node, out _, out string? error))
        {
            errors.Add($"{key}:Node", error!);
        }

        if (errors.Required($"{key}:Signal", Signal) && !OpcUaNodeText.IsValidSignal(Signal))
        {
            errors.Add($"{key}:Signal", $"\"{Signal}\" is not a signal name (letters, digits and _ only, at most 128)");
        }

        if (SamplingInterval is { } s && (s < TimeSpan.Zero || s > TimeSpan.FromMinutes(10)))
        {
            errors.Add($"{key}:SamplingInterval", $"{s} is outside [0, 10 min]");
        }

        if (QueueSize is 0 or > 10_000)
        {
            errors.Add($"{key}:QueueSize", $"{QueueSize} is outside [1, 10000]");
        }

        if (!Enum.IsDefined(DeadbandType))
        {
            errors.Add($"{key}:DeadbandType", $"{DeadbandType} is not None, Absolute or Percent");
        }
        else if (DeadbandType != DeadbandType.None && !(DeadbandValue >= 0 && (DeadbandType != DeadbandType.Percent || DeadbandValue <= 100)))
        {
            errors.Add($"{key}:DeadbandValue", $"{DeadbandValue} is not a valid {DeadbandType} deadband");
        }

        if (DataChangeTrigger is { } trigger && !Enum.IsDefined(trigger))
        {
            errors.Add($"{key}:DataChangeTrigger", $"{trigger} is not Status, StatusValue or StatusValueTimestamp");
        }

        if (HasThresholds && (IdleThreshold is not { } idle || RunThreshold is not { } run || !(idle < run) || !double.IsFinite(idle) || !double.IsFinite(run)))
        {
            errors.Add($"{key}:IdleThreshold", $"IdleThreshold ({IdleThreshold}) and RunThreshold ({RunThreshold}) must both be given, finite, with IdleThreshold < RunThreshold");
        }
    }
}
