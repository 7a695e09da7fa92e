using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;
using FactoryGateway.Evidence.Ledger;

namespace FactoryGateway.Metrics.Indicators;

/// <summary>The evaluation of a window read as month rollups (<see cref="LedgerStore.ReadWindow"/>): in parallel over devices.</summary>
public sealed partial class DeviceEvaluator
{
    /// <summary>
    /// Evaluates every device of <paramref name="devices"/> over <paramref name="window"/> from
    /// <paramref name="ledger"/> (read for the same window). Gives the same evaluations as streaming the
    /// window's rows: the devices are decoded and accumulated in parallel (each device by one worker), then
    /// the cross-device flags (clone, duplicate identity) are merged in device order. Devices of the ledger
    /// that are not registered take part in the cross-device flags only. <paramref name="resolutions"/> holds
    /// the flags operators resolved (read from several threads), <paramref name="futureRefusals"/> the ingest's refusals for future timestamps.
    /// </summary>
    public IReadOnlyList<DeviceEvaluation> Evaluate(
        IndicatorWindow window,
        IReadOnlyList<IndicatorDevice> devices,
        LedgerWindow ledger,
        ResolutionBook? resolutions = null,
        IReadOnlyDictionary<(string Enterprise, string Device), long>? futureRefusals = null)
    {
        ArgumentNullException.ThrowIfNull(window);
        ArgumentNullException.ThrowIfNull(devices);
        ArgumentNullException.ThrowIfNull(ledger);
        if (ledger.FromDay != window.FromDay || ledger.ToDay != window.ToDay)
        {
            throw new ArgumentException($"the ledger was read for days [{ledger.FromDay}, {ledger.ToDay}), the window {window.Label} is [{window.FromDay}, {window.ToDay}).", nameof(ledger));
        }

        (Dictionary<(string, string), Totals> accumulators, Dictionary<string, HashSet<(string, string)>> owners) = Prepare(window, devices);
        IReadOnlyList<LedgerDeviceDays> ledgerDevices = ledger.Devices;

        // Contiguous slices of the (ordered) ledger devices: merging the slices in order keeps device order.
        int slices = Math.Max(1, Math.Min(Environment.ProcessorCount * 4, ledgerDevices.Count / 256));
        var found = new Slice[slices];
        Run(slices, s =>
        {
            var slice = found[s] = new Slice(window.Days);
            var days = new List<LedgerDayFigures>(64);
            for (int i = ledgerDevices.Count * s / slices; i < ledgerDevices.Count * (s + 1) / slices; i++)
            {
                LedgerDeviceDays device = ledgerDevices[i];
                device.ReadDays(days, _parameters.CloneMinTransitions); // the minute vectors of the days the clone test reads only
                Totals? totals = accumulators.GetValueOrDefault((device.Enterprise, device.Device));
                foreach (ref readonly LedgerDayFigures day in CollectionsMarshal.AsSpan(days))
                {
                    totals?.Add(day, _parameters);
                    if (day.Transitions >= _parameters.CloneMinTransitions)
                    {
                        if (day.HasDigest)
                        {
                            slice.Digests[day.Day - window.FromDay].Add((day.DigestKey, i));
                        }

                        AddSeries(slice.Series, day.Day, i, day);
                    }

                    foreach (string identity in day.Identities)
                    {
                        if (identity.StartsWith("serial_number=", StringComparison.Ordinal) || identity.StartsWith("product_instance_uri=", StringComparison.Ordinal)
                            || identity.StartsWith("cert_thumbprint=", StringComparison.Ordinal))
                        {
                            slice.Identities.Add((identity, i));
                        }
                    }
                }
            }
        });

        // Per day, the devices sharing a digest key (in device order).
        var groups = new List<(string, string)>[window.Days][];
        Run(window.Days, d =>
        {
            var first = new Dictionary<UInt128, int>();
            Dictionary<UInt128, List<(string, string)>>? same = null;
            foreach (Slice slice in found)
            {
                foreach ((UInt128 key, int device) in slice.Digests[d])
                {
                    if (first.TryAdd(key, device))
                    {
                        continue;
                    }

                    same ??= [];
                    if (!same.TryGetValue(key, out List<(string, string)>? list))
                    {
                        same[key] = list = [Key(ledgerDevices[first[key]])];
                    }

                    list.Add(Key(ledgerDevices[device]));
                }
            }

            groups[d] = same is null ? [] : [.. same.Values];
        });

        foreach (Slice slice in found)
        {
            foreach ((string identity, int device) in slice.Identities)
            {
                Own(owners, identity, Key(ledgerDevices[device]));
            }
        }

        // Per enterprise and day, the devices' vectors for the correlation test (in device order).
        var series = new Dictionary<(string Enterprise, int Day), List<Series>>();
        foreach (Slice slice in found)
        {
            foreach ((int day, List<Series> list) in slice.Series)
            {
                foreach (Series one in list)
                {
                    var key = (ledgerDevices[one.Device].Enterprise, day);
                    if (!series.TryGetValue(key, out List<Series>? group))
                    {
                        series[key] = group = [];
                    }

                    group.Add(one);
                }
            }
        }

        Dictionary<(string, string), string> clones = Clones(
            groups.SelectMany(g => g),
            Correlate([.. series.Values]).Select(p => (Key(ledgerDevices[p.A]), Key(ledgerDevices[p.B]), p.R)));
        Dictionary<(string, string), List<string>> duplicates = Duplicates(owners);
        var evaluations = new DeviceEvaluation[devices.Count];
        Run(evaluations.Length, i => evaluations[i] = Finish(accumulators[(devices[i].Enterprise, devices[i].Device)], window, clones, duplicates, resolutions ?? ResolutionBook.Empty, futureRefusals));
        return evaluations;
    }

