using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace FactoryGateway.Ingest.Wal;

/// <summary>
/// One accepted write request as it is kept in the ingest's WAL: who sent it, when it arrived, and
/// its points as canonical line protocol (one point per <c>\n</c>-terminated line, every line with a
/// nanosecond timestamp — the arrival time was added where the client sent none).
/// </summary>
/// <remarks>
/// Layout (little-endian), version 1:
/// <code>
/// u8  version (1)
/// u8  flags (bit 0: EdgeSequence present)
/// i64 arrival time, Unix ns
/// i64 edge sequence (0 when absent)
/// u32 point count
/// u16 length + UTF-8  edge id ("" when absent)
/// u16 length + UTF-8  enterprise credit code of the token ("" for admin tokens)
/// u16 length + UTF-8  target (bucket or db/rp the client named)
/// u32 length + bytes  body (canonical line protocol)
/// </code>
/// The WAL frames and checksums each record; this layout only has to be unambiguous.
/// </remarks>
public sealed record IngestRecord
{
    public const byte Version = 1;
    private const byte HasEdgeSequence = 1;

    /// <summary>Arrival time at the ingest, Unix nanoseconds.</summary>
    public required long ArrivalNanoseconds { get; init; }

    /// <summary>The <c>X-FG-Edge</c> header, when the batch came from an edge agent.</summary>
    public string EdgeId { get; init; } = string.Empty;

    /// <summary>The <c>X-FG-Seq</c> header, when present.</summary>
    public long? EdgeSequence { get; init; }

    /// <summary>The enterprise of the token that wrote the batch; empty for admin tokens.</summary>
    public string Enterprise { get; init; } = string.Empty;

    /// <summary>Where the client asked the points to go (v2 bucket, or v1 <c>db</c>/<c>rp</c>).</summary>
    public string Target { get; init; } = string.Empty;

    public required int PointCount { get; init; }

    /// <summary>Canonical line protocol: newline-terminated lines with nanosecond timestamps.</summary>
    public required ReadOnlyMemory<byte> Body { get; init; }

    /// <summary>Bytes <see cref="Encode"/> writes for this record.</summary>
    public int EncodedLength =>
        1 + 1 + 8 + 8 + 4 + 2 + Encoding.UTF8.GetByteCount(EdgeId) + 2 + Encoding.UTF8.GetByteCount(Enterprise)
        + 2 + Encoding.UTF8.GetByteCount(Target) + 4 + Body.Length;

    public void Encode(IBufferWriter<byte> output)
    {
        Span<byte> header = output.GetSpan(22);
        header[0] = Version;
        header[1] = EdgeSequence.HasValue ? HasEdgeSequence : (byte)0;
        BinaryPrimitives.WriteInt64LittleEndian(header[2..], ArrivalNanoseconds);
        BinaryPrimitives.WriteInt64LittleEndian(header[10..], EdgeSequence ?? 0);
        BinaryPrimitives.WriteUInt32LittleEndian(header[18..], (uint)PointCount);
        output.Advance(22);
        WriteString(output, EdgeId);
        WriteString(output, Enterprise);
        WriteString(output, Target);
        Span<byte> length = output.GetSpan(4);
        BinaryPrimitives.WriteUInt32LittleEndian(length, (uint)Body.Length);
        output.Advance(4);
        output.Write(Body.Span);
    }

    /// <summary>Decodes a record; <see cref="Body"/> refers to <paramref name="payload"/> (no copy).</summary>
    /// <exception cref="InvalidDataException">The payload is not a version-1 ingest record.</exception>
    public static IngestRecord Decode(ReadOnlyMemory<byte> payload)
    {
        ReadOnlySpan<byte> span = payload.Span;
        if (span.Length < 22 || span[0] != Version)
        {
            throw new InvalidDataException($"not an ingest record (version {(span.IsEmpty ? -1 : span[0])}, {span.Length} bytes).");
        }

        bool hasSequence = (span[1] & HasEdgeSequence) != 0;
        long arrival = BinaryPrimitives.ReadInt64LittleEndian(span[2..]);
        long sequence = BinaryPrimitives.ReadInt64LittleEndian(span[10..]);
        int points = (int)BinaryPrimitives.ReadUInt32LittleEndian(span[18..]);
        int offset = 22;
        string edge = ReadString(span, ref offset);
        string enterprise = ReadString(span, ref offset);
        string target = ReadString(span, ref offset);
        if (offset + 4 > span.Length)
        {
            throw new InvalidDataException("ingest record ends before its body length.");
        }

        int bodyLength = (int)BinaryPrimitives.ReadUInt32LittleEndian(span[offset..]);
        offset += 4;
        if (bodyLength < 0 || offset + bodyLength != span.Length)
        {
            throw new InvalidDataException($"ingest record body length {bodyLength} does not match the {span.Length - offset} bytes left.");
        }

        return new IngestRecord
        {
            ArrivalNanoseconds = arrival,
            EdgeId = edge,
            EdgeSequence = hasSequence ? sequence : null,
            Enterprise = enterprise,
            Target = target,
            PointCount = points,
            Body = payload.Slice(offset, bodyLength),
        };
    }

    private static void WriteString(IBufferWriter<byte> output, string value)
    {
        int length = Encoding.UTF8.GetByteCount(value);
        if (length > ushort.MaxValue)
        {
            throw new ArgumentException($"'{value[..32]}…' is longer than {ushort.MaxValue} bytes.", nameof(value));
        }

        Span<byte> span = output.GetSpan(2 + length);
        BinaryPrimitives.WriteUInt16LittleEndian(span, (ushort)length);
        Encoding.UTF8.GetBytes(value, span[2..]);
        output.Advance(2 + length);
    }

    private static string ReadString(ReadOnlySpan<byte> span, ref int offset)
    {
        if (offset + 2 > span.Length)
        {
            throw new InvalidDataException("ingest record ends inside a string length.");
        }

        int length = BinaryPrimitives.ReadUInt16LittleEndian(span[offset..]);
        offset += 2;
        if (offset + length > span.Length)
        {
            throw new InvalidDataException("ingest record ends inside a string.");
        }

        string value = Encoding.UTF8.GetString(span.Slice(offset, length));
        offset += length;
        return value;
    }
}
