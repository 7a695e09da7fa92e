using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;
using FactoryGateway.Mqtt.Sparkplug.Protobuf;
using Google.Protobuf;
using ProtoDataSet = FactoryGateway.Mqtt.Sparkplug.Protobuf.Payload.Types.DataSet;
using ProtoMetric = FactoryGateway.Mqtt.Sparkplug.Protobuf.Payload.Types.Metric;
using ProtoTemplate = FactoryGateway.Mqtt.Sparkplug.Protobuf.Payload.Types.Template;

namespace FactoryGateway.Mqtt.Sparkplug;

/// <summary>
/// A Sparkplug B payload that does not decode: not protobuf, or a metric whose value does not fit its
/// datatype. <see cref="Exception.Message"/> names the place (<c>metric 3 'Pressure'</c>) and the reason.
/// </summary>
public sealed class SparkplugPayloadException : Exception
{
    public SparkplugPayloadException(string message)
        : base(message)
    {
    }

    public SparkplugPayloadException()
    {
    }

    public SparkplugPayloadException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// Sparkplug B payload ↔ <see cref="SparkplugPayload"/>, over the protobuf types generated from
/// sparkplug_b.proto. The datatype rules are the specification's (3.0, §6.4.16–6.4.17): Int8, Int16,
/// Int32, UInt8 and UInt16 travel in <c>int_value</c> (signed values as two's complement, sign-extended to
/// 32 bits); Int64, UInt32, UInt64 and DateTime in <c>long_value</c>; arrays in <c>bytes_value</c>,
/// little-endian, booleans bit-packed behind a 4-byte count, strings NUL-terminated. The decoder also
/// takes the other integer field when an encoder used it, as long as the value fits: nothing is
/// narrowed silently.
/// </summary>
public static class SparkplugPayloadCodec
{
    /// <summary>Largest payload decoded. 1 MiB: the MQTT client's default maximum packet size.</summary>
    public const int MaxPayloadBytes = 1024 * 1024;

    /// <summary>Deepest Template nesting (templates inside templates) decoded.</summary>
    public const int MaxTemplateDepth = 16;

    public static SparkplugPayload Decode(ReadOnlySequence<byte> bytes) => Decode(bytes, datatypeOf: null);

    /// <summary>
    /// Decodes a payload whose top-level metrics may leave out their datatype, as DATA messages may
    /// (3.0, §6.4.9): <paramref name="datatypeOf"/> gives it from the birth certificate by name and alias.
    /// A metric it does not know keeps a null <see cref="SparkplugMetric.DataType"/> and
    /// <see cref="SparkplugMetric.Value"/> (its value cannot be read without a type). Without a resolver,
    /// a value without a datatype is malformed.
    /// </summary>
    public static SparkplugPayload Decode(ReadOnlySequence<byte> bytes, Func<string?, ulong?, SparkplugDataType?>? datatypeOf)
    {
        if (bytes.Length > MaxPayloadBytes)
        {
            Throw($"payload of {bytes.Length} bytes is over the limit of {MaxPayloadBytes} bytes (MaxPayloadBytes)");
        }

        Payload proto;
        try
        {
            proto = Payload.Parser.ParseFrom(bytes);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new SparkplugPayloadException($"Sparkplug payload is not a valid protobuf Payload: {e.Message}", e);
        }

        var metrics = new SparkplugMetric[proto.Metrics.Count];
        for (int i = 0; i < metrics.Length; i++)
        {
            ProtoMetric metric = proto.Metrics[i];
            SparkplugDataType? resolved = null;
            if (!metric.HasDatatype && datatypeOf is not null)
            {
                resolved = datatypeOf(metric.HasName ? metric.Name : null, metric.HasAlias ? metric.Alias : null);
                if (resolved is null)
                {
                    metrics[i] = DecodeMetric(metric, i, depth: 0, skipValue: true);
                    continue;
                }
            }

            metrics[i] = DecodeMetric(metric, i, depth: 0, resolved);
        }

        return new SparkplugPayload
        {
            Timestamp = proto.HasTimestamp ? proto.Timestamp : null,
            Seq = proto.HasSeq ? proto.Seq : null,
            Uuid = proto.HasUuid ? proto.Uuid : null,
            Body = proto.HasBody ? proto.Body.ToByteArray() : null,
            Metrics = metrics,
        };
    }

    public static SparkplugPayload Decode(ReadOnlyMemory<byte> bytes) => Decode(new ReadOnlySequence<byte>(bytes), datatypeOf: null);

