using System.Text;
using FactoryGateway.Mqtt.Json;
using FactoryGateway.Testing;

namespace FactoryGateway.Mqtt.Tests.Json;

public sealed class JsonPayloadMapperTests
{
    private const string Topic = "factory/press1/telemetry";
    private static readonly DateTimeOffset s_arrival = new(2030, 1, 2, 3, 4, 5, TimeSpan.Zero);
    private static readonly long s_arrivalNs = (s_arrival.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) * 100;

    private static JsonPayloadMapping Telemetry => new()
    {
        TopicPattern = "factory/{device}/telemetry",
        Signals = new Dictionary<string, string> { ["temperature"] = "data.temp", ["speed"] = "data.rpm" },
        TimestampPath = "ts",
        QualityPath = "q",
    };

    [Fact]
    public void Mapped_signals_take_the_device_from_the_topic_and_the_timestamp_and_quality_from_the_payload()
    {
        List<JsonSample> samples = MapOk(Telemetry, """{"ts":1700000000123,"q":"good","data":{"temp":21.5,"rpm":1450,"other":1}}""");

        Assert.Equal(
            [("press1", "temperature", 21.5, 1_700_000_000_123_000_000L, JsonSampleQuality.Good), ("press1", "speed", 1450.0, 1_700_000_000_123_000_000L, JsonSampleQuality.Good)],
            samples.Select(s => (s.DeviceId, s.Signal, s.Value, s.TimestampUnixNanoseconds, s.Quality)));
        Assert.All(samples, s => Assert.True(s.TimestampFromPayload));
        Assert.All(samples, s => Assert.Equal(Topic, s.Topic));
    }

    [Theory]
    [InlineData(JsonTimestampFormat.UnixSeconds, "1700000000", 1_700_000_000_000_000_000L)]
    [InlineData(JsonTimestampFormat.UnixSeconds, "1700000000.25", 1_700_000_000_250_000_000L)]
    [InlineData(JsonTimestampFormat.UnixSeconds, "1.7e9", 1_700_000_000_000_000_000L)]
    [InlineData(JsonTimestampFormat.UnixMilliseconds, "1700000000123", 1_700_000_000_123_000_000L)]
    [InlineData(JsonTimestampFormat.UnixMilliseconds, "1700000000123.5", 1_700_000_000_123_500_000L)]
    [InlineData(JsonTimestampFormat.UnixNanoseconds, "1700000000123456789", 1_700_000_000_123_456_789L)]
    [InlineData(JsonTimestampFormat.Iso8601, "\"2023-11-14T22:13:20Z\"", 1_700_000_000_000_000_000L)]
    [InlineData(JsonTimestampFormat.Iso8601, "\"2023-11-14T22:13:20.1234567Z\"", 1_700_000_000_123_456_700L)]
    [InlineData(JsonTimestampFormat.Iso8601, "\"2023-11-14T23:13:20.5+01:00\"", 1_700_000_000_500_000_000L)]
    public void Each_timestamp_form_is_read_exactly(JsonTimestampFormat format, string json, long expectedNs)
    {
        JsonSample sample = Assert.Single(MapOk(Telemetry with { TimestampFormat = format }, $$$"""{"ts":{{{json}}},"data":{"temp":1}}"""));

        Assert.Equal(expectedNs, sample.TimestampUnixNanoseconds);
        Assert.True(sample.TimestampFromPayload);
    }

    [Theory]
    [InlineData("""{"data":{"temp":1}}""")]
    [InlineData("""{"ts":null,"data":{"temp":1}}""")]
    public void Without_a_timestamp_the_arrival_time_is_used(string json)
    {
        JsonSample sample = Assert.Single(MapOk(Telemetry, json));

        Assert.Equal(s_arrivalNs, sample.TimestampUnixNanoseconds);
        Assert.False(sample.TimestampFromPayload);
    }

    [Theory]
    [InlineData("\"good\"", JsonSampleQuality.Good)]
    [InlineData("192", JsonSampleQuality.Good)]
    [InlineData("true", JsonSampleQuality.Good)]
    [InlineData("\"uncertain\"", JsonSampleQuality.Uncertain)]
    [InlineData("64", JsonSampleQuality.Uncertain)]
    [InlineData("\"bad\"", JsonSampleQuality.Bad)]
    [InlineData("false", JsonSampleQuality.Bad)]
    [InlineData("null", JsonSampleQuality.Good)]
    public void Quality_values_map_to_good_uncertain_or_bad(string json, JsonSampleQuality expected)
    {
        Assert.Equal(expected, Assert.Single(MapOk(Telemetry, $$$"""{"q":{{{json}}},"data":{"temp":1}}""")).Quality);
    }

