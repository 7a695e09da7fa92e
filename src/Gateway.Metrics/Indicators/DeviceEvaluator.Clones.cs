using System.Globalization;
using FactoryGateway.Evidence.Ledger;

namespace FactoryGateway.Metrics.Indicators;

/// <summary>
/// The clone flag (spec §6): two devices whose per-minute state vectors are identical (equal digests) on at
/// least <see cref="IndicatorParameters.CloneDays"/> days, or correlated (Pearson's r ≥
/// <see cref="IndicatorParameters.ClonePearsonMin"/>, day by day, at the best lag within
/// <see cref="IndicatorParameters.ClonePearsonMaxLagMinutes"/>) on at least as many days. Only days with at least
/// <see cref="IndicatorParameters.CloneMinTransitions"/> transitions take part: a flat idle day proves nothing.
/// </summary>
/// <remarks>
/// Digests are compared across the whole ledger (a hash lookup per day). Correlations are computed only
/// between devices of the same enterprise on the same day whose vectors have about as many runs
/// (<see cref="IndicatorParameters.ClonePearsonRunSlack"/>, <see cref="IndicatorParameters.ClonePearsonRunShare"/>):
/// a copy shifted in time keeps its run count, and a few changed minutes move it by a few. Per enterprise-day
/// the candidates are sorted by run count and each is compared with the next ones within the slack, so the
/// cost grows with the devices of one enterprise that are busy alike on one day, not with the square of the
/// ledger. The correlation is computed from the run-length encodings (<see cref="MinuteStates.Correlation(ReadOnlySpan{byte}, ReadOnlySpan{byte}, int, out int)"/>, at each lag).
/// </remarks>
public sealed partial class DeviceEvaluator
{
    /// <summary>One device-day's vector as the correlation test reads it: the device's number, its run count, its encoding.</summary>
    private readonly record struct Series(int Device, int Runs, ReadOnlyMemory<byte> Minutes);

    private static void AddSeries<TKey>(Dictionary<TKey, List<Series>> groups, TKey key, int device, in LedgerDayFigures day)
        where TKey : notnull
    {
        if (day.MinuteRuns.IsEmpty)
        {
            return; // read without its vector: only the digest test applies
        }

        if (!groups.TryGetValue(key, out List<Series>? group))
        {
            groups[key] = group = [];
        }

        group.Add(new Series(device, MinuteStates.CountRuns(day.MinuteRuns.Span), day.MinuteRuns));
    }

    // Every group's correlated pairs (device numbers, lower first, with r), the groups computed in parallel.
    private List<(int A, int B, double R)> Correlate(IReadOnlyList<List<Series>> groups)
    {
        var found = new List<(int, int, double)>[groups.Count];
        Run(groups.Count, g => found[g] = Correlate(groups[g]));
        return [.. found.SelectMany(f => f)];
    }

    // One enterprise-day's pairs with r ≥ ClonePearsonMin over ≥ ClonePearsonMinMinutes common known minutes,
    // comparing each vector only with those whose run count is within the slack of its own.
    private List<(int A, int B, double R)> Correlate(List<Series> group)
    {
        var found = new List<(int, int, double)>();
        if (group.Count < 2)
        {
            return found;
        }

        Series[] sorted = [.. group.OrderBy(s => s.Runs).ThenBy(s => s.Device)];
        double min = (double)_parameters.ClonePearsonMin;
        for (int i = 0; i < sorted.Length; i++)
        {
            for (int j = i + 1; j < sorted.Length; j++)
            {
                // Sorted by runs: once the gap is over the slack it stays over (the slack grows slower than the gap).
                int larger = sorted[j].Runs;
                if (larger - sorted[i].Runs > Math.Max(_parameters.ClonePearsonRunSlack, (int)(_parameters.ClonePearsonRunShare * larger)))
                {
                    break;
                }

                double r = double.NaN;
                for (int lag = -_parameters.ClonePearsonMaxLagMinutes; lag <= _parameters.ClonePearsonMaxLagMinutes; lag++)
                {
                    double atLag = MinuteStates.Correlation(sorted[i].Minutes.Span, sorted[j].Minutes.Span, lag, out int minutes);
                    if (minutes >= _parameters.ClonePearsonMinMinutes && !double.IsNaN(atLag) && (double.IsNaN(r) || atLag > r))
                    {
                        r = atLag; // the same whichever of the two is a: r(a, b, lag) = r(b, a, −lag) exactly
                    }
                }

                if (r >= min) // NaN is never ≥
                {
                    (int a, int b) = sorted[i].Device < sorted[j].Device ? (sorted[i].Device, sorted[j].Device) : (sorted[j].Device, sorted[i].Device);
                    found.Add((a, b, r));
                }
            }
        }

        return found;
    }