    public static byte[] Encode(SparkplugPayload payload)
    {
        ArgumentNullException.ThrowIfNull(payload);
        var proto = new Payload();
        if (payload.Timestamp is { } timestamp)
        {
            proto.Timestamp = timestamp;
        }

        if (payload.Seq is { } seq)
        {
            proto.Seq = seq;
        }

        if (payload.Uuid is { } uuid)
        {
            proto.Uuid = uuid;
        }

        if (payload.Body is { } body)
        {
            proto.Body = ByteString.CopyFrom(body);
        }

        foreach (SparkplugMetric metric in payload.Metrics)
        {
            proto.Metrics.Add(EncodeMetric(metric));
        }

        return proto.ToByteArray();
    }

    private static SparkplugMetric DecodeMetric(ProtoMetric m, int index, int depth, SparkplugDataType? resolved = null, bool skipValue = false)
    {
        SparkplugDataType? type = m.HasDatatype ? (SparkplugDataType)m.Datatype : resolved;
        bool isNull = m.HasIsNull && m.IsNull;
        object? value = null;
        if (!isNull && !skipValue && m.ValueCase != ProtoMetric.ValueOneofCase.None)
        {
            string where = MetricPlace(m, index);
            value = type switch
            {
                null => Throw<object>($"{where}: a value without a datatype"),
                SparkplugDataType.DataSet => m.ValueCase == ProtoMetric.ValueOneofCase.DatasetValue
                    ? DecodeDataSet(m.DatasetValue, where)
                    : Throw<object>($"{where}: DataSet without dataset_value"),
                SparkplugDataType.Template => m.ValueCase == ProtoMetric.ValueOneofCase.TemplateValue
                    ? DecodeTemplate(m.TemplateValue, where, depth + 1)
                    : Throw<object>($"{where}: Template without template_value"),
                SparkplugDataType.Bytes or SparkplugDataType.File => m.ValueCase == ProtoMetric.ValueOneofCase.BytesValue
                    ? m.BytesValue.ToByteArray()
                    : Throw<object>($"{where}: {type} without bytes_value"),
                >= SparkplugDataType.Int8Array and <= SparkplugDataType.DateTimeArray => m.ValueCase == ProtoMetric.ValueOneofCase.BytesValue
                    ? DecodeArray(type.Value, m.BytesValue.Span, where)
                    : Throw<object>($"{where}: {type} without bytes_value"),
                _ => DecodeScalar(type.Value, ToScalar(m), where),
            };
        }

        return new SparkplugMetric
        {
            Name = m.HasName ? m.Name : null,
            Alias = m.HasAlias ? m.Alias : null,
            Timestamp = m.HasTimestamp ? m.Timestamp : null,
            DataType = type,
            IsHistorical = m.HasIsHistorical && m.IsHistorical,
            IsTransient = m.HasIsTransient && m.IsTransient,
            IsNull = isNull,
            Value = value,
            MetaData = m.Metadata is { } md ? DecodeMetaData(md) : null,
            Properties = m.Properties is { } properties ? DecodePropertySet(properties, MetricPlace(m, index), depth: 0) : null,
        };
    }

    private static Dictionary<string, SparkplugPropertyValue> DecodePropertySet(Payload.Types.PropertySet set, string where, int depth)
    {
        if (depth > MaxTemplateDepth)
        {
            Throw($"{where}: property sets nested deeper than {MaxTemplateDepth} (MaxTemplateDepth)");
        }

        if (set.Keys.Count != set.Values.Count)
        {
            Throw(string.Create(CultureInfo.InvariantCulture, $"{where}: property set with {set.Keys.Count} keys and {set.Values.Count} values"));
        }

        var properties = new Dictionary<string, SparkplugPropertyValue>(set.Keys.Count, StringComparer.Ordinal);
        for (int i = 0; i < set.Keys.Count; i++)
        {
            Payload.Types.PropertyValue v = set.Values[i];
            var type = (SparkplugDataType)v.Type;
            string place = $"{where} property '{Escape(set.Keys[i])}'";
            bool isNull = v.HasIsNull && v.IsNull;
            object? value = isNull ? null : v.ValueCase switch
            {
                Payload.Types.PropertyValue.ValueOneofCase.PropertysetValue when type == SparkplugDataType.PropertySet => DecodePropertySet(v.PropertysetValue, place, depth + 1),
                Payload.Types.PropertyValue.ValueOneofCase.PropertysetsValue when type == SparkplugDataType.PropertySetList =>
                    v.PropertysetsValue.Propertyset.Select(p => (IReadOnlyDictionary<string, SparkplugPropertyValue>)DecodePropertySet(p, place, depth + 1)).ToArray(),
                Payload.Types.PropertyValue.ValueOneofCase.PropertysetValue or Payload.Types.PropertyValue.ValueOneofCase.PropertysetsValue =>
                    Throw<object>($"{place}: a property set value for datatype {type}"),
                _ => DecodeScalar(type, ToScalar(v), place),
            };
            if (!properties.TryAdd(set.Keys[i], new SparkplugPropertyValue(type, value, isNull)))
            {
                Throw($"{place}: key repeated");
            }
        }

        return properties;
    }

