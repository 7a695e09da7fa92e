using FactoryGateway.Evidence.Ledger;

namespace FactoryGateway.Metrics.Indicators;

/// <summary>A flag the evaluation found and an operator resolved: it is reported, with who, why and when, and does not count.</summary>
public sealed record ResolvedFlag(RaisedFlag Flag, FlagResolution Resolution);

/// <summary>
/// The recorded flag resolutions, looked up per device, flag and window: the latest entry (by sequence) whose
/// window covers the report's window decides. A resolution for 2026Q3 covers its months; a <c>reopen</c>
/// for 2026-08 takes it back for August only.
/// </summary>
public sealed class ResolutionBook
{
    private readonly Dictionary<(string Enterprise, string Device, string Flag), List<FlagResolution>> _byFlag = [];

    public ResolutionBook(IEnumerable<FlagResolution> resolutions)
    {
        ArgumentNullException.ThrowIfNull(resolutions);
        foreach (FlagResolution resolution in resolutions.OrderBy(r => r.Sequence))
        {
            var key = (resolution.Enterprise, resolution.Device, resolution.Flag);
            if (!_byFlag.TryGetValue(key, out List<FlagResolution>? list))
            {
                _byFlag[key] = list = [];
            }

            list.Add(resolution);
        }
    }

    public static ResolutionBook Empty { get; } = new([]);

    /// <summary>The resolution in force for <paramref name="flag"/> of <paramref name="device"/> over <paramref name="window"/>, or null.</summary>
    public FlagResolution? Find(IndicatorDevice device, IntegrityCheck flag, IndicatorWindow window)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentNullException.ThrowIfNull(window);
        if (!_byFlag.TryGetValue((device.Enterprise, device.Device, FlagNames.Of(flag)), out List<FlagResolution>? list))
        {
            return null;
        }

        for (int i = list.Count - 1; i >= 0; i--)
        {
            if (list[i].Covers(window.FromDay, window.ToDay))
            {
                return list[i].Action == ResolutionAction.Resolve ? list[i] : null;
            }
        }

        return null;
    }
}
