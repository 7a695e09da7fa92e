namespace FactoryGateway.Telemetry.LineProtocol;

/// <summary>Number conversions on the read path that are cheaper than the general parser for the common case.</summary>
public static class LineProtocolNumbers
{
    private const ulong MaxExactMantissa = 1UL << 53;

    // 10^0 … 10^22: every one is exactly representable as a double.
    private static readonly double[] s_powersOfTen =
    [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
        1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    ];

    /// <summary>
    /// Converts a decimal without an exponent (<c>-?digits[.digits]</c>, at most 19 significant digits, a mantissa up to
    /// 2^53 and at most 22 fraction digits) exactly as <see cref="double.Parse(string)"/> would: the mantissa
    /// and the power of ten are both exact doubles, so one IEEE division rounds correctly (Clinger's fast
    /// path). Returns false for anything else, which the caller hands to the general parser.
    /// </summary>
    public static bool TryParseShortDecimal(ReadOnlySpan<byte> text, out double value)
    {
        value = 0;
        int i = 0;
        bool negative = false;
        if (!text.IsEmpty && text[0] == '-')
        {
            negative = true;
            i = 1;
        }

        ulong mantissa = 0;
        int digits = 0;
        bool anyDigit = false;
        int fraction = -1;
        for (; i < text.Length; i++)
        {
            uint digit = (uint)(text[i] - '0');
            if (digit <= 9)
            {
                anyDigit = true;
                if (mantissa != 0 || digit != 0)
                {
                    digits++; // leading zeros are not significant
                }

                if (digits > 19)
                {
                    return false;
                }

                mantissa = (mantissa * 10) + digit;
                if (fraction >= 0)
                {
                    fraction++;
                }
            }
            else if (text[i] == '.' && fraction < 0)
            {
                fraction = 0;
            }
            else
            {
                return false;
            }
        }

        int scale = Math.Max(fraction, 0);
        if (!anyDigit || mantissa > MaxExactMantissa || scale >= s_powersOfTen.Length)
        {
            return false;
        }

        double magnitude = scale == 0 ? mantissa : mantissa / s_powersOfTen[scale];
        value = negative ? -magnitude : magnitude;
        return true;
    }
}