    private static Scalar ToScalar(Payload.Types.PropertyValue v) => v.ValueCase switch
    {
        Payload.Types.PropertyValue.ValueOneofCase.IntValue => new(ScalarField.Int, Int: v.IntValue),
        Payload.Types.PropertyValue.ValueOneofCase.LongValue => new(ScalarField.Long, Long: v.LongValue),
        Payload.Types.PropertyValue.ValueOneofCase.FloatValue => new(ScalarField.Float, Float: v.FloatValue),
        Payload.Types.PropertyValue.ValueOneofCase.DoubleValue => new(ScalarField.Double, Double: v.DoubleValue),
        Payload.Types.PropertyValue.ValueOneofCase.BooleanValue => new(ScalarField.Boolean, Boolean: v.BooleanValue),
        Payload.Types.PropertyValue.ValueOneofCase.StringValue => new(ScalarField.String, String: v.StringValue),
        Payload.Types.PropertyValue.ValueOneofCase.None => new(ScalarField.None),
        _ => new(ScalarField.Other),
    };

    private static Payload.Types.PropertySet EncodePropertySet(IReadOnlyDictionary<string, SparkplugPropertyValue> properties)
    {
        var set = new Payload.Types.PropertySet();
        foreach ((string key, SparkplugPropertyValue property) in properties)
        {
            var v = new Payload.Types.PropertyValue { Type = (uint)property.Type };
            if (property.IsNull || property.Value is null)
            {
                v.IsNull = property.IsNull;
            }
            else if (property.Type == SparkplugDataType.PropertySet)
            {
                v.PropertysetValue = EncodePropertySet((IReadOnlyDictionary<string, SparkplugPropertyValue>)property.Value);
            }
            else if (property.Type == SparkplugDataType.PropertySetList)
            {
                var list = new Payload.Types.PropertySetList();
                foreach (IReadOnlyDictionary<string, SparkplugPropertyValue> item in (IEnumerable<IReadOnlyDictionary<string, SparkplugPropertyValue>>)property.Value)
                {
                    list.Propertyset.Add(EncodePropertySet(item));
                }

                v.PropertysetsValue = list;
            }
            else
            {
                Scalar s = EncodeScalar(property.Type, property.Value);
                Assign(v, s);
            }

            set.Keys.Add(key);
            set.Values.Add(v);
        }

        return set;
    }

    private static string MetricPlace(ProtoMetric m, int index) =>
        m.HasName
            ? string.Create(CultureInfo.InvariantCulture, $"metric {index} '{Escape(m.Name)}'")
            : string.Create(CultureInfo.InvariantCulture, $"metric {index} (alias {(m.HasAlias ? m.Alias.ToString(CultureInfo.InvariantCulture) : "none")})");

    private static string Escape(string text) => text.Length <= 64 ? text : string.Concat(text.AsSpan(0, 64), "…");

    private static SparkplugMetaData DecodeMetaData(Payload.Types.MetaData md) => new()
    {
        IsMultiPart = md.HasIsMultiPart ? md.IsMultiPart : null,
        ContentType = md.HasContentType ? md.ContentType : null,
        Size = md.HasSize ? md.Size : null,
        Seq = md.HasSeq ? md.Seq : null,
        FileName = md.HasFileName ? md.FileName : null,
        FileType = md.HasFileType ? md.FileType : null,
        Md5 = md.HasMd5 ? md.Md5 : null,
        Description = md.HasDescription ? md.Description : null,
    };

    // The scalar fields shared by Metric, DataSetValue, Template.Parameter: which one is set and its value.
    private enum ScalarField
    {
        None,
        Int,
        Long,
        Float,
        Double,
        Boolean,
        String,
        Other,
    }

    // Sets the one field of a Sparkplug message that carries the scalar (none for ScalarField.None or Other).
    private static void Assign(IScalarValueFields target, Scalar s)
    {
        switch (s.Field)
        {
            case ScalarField.Int:
                target.IntValue = s.Int;
                break;
            case ScalarField.Long:
                target.LongValue = s.Long;
                break;
            case ScalarField.Float:
                target.FloatValue = s.Float;
                break;
            case ScalarField.Double:
                target.DoubleValue = s.Double;
                break;
            case ScalarField.Boolean:
                target.BooleanValue = s.Boolean;
                break;
            case ScalarField.String:
                target.StringValue = s.String!;
                break;
            default:
                break;
        }
    }

    private readonly record struct Scalar(ScalarField Field, uint Int = 0, ulong Long = 0, float Float = 0, double Double = 0, bool Boolean = false, string? String = null);

