using FactoryGateway.Evidence;

namespace FactoryGateway.Metrics.Policies;

/// <summary>A numerator and denominator summed over a region (spec §4: regions add them, never average ratios).</summary>
public sealed record RegionTotal
{
    /// <summary>The GB/T 2260 code the figures were summed into.</summary>
    public required string Region { get; init; }

    public required decimal Numerator { get; init; }

    public required decimal Denominator { get; init; }

    /// <summary>How many input rows were summed.</summary>
    public required int Parts { get; init; }

    /// <summary>Numerator / denominator, or null when the denominator is 0.</summary>
    public decimal? Ratio => Denominator == 0 ? null : Numerator / Denominator;
}

/// <summary>County → city roll-up of GB/T 2260 codes for regional indicator figures.</summary>
public static class RegionRollup
{
    /// <summary>
    /// The city (prefecture) a county code belongs to: its first four digits and "00"; a city code maps to
    /// itself. Codes whose city digits are 90 (county-level units administered directly by the province,
    /// such as 429004 仙桃市) have no city: they map to themselves.
    /// </summary>
    /// <exception cref="ArgumentException">The code is not a GB/T 2260 code.</exception>
    public static string CityOf(string code)
    {
        if (!RegionCode.TryValidate(code, out string reason))
        {
            throw new ArgumentException($"region '{code}' is not a GB/T 2260 code: {reason}", nameof(code));
        }

        if (code[2] == '9' && code[3] == '0')
        {
            return code;
        }

        return string.Concat(code.AsSpan(0, 4), "00");
    }

    /// <summary>
    /// Sums numerators and denominators of county (or enterprise) rows into their cities, one total per
    /// city in ascending code order. Ratios are never averaged: a city's ratio is Σ numerators / Σ denominators.
    /// </summary>
    public static IReadOnlyList<RegionTotal> SumToCities(IEnumerable<(string Region, decimal Numerator, decimal Denominator)> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var totals = new SortedDictionary<string, (decimal Numerator, decimal Denominator, int Parts)>(StringComparer.Ordinal);
        foreach ((string region, decimal numerator, decimal denominator) in rows)
        {
            if (numerator < 0 || denominator < 0)
            {
                throw new ArgumentException($"region '{region}': numerator and denominator are counts, not negative ({numerator}/{denominator})", nameof(rows));
            }

            string city = CityOf(region);
            totals.TryGetValue(city, out (decimal Numerator, decimal Denominator, int Parts) sum);
            totals[city] = (sum.Numerator + numerator, sum.Denominator + denominator, sum.Parts + 1);
        }

        return [.. totals.Select(t => new RegionTotal { Region = t.Key, Numerator = t.Value.Numerator, Denominator = t.Value.Denominator, Parts = t.Value.Parts })];
    }
}
