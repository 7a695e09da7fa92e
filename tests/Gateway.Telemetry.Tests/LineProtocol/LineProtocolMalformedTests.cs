using System.Buffers;
using System.Text;
using FactoryGateway.Telemetry.LineProtocol;

namespace FactoryGateway.Telemetry.Tests.LineProtocol;

/// <summary>
/// Malformed input and the exact error each gets: line, column, reason and the offending bytes.
/// Bodies are Latin-1 here so that a case can carry bytes that are not valid UTF-8.
/// </summary>
public sealed class LineProtocolMalformedTests
{
    /// <summary>Body, limit overrides (<c>tags=N,fields=N,lines=N,prec=P</c>), expected message.</summary>
    public static TheoryData<string, string, string> Cases => new()
    {
        { ",t=1 f=1", "", "line 1 col 1: missing measurement: \",t=1 f=1\"" },
        { " ,t=1 f=1", "", "line 1 col 2: missing measurement: \",t=1 f=1\"" },
        { "m", "", "line 1 col 2: missing fields: \"m\"" },
        { "m ", "", "line 1 col 3: missing fields: \"m \"" },
        { "m\\", "", "line 1 col 2: line ends with an escape character '\\'" },
        { "m\\ ", "", "line 1 col 4: missing fields: \"m\\\\ \"" },
        { "m, f=1", "", "line 1 col 3: missing tag key: \", f=1\"" },
        { "m,t f=1", "", "line 1 col 4: missing '=' after tag key: \"t\"" },
        { "m,t= f=1", "", "line 1 col 5: missing tag value: \"t=\"" },
        { "m,t=v, f=1", "", "line 1 col 7: missing tag key: \",t=v, f=1\"" },
        { "m,=v f=1", "", "line 1 col 3: missing tag key: \",=v f=1\"" },
        { "m,t=a=b f=1", "", "line 1 col 6: unescaped '=' in tag value: \"t=a=\"" },
        { "m,t=v", "", "line 1 col 6: missing fields: \"m,t=v\"" },
        { "m,t=v,u", "", "line 1 col 8: missing '=' after tag key: \"u\"" },
        { "m,t=v,", "", "line 1 col 7: missing tag key: \",t=v,\"" },
        { "m,t=\\", "", "line 1 col 5: line ends with an escape character '\\'" },
        { "m,a=1,b=2,c=3 f=1", "tags=2", "line 1 col 11: more than 2 tags (MaxTagsPerLine)" },
        { "m f", "", "line 1 col 4: missing '=' after field key: \"f\"" },
        { "m =1", "", "line 1 col 3: missing field key: \"=1\"" },
        { "m f=", "", "line 1 col 5: missing field value: \"\"" },
        { "m f=,g=1", "", "line 1 col 5: missing field value: \",g=1\"" },
        { "m f= 1", "", "line 1 col 5: missing field value: \" 1\"" },
        { "m f=1,", "", "line 1 col 7: missing field key: \"\"" },
        { "m f=1,,g=2", "", "line 1 col 7: missing field key: \",g=2\"" },
        { "m f=1,g", "", "line 1 col 8: missing '=' after field key: \"g\"" },
        { "m f=abc", "", "line 1 col 5: invalid field value: \"abc\"" },
        { "m f=1.2.3", "", "line 1 col 5: invalid field value: \"1.2.3\"" },
        { "m f=1e", "", "line 1 col 5: invalid field value: \"1e\"" },
        { "m f=1e+", "", "line 1 col 5: invalid field value: \"1e+\"" },
        { "m f=--1", "", "line 1 col 5: invalid field value: \"--1\"" },
        { "m f=+1", "", "line 1 col 5: invalid field value: \"+1\"" },
        { "m f=.", "", "line 1 col 5: invalid field value: \".\"" },
        { "m f=-", "", "line 1 col 5: invalid field value: \"-\"" },
        { "m f=1x", "", "line 1 col 5: invalid field value: \"1x\"" },
        { "m f=NaN", "", "line 1 col 5: NaN and infinity are not valid field values: \"NaN\"" },
        { "m f=-Inf", "", "line 1 col 5: NaN and infinity are not valid field values: \"-Inf\"" },
        { "m f=inf", "", "line 1 col 5: NaN and infinity are not valid field values: \"inf\"" },
        { "m f=Infinity", "", "line 1 col 5: NaN and infinity are not valid field values: \"Infinity\"" },
        { "m f=1e400", "", "line 1 col 5: float field value out of range: \"1e400\"" },
        { "m f=-1e400", "", "line 1 col 5: float field value out of range: \"-1e400\"" },
        { "m f=1" + new string('0', 309), "", $"line 1 col 5: float field value out of range: \"1{new string('0', 47)}\"…" },
        { "m f=-2" + new string('0', 308) + ".5", "", $"line 1 col 5: float field value out of range: \"-2{new string('0', 46)}\"…" },
        { "m f=12x3i", "", "line 1 col 5: invalid integer field value: \"12x3i\"" },
        { "m f=i", "", "line 1 col 5: invalid integer field value: \"i\"" },
        { "m f=-i", "", "line 1 col 5: invalid integer field value: \"-i\"" },
        { "m f=9223372036854775808i", "", "line 1 col 5: integer field value out of range: \"9223372036854775808i\"" },
        { "m f=-9223372036854775809i", "", "line 1 col 5: integer field value out of range: \"-9223372036854775809i\"" },
        { "m f=1.5i", "", "line 1 col 5: invalid integer field value: \"1.5i\"" },
        { "m f=-1u", "", "line 1 col 5: invalid unsigned integer field value: \"-1u\"" },
        { "m f=18446744073709551616u", "", "line 1 col 5: unsigned integer field value out of range: \"18446744073709551616u\"" },
        { "m f=100000000000000000000u", "", "line 1 col 5: unsigned integer field value out of range: \"100000000000000000000u\"" },
        { "m f=1 -00000000000000000009223372036854775809", "", "line 1 col 7: timestamp out of range: \"-00000000000000000009223372036854775809\"" },
        { "m f=u", "", "line 1 col 5: invalid unsigned integer field value: \"u\"" },
        { "m f=tru", "", "line 1 col 5: invalid boolean field value: \"tru\"" },
        { "m f=TRue", "", "line 1 col 5: invalid boolean field value: \"TRue\"" },
        { "m f=yes", "", "line 1 col 5: invalid field value: \"yes\"" },
        { "m f=\"abc", "", "line 1 col 5: unterminated string field value: \"\\\"abc\"" },
        { "m f=\"abc\\\"", "", "line 1 col 5: unterminated string field value: \"\\\"abc\\\\\\\"\"" },
        { "m f=\"a\"b", "", "line 1 col 8: unexpected data after string field value: \"\\\"a\\\"b\"" },
        { "m f=\"a\",", "", "line 1 col 9: missing field key: \"\"" },
        { "m f=1 abc", "", "line 1 col 7: invalid timestamp: \"abc\"" },
        { "m f=1 12a", "", "line 1 col 7: invalid timestamp: \"12a\"" },
        { "m f=1 1.5", "", "line 1 col 7: invalid timestamp: \"1.5\"" },
        { "m f=1 99999999999999999999", "", "line 1 col 7: timestamp out of range: \"99999999999999999999\"" },
        { "m f=1 1 2", "", "line 1 col 9: unexpected data after timestamp: \"2\"" },
        { "m f=1 -", "", "line 1 col 7: invalid timestamp: \"-\"" },
        { "m f=1 9223372037", "prec=s", "line 1 col 7: timestamp out of range for precision s: \"9223372037\"" },
        { "m f=1 153722867281", "prec=m", "line 1 col 7: timestamp out of range for precision m: \"153722867281\"" },
        { "m f=\"\u00ff\"", "", "line 1 col 6: invalid UTF-8: \"\\xFF\\\"\"" },
        { "m\u00c3 f=1", "", "line 1 col 2: invalid UTF-8: \"\\xC3 f=1\"" },
        { "m a=1,b=2,c=3", "fields=2", "line 1 col 11: more than 2 fields (MaxFieldsPerLine)" },
        { "m f=1 123456789012345678901234567890", "lines=32", "line 1 col 33: line exceeds 32 bytes (MaxLineBytes)" },
        { "m f=1i2", "", "line 1 col 5: invalid field value: \"1i2\"" },
        { "m f=t=1", "", "line 1 col 5: invalid boolean field value: \"t=1\"" },
        { "m f=1\t123", "", "line 1 col 5: invalid field value: \"1\\t123\"" },
        { "# c\n\nm f=x", "", "line 3 col 5: invalid field value: \"x\"" },
        { "m f=1\nm f=2\nm,t f=3", "", "line 3 col 4: missing '=' after tag key: \"t\"" },
        { "m f=\"x\" 1 \nm f=1 1\n\nm f=2 2 2", "", "line 4 col 9: unexpected data after timestamp: \"2\"" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Malformed_input_is_rejected_with_its_position_and_reason(string body, string overrides, string expected)
    {
        var limits = new LineProtocolLimits();
        TimestampPrecision precision = TimestampPrecision.Nanoseconds;
        foreach (string setting in overrides.Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            string[] pair = setting.Split('=');
            switch (pair[0])
            {
                case "tags":
                    limits.MaxTagsPerLine = int.Parse(pair[1]);
                    break;
                case "fields":
                    limits.MaxFieldsPerLine = int.Parse(pair[1]);
                    break;
                case "lines":
                    limits.MaxLineBytes = int.Parse(pair[1]);
                    break;
                case "prec":
                    Assert.True(TimestampPrecisions.TryParse(pair[1], out precision));
                    break;
                default:
                    throw new ArgumentException(setting);
            }
        }

        using var reader = new LineProtocolReader(limits);
        reader.Reset(precision);
        LineProtocolException error = ReadToError(reader, new ReadOnlySequence<byte>(Encoding.Latin1.GetBytes(body)));

        Assert.Equal(expected, error.Message);
        Assert.StartsWith($"line {error.Line} col {error.Column}: {error.Reason}", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_table_has_at_least_sixty_distinct_cases() =>
        Assert.True(Cases.Select(row => row.Data.Item1).Distinct().Count() >= 60);

    [Fact]
    public void A_line_longer_than_the_limit_is_refused_before_its_end_arrives()
    {
        var limits = new LineProtocolLimits { MaxLineBytes = 64 };
        using var reader = new LineProtocolReader(limits);
        reader.Reset(TimestampPrecision.Nanoseconds);
        byte[] partial = Encoding.ASCII.GetBytes("m f=\"" + new string('x', 200));
        LineProtocolException error = ReadToError(reader, LineProtocolTestSupport.Split(partial, 30, 90), isFinalBlock: false);

        Assert.Equal("line 1 col 65: line exceeds 64 bytes (MaxLineBytes)", error.Message);
    }

    [Fact]
    public void Offending_bytes_are_escaped_and_capped()
    {
        string body = "m f=" + new string('z', 100) + "\u0001";
        using var reader = new LineProtocolReader(new LineProtocolLimits());
        reader.Reset(TimestampPrecision.Nanoseconds);
        LineProtocolException error = ReadToError(reader, new ReadOnlySequence<byte>(Encoding.Latin1.GetBytes(body)));

        Assert.Equal($"line 1 col 5: invalid field value: \"{new string('z', 48)}\"…", error.Message);
    }

    [Fact]
    public void Limits_out_of_range_are_named()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new LineProtocolLimits { MaxFieldsPerLine = 0 }.Validate());

        Assert.StartsWith("LineProtocolLimits.MaxFieldsPerLine must be between 1 and 65536; it is 0.", error.Message, StringComparison.Ordinal);
    }

    private static LineProtocolException ReadToError(LineProtocolReader reader, ReadOnlySequence<byte> body, bool isFinalBlock = true)
    {
        var sequence = new SequenceReader<byte>(body);
        try
        {
            while (reader.TryRead(ref sequence, isFinalBlock, out _))
            {
            }
        }
        catch (LineProtocolException error)
        {
            return error;
        }

        throw Xunit.Sdk.FailException.ForFailure("the body was read without an error");
    }
}