    private static Scalar ToScalar(ProtoMetric m) => m.ValueCase switch
    {
        ProtoMetric.ValueOneofCase.IntValue => new(ScalarField.Int, Int: m.IntValue),
        ProtoMetric.ValueOneofCase.LongValue => new(ScalarField.Long, Long: m.LongValue),
        ProtoMetric.ValueOneofCase.FloatValue => new(ScalarField.Float, Float: m.FloatValue),
        ProtoMetric.ValueOneofCase.DoubleValue => new(ScalarField.Double, Double: m.DoubleValue),
        ProtoMetric.ValueOneofCase.BooleanValue => new(ScalarField.Boolean, Boolean: m.BooleanValue),
        ProtoMetric.ValueOneofCase.StringValue => new(ScalarField.String, String: m.StringValue),
        ProtoMetric.ValueOneofCase.None => new(ScalarField.None),
        _ => new(ScalarField.Other),
    };

    private static Scalar ToScalar(ProtoDataSet.Types.DataSetValue v) => v.ValueCase switch
    {
        ProtoDataSet.Types.DataSetValue.ValueOneofCase.IntValue => new(ScalarField.Int, Int: v.IntValue),
        ProtoDataSet.Types.DataSetValue.ValueOneofCase.LongValue => new(ScalarField.Long, Long: v.LongValue),
        ProtoDataSet.Types.DataSetValue.ValueOneofCase.FloatValue => new(ScalarField.Float, Float: v.FloatValue),
        ProtoDataSet.Types.DataSetValue.ValueOneofCase.DoubleValue => new(ScalarField.Double, Double: v.DoubleValue),
        ProtoDataSet.Types.DataSetValue.ValueOneofCase.BooleanValue => new(ScalarField.Boolean, Boolean: v.BooleanValue),
        ProtoDataSet.Types.DataSetValue.ValueOneofCase.StringValue => new(ScalarField.String, String: v.StringValue),
        ProtoDataSet.Types.DataSetValue.ValueOneofCase.None => new(ScalarField.None),
        _ => new(ScalarField.Other),
    };

    private static Scalar ToScalar(ProtoTemplate.Types.Parameter p) => p.ValueCase switch
    {
        ProtoTemplate.Types.Parameter.ValueOneofCase.IntValue => new(ScalarField.Int, Int: p.IntValue),
        ProtoTemplate.Types.Parameter.ValueOneofCase.LongValue => new(ScalarField.Long, Long: p.LongValue),
        ProtoTemplate.Types.Parameter.ValueOneofCase.FloatValue => new(ScalarField.Float, Float: p.FloatValue),
        ProtoTemplate.Types.Parameter.ValueOneofCase.DoubleValue => new(ScalarField.Double, Double: p.DoubleValue),
        ProtoTemplate.Types.Parameter.ValueOneofCase.BooleanValue => new(ScalarField.Boolean, Boolean: p.BooleanValue),
        ProtoTemplate.Types.Parameter.ValueOneofCase.StringValue => new(ScalarField.String, String: p.StringValue),
        ProtoTemplate.Types.Parameter.ValueOneofCase.None => new(ScalarField.None),
        _ => new(ScalarField.Other),
    };

    private static object? DecodeScalar(SparkplugDataType type, Scalar s, string where)
    {
        if (s.Field == ScalarField.None)
        {
            return null;
        }

        switch (type)
        {
            case SparkplugDataType.Int8:
                return (sbyte)SignedInteger(s, sbyte.MinValue, sbyte.MaxValue, byte.MaxValue, type, where);
            case SparkplugDataType.Int16:
                return (short)SignedInteger(s, short.MinValue, short.MaxValue, ushort.MaxValue, type, where);
            case SparkplugDataType.Int32:
                return (int)SignedInteger(s, int.MinValue, int.MaxValue, uint.MaxValue, type, where);
            case SparkplugDataType.Int64:
                return s.Field == ScalarField.Long ? unchecked((long)s.Long) : SignedInteger(s, long.MinValue, long.MaxValue, ulong.MaxValue, type, where);
            case SparkplugDataType.UInt8:
                return (byte)UnsignedInteger(s, byte.MaxValue, type, where);
            case SparkplugDataType.UInt16:
                return (ushort)UnsignedInteger(s, ushort.MaxValue, type, where);
            case SparkplugDataType.UInt32:
                return (uint)UnsignedInteger(s, uint.MaxValue, type, where);
            case SparkplugDataType.UInt64:
                return UnsignedInteger(s, ulong.MaxValue, type, where);
            case SparkplugDataType.DateTime:
                return ToDateTime(UnsignedInteger(s, ulong.MaxValue, type, where), where);
            case SparkplugDataType.Float:
                return s.Field == ScalarField.Float ? s.Float : Throw<object>($"{where}: Float in the {s.Field} field");
            case SparkplugDataType.Double:
                return s.Field == ScalarField.Double ? s.Double : Throw<object>($"{where}: Double in the {s.Field} field");
            case SparkplugDataType.Boolean:
                return s.Field == ScalarField.Boolean ? s.Boolean : Throw<object>($"{where}: Boolean in the {s.Field} field");
            case SparkplugDataType.String or SparkplugDataType.Text or SparkplugDataType.Uuid:
                return s.Field == ScalarField.String ? s.String : Throw<object>($"{where}: {type} in the {s.Field} field");
            default:
                return Throw<object>(string.Create(CultureInfo.InvariantCulture, $"{where}: datatype {(uint)type} ({type}) is not a scalar datatype known to Sparkplug B 3.0"));
        }
    }

