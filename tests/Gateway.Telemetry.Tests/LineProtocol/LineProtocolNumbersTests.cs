using System.Globalization;
using System.Text;
using FactoryGateway.Telemetry.LineProtocol;

namespace FactoryGateway.Telemetry.Tests.LineProtocol;

public sealed class LineProtocolNumbersTests
{
    [Theory]
    [InlineData("0")]
    [InlineData("-0")]
    [InlineData("-0.0")]
    [InlineData(".5")]
    [InlineData("5.")]
    [InlineData("12000.5")]
    [InlineData("0.1")]
    [InlineData("0.3")]
    [InlineData("850.25")]
    [InlineData("9007199254740992")]
    [InlineData("9007199254740.992")]
    [InlineData("0.0000000000000000000001")]
    [InlineData("000000000000000000000000012.5")]
    public void A_short_decimal_converts_exactly_as_the_general_parser_does(string text)
    {
        Assert.True(LineProtocolNumbers.TryParseShortDecimal(Encoding.ASCII.GetBytes(text), out double value));

        Assert.Equal(BitConverter.DoubleToInt64Bits(double.Parse(text, CultureInfo.InvariantCulture)), BitConverter.DoubleToInt64Bits(value));
    }

    [Theory]
    [InlineData("1e3")]
    [InlineData("123456789.123456789")]
    [InlineData("9007199254740993")]
    [InlineData("12345678901234567890")]
    [InlineData("0.00000000000000000000001")]
    [InlineData("")]
    [InlineData("-")]
    [InlineData(".")]
    [InlineData("1.2.3")]
    public void Anything_else_is_left_to_the_general_parser(string text) =>
        Assert.False(LineProtocolNumbers.TryParseShortDecimal(Encoding.ASCII.GetBytes(text), out _));

    [Fact]
    public void Random_decimals_convert_bit_for_bit_as_the_general_parser_does()
    {
        var random = new Random(20261122);
        int fast = 0;
        for (int n = 0; n < 200_000; n++)
        {
            int intDigits = random.Next(0, 17);
            int fractionDigits = random.Next(0, 17);
            var text = new StringBuilder();
            if (random.Next(2) == 0)
            {
                text.Append('-');
            }

            for (int i = 0; i < intDigits; i++)
            {
                text.Append((char)('0' + random.Next(10)));
            }

            if (fractionDigits > 0 || intDigits == 0)
            {
                text.Append('.');
                for (int i = 0; i < Math.Max(fractionDigits, 1); i++)
                {
                    text.Append((char)('0' + random.Next(10)));
                }
            }

            string value = text.ToString();
            if (LineProtocolNumbers.TryParseShortDecimal(Encoding.ASCII.GetBytes(value), out double parsed))
            {
                fast++;
                Assert.True(
                    BitConverter.DoubleToInt64Bits(double.Parse(value, CultureInfo.InvariantCulture)) == BitConverter.DoubleToInt64Bits(parsed),
                    value);
            }
        }

        Assert.InRange(fast, 100_000, 200_000); // most random values take the fast path, so the property is tested
    }
}
