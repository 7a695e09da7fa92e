using System.Buffers;
using FactoryGateway.OpcUa.Encoding;
using FactoryGateway.OpcUa.Services;
using FactoryGateway.OpcUa.Transport;
using FactoryGateway.Testing;

namespace FactoryGateway.OpcUa.Tests;

/// <summary>
/// Truncated, bit-flipped and random inputs never crash or hang the decoders: they decode, or throw
/// our domain exception (<see cref="UaDecodeException"/>, <see cref="UaTcpFramingException"/>) and nothing else.
/// </summary>
public sealed class MalformedInputTests
{
    internal static byte[] PublishResponse(int notifications, int seed)
    {
        var generator = new RoundTripPropertyTests.VariantGenerator(new Random(seed));
        var items = new MonitoredItemNotification[notifications];
        for (int i = 0; i < items.Length; i++)
        {
            Variant value = i % 3 == 0 ? generator.Next(0) : new Variant(i * 1.5);
            items[i] = new MonitoredItemNotification((uint)i + 1, new DataValue(value, default, new DateTime(2025, 3, 1, 0, 0, 0, DateTimeKind.Utc).AddMilliseconds(i), default));
        }

        var message = new NotificationMessage(7, new DateTime(2025, 3, 1, 0, 0, 0, DateTimeKind.Utc), [new ExtensionObject(new DataChangeNotificationBody(new DataChangeNotification(items)))]);
        return BinaryEncodingTests.Encode(e => StructureCodec.WritePublishResponse(e, 42, DateTime.UtcNow, 3, message));
    }

    private static PublishResult DecodePublishResponse(byte[] bytes)
    {
        var d = new UaBinaryDecoder(bytes.AsMemory());
        NodeId type = d.ReadNodeId("type");
        d.ReadDateTime("ResponseHeader.Timestamp");
        d.ReadUInt32("ResponseHeader.RequestHandle");
        d.ReadStatusCode("ResponseHeader.ServiceResult");
        d.ReadDiagnosticInfo("ResponseHeader.ServiceDiagnostics");
        d.ReadStringArray("ResponseHeader.StringTable");
        d.ReadExtensionObject("ResponseHeader.AdditionalHeader");
        _ = type;
        return StructureCodec.ReadPublishResult(ref d);
    }

    [Fact]
    public void A_valid_Publish_response_decodes_to_its_notifications()
    {
        PublishResult result = DecodePublishResponse(PublishResponse(50, 1));

        var data = Assert.IsType<DataChangeNotification>(Assert.Single(result.Message.NotificationData).Value);
        Assert.Equal(50, data.MonitoredItems.Count);
        Assert.Equal(3u, result.SubscriptionId);
        Assert.Equal(7u, result.Message.SequenceNumber);
        Assert.Equal(1.5, data.MonitoredItems[1].Value.Value.Value);
    }

    [Fact]
    public void Every_truncation_of_a_Publish_response_throws_only_UaDecodeException()
    {
        byte[] bytes = PublishResponse(30, 2);
        for (int length = 0; length < bytes.Length; length++)
        {
            Assert.Throws<UaDecodeException>(() => DecodePublishResponse(bytes[..length]));
        }
    }

    [Theory]
    [InlineData(11)]
    [InlineData(12)]
    [InlineData(13)]
    public void Mutated_Publish_responses_decode_or_throw_only_UaDecodeException(int seed)
    {
        byte[] original = PublishResponse(40, seed);
        var random = new Random(seed);
        for (int i = 0; i < 3000; i++)
        {
            byte[] bytes = (byte[])original.Clone();
            int flips = random.Next(1, 6);
            for (int f = 0; f < flips; f++)
            {
                int at = random.Next(bytes.Length);
                bytes[at] = random.Next(3) switch
                {
                    0 => (byte)(bytes[at] ^ (1 << random.Next(8))),
                    1 => 0xFF,
                    _ => (byte)random.Next(256),
                };
            }

            try
            {
                DecodePublishResponse(bytes);
            }
            catch (UaDecodeException)
            {
            }
        }
    }

    [Fact]
    public void Random_bytes_decode_as_variants_or_throw_only_UaDecodeException()
    {
        var random = new Random(99);
        for (int i = 0; i < 20_000; i++)
        {
            byte[] bytes = new byte[random.Next(1, 64)];
            random.NextBytes(bytes);
            try
            {
                var d = new UaBinaryDecoder(bytes);
                while (d.Remaining > 0)
                {
                    d.ReadVariant("v");
                }
            }
            catch (UaDecodeException)
            {
            }
        }
    }

    [Fact]
    public void Every_prefix_of_a_chunk_needs_more_data_and_consumes_nothing()
    {
        byte[] chunk = [.. "MSGF"u8, 20, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
        for (int length = 0; length < chunk.Length; length++)
        {
            var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(chunk, 0, length));
            Assert.False(UaTcpFraming.TryReadChunk(ref reader, 65_536, out _));
            Assert.Equal(0, reader.Consumed);
        }

        var whole = new SequenceReader<byte>(SequenceSegments.Every(chunk, 3));
        Assert.True(UaTcpFraming.TryReadChunk(ref whole, 65_536, out UaTcpChunk parsed));
        Assert.Equal(UaTcpMessageType.Message, parsed.MessageType);
        Assert.Equal((byte)'F', parsed.ChunkType);
        Assert.Equal(12, parsed.Body.Length);
        Assert.Equal(20, whole.Consumed);
    }

    [Theory]
    [InlineData("XYZF", 16u, "message type XYZ is not HEL, ACK, ERR, RHE, OPN, CLO or MSG")]
    [InlineData("MSGX", 16u, "chunk type 0x58 is not F, C or A")]
    [InlineData("ACKC", 28u, "ACK must be a final chunk ('F'), not 0x43")]
    [InlineData("MSGF", 4u, "chunk size 4 is outside 8..65536 (the negotiated ReceiveBufferSize)")]
    [InlineData("MSGF", 70_000u, "chunk size 70000 is outside 8..65536 (the negotiated ReceiveBufferSize)")]
    public void Malformed_chunk_headers_are_rejected_with_the_reason(string type, uint size, string reason)
    {
        byte[] header = [.. System.Text.Encoding.ASCII.GetBytes(type), (byte)size, (byte)(size >> 8), (byte)(size >> 16), (byte)(size >> 24)];

        var error = Assert.Throws<UaTcpFramingException>(() =>
        {
            var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(header));
            UaTcpFraming.TryReadChunk(ref reader, 65_536, out _);
        });

        Assert.Equal(reason, error.Reason);
    }
}