    // Signed integer in int_value (two's complement, either sign-extended to 32 bits or only the type's own
    // width) or in long_value; out of range is an error, not a truncation.
    private static long SignedInteger(Scalar s, long min, long max, ulong unsignedMax, SparkplugDataType type, string where)
    {
        long value;
        if (s.Field == ScalarField.Int)
        {
            if (max < int.MaxValue && s.Int <= unsignedMax)
            {
                // The type's own width: 0xFF is Int8 -1.
                value = s.Int > (ulong)max ? (long)s.Int - (long)unsignedMax - 1 : s.Int;
            }
            else
            {
                value = unchecked((int)s.Int);
            }
        }
        else if (s.Field == ScalarField.Long)
        {
            value = unchecked((long)s.Long);
        }
        else
        {
            return Throw<long>($"{where}: {type} in the {s.Field} field");
        }

        return value < min || value > max
            ? Throw<long>(string.Create(CultureInfo.InvariantCulture, $"{where}: {type} value {value} is out of range"))
            : value;
    }

    private static ulong UnsignedInteger(Scalar s, ulong max, SparkplugDataType type, string where)
    {
        ulong value = s.Field switch
        {
            ScalarField.Int => s.Int,
            ScalarField.Long => s.Long,
            _ => Throw<ulong>($"{where}: {type} in the {s.Field} field"),
        };
        return value > max ? Throw<ulong>(string.Create(CultureInfo.InvariantCulture, $"{where}: {type} value {value} is out of range")) : value;
    }

    private static DateTimeOffset ToDateTime(ulong milliseconds, string where) =>
        milliseconds <= (ulong)DateTimeOffset.MaxValue.ToUnixTimeMilliseconds()
            ? DateTimeOffset.FromUnixTimeMilliseconds((long)milliseconds)
            : Throw<DateTimeOffset>(string.Create(CultureInfo.InvariantCulture, $"{where}: DateTime {milliseconds} ms is after year 9999"));

    private static SparkplugDataSet DecodeDataSet(ProtoDataSet ds, string where)
    {
        int columns = ds.Columns.Count;
        if (ds.Types_.Count != columns || (ds.HasNumOfColumns && ds.NumOfColumns != (ulong)columns))
        {
            Throw(string.Create(CultureInfo.InvariantCulture, $"{where}: DataSet with {ds.NumOfColumns} columns declared, {columns} names and {ds.Types_.Count} types"));
        }

        var types = new SparkplugDataType[columns];
        for (int c = 0; c < columns; c++)
        {
            types[c] = (SparkplugDataType)ds.Types_[c];
        }

        var rows = new IReadOnlyList<object?>[ds.Rows.Count];
        for (int r = 0; r < rows.Length; r++)
        {
            ProtoDataSet.Types.Row row = ds.Rows[r];
            if (row.Elements.Count != columns)
            {
                Throw(string.Create(CultureInfo.InvariantCulture, $"{where}: DataSet row {r} has {row.Elements.Count} elements for {columns} columns"));
            }

            var cells = new object?[columns];
            for (int c = 0; c < columns; c++)
            {
                cells[c] = DecodeScalar(types[c], ToScalar(row.Elements[c]), string.Create(CultureInfo.InvariantCulture, $"{where} DataSet row {r} column '{Escape(ds.Columns[c])}'"));
            }

            rows[r] = cells;
        }

        return new SparkplugDataSet { Columns = [.. ds.Columns], Types = types, Rows = rows };
    }

