namespace FactoryGateway.OpcUa.Encoding;

/// <summary>
/// Limits the binary decoder enforces on untrusted input (OPC 10000-6 §5.2.2 asks decoders to cap
/// strings, byte strings, arrays and nesting). Every limit is named in the error that reports it.
/// Validate with <see cref="Validate"/> at start-up.
/// </summary>
public sealed class UaDecoderLimits
{
    /// <summary>Shared default limits (validated).</summary>
    public static UaDecoderLimits Default { get; } = new UaDecoderLimits().Validate();

    /// <summary>
    /// Longest String or XmlElement, in bytes. Default 1 MiB: the OPC Foundation .NET stack's
    /// <c>MaxStringLength</c> default is 4 MiB for servers and far less is needed for telemetry
    /// (browse names, display names, namespace URIs); 1 MiB leaves room for long descriptions.
    /// </summary>
    public int MaxStringLength { get; set; } = 1024 * 1024;

    /// <summary>
    /// Longest ByteString, in bytes. Default 4 MiB: the .NET stack's <c>MaxByteStringLength</c>
    /// default; certificates and continuation points are a few KiB.
    /// </summary>
    public int MaxByteStringLength { get; set; } = 4 * 1024 * 1024;

    /// <summary>
    /// Most elements in one array (or ArrayDimensions). Default 65,535: the .NET stack's
    /// <c>MaxArrayLength</c> default; a Publish response of 1,000 notifications is far below it.
    /// </summary>
    public int MaxArrayLength { get; set; } = 65_535;

    /// <summary>
    /// Deepest nesting of Variant, DataValue, ExtensionObject and DiagnosticInfo. Default 100: the
    /// .NET stack's <c>MaxEncodingNestingLevels</c>; it keeps a hostile message from exhausting the stack.
    /// </summary>
    public int MaxNestingDepth { get; set; } = 100;

    /// <summary>
    /// Largest message body the decoder accepts, in bytes. Default 16 MiB: the .NET stack's
    /// <c>MaxMessageSize</c> default of 4 MiB is too small for 10,000-item Read responses;
    /// node-opcua allows 16 MiB by default.
    /// </summary>
    public int MaxMessageSize { get; set; } = 16 * 1024 * 1024;

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first limit that is out of range.</summary>
    public UaDecoderLimits Validate()
    {
        Check(MaxStringLength, 0, int.MaxValue, nameof(MaxStringLength));
        Check(MaxByteStringLength, 0, int.MaxValue, nameof(MaxByteStringLength));
        Check(MaxArrayLength, 0, int.MaxValue, nameof(MaxArrayLength));
        Check(MaxNestingDepth, 1, 1000, nameof(MaxNestingDepth));
        Check(MaxMessageSize, 8192, int.MaxValue, nameof(MaxMessageSize));
        return this;
    }

    private static void Check(long value, long min, long max, string name)
    {
        if (value < min || value > max)
        {
            throw new ArgumentOutOfRangeException(name, value, $"UaDecoderLimits.{name} must be between {min} and {max}; it is {value}.");
        }
    }
}
