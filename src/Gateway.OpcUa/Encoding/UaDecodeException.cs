using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Runtime.CompilerServices;

namespace FactoryGateway.OpcUa.Encoding;

/// <summary>
/// Malformed or over-limit OPC UA binary input. <see cref="Exception.Message"/> reads
/// <c>position 17, field 'ReadResponse.Results': array length 70000 exceeds MaxArrayLength 65535</c>:
/// the byte offset within the message body, the field being decoded, and the reason (naming the
/// limit when a limit was exceeded).
/// </summary>
public sealed class UaDecodeException : FormatException
{
    public UaDecodeException(int position, string field, string reason)
        : base(string.Create(CultureInfo.InvariantCulture, $"position {position}, field '{field}': {reason}"))
    {
        Position = position;
        Field = field;
        Reason = reason;
    }

    public UaDecodeException()
    {
        Field = string.Empty;
        Reason = string.Empty;
    }

    public UaDecodeException(string message)
        : base(message)
    {
        Field = string.Empty;
        Reason = message;
    }

    public UaDecodeException(string message, Exception innerException)
        : base(message, innerException)
    {
        Field = string.Empty;
        Reason = message;
    }

    /// <summary>Byte offset, within the decoded buffer, where the faulty field starts.</summary>
    public int Position { get; }

    /// <summary>The field being decoded.</summary>
    public string Field { get; }

    /// <summary>The reason without the position and field.</summary>
    public string Reason { get; }
}

internal static class UaThrow
{
    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Decode(int position, string field, string reason) =>
        throw new UaDecodeException(position, field, reason);

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Truncated(int position, string field, int needed, int available) =>
        throw new UaDecodeException(position, field, string.Create(CultureInfo.InvariantCulture, $"needs {needed} bytes, {available} remain (truncated message)"));

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Limit(int position, string field, string what, long value, string limitName, long limit) =>
        throw new UaDecodeException(position, field, string.Create(CultureInfo.InvariantCulture, $"{what} {value} exceeds {limitName} {limit}"));

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Encode(string field, string reason) =>
        throw new UaEncodeException(string.Create(CultureInfo.InvariantCulture, $"field '{field}': {reason}"));
}

/// <summary>A value that cannot be encoded (for example an array longer than Int32 allows or an invalid enum).</summary>
public sealed class UaEncodeException : InvalidOperationException
{
    public UaEncodeException()
    {
    }

    public UaEncodeException(string message)
        : base(message)
    {
    }

    public UaEncodeException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
