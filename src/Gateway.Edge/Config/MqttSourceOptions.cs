using System.Globalization;
using FactoryGateway.Edge.Signals;
using FactoryGateway.Mqtt.Json;

namespace FactoryGateway.Edge.Config;

/// <summary>
/// One MQTT broker the edge subscribes to (configuration key <c>Mqtt:N</c>): third-party JSON topics
/// (<see cref="Json"/>) and/or Sparkplug B edge nodes (<see cref="Sparkplug"/>), with per-device profiles
/// (<see cref="Devices"/>).
/// </summary>
public sealed class MqttSourceOptions
{
    /// <summary>The protocol version names accepted by <see cref="Protocol"/>.</summary>
    public static readonly IReadOnlyList<string> Protocols = ["3.1.1", "5.0"];

    /// <summary>A name for logs and health; defaults to <c>host:port</c>.</summary>
    public string? Name { get; set; }

    /// <summary>The broker's host name or address.</summary>
    public string Host { get; set; } = "";

    /// <summary>The broker's port. 1883: the MQTT default (8883 with TLS).</summary>
    public int Port { get; set; } = 1883;

    /// <summary>"5.0" or "3.1.1". 5.0: reason codes and a session expiry the broker honours; 3.1.1 for older brokers.</summary>
    public string Protocol { get; set; } = "5.0";

    /// <summary>
    /// The MQTT client id. Default: <c>fgw-&lt;edge id&gt;-&lt;name&gt;</c> (letters, digits and '-' only), stable across
    /// restarts so the broker's persistent session — and the QoS 1 messages it kept — is resumed. The Sparkplug
    /// connection adds <c>-spb</c> when the broker also has JSON mappings.
    /// </summary>
    public string? ClientId { get; set; }

    public string? UserName { get; set; }

    /// <summary>Never logged.</summary>
    public string? Password { get; set; }

    public MqttTlsOptions Tls { get; set; } = new();

    /// <summary>
    /// Resume the broker's session on reconnect and restart (Clean Start / Clean Session off). True: QoS 1
    /// messages published while the edge is away are kept by the broker and delivered when it is back.
    /// </summary>
    public bool PersistentSession { get; set; } = true;

    /// <summary>MQTT 5.0: how long the broker keeps the session while the edge is away. 7 days: a long weekend and a week of site outage; 3.1.1 brokers keep it by their own setting.</summary>
    public TimeSpan SessionExpiry { get; set; } = TimeSpan.FromDays(7);

    /// <summary>QoS of the subscriptions. 1: the broker keeps and redelivers messages until the edge has accepted them (0 and 2 allowed).</summary>
    public int SubscriptionQos { get; set; } = 1;

