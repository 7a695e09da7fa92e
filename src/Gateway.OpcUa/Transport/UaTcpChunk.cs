using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Runtime.CompilerServices;

namespace FactoryGateway.OpcUa.Transport;

/// <summary>UA-TCP message types (OPC 10000-6 §7.1.2.2), as the little-endian value of their three ASCII bytes.</summary>
public enum UaTcpMessageType : uint
{
    Hello = 'H' | ('E' << 8) | ('L' << 16),
    Acknowledge = 'A' | ('C' << 8) | ('K' << 16),
    Error = 'E' | ('R' << 8) | ('R' << 16),
    ReverseHello = 'R' | ('H' << 8) | ('E' << 16),
    OpenSecureChannel = 'O' | ('P' << 8) | ('N' << 16),
    CloseSecureChannel = 'C' | ('L' << 8) | ('O' << 16),
    Message = 'M' | ('S' << 8) | ('G' << 16),
}

/// <summary>One UA-TCP chunk: its type, chunk flag (F final, C continuation, A abort) and the bytes after the 8-byte header.</summary>
public readonly struct UaTcpChunk
{
    public UaTcpChunk(UaTcpMessageType messageType, byte chunkType, ReadOnlySequence<byte> body)
    {
        MessageType = messageType;
        ChunkType = chunkType;
        Body = body;
    }

    public UaTcpMessageType MessageType { get; }

    /// <summary><c>'F'</c>, <c>'C'</c> or <c>'A'</c>.</summary>
    public byte ChunkType { get; }

    public ReadOnlySequence<byte> Body { get; }

    /// <summary>
    /// The body as one span: in place when it lies in one segment, else copied into an array rented from
    /// <see cref="ArrayPool{T}.Shared"/>, which <paramref name="rented"/> returns for the caller to give back.
    /// </summary>
    public ReadOnlySpan<byte> ContiguousBody(out byte[]? rented)
    {
        if (Body.IsSingleSegment)
        {
            rented = null;
            return Body.FirstSpan;
        }

        rented = ArrayPool<byte>.Shared.Rent((int)Body.Length);
        Body.CopyTo(rented);
        return rented.AsSpan(0, (int)Body.Length);
    }
}

/// <summary>
/// A malformed UA-TCP chunk header or a chunk over the negotiated size. The channel answers it by
/// closing (OPC 10000-6 §7.1.5: the receiver closes the connection on a malformed message).
/// </summary>
public sealed class UaTcpFramingException : Exception
{
    public UaTcpFramingException(long position, string reason)
        : base(string.Create(CultureInfo.InvariantCulture, $"UA-TCP stream offset {position}: {reason}"))
    {
        Reason = reason;
    }

    public UaTcpFramingException()
    {
        Reason = string.Empty;
    }

    public UaTcpFramingException(string message)
        : base(message)
    {
        Reason = message;
    }

    public UaTcpFramingException(string message, Exception innerException)
        : base(message, innerException)
    {
        Reason = message;
    }

    public string Reason { get; }
}

/// <summary>UA-TCP chunk framing (OPC 10000-6 §7.1.2): an 8-byte header (3-byte type, chunk flag, UInt32 size) and the rest.</summary>
public static class UaTcpFraming
{
    public const int HeaderSize = 8;

    /// <summary>
    /// Reads one whole chunk. Returns false when the reader does not yet hold the whole chunk, with
    /// nothing consumed. Throws <see cref="UaTcpFramingException"/> for an unknown message type or chunk
    /// flag, or a size below the header or above <paramref name="maxChunkSize"/> (named in the error).
    /// </summary>
    public static bool TryReadChunk(ref SequenceReader<byte> reader, uint maxChunkSize, out UaTcpChunk chunk)
    {
        chunk = default;
        Span<byte> header = stackalloc byte[HeaderSize];
        if (!reader.TryCopyTo(header))
        {
            return false;
        }

        uint type = header[0] | ((uint)header[1] << 8) | ((uint)header[2] << 16);
        byte chunkType = header[3];
        uint size = BinaryPrimitives.ReadUInt32LittleEndian(header[4..]);
        var messageType = (UaTcpMessageType)type;
        switch (messageType)
        {
            case UaTcpMessageType.Hello:
            case UaTcpMessageType.Acknowledge:
            case UaTcpMessageType.Error:
            case UaTcpMessageType.ReverseHello:
                if (chunkType != (byte)'F')
                {
                    Fail(reader.Consumed, $"{Name(header)} must be a final chunk ('F'), not 0x{chunkType:X2}");
                }

                break;
            case UaTcpMessageType.OpenSecureChannel:
            case UaTcpMessageType.CloseSecureChannel:
            case UaTcpMessageType.Message:
                if (chunkType is not ((byte)'F' or (byte)'C' or (byte)'A'))
                {
                    Fail(reader.Consumed, $"chunk type 0x{chunkType:X2} is not F, C or A");
                }

                break;
            default:
                Fail(reader.Consumed, $"message type {Name(header)} is not HEL, ACK, ERR, RHE, OPN, CLO or MSG");
                break;
        }

        if (size < HeaderSize || size > maxChunkSize)
        {
            Fail(reader.Consumed, $"chunk size {size} is outside {HeaderSize}..{maxChunkSize} (the negotiated ReceiveBufferSize)");
        }

        if (reader.Remaining < size)
        {
            return false;
        }

        chunk = new UaTcpChunk(messageType, chunkType, reader.UnreadSequence.Slice(HeaderSize, size - HeaderSize));
        reader.Advance(size);
        return true;
    }

    private static string Name(ReadOnlySpan<byte> header)
    {
        Span<char> chars = stackalloc char[3];
        for (int i = 0; i < 3; i++)
        {
            chars[i] = header[i] is >= 0x20 and < 0x7F ? (char)header[i] : '?';
        }

        return new string(chars);
    }

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Fail(long position, string reason) => throw new UaTcpFramingException(position, reason);
}
