using System.Buffers;
using System.Globalization;
using System.Numerics;
using System.Text.Json;

namespace FactoryGateway.Mqtt.Json;

/// <summary>Why a JSON payload gave no samples. Each reason has its own counter in <see cref="JsonPayloadSourceStats"/>.</summary>
public enum JsonMappingError
{
    None,

    /// <summary>The topic does not match the mapping's pattern (not counted as malformed: another mapping may take it).</summary>
    TopicMismatch,

    /// <summary>Larger than <see cref="JsonPayloadMapper.MaxPayloadBytes"/>.</summary>
    PayloadTooLarge,

    /// <summary>Not JSON (or nested deeper than <see cref="JsonPayloadMapper.MaxDepth"/>).</summary>
    InvalidJson,

    /// <summary>The device id path is absent from the payload.</summary>
    DeviceIdMissing,

    /// <summary>The device id is not a non-empty string or a number.</summary>
    DeviceIdInvalid,

    /// <summary>A mapped numeric signal's value is a string, object or array.</summary>
    SignalNotNumeric,

    /// <summary>An integer a double cannot hold exactly (beyond ±2^53 and not a multiple the double can hold): refused rather than rounded.</summary>
    ValueNotRepresentable,

    /// <summary>The <see cref="JsonPayloadMapping.AllNumericMembersOf"/> path is absent or not an object.</summary>
    ObjectMissing,

    /// <summary>The payload had none of the mapped signals (and no numeric member).</summary>
    NoSignals,

    /// <summary>The timestamp is not of the configured format.</summary>
    TimestampInvalid,

    /// <summary>The timestamp is before 1970 or after 2262 (the range of Unix nanoseconds in 64 bits).</summary>
    TimestampOutOfRange,

    /// <summary>The quality is an object or an array.</summary>
    QualityInvalid,

    /// <summary>A mapped text signal (<see cref="JsonPayloadMapping.StringSignals"/>) is an object or an array.</summary>
    SignalNotText,

    /// <summary>
    /// A mapped signal is JSON <c>null</c>. Only reported per field (<see cref="JsonFieldProblem"/>); without a
    /// problem list a null is read as the signal not sent this time.
    /// </summary>
    SignalNull,
}

/// <summary>
/// A mapped field of a payload that gave no sample, reported when the caller asks for problems per field
/// (<see cref="JsonPayloadMapper.Map(string, ReadOnlySequence{byte}, DateTimeOffset, ICollection{JsonSample}, ICollection{JsonFieldProblem}?)"/>).
/// </summary>
/// <param name="DeviceId">The payload's device.</param>
/// <param name="Signal">The signal name of the mapping (<see cref="JsonPayloadMapping.Signals"/> key).</param>
/// <param name="Path">The field's JSON path.</param>
/// <param name="Error">Why: <see cref="JsonMappingError.SignalNull"/>, <see cref="JsonMappingError.SignalNotNumeric"/>, <see cref="JsonMappingError.SignalNotText"/> or <see cref="JsonMappingError.ValueNotRepresentable"/>.</param>
/// <param name="Detail">The reason for logs and health, naming the signal, path and value.</param>
public sealed record JsonFieldProblem(string DeviceId, string Signal, string Path, JsonMappingError Error, string Detail);

/// <summary>
/// The outcome of one payload: <see cref="JsonMappingError.None"/> and the number of samples, or the reason and a detail
/// for the log; <paramref name="DeviceId"/> once the payload's device is known (on success and on <see cref="JsonMappingError.NoSignals"/>).
/// </summary>
public readonly record struct JsonMappingResult(JsonMappingError Error, int Samples = 0, string? Detail = null, string? DeviceId = null)
{
    public bool Success => Error == JsonMappingError.None;
}