    /// <summary>MQTT keep-alive. 30 s: a silently dead broker is noticed within about a minute, inside the ingest's 120 s coverage threshold.</summary>
    public TimeSpan KeepAlive { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// A JSON device is up while the broker connection is up and it has published within this time, down after.
    /// 2 min: the ingest's coverage threshold (a minute is covered when the last evidence is at most 120 s old).
    /// </summary>
    public TimeSpan SilenceTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>JSON topic mappings (key <c>Mqtt:N:Json</c>), tried in order; the first matching pattern takes a message.</summary>
    public IList<MqttJsonMappingOptions> Json { get; init; } = [];

    /// <summary>Sparkplug B (key <c>Mqtt:N:Sparkplug</c>); off unless <see cref="MqttSparkplugOptions.Enabled"/>.</summary>
    public MqttSparkplugOptions Sparkplug { get; set; } = new();

    /// <summary>Device profiles (key <c>Mqtt:N:Devices</c>): the device ids this broker feeds, and per device rules such as a current sensor.</summary>
    public IList<MqttDeviceOptions> Devices { get; init; } = [];

    /// <summary>The name used in logs and health: <see cref="Name"/> or <c>host:port</c>.</summary>
    public string DisplayName => string.IsNullOrWhiteSpace(Name) ? string.Create(CultureInfo.InvariantCulture, $"{Host}:{Port}") : Name;

    /// <summary>The client id: <see cref="ClientId"/>, or the default derived from <paramref name="edgeId"/> and <see cref="DisplayName"/>.</summary>
    public string EffectiveClientId(string edgeId) =>
        !string.IsNullOrWhiteSpace(ClientId) ? ClientId : Sanitize($"fgw-{edgeId}-{DisplayName}");

    internal static string Sanitize(string text)
    {
        Span<char> chars = text.Length <= 256 ? stackalloc char[text.Length] : new char[text.Length];
        for (int i = 0; i < text.Length; i++)
        {
            chars[i] = char.IsAsciiLetterOrDigit(text[i]) ? text[i] : '-';
        }

        return new string(chars);
    }

    internal void Validate(string key, EdgeConfigurationErrors errors)
    {
        errors.Required($"{key}:Host", Host);
        if (Port is < 1 or > 65535)
        {
            errors.Add($"{key}:Port", $"{Port} is not a TCP port");
        }

        if (!Protocols.Contains(Protocol))
        {
            errors.Add($"{key}:Protocol", $"\"{Protocol}\" is not 3.1.1 or 5.0");
        }

        if (ClientId is { } id && (id.Length is 0 or > 128 || id.Any(char.IsControl)))
        {
            errors.Add($"{key}:ClientId", "must be 1 to 128 characters without control characters (leave it out for the default)");
        }

        if (Password is not null && UserName is null && Protocol == "3.1.1")
        {
            errors.Add($"{key}:UserName", "MQTT 3.1.1 needs a user name when a password is given");
        }

        if (SessionExpiry < TimeSpan.Zero || SessionExpiry.TotalSeconds > uint.MaxValue)
        {
            errors.Add($"{key}:SessionExpiry", $"{SessionExpiry} is outside [0, {uint.MaxValue} s]");
        }

        if (SubscriptionQos is < 0 or > 2)
        {
            errors.Add($"{key}:SubscriptionQos", $"{SubscriptionQos} is not 0, 1 or 2");
        }

        if (KeepAlive < TimeSpan.FromSeconds(1) || KeepAlive.TotalSeconds > ushort.MaxValue)
        {
            errors.Add($"{key}:KeepAlive", $"{KeepAlive} is outside [1 s, 65,535 s]");
        }

        if (SilenceTimeout <= TimeSpan.Zero)
        {
            errors.Add($"{key}:SilenceTimeout", $"{SilenceTimeout} is not positive");
        }

        Tls.Validate($"{key}:Tls", errors);
        if (Json.Count == 0 && !Sparkplug.Enabled)
        {
            errors.Add($"{key}:Json", "no JSON mapping and Sparkplug is not enabled: the broker would feed nothing");
        }

        for (int i = 0; i < Json.Count; i++)
        {
            Json[i].Validate($"{key}:Json:{i}", errors);
        }

        if (Sparkplug.Enabled)
        {
            Sparkplug.Validate($"{key}:Sparkplug", errors);
        }

        var ids = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < Devices.Count; i++)
        {
            Devices[i].Validate($"{key}:Devices:{i}", errors);
            if (!string.IsNullOrWhiteSpace(Devices[i].Id) && !ids.Add(Devices[i].Id))
            {
                errors.Add($"{key}:Devices:{i}:Id", $"\"{Devices[i].Id}\" is listed twice");
            }
        }
    }
}

/// <summary>TLS to the broker (key <c>Mqtt:N:Tls</c>).</summary>
public sealed class MqttTlsOptions
{
    /// <summary>Off by default: most factory brokers listen on the LAN without TLS.</summary>
    public bool Enabled { get; set; }

    /// <summary>A PEM file of the CA(s) that issued the broker's certificate; null: the system's trust store.</summary>
    public string? CaFile { get; set; }