    // The clone evidence per device: its twins by digest (groups of devices sharing one day's digest key) and by
    // correlation (one entry per correlated pair and day), each pair counted over its days; twins in ordinal order.
    private Dictionary<(string, string), string> Clones(
        IEnumerable<List<(string, string)>> groups,
        IEnumerable<((string, string) A, (string, string) B, double R)> correlated)
    {
        var sameDays = new Dictionary<((string, string) A, (string, string) B), int>();
        foreach (List<(string, string)> same in groups.Where(s => s.Count > 1))
        {
            for (int i = 0; i < same.Count; i++)
            {
                for (int j = i + 1; j < same.Count; j++)
                {
                    var pair = Ordered(same[i], same[j]);
                    sameDays[pair] = sameDays.GetValueOrDefault(pair) + 1;
                }
            }
        }

        var correlatedDays = new Dictionary<((string, string) A, (string, string) B), (int Days, double Lowest)>();
        foreach (((string, string) a, (string, string) b, double r) in correlated)
        {
            var pair = Ordered(a, b);
            (int days, double lowest) = correlatedDays.GetValueOrDefault(pair, (0, double.MaxValue));
            correlatedDays[pair] = (days + 1, Math.Min(lowest, r));
        }

        var byDigest = new Dictionary<(string, string), List<string>>();
        foreach ((((string, string) a, (string, string) b), int days) in sameDays)
        {
            if (days >= _parameters.CloneDays)
            {
                Add(byDigest, a, Name(b));
                Add(byDigest, b, Name(a));
            }
        }

        var byPearson = new Dictionary<(string, string), List<string>>();
        foreach ((((string, string) a, (string, string) b), (int days, double lowest)) in correlatedDays)
        {
            if (days >= _parameters.CloneDays && sameDays.GetValueOrDefault((a, b)) < _parameters.CloneDays)
            {
                // r is shown rounded down: the text never claims more correlation than was found.
                string evidence = string.Create(CultureInfo.InvariantCulture, $"r ≥ {Math.Floor(lowest * 10_000) / 10_000:0.0000} on {days} day(s)");
                Add(byPearson, a, $"{Name(b)} ({evidence})");
                Add(byPearson, b, $"{Name(a)} ({evidence})");
            }
        }

        var clones = new Dictionary<(string, string), string>();
        foreach ((string, string) device in byDigest.Keys.Union(byPearson.Keys))
        {
            var parts = new List<string>(2);
            if (byDigest.TryGetValue(device, out List<string>? identical))
            {
                identical.Sort(StringComparer.Ordinal);
                parts.Add($"per-minute state vectors identical to {string.Join(", ", identical)} on {_parameters.CloneDays}+ day(s) (digest)");
            }

            if (byPearson.TryGetValue(device, out List<string>? similar))
            {
                similar.Sort(StringComparer.Ordinal);
                parts.Add(string.Create(CultureInfo.InvariantCulture,
                    $"per-minute states correlated with {string.Join(", ", similar)} (Pearson, limit r ≥ {_parameters.ClonePearsonMin} on {_parameters.CloneDays}+ day(s), lag within ±{_parameters.ClonePearsonMaxLagMinutes} min)"));
            }

            clones[device] = string.Join("; ", parts);
        }

        return clones;
    }

    private static ((string, string) A, (string, string) B) Ordered((string, string) a, (string, string) b) =>
        string.CompareOrdinal(Name(a), Name(b)) <= 0 ? (a, b) : (b, a);
}