/// <summary>
/// Maps one topic pattern's JSON payloads to <see cref="JsonSample"/>s with <see cref="JsonDocument"/>. By default a
/// payload gives all its samples or none: any value that is present but wrong rejects the whole payload with a
/// <see cref="JsonMappingError"/>. A caller that passes a problem list instead gets the good fields as samples and
/// each wrong one (null, wrong type, not representable) as a <see cref="JsonFieldProblem"/>; the payload as a
/// whole still fails when it has no device, no valid timestamp or quality, or no sample at all.
/// Stateless and thread-safe after construction.
/// </summary>
public sealed class JsonPayloadMapper
{
    /// <summary>Largest payload parsed. 1 MiB: the MQTT client's default maximum packet size.</summary>
    public const int MaxPayloadBytes = 1024 * 1024;

    /// <summary>Deepest nesting parsed. 64: System.Text.Json's default, far beyond any device payload.</summary>
    public const int MaxDepth = 64;

    private const long UnixEpochTicks = 621_355_968_000_000_000;
    private static readonly string[] s_isoFormats =
    [
        "yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'",
        "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFzzz",
    ];

    private readonly string[] _levels;
    private readonly int _deviceLevel;
    private readonly JsonPath? _devicePath;
    private readonly (string Signal, JsonPath Path, bool Text)[] _signals;
    private readonly JsonPath? _allNumeric;
    private readonly JsonPath? _timestamp;
    private readonly JsonPath? _quality;
    private readonly HashSet<string> _good;
    private readonly HashSet<string> _uncertain;

    public JsonPayloadMapper(JsonPayloadMapping mapping)
    {
        ArgumentNullException.ThrowIfNull(mapping);
        mapping.Validate();
        Mapping = mapping;
        _levels = mapping.TopicPattern.Split('/');
        _deviceLevel = mapping.DeviceIdPath is null ? Array.IndexOf(_levels, "{" + mapping.DeviceIdTopicVariable + "}") : -1;
        _devicePath = mapping.DeviceIdPath is null ? null : JsonPath.Parse(mapping.DeviceIdPath);
        var text = new HashSet<string>(mapping.StringSignals, StringComparer.Ordinal);
        _signals = [.. mapping.Signals.Select(s => (s.Key, JsonPath.Parse(s.Value), text.Contains(s.Key)))];
        _allNumeric = mapping.AllNumericMembersOf is null ? null : JsonPath.Parse(mapping.AllNumericMembersOf);
        _timestamp = mapping.TimestampPath is null ? null : JsonPath.Parse(mapping.TimestampPath);
        _quality = mapping.QualityPath is null ? null : JsonPath.Parse(mapping.QualityPath);
        _good = new HashSet<string>(mapping.GoodQualityValues, StringComparer.Ordinal);
        _uncertain = new HashSet<string>(mapping.UncertainQualityValues, StringComparer.Ordinal);
    }

    public JsonPayloadMapping Mapping { get; }

