namespace FactoryGateway.Edge.Config;

/// <summary>
/// The edge agent's configuration: a JSON or YAML file with <c>FGW_EDGE_</c> environment overrides
/// (<see cref="EdgeConfiguration.Load"/>), checked by <see cref="Validate(string?, bool)"/>, which names every bad key.
/// </summary>
public sealed class EdgeOptions
{
    /// <summary>This edge's id: the <c>edge</c> tag and the <c>X-FG-Edge</c> header. Required.</summary>
    public string EdgeId { get; set; } = "";

    /// <summary>The enterprise's unified social credit code: the <c>ent</c> tag. Required.</summary>
    public string Enterprise { get; set; } = "";

    /// <summary>Where the disk buffer, the uplink state and the OPC UA PKI live. Required.</summary>
    public string DataDirectory { get; set; } = "";

    /// <summary>
    /// A heartbeat (<c>connection up=true</c>) per connected device at least this often. 30 s: the ingest counts
    /// a minute covered when the last evidence is at most 120 s old, and the spec asks for at least every 60 s.
    /// </summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(30);

    public UplinkOptions Ingest { get; set; } = new();

    public BufferOptions Buffer { get; set; } = new();

    public HealthOptions Health { get; set; } = new();

    /// <summary>OPC UA servers (key <c>OpcUa</c>).</summary>
    public IList<OpcUaSourceOptions> OpcUa { get; init; } = [];

    /// <summary>MQTT brokers (key <c>Mqtt</c>).</summary>
    public IList<MqttSourceOptions> Mqtt { get; init; } = [];

    /// <summary>
    /// Checks every option; throws <see cref="EdgeConfigurationException"/> naming each bad key. A host that builds
    /// its sources itself (not from <see cref="OpcUa"/> and <see cref="Mqtt"/>) passes <paramref name="requireSources"/> false.
    /// </summary>
    public EdgeOptions Validate(string? source = null, bool requireSources = true)
    {
        var errors = new EdgeConfigurationErrors();
        Validate(errors, requireSources);
        errors.ThrowIfAny(source);
        return this;
    }

    internal void Validate(EdgeConfigurationErrors errors, bool requireSources = true)
    {
        if (errors.Required(nameof(EdgeId), EdgeId) && (EdgeId.Length > 128 || EdgeId.Any(char.IsControl) || EdgeId.Contains('/', StringComparison.Ordinal)))
        {
            errors.Add(nameof(EdgeId), "must be at most 128 characters, without control characters or '/'");
        }

        errors.Required(nameof(Enterprise), Enterprise);
        errors.Required(nameof(DataDirectory), DataDirectory);
        if (HeartbeatInterval <= TimeSpan.Zero || HeartbeatInterval > TimeSpan.FromSeconds(60))
        {
            errors.Add(nameof(HeartbeatInterval), $"{HeartbeatInterval} is outside (0, 60 s]: the ingest needs a heartbeat at least every 60 s");
        }

        Ingest.Validate(nameof(Ingest), errors);
        Buffer.Validate(nameof(Buffer), errors);
        Health.Validate(nameof(Health), errors);
        if (requireSources && OpcUa.Count == 0 && Mqtt.Count == 0)
        {
            errors.Add("OpcUa", "no source is configured: give at least one OpcUa or Mqtt entry");
        }

        for (int i = 0; i < OpcUa.Count; i++)
        {
            OpcUa[i].Validate($"OpcUa:{i}", errors);
        }

        for (int i = 0; i < Mqtt.Count; i++)
        {
            Mqtt[i].Validate($"Mqtt:{i}", errors);
        }
    }
}

/// <summary>Where and how the edge sends its data (key <c>Ingest</c>).</summary>
public sealed class UplinkOptions
{
    /// <summary>The ingest's base URL, e.g. <c>https://ingest.example:9086</c>. Required.</summary>
    public string Url { get; set; } = "";

    /// <summary>The enterprise token (<c>fgw tokens create --role enterprise</c>). Required; never logged.</summary>
    public string Token { get; set; } = "";

    /// <summary>The bucket named in <c>/api/v2/write</c>. "telemetry": the ingest's canonical measurement's name.</summary>
    public string Bucket { get; set; } = "telemetry";

    /// <summary>Lines per batch at most. 5,000: InfluxDB's recommended write batch, and the ingest forwarder's.</summary>
    public int BatchLines { get; set; } = 5_000;