    [Fact]
    public void Array_indexes_booleans_and_a_device_id_from_the_payload()
    {
        var mapping = new JsonPayloadMapping
        {
            TopicPattern = "lines/{line}/batch",
            DeviceIdPath = "[0].meta.id",
            Signals = new Dictionary<string, string> { ["second"] = "[1].v", ["running"] = "[0].run", ["deep"] = "$[0].meta.values[2]" },
        };

        List<JsonSample> samples = MapOk(mapping, """[{"meta":{"id":"M-7","values":[0,0,5]},"run":true},{"v":-0.5}]""", "lines/3/batch");

        Assert.Equal([("M-7", "second", -0.5), ("M-7", "running", 1.0), ("M-7", "deep", 5.0)], samples.Select(s => (s.DeviceId, s.Signal, s.Value)));
        Assert.Equal("12", Assert.Single(MapOk(mapping, """[{"meta":{"id":12},"run":false}]""", "lines/3/batch")).DeviceId);
    }

    [Fact]
    public void All_numeric_members_of_an_object_become_signals_and_other_members_are_ignored()
    {
        var mapping = new JsonPayloadMapping
        {
            TopicPattern = "plant/{device}/bulk",
            AllNumericMembersOf = "values",
            TimestampPath = "time",
            TimestampFormat = JsonTimestampFormat.Iso8601,
        };

        List<JsonSample> samples = MapOk(mapping, """{"time":"2023-11-14T22:13:20Z","values":{"zone1":180.5,"label":"x","zone2":181,"on":true,"nested":{"a":1},"big":1152921504606846976}}""", "plant/oven/bulk");

        Assert.Equal([("zone1", 180.5), ("zone2", 181.0), ("big", 1152921504606846976.0)], samples.Select(s => (s.Signal, s.Value)));
        Assert.All(samples, s => Assert.Equal(("oven", 1_700_000_000_000_000_000L), (s.DeviceId, s.TimestampUnixNanoseconds)));
    }

    [Fact]
    public void The_root_object_can_be_the_numeric_member_source_and_a_payload_may_span_buffer_segments()
    {
        var mapping = new JsonPayloadMapping { TopicPattern = "m/{device}", AllNumericMembersOf = "$" };
        byte[] json = Encoding.UTF8.GetBytes("""{"a":1,"b":2.25,"c":"no"}""");
        var samples = new List<JsonSample>();

        JsonMappingResult result = new JsonPayloadMapper(mapping).Map("m/d1", SequenceSegments.Every(json, 3), s_arrival, samples);

        Assert.Equal(new JsonMappingResult(JsonMappingError.None, 2, DeviceId: "d1"), result);
        Assert.Equal([("a", 1.0), ("b", 2.25)], samples.Select(s => (s.Signal, s.Value)));
    }

    [Theory]
    [InlineData("""{"data":{"temp":1}""", JsonMappingError.InvalidJson)]
    [InlineData("not json", JsonMappingError.InvalidJson)]
    [InlineData("""{"data":{"temp":"hot"}}""", JsonMappingError.SignalNotNumeric)]
    [InlineData("""{"data":{"temp":[1]}}""", JsonMappingError.SignalNotNumeric)]
    [InlineData("""{"data":{"temp":9007199254740993}}""", JsonMappingError.ValueNotRepresentable)]
    [InlineData("""{"data":{"temp":1e400}}""", JsonMappingError.ValueNotRepresentable)]
    [InlineData("""{"data":{}}""", JsonMappingError.NoSignals)]
    [InlineData("""{"ts":"1700000000123","data":{"temp":1}}""", JsonMappingError.TimestampInvalid)]
    [InlineData("""{"ts":-1,"data":{"temp":1}}""", JsonMappingError.TimestampOutOfRange)]
    [InlineData("""{"ts":1e30,"data":{"temp":1}}""", JsonMappingError.TimestampOutOfRange)]
    [InlineData("""{"q":{"code":0},"data":{"temp":1}}""", JsonMappingError.QualityInvalid)]
    public void A_malformed_payload_gives_its_reason_and_no_sample(string json, JsonMappingError expected)
    {
        var samples = new List<JsonSample>();

        JsonMappingResult result = new JsonPayloadMapper(Telemetry).Map(Topic, Encoding.UTF8.GetBytes(json), s_arrival, samples);

        Assert.Equal(expected, result.Error);
        Assert.NotNull(result.Detail);
        Assert.Empty(samples);
    }