    /// <summary>True when <paramref name="topic"/> matches the pattern level by level.</summary>
    public bool Matches(string topic)
    {
        ArgumentNullException.ThrowIfNull(topic);
        string[] levels = topic.Split('/');
        if (levels.Length != _levels.Length)
        {
            return false;
        }

        for (int i = 0; i < levels.Length; i++)
        {
            if (!JsonPayloadMapping.IsVariable(_levels[i]) && levels[i] != _levels[i])
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Maps one payload; on success its samples are added to <paramref name="output"/>, otherwise nothing is.</summary>
    public JsonMappingResult Map(string topic, ReadOnlySequence<byte> payload, DateTimeOffset arrival, ICollection<JsonSample> output) =>
        Map(topic, payload, arrival, output, null);

    /// <summary>
    /// Maps one payload. With <paramref name="problems"/>, a mapped field that is null or of the wrong type is added
    /// there instead of failing the payload, and the other fields still give their samples; the problems are added
    /// even when the payload then fails because no field gave a sample (<see cref="JsonMappingError.NoSignals"/>).
    /// </summary>
    public JsonMappingResult Map(string topic, ReadOnlySequence<byte> payload, DateTimeOffset arrival, ICollection<JsonSample> output, ICollection<JsonFieldProblem>? problems)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (!Matches(topic))
        {
            return new JsonMappingResult(JsonMappingError.TopicMismatch, Detail: $"topic does not match {Mapping.TopicPattern}");
        }

        if (payload.Length > MaxPayloadBytes)
        {
            return Fail(JsonMappingError.PayloadTooLarge, $"{payload.Length} bytes, over the limit of {MaxPayloadBytes} bytes (MaxPayloadBytes)");
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(payload, new JsonDocumentOptions { MaxDepth = MaxDepth });
        }
        catch (JsonException e)
        {
            return Fail(JsonMappingError.InvalidJson, e.Message);
        }

        using (document)
        {
            return MapDocument(topic, document.RootElement, arrival, output, problems);
        }
    }

    public JsonMappingResult Map(string topic, ReadOnlyMemory<byte> payload, DateTimeOffset arrival, ICollection<JsonSample> output) =>
        Map(topic, new ReadOnlySequence<byte>(payload), arrival, output, null);

    /// <inheritdoc cref="Map(string, ReadOnlySequence{byte}, DateTimeOffset, ICollection{JsonSample}, ICollection{JsonFieldProblem}?)"/>
    public JsonMappingResult Map(string topic, ReadOnlyMemory<byte> payload, DateTimeOffset arrival, ICollection<JsonSample> output, ICollection<JsonFieldProblem>? problems) =>
        Map(topic, new ReadOnlySequence<byte>(payload), arrival, output, problems);

    private JsonMappingResult MapDocument(string topic, JsonElement root, DateTimeOffset arrival, ICollection<JsonSample> output, ICollection<JsonFieldProblem>? problems)
    {
        string deviceId;
        if (_devicePath is null)
        {
            deviceId = topic.Split('/')[_deviceLevel];
        }
        else if (!_devicePath.TryFind(root, out JsonElement device))
        {
            return Fail(JsonMappingError.DeviceIdMissing, $"no device id at {_devicePath}");
        }
        else if (device.ValueKind == JsonValueKind.String && device.GetString() is { Length: > 0 } text)
        {
            deviceId = text;
        }
        else if (device.ValueKind == JsonValueKind.Number)
        {
            deviceId = device.GetRawText();
        }
        else
        {
            return Fail(JsonMappingError.DeviceIdInvalid, $"device id at {_devicePath} is {Describe(device)}");
        }

        long timestamp = ToUnixNanoseconds(arrival);
        bool fromPayload = false;
        if (_timestamp is not null && _timestamp.TryFind(root, out JsonElement time) && time.ValueKind != JsonValueKind.Null)
        {
            JsonMappingResult? failure = ReadTimestamp(time, out timestamp);
            if (failure is { } f)
            {
                return f;
            }

            fromPayload = true;
        }

        JsonSampleQuality quality = JsonSampleQuality.Good;
        if (_quality is not null && _quality.TryFind(root, out JsonElement q) && q.ValueKind != JsonValueKind.Null)
        {
            string? text = q.ValueKind switch
            {
                JsonValueKind.String => q.GetString(),
                JsonValueKind.Number => q.GetRawText(),
                JsonValueKind.True => "true",
                JsonValueKind.False => "false",
                _ => null,
            };
            if (text is null)
            {
                return Fail(JsonMappingError.QualityInvalid, $"quality at {_quality} is {Describe(q)}");
            }

            quality = _good.Contains(text) ? JsonSampleQuality.Good : _uncertain.Contains(text) ? JsonSampleQuality.Uncertain : JsonSampleQuality.Bad;
        }

        var samples = new List<JsonSample>(_signals.Length);
        int fieldProblems = 0;
        foreach ((string signal, JsonPath path, bool text) in _signals)
        {
            if (!path.TryFind(root, out JsonElement value))
            {
                continue; // not sent this time
            }

            JsonMappingError error;
            string detail;
            if (value.ValueKind == JsonValueKind.Null)
            {
                if (problems is null)
                {
                    continue; // all or nothing: a null is read as not sent
                }

                error = JsonMappingError.SignalNull;
                detail = $"signal '{signal}' at {path} is null";
            }
            else if (text)
            {
                // Text as sent; a number or a boolean as written (a program number 1234 is the name "1234").
                string? textValue = value.ValueKind switch
                {
                    JsonValueKind.String => value.GetString(),
                    JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False => value.GetRawText(),
                    _ => null,
                };
                if (textValue is not null)
                {
                    samples.Add(TextSample(signal, textValue));
                    continue;
                }

                error = JsonMappingError.SignalNotText;
                detail = $"signal '{signal}' at {path} is {Describe(value)}, not text";
            }
            else if (value.ValueKind is JsonValueKind.True or JsonValueKind.False)
            {
                samples.Add(Sample(signal, value.ValueKind == JsonValueKind.True ? 1 : 0));
                continue;
            }
            else if (value.ValueKind == JsonValueKind.Number)
            {
                if (TryReadNumber(value, out double number))
                {
                    samples.Add(Sample(signal, number));
                    continue;
                }

                error = JsonMappingError.ValueNotRepresentable;
                detail = $"signal '{signal}' at {path}: {Truncate(value.GetRawText())} does not fit a double exactly";
            }
            else
            {
                error = JsonMappingError.SignalNotNumeric;
                detail = $"signal '{signal}' at {path} is {Describe(value)}, not a number";
            }

            if (problems is null)
            {
                return Fail(error, detail);
            }

            problems.Add(new JsonFieldProblem(deviceId, signal, path.Text, error, detail));
            fieldProblems++;
        }

        if (_allNumeric is not null)
        {
            if (!_allNumeric.TryFind(root, out JsonElement obj) || obj.ValueKind != JsonValueKind.Object)
            {
                return Fail(JsonMappingError.ObjectMissing, $"no object at {_allNumeric}");
            }

            foreach (JsonProperty member in obj.EnumerateObject())
            {
                if (member.Value.ValueKind != JsonValueKind.Number)
                {
                    continue;
                }

                if (!TryReadNumber(member.Value, out double number))
                {
                    return Fail(JsonMappingError.ValueNotRepresentable, $"member '{member.Name}' of {_allNumeric}: {Truncate(member.Value.GetRawText())} does not fit a double exactly");
                }

                samples.Add(Sample(member.Name, number));
            }
        }

        if (samples.Count == 0)
        {
            return new JsonMappingResult(
                JsonMappingError.NoSignals,
                0,
                fieldProblems == 0 ? "none of the mapped signals is in the payload" : string.Create(CultureInfo.InvariantCulture, $"no mapped signal has a usable value ({fieldProblems} field problem(s))"),
                deviceId);
        }

        foreach (JsonSample sample in samples)
        {
            output.Add(sample);
        }

        return new JsonMappingResult(JsonMappingError.None, samples.Count, DeviceId: deviceId);

        JsonSample Sample(string signal, double value) => new()
        {
            Topic = topic,
            DeviceId = deviceId,
            Signal = signal,
            Value = value,
            TimestampUnixNanoseconds = timestamp,
            TimestampFromPayload = fromPayload,
            Quality = quality,
        };

        JsonSample TextSample(string signal, string value) => new()
        {
            Topic = topic,
            DeviceId = deviceId,
            Signal = signal,
            Value = double.NaN,
            Text = value,
            TimestampUnixNanoseconds = timestamp,
            TimestampFromPayload = fromPayload,
            Quality = quality,
        };
    }

    private JsonMappingResult? ReadTimestamp(JsonElement time, out long unixNanoseconds)
    {
        unixNanoseconds = 0;
        JsonTimestampFormat format = Mapping.TimestampFormat;
        if (format == JsonTimestampFormat.Iso8601)
        {
            if (time.ValueKind != JsonValueKind.String
                || !DateTimeOffset.TryParseExact(time.GetString(), s_isoFormats, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out DateTimeOffset parsed))
            {
                return Fail(JsonMappingError.TimestampInvalid, $"timestamp at {_timestamp} is {Describe(time)}, not ISO-8601 with a UTC offset");
            }

            if (parsed.UtcTicks < UnixEpochTicks)
            {
                return Fail(JsonMappingError.TimestampOutOfRange, $"timestamp {time.GetString()} is before 1970");
            }

            unixNanoseconds = ToUnixNanoseconds(parsed);
            return null;
        }

        if (time.ValueKind != JsonValueKind.Number)
        {
            return Fail(JsonMappingError.TimestampInvalid, $"timestamp at {_timestamp} is {Describe(time)}, not a number of {Unit(format)}");
        }

        if (format == JsonTimestampFormat.UnixNanoseconds)
        {
            if (!time.TryGetInt64(out unixNanoseconds))
            {
                return time.TryGetDecimal(out decimal big) && decimal.Truncate(big) == big
                    ? Fail(JsonMappingError.TimestampOutOfRange, $"timestamp {Truncate(time.GetRawText())} ns is after 2262")
                    : Fail(JsonMappingError.TimestampInvalid, $"timestamp {Truncate(time.GetRawText())} is not a whole number of nanoseconds");
            }
        }
        else
        {
            if (!time.TryGetDecimal(out decimal value))
            {
                return Fail(JsonMappingError.TimestampOutOfRange, $"timestamp {Truncate(time.GetRawText())} {Unit(format)} is out of range");
            }

            decimal nanoseconds = decimal.Truncate(value * (format == JsonTimestampFormat.UnixSeconds ? 1_000_000_000m : 1_000_000m));
            if (nanoseconds > long.MaxValue || nanoseconds < long.MinValue)
            {
                return Fail(JsonMappingError.TimestampOutOfRange, $"timestamp {Truncate(time.GetRawText())} {Unit(format)} is after 2262");
            }

            unixNanoseconds = (long)nanoseconds;
        }

        return unixNanoseconds < 0
            ? Fail(JsonMappingError.TimestampOutOfRange, $"timestamp {Truncate(time.GetRawText())} {Unit(format)} is before 1970")
            : null;
    }

    // A JSON number as a double, refusing integers the double would round (beyond 2^53 and not exactly representable).
    private static bool TryReadNumber(JsonElement value, out double number)
    {
        if (!value.TryGetDouble(out number) || !double.IsFinite(number))
        {
            return false;
        }

        string raw = value.GetRawText();
        if (raw.AsSpan().IndexOfAny(".eE") >= 0)
        {
            return true; // a fraction: JSON's decimal text rounds to the nearest double, as every JSON reader does
        }

        // An integer: exact when the double is the same integer (always up to 2^53, beyond only for some).
        return BigInteger.Parse(raw, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture) == new BigInteger(number);
    }

    private static long ToUnixNanoseconds(DateTimeOffset time) => (time.UtcTicks - UnixEpochTicks) * 100;

    private static string Unit(JsonTimestampFormat format) => format switch
    {
        JsonTimestampFormat.UnixSeconds => "seconds",
        JsonTimestampFormat.UnixMilliseconds => "milliseconds",
        _ => "nanoseconds",
    };

    private static string Describe(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.String => $"the string \"{Truncate(element.GetString() ?? string.Empty)}\"",
        JsonValueKind.Number => $"the number {Truncate(element.GetRawText())}",
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.True or JsonValueKind.False => $"the boolean {element.GetRawText()}",
        _ => "null",
    };

    private static string Truncate(string text) => text.Length <= 40 ? text : string.Concat(text.AsSpan(0, 40), "…");

    private static JsonMappingResult Fail(JsonMappingError error, string detail) => new(error, 0, detail);
}
