using FactoryGateway.OpcUa.Encoding;

namespace FactoryGateway.OpcUa.Tests;

/// <summary>
/// Property: for random Variants of every built-in type (scalars, arrays, matrices, nested), decode(encode(v)) == v
/// and encode(decode(bytes)) == bytes. Seeds are fixed so a failure reproduces.
/// </summary>
public sealed class RoundTripPropertyTests
{
    public static TheoryData<int> Seeds => [1, 2, 3, 4, 5, 6, 7, 8];

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Random_variants_round_trip(int seed)
    {
        var generator = new VariantGenerator(new Random(seed));
        for (int i = 0; i < 400; i++)
        {
            Variant value = generator.Next(depth: 0);
            byte[] bytes = BinaryEncodingTests.Encode(e => e.WriteVariant(value));

            var decoder = new UaBinaryDecoder(bytes.AsMemory());
            Variant decoded = decoder.ReadVariant("v");

            Assert.Equal(0, decoder.Remaining);
            Assert.True(value.Equals(decoded), $"seed {seed} case {i}: {value} ({value.Type}) decoded as {decoded}");
            Assert.Equal(bytes, BinaryEncodingTests.Encode(e => e.WriteVariant(decoded)));
        }
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Random_node_ids_round_trip_in_binary_and_text(int seed)
    {
        var generator = new VariantGenerator(new Random(seed));
        for (int i = 0; i < 400; i++)
        {
            NodeId id = generator.NextNodeId();

            Assert.Equal(id, new UaBinaryDecoder(BinaryEncodingTests.Encode(e => e.WriteNodeId(id))).ReadNodeId("n"));
            Assert.Equal(id, NodeId.Parse(id.ToString()));
        }
    }

    internal sealed class VariantGenerator(Random random)
    {
        private static readonly BuiltInType[] s_types = Enum.GetValues<BuiltInType>().Where(t => t != BuiltInType.Null).ToArray();
        private static readonly long s_minTicks = new DateTime(1601, 1, 2, 0, 0, 0, DateTimeKind.Utc).Ticks;
        private static readonly long s_maxTicks = new DateTime(9999, 12, 30, 0, 0, 0, DateTimeKind.Utc).Ticks;

        public Variant Next(int depth)
        {
            BuiltInType type = s_types[random.Next(s_types.Length)];
            if (depth > 2 && type is BuiltInType.Variant or BuiltInType.DataValue or BuiltInType.DiagnosticInfo)
            {
                type = BuiltInType.Int32;
            }

            int shape = random.Next(4);
            if (type == BuiltInType.Variant || shape == 0)
            {
                int length = random.Next(0, 6);
                var array = Array.CreateInstance(Variant.ElementType(type)!, length);
                for (int i = 0; i < length; i++)
                {
                    array.SetValue(type == BuiltInType.Variant ? Next(depth + 1) : Scalar(type, depth), i);
                }

                return Variant.FromArray(type, array);
            }

            if (shape == 1)
            {
                int rows = random.Next(1, 4);
                int columns = random.Next(1, 4);
                var array = Array.CreateInstance(Variant.ElementType(type)!, rows * columns);
                for (int i = 0; i < array.Length; i++)
                {
                    array.SetValue(Scalar(type, depth), i);
                }

                return Variant.FromArray(type, array, [rows, columns]);
            }

            return ToVariant(type, Scalar(type, depth));
        }

        private static Variant ToVariant(BuiltInType type, object? value) => type switch
        {
            BuiltInType.Boolean => new Variant((bool)value!),
            BuiltInType.SByte => new Variant((sbyte)value!),
            BuiltInType.Byte => new Variant((byte)value!),
            BuiltInType.Int16 => new Variant((short)value!),
            BuiltInType.UInt16 => new Variant((ushort)value!),
            BuiltInType.Int32 => new Variant((int)value!),
            BuiltInType.UInt32 => new Variant((uint)value!),
            BuiltInType.Int64 => new Variant((long)value!),
            BuiltInType.UInt64 => new Variant((ulong)value!),
            BuiltInType.Float => new Variant((float)value!),
            BuiltInType.Double => new Variant((double)value!),
            BuiltInType.String => value is null ? default : new Variant((string)value),
            BuiltInType.DateTime => new Variant((DateTime)value!),
            BuiltInType.Guid => new Variant((Guid)value!),
            BuiltInType.ByteString => new Variant((ReadOnlyMemory<byte>)value!),
            BuiltInType.XmlElement => Variant.FromXmlElement((string?)value),
            BuiltInType.NodeId => new Variant((NodeId)value!),
            BuiltInType.ExpandedNodeId => new Variant((ExpandedNodeId)value!),
            BuiltInType.StatusCode => new Variant((StatusCode)value!),
            BuiltInType.QualifiedName => new Variant((QualifiedName)value!),
            BuiltInType.LocalizedText => new Variant((LocalizedText)value!),
            BuiltInType.ExtensionObject => new Variant((ExtensionObject)value!),
            BuiltInType.DataValue => new Variant((DataValue)value!),
            _ => new Variant((DiagnosticInfo)value!),
        };

        private object? Scalar(BuiltInType type, int depth) => type switch
        {
            BuiltInType.Boolean => random.Next(2) == 1,
            BuiltInType.SByte => (sbyte)random.Next(sbyte.MinValue, sbyte.MaxValue + 1),
            BuiltInType.Byte => (byte)random.Next(256),
            BuiltInType.Int16 => (short)random.Next(short.MinValue, short.MaxValue + 1),
            BuiltInType.UInt16 => (ushort)random.Next(ushort.MaxValue + 1),
            BuiltInType.Int32 => random.Next(int.MinValue, int.MaxValue),
            BuiltInType.UInt32 => (uint)random.NextInt64(uint.MaxValue + 1L),
            BuiltInType.Int64 => random.NextInt64(long.MinValue, long.MaxValue),
            BuiltInType.UInt64 => (ulong)random.NextInt64(long.MinValue, long.MaxValue),
            BuiltInType.Float => random.Next(8) == 0 ? float.NaN : (float)(random.NextDouble() * 1e6 - 5e5),
            BuiltInType.Double => random.Next(8) == 0 ? double.NegativeInfinity : random.NextDouble() * 1e12 - 5e11,
            BuiltInType.String or BuiltInType.XmlElement => Text(),
            BuiltInType.DateTime => random.Next(8) == 0 ? DateTime.MinValue : new DateTime(random.NextInt64(s_minTicks, s_maxTicks), DateTimeKind.Utc),
            BuiltInType.Guid => new Guid(Bytes(16)),
            BuiltInType.ByteString => new ReadOnlyMemory<byte>(Bytes(random.Next(0, 20))),
            BuiltInType.NodeId => NextNodeId(),
            BuiltInType.ExpandedNodeId => random.Next(3) == 0 ? new ExpandedNodeId(NextNodeId(), "urn:x:" + random.Next(100), (uint)random.Next(3)) : new ExpandedNodeId(NextNodeId()),
            BuiltInType.StatusCode => new StatusCode((uint)random.NextInt64(uint.MaxValue + 1L)),
            BuiltInType.QualifiedName => new QualifiedName((ushort)random.Next(5), Text()),
            BuiltInType.LocalizedText => new LocalizedText(random.Next(2) == 0 ? null : "en-US", Text()),
            BuiltInType.ExtensionObject => new ExtensionObject(new NodeId((uint)random.Next(5000, 9000), 2), ExtensionObjectEncoding.Binary, Bytes(random.Next(0, 12))),
            BuiltInType.DataValue => new DataValue(Next(depth + 1), new StatusCode((uint)random.Next(3) << 30), RandomTime(), RandomTime())
            {
                SourcePicoseconds = (ushort)random.Next(10_000),
                ServerPicoseconds = (ushort)random.Next(2),
            },
            _ => new DiagnosticInfo
            {
                SymbolicId = random.Next(-1, 5),
                Locale = random.Next(-1, 5),
                AdditionalInfo = random.Next(2) == 0 ? null : Text(),
                InnerStatusCode = random.Next(2) == 0 ? null : new StatusCode(StatusCode.BadTimeout),
                InnerDiagnosticInfo = depth < 3 && random.Next(3) == 0 ? new DiagnosticInfo { NamespaceUri = 1 } : null,
            },
        };

        private DateTime RandomTime() => random.Next(3) == 0 ? default : new DateTime(random.NextInt64(s_minTicks, s_maxTicks), DateTimeKind.Utc);

        public NodeId NextNodeId()
        {
            ushort ns = (ushort)(random.Next(3) == 0 ? random.Next(ushort.MaxValue + 1) : random.Next(3));
            return random.Next(4) switch
            {
                0 => new NodeId((uint)random.NextInt64(uint.MaxValue + 1L), ns),
                1 => new NodeId(Text() ?? "s", ns),
                2 => new NodeId(new Guid(Bytes(16)), ns),
                _ => new NodeId(Bytes(random.Next(0, 10)), ns),
            };
        }

        private string? Text() => random.Next(6) switch
        {
            0 => null,
            1 => string.Empty,
            2 => "水Boy;=" + random.Next(),
            _ => "Machine." + random.Next(10_000),
        };

        private byte[] Bytes(int count)
        {
            byte[] bytes = new byte[count];
            random.NextBytes(bytes);
            return bytes;
        }
    }
}
