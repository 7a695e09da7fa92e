using System.Buffers;
using System.Buffers.Binary;

namespace FactoryGateway.OpcUa.Encoding;

/// <summary>
/// Encodes the OPC UA binary encoding (OPC 10000-6 §5.2) into an <see cref="IBufferWriter{T}"/>.
/// Values that cannot be represented (an invalid built-in type, a mismatched array) throw
/// <see cref="UaEncodeException"/> naming the field.
/// </summary>
public sealed class UaBinaryEncoder
{
    private static readonly long s_maxFileTime = DateTime.MaxValue.ToFileTimeUtc();
    private static readonly DateTime s_minDateTime = DateTime.FromFileTimeUtc(0);

    private readonly IBufferWriter<byte> _output;

    public UaBinaryEncoder(IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        _output = output;
    }

    /// <summary>Bytes written through this encoder.</summary>
    public long BytesWritten { get; private set; }

    private Span<byte> Take(int count) => _output.GetSpan(count);

    private void Advance(int count)
    {
        _output.Advance(count);
        BytesWritten += count;
    }

    public void WriteBoolean(bool value) => WriteByte(value ? (byte)1 : (byte)0);

    public void WriteSByte(sbyte value) => WriteByte(unchecked((byte)value));

    public void WriteByte(byte value)
    {
        Take(1)[0] = value;
        Advance(1);
    }

    public void WriteInt16(short value)
    {
        BinaryPrimitives.WriteInt16LittleEndian(Take(2), value);
        Advance(2);
    }

