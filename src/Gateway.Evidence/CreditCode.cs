using System.Diagnostics.CodeAnalysis;

namespace FactoryGateway.Evidence;

/// <summary>
/// The unified social credit code (统一社会信用代码) of GB 32100-2015 that identifies an enterprise: 18
/// characters from a 31-character alphabet, the last a mod-31 check character over the first 17.
/// </summary>
/// <remarks>
/// Layout: character 1 the registering authority (9 = market regulation), 2 the kind of organisation,
/// 3–8 the registering authority's GB/T 2260 region code (digits), 9–17 the organisation code
/// (GB 11714), 18 the check character. <see cref="TryValidate"/> checks the length, the alphabet, that
/// characters 3–8 are digits and the check character; it does not check the GB 11714 check character
/// inside the organisation code (character 17), which GB 32100 treats as part of the body. Codes are
/// upper case; a lower-case code is reported, never silently normalised.
/// </remarks>
public static class CreditCode
{
    /// <summary>The length of a credit code.</summary>
    public const int Length = 18;

    /// <summary>
    /// GB 32100-2015 table 2: the digits and the capital letters without I, O, Z, S and V. A character's
    /// value is its index here; the check character is the character whose value is the check value.
    /// </summary>
    public const string Alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY";

    // GB 32100-2015 §5: the weight of position i (1-based) is 3^(i-1) mod 31.
    private static ReadOnlySpan<byte> Weights => [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

    /// <summary>True when <paramref name="code"/> is a well-formed credit code with a correct check character.</summary>
    public static bool IsValid([NotNullWhen(true)] string? code) => TryValidate(code, out _);

    /// <summary>
    /// Checks <paramref name="code"/>; on failure <paramref name="reason"/> says what is wrong and where
    /// (1-based character positions), on success it is empty.
    /// </summary>
    public static bool TryValidate([NotNullWhen(true)] string? code, out string reason)
    {
        if (code is null)
        {
            reason = "the code is missing";
            return false;
        }

        if (code.Length != Length)
        {
            reason = $"a credit code has {Length} characters, this one has {code.Length}";
            return false;
        }

        for (int i = 0; i < Length; i++)
        {
            if (!TryDescribeCharacter(code[i], i, out reason))
            {
                return false;
            }
        }

        for (int i = 2; i < 8; i++)
        {
            if (!char.IsAsciiDigit(code[i]))
            {
                reason = $"characters 3-8 are the registering authority's GB/T 2260 region code and must be digits; character {i + 1} is {Show(code[i])}";
                return false;
            }
        }

        char expected = CheckCharacterOf(code.AsSpan(0, Length - 1));
        if (code[Length - 1] != expected)
        {
            reason = $"the check character is {Show(code[Length - 1])} but the GB 32100-2015 checksum of the first 17 characters gives '{expected}'";
            return false;
        }

        reason = string.Empty;
        return true;
    }

    /// <summary>
    /// The check character (character 18) for the first 17 characters of a code:
    /// <c>(31 − Σ value(c_i) × w_i mod 31) mod 31</c>, mapped back through <see cref="Alphabet"/>.
    /// </summary>
    /// <exception cref="ArgumentException">The input is not 17 characters of the alphabet.</exception>
    public static char ComputeCheckCharacter(ReadOnlySpan<char> first17)
    {
        if (first17.Length != Length - 1)
        {
            throw new ArgumentException($"The check character is computed over {Length - 1} characters, not {first17.Length}.", nameof(first17));
        }

        for (int i = 0; i < first17.Length; i++)
        {
            if (!TryDescribeCharacter(first17[i], i, out string reason))
            {
                throw new ArgumentException($"The first 17 characters are not a credit code body: {reason}.", nameof(first17));
            }
        }

        return CheckCharacterOf(first17);
    }

    private static char CheckCharacterOf(ReadOnlySpan<char> first17)
    {
        int sum = 0;
        for (int i = 0; i < first17.Length; i++)
        {
            sum += Alphabet.IndexOf(first17[i], StringComparison.Ordinal) * Weights[i];
        }

        return Alphabet[(31 - (sum % 31)) % 31];
    }

    private static bool TryDescribeCharacter(char c, int index, out string reason)
    {
        if (Alphabet.Contains(c, StringComparison.Ordinal))
        {
            reason = string.Empty;
            return true;
        }

        int position = index + 1;
        if (char.IsAsciiLetterLower(c))
        {
            reason = $"character {position} is {Show(c)}, lower case; credit codes are written in upper case";
        }
        else if (c is 'I' or 'O' or 'Z' or 'S' or 'V')
        {
            reason = $"character {position} is {Show(c)}, a letter credit codes never use (I, O, Z, S and V are excluded)";
        }
        else
        {
            reason = $"character {position} is {Show(c)}, which is not in the credit code alphabet (0-9 and A-Z without I, O, Z, S, V)";
        }

        return false;
    }

    internal static string Show(char c) =>
        c is >= ' ' and <= '~' ? $"'{c}'" : $"U+{(int)c:X4}";
}
