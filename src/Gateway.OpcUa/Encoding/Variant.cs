using System.Collections;
using System.Globalization;
using System.Runtime.CompilerServices;

namespace FactoryGateway.OpcUa.Encoding;

/// <summary>
/// A value of any built-in type: a scalar, a one-dimensional array or a matrix (an array with
/// <see cref="ArrayDimensions"/>, OPC 10000-6 §5.2.2.16). Numeric scalars, Boolean, DateTime and
/// StatusCode are held inline, so decoding them allocates nothing. Arrays are typed .NET arrays
/// (<c>int[]</c>, <c>string?[]</c>, <c>Variant[]</c>…, ByteString elements as <c>ReadOnlyMemory&lt;byte&gt;</c>),
/// stored in row-major order for matrices.
/// </summary>
public readonly struct Variant : IEquatable<Variant>
{
    private readonly object? _object;
    private readonly long _bits;
    private readonly int[]? _dimensions;

    private Variant(BuiltInType type, long bits, object? obj, bool isArray, int[]? dimensions)
    {
        Type = type;
        _bits = bits;
        _object = obj;
        IsArray = isArray;
        _dimensions = dimensions;
    }

    public static Variant Null => default;

    public BuiltInType Type { get; }

    public bool IsArray { get; }

    public bool IsNull => Type == BuiltInType.Null;

    /// <summary>The dimensions of a matrix (null for scalars and one-dimensional arrays).</summary>
    public IReadOnlyList<int>? ArrayDimensions => _dimensions;

    internal int[]? Dimensions => _dimensions;

    internal long Bits => _bits;

    internal object? Object => _object;

    public Variant(bool value) : this(BuiltInType.Boolean, value ? 1 : 0, null, false, null) { }

    public Variant(sbyte value) : this(BuiltInType.SByte, value, null, false, null) { }

    public Variant(byte value) : this(BuiltInType.Byte, value, null, false, null) { }

    public Variant(short value) : this(BuiltInType.Int16, value, null, false, null) { }

    public Variant(ushort value) : this(BuiltInType.UInt16, value, null, false, null) { }

    public Variant(int value) : this(BuiltInType.Int32, value, null, false, null) { }

    public Variant(uint value) : this(BuiltInType.UInt32, value, null, false, null) { }

    public Variant(long value) : this(BuiltInType.Int64, value, null, false, null) { }

    public Variant(ulong value) : this(BuiltInType.UInt64, unchecked((long)value), null, false, null) { }

    public Variant(float value) : this(BuiltInType.Float, BitConverter.SingleToInt32Bits(value), null, false, null) { }

    public Variant(double value) : this(BuiltInType.Double, BitConverter.DoubleToInt64Bits(value), null, false, null) { }

    public Variant(DateTime value) : this(BuiltInType.DateTime, DateTime.SpecifyKind(value, DateTimeKind.Utc).Ticks, null, false, null) { }

    public Variant(StatusCode value) : this(BuiltInType.StatusCode, value.Code, null, false, null) { }

    public Variant(string? value) : this(value is null ? BuiltInType.Null : BuiltInType.String, 0, value, false, null) { }

    public Variant(Guid value) : this(BuiltInType.Guid, 0, value, false, null) { }

    public Variant(ReadOnlyMemory<byte> byteString) : this(BuiltInType.ByteString, 0, byteString, false, null) { }

    public Variant(NodeId value) : this(BuiltInType.NodeId, 0, value ?? throw new ArgumentNullException(nameof(value)), false, null) { }

    public Variant(ExpandedNodeId value) : this(BuiltInType.ExpandedNodeId, 0, value ?? throw new ArgumentNullException(nameof(value)), false, null) { }

    public Variant(QualifiedName value) : this(BuiltInType.QualifiedName, 0, value ?? throw new ArgumentNullException(nameof(value)), false, null) { }

    public Variant(LocalizedText value) : this(BuiltInType.LocalizedText, 0, value ?? throw new ArgumentNullException(nameof(value)), false, null) { }

    public Variant(ExtensionObject value) : this(BuiltInType.ExtensionObject, 0, value ?? throw new ArgumentNullException(nameof(value)), false, null) { }

    public Variant(DataValue value) : this(BuiltInType.DataValue, 0, value ?? throw new ArgumentNullException(nameof(value)), false, null) { }

    public Variant(DiagnosticInfo value) : this(BuiltInType.DiagnosticInfo, 0, value ?? throw new ArgumentNullException(nameof(value)), false, null) { }

    /// <summary>An XmlElement scalar (OPC 10000-6 §5.1.2: UTF-8 text of an XML element).</summary>
    public static Variant FromXmlElement(string? xml) => new(BuiltInType.XmlElement, 0, xml, false, null);

    /// <summary>
    /// An array (or, with <paramref name="dimensions"/>, a matrix in row-major order) of
    /// <paramref name="elementType"/>. The .NET array type must match the element type (see the type remarks).
    /// </summary>
    public static Variant FromArray(BuiltInType elementType, Array array, int[]? dimensions = null)
    {
        ArgumentNullException.ThrowIfNull(array);
        if (elementType is BuiltInType.Null || ElementType(elementType) != array.GetType().GetElementType())
        {
            throw new ArgumentException($"a {elementType} array must be a {ElementType(elementType)?.Name}[], not {array.GetType().Name}.", nameof(array));
        }

        if (dimensions is not null)
        {
            long product = 1;
            foreach (int d in dimensions)
            {
                ArgumentOutOfRangeException.ThrowIfNegative(d, nameof(dimensions));
                product *= d;
            }

            if (dimensions.Length < 2 || product != array.Length)
            {
                throw new ArgumentException($"matrix dimensions [{string.Join(',', dimensions)}] do not match an array of {array.Length}.", nameof(dimensions));
            }
        }

        return new Variant(elementType, 0, array, true, dimensions);
    }

    internal static Variant FromDecodedArray(BuiltInType elementType, Array array, int[]? dimensions) => new(elementType, 0, array, true, dimensions);

    internal static Variant FromDecodedScalar(BuiltInType type, long bits, object? obj) => new(type, bits, obj, false, null);

    /// <summary>The .NET element type used for arrays of a built-in type.</summary>
    public static Type? ElementType(BuiltInType type) => type switch
    {
        BuiltInType.Boolean => typeof(bool),
        BuiltInType.SByte => typeof(sbyte),
        BuiltInType.Byte => typeof(byte),
        BuiltInType.Int16 => typeof(short),
        BuiltInType.UInt16 => typeof(ushort),
        BuiltInType.Int32 => typeof(int),
        BuiltInType.UInt32 => typeof(uint),
        BuiltInType.Int64 => typeof(long),
        BuiltInType.UInt64 => typeof(ulong),
        BuiltInType.Float => typeof(float),
        BuiltInType.Double => typeof(double),
        BuiltInType.String or BuiltInType.XmlElement => typeof(string),
        BuiltInType.DateTime => typeof(DateTime),
        BuiltInType.Guid => typeof(Guid),
        BuiltInType.ByteString => typeof(ReadOnlyMemory<byte>),
        BuiltInType.NodeId => typeof(NodeId),
        BuiltInType.ExpandedNodeId => typeof(ExpandedNodeId),
        BuiltInType.StatusCode => typeof(StatusCode),
        BuiltInType.QualifiedName => typeof(QualifiedName),
        BuiltInType.LocalizedText => typeof(LocalizedText),
        BuiltInType.ExtensionObject => typeof(ExtensionObject),
        BuiltInType.DataValue => typeof(DataValue),
        BuiltInType.Variant => typeof(Variant),
        BuiltInType.DiagnosticInfo => typeof(DiagnosticInfo),
        _ => null,
    };

    /// <summary>The value boxed: a scalar of the matching .NET type, or the typed array. Allocates for inline scalars.</summary>
    public object? Value
    {
        get
        {
            if (IsArray)
            {
                return _object;
            }

            return Type switch
            {
                BuiltInType.Null => null,
                BuiltInType.Boolean => _bits != 0,
                BuiltInType.SByte => (sbyte)_bits,
                BuiltInType.Byte => (byte)_bits,
                BuiltInType.Int16 => (short)_bits,
                BuiltInType.UInt16 => (ushort)_bits,
                BuiltInType.Int32 => (int)_bits,
                BuiltInType.UInt32 => (uint)_bits,
                BuiltInType.Int64 => _bits,
                BuiltInType.UInt64 => unchecked((ulong)_bits),
                BuiltInType.Float => BitConverter.Int32BitsToSingle((int)_bits),
                BuiltInType.Double => BitConverter.Int64BitsToDouble(_bits),
                BuiltInType.DateTime => new DateTime(_bits, DateTimeKind.Utc),
                BuiltInType.StatusCode => new StatusCode(unchecked((uint)_bits)),
                _ => _object,
            };
        }
    }

    /// <summary>
    /// A numeric scalar (any integer or floating type, or Boolean as 0/1) as a double, without boxing.
    /// False for non-numeric values and arrays.
    /// </summary>
    public bool TryGetDouble(out double value)
    {
        value = 0;
        if (IsArray)
        {
            return false;
        }

        switch (Type)
        {
            case BuiltInType.Boolean:
            case BuiltInType.SByte:
            case BuiltInType.Byte:
            case BuiltInType.Int16:
            case BuiltInType.UInt16:
            case BuiltInType.Int32:
            case BuiltInType.UInt32:
            case BuiltInType.Int64:
                value = _bits;
                return true;
            case BuiltInType.UInt64:
                value = unchecked((ulong)_bits);
                return true;
            case BuiltInType.Float:
                value = BitConverter.Int32BitsToSingle((int)_bits);
                return true;
            case BuiltInType.Double:
                value = BitConverter.Int64BitsToDouble(_bits);
                return true;
            default:
                return false;
        }
    }

    /// <summary>An integer scalar (signed, or unsigned up to Int64.MaxValue) without boxing.</summary>
    public bool TryGetInt64(out long value)
    {
        value = 0;
        if (IsArray)
        {
            return false;
        }

        switch (Type)
        {
            case BuiltInType.SByte:
            case BuiltInType.Byte:
            case BuiltInType.Int16:
            case BuiltInType.UInt16:
            case BuiltInType.Int32:
            case BuiltInType.UInt32:
            case BuiltInType.Int64:
                value = _bits;
                return true;
            case BuiltInType.UInt64 when _bits >= 0:
                value = _bits;
                return true;
            default:
                return false;
        }
    }

    public static implicit operator Variant(bool value) => new(value);

    public static implicit operator Variant(int value) => new(value);

    public static implicit operator Variant(long value) => new(value);

    public static implicit operator Variant(double value) => new(value);

    public static implicit operator Variant(string? value) => new(value);

    public bool Equals(Variant other)
    {
        if (Type != other.Type || IsArray != other.IsArray || !DimensionsEqual(_dimensions, other._dimensions))
        {
            return false;
        }

        if (IsArray)
        {
            var a = (Array)_object!;
            var b = (Array)other._object!;
            if (a.Length != b.Length)
            {
                return false;
            }

            for (int i = 0; i < a.Length; i++)
            {
                if (!ElementEquals(a.GetValue(i), b.GetValue(i)))
                {
                    return false;
                }
            }

            return true;
        }

        return _bits == other._bits && ElementEquals(_object, other._object);
    }

    private static bool DimensionsEqual(int[]? a, int[]? b) =>
        a is null ? b is null : b is not null && a.AsSpan().SequenceEqual(b);

    private static bool ElementEquals(object? a, object? b) => (a, b) switch
    {
        (ReadOnlyMemory<byte> x, ReadOnlyMemory<byte> y) => x.Span.SequenceEqual(y.Span),
        (double x, double y) => BitConverter.DoubleToInt64Bits(x) == BitConverter.DoubleToInt64Bits(y),
        (float x, float y) => BitConverter.SingleToInt32Bits(x) == BitConverter.SingleToInt32Bits(y),
        (ExtensionObject x, ExtensionObject y) => x.TypeId.Equals(y.TypeId) && x.Encoding == y.Encoding && x.Body.Span.SequenceEqual(y.Body.Span),
        _ => Equals(a, b),
    };

    public override bool Equals(object? obj) => obj is Variant other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(Type, IsArray, _bits, _object is IStructuralEquatable || _object is null ? 0 : RuntimeHelpers.GetHashCode(_object));

    public static bool operator ==(Variant left, Variant right) => left.Equals(right);

    public static bool operator !=(Variant left, Variant right) => !left.Equals(right);

    public override string ToString()
    {
        if (IsArray)
        {
            var array = (Array)_object!;
            return string.Create(CultureInfo.InvariantCulture, $"{Type}[{(_dimensions is null ? array.Length.ToString(CultureInfo.InvariantCulture) : string.Join('x', _dimensions))}]");
        }

        return Value switch
        {
            null => "null",
            IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
            object o => o.ToString() ?? string.Empty,
        };
    }
}