    [Theory]
    [InlineData(JsonTimestampFormat.UnixNanoseconds, "1700000000123.5", JsonMappingError.TimestampInvalid)]
    [InlineData(JsonTimestampFormat.UnixNanoseconds, "100000000000000000000", JsonMappingError.TimestampOutOfRange)]
    [InlineData(JsonTimestampFormat.Iso8601, "\"2023-11-14T22:13:20\"", JsonMappingError.TimestampInvalid)]
    [InlineData(JsonTimestampFormat.Iso8601, "\"14/11/2023 22:13:20Z\"", JsonMappingError.TimestampInvalid)]
    [InlineData(JsonTimestampFormat.Iso8601, "1700000000", JsonMappingError.TimestampInvalid)]
    [InlineData(JsonTimestampFormat.Iso8601, "\"1969-12-31T23:59:59Z\"", JsonMappingError.TimestampOutOfRange)]
    public void A_timestamp_not_of_the_configured_form_is_refused(JsonTimestampFormat format, string json, JsonMappingError expected)
    {
        var samples = new List<JsonSample>();

        JsonMappingResult result = new JsonPayloadMapper(Telemetry with { TimestampFormat = format }).Map(Topic, Encoding.UTF8.GetBytes($$$"""{"ts":{{{json}}},"data":{"temp":1}}"""), s_arrival, samples);

        Assert.Equal(expected, result.Error);
        Assert.Empty(samples);
    }

    [Fact]
    public void The_detail_names_the_signal_path_and_value()
    {
        JsonMappingResult result = new JsonPayloadMapper(Telemetry).Map(Topic, Encoding.UTF8.GetBytes("""{"data":{"temp":"hot"}}"""), s_arrival, new List<JsonSample>());

        Assert.Equal("signal 'temperature' at data.temp is the string \"hot\", not a number", result.Detail);
    }