    /// <summary>Bytes per batch before gzip at most. 4 MiB: well under the ingest's default 25 MiB body limit.</summary>
    public int BatchBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>First retry delay. 1 s: an ingest restart takes seconds.</summary>
    public TimeSpan InitialRetryDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Longest retry delay. 60 s: an outage is noticed within a minute of its end.</summary>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Time allowed for one write request. 30 s: a 4 MiB batch over a slow factory uplink.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(30);

    internal void Validate(string key, EdgeConfigurationErrors errors)
    {
        if (errors.Required($"{key}:Url", Url)
            && (!Uri.TryCreate(Url, UriKind.Absolute, out Uri? uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)))
        {
            errors.Add($"{key}:Url", $"\"{Url}\" is not an http:// or https:// URL");
        }

        errors.Required($"{key}:Token", Token);
        errors.Required($"{key}:Bucket", Bucket);
        if (BatchLines < 1)
        {
            errors.Add($"{key}:BatchLines", $"{BatchLines} is not positive");
        }

        if (BatchBytes < 1024)
        {
            errors.Add($"{key}:BatchBytes", $"{BatchBytes} is under 1024");
        }

        if (InitialRetryDelay <= TimeSpan.Zero || MaxRetryDelay < InitialRetryDelay)
        {
            errors.Add($"{key}:InitialRetryDelay", $"{InitialRetryDelay} must be positive and at most MaxRetryDelay ({MaxRetryDelay})");
        }

        if (RequestTimeout <= TimeSpan.Zero)
        {
            errors.Add($"{key}:RequestTimeout", $"{RequestTimeout} is not positive");
        }
    }
}

/// <summary>What the buffer does with new data when it is full.</summary>
public enum BufferOverflowPolicy
{
    /// <summary>Stop taking new data from the sources and count every sample refused; unsent data is never evicted.</summary>
    RefuseNew = 0,

    /// <summary>Make the sources wait: an OPC UA server then queues (and at its limit drops, which it reports), an MQTT broker holds QoS 1/2 messages.</summary>
    Block = 1,
}

/// <summary>The disk buffer (key <c>Buffer</c>).</summary>
public sealed class BufferOptions
{
    /// <summary>
    /// Disk the buffer may use. 2 GiB: a day of 50 devices at 10 samples/s (about 60 bytes a line) is about
    /// 2.6 GB before the ingest catches up — enough for a long weekend of a few dozen machines.
    /// </summary>
    public long MaxBytes { get; set; } = 2L * 1024 * 1024 * 1024;

    /// <summary>Bytes per segment file. 64 MiB: the ingest WAL's value; deletion is by whole segments.</summary>
    public long SegmentBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>
    /// How long samples wait in memory before they are appended and fsynced. 1 s: what a SIGKILL or power loss
    /// can cost at most, for one fsync a second.
    /// </summary>
    public TimeSpan FlushInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>What happens when the buffer is full. <see cref="BufferOverflowPolicy.RefuseNew"/>: never evict unsent data.</summary>
    public BufferOverflowPolicy Overflow { get; set; } = BufferOverflowPolicy.RefuseNew;

    internal void Validate(string key, EdgeConfigurationErrors errors)
    {
        if (SegmentBytes is < 64 * 1024 or > 1L << 30)
        {
            errors.Add($"{key}:SegmentBytes", $"{SegmentBytes} is outside [64 KiB, 1 GiB]");
        }

        if (MaxBytes < 2 * SegmentBytes)
        {
            errors.Add($"{key}:MaxBytes", $"{MaxBytes} is under two segments ({2 * SegmentBytes} bytes)");
        }

        if (FlushInterval <= TimeSpan.Zero || FlushInterval > TimeSpan.FromMinutes(1))
        {
            errors.Add($"{key}:FlushInterval", $"{FlushInterval} is outside (0, 1 min]");
        }

        if (!Enum.IsDefined(Overflow))
        {
            errors.Add($"{key}:Overflow", $"{Overflow} is not RefuseNew or Block");
        }
    }
}

/// <summary>The health endpoint (key <c>Health</c>): <c>/metrics</c>, <c>/status</c>, <c>/health</c>.</summary>
public sealed class HealthOptions
{
    /// <summary>Where it listens. Loopback port 9088: next to the ingest's 9086 and metrics' 9087, not exposed by default.</summary>
    public string Urls { get; set; } = "http://127.0.0.1:9088";

    internal void Validate(string key, EdgeConfigurationErrors errors)
    {
        foreach (string url in Urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!Uri.TryCreate(url, UriKind.Absolute, out Uri? uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            {
                errors.Add($"{key}:Urls", $"\"{url}\" is not an http:// or https:// URL");
            }
        }
    }
}