    private static SparkplugTemplate DecodeTemplate(ProtoTemplate t, string where, int depth)
    {
        if (depth > MaxTemplateDepth)
        {
            Throw($"{where}: Template nested deeper than {MaxTemplateDepth} (MaxTemplateDepth)");
        }

        var metrics = new SparkplugMetric[t.Metrics.Count];
        for (int i = 0; i < metrics.Length; i++)
        {
            metrics[i] = DecodeMetric(t.Metrics[i], i, depth);
        }

        var parameters = new SparkplugTemplateParameter[t.Parameters.Count];
        for (int i = 0; i < parameters.Length; i++)
        {
            ProtoTemplate.Types.Parameter p = t.Parameters[i];
            var type = (SparkplugDataType)p.Type;
            parameters[i] = new SparkplugTemplateParameter(
                p.Name,
                type,
                DecodeScalar(type, ToScalar(p), string.Create(CultureInfo.InvariantCulture, $"{where} template parameter '{Escape(p.Name)}'")));
        }

        return new SparkplugTemplate
        {
            Version = t.HasVersion ? t.Version : null,
            TemplateRef = t.HasTemplateRef ? t.TemplateRef : null,
            IsDefinition = t.HasIsDefinition && t.IsDefinition,
            Metrics = metrics,
            Parameters = parameters,
        };
    }

    private static object DecodeArray(SparkplugDataType type, ReadOnlySpan<byte> bytes, string where)
    {
        switch (type)
        {
            case SparkplugDataType.Int8Array:
                return Fixed(bytes, 1, b => (sbyte)b[0]);
            case SparkplugDataType.UInt8Array:
                return bytes.ToArray();
            case SparkplugDataType.Int16Array:
                return Fixed(bytes, 2, BinaryPrimitives.ReadInt16LittleEndian);
            case SparkplugDataType.UInt16Array:
                return Fixed(bytes, 2, BinaryPrimitives.ReadUInt16LittleEndian);
            case SparkplugDataType.Int32Array:
                return Fixed(bytes, 4, BinaryPrimitives.ReadInt32LittleEndian);
            case SparkplugDataType.UInt32Array:
                return Fixed(bytes, 4, BinaryPrimitives.ReadUInt32LittleEndian);
            case SparkplugDataType.Int64Array:
                return Fixed(bytes, 8, BinaryPrimitives.ReadInt64LittleEndian);
            case SparkplugDataType.UInt64Array:
                return Fixed(bytes, 8, BinaryPrimitives.ReadUInt64LittleEndian);
            case SparkplugDataType.FloatArray:
                return Fixed(bytes, 4, BinaryPrimitives.ReadSingleLittleEndian);
            case SparkplugDataType.DoubleArray:
                return Fixed(bytes, 8, BinaryPrimitives.ReadDoubleLittleEndian);
            case SparkplugDataType.DateTimeArray:
                long[] ms = Fixed(bytes, 8, BinaryPrimitives.ReadInt64LittleEndian);
                return Array.ConvertAll(ms, v => v >= 0 ? ToDateTime((ulong)v, where) : Throw<DateTimeOffset>($"{where}: DateTimeArray element before 1970"));
            case SparkplugDataType.BooleanArray:
                if (bytes.Length < 4)
                {
                    Throw($"{where}: BooleanArray shorter than its 4-byte count");
                }

                uint count = BinaryPrimitives.ReadUInt32LittleEndian(bytes);
                if ((ulong)bytes.Length - 4 != (count + 7UL) / 8)
                {
                    Throw(string.Create(CultureInfo.InvariantCulture, $"{where}: BooleanArray of {count} values in {bytes.Length - 4} bytes"));
                }

                var booleans = new bool[count];
                for (int i = 0; i < booleans.Length; i++)
                {
                    booleans[i] = (bytes[4 + (i / 8)] & (0x80 >> (i % 8))) != 0;
                }

                return booleans;
            case SparkplugDataType.StringArray:
                var strings = new List<string>();
                while (!bytes.IsEmpty)
                {
                    int end = bytes.IndexOf((byte)0);
                    if (end < 0)
                    {
                        Throw($"{where}: StringArray element without its NUL terminator");
                    }

                    strings.Add(Encoding.UTF8.GetString(bytes[..end]));
                    bytes = bytes[(end + 1)..];
                }

                return strings.ToArray();
            default:
                return Throw<object>($"{where}: {type} is not an array datatype");
        }

        T[] Fixed<T>(ReadOnlySpan<byte> data, int size, ReadSpan<T> read)
        {
            if (data.Length % size != 0)
            {
                Throw(string.Create(CultureInfo.InvariantCulture, $"{where}: {type} of {data.Length} bytes is not a whole number of {size}-byte elements"));
            }

            var values = new T[data.Length / size];
            for (int i = 0; i < values.Length; i++)
            {
                values[i] = read(data.Slice(i * size, size));
            }

            return values;
        }
    }

    private delegate T ReadSpan<T>(ReadOnlySpan<byte> span);

