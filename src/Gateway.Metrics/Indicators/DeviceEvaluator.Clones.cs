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
/// each vector is compared with its next neighbours in two orders, by run count and by the minute of its first
/// state change, at most <see cref="IndicatorParameters.CloneMaxComparisons"/> in each, and each device is
/// counted with at most as many of the devices sharing its digest; so the cost is bounded per device-day however
/// many devices of one enterprise are alike. The correlation is computed from the run-length encodings
/// (<see cref="MinuteStates.Correlation(ReadOnlySpan{byte}, ReadOnlySpan{byte}, int, out int)"/>, at each lag).
/// </remarks>
public sealed partial class DeviceEvaluator
{
    /// <summary>
    /// One device-day's vector as the correlation test reads it: the device's number, its run count, the minute of
    /// its first state change, its encoding.
    /// </summary>
    private readonly record struct Series(int Device, int Runs, int FirstChange, ReadOnlyMemory<byte> Minutes);

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

        ReadOnlySpan<byte> minutes = day.MinuteRuns.Span;
        group.Add(new Series(device, MinuteStates.CountRuns(minutes), MinuteStates.FirstStateChange(minutes), day.MinuteRuns));
    }

    // Every group's correlated pairs (device numbers, lower first, with r), the groups computed in parallel.
    private List<(int A, int B, double R)> Correlate(IReadOnlyList<List<Series>> groups)
    {
        var found = new List<(int, int, double)>[groups.Count];
        Run(groups.Count, g => found[g] = Correlate(groups[g]));
        return [.. found.SelectMany(f => f)];
    }

    // One enterprise-day's pairs with r ≥ ClonePearsonMin over ≥ ClonePearsonMinMinutes common known minutes. Each
    // vector is compared with the next ones in two orders, at most CloneMaxComparisons in each: by run count, while
    // within the slack of its own (a shifted copy keeps its runs, an edited one moves by a few), and by the minute of
    // the first state change, while within the lag of its own (a shifted copy changes within the lag of its
    // original, however many other devices share its run count). Each order breaks its ties by the other key, so
    // vectors alike in both stand next to each other in both.
    private List<(int A, int B, double R)> Correlate(List<Series> group)
    {
        var found = new List<(int, int, double)>();
        if (group.Count < 2)
        {
            return found;
        }

        var compared = new HashSet<(int, int)>();
        int cap = _parameters.CloneMaxComparisons;
        Series[] byRuns = [.. group.OrderBy(s => s.Runs).ThenBy(s => s.FirstChange).ThenBy(s => s.Device)];
        for (int i = 0; i < byRuns.Length; i++)
        {
            // Sorted by runs: once the gap is over the slack it stays over (the slack grows slower than the gap).
            for (int j = i + 1, tried = 0; j < byRuns.Length && tried < cap && WithinRunSlack(byRuns[i], byRuns[j]); j++, tried++)
            {
                Compare(byRuns[i], byRuns[j]);
            }
        }

        Series[] byFirstChange = [.. group.OrderBy(s => s.FirstChange).ThenBy(s => s.Runs).ThenBy(s => s.Device)];
        for (int i = 0; i < byFirstChange.Length; i++)
        {
            for (int j = i + 1, tried = 0;
                 j < byFirstChange.Length && tried < cap && byFirstChange[j].FirstChange - byFirstChange[i].FirstChange <= _parameters.ClonePearsonMaxLagMinutes;
                 j++)
            {
                if (WithinRunSlack(byFirstChange[i], byFirstChange[j]))
                {
                    tried++;
                    Compare(byFirstChange[i], byFirstChange[j]);
                }
            }
        }

        return found;

        void Compare(in Series a, in Series b)
        {
            (int low, int high) = a.Device < b.Device ? (a.Device, b.Device) : (b.Device, a.Device);
            if (!compared.Add((low, high)))
            {
                return;
            }

            // Lag 0 first: r = 1 there (identical days) cannot be beaten, and the other lags are not walked.
            double r = double.NaN;
            for (int step = 0; step <= 2 * _parameters.ClonePearsonMaxLagMinutes && !(r >= 1); step++)
            {
                int lag = (step + 1) / 2 * (step % 2 == 0 ? -1 : 1);
                double atLag = MinuteStates.Correlation(a.Minutes.Span, b.Minutes.Span, lag, out int minutes);
                if (minutes >= _parameters.ClonePearsonMinMinutes && !double.IsNaN(atLag) && (double.IsNaN(r) || atLag > r))
                {
                    r = atLag; // the same whichever of the two is a: r(a, b, lag) = r(b, a, −lag) exactly
                }
            }

            if (r >= (double)_parameters.ClonePearsonMin) // NaN is never ≥
            {
                found.Add((low, high, r));
            }
        }
    }

    private bool WithinRunSlack(in Series smaller, in Series larger) =>
        larger.Runs - smaller.Runs <= Math.Max(_parameters.ClonePearsonRunSlack, (int)(_parameters.ClonePearsonRunShare * larger.Runs));

    // The clone evidence per device: its twins by digest (groups of devices sharing one day's digest key) and by
    // correlation (one entry per correlated pair and day), each pair counted over its days; twins in ordinal order.
    private Dictionary<(string, string), string> Clones(
        IEnumerable<List<(string, string)>> groups,
        IEnumerable<((string, string) A, (string, string) B, double R)> correlated)
    {
        var sameDays = new Dictionary<((string, string) A, (string, string) B), int>();
        foreach (List<(string, string)> same in groups.Where(s => s.Count > 1))
        {
            // Each with at most CloneMaxComparisons of the next ones (in device order): a crowd of copies costs
            // linearly, and every member still has twins.
            for (int i = 0; i < same.Count; i++)
            {
                for (int j = i + 1; j < same.Count && j - i <= _parameters.CloneMaxComparisons; j++)
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
