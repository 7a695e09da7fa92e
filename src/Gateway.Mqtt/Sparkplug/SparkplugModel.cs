using System.Diagnostics.CodeAnalysis;

namespace FactoryGateway.Mqtt.Sparkplug;

/// <summary>Sparkplug B datatypes (specification 3.0, §6.4.16); the numbers are the wire values.</summary>
[SuppressMessage("Naming", "CA1720:Identifier contains type name", Justification = "The specification's datatype names, as they appear in every Sparkplug tool.")]
public enum SparkplugDataType : uint
{
    Unknown = 0,
    Int8 = 1,
    Int16 = 2,
    Int32 = 3,
    Int64 = 4,
    UInt8 = 5,
    UInt16 = 6,
    UInt32 = 7,
    UInt64 = 8,
    Float = 9,
    Double = 10,
    Boolean = 11,
    String = 12,
    DateTime = 13,
    Text = 14,
    Uuid = 15,
    DataSet = 16,
    Bytes = 17,
    File = 18,
    Template = 19,
    PropertySet = 20,
    PropertySetList = 21,
    Int8Array = 22,
    Int16Array = 23,
    Int32Array = 24,
    Int64Array = 25,
    UInt8Array = 26,
    UInt16Array = 27,
    UInt32Array = 28,
    UInt64Array = 29,
    FloatArray = 30,
    DoubleArray = 31,
    BooleanArray = 32,
    StringArray = 33,
    DateTimeArray = 34,
}

/// <summary>
/// A decoded Sparkplug B payload. Timestamps are the wire's milliseconds since the Unix epoch, kept as
/// they came so a payload round-trips exactly.
/// </summary>
public sealed record SparkplugPayload
{
    public ulong? Timestamp { get; init; }

    public ulong? Seq { get; init; }

    public string? Uuid { get; init; }

    public byte[]? Body { get; init; }

    public IReadOnlyList<SparkplugMetric> Metrics { get; init; } = [];
}

/// <summary>
/// One metric. <see cref="Value"/> holds the CLR type of <see cref="DataType"/>, with nothing widened or
/// narrowed: Int8 <see cref="sbyte"/>, Int16 <see cref="short"/>, Int32 <see cref="int"/>, Int64
/// <see cref="long"/>, UInt8 <see cref="byte"/>, UInt16 <see cref="ushort"/>, UInt32 <see cref="uint"/>,
/// UInt64 <see cref="ulong"/>, Float <see cref="float"/>, Double <see cref="double"/>, Boolean
/// <see cref="bool"/>, String/Text/UUID <see cref="string"/>, DateTime <see cref="DateTimeOffset"/>
/// (UTC, millisecond), Bytes/File <see cref="byte"/>[], DataSet <see cref="SparkplugDataSet"/>, Template
/// <see cref="SparkplugTemplate"/>, arrays the matching CLR arrays (DateTimeArray
/// <see cref="DateTimeOffset"/>[]). Null when <see cref="IsNull"/> or when a definition carries no value.
/// </summary>
public sealed record SparkplugMetric
{
    public string? Name { get; init; }

    public ulong? Alias { get; init; }

    public ulong? Timestamp { get; init; }

    /// <summary>Null when the message left it out (a DATA message that names the metric by alias).</summary>
    public SparkplugDataType? DataType { get; init; }

    public bool IsHistorical { get; init; }

    public bool IsTransient { get; init; }

    public bool IsNull { get; init; }

    public object? Value { get; init; }

    /// <summary>Metadata (file name, content type, size, …), mostly used with Bytes and File.</summary>
    public SparkplugMetaData? MetaData { get; init; }

    /// <summary>The metric's property set (engineering units, <c>Quality</c>, …) in wire order; null when it has none.</summary>
    public IReadOnlyDictionary<string, SparkplugPropertyValue>? Properties { get; init; }
}

/// <summary>
/// A property value: a scalar of <see cref="Type"/> (CLR types as for <see cref="SparkplugMetric.Value"/>),
/// a nested property set (<see cref="SparkplugDataType.PropertySet"/>: an
/// <see cref="IReadOnlyDictionary{TKey, TValue}"/> of string → <see cref="SparkplugPropertyValue"/>) or a list of
/// them (<see cref="SparkplugDataType.PropertySetList"/>).
/// </summary>
public sealed record SparkplugPropertyValue(SparkplugDataType Type, object? Value, bool IsNull = false);

public sealed record SparkplugMetaData
{
    public bool? IsMultiPart { get; init; }

    public string? ContentType { get; init; }

    public ulong? Size { get; init; }

    public ulong? Seq { get; init; }

    public string? FileName { get; init; }

    public string? FileType { get; init; }

    public string? Md5 { get; init; }

    public string? Description { get; init; }
}

/// <summary>A DataSet value: typed columns and rows; each cell holds its column's CLR type (or null).</summary>
public sealed record SparkplugDataSet
{
    public required IReadOnlyList<string> Columns { get; init; }

    public required IReadOnlyList<SparkplugDataType> Types { get; init; }

    public required IReadOnlyList<IReadOnlyList<object?>> Rows { get; init; }
}

/// <summary>A Template value: a definition (<see cref="IsDefinition"/>) or an instance of <see cref="TemplateRef"/>.</summary>
public sealed record SparkplugTemplate
{
    public string? Version { get; init; }

    public string? TemplateRef { get; init; }

    public bool IsDefinition { get; init; }

    public IReadOnlyList<SparkplugMetric> Metrics { get; init; } = [];

    public IReadOnlyList<SparkplugTemplateParameter> Parameters { get; init; } = [];
}

/// <summary>A template parameter; <see cref="Value"/> holds the CLR type of <see cref="Type"/> (scalars only).</summary>
public sealed record SparkplugTemplateParameter(string Name, SparkplugDataType Type, object? Value);
