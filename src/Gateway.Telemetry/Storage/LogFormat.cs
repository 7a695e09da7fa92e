using System.Buffers.Binary;
using System.Globalization;

namespace FactoryGateway.Telemetry.Storage;

/// <summary>
/// The segment log's on-disk format. Every integer is little-endian.
/// <code>
/// Segment file "&lt;base position, 20 decimal digits&gt;.seg" = segment header, then records back to back.
///
/// Segment header (32 bytes, written and fsynced when the segment is created):
///   0  8  magic "FGWSEG01" (format version 1)
///   8  8  i64 base position: the logical position of the segment's first byte (equals the file name)
///  16  8  i64 base sequence number: the sequence number of the segment's first record
///  24  4  u32 CRC-32C of bytes [0, 24)
///  28  4  zero
///
/// Record (24-byte header + payload):
///   0  4  u32 payload length N
///   4  4  u32 CRC-32C of bytes [0, 4) ++ [8, 24 + N): the length, the rest of the header and the payload,
///         so a torn or garbage length fails the check as surely as a torn payload
///   8  8  i64 sequence number: 0 for the log's first record, +1 per record, contiguous across segments
///  16  8  i64 append time, nanoseconds since the Unix epoch (UTC), one clock reading per group commit
///  24  N  payload
///
/// Cursor file "&lt;name&gt;.cursor" (24 bytes, replaced atomically: temp file, fsync, rename, fsync directory):
///   0  8  magic "FGWCUR01"
///   8  8  i64 position
///  16  4  u32 CRC-32C of bytes [0, 16)
///  20  4  zero
/// </code>
/// A logical position is a byte offset across all segments: segment base position + offset in the
/// segment file. A segment's end position is the next segment's base position, so positions are
/// contiguous, and a position at a segment's end names the same place as the next segment's start.
/// </summary>
internal static class LogFormat
{
    public const int SegmentHeaderSize = 32;
    public const int RecordHeaderSize = 24;
    public const int CursorFileSize = 24;
    public const int SegmentFileNameDigits = 20;
    public const string SegmentExtension = ".seg";
    public const string CursorExtension = ".cursor";
    public const string TempExtension = ".tmp";
    public const string LockFileName = "segment-log.lock";

    private static ReadOnlySpan<byte> SegmentMagic => "FGWSEG01"u8;
    private static ReadOnlySpan<byte> CursorMagic => "FGWCUR01"u8;

    public static string SegmentFileName(long basePosition) =>
        basePosition.ToString("D20", CultureInfo.InvariantCulture) + SegmentExtension;

    /// <summary>Parses "&lt;20 digits&gt;.seg"; any other name is not a segment.</summary>
    public static bool TryParseSegmentFileName(string fileName, out long basePosition)
    {
        basePosition = 0;
        return fileName.Length == SegmentFileNameDigits + SegmentExtension.Length
            && fileName.EndsWith(SegmentExtension, StringComparison.Ordinal)
            && long.TryParse(fileName.AsSpan(0, SegmentFileNameDigits), NumberStyles.None, CultureInfo.InvariantCulture, out basePosition);
    }