    // The registered devices' running totals (with their enterprise's schedule) and the identities the register declares.
    private (Dictionary<(string, string), Totals> Accumulators, Dictionary<string, HashSet<(string, string)>> Owners) Prepare(
        IndicatorWindow window, IReadOnlyList<IndicatorDevice> devices)
    {
        var schedules = new Dictionary<string, int[]>(StringComparer.Ordinal);
        var accumulators = new Dictionary<(string, string), Totals>(devices.Count);
        var owners = new Dictionary<string, HashSet<(string, string)>>(StringComparer.Ordinal);
        foreach (IndicatorDevice device in devices)
        {
            if (!schedules.TryGetValue(device.Enterprise, out int[]? minutes))
            {
                schedules[device.Enterprise] = minutes = Schedule(device.Enterprise, window);
            }

            accumulators[(device.Enterprise, device.Device)] = new Totals(device, window, minutes);
        }

        foreach (IndicatorDevice device in devices)
        {
            if (device.SerialNumber is { Length: > 0 } serial)
            {
                Own(owners, "serial_number=" + serial, (device.Enterprise, device.Device));
            }

            if (device.ProductInstanceUri is { Length: > 0 } uri)
            {
                Own(owners, "product_instance_uri=" + uri, (device.Enterprise, device.Device));
            }
        }

        return (accumulators, owners);
    }

    private static (string, string) Key(LedgerDeviceDays device) => (device.Enterprise, device.Device);

    // Runs body(0 … count − 1) on the thread pool; the first failure is rethrown as itself.
    private static void Run(int count, Action<int> body)
    {
        try
        {
            Parallel.For(0, count, body);
        }
        catch (AggregateException error) when (error.InnerExceptions.Count > 0)
        {
            ExceptionDispatchInfo.Capture(error.InnerExceptions[0]).Throw();
            throw;
        }
    }

    /// <summary>What one worker found in its slice of devices: clone candidates per window day, identities seen.</summary>
    private sealed class Slice
    {
        public Slice(int days)
        {
            Digests = new List<(UInt128, int)>[days];
            for (int d = 0; d < days; d++)
            {
                Digests[d] = [];
            }
        }

        public List<(UInt128 Key, int Device)>[] Digests { get; }

        /// <summary>Per day, the slice's device-days taking part in the correlation test.</summary>
        public Dictionary<int, List<Series>> Series { get; } = [];

        public List<(string Identity, int Device)> Identities { get; } = [];
    }
}