    private static ProtoMetric EncodeMetric(SparkplugMetric metric)
    {
        var m = new ProtoMetric();
        if (metric.Name is { } name)
        {
            m.Name = name;
        }

        if (metric.Alias is { } alias)
        {
            m.Alias = alias;
        }

        if (metric.Timestamp is { } timestamp)
        {
            m.Timestamp = timestamp;
        }

        if (metric.DataType is { } type)
        {
            m.Datatype = (uint)type;
        }

        if (metric.IsHistorical)
        {
            m.IsHistorical = true;
        }

        if (metric.IsTransient)
        {
            m.IsTransient = true;
        }

        if (metric.IsNull)
        {
            m.IsNull = true;
        }

        if (metric.MetaData is { } md)
        {
            m.Metadata = EncodeMetaData(md);
        }

        if (metric.Properties is { } properties)
        {
            m.Properties = EncodePropertySet(properties);
        }

        if (metric.Value is null || metric.IsNull)
        {
            return m;
        }

        SparkplugDataType dataType = metric.DataType ?? throw new ArgumentException($"Metric '{metric.Name}' has a value but no datatype.", nameof(metric));
        switch (dataType)
        {
            case SparkplugDataType.DataSet:
                m.DatasetValue = EncodeDataSet((SparkplugDataSet)metric.Value);
                break;
            case SparkplugDataType.Template:
                m.TemplateValue = EncodeTemplate((SparkplugTemplate)metric.Value);
                break;
            case SparkplugDataType.Bytes or SparkplugDataType.File:
                m.BytesValue = ByteString.CopyFrom((byte[])metric.Value);
                break;
            case >= SparkplugDataType.Int8Array and <= SparkplugDataType.DateTimeArray:
                m.BytesValue = ByteString.CopyFrom(EncodeArray(dataType, metric.Value));
                break;
            default:
                Scalar s = EncodeScalar(dataType, metric.Value);
                Assign(m, s);

                break;
        }

        return m;
    }

    private static Payload.Types.MetaData EncodeMetaData(SparkplugMetaData md)
    {
        var p = new Payload.Types.MetaData();
        if (md.IsMultiPart is { } multi)
        {
            p.IsMultiPart = multi;
        }

        if (md.ContentType is { } contentType)
        {
            p.ContentType = contentType;
        }

        if (md.Size is { } size)
        {
            p.Size = size;
        }

        if (md.Seq is { } seq)
        {
            p.Seq = seq;
        }

        if (md.FileName is { } fileName)
        {
            p.FileName = fileName;
        }

        if (md.FileType is { } fileType)
        {
            p.FileType = fileType;
        }

        if (md.Md5 is { } md5)
        {
            p.Md5 = md5;
        }

        if (md.Description is { } description)
        {
            p.Description = description;
        }

        return p;
    }

    // The specification's field for each scalar datatype; signed 8/16/32-bit values sign-extended to 32 bits.
    private static Scalar EncodeScalar(SparkplugDataType type, object value) => type switch
    {
        SparkplugDataType.Int8 => new(ScalarField.Int, Int: unchecked((uint)(int)(sbyte)value)),
        SparkplugDataType.Int16 => new(ScalarField.Int, Int: unchecked((uint)(int)(short)value)),
        SparkplugDataType.Int32 => new(ScalarField.Int, Int: unchecked((uint)(int)value)),
        SparkplugDataType.UInt8 => new(ScalarField.Int, Int: (byte)value),
        SparkplugDataType.UInt16 => new(ScalarField.Int, Int: (ushort)value),
        SparkplugDataType.Int64 => new(ScalarField.Long, Long: unchecked((ulong)(long)value)),
        SparkplugDataType.UInt32 => new(ScalarField.Long, Long: (uint)value),
        SparkplugDataType.UInt64 => new(ScalarField.Long, Long: (ulong)value),
        SparkplugDataType.DateTime => new(ScalarField.Long, Long: (ulong)((DateTimeOffset)value).ToUnixTimeMilliseconds()),
        SparkplugDataType.Float => new(ScalarField.Float, Float: (float)value),
        SparkplugDataType.Double => new(ScalarField.Double, Double: (double)value),
        SparkplugDataType.Boolean => new(ScalarField.Boolean, Boolean: (bool)value),
        SparkplugDataType.String or SparkplugDataType.Text or SparkplugDataType.Uuid => new(ScalarField.String, String: (string)value),
        _ => throw new ArgumentException($"{type} is not a scalar datatype.", nameof(type)),
    };

    private static ProtoDataSet EncodeDataSet(SparkplugDataSet dataSet)
    {
        var ds = new ProtoDataSet { NumOfColumns = (ulong)dataSet.Columns.Count };
        ds.Columns.AddRange(dataSet.Columns);
        ds.Types_.AddRange(dataSet.Types.Select(t => (uint)t));
        foreach (IReadOnlyList<object?> row in dataSet.Rows)
        {
            var r = new ProtoDataSet.Types.Row();
            for (int c = 0; c < row.Count; c++)
            {
                var v = new ProtoDataSet.Types.DataSetValue();
                if (row[c] is { } cell)
                {
                    Scalar s = EncodeScalar(dataSet.Types[c], cell);
                    Assign(v, s);
                }

                r.Elements.Add(v);
            }

            ds.Rows.Add(r);
        }

        return ds;
    }