    public static void WriteSegmentHeader(Span<byte> destination, long basePosition, long baseSequence)
    {
        SegmentMagic.CopyTo(destination);
        BinaryPrimitives.WriteInt64LittleEndian(destination[8..], basePosition);
        BinaryPrimitives.WriteInt64LittleEndian(destination[16..], baseSequence);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[24..], Crc32C.Compute(destination[..24]));
        BinaryPrimitives.WriteUInt32LittleEndian(destination[28..], 0);
    }

    /// <summary>Validates a segment header; returns null when valid, else the reason.</summary>
    public static string? CheckSegmentHeader(ReadOnlySpan<byte> header, long expectedBasePosition, out long baseSequence)
    {
        baseSequence = 0;
        if (header.Length < SegmentHeaderSize)
        {
            return $"segment header is {header.Length} of {SegmentHeaderSize} bytes";
        }

        if (!header[..8].SequenceEqual(SegmentMagic))
        {
            return "segment header has no FGWSEG01 magic";
        }

        uint stored = BinaryPrimitives.ReadUInt32LittleEndian(header[24..]);
        uint computed = Crc32C.Compute(header[..24]);
        if (stored != computed)
        {
            return $"segment header CRC mismatch: stored 0x{stored:x8}, computed 0x{computed:x8}";
        }

        long basePosition = BinaryPrimitives.ReadInt64LittleEndian(header[8..]);
        if (basePosition != expectedBasePosition)
        {
            return $"segment header names base position {basePosition}, the file name {expectedBasePosition}";
        }

        baseSequence = BinaryPrimitives.ReadInt64LittleEndian(header[16..]);
        return null;
    }

    /// <summary>
    /// Writes the header of the record whose payload already sits at <c>record[24..]</c> and seals it
    /// with the CRC.
    /// </summary>
    public static void SealRecord(Span<byte> record, long sequence, long timestampNanoseconds)
    {
        int payloadLength = record.Length - RecordHeaderSize;
        BinaryPrimitives.WriteUInt32LittleEndian(record, (uint)payloadLength);
        BinaryPrimitives.WriteInt64LittleEndian(record[8..], sequence);
        BinaryPrimitives.WriteInt64LittleEndian(record[16..], timestampNanoseconds);
        BinaryPrimitives.WriteUInt32LittleEndian(record[4..], RecordCrc(record));
    }

    /// <summary>The payload length a record header declares (not yet validated).</summary>
    public static long DeclaredPayloadLength(ReadOnlySpan<byte> header) => BinaryPrimitives.ReadUInt32LittleEndian(header);

    public static long ReadSequence(ReadOnlySpan<byte> header) => BinaryPrimitives.ReadInt64LittleEndian(header[8..]);

    public static long ReadTimestamp(ReadOnlySpan<byte> header) => BinaryPrimitives.ReadInt64LittleEndian(header[16..]);

    /// <summary>
    /// Validates one whole record (header + the declared payload, exactly) at <paramref name="position"/>;
    /// returns null when valid, else the reason.
    /// </summary>
    public static string? CheckRecord(ReadOnlySpan<byte> record, long position, long expectedSequence)
    {
        uint stored = BinaryPrimitives.ReadUInt32LittleEndian(record[4..]);
        uint computed = RecordCrc(record);
        if (stored != computed)
        {
            return $"CRC mismatch at {position}: stored 0x{stored:x8}, computed 0x{computed:x8}";
        }

        long sequence = ReadSequence(record);
        if (sequence != expectedSequence)
        {
            return $"sequence break at {position}: expected {expectedSequence}, found {sequence}";
        }

        return null;
    }

    public static void WriteCursor(Span<byte> destination, long position)
    {
        CursorMagic.CopyTo(destination);
        BinaryPrimitives.WriteInt64LittleEndian(destination[8..], position);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[16..], Crc32C.Compute(destination[..16]));
        BinaryPrimitives.WriteUInt32LittleEndian(destination[20..], 0);
    }

    public static string? CheckCursor(ReadOnlySpan<byte> content, out long position)
    {
        position = 0;
        if (content.Length != CursorFileSize || !content[..8].SequenceEqual(CursorMagic))
        {
            return $"not a {CursorFileSize}-byte FGWCUR01 cursor file";
        }

        uint stored = BinaryPrimitives.ReadUInt32LittleEndian(content[16..]);
        uint computed = Crc32C.Compute(content[..16]);
        if (stored != computed)
        {
            return $"cursor CRC mismatch: stored 0x{stored:x8}, computed 0x{computed:x8}";
        }

        position = BinaryPrimitives.ReadInt64LittleEndian(content[8..]);
        return null;
    }

    public static long ToUnixNanoseconds(DateTimeOffset time) =>
        (time.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) * TimeSpan.NanosecondsPerTick;

    private static uint RecordCrc(ReadOnlySpan<byte> record) =>
        Crc32C.Append(Crc32C.Compute(record[..4]), record[8..]);
}
