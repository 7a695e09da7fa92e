using System.Buffers;
using FactoryGateway.Mqtt.Sparkplug;
using FactoryGateway.Mqtt.Sparkplug.Protobuf;
using FactoryGateway.Testing;
using Google.Protobuf;

namespace FactoryGateway.Mqtt.Tests.Sparkplug;

public sealed class SparkplugPayloadCodecTests
{
    private static readonly string[] s_strings = ["a", string.Empty, "ß"];

    public static TheoryData<SparkplugDataType, object> Scalars => new()
    {
        { SparkplugDataType.Int8, sbyte.MinValue },
        { SparkplugDataType.Int8, (sbyte)-1 },
        { SparkplugDataType.Int8, sbyte.MaxValue },
        { SparkplugDataType.Int16, short.MinValue },
        { SparkplugDataType.Int16, short.MaxValue },
        { SparkplugDataType.Int32, int.MinValue },
        { SparkplugDataType.Int32, int.MaxValue },
        { SparkplugDataType.Int64, long.MinValue },
        { SparkplugDataType.Int64, long.MaxValue },
        { SparkplugDataType.UInt8, byte.MaxValue },
        { SparkplugDataType.UInt16, ushort.MaxValue },
        { SparkplugDataType.UInt32, uint.MaxValue },
        { SparkplugDataType.UInt64, ulong.MaxValue },
        { SparkplugDataType.Float, 0.1f },
        { SparkplugDataType.Float, float.Epsilon },
        { SparkplugDataType.Float, float.NaN },
        { SparkplugDataType.Double, 0.1 },
        { SparkplugDataType.Double, double.NegativeInfinity },
        { SparkplugDataType.Double, -0.0 },
        { SparkplugDataType.Boolean, true },
        { SparkplugDataType.Boolean, false },
        { SparkplugDataType.String, "Grüße 🏭" },
        { SparkplugDataType.String, string.Empty },
        { SparkplugDataType.DateTime, DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_123) },
        { SparkplugDataType.DateTime, DateTimeOffset.FromUnixTimeMilliseconds(0) },
        { SparkplugDataType.Text, "line 1\nline 2" },
        { SparkplugDataType.Uuid, "2f1c4b6e-8a7d-4c3b-9e2f-1a2b3c4d5e6f" },
    };

    public static TheoryData<SparkplugDataType, object> Arrays => new()
    {
        { SparkplugDataType.Bytes, Of<byte>(0, 1, 255) },
        { SparkplugDataType.File, Of<byte>(0x50, 0x4b, 3, 4) },
        { SparkplugDataType.Int8Array, Of<sbyte>(sbyte.MinValue, -1, 0, sbyte.MaxValue) },
        { SparkplugDataType.Int16Array, Of<short>(short.MinValue, -2, short.MaxValue) },
        { SparkplugDataType.Int32Array, Of<int>(int.MinValue, 0, int.MaxValue) },
        { SparkplugDataType.Int64Array, Of<long>(long.MinValue, long.MaxValue) },
        { SparkplugDataType.UInt8Array, Of<byte>(0, 128, 255) },
        { SparkplugDataType.UInt16Array, Of<ushort>(0, ushort.MaxValue) },
        { SparkplugDataType.UInt32Array, Of<uint>(0, uint.MaxValue) },
        { SparkplugDataType.UInt64Array, Of<ulong>(0, ulong.MaxValue) },
        { SparkplugDataType.FloatArray, Of<float>(1.5f, float.MinValue, float.NaN) },
        { SparkplugDataType.DoubleArray, Of<double>(0.1, double.MaxValue) },
        { SparkplugDataType.BooleanArray, Of<bool>(true, false, true, true, false, false, false, false, true) },
        { SparkplugDataType.BooleanArray, Array.Empty<bool>() },
        { SparkplugDataType.StringArray, s_strings },
        { SparkplugDataType.DateTimeArray, Of<DateTimeOffset>(DateTimeOffset.FromUnixTimeMilliseconds(1), DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000)) },
    };

    [Theory]
    [MemberData(nameof(Scalars))]
    [MemberData(nameof(Arrays))]
    public void Every_datatype_round_trips_to_the_same_clr_type_and_value(SparkplugDataType type, object value)
    {
        SparkplugMetric decoded = RoundTrip(new SparkplugMetric { Name = "m", Alias = 7, DataType = type, Value = value });

        Assert.Equal(type, decoded.DataType);
        Assert.Equal(value.GetType(), decoded.Value!.GetType());
        Assert.Equal(value, decoded.Value);
        Assert.Equal(7UL, decoded.Alias);
    }

    [Fact]
    public void Payload_fields_metric_flags_and_metadata_round_trip()
    {
        var payload = new SparkplugPayload
        {
            Timestamp = 1_700_000_000_000,
            Seq = 255,
            Uuid = "compressed?",
            Body = [9, 8, 7],
            Metrics =
            [
                new SparkplugMetric { Name = "h", DataType = SparkplugDataType.Double, Value = 1.0, Timestamp = 5, IsHistorical = true, IsTransient = true },
                new SparkplugMetric { Name = "n", DataType = SparkplugDataType.Int32, IsNull = true },
                new SparkplugMetric
                {
                    Name = "f",
                    DataType = SparkplugDataType.File,
                    Value = Of<byte>(1),
                    MetaData = new SparkplugMetaData { FileName = "a.bin", FileType = "bin", Size = 1, Md5 = "x", ContentType = "application/octet-stream", IsMultiPart = false, Seq = 0, Description = "d" },
                },
            ],
        };

        SparkplugPayload decoded = SparkplugPayloadCodec.Decode(SparkplugPayloadCodec.Encode(payload));

        Assert.Equal(payload.Timestamp, decoded.Timestamp);
        Assert.Equal(payload.Seq, decoded.Seq);
        Assert.Equal(payload.Uuid, decoded.Uuid);
        Assert.Equal(payload.Body, decoded.Body);
        Assert.Equal(payload.Metrics[0], decoded.Metrics[0]);
        Assert.True(decoded.Metrics[1].IsNull);
        Assert.Null(decoded.Metrics[1].Value);
        Assert.Equal(payload.Metrics[2].MetaData, decoded.Metrics[2].MetaData);
        Assert.Equal(Of<byte>(1), decoded.Metrics[2].Value);
    }

    [Fact]
    public void A_dataset_round_trips_with_every_scalar_column_type_and_a_null_cell()
    {
        (SparkplugDataType Type, object Value)[] columns = [.. Scalars.Select(row => ((SparkplugDataType)row.Data.Item1, row.Data.Item2)).DistinctBy(c => c.Item1)];
        var dataSet = new SparkplugDataSet
        {
            Columns = [.. columns.Select(c => c.Type.ToString())],
            Types = [.. columns.Select(c => c.Type)],
            Rows = [[.. columns.Select(c => c.Value)], [.. columns.Select((c, i) => i == 0 ? null : c.Value)]],
        };

        var decoded = (SparkplugDataSet)RoundTrip(new SparkplugMetric { Name = "ds", DataType = SparkplugDataType.DataSet, Value = dataSet }).Value!;

        Assert.Equal(dataSet.Columns, decoded.Columns);
        Assert.Equal(dataSet.Types, decoded.Types);
        Assert.Equal(2, decoded.Rows.Count);
        Assert.Equal(dataSet.Rows[0], decoded.Rows[0]);
        Assert.Equal(dataSet.Rows[1], decoded.Rows[1]);
        Assert.Null(decoded.Rows[1][0]);
    }

    [Fact]
    public void A_template_round_trips_with_parameters_and_a_nested_template()
    {
        var inner = new SparkplugTemplate
        {
            TemplateRef = "Bearing",
            Metrics = [new SparkplugMetric { Name = "Temp", DataType = SparkplugDataType.Float, Value = 41.5f }],
        };
        var template = new SparkplugTemplate
        {
            Version = "2.1",
            TemplateRef = "Motor",
            IsDefinition = false,
            Metrics =
            [
                new SparkplugMetric { Name = "RPM", DataType = SparkplugDataType.UInt16, Value = (ushort)1450 },
                new SparkplugMetric { Name = "Bearing", DataType = SparkplugDataType.Template, Value = inner },
            ],
            Parameters =
            [
                new SparkplugTemplateParameter("Rated", SparkplugDataType.Double, 7.5),
                new SparkplugTemplateParameter("Poles", SparkplugDataType.Int8, (sbyte)-4),
                new SparkplugTemplateParameter("Vendor", SparkplugDataType.String, "ACME"),
            ],
        };

        var decoded = (SparkplugTemplate)RoundTrip(new SparkplugMetric { Name = "Motor 1", DataType = SparkplugDataType.Template, Value = template }).Value!;

        Assert.Equal(template.Version, decoded.Version);
        Assert.Equal(template.TemplateRef, decoded.TemplateRef);
        Assert.False(decoded.IsDefinition);
        Assert.Equal(template.Parameters, decoded.Parameters);
        Assert.Equal(template.Metrics[0], decoded.Metrics[0]);
        var decodedInner = (SparkplugTemplate)decoded.Metrics[1].Value!;
        Assert.Equal("Bearing", decodedInner.TemplateRef);
        Assert.Equal(inner.Metrics[0], decodedInner.Metrics[0]);
    }

    [Fact]
    public void Metric_properties_round_trip_with_nested_sets_lists_and_nulls()
    {
        var properties = new Dictionary<string, SparkplugPropertyValue>
        {
            ["engUnit"] = new(SparkplugDataType.String, "bar"),
            ["Quality"] = new(SparkplugDataType.Int32, 192),
            ["scale"] = new(SparkplugDataType.Float, 0.5f),
            ["missing"] = new(SparkplugDataType.Double, null, IsNull: true),
            ["limits"] = new(SparkplugDataType.PropertySet, new Dictionary<string, SparkplugPropertyValue> { ["low"] = new(SparkplugDataType.Int64, -1L) }),
            ["alarms"] = new(SparkplugDataType.PropertySetList, new IReadOnlyDictionary<string, SparkplugPropertyValue>[]
            {
                new Dictionary<string, SparkplugPropertyValue> { ["on"] = new(SparkplugDataType.Boolean, true) },
                new Dictionary<string, SparkplugPropertyValue> { ["at"] = new(SparkplugDataType.DateTime, DateTimeOffset.FromUnixTimeMilliseconds(5)) },
            }),
        };

        IReadOnlyDictionary<string, SparkplugPropertyValue> decoded = RoundTrip(new SparkplugMetric { Name = "p", DataType = SparkplugDataType.Double, Value = 1.0, Properties = properties }).Properties!;

        Assert.Equal(properties.Keys, decoded.Keys);
        Assert.Equal(properties["engUnit"], decoded["engUnit"]);
        Assert.Equal(properties["Quality"], decoded["Quality"]);
        Assert.Equal(properties["scale"], decoded["scale"]);
        Assert.Equal(properties["missing"], decoded["missing"]);
        var limits = (IReadOnlyDictionary<string, SparkplugPropertyValue>)decoded["limits"].Value!;
        Assert.Equal(new SparkplugPropertyValue(SparkplugDataType.Int64, -1L), limits["low"]);
        var alarms = (IReadOnlyDictionary<string, SparkplugPropertyValue>[])decoded["alarms"].Value!;
        Assert.Equal(new SparkplugPropertyValue(SparkplugDataType.Boolean, true), alarms[0]["on"]);
        Assert.Equal(new SparkplugPropertyValue(SparkplugDataType.DateTime, DateTimeOffset.FromUnixTimeMilliseconds(5)), alarms[1]["at"]);
    }

    [Fact]
    public void A_property_set_with_unpaired_keys_is_refused()
    {
        var set = new Payload.Types.PropertySet();
        set.Keys.Add(["a", "b"]);
        set.Values.Add(new Payload.Types.PropertyValue { Type = (uint)SparkplugDataType.Int32, IntValue = 1 });

        var e = Assert.Throws<SparkplugPayloadException>(() => Decode(new Payload.Types.Metric { Name = "m", Datatype = (uint)SparkplugDataType.Int32, IntValue = 1, Properties = set }));
        Assert.Equal("metric 0 'm': property set with 2 keys and 1 values", e.Message);
    }

    [Fact]
    public void Boolean_array_matches_the_specification_example()
    {
        // Sparkplug 3.0, §6.4.17 BooleanArray: 12 values → count 0x0C then 0x34 0xD0 (most significant bit first).
        bool[] values = [false, false, true, true, false, true, false, false, true, true, false, true];
        byte[] wire = [0x0C, 0x00, 0x00, 0x00, 0x34, 0xD0];

        SparkplugMetric decoded = Decode(new Payload.Types.Metric { Name = "b", Datatype = (uint)SparkplugDataType.BooleanArray, BytesValue = ByteString.CopyFrom(wire) });
        Assert.Equal(values, decoded.Value);

        var proto = Payload.Parser.ParseFrom(SparkplugPayloadCodec.Encode(new SparkplugPayload { Metrics = [new SparkplugMetric { Name = "b", DataType = SparkplugDataType.BooleanArray, Value = values }] }));
        Assert.Equal(wire, proto.Metrics[0].BytesValue.ToByteArray());
    }

    [Fact]
    public void Signed_values_are_sign_extended_on_the_wire_and_read_in_either_width()
    {
        var proto = Payload.Parser.ParseFrom(SparkplugPayloadCodec.Encode(new SparkplugPayload { Metrics = [new SparkplugMetric { Name = "i8", DataType = SparkplugDataType.Int8, Value = (sbyte)-5 }] }));
        Assert.Equal(0xFFFFFFFBu, proto.Metrics[0].IntValue);

        Assert.Equal((sbyte)-1, Decode(new Payload.Types.Metric { Name = "i8", Datatype = (uint)SparkplugDataType.Int8, IntValue = 0xFF }).Value);
        Assert.Equal((short)-2, Decode(new Payload.Types.Metric { Name = "i16", Datatype = (uint)SparkplugDataType.Int16, IntValue = 0xFFFE }).Value);
        Assert.Equal((short)-2, Decode(new Payload.Types.Metric { Name = "i16", Datatype = (uint)SparkplugDataType.Int16, IntValue = 0xFFFFFFFE }).Value);
        Assert.Equal(7u, Decode(new Payload.Types.Metric { Name = "u32", Datatype = (uint)SparkplugDataType.UInt32, IntValue = 7 }).Value);
        Assert.Equal(7u, Decode(new Payload.Types.Metric { Name = "u32", Datatype = (uint)SparkplugDataType.UInt32, LongValue = 7 }).Value);
    }

    [Fact]
    public void A_value_out_of_its_datatype_range_is_refused_with_the_metric_named()
    {
        var e = Assert.Throws<SparkplugPayloadException>(() => Decode(new Payload.Types.Metric { Name = "Speed", Datatype = (uint)SparkplugDataType.UInt8, IntValue = 256 }));
        Assert.Equal("metric 0 'Speed': UInt8 value 256 is out of range", e.Message);

        e = Assert.Throws<SparkplugPayloadException>(() => Decode(new Payload.Types.Metric { Name = "T", Datatype = (uint)SparkplugDataType.Int8, IntValue = 0x100 }));
        Assert.Equal("metric 0 'T': Int8 value 256 is out of range", e.Message);

        e = Assert.Throws<SparkplugPayloadException>(() => Decode(new Payload.Types.Metric { Name = "U", Datatype = (uint)SparkplugDataType.UInt32, LongValue = 1UL << 32 }));
        Assert.Equal("metric 0 'U': UInt32 value 4294967296 is out of range", e.Message);
    }

    [Fact]
    public void A_value_in_the_wrong_field_or_a_bad_array_is_refused()
    {
        var e = Assert.Throws<SparkplugPayloadException>(() => Decode(new Payload.Types.Metric { Alias = 3, Datatype = (uint)SparkplugDataType.Float, DoubleValue = 1 }));
        Assert.Equal("metric 0 (alias 3): Float in the Double field", e.Message);

        e = Assert.Throws<SparkplugPayloadException>(() => Decode(new Payload.Types.Metric { Name = "a", Datatype = (uint)SparkplugDataType.Int32Array, BytesValue = ByteString.CopyFrom(1, 2, 3) }));
        Assert.Equal("metric 0 'a': Int32Array of 3 bytes is not a whole number of 4-byte elements", e.Message);

        e = Assert.Throws<SparkplugPayloadException>(() => Decode(new Payload.Types.Metric { Name = "s", Datatype = (uint)SparkplugDataType.StringArray, BytesValue = ByteString.CopyFrom(0x61, 0, 0x62) }));
        Assert.Equal("metric 0 's': StringArray element without its NUL terminator", e.Message);

        e = Assert.Throws<SparkplugPayloadException>(() => Decode(new Payload.Types.Metric { Name = "v", IntValue = 1 }));
        Assert.Equal("metric 0 'v': a value without a datatype", e.Message);

        e = Assert.Throws<SparkplugPayloadException>(() => Decode(new Payload.Types.Metric { Name = "x", Datatype = 99, IntValue = 1 }));
        Assert.Equal("metric 0 'x': datatype 99 (99) is not a scalar datatype known to Sparkplug B 3.0", e.Message);
    }

    [Fact]
    public void A_data_metric_without_a_datatype_takes_it_from_the_resolver_or_keeps_no_value()
    {
        var payload = new Payload { Seq = 4 };
        payload.Metrics.Add(new Payload.Types.Metric { Alias = 1, LongValue = 9 });
        payload.Metrics.Add(new Payload.Types.Metric { Name = "x", IntValue = 0xFFFFFFFF });
        payload.Metrics.Add(new Payload.Types.Metric { Alias = 77, IntValue = 3 });
        var bytes = new ReadOnlySequence<byte>(payload.ToByteArray());

        SparkplugPayload decoded = SparkplugPayloadCodec.Decode(bytes, (name, alias) => alias == 1 ? SparkplugDataType.UInt32 : name == "x" ? SparkplugDataType.Int16 : null);

        Assert.Equal((SparkplugDataType.UInt32, (object)9u), (decoded.Metrics[0].DataType!.Value, decoded.Metrics[0].Value!));
        Assert.Equal((SparkplugDataType.Int16, (object)(short)-1), (decoded.Metrics[1].DataType!.Value, decoded.Metrics[1].Value!));
        Assert.Equal((null, null), (decoded.Metrics[2].DataType, decoded.Metrics[2].Value));
        Assert.Throws<SparkplugPayloadException>(() => SparkplugPayloadCodec.Decode(bytes));
    }

    [Fact]
    public void A_dataset_row_of_the_wrong_width_is_refused()
    {
        var ds = new Payload.Types.DataSet { NumOfColumns = 2 };
        ds.Columns.Add(["a", "b"]);
        ds.Types_.Add([(uint)SparkplugDataType.Int32, (uint)SparkplugDataType.String]);
        var row = new Payload.Types.DataSet.Types.Row();
        row.Elements.Add(new Payload.Types.DataSet.Types.DataSetValue { IntValue = 1 });
        ds.Rows.Add(row);

        var e = Assert.Throws<SparkplugPayloadException>(() => Decode(new Payload.Types.Metric { Name = "ds", Datatype = (uint)SparkplugDataType.DataSet, DatasetValue = ds }));
        Assert.Equal("metric 0 'ds': DataSet row 0 has 1 elements for 2 columns", e.Message);
    }

    [Fact]
    public void Bytes_that_are_not_protobuf_are_refused()
    {
        var e = Assert.Throws<SparkplugPayloadException>(() => SparkplugPayloadCodec.Decode(Of<byte>(0x0A, 0xFF, 0xFF)));
        Assert.StartsWith("Sparkplug payload is not a valid protobuf Payload:", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_payload_over_the_limit_is_refused_before_parsing()
    {
        var e = Assert.Throws<SparkplugPayloadException>(() => SparkplugPayloadCodec.Decode(new byte[SparkplugPayloadCodec.MaxPayloadBytes + 1]));
        Assert.Equal($"payload of {SparkplugPayloadCodec.MaxPayloadBytes + 1} bytes is over the limit of {SparkplugPayloadCodec.MaxPayloadBytes} bytes (MaxPayloadBytes)", e.Message);
    }

    [Fact]
    public void A_payload_split_across_buffer_segments_decodes_like_a_contiguous_one()
    {
        byte[] bytes = SparkplugPayloadCodec.Encode(new SparkplugPayload
        {
            Seq = 3,
            Metrics = [.. Enumerable.Range(0, 20).Select(i => new SparkplugMetric { Name = $"m{i}", DataType = SparkplugDataType.Double, Value = i * 0.5 })],
        });

        SparkplugPayload whole = SparkplugPayloadCodec.Decode(bytes);
        SparkplugPayload split = SparkplugPayloadCodec.Decode(SequenceSegments.Every(bytes, 7));

        Assert.Equal(whole.Seq, split.Seq);
        Assert.Equal(whole.Metrics, split.Metrics);
    }

    private static T[] Of<T>(params T[] values) => values;

    private static SparkplugMetric RoundTrip(SparkplugMetric metric) =>
        Assert.Single(SparkplugPayloadCodec.Decode(SparkplugPayloadCodec.Encode(new SparkplugPayload { Metrics = [metric] })).Metrics);

    private static SparkplugMetric Decode(Payload.Types.Metric metric)
    {
        var payload = new Payload();
        payload.Metrics.Add(metric);
        return Assert.Single(SparkplugPayloadCodec.Decode(new ReadOnlySequence<byte>(payload.ToByteArray())).Metrics);
    }
}