    [Fact]
    public void A_string_signal_takes_text_and_a_number_or_boolean_as_written()
    {
        JsonPayloadMapping mapping = Telemetry with
        {
            Signals = new Dictionary<string, string> { ["program"] = "prog", ["temperature"] = "data.temp" },
            StringSignals = ["program"],
        };

        Assert.Equal([("program", "O1234"), ("temperature", null)], MapOk(mapping, """{"prog":"O1234","data":{"temp":20}}""").Select(s => (s.Signal, s.Text)));
        Assert.Equal("1234", MapOk(mapping, """{"prog":1234}""").Single().Text);
        Assert.Equal("true", MapOk(mapping, """{"prog":true}""").Single().Text);
        Assert.True(double.IsNaN(MapOk(mapping, """{"prog":""}""").Single().Value));

        var samples = new List<JsonSample>();
        JsonMappingResult result = new JsonPayloadMapper(mapping).Map(Topic, Encoding.UTF8.GetBytes("""{"prog":{"name":"O1"},"data":{"temp":20}}"""), s_arrival, samples);
        Assert.Equal((JsonMappingError.SignalNotText, "signal 'program' at prog is an object, not text"), (result.Error, result.Detail));
        Assert.Empty(samples);
        Assert.Contains("is not one of Signals", Assert.Throws<ArgumentException>(() => new JsonPayloadMapper(mapping with { StringSignals = ["recipe"] })).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void With_a_problem_list_each_field_that_gives_no_sample_is_reported_and_the_others_are_samples()
    {
        JsonPayloadMapping mapping = Telemetry with
        {
            Signals = new Dictionary<string, string> { ["program"] = "prog", ["temperature"] = "data.temp", ["speed"] = "data.rpm", ["count"] = "n", ["big"] = "big" },
            StringSignals = ["program"],
        };
        var samples = new List<JsonSample>();
        var problems = new List<JsonFieldProblem>();

        JsonMappingResult result = new JsonPayloadMapper(mapping).Map(
            Topic, Encoding.UTF8.GetBytes("""{"prog":[1],"data":{"temp":null,"rpm":"abc"},"n":7,"big":9007199254740993}"""), s_arrival, samples, problems);

        Assert.Equal((JsonMappingError.None, 1, "press1"), (result.Error, result.Samples, result.DeviceId));
        Assert.Equal(("count", 7.0), (samples.Single().Signal, samples.Single().Value));
        Assert.Equal(
            [
                new JsonFieldProblem("press1", "program", "prog", JsonMappingError.SignalNotText, "signal 'program' at prog is an array, not text"),
                new JsonFieldProblem("press1", "temperature", "data.temp", JsonMappingError.SignalNull, "signal 'temperature' at data.temp is null"),
                new JsonFieldProblem("press1", "speed", "data.rpm", JsonMappingError.SignalNotNumeric, "signal 'speed' at data.rpm is the string \"abc\", not a number"),
                new JsonFieldProblem("press1", "big", "big", JsonMappingError.ValueNotRepresentable, "signal 'big' at big: 9007199254740993 does not fit a double exactly"),
            ],
            problems);

        // Without a problem list a null is read as not sent, as before.
        Assert.True(new JsonPayloadMapper(mapping).Map(Topic, Encoding.UTF8.GetBytes("""{"data":{"temp":null},"n":1}"""), s_arrival, new List<JsonSample>()).Success);

        // Only problems: the payload fails as a whole, the problems are still reported, and the device is known.
        problems.Clear();
        result = new JsonPayloadMapper(mapping).Map(Topic, Encoding.UTF8.GetBytes("""{"n":"x"}"""), s_arrival, new List<JsonSample>(), problems);
        Assert.Equal((JsonMappingError.NoSignals, "no mapped signal has a usable value (1 field problem(s))", "press1"), (result.Error, result.Detail, result.DeviceId));
        Assert.Single(problems);
    }

    [Fact]
    public void Device_id_errors_and_a_missing_object_are_reported()
    {
        var byPath = new JsonPayloadMapping { TopicPattern = "x/y", DeviceIdPath = "id", AllNumericMembersOf = "v" };
        var mapper = new JsonPayloadMapper(byPath);

        Assert.Equal(JsonMappingError.DeviceIdMissing, mapper.Map("x/y", Encoding.UTF8.GetBytes("""{"v":{"a":1}}"""), s_arrival, new List<JsonSample>()).Error);
        Assert.Equal(JsonMappingError.DeviceIdInvalid, mapper.Map("x/y", Encoding.UTF8.GetBytes("""{"id":"","v":{"a":1}}"""), s_arrival, new List<JsonSample>()).Error);
        Assert.Equal(JsonMappingError.DeviceIdInvalid, mapper.Map("x/y", Encoding.UTF8.GetBytes("""{"id":{},"v":{"a":1}}"""), s_arrival, new List<JsonSample>()).Error);
        Assert.Equal(JsonMappingError.ObjectMissing, mapper.Map("x/y", Encoding.UTF8.GetBytes("""{"id":"d","v":[1]}"""), s_arrival, new List<JsonSample>()).Error);
        Assert.Equal(JsonMappingError.TopicMismatch, mapper.Map("x/y/z", Encoding.UTF8.GetBytes("{}"), s_arrival, new List<JsonSample>()).Error);
    }

    [Fact]
    public void A_payload_over_the_limit_is_refused_before_parsing()
    {
        byte[] big = new byte[JsonPayloadMapper.MaxPayloadBytes + 1];

        Assert.Equal(JsonMappingError.PayloadTooLarge, new JsonPayloadMapper(Telemetry).Map(Topic, big, s_arrival, new List<JsonSample>()).Error);
    }

    [Fact]
    public void Invalid_mappings_are_refused_with_the_reason()
    {
        Assert.Contains("neither literal nor a whole {variable}", Assert.Throws<ArgumentException>(() => new JsonPayloadMapper(Telemetry with { TopicPattern = "factory/+/telemetry" })).Message, StringComparison.Ordinal);
        Assert.Contains("the device id has no source", Assert.Throws<ArgumentException>(() => new JsonPayloadMapper(Telemetry with { TopicPattern = "factory/{machine}/telemetry" })).Message, StringComparison.Ordinal);
        Assert.Contains("repeated", Assert.Throws<ArgumentException>(() => new JsonPayloadMapper(Telemetry with { TopicPattern = "{device}/{device}" })).Message, StringComparison.Ordinal);
        Assert.Contains("Signals or AllNumericMembersOf", Assert.Throws<ArgumentException>(() => new JsonPayloadMapper(Telemetry with { Signals = new Dictionary<string, string>() })).Message, StringComparison.Ordinal);
        Assert.Contains("is not [<digits>]", Assert.Throws<ArgumentException>(() => new JsonPayloadMapper(Telemetry with { TimestampPath = "a[x]" })).Message, StringComparison.Ordinal);
        Assert.Contains("empty member name", Assert.Throws<ArgumentException>(() => new JsonPayloadMapper(Telemetry with { QualityPath = "a..b" })).Message, StringComparison.Ordinal);
        Assert.Equal("factory/+/telemetry", Telemetry.SubscriptionFilter);
    }

    private static List<JsonSample> MapOk(JsonPayloadMapping mapping, string json, string topic = Topic)
    {
        var samples = new List<JsonSample>();
        JsonMappingResult result = new JsonPayloadMapper(mapping).Map(topic, Encoding.UTF8.GetBytes(json), s_arrival, samples);
        Assert.True(result.Success, $"{result.Error}: {result.Detail}");
        Assert.Equal(samples.Count, result.Samples);
        return samples;
    }
}
