namespace FactoryGateway.Mqtt.Json;

/// <summary>How a timestamp member is read.</summary>
public enum JsonTimestampFormat
{
    /// <summary>A JSON number of seconds since the Unix epoch, fractions allowed (<c>1700000000.25</c>).</summary>
    UnixSeconds,

    /// <summary>A JSON number of milliseconds since the Unix epoch, fractions allowed.</summary>
    UnixMilliseconds,

    /// <summary>A JSON integer of nanoseconds since the Unix epoch.</summary>
    UnixNanoseconds,

    /// <summary>A JSON string, ISO-8601 date and time with a UTC offset (<c>2023-11-14T22:13:20.123Z</c>); resolution 100 ns.</summary>
    Iso8601,
}

/// <summary>The quality a mapped sample carries.</summary>
public enum JsonSampleQuality
{
    Good,
    Uncertain,
    Bad,
}

/// <summary>
/// How the JSON payloads of one topic pattern become samples. Validated by <see cref="Validate"/> (the
/// mapper's constructor calls it).
/// </summary>
public sealed record JsonPayloadMapping
{
    /// <summary>
    /// Topic levels, literal or <c>{variable}</c> (one level each): <c>factory/{device}/telemetry</c>. The
    /// subscription filter replaces each variable with <c>+</c>.
    /// </summary>
    public required string TopicPattern { get; init; }

    /// <summary>The topic variable that names the device; used when <see cref="DeviceIdPath"/> is null. "device": the usual pattern variable.</summary>
    public string DeviceIdTopicVariable { get; init; } = "device";

    /// <summary>A JSON path to the device id (a string or a number) instead of the topic variable.</summary>
    public string? DeviceIdPath { get; init; }

    /// <summary>Signal name → JSON path of its value (a number, <c>true</c>/<c>false</c> read as 1/0; text for <see cref="StringSignals"/>). A path absent from a message is skipped.</summary>
    public IReadOnlyDictionary<string, string> Signals { get; init; } = new Dictionary<string, string>();

    /// <summary>
    /// Keys of <see cref="Signals"/> whose value is text (a JSON string; a number or boolean as written), such as an
    /// active program name. Every other signal is a number. Empty by default: telemetry is numbers.
    /// </summary>
    public IReadOnlyCollection<string> StringSignals { get; init; } = [];

    /// <summary>A JSON path to an object whose every numeric member becomes a signal of the member's name (<c>$</c>: the root object). Other members are ignored.</summary>
    public string? AllNumericMembersOf { get; init; }

    /// <summary>A JSON path to the timestamp; null, or absent from a message: the arrival time.</summary>
    public string? TimestampPath { get; init; }

    /// <summary>Milliseconds by default: the JavaScript <c>Date.now()</c> unit most JSON publishers use.</summary>
    public JsonTimestampFormat TimestampFormat { get; init; } = JsonTimestampFormat.UnixMilliseconds;

    /// <summary>A JSON path to a quality member (string, number or boolean); null, or absent from a message: good.</summary>
    public string? QualityPath { get; init; }

    /// <summary>
    /// Quality values read as good, compared ordinally after JSON-to-text (numbers as written, booleans as
    /// <c>true</c>/<c>false</c>). Defaults: "good"/"Good"/"GOOD", OPC UA's Good status code 0, OPC DA's 192, true.
    /// </summary>
    public IReadOnlyList<string> GoodQualityValues { get; init; } = ["good", "Good", "GOOD", "0", "192", "true"];

    /// <summary>Quality values read as uncertain; any other value is bad. Defaults: "uncertain"/"Uncertain"/"UNCERTAIN", OPC DA's 64.</summary>
    public IReadOnlyList<string> UncertainQualityValues { get; init; } = ["uncertain", "Uncertain", "UNCERTAIN", "64"];

    /// <summary>The subscription filter of <see cref="TopicPattern"/>.</summary>
    public string SubscriptionFilter => string.Join('/', TopicPattern.Split('/').Select(level => IsVariable(level) ? "+" : level));

    public void Validate()
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(TopicPattern);
        string[] levels = TopicPattern.Split('/');
        var variables = new HashSet<string>(StringComparer.Ordinal);
        foreach (string level in levels)
        {
            if (IsVariable(level))
            {
                if (!variables.Add(level[1..^1]) || level.Length == 2)
                {
                    throw new ArgumentException($"Topic pattern \"{TopicPattern}\": variable {level} is empty or repeated.", nameof(TopicPattern));
                }
            }
            else if (level.AsSpan().IndexOfAny("+#{}") >= 0)
            {
                throw new ArgumentException($"Topic pattern \"{TopicPattern}\": level \"{level}\" is neither literal nor a whole {{variable}}; wildcards are written as variables.", nameof(TopicPattern));
            }
        }

        if (DeviceIdPath is null && !variables.Contains(DeviceIdTopicVariable))
        {
            throw new ArgumentException($"Topic pattern \"{TopicPattern}\" has no {{{DeviceIdTopicVariable}}} and no DeviceIdPath is set: the device id has no source.", nameof(DeviceIdPath));
        }

        ArgumentNullException.ThrowIfNull(Signals);
        if (Signals.Count == 0 && AllNumericMembersOf is null)
        {
            throw new ArgumentException("A mapping needs Signals or AllNumericMembersOf.", nameof(Signals));
        }

        foreach ((string signal, string path) in Signals)
        {
            ArgumentException.ThrowIfNullOrWhiteSpace(signal, nameof(Signals));
            JsonPath.Parse(path);
        }

        ArgumentNullException.ThrowIfNull(StringSignals);
        foreach (string signal in StringSignals)
        {
            if (signal is null || !Signals.ContainsKey(signal))
            {
                throw new ArgumentException($"String signal \"{signal}\" is not one of Signals.", nameof(StringSignals));
            }
        }

        _ = DeviceIdPath is null ? null : JsonPath.Parse(DeviceIdPath);
        _ = AllNumericMembersOf is null ? null : JsonPath.Parse(AllNumericMembersOf);
        _ = TimestampPath is null ? null : JsonPath.Parse(TimestampPath);
        _ = QualityPath is null ? null : JsonPath.Parse(QualityPath);
        if (!Enum.IsDefined(TimestampFormat))
        {
            throw new ArgumentOutOfRangeException(nameof(TimestampFormat), TimestampFormat, "Not a defined format.");
        }

        ArgumentNullException.ThrowIfNull(GoodQualityValues);
        ArgumentNullException.ThrowIfNull(UncertainQualityValues);
    }

    internal static bool IsVariable(string level) => level.Length >= 2 && level[0] == '{' && level[^1] == '}';
}

/// <summary>One value of a JSON payload. <see cref="TimestampUnixNanoseconds"/> keeps nanosecond timestamps exact.</summary>
public sealed record JsonSample
{
    public required string Topic { get; init; }

    public required string DeviceId { get; init; }

    public required string Signal { get; init; }

    /// <summary>The number (booleans as 1/0); <see cref="double.NaN"/> for a text signal.</summary>
    public required double Value { get; init; }

    /// <summary>The value of a text signal (<see cref="JsonPayloadMapping.StringSignals"/>); null for a number.</summary>
    public string? Text { get; init; }

    /// <summary>Nanoseconds since the Unix epoch: the payload's timestamp, or the arrival time.</summary>
    public required long TimestampUnixNanoseconds { get; init; }

    /// <summary>False when the payload had no timestamp and the arrival time was used.</summary>
    public bool TimestampFromPayload { get; init; }

    public JsonSampleQuality Quality { get; init; }
}
