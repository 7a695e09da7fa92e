using System.Globalization;

namespace FactoryGateway.OpcUa.Encoding;

/// <summary>A name qualified by a namespace index (OPC 10000-3 §8.3); text form <c>2:PartsTotal</c>.</summary>
public sealed record QualifiedName(ushort NamespaceIndex, string? Name)
{
    public static QualifiedName Null { get; } = new(0, null);

    public static QualifiedName Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        int colon = text.IndexOf(':', StringComparison.Ordinal);
        if (colon > 0 && ushort.TryParse(text.AsSpan(0, colon), NumberStyles.None, CultureInfo.InvariantCulture, out ushort ns))
        {
            return new QualifiedName(ns, text[(colon + 1)..]);
        }

        return new QualifiedName(0, text);
    }

    public override string ToString() =>
        NamespaceIndex == 0 ? Name ?? string.Empty : string.Create(CultureInfo.InvariantCulture, $"{NamespaceIndex}:{Name}");
}

/// <summary>Human-readable text with an optional locale (OPC 10000-3 §8.5).</summary>
public sealed record LocalizedText(string? Locale, string? Text)
{
    public static LocalizedText Null { get; } = new(null, null);

    public override string ToString() => Text ?? string.Empty;
}

/// <summary>
/// Vendor-specific diagnostics (OPC 10000-6 §5.2.2.12). The integer fields index the response's
/// string table; -1 means absent.
/// </summary>
public sealed record DiagnosticInfo
{
    public int SymbolicId { get; init; } = -1;

    public int NamespaceUri { get; init; } = -1;

    public int Locale { get; init; } = -1;

    public int LocalizedText { get; init; } = -1;

    public string? AdditionalInfo { get; init; }

    public StatusCode? InnerStatusCode { get; init; }

    public DiagnosticInfo? InnerDiagnosticInfo { get; init; }
}

/// <summary>
/// A value with its quality and timestamps (OPC 10000-4 §7.11). Picoseconds add 10-ps resolution to
/// the 100-ns timestamps (0–9,999).
/// </summary>
public sealed record DataValue
{
    public DataValue()
    {
    }

    public DataValue(Variant value, StatusCode status = default, DateTime sourceTimestamp = default, DateTime serverTimestamp = default)
    {
        Value = value;
        Status = status;
        SourceTimestamp = sourceTimestamp;
        ServerTimestamp = serverTimestamp;
    }

    public Variant Value { get; init; }

    public StatusCode Status { get; init; }

    /// <summary>Source timestamp (UTC); <see cref="DateTime.MinValue"/> when absent.</summary>
    public DateTime SourceTimestamp { get; init; }

    public ushort SourcePicoseconds { get; init; }

    /// <summary>Server timestamp (UTC); <see cref="DateTime.MinValue"/> when absent.</summary>
    public DateTime ServerTimestamp { get; init; }

    public ushort ServerPicoseconds { get; init; }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Value} [{Status}] src={SourceTimestamp:O}");
}