    private static ProtoTemplate EncodeTemplate(SparkplugTemplate template)
    {
        var t = new ProtoTemplate();
        if (template.Version is { } version)
        {
            t.Version = version;
        }

        if (template.TemplateRef is { } templateRef)
        {
            t.TemplateRef = templateRef;
        }

        t.IsDefinition = template.IsDefinition;
        foreach (SparkplugMetric metric in template.Metrics)
        {
            t.Metrics.Add(EncodeMetric(metric));
        }

        foreach (SparkplugTemplateParameter parameter in template.Parameters)
        {
            var p = new ProtoTemplate.Types.Parameter { Name = parameter.Name, Type = (uint)parameter.Type };
            if (parameter.Value is { } value)
            {
                Scalar s = EncodeScalar(parameter.Type, value);
                Assign(p, s);
            }

            t.Parameters.Add(p);
        }

        return t;
    }

    private static byte[] EncodeArray(SparkplugDataType type, object value)
    {
        switch (type)
        {
            case SparkplugDataType.Int8Array:
                return Array.ConvertAll((sbyte[])value, v => unchecked((byte)v));
            case SparkplugDataType.UInt8Array:
                return [.. (byte[])value];
            case SparkplugDataType.Int16Array:
                return Fixed((short[])value, 2, (s, v) => BinaryPrimitives.WriteInt16LittleEndian(s, v));
            case SparkplugDataType.UInt16Array:
                return Fixed((ushort[])value, 2, (s, v) => BinaryPrimitives.WriteUInt16LittleEndian(s, v));
            case SparkplugDataType.Int32Array:
                return Fixed((int[])value, 4, (s, v) => BinaryPrimitives.WriteInt32LittleEndian(s, v));
            case SparkplugDataType.UInt32Array:
                return Fixed((uint[])value, 4, (s, v) => BinaryPrimitives.WriteUInt32LittleEndian(s, v));
            case SparkplugDataType.Int64Array:
                return Fixed((long[])value, 8, (s, v) => BinaryPrimitives.WriteInt64LittleEndian(s, v));
            case SparkplugDataType.UInt64Array:
                return Fixed((ulong[])value, 8, (s, v) => BinaryPrimitives.WriteUInt64LittleEndian(s, v));
            case SparkplugDataType.FloatArray:
                return Fixed((float[])value, 4, (s, v) => BinaryPrimitives.WriteSingleLittleEndian(s, v));
            case SparkplugDataType.DoubleArray:
                return Fixed((double[])value, 8, (s, v) => BinaryPrimitives.WriteDoubleLittleEndian(s, v));
            case SparkplugDataType.DateTimeArray:
                return Fixed((DateTimeOffset[])value, 8, (s, v) => BinaryPrimitives.WriteInt64LittleEndian(s, v.ToUnixTimeMilliseconds()));
            case SparkplugDataType.BooleanArray:
                var booleans = (bool[])value;
                byte[] packed = new byte[4 + ((booleans.Length + 7) / 8)];
                BinaryPrimitives.WriteUInt32LittleEndian(packed, (uint)booleans.Length);
                for (int i = 0; i < booleans.Length; i++)
                {
                    if (booleans[i])
                    {
                        packed[4 + (i / 8)] |= (byte)(0x80 >> (i % 8));
                    }
                }

                return packed;
            case SparkplugDataType.StringArray:
                var buffer = new ArrayBufferWriter<byte>();
                foreach (string s in (string[])value)
                {
                    if (s.Contains('\0', StringComparison.Ordinal))
                    {
                        throw new ArgumentException("A StringArray element contains U+0000, its terminator.", nameof(value));
                    }

                    Encoding.UTF8.GetBytes(s, buffer);
                    buffer.Write([(byte)0]);
                }

                return buffer.WrittenSpan.ToArray();
            default:
                throw new ArgumentException($"{type} is not an array datatype.", nameof(type));
        }

        static byte[] Fixed<T>(T[] values, int size, WriteSpan<T> write)
        {
            byte[] bytes = new byte[values.Length * size];
            for (int i = 0; i < values.Length; i++)
            {
                write(bytes.AsSpan(i * size, size), values[i]);
            }

            return bytes;
        }
    }

    private delegate void WriteSpan<T>(Span<byte> span, T value);

    [DoesNotReturn]
    private static void Throw(string reason) => throw new SparkplugPayloadException(reason);

    [DoesNotReturn]
    private static T Throw<T>(string reason) => throw new SparkplugPayloadException(reason);
}
