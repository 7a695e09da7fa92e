using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;

namespace FactoryGateway.Telemetry.LineProtocol;

/// <summary>
/// Malformed line protocol. <see cref="Exception.Message"/> reads
/// <c>line 3 col 17: invalid integer field value: "12x3i"</c>: the 1-based line of the body, the
/// 1-based byte column in that line, the reason, and the offending bytes escaped and capped.
/// </summary>
public sealed class LineProtocolException : FormatException
{
    public LineProtocolException(int line, int column, string reason)
        : base(string.Create(CultureInfo.InvariantCulture, $"line {line} col {column}: {reason}"))
    {
        Line = line;
        Column = column;
        Reason = reason;
    }

    public LineProtocolException()
    {
        Reason = string.Empty;
    }

    public LineProtocolException(string message)
        : base(message)
    {
        Reason = message;
    }

    public LineProtocolException(string message, Exception innerException)
        : base(message, innerException)
    {
        Reason = message;
    }

    /// <summary>1-based line number within the request body.</summary>
    public int Line { get; }

    /// <summary>1-based byte column within the line.</summary>
    public int Column { get; }

    /// <summary>The reason without the position.</summary>
    public string Reason { get; }
}

internal static class LineProtocolThrow
{
    // Enough of the offending bytes to recognise them; a 64 KiB line is not echoed into an error body.
    private const int MaxQuotedBytes = 48;

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Error(int line, int column, string reason) =>
        throw new LineProtocolException(line, column, reason);

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Error(int line, int column, string reason, ReadOnlySpan<byte> offending) =>
        throw new LineProtocolException(line, column, $"{reason}: {Quote(offending)}");

    /// <summary>
    /// Quotes bytes for an error message: printable ASCII as is (<c>"</c> and <c>\</c> escaped),
    /// valid UTF-8 as its characters, anything else as <c>\xNN</c>; at most 48 bytes, then "…".
    /// </summary>
    public static string Quote(ReadOnlySpan<byte> bytes)
    {
        bool truncated = bytes.Length > MaxQuotedBytes;
        if (truncated)
        {
            bytes = bytes[..MaxQuotedBytes];
        }

        var text = new StringBuilder(bytes.Length + 8);
        text.Append('"');
        while (!bytes.IsEmpty)
        {
            byte b = bytes[0];
            if (b is >= 0x20 and < 0x7F)
            {
                if (b is (byte)'"' or (byte)'\\')
                {
                    text.Append('\\');
                }

                text.Append((char)b);
                bytes = bytes[1..];
                continue;
            }

            if (b >= 0x80 && Rune.DecodeFromUtf8(bytes, out Rune rune, out int consumed) == System.Buffers.OperationStatus.Done && !Rune.IsControl(rune))
            {
                text.Append(rune.ToString());
                bytes = bytes[consumed..];
                continue;
            }

            text.Append(b switch
            {
                (byte)'\t' => "\\t",
                (byte)'\r' => "\\r",
                (byte)'\n' => "\\n",
                _ => string.Create(CultureInfo.InvariantCulture, $"\\x{b:X2}"),
            });
            bytes = bytes[1..];
        }

        text.Append('"');
        if (truncated)
        {
            text.Append('…');
        }

        return text.ToString();
    }
}
