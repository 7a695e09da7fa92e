using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace FactoryGateway.OpcUa.Encoding;

/// <summary>
/// Decodes the OPC UA binary encoding (OPC 10000-6 §5.2) from one contiguous message body. Scalars
/// are read straight from the span; ByteStrings are slices of the input memory (no copy) when the
/// decoder was built over <see cref="ReadOnlyMemory{T}"/>. Every read names its field, and every
/// fault — truncation, an invalid encoding, a limit of <see cref="UaDecoderLimits"/> — throws
/// <see cref="UaDecodeException"/> with the position and field; nothing else escapes.
/// </summary>
public ref struct UaBinaryDecoder
{
    // The DateTime (UTC) of Int64.MaxValue's stand-in: OPC 10000-6 §5.2.2.5 maps values past 9999-12-31 to it.
    private static readonly long s_maxFileTime = DateTime.MaxValue.ToFileTimeUtc();

    private readonly ReadOnlySpan<byte> _span;
    private readonly ReadOnlyMemory<byte> _memory;
    private readonly bool _hasMemory;
    private readonly UaDecoderLimits _limits;
    private int _position;
    private int _depth;

    public UaBinaryDecoder(ReadOnlyMemory<byte> buffer, UaDecoderLimits? limits = null)
        : this(buffer.Span, limits)
    {
        _memory = buffer;
        _hasMemory = true;
    }

    public UaBinaryDecoder(ReadOnlySpan<byte> buffer, UaDecoderLimits? limits = null)
    {
        _limits = limits ?? UaDecoderLimits.Default;
        if (buffer.Length > _limits.MaxMessageSize)
        {
            UaThrow.Limit(0, "message", "message size", buffer.Length, nameof(UaDecoderLimits.MaxMessageSize), _limits.MaxMessageSize);
        }

        _span = buffer;
        _position = 0;
        _depth = 0;
    }

    public readonly int Position => _position;

    public readonly int Remaining => _span.Length - _position;

    public readonly UaDecoderLimits Limits => _limits;

    /// <summary>Skips <paramref name="count"/> bytes (for fields the client does not use).</summary>
    public void Skip(int count, string field)
    {
        Need(count, field);
        _position += count;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private readonly void Need(int count, string field)
    {
        if ((uint)count > (uint)(_span.Length - _position))
        {
            UaThrow.Truncated(_offset + _position, field, count, _span.Length - _position);
        }
    }

    public bool ReadBoolean(string field)
    {
        Need(1, field);
        return _span[_position++] != 0;
    }

    public sbyte ReadSByte(string field)
    {
        Need(1, field);
        return unchecked((sbyte)_span[_position++]);
    }

    public byte ReadByte(string field)
    {
        Need(1, field);
        return _span[_position++];
    }

    public short ReadInt16(string field)
    {
        Need(2, field);
        short v = BinaryPrimitives.ReadInt16LittleEndian(_span[_position..]);
        _position += 2;
        return v;
    }

    public ushort ReadUInt16(string field)
    {
        Need(2, field);
        ushort v = BinaryPrimitives.ReadUInt16LittleEndian(_span[_position..]);
        _position += 2;
        return v;
    }

    public int ReadInt32(string field)
    {
        Need(4, field);
        int v = BinaryPrimitives.ReadInt32LittleEndian(_span[_position..]);
        _position += 4;
        return v;
    }

    public uint ReadUInt32(string field)
    {
        Need(4, field);
        uint v = BinaryPrimitives.ReadUInt32LittleEndian(_span[_position..]);
        _position += 4;
        return v;
    }

    public long ReadInt64(string field)
    {
        Need(8, field);
        long v = BinaryPrimitives.ReadInt64LittleEndian(_span[_position..]);
        _position += 8;
        return v;
    }

    public ulong ReadUInt64(string field)
    {
        Need(8, field);
        ulong v = BinaryPrimitives.ReadUInt64LittleEndian(_span[_position..]);
        _position += 8;
        return v;
    }

    public float ReadFloat(string field)
    {
        Need(4, field);
        float v = BinaryPrimitives.ReadSingleLittleEndian(_span[_position..]);
        _position += 4;
        return v;
    }

    public double ReadDouble(string field)
    {
        Need(8, field);
        double v = BinaryPrimitives.ReadDoubleLittleEndian(_span[_position..]);
        _position += 8;
        return v;
    }

    /// <summary>An enumeration (encoded as Int32) checked against its defined range.</summary>
    public int ReadEnum(string field, int min, int max)
    {
        int start = _position;
        int v = ReadInt32(field);
        if (v < min || v > max)
        {
            UaThrow.Decode(_offset + start, field, $"enumeration value {v} is outside {min}..{max}");
        }

        return v;
    }

    /// <summary>A String: Int32 byte length (-1 = null) and UTF-8 bytes, capped by MaxStringLength.</summary>
    public string? ReadString(string field)
    {
        int start = _position;
        int length = ReadInt32(field);
        if (length < 0)
        {
            if (length != -1)
            {
                UaThrow.Decode(_offset + start, field, $"string length {length} is negative");
            }

            return null;
        }

        if (length > _limits.MaxStringLength)
        {
            UaThrow.Limit(_offset + start, field, "string length", length, nameof(UaDecoderLimits.MaxStringLength), _limits.MaxStringLength);
        }

        Need(length, field);
        string s = length == 0 ? string.Empty : System.Text.Encoding.UTF8.GetString(_span.Slice(_position, length));
        _position += length;
        return s;
    }

    /// <summary>
    /// A ByteString (Int32 length, -1 = null, read as empty). The result is a slice of the input when
    /// the decoder was built over memory, otherwise a copy.
    /// </summary>
    public ReadOnlyMemory<byte> ReadByteString(string field)
    {
        int start = _position;
        int length = ReadInt32(field);
        if (length < 0)
        {
            if (length != -1)
            {
                UaThrow.Decode(_offset + start, field, $"byte string length {length} is negative");
            }

            return ReadOnlyMemory<byte>.Empty;
        }

        if (length > _limits.MaxByteStringLength)
        {
            UaThrow.Limit(_offset + start, field, "byte string length", length, nameof(UaDecoderLimits.MaxByteStringLength), _limits.MaxByteStringLength);
        }

        Need(length, field);
        ReadOnlyMemory<byte> bytes = _hasMemory ? _memory.Slice(_position, length) : _span.Slice(_position, length).ToArray();
        _position += length;
        return bytes;
    }

    /// <summary>A DateTime: Int64 100-ns ticks since 1601-01-01 UTC; 0 and below read as MinValue, past 9999 as MaxValue.</summary>
    public DateTime ReadDateTime(string field)
    {
        long fileTime = ReadInt64(field);
        if (fileTime <= 0)
        {
            return DateTime.MinValue;
        }

        if (fileTime >= s_maxFileTime)
        {
            return DateTime.MaxValue;
        }

        return DateTime.FromFileTimeUtc(fileTime);
    }

    public Guid ReadGuid(string field)
    {
        Need(16, field);
        // Data1..Data3 little-endian, Data4 as bytes: the layout of Guid(ReadOnlySpan<byte>) (OPC 10000-6 §5.1.3).
        var g = new Guid(_span.Slice(_position, 16));
        _position += 16;
        return g;
    }

    public StatusCode ReadStatusCode(string field) => new(ReadUInt32(field));

    public string? ReadXmlElement(string field) => ReadString(field);

    public NodeId ReadNodeId(string field)
    {
        int start = _position;
        byte encoding = ReadByte(field);
        if ((encoding & 0xC0) != 0)
        {
            UaThrow.Decode(_offset + start, field, $"NodeId encoding byte 0x{encoding:X2} carries ExpandedNodeId flags");
        }

        return ReadNodeIdBody(encoding, start, field);
    }

    private NodeId ReadNodeIdBody(byte encoding, int start, string field)
    {
        switch (encoding & 0x3F)
        {
            case 0x00:
                return new NodeId(ReadByte(field));
            case 0x01:
                {
                    byte ns = ReadByte(field);
                    return new NodeId(ReadUInt16(field), ns);
                }

            case 0x02:
                {
                    ushort ns = ReadUInt16(field);
                    return new NodeId(ReadUInt32(field), ns);
                }

            case 0x03:
                {
                    ushort ns = ReadUInt16(field);
                    return new NodeId(ReadString(field) ?? string.Empty, ns);
                }

            case 0x04:
                {
                    ushort ns = ReadUInt16(field);
                    return new NodeId(ReadGuid(field), ns);
                }

            case 0x05:
                {
                    ushort ns = ReadUInt16(field);
                    return new NodeId(ReadByteString(field).ToArray(), ns);
                }

            default:
                UaThrow.Decode(_offset + start, field, $"NodeId encoding 0x{encoding & 0x3F:X2} is not 0–5");
                return null;
        }
    }

    public ExpandedNodeId ReadExpandedNodeId(string field)
    {
        int start = _position;
        byte encoding = ReadByte(field);
        NodeId nodeId = ReadNodeIdBody(encoding, start, field);
        string? uri = (encoding & 0x80) != 0 ? ReadString(field) : null;
        uint server = (encoding & 0x40) != 0 ? ReadUInt32(field) : 0;
        return nodeId.NamespaceIndex == 0 && uri is null && server == 0 && nodeId.IdType == NodeIdType.Numeric && nodeId.NumericIdentifier == 0
            ? ExpandedNodeId.Null
            : new ExpandedNodeId(nodeId, uri, server);
    }

    public QualifiedName ReadQualifiedName(string field)
    {
        ushort ns = ReadUInt16(field);
        return new QualifiedName(ns, ReadString(field));
    }

    public LocalizedText ReadLocalizedText(string field)
    {
        int start = _position;
        byte mask = ReadByte(field);
        if ((mask & 0xFC) != 0)
        {
            UaThrow.Decode(_offset + start, field, $"LocalizedText encoding mask 0x{mask:X2} has undefined bits");
        }

        string? locale = (mask & 0x01) != 0 ? ReadString(field) : null;
        string? text = (mask & 0x02) != 0 ? ReadString(field) : null;
        return mask == 0 ? LocalizedText.Null : new LocalizedText(locale, text);
    }

    private void Enter(string field)
    {
        if (++_depth > _limits.MaxNestingDepth)
        {
            UaThrow.Limit(_offset + _position, field, "nesting depth", _depth, nameof(UaDecoderLimits.MaxNestingDepth), _limits.MaxNestingDepth);
        }
    }

    private void Leave() => _depth--;

    /// <summary>
    /// An ExtensionObject. Bodies of structures the stack knows (<see cref="KnownStructures"/>) are
    /// decoded into <see cref="ExtensionObject.Value"/>; others keep their bytes.
    /// </summary>
    public ExtensionObject ReadExtensionObject(string field)
    {
        Enter(field);
        NodeId typeId = ReadNodeId(field);
        int start = _position;
        byte encoding = ReadByte(field);
        ExtensionObject result;
        switch (encoding)
        {
            case 0:
                result = typeId.IsNull ? ExtensionObject.Null : new ExtensionObject(typeId, ExtensionObjectEncoding.None, default);
                break;
            case 1:
                {
                    int lengthAt = _position;
                    int length = ReadInt32(field);
                    if (length < 0)
                    {
                        UaThrow.Decode(_offset + lengthAt, field, $"ExtensionObject body length {length} is negative");
                    }

                    Need(length, field);
                    ReadOnlyMemory<byte> body = _hasMemory ? _memory.Slice(_position, length) : _span.Slice(_position, length).ToArray();
                    object? value = null;
                    if (typeId.NamespaceIndex == 0 && typeId.IdType == NodeIdType.Numeric && KnownStructures.IsKnown(typeId.NumericIdentifier))
                    {
                        // Decode the body in place, bounded by its declared length.
                        var inner = new UaBinaryDecoder(_span.Slice(_position, length), _memory, _hasMemory, _position, _limits, _depth);
                        value = KnownStructures.Decode(typeId.NumericIdentifier, ref inner);
                    }

                    _position += length;
                    result = value is null ? new ExtensionObject(typeId, ExtensionObjectEncoding.Binary, body) : new ExtensionObject(typeId, body, value);
                    break;
                }

            case 2:
                {
                    int lengthAt = _position;
                    int length = ReadInt32(field);
                    if (length < 0)
                    {
                        UaThrow.Decode(_offset + lengthAt, field, $"ExtensionObject XML body length {length} is negative");
                    }

                    if (length > _limits.MaxStringLength)
                    {
                        UaThrow.Limit(_offset + lengthAt, field, "XML body length", length, nameof(UaDecoderLimits.MaxStringLength), _limits.MaxStringLength);
                    }

                    Need(length, field);
                    ReadOnlyMemory<byte> body = _hasMemory ? _memory.Slice(_position, length) : _span.Slice(_position, length).ToArray();
                    _position += length;
                    result = new ExtensionObject(typeId, ExtensionObjectEncoding.Xml, body);
                    break;
                }

            default:
                UaThrow.Decode(_offset + start, field, $"ExtensionObject encoding 0x{encoding:X2} is not 0, 1 or 2");
                return null;
        }

        Leave();
        return result;
    }

    // A decoder over a body nested in this one: positions in errors stay relative to the whole message.
    private UaBinaryDecoder(ReadOnlySpan<byte> body, ReadOnlyMemory<byte> outer, bool hasMemory, int offset, UaDecoderLimits limits, int depth)
    {
        _limits = limits;
        _span = body;
        _hasMemory = hasMemory;
        _memory = hasMemory ? outer.Slice(offset, body.Length) : default;
        _position = 0;
        _depth = depth;
        _offset = offset;
    }

    private readonly int _offset;

    /// <summary>Position within the whole message (for nested bodies, includes the body's offset).</summary>
    public readonly int AbsolutePosition => _offset + _position;

    public DataValue ReadDataValue(string field)
    {
        Enter(field);
        int start = _position;
        byte mask = ReadByte(field);
        if ((mask & 0xC0) != 0)
        {
            UaThrow.Decode(_offset + start, field, $"DataValue encoding mask 0x{mask:X2} has undefined bits");
        }

        Variant value = (mask & 0x01) != 0 ? ReadVariant(field) : default;
        StatusCode status = (mask & 0x02) != 0 ? ReadStatusCode(field) : default;
        DateTime source = (mask & 0x04) != 0 ? ReadDateTime(field) : default;
        ushort sourcePico = (mask & 0x10) != 0 ? ReadUInt16(field) : (ushort)0;
        DateTime server = (mask & 0x08) != 0 ? ReadDateTime(field) : default;
        ushort serverPico = (mask & 0x20) != 0 ? ReadUInt16(field) : (ushort)0;
        Leave();
        return new DataValue(value, status, source, server) { SourcePicoseconds = sourcePico, ServerPicoseconds = serverPico };
    }

    public DiagnosticInfo ReadDiagnosticInfo(string field)
    {
        Enter(field);
        int start = _position;
        byte mask = ReadByte(field);
        if ((mask & 0x80) != 0)
        {
            UaThrow.Decode(_offset + start, field, $"DiagnosticInfo encoding mask 0x{mask:X2} has undefined bits");
        }

        var info = new DiagnosticInfo
        {
            SymbolicId = (mask & 0x01) != 0 ? ReadInt32(field) : -1,
            NamespaceUri = (mask & 0x02) != 0 ? ReadInt32(field) : -1,
            Locale = (mask & 0x08) != 0 ? ReadInt32(field) : -1,
            LocalizedText = (mask & 0x04) != 0 ? ReadInt32(field) : -1,
            AdditionalInfo = (mask & 0x10) != 0 ? ReadString(field) : null,
            InnerStatusCode = (mask & 0x20) != 0 ? ReadStatusCode(field) : null,
            InnerDiagnosticInfo = (mask & 0x40) != 0 ? ReadDiagnosticInfo(field) : null,
        };
        Leave();
        return info;
    }

    /// <summary>
    /// An array length prefix: -1 (null) reads as 0; the length is capped by MaxArrayLength and by the
    /// bytes left (every element takes at least <paramref name="minElementSize"/> bytes), so a forged
    /// length cannot make the decoder allocate beyond the message.
    /// </summary>
    public int ReadArrayLength(string field, int minElementSize = 1)
    {
        int start = _position;
        int length = ReadInt32(field);
        if (length < 0)
        {
            if (length != -1)
            {
                UaThrow.Decode(_offset + start, field, $"array length {length} is negative");
            }

            return 0;
        }

        if (length > _limits.MaxArrayLength)
        {
            UaThrow.Limit(_offset + start, field, "array length", length, nameof(UaDecoderLimits.MaxArrayLength), _limits.MaxArrayLength);
        }

        if ((long)length * minElementSize > Remaining)
        {
            UaThrow.Decode(_offset + start, field, $"array length {length} needs at least {(long)length * minElementSize} bytes, {Remaining} remain (truncated message)");
        }

        return length;
    }

    public Variant ReadVariant(string field)
    {
        Enter(field);
        int start = _position;
        byte mask = ReadByte(field);
        int typeId = mask & 0x3F;
        if (typeId > (int)BuiltInType.DiagnosticInfo)
        {
            UaThrow.Decode(_offset + start, field, $"Variant type id {typeId} is not a built-in type (1–25)");
        }

        var type = (BuiltInType)typeId;
        Variant result;
        if ((mask & 0x80) == 0)
        {
            if ((mask & 0x40) != 0)
            {
                UaThrow.Decode(_offset + start, field, "Variant has ArrayDimensions without an array");
            }

            if (type == BuiltInType.Variant)
            {
                UaThrow.Decode(_offset + start, field, "a Variant scalar cannot hold a Variant (OPC 10000-6 §5.2.2.16)");
            }

            result = ReadScalar(type, field);
        }
        else
        {
            if (type == BuiltInType.Null)
            {
                UaThrow.Decode(_offset + start, field, "Variant array of type Null");
            }

            Array array = ReadArrayOf(type, field);
            int[]? dims = null;
            if ((mask & 0x40) != 0)
            {
                int dimsAt = _position;
                int count = ReadArrayLength(field, 4);
                dims = new int[count];
                long product = 1;
                for (int i = 0; i < count; i++)
                {
                    dims[i] = ReadInt32(field);
                    if (dims[i] < 0)
                    {
                        UaThrow.Decode(_offset + dimsAt, field, $"ArrayDimensions[{i}] is negative ({dims[i]})");
                    }

                    product = Math.Min(product * dims[i], int.MaxValue + 1L);
                }

                if (count < 2 || product != array.Length)
                {
                    UaThrow.Decode(_offset + dimsAt, field, $"ArrayDimensions [{string.Join(',', dims)}] do not match an array of {array.Length}");
                }
            }

            result = Variant.FromDecodedArray(type, array, dims);
        }

        Leave();
        return result;
    }

    private Variant ReadScalar(BuiltInType type, string field) => type switch
    {
        BuiltInType.Null => default,
        BuiltInType.Boolean => Variant.FromDecodedScalar(type, ReadBoolean(field) ? 1 : 0, null),
        BuiltInType.SByte => Variant.FromDecodedScalar(type, ReadSByte(field), null),
        BuiltInType.Byte => Variant.FromDecodedScalar(type, ReadByte(field), null),
        BuiltInType.Int16 => Variant.FromDecodedScalar(type, ReadInt16(field), null),
        BuiltInType.UInt16 => Variant.FromDecodedScalar(type, ReadUInt16(field), null),
        BuiltInType.Int32 => Variant.FromDecodedScalar(type, ReadInt32(field), null),
        BuiltInType.UInt32 => Variant.FromDecodedScalar(type, ReadUInt32(field), null),
        BuiltInType.Int64 => Variant.FromDecodedScalar(type, ReadInt64(field), null),
        BuiltInType.UInt64 => Variant.FromDecodedScalar(type, unchecked((long)ReadUInt64(field)), null),
        BuiltInType.Float => Variant.FromDecodedScalar(type, BitConverter.SingleToInt32Bits(ReadFloat(field)), null),
        BuiltInType.Double => Variant.FromDecodedScalar(type, BitConverter.DoubleToInt64Bits(ReadDouble(field)), null),
        BuiltInType.String => Variant.FromDecodedScalar(type, 0, ReadString(field)),
        BuiltInType.DateTime => Variant.FromDecodedScalar(type, ReadDateTime(field).Ticks, null),
        BuiltInType.Guid => Variant.FromDecodedScalar(type, 0, ReadGuid(field)),
        BuiltInType.ByteString => Variant.FromDecodedScalar(type, 0, ReadByteString(field)),
        BuiltInType.XmlElement => Variant.FromDecodedScalar(type, 0, ReadXmlElement(field)),
        BuiltInType.NodeId => Variant.FromDecodedScalar(type, 0, ReadNodeId(field)),
        BuiltInType.ExpandedNodeId => Variant.FromDecodedScalar(type, 0, ReadExpandedNodeId(field)),
        BuiltInType.StatusCode => Variant.FromDecodedScalar(type, ReadUInt32(field), null),
        BuiltInType.QualifiedName => Variant.FromDecodedScalar(type, 0, ReadQualifiedName(field)),
        BuiltInType.LocalizedText => Variant.FromDecodedScalar(type, 0, ReadLocalizedText(field)),
        BuiltInType.ExtensionObject => Variant.FromDecodedScalar(type, 0, ReadExtensionObject(field)),
        BuiltInType.DataValue => Variant.FromDecodedScalar(type, 0, ReadDataValue(field)),
        _ => Variant.FromDecodedScalar(type, 0, ReadDiagnosticInfo(field)),
    };

    private static int MinSize(BuiltInType type) => type switch
    {
        BuiltInType.Int16 or BuiltInType.UInt16 => 2,
        BuiltInType.Int32 or BuiltInType.UInt32 or BuiltInType.Float or BuiltInType.String or BuiltInType.ByteString
            or BuiltInType.XmlElement or BuiltInType.StatusCode => 4,
        BuiltInType.Int64 or BuiltInType.UInt64 or BuiltInType.Double or BuiltInType.DateTime => 8,
        BuiltInType.Guid => 16,
        BuiltInType.QualifiedName => 6,
        BuiltInType.ExtensionObject => 3,
        BuiltInType.NodeId or BuiltInType.ExpandedNodeId => 2,
        _ => 1,
    };

    private Array ReadArrayOf(BuiltInType type, string field)
    {
        int n = ReadArrayLength(field, MinSize(type));
        switch (type)
        {
            case BuiltInType.Boolean:
                return Fill(new bool[n], ref this, static (ref UaBinaryDecoder d, string f) => d.ReadBoolean(f), field);
            case BuiltInType.SByte:
                return Fill(new sbyte[n], ref this, static (ref UaBinaryDecoder d, string f) => d.ReadSByte(f), field);
            case BuiltInType.Byte:
                {
                    byte[] bytes = _span.Slice(_position, n).ToArray();
                    _position += n;
                    return bytes;
                }

            case BuiltInType.Int16:
                return Fill(new short[n], ref this, static (ref UaBinaryDecoder d, string f) => d.ReadInt16(f), field);
            case BuiltInType.UInt16:
                return Fill(new ushort[n], ref this, static (ref UaBinaryDecoder d, string f) => d.ReadUInt16(f), field);
            case BuiltInType.Int32:
                return Fill(new int[n], ref this, static (ref UaBinaryDecoder d, string f) => d.ReadInt32(f), field);
            case BuiltInType.UInt32:
                return Fill(new uint[n], ref this, static (ref UaBinaryDecoder d, string f) => d.ReadUInt32(f), field);
            case BuiltInType.Int64:
                return Fill(new long[n], ref this, static (ref UaBinaryDecoder d, string f) => d.ReadInt64(f), field);
            case BuiltInType.UInt64:
                return Fill(new ulong[n], ref this, static (ref UaBinaryDecoder d, string f) => d.ReadUInt64(f), field);
            case BuiltInType.Float:
                return Fill(new float[n], ref this, static (ref UaBinaryDecoder d, string f) => d.ReadFloat(f), field);
            case BuiltInType.Double:
                return Fill(new double[n], ref this, static (ref UaBinaryDecoder d, string f) => d.ReadDouble(f), field);
            case BuiltInType.String:
            case BuiltInType.XmlElement:
                return Fill(new string?[n], ref this, static (ref UaBinaryDecoder d, string f) => d.ReadString(f), field);
            case BuiltInType.DateTime:
                return Fill(new DateTime[n], ref this, static (ref UaBinaryDecoder d, string f) => d.ReadDateTime(f), field);
            case BuiltInType.Guid:
                return Fill(new Guid[n], ref this, static (ref UaBinaryDecoder d, string f) => d.ReadGuid(f), field);
            case BuiltInType.ByteString:
                return Fill(new ReadOnlyMemory<byte>[n], ref this, static (ref UaBinaryDecoder d, string f) => d.ReadByteString(f), field);
            case BuiltInType.NodeId:
                return Fill(new NodeId[n], ref this, static (ref UaBinaryDecoder d, string f) => d.ReadNodeId(f), field);
            case BuiltInType.ExpandedNodeId:
                return Fill(new ExpandedNodeId[n], ref this, static (ref UaBinaryDecoder d, string f) => d.ReadExpandedNodeId(f), field);
            case BuiltInType.StatusCode:
                return Fill(new StatusCode[n], ref this, static (ref UaBinaryDecoder d, string f) => d.ReadStatusCode(f), field);
            case BuiltInType.QualifiedName:
                return Fill(new QualifiedName[n], ref this, static (ref UaBinaryDecoder d, string f) => d.ReadQualifiedName(f), field);
            case BuiltInType.LocalizedText:
                return Fill(new LocalizedText[n], ref this, static (ref UaBinaryDecoder d, string f) => d.ReadLocalizedText(f), field);
            case BuiltInType.ExtensionObject:
                return Fill(new ExtensionObject[n], ref this, static (ref UaBinaryDecoder d, string f) => d.ReadExtensionObject(f), field);
            case BuiltInType.DataValue:
                return Fill(new DataValue[n], ref this, static (ref UaBinaryDecoder d, string f) => d.ReadDataValue(f), field);
            case BuiltInType.Variant:
                return Fill(new Variant[n], ref this, static (ref UaBinaryDecoder d, string f) => d.ReadVariant(f), field);
            default:
                return Fill(new DiagnosticInfo[n], ref this, static (ref UaBinaryDecoder d, string f) => d.ReadDiagnosticInfo(f), field);
        }
    }

    public delegate T ElementReader<T>(ref UaBinaryDecoder decoder, string field);

    private static T[] Fill<T>(T[] array, ref UaBinaryDecoder decoder, ElementReader<T> read, string field)
    {
        for (int i = 0; i < array.Length; i++)
        {
            array[i] = read(ref decoder, field);
        }

        return array;
    }

    /// <summary>An array of structures or built-in values read with <paramref name="read"/> (null arrays read as empty).</summary>
    public T[] ReadArray<T>(string field, ElementReader<T> read, int minElementSize = 1)
    {
        int n = ReadArrayLength(field, minElementSize);
        return n == 0 ? [] : Fill(new T[n], ref this, read, field);
    }

    public string?[] ReadStringArray(string field) => ReadArray(field, static (ref UaBinaryDecoder d, string f) => d.ReadString(f), 4);

    public StatusCode[] ReadStatusCodeArray(string field) => ReadArray(field, static (ref UaBinaryDecoder d, string f) => d.ReadStatusCode(f), 4);

    public uint[] ReadUInt32Array(string field) => ReadArray(field, static (ref UaBinaryDecoder d, string f) => d.ReadUInt32(f), 4);

    public DiagnosticInfo[] ReadDiagnosticInfoArray(string field) => ReadArray(field, static (ref UaBinaryDecoder d, string f) => d.ReadDiagnosticInfo(f));

    [MethodImpl(MethodImplOptions.NoInlining)]
    internal readonly void Fail(string field, string reason) => UaThrow.Decode(_offset + _position, field, reason);
}
