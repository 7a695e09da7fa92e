namespace FactoryGateway.Evidence.Tests;

public sealed class CreditCodeTests
{
    [Fact]
    public void The_known_valid_code_is_valid()
    {
        Assert.True(CreditCode.TryValidate("91350100M000100Y43", out string reason));
        Assert.Equal("", reason);
        Assert.Equal('3', CreditCode.ComputeCheckCharacter("91350100M000100Y4"));
    }

    [Fact]
    public void The_check_character_of_a_made_up_body_matches_a_hand_computation()
    {
        // Body 913304020000FGW01, values by the alphabet index (F = 15, G = 16, W = 28) times the weights
        // 1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28:
        // 9×1 + 1×3 + 3×9 + 3×27 + 0×19 + 4×26 + 0×16 + 2×17 + 0×20 + 0×29 + 0×25 + 0×13 + 15×8 + 16×24
        // + 28×10 + 0×30 + 1×28 = 1070; 1070 mod 31 = 16; (31 − 16) mod 31 = 15 → 'F'.
        Assert.Equal('F', CreditCode.ComputeCheckCharacter("913304020000FGW01"));
        Assert.True(CreditCode.IsValid("913304020000FGW01F"));
        Assert.False(CreditCode.IsValid("913304020000FGW01G"));
    }

    [Fact]
    public void The_demo_code_has_a_wrong_check_character_and_its_corrected_form_is_valid()
    {
        // 91330402MA2B3C4D5: 9×1 + 1×3 + 3×9 + 3×27 + 0×19 + 4×26 + 0×16 + 2×17 + 21×20 + 10×29 + 2×25 + 11×13
        // + 3×8 + 12×24 + 4×10 + 13×30 + 5×28 = 2043; 2043 mod 31 = 28; 31 − 28 = 3 → '3', not 'E'.
        Assert.False(CreditCode.TryValidate("91330402MA2B3C4D5E", out string reason));
        Assert.Equal("the check character is 'E' but the GB 32100-2015 checksum of the first 17 characters gives '3'", reason);
        Assert.Equal('3', CreditCode.ComputeCheckCharacter("91330402MA2B3C4D5"));
        Assert.True(CreditCode.IsValid(EvidenceTest.Enterprise));
    }

    public static TheoryData<string?, string> InvalidCodes => new()
    {
        { null, "the code is missing" },
        { "", "a credit code has 18 characters, this one has 0" },
        { "91350100M000100Y4", "a credit code has 18 characters, this one has 17" },
        { "91350100M000100Y433", "a credit code has 18 characters, this one has 19" },
        { "91350100M000100Y44", "the check character is '4' but the GB 32100-2015 checksum of the first 17 characters gives '3'" },
        { "91350100m000100Y43", "character 9 is 'm', lower case; credit codes are written in upper case" },
        { "91350100M000100y43", "character 16 is 'y', lower case; credit codes are written in upper case" },
        { "91350100I000100Y43", "character 9 is 'I', a letter credit codes never use (I, O, Z, S and V are excluded)" },
        { "91350100O000100Y43", "character 9 is 'O', a letter credit codes never use (I, O, Z, S and V are excluded)" },
        { "91350100Z000100Y43", "character 9 is 'Z', a letter credit codes never use (I, O, Z, S and V are excluded)" },
        { "91350100S000100Y43", "character 9 is 'S', a letter credit codes never use (I, O, Z, S and V are excluded)" },
        { "91350100V000100Y43", "character 9 is 'V', a letter credit codes never use (I, O, Z, S and V are excluded)" },
        { "91350100M000100Y4V", "character 18 is 'V', a letter credit codes never use (I, O, Z, S and V are excluded)" },
        { "91350100-000100Y43", "character 9 is '-', which is not in the credit code alphabet (0-9 and A-Z without I, O, Z, S, V)" },
        { "9135010\u00A0M000100Y43", "character 8 is U+00A0, which is not in the credit code alphabet (0-9 and A-Z without I, O, Z, S, V)" },
        { "91A50100M000100Y43", "characters 3-8 are the registering authority's GB/T 2260 region code and must be digits; character 3 is 'A'" },
    };

    [Theory]
    [MemberData(nameof(InvalidCodes))]
    public void An_invalid_code_is_refused_with_the_reason(string? code, string expected)
    {
        Assert.False(CreditCode.TryValidate(code, out string reason));
        Assert.Equal(expected, reason);
        Assert.False(CreditCode.IsValid(code));
    }

    [Fact]
    public void Every_single_character_substitution_is_detected()
    {
        // The weights are non-zero mod 31 and 31 is prime, so changing any one character changes the sum.
        const string Valid = "91350100M000100Y43";
        for (int position = 0; position < Valid.Length; position++)
        {
            foreach (char replacement in CreditCode.Alphabet)
            {
                if (replacement == Valid[position])
                {
                    continue;
                }

                string changed = string.Concat(Valid.AsSpan(0, position), [replacement], Valid.AsSpan(position + 1));
                Assert.False(CreditCode.IsValid(changed), changed);
            }
        }
    }

    [Fact]
    public void The_alphabet_is_the_31_characters_of_GB_32100()
    {
        Assert.Equal(31, CreditCode.Alphabet.Length);
        Assert.Equal(31, CreditCode.Alphabet.Distinct().Count());
        Assert.DoesNotContain(CreditCode.Alphabet, c => c is 'I' or 'O' or 'Z' or 'S' or 'V');
    }

    [Fact]
    public void Computing_a_check_character_needs_17_characters_of_the_alphabet()
    {
        ArgumentException length = Assert.Throws<ArgumentException>(() => CreditCode.ComputeCheckCharacter("9135"));
        Assert.Equal("The check character is computed over 17 characters, not 4. (Parameter 'first17')", length.Message);

        ArgumentException letter = Assert.Throws<ArgumentException>(() => CreditCode.ComputeCheckCharacter("91350100O000100Y4"));
        Assert.Equal(
            "The first 17 characters are not a credit code body: character 9 is 'O', a letter credit codes never use (I, O, Z, S and V are excluded). (Parameter 'first17')",
            letter.Message);
    }
}