    public void WriteUInt16(ushort value)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(Take(2), value);
        Advance(2);
    }

    public void WriteInt32(int value)
    {
        BinaryPrimitives.WriteInt32LittleEndian(Take(4), value);
        Advance(4);
    }

    public void WriteUInt32(uint value)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(Take(4), value);
        Advance(4);
    }

    public void WriteInt64(long value)
    {
        BinaryPrimitives.WriteInt64LittleEndian(Take(8), value);
        Advance(8);
    }

    public void WriteUInt64(ulong value)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(Take(8), value);
        Advance(8);
    }

    public void WriteFloat(float value)
    {
        BinaryPrimitives.WriteSingleLittleEndian(Take(4), value);
        Advance(4);
    }

    public void WriteDouble(double value)
    {
        BinaryPrimitives.WriteDoubleLittleEndian(Take(8), value);
        Advance(8);
    }

    public void WriteString(string? value)
    {
        if (value is null)
        {
            WriteInt32(-1);
            return;
        }

        int length = System.Text.Encoding.UTF8.GetByteCount(value);
        Span<byte> span = Take(4 + length);
        BinaryPrimitives.WriteInt32LittleEndian(span, length);
        System.Text.Encoding.UTF8.GetBytes(value, span[4..]);
        Advance(4 + length);
    }

    /// <summary>A ByteString; an empty value is written as the null ByteString (-1) unless <paramref name="emptyAsNull"/> is false.</summary>
    public void WriteByteString(ReadOnlySpan<byte> value, bool emptyAsNull = true)
    {
        if (value.IsEmpty && emptyAsNull)
        {
            WriteInt32(-1);
            return;
        }

        WriteInt32(value.Length);
        WriteRaw(value);
    }

    /// <summary>Bytes as they are, without a length prefix.</summary>
    public void WriteRaw(ReadOnlySpan<byte> value)
    {
        if (!value.IsEmpty)
        {
            value.CopyTo(Take(value.Length));
            Advance(value.Length);
        }
    }

    public void WriteDateTime(DateTime value)
    {
        if (value == DateTime.MaxValue)
        {
            WriteInt64(long.MaxValue);
            return;
        }

        DateTime utc = value.Kind == DateTimeKind.Local ? value.ToUniversalTime() : DateTime.SpecifyKind(value, DateTimeKind.Utc);
        WriteInt64(utc <= s_minDateTime ? 0 : Math.Min(utc.ToFileTimeUtc(), s_maxFileTime));
    }

    public void WriteGuid(Guid value)
    {
        value.TryWriteBytes(Take(16));
        Advance(16);
    }

    public void WriteStatusCode(StatusCode value) => WriteUInt32(value.Code);

    public void WriteXmlElement(string? value) => WriteString(value);

    public void WriteNodeId(NodeId? value) => WriteNodeId(value ?? NodeId.Null, 0);

    private void WriteNodeId(NodeId value, byte flags)
    {
        switch (value.IdType)
        {
            case NodeIdType.Numeric when value.NamespaceIndex == 0 && value.NumericIdentifier <= byte.MaxValue:
                WriteByte(flags);
                WriteByte((byte)value.NumericIdentifier);
                break;
            case NodeIdType.Numeric when value.NamespaceIndex <= byte.MaxValue && value.NumericIdentifier <= ushort.MaxValue:
                WriteByte((byte)(0x01 | flags));
                WriteByte((byte)value.NamespaceIndex);
                WriteUInt16((ushort)value.NumericIdentifier);
                break;
            case NodeIdType.Numeric:
                WriteByte((byte)(0x02 | flags));
                WriteUInt16(value.NamespaceIndex);
                WriteUInt32(value.NumericIdentifier);
                break;
            case NodeIdType.String:
                WriteByte((byte)(0x03 | flags));
                WriteUInt16(value.NamespaceIndex);
                WriteString(value.StringIdentifier);
                break;
            case NodeIdType.Guid:
                WriteByte((byte)(0x04 | flags));
                WriteUInt16(value.NamespaceIndex);
                WriteGuid(value.GuidIdentifier);
                break;
            default:
                WriteByte((byte)(0x05 | flags));
                WriteUInt16(value.NamespaceIndex);
                WriteByteString(value.OpaqueIdentifier, emptyAsNull: false);
                break;
        }
    }

    public void WriteExpandedNodeId(ExpandedNodeId? value)
    {
        value ??= ExpandedNodeId.Null;
        byte flags = (byte)((value.NamespaceUri is not null ? 0x80 : 0) | (value.ServerIndex != 0 ? 0x40 : 0));
        WriteNodeId(value.NodeId, flags);
        if (value.NamespaceUri is not null)
        {
            WriteString(value.NamespaceUri);
        }

        if (value.ServerIndex != 0)
        {
            WriteUInt32(value.ServerIndex);
        }
    }

    public void WriteQualifiedName(QualifiedName? value)
    {
        value ??= QualifiedName.Null;
        WriteUInt16(value.NamespaceIndex);
        WriteString(value.Name);
    }

    public void WriteLocalizedText(LocalizedText? value)
    {
        value ??= LocalizedText.Null;
        byte mask = (byte)((value.Locale is not null ? 0x01 : 0) | (value.Text is not null ? 0x02 : 0));
        WriteByte(mask);
        if (value.Locale is not null)
        {
            WriteString(value.Locale);
        }

        if (value.Text is not null)
        {
            WriteString(value.Text);
        }
    }

    public void WriteExtensionObject(ExtensionObject? value)
    {
        value ??= ExtensionObject.Null;
        WriteNodeId(value.TypeId);
        if (value.Value is IUaEncodable encodable && value.Body.IsEmpty)
        {
            WriteByte(1);
            var body = new ArrayBufferWriter<byte>(256);
            encodable.Encode(new UaBinaryEncoder(body));
            WriteInt32(body.WrittenCount);
            WriteRaw(body.WrittenSpan);
            return;
        }

        switch (value.Encoding)
        {
            case ExtensionObjectEncoding.None:
                WriteByte(0);
                break;
            default:
                WriteByte((byte)value.Encoding);
                WriteInt32(value.Body.Length);
                WriteRaw(value.Body.Span);
                break;
        }
    }

    public void WriteDataValue(DataValue? value)
    {
        if (value is null)
        {
            WriteByte(0);
            return;
        }

        byte mask = 0;
        mask |= value.Value.IsNull ? (byte)0 : (byte)0x01;
        mask |= value.Status.Code == 0 ? (byte)0 : (byte)0x02;
        mask |= value.SourceTimestamp == default ? (byte)0 : (byte)0x04;
        mask |= value.ServerTimestamp == default ? (byte)0 : (byte)0x08;
        mask |= value.SourcePicoseconds == 0 ? (byte)0 : (byte)0x10;
        mask |= value.ServerPicoseconds == 0 ? (byte)0 : (byte)0x20;
        WriteByte(mask);
        if ((mask & 0x01) != 0)
        {
            WriteVariant(value.Value);
        }

        if ((mask & 0x02) != 0)
        {
            WriteStatusCode(value.Status);
        }

        if ((mask & 0x04) != 0)
        {
            WriteDateTime(value.SourceTimestamp);
        }

        if ((mask & 0x10) != 0)
        {
            WriteUInt16(value.SourcePicoseconds);
        }

        if ((mask & 0x08) != 0)
        {
            WriteDateTime(value.ServerTimestamp);
        }

        if ((mask & 0x20) != 0)
        {
            WriteUInt16(value.ServerPicoseconds);
        }
    }

    public void WriteDiagnosticInfo(DiagnosticInfo? value)
    {
        if (value is null)
        {
            WriteByte(0);
            return;
        }

        byte mask = 0;
        mask |= value.SymbolicId >= 0 ? (byte)0x01 : (byte)0;
        mask |= value.NamespaceUri >= 0 ? (byte)0x02 : (byte)0;
        mask |= value.LocalizedText >= 0 ? (byte)0x04 : (byte)0;
        mask |= value.Locale >= 0 ? (byte)0x08 : (byte)0;
        mask |= value.AdditionalInfo is not null ? (byte)0x10 : (byte)0;
        mask |= value.InnerStatusCode is not null ? (byte)0x20 : (byte)0;
        mask |= value.InnerDiagnosticInfo is not null ? (byte)0x40 : (byte)0;
        WriteByte(mask);
        if (value.SymbolicId >= 0)
        {
            WriteInt32(value.SymbolicId);
        }

        if (value.NamespaceUri >= 0)
        {
            WriteInt32(value.NamespaceUri);
        }

        if (value.Locale >= 0)
        {
            WriteInt32(value.Locale);
        }

        if (value.LocalizedText >= 0)
        {
            WriteInt32(value.LocalizedText);
        }

        if (value.AdditionalInfo is not null)
        {
            WriteString(value.AdditionalInfo);
        }

        if (value.InnerStatusCode is { } inner)
        {
            WriteStatusCode(inner);
        }

        if (value.InnerDiagnosticInfo is not null)
        {
            WriteDiagnosticInfo(value.InnerDiagnosticInfo);
        }
    }

    public void WriteVariant(Variant value)
    {
        BuiltInType type = value.Type;
        if (type == BuiltInType.Null)
        {
            WriteByte(0);
            return;
        }

        if (!value.IsArray)
        {
            WriteByte((byte)type);
            WriteScalar(type, value.Bits, value.Object);
            return;
        }

        int[]? dims = value.Dimensions;
        WriteByte((byte)((byte)type | 0x80 | (dims is not null ? 0x40 : 0)));
        var array = (Array)value.Object!;
        WriteInt32(array.Length);
        WriteArrayElements(type, array);
        if (dims is not null)
        {
            WriteInt32(dims.Length);
            foreach (int d in dims)
            {
                WriteInt32(d);
            }
        }
    }

    private void WriteScalar(BuiltInType type, long bits, object? obj)
    {
        switch (type)
        {
            case BuiltInType.Boolean:
                WriteBoolean(bits != 0);
                break;
            case BuiltInType.SByte:
                WriteSByte((sbyte)bits);
                break;
            case BuiltInType.Byte:
                WriteByte((byte)bits);
                break;
            case BuiltInType.Int16:
                WriteInt16((short)bits);
                break;
            case BuiltInType.UInt16:
                WriteUInt16((ushort)bits);
                break;
            case BuiltInType.Int32:
                WriteInt32((int)bits);
                break;
            case BuiltInType.UInt32:
            case BuiltInType.StatusCode:
                WriteUInt32(unchecked((uint)bits));
                break;
            case BuiltInType.Int64:
            case BuiltInType.UInt64:
                WriteInt64(bits);
                break;
            case BuiltInType.Float:
                WriteInt32((int)bits);
                break;
            case BuiltInType.Double:
                WriteInt64(bits);
                break;
            case BuiltInType.DateTime:
                WriteDateTime(new DateTime(bits, DateTimeKind.Utc));
                break;
            default:
                WriteObject(type, obj);
                break;
        }
    }

    private void WriteObject(BuiltInType type, object? obj)
    {
        switch (type)
        {
            case BuiltInType.String:
            case BuiltInType.XmlElement:
                WriteString((string?)obj);
                break;
            case BuiltInType.Guid:
                WriteGuid((Guid)obj!);
                break;
            case BuiltInType.ByteString:
                WriteByteString(((ReadOnlyMemory<byte>)obj!).Span);
                break;
            case BuiltInType.NodeId:
                WriteNodeId((NodeId?)obj);
                break;
            case BuiltInType.ExpandedNodeId:
                WriteExpandedNodeId((ExpandedNodeId?)obj);
                break;
            case BuiltInType.QualifiedName:
                WriteQualifiedName((QualifiedName?)obj);
                break;
            case BuiltInType.LocalizedText:
                WriteLocalizedText((LocalizedText?)obj);
                break;
            case BuiltInType.ExtensionObject:
                WriteExtensionObject((ExtensionObject?)obj);
                break;
            case BuiltInType.DataValue:
                WriteDataValue((DataValue?)obj);
                break;
            case BuiltInType.DiagnosticInfo:
                WriteDiagnosticInfo((DiagnosticInfo?)obj);
                break;
            default:
                UaThrow.Encode("Variant", $"type {type} cannot be written as an object");
                break;
        }
    }

    private void WriteArrayElements(BuiltInType type, Array array)
    {
        switch (array)
        {
            case bool[] a:
                foreach (bool v in a)
                {
                    WriteBoolean(v);
                }

                break;
            case sbyte[] a:
                foreach (sbyte v in a)
                {
                    WriteSByte(v);
                }

                break;
            case byte[] a:
                WriteRaw(a);
                break;
            case short[] a:
                foreach (short v in a)
                {
                    WriteInt16(v);
                }

                break;
            case ushort[] a:
                foreach (ushort v in a)
                {
                    WriteUInt16(v);
                }

                break;
            case int[] a:
                foreach (int v in a)
                {
                    WriteInt32(v);
                }

                break;
            case uint[] a:
                foreach (uint v in a)
                {
                    WriteUInt32(v);
                }

                break;
            case long[] a:
                foreach (long v in a)
                {
                    WriteInt64(v);
                }

                break;
            case ulong[] a:
                foreach (ulong v in a)
                {
                    WriteUInt64(v);
                }

                break;
            case float[] a:
                foreach (float v in a)
                {
                    WriteFloat(v);
                }

                break;
            case double[] a:
                foreach (double v in a)
                {
                    WriteDouble(v);
                }

                break;
            case DateTime[] a:
                foreach (DateTime v in a)
                {
                    WriteDateTime(v);
                }

                break;
            case StatusCode[] a:
                foreach (StatusCode v in a)
                {
                    WriteStatusCode(v);
                }

                break;
            case Guid[] a:
                foreach (Guid v in a)
                {
                    WriteGuid(v);
                }

                break;
            case ReadOnlyMemory<byte>[] a:
                foreach (ReadOnlyMemory<byte> v in a)
                {
                    WriteByteString(v.Span);
                }

                break;
            case Variant[] a:
                foreach (Variant v in a)
                {
                    WriteVariant(v);
                }

                break;
            default:
                foreach (object? v in array)
                {
                    WriteObject(type, v);
                }

                break;
        }
    }

    /// <summary>An array length prefix and elements written with <paramref name="write"/> (null = the null array, -1).</summary>
    public void WriteArray<T>(IReadOnlyList<T>? values, Action<UaBinaryEncoder, T> write)
    {
        ArgumentNullException.ThrowIfNull(write);
        if (values is null)
        {
            WriteInt32(-1);
            return;
        }

        WriteInt32(values.Count);
        for (int i = 0; i < values.Count; i++)
        {
            write(this, values[i]);
        }
    }
}
