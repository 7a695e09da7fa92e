using FactoryGateway.OpcUa.Encoding;

namespace FactoryGateway.OpcUa.Tests;

/// <summary>Limits of <see cref="UaDecoderLimits"/>: each one is enforced and named in the error, with the position and field.</summary>
public sealed class DecoderLimitTests
{
    private static readonly UaDecoderLimits s_small = new UaDecoderLimits { MaxStringLength = 10, MaxByteStringLength = 4, MaxArrayLength = 3, MaxNestingDepth = 5, MaxMessageSize = 8192 }.Validate();

    [Fact]
    public void A_string_over_MaxStringLength_is_rejected_before_it_is_read()
    {
        byte[] bytes = BinaryEncodingTests.Encode(e =>
        {
            e.WriteUInt32(7);
            e.WriteString("eleven char");
        });

        var error = Assert.Throws<UaDecodeException>(() =>
        {
            var d = new UaBinaryDecoder(bytes, s_small);
            d.ReadUInt32("Header");
            d.ReadString("BrowseName");
        });

        Assert.Equal("position 4, field 'BrowseName': string length 11 exceeds MaxStringLength 10", error.Message);
        Assert.Equal(4, error.Position);
        Assert.Equal("BrowseName", error.Field);
    }

    [Fact]
    public void A_byte_string_over_MaxByteStringLength_is_rejected()
    {
        byte[] bytes = BinaryEncodingTests.Encode(e => e.WriteByteString(new byte[5]));

        var error = Assert.Throws<UaDecodeException>(() => new UaBinaryDecoder(bytes, s_small).ReadByteString("ContinuationPoint"));

        Assert.Equal("position 0, field 'ContinuationPoint': byte string length 5 exceeds MaxByteStringLength 4", error.Message);
    }

    [Fact]
    public void An_array_over_MaxArrayLength_is_rejected()
    {
        byte[] bytes = BinaryEncodingTests.Encode(e => e.WriteVariant(Variant.FromArray(BuiltInType.Int32, (int[])[1, 2, 3, 4])));

        var error = Assert.Throws<UaDecodeException>(() => new UaBinaryDecoder(bytes, s_small).ReadVariant("Value"));

        Assert.Equal("position 1, field 'Value': array length 4 exceeds MaxArrayLength 3", error.Message);
    }

    [Fact]
    public void A_forged_array_length_cannot_allocate_beyond_the_message()
    {
        // Variant Double[] claiming 60,000 elements with 8 bytes present.
        byte[] bytes = [0x8B, 0x60, 0xEA, 0x00, 0x00, 1, 2, 3, 4, 5, 6, 7, 8];

        var error = Assert.Throws<UaDecodeException>(() => new UaBinaryDecoder(bytes).ReadVariant("Value"));

        Assert.Equal("position 1, field 'Value': array length 60000 needs at least 480000 bytes, 8 remain (truncated message)", error.Message);
    }

    [Fact]
    public void Nesting_deeper_than_MaxNestingDepth_is_rejected()
    {
        // Variant arrays of one Variant, nested 10 deep.
        var bytes = new List<byte>();
        for (int i = 0; i < 10; i++)
        {
            bytes.AddRange([0x98, 1, 0, 0, 0]);
        }

        bytes.Add(0);

        var error = Assert.Throws<UaDecodeException>(() => new UaBinaryDecoder(bytes.ToArray(), s_small).ReadVariant("Value"));

        Assert.Equal("position 25, field 'Value': nesting depth 6 exceeds MaxNestingDepth 5", error.Message);
    }

    [Fact]
    public void A_message_over_MaxMessageSize_is_rejected_up_front()
    {
        var error = Assert.Throws<UaDecodeException>(() => new UaBinaryDecoder(new byte[8193], s_small));

        Assert.Equal("position 0, field 'message': message size 8193 exceeds MaxMessageSize 8192", error.Message);
    }

    [Fact]
    public void Truncated_input_names_what_was_missing()
    {
        var error = Assert.Throws<UaDecodeException>(() => new UaBinaryDecoder(new byte[] { 1, 2, 3 }).ReadInt32("RequestHandle"));

        Assert.Equal("position 0, field 'RequestHandle': needs 4 bytes, 3 remain (truncated message)", error.Message);
    }

    [Fact]
    public void A_Variant_scalar_holding_a_Variant_is_rejected()
    {
        var error = Assert.Throws<UaDecodeException>(() => new UaBinaryDecoder(new byte[] { 24, 6, 1, 0, 0, 0 }).ReadVariant("Value"));

        Assert.Contains("a Variant scalar cannot hold a Variant", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(nameof(UaDecoderLimits.MaxNestingDepth))]
    [InlineData(nameof(UaDecoderLimits.MaxMessageSize))]
    [InlineData(nameof(UaDecoderLimits.MaxStringLength))]
    public void Out_of_range_limits_fail_validation_naming_the_limit(string name)
    {
        var limits = new UaDecoderLimits();
        typeof(UaDecoderLimits).GetProperty(name)!.SetValue(limits, -1);

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => limits.Validate());

        Assert.Equal(name, error.ParamName);
        Assert.Contains($"UaDecoderLimits.{name}", error.Message, StringComparison.Ordinal);
    }
}
