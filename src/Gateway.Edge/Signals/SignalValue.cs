using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using FactoryGateway.Telemetry.LineProtocol;

namespace FactoryGateway.Edge.Signals;

/// <summary>
/// One signal value: a float, integer, unsigned, string or boolean, as the line protocol writes it.
/// Numbers are held without boxing; only a string value holds a reference.
/// </summary>
[SuppressMessage("Naming", "CA1720:Identifier contains type name", Justification = "The line protocol's own names for its value types.")]
public readonly struct SignalValue : IEquatable<SignalValue>
{
    private readonly long _bits;
    private readonly string? _text;

    private SignalValue(FieldKind kind, long bits, string? text)
    {
        Kind = kind;
        _bits = bits;
        _text = text;
    }

    /// <summary>The line-protocol type the value is written as.</summary>
    public FieldKind Kind { get; }

    public static SignalValue Float(double value) => new(FieldKind.Float, BitConverter.DoubleToInt64Bits(value), null);

    public static SignalValue Integer(long value) => new(FieldKind.Integer, value, null);

    public static SignalValue Unsigned(ulong value) => new(FieldKind.UnsignedInteger, unchecked((long)value), null);

    public static SignalValue String(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return new(FieldKind.String, 0, value);
    }

    public static SignalValue Boolean(bool value) => new(FieldKind.Boolean, value ? 1 : 0, null);

    public double AsFloat => Kind == FieldKind.Float ? BitConverter.Int64BitsToDouble(_bits) : throw WrongKind(FieldKind.Float);

    public long AsInteger => Kind == FieldKind.Integer ? _bits : throw WrongKind(FieldKind.Integer);

    public ulong AsUnsigned => Kind == FieldKind.UnsignedInteger ? unchecked((ulong)_bits) : throw WrongKind(FieldKind.UnsignedInteger);

    public string AsString => Kind == FieldKind.String ? _text! : throw WrongKind(FieldKind.String);

    public bool AsBoolean => Kind == FieldKind.Boolean ? _bits != 0 : throw WrongKind(FieldKind.Boolean);

    /// <summary>The value as a double when it is a number or a boolean (1/0); null for a string.</summary>
    public double? AsNumber => Kind switch
    {
        FieldKind.Float => BitConverter.Int64BitsToDouble(_bits),
        FieldKind.Integer => _bits,
        FieldKind.UnsignedInteger => unchecked((ulong)_bits),
        FieldKind.Boolean => _bits,
        _ => null,
    };

    /// <summary>Same kind and the same value (floats bit for bit, so NaN equals NaN and 0.0 differs from -0.0).</summary>
    public bool Equals(SignalValue other) => Kind == other.Kind && _bits == other._bits && string.Equals(_text, other._text, StringComparison.Ordinal);

    public override bool Equals(object? obj) => obj is SignalValue other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(Kind, _bits, _text);

    public static bool operator ==(SignalValue left, SignalValue right) => left.Equals(right);

    public static bool operator !=(SignalValue left, SignalValue right) => !left.Equals(right);

    public override string ToString() => Kind switch
    {
        FieldKind.Float => AsFloat.ToString("R", CultureInfo.InvariantCulture),
        FieldKind.Integer => _bits.ToString(CultureInfo.InvariantCulture) + "i",
        FieldKind.UnsignedInteger => unchecked((ulong)_bits).ToString(CultureInfo.InvariantCulture) + "u",
        FieldKind.Boolean => _bits != 0 ? "true" : "false",
        _ => $"\"{_text}\"",
    };

    private InvalidOperationException WrongKind(FieldKind wanted) => new($"the value is a {Kind}, not a {wanted}.");
}