    /// <summary>A client certificate: a PEM certificate (with <see cref="ClientKeyFile"/>) or a PKCS#12 file (with <see cref="ClientCertificatePassword"/>).</summary>
    public string? ClientCertificateFile { get; set; }

    /// <summary>The PEM private key of a PEM <see cref="ClientCertificateFile"/>.</summary>
    public string? ClientKeyFile { get; set; }

    /// <summary>The password of a PKCS#12 client certificate. Never logged.</summary>
    public string? ClientCertificatePassword { get; set; }

    /// <summary>The name the broker's certificate must carry; null: the host name.</summary>
    public string? ServerName { get; set; }

    internal void Validate(string key, EdgeConfigurationErrors errors)
    {
        if (!Enabled)
        {
            if (CaFile is not null || ClientCertificateFile is not null)
            {
                errors.Add($"{key}:Enabled", "TLS files are given but TLS is not enabled");
            }

            return;
        }

        if (CaFile is not null && !File.Exists(CaFile))
        {
            errors.Add($"{key}:CaFile", $"{CaFile} does not exist");
        }

        if (ClientCertificateFile is not null && !File.Exists(ClientCertificateFile))
        {
            errors.Add($"{key}:ClientCertificateFile", $"{ClientCertificateFile} does not exist");
        }

        if (ClientKeyFile is not null && ClientCertificateFile is null)
        {
            errors.Add($"{key}:ClientKeyFile", "is given without ClientCertificateFile");
        }
        else if (ClientKeyFile is not null && !File.Exists(ClientKeyFile))
        {
            errors.Add($"{key}:ClientKeyFile", $"{ClientKeyFile} does not exist");
        }
    }
}

/// <summary>One JSON topic mapping (key <c>Mqtt:N:Json:M</c>).</summary>
public sealed class MqttJsonMappingOptions
{
    /// <summary>Topic levels, literal or <c>{variable}</c>: <c>factory/{device}/telemetry</c>.</summary>
    public string Topic { get; set; } = "";

    /// <summary>The topic variable naming the device. "device": the usual pattern variable.</summary>
    public string DeviceIdTopicVariable { get; set; } = "device";

    /// <summary>A JSON path to the device id instead of a topic variable.</summary>
    public string? DeviceIdPath { get; set; }

    /// <summary>A fixed device id for a topic that carries one device.</summary>
    public string? DeviceId { get; set; }

