using System.Diagnostics.CodeAnalysis;

namespace FactoryGateway.Evidence;

/// <summary>
/// A GB/T 2260 administrative division code: six digits, province (2) + prefecture/city (2) + county (2),
/// for example 330402 (嘉兴市南湖区). A city is written with county digits 00 (330400), a province with
/// 0000 (330000).
/// </summary>
public static class RegionCode
{
    /// <summary>The length of a region code.</summary>
    public const int Length = 6;

    // GB/T 2260 province-level codes: 11–15, 21–23, 31–37, 41–46, 50–54, 61–65, 71 (Taiwan), 81 (Hong Kong),
    // 82 (Macau).
    private static readonly HashSet<int> s_provinces =
        [11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82];

    /// <summary>True when <paramref name="code"/> is six digits starting with a GB/T 2260 province code.</summary>
    public static bool IsValid([NotNullWhen(true)] string? code) => TryValidate(code, out _);

    /// <summary>Checks <paramref name="code"/>; on failure <paramref name="reason"/> says why, on success it is empty.</summary>
    public static bool TryValidate([NotNullWhen(true)] string? code, out string reason)
    {
        if (code is null)
        {
            reason = "the code is missing";
            return false;
        }

        if (code.Length != Length)
        {
            reason = $"a region code has {Length} digits, this one has {code.Length} characters";
            return false;
        }

        for (int i = 0; i < Length; i++)
        {
            if (!char.IsAsciiDigit(code[i]))
            {
                reason = $"character {i + 1} is {CreditCode.Show(code[i])}, not a digit";
                return false;
            }
        }

        int province = ((code[0] - '0') * 10) + (code[1] - '0');
        if (!s_provinces.Contains(province))
        {
            reason = $"'{code[..2]}' is not a GB/T 2260 province code";
            return false;
        }

        reason = string.Empty;
        return true;
    }
}
