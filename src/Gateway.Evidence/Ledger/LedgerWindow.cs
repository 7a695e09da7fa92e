namespace FactoryGateway.Evidence.Ledger;

/// <summary>
/// The ledger's indicator view of a window as <see cref="LedgerStore.ReadWindow"/> read it in one consistent
/// read: per device its month rollups (sealed days, still packed) and its open days, devices in ordinal
/// (enterprise, device) order, and the enterprises with an open day in the window.
/// </summary>
public sealed record LedgerWindow(int FromDay, int ToDay, IReadOnlyList<LedgerDeviceDays> Devices, IReadOnlySet<string> UnsealedEnterprises);

/// <summary>One device's days of a <see cref="LedgerWindow"/>: sealed ones in month rollups, open ones as figures.</summary>
public sealed class LedgerDeviceDays
{
    private readonly int _fromDay;
    private readonly int _toDay;

    internal LedgerDeviceDays(string enterprise, string device, int fromDay, int toDay)
    {
        Enterprise = enterprise;
        Device = device;
        _fromDay = fromDay;
        _toDay = toDay;
    }

    public string Enterprise { get; }

    public string Device { get; }

    /// <summary>
    /// The month rollups (<see cref="LedgerMonth"/>) overlapping the window, in month order, each with its days'
    /// encoded minute vectors (<see cref="LedgerMonth.EncodeMinutes"/>; null when the month has none).
    /// </summary>
    internal List<(int Month, byte[] Rollup, byte[]? Minutes)> Months { get; } = [];

    /// <summary>The open (unsealed) days in the window.</summary>
    internal List<LedgerDayFigures> Open { get; } = [];

    /// <summary>
    /// Replaces the content of <paramref name="into"/> with the device's days in the window, in day order, each
    /// with its encoded minute vector when the ledger holds it (decodes the rollups; thread-safe).
    /// </summary>
    /// <exception cref="InvalidDataException">A rollup cannot be read.</exception>
    public void ReadDays(List<LedgerDayFigures> into) => ReadDays(into, 0);

    /// <summary>
    /// As <see cref="ReadDays(List{LedgerDayFigures})"/>, with the minute vectors only of the days with at least
    /// <paramref name="minutesFromTransitions"/> state transitions (the others get none): the clone test reads
    /// the vectors of busy days only, and a month without one is not looked into.
    /// </summary>
    /// <exception cref="InvalidDataException">A rollup cannot be read.</exception>
    public void ReadDays(List<LedgerDayFigures> into, int minutesFromTransitions)
    {
        ArgumentNullException.ThrowIfNull(into);
        into.Clear();
        foreach ((int month, byte[] rollup, byte[]? minutes) in Months)
        {
            int start = into.Count;
            LedgerMonth.Decode(rollup, month, _fromDay, _toDay, into);
            if (minutes is not null && Busy(into, start, minutesFromTransitions))
            {
                LedgerMonth.AttachMinutes(minutes, month, into, start);
                for (int i = start; i < into.Count; i++)
                {
                    if (into[i].Transitions < minutesFromTransitions && !into[i].MinuteRuns.IsEmpty)
                    {
                        into[i] = into[i] with { MinuteRuns = default };
                    }
                }
            }
        }

        if (Open.Count > 0)
        {
            foreach (LedgerDayFigures day in Open)
            {
                into.Add(day.Transitions >= minutesFromTransitions ? day : day with { MinuteRuns = default });
            }

            into.Sort((a, b) => a.Day.CompareTo(b.Day));
        }
    }

    private static bool Busy(List<LedgerDayFigures> days, int start, int transitions)
    {
        for (int i = start; i < days.Count; i++)
        {
            if (days[i].Transitions >= transitions)
            {
                return true;
            }
        }

        return false;
    }
}