    /// <summary>
    /// Signal name (canonical, e.g. <c>parts_total</c>, or raw) → JSON path of its value: a number (true/false as 1/0),
    /// or text for the canonical <c>program</c> and the signals of <see cref="StringSignals"/>.
    /// </summary>
    public IDictionary<string, string> Signals { get; init; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>
    /// Signals of <see cref="Signals"/> (by key or by their <see cref="SignalNames"/> name) whose value is text, written
    /// as a string field: a JSON string, or a number or boolean as written. The canonical <c>program</c> is always text
    /// (spec §1); every other signal is a number unless listed here, so a field never changes type in InfluxDB.
    /// </summary>
    public IList<string> StringSignals { get; init; } = [];

    /// <summary>
    /// Strict mapping: a message on this topic that gives none of the mapped signals is shown in health as a bad item
    /// (the topic) of its device, rather than only counted. Off by default: devices often publish other messages
    /// (status, events) on the topics they send telemetry on.
    /// </summary>
    public bool Strict { get; set; }

    /// <summary>A JSON path to an object whose every numeric member becomes a signal of the member's name.</summary>
    public string? AllNumericMembersOf { get; set; }

    /// <summary>Raw signal name → canonical name (e.g. <c>count</c> → <c>parts_total</c>), applied to every signal the mapping gives.</summary>
    public IDictionary<string, string> SignalNames { get; init; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>A JSON path to the device's timestamp; absent: the receive time.</summary>
    public string? TimestampPath { get; set; }

    /// <summary>UnixMilliseconds by default: JavaScript's <c>Date.now()</c>, the unit most JSON publishers use.</summary>
    public JsonTimestampFormat TimestampFormat { get; set; } = JsonTimestampFormat.UnixMilliseconds;

    /// <summary>A JSON path to a quality member (good / uncertain / bad; OPC DA 192 / 64; OPC UA 0); absent: good.</summary>
    public string? QualityPath { get; set; }

    internal void Validate(string key, EdgeConfigurationErrors errors)
    {
        if (!errors.Required($"{key}:Topic", Topic))
        {
            return;
        }

        int sources = (DeviceIdPath is null ? 0 : 1) + (DeviceId is null ? 0 : 1);
        if (sources > 1)
        {
            errors.Add($"{key}:DeviceId", "give DeviceId, DeviceIdPath or a topic variable, not several");
        }

        if (DeviceId is not null && string.IsNullOrWhiteSpace(DeviceId))
        {
            errors.Add($"{key}:DeviceId", "is blank");
        }

        foreach (string name in StringSignals)
        {
            if (!Signals.Keys.Any(k => k == name || (SignalNames.TryGetValue(k, out string? renamed) && renamed == name)))
            {
                errors.Add($"{key}:StringSignals", $"\"{name}\" is not a signal of Signals");
            }
        }

        try
        {
            ToMapping().Validate();
        }
        catch (ArgumentException e)
        {
            string? member = MappingKey(e.ParamName);
            errors.Add(member is null ? key : $"{key}:{member}", e.Message.Split(" (Parameter", 2)[0]);
        }
    }

    // The mapping member a validation error names, as this class's key; null: a JSON path (the message quotes it).
    private static string? MappingKey(string? parameter) => parameter switch
    {
        nameof(JsonPayloadMapping.TopicPattern) => nameof(Topic),
        nameof(JsonPayloadMapping.DeviceIdPath) => DeviceIdSourceKey,
        nameof(JsonPayloadMapping.TimestampFormat) => nameof(TimestampFormat),
        nameof(JsonPayloadMapping.Signals) => nameof(Signals),
        _ => null,
    };

    private const string DeviceIdSourceKey = nameof(DeviceIdTopicVariable);

    /// <summary>
    /// The mapper's mapping. A fixed <see cref="DeviceId"/> on a topic without variables turns the topic's first level
    /// into a variable for the mapper (the source checks the literal level itself and sets the fixed id).
    /// </summary>
    internal JsonPayloadMapping ToMapping()
    {
        string pattern = Topic;
        string deviceVariable = DeviceIdTopicVariable;
        if (DeviceId is not null)
        {
            string[] levels = Topic.Split('/');
            string? existing = levels.FirstOrDefault(l => l.Length >= 2 && l[0] == '{' && l[^1] == '}');
            if (existing is not null)
            {
                deviceVariable = existing[1..^1];
            }
            else
            {
                levels[0] = "{" + FixedDeviceVariable + "}";
                pattern = string.Join('/', levels);
                deviceVariable = FixedDeviceVariable;
            }
        }

        return new JsonPayloadMapping
        {
            TopicPattern = pattern,
            DeviceIdTopicVariable = deviceVariable,
            DeviceIdPath = DeviceIdPath,
            Signals = new Dictionary<string, string>(Signals, StringComparer.Ordinal),
            StringSignals = [.. Signals.Keys.Where(IsStringSignal)],
            AllNumericMembersOf = AllNumericMembersOf,
            TimestampPath = TimestampPath,
            TimestampFormat = TimestampFormat,
            QualityPath = QualityPath,
        };
    }

    internal const string FixedDeviceVariable = "fgw-fixed-device";

    // A Signals key is text when it, or the name it is written as, is the canonical program or listed in StringSignals.
    private bool IsStringSignal(string signal)
    {
        string written = SignalNames.TryGetValue(signal, out string? renamed) ? renamed : signal;
        return written == CanonicalSignals.Program || StringSignals.Contains(signal) || StringSignals.Contains(written);
    }
}

/// <summary>Sparkplug B on this broker (key <c>Mqtt:N:Sparkplug</c>).</summary>
public sealed class MqttSparkplugOptions
{
    public bool Enabled { get; set; }

    /// <summary>The group ids to follow; empty: every group (<c>spBv1.0/#</c>).</summary>
    public IList<string> GroupIds { get; init; } = [];

    /// <summary>The host application id of the STATE topic (<c>spBv1.0/STATE/&lt;id&gt;</c>). Default: <c>fgw-&lt;edge id&gt;</c>.</summary>
    public string? HostId { get; set; }

    /// <summary>
    /// Which Sparkplug devices feed which configured device ids; a Sparkplug device not listed here is ignored
    /// (counted). An entry without <see cref="MqttSparkplugDeviceOptions.Device"/> maps the edge node's own metrics.
    /// </summary>
    public IList<MqttSparkplugDeviceOptions> Devices { get; init; } = [];

    /// <summary>Metric name → signal name (e.g. <c>Counter</c> → <c>parts_total</c>); a metric not listed keeps its name (see <see cref="Strict"/>).</summary>
    public IDictionary<string, string> MetricNames { get; init; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>
    /// Strict mapping: only the metrics of <see cref="MetricNames"/> are signals; any other data metric of a mapped device is
    /// not sent and is shown in health as a bad item of its device. Off by default: a metric not listed keeps its name,
    /// as most Sparkplug edge nodes already name their metrics for the plant.
    /// </summary>
    public bool Strict { get; set; }

    /// <summary>
    /// Birth metrics that carry the nameplate, matched on the whole metric name or its last '/' level (so
    /// <c>Properties/SerialNumber</c> matches <c>SerialNumber</c>). Defaults: the OPC 40001-1 Identification names.
    /// </summary>
    public MqttSparkplugIdentityOptions IdentityMetrics { get; set; } = new();

    /// <summary>The host id: <see cref="HostId"/> or <c>fgw-&lt;edge id&gt;</c>.</summary>
    public string EffectiveHostId(string edgeId) => !string.IsNullOrWhiteSpace(HostId) ? HostId : MqttSourceOptions.Sanitize($"fgw-{edgeId}");

    internal void Validate(string key, EdgeConfigurationErrors errors)
    {
        if (HostId is not null && (HostId.Length == 0 || HostId.AsSpan().IndexOfAny("/+#") >= 0))
        {
            errors.Add($"{key}:HostId", $"\"{HostId}\" must be one topic level without '/', '+' or '#'");
        }

        for (int i = 0; i < GroupIds.Count; i++)
        {
            if (string.IsNullOrWhiteSpace(GroupIds[i]) || GroupIds[i].AsSpan().IndexOfAny("/+#") >= 0)
            {
                errors.Add($"{key}:GroupIds:{i}", $"\"{GroupIds[i]}\" is not a Sparkplug group id");
            }
        }

        if (Devices.Count == 0)
        {
            errors.Add($"{key}:Devices", "maps no Sparkplug device to a device id");
        }

        var seen = new HashSet<(string?, string, string?)>();
        for (int i = 0; i < Devices.Count; i++)
        {
            MqttSparkplugDeviceOptions device = Devices[i];
            errors.Required($"{key}:Devices:{i}:EdgeNode", device.EdgeNode);
            errors.Required($"{key}:Devices:{i}:Id", device.Id);
            if (device.GroupId is not null && GroupIds.Count > 0 && !GroupIds.Contains(device.GroupId))
            {
                errors.Add($"{key}:Devices:{i}:GroupId", $"\"{device.GroupId}\" is not one of GroupIds");
            }

            if (!seen.Add((device.GroupId, device.EdgeNode, device.Device)))
            {
                errors.Add($"{key}:Devices:{i}", $"{device.EdgeNode}/{device.Device} is mapped twice");
            }
        }

        foreach ((string metric, string signal) in MetricNames)
        {
            if (string.IsNullOrWhiteSpace(signal))
            {
                errors.Add($"{key}:MetricNames:{metric}", "maps to a blank signal name");
            }
        }
    }
}

/// <summary>One Sparkplug device (or edge node) → a configured device id (key <c>Mqtt:N:Sparkplug:Devices:M</c>).</summary>
public sealed class MqttSparkplugDeviceOptions
{
    /// <summary>The group id; null: any followed group.</summary>
    public string? GroupId { get; set; }

    /// <summary>The Sparkplug edge node id.</summary>
    public string EdgeNode { get; set; } = "";

    /// <summary>The Sparkplug device id under the node; null: the edge node's own metrics (NBIRTH/NDATA/NDEATH).</summary>
    public string? Device { get; set; }

    /// <summary>The device id (the <c>dev</c> tag), as in the asset register.</summary>
    public string Id { get; set; } = "";
}

/// <summary>The birth metric names that carry the nameplate (key <c>Mqtt:N:Sparkplug:IdentityMetrics</c>).</summary>
public sealed class MqttSparkplugIdentityOptions
{
    /// <summary>OPC 40001-1 Identification's name.</summary>
    public string? Manufacturer { get; set; } = "Manufacturer";

    /// <summary>OPC 40001-1 Identification's name.</summary>
    public string? Model { get; set; } = "Model";

    /// <summary>OPC 40001-1 Identification's name.</summary>
    public string? SerialNumber { get; set; } = "SerialNumber";

    /// <summary>OPC 40001-1 Identification's name.</summary>
    public string? ProductInstanceUri { get; set; } = "ProductInstanceUri";
}

/// <summary>One device fed by the broker and its profile (key <c>Mqtt:N:Devices:M</c>).</summary>
public sealed class MqttDeviceOptions
{
    /// <summary>The device id (the <c>dev</c> tag), as in the asset register.</summary>
    public string Id { get; set; } = "";

    /// <summary>A current-sensor retrofit: the <c>state</c> signal from the measured current; null: none.</summary>
    public CurrentSensorOptions? CurrentSensor { get; set; }

    internal void Validate(string key, EdgeConfigurationErrors errors)
    {
        errors.Required($"{key}:Id", Id);
        CurrentSensor?.Validate($"{key}:CurrentSensor", errors);
    }
}

/// <summary>
/// The current-sensor profile (<see cref="CurrentSensorRule"/>): off below <see cref="IdleThreshold"/>, idle from it,
/// run from <see cref="RunThreshold"/>. No defaults for the thresholds: they depend on the machine and are measured on site.
/// </summary>
public sealed class CurrentSensorOptions
{
    /// <summary>The signal carrying the current. "current": the name most retrofit sensors publish.</summary>
    public string Signal { get; set; } = "current";

    /// <summary>t_idle, in the signal's unit. Required.</summary>
    public double? IdleThreshold { get; set; }

    /// <summary>t_run, in the signal's unit; above <see cref="IdleThreshold"/>. Required.</summary>
    public double? RunThreshold { get; set; }

    internal void Validate(string key, EdgeConfigurationErrors errors)
    {
        errors.Required($"{key}:Signal", Signal);
        if (IdleThreshold is null || RunThreshold is null)
        {
            errors.Add($"{key}:{(IdleThreshold is null ? nameof(IdleThreshold) : nameof(RunThreshold))}", "is required");
            return;
        }

        if (CurrentSensorRule.CheckThresholds(IdleThreshold.Value, RunThreshold.Value) is { } reason)
        {
            errors.Add($"{key}:RunThreshold", reason);
        }
    }
}
