using System.Buffers;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using FactoryGateway.Telemetry.LineProtocol;

namespace FactoryGateway.Evidence.Ledger;

/// <summary>
/// Turns canonical telemetry into device-day rows (spec §2), in memory and without I/O: the evidence
/// accumulator of the ingest feeds it the WAL's records in order and persists what it reports through
/// <see cref="LedgerStore"/>. Deterministic: the same lines in the same order give the same rows.
/// </summary>
/// <remarks>
/// <para><b>Input.</b> Measurement <c>telemetry</c> (tags <c>ent</c>, <c>dev</c>): every field is a signal
/// sample; <c>&lt;signal&gt;__status</c> (an integer OPC UA status code) is a non-Good sample of that signal.
/// Measurement <c>connection</c>: field <c>up</c> true is a connect or heartbeat, false a disconnect.
/// Measurement <c>identity</c>: string fields are the device's identity as seen (certificate thumbprint,
/// serial number, product instance URI). Lines without <c>ent</c> or <c>dev</c>, and other measurements,
/// are not evidence and are only counted.</para>
/// <para><b>Coverage.</b> Time t is covered when the device's last evidence (a sample that is not Bad, a
/// connect or a heartbeat) at or before t is at most <see cref="LedgerParameters.CoverageMaxAge"/> old and no
/// disconnect or Bad status is open. A minute is covered when its start is; state time is integrated over
/// covered time only. Missing data is never idle time.</para>
/// <para><b>Order.</b> Each device keeps a clock: the latest source time processed. A line older than it is
/// counted (<see cref="DeviceDayRow.OutOfOrder"/>, <see cref="DeviceDayRow.Samples"/>) and has no other
/// effect; the edge sends each device's samples in order, so this only marks misbehaving sources.</para>
/// <para><b>Sealing.</b> <see cref="AdvanceWatermark"/> takes the arrival time up to which every record is
/// known to be in; day D of an enterprise is sealed once D's end plus the late window is at or before it.
/// Sealing first moves each of the enterprise's device clocks to the day's end (closing coverage), then
/// hashes each row into its device's chain and each enterprise-day into a Merkle root. A sample for a
/// sealed day, or one arriving more than the late window after its day's end, is <c>late</c>: counted on
/// the arrival day's row, never applied to its own day.</para>
/// </remarks>
public sealed class EvidenceAccumulation
{
    private static readonly byte[] s_telemetry = "telemetry"u8.ToArray();
    private static readonly byte[] s_connection = "connection"u8.ToArray();
    private static readonly byte[] s_identity = "identity"u8.ToArray();
    private static readonly byte[] s_ent = "ent"u8.ToArray();
    private static readonly byte[] s_dev = "dev"u8.ToArray();
    private static readonly byte[] s_up = "up"u8.ToArray();
    private static readonly byte[] s_statusSuffix = "__status"u8.ToArray();

    private readonly LedgerParameters _parameters;
    private readonly IShiftCalendarSource _calendar;
    private readonly Dictionary<int, RawAlias> _byRaw = [];
    private readonly Dictionary<(string Enterprise, string Device), DeviceTracker> _byName = [];
    private readonly Dictionary<string, List<DeviceTracker>> _byEnterprise = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _sealedThrough = new(StringComparer.Ordinal);
    private readonly HashSet<string> _dirtySeals = new(StringComparer.Ordinal);
    private readonly List<DeviceDayRow> _sealedSinceCheckpoint = [];
    private readonly List<LedgerRoot> _rootsSinceCheckpoint = [];
    private readonly bool[] _shiftScratch = new bool[MinuteStates.MinutesPerDay];

    public EvidenceAccumulation(LedgerParameters parameters, IShiftCalendarSource calendar)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(calendar);
        _parameters = parameters.Validate();
        _calendar = calendar;
    }

    public LedgerParameters Parameters => _parameters;

    /// <summary>The arrival time up to which records are known to be in (Unix ns); <see cref="long.MinValue"/> before any.</summary>
    public long Watermark { get; private set; } = long.MinValue;

    /// <summary>Lines applied as evidence (telemetry, connection or identity with <c>ent</c> and <c>dev</c>).</summary>
    public long LinesApplied { get; private set; }

    /// <summary>Lines that are not evidence: no <c>ent</c> or <c>dev</c> tag, or another measurement.</summary>
    public long LinesIgnored { get; private set; }

    /// <summary>Late samples that could not be counted because their arrival day's row is sealed as well.</summary>
    public long LateUncounted { get; private set; }

    /// <summary>Devices tracked.</summary>
    public int DeviceCount => _byName.Count;

    /// <summary>The last sealed day of <paramref name="enterprise"/>, or null before its first sealing.</summary>
    public int? SealedThrough(string enterprise) => _sealedThrough.TryGetValue(enterprise, out int day) ? day : null;

    /// <summary>Every open row of every device (for reading; the rows stay owned by the accumulation).</summary>
    public IEnumerable<DeviceDayRow> OpenRows => _byName.Values.SelectMany(d => d.Open);

    /// <summary>Applies every line of a canonical body (nanosecond timestamps) that arrived at <paramref name="arrivalNanoseconds"/>.</summary>
    /// <exception cref="LineProtocolException">The body is not valid line protocol.</exception>
    public void Apply(ReadOnlySequence<byte> body, long arrivalNanoseconds, LineProtocolReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        reader.Reset(TimestampPrecision.Nanoseconds);
        var sequence = new SequenceReader<byte>(body);
        while (reader.TryRead(ref sequence, isFinalBlock: true, out LineProtocolLine line))
        {
            Apply(line, arrivalNanoseconds);
        }
    }

    /// <summary>Applies one line that arrived at <paramref name="arrivalNanoseconds"/>; a line without a timestamp has the arrival time.</summary>
    public void Apply(in LineProtocolLine line, long arrivalNanoseconds)
    {
        ReadOnlySpan<byte> measurement = line.Measurement;
        bool telemetry = measurement.SequenceEqual(s_telemetry);
        bool connection = !telemetry && measurement.SequenceEqual(s_connection);
        bool identity = !telemetry && !connection && measurement.SequenceEqual(s_identity);
        if ((!telemetry && !connection && !identity)
            || !line.TryGetTag(s_ent, out ReadOnlySpan<byte> ent)
            || !line.TryGetTag(s_dev, out ReadOnlySpan<byte> dev)
            || ent.IsEmpty
            || dev.IsEmpty)
        {
            LinesIgnored++;
            return;
        }

        LinesApplied++;
        DeviceTracker device = Track(ent, dev);
        long t = line.Timestamp ?? arrivalNanoseconds;
        int weight = telemetry ? line.FieldCount : 1;
        int day = LocalDays.DayOf(t, device.OffsetMinutes);

        if (arrivalNanoseconds - t > _parameters.BackfillAgeNs)
        {
            if (ArrivalRow(device, arrivalNanoseconds) is { } row)
            {
                row.Backfill += weight;
                row.Dirty = true;
            }
            else
            {
                LateUncounted += weight;
            }

            return;
        }

        if (IsSealed(device.Enterprise, day) || arrivalNanoseconds > LocalDays.StartOf(day + 1, device.OffsetMinutes) + _parameters.LateWindowNs)
        {
            if (ArrivalRow(device, arrivalNanoseconds) is { } row)
            {
                row.Late += weight;
                row.Dirty = true;
            }
            else
            {
                LateUncounted += weight;
            }

            return;
        }

        DeviceDayRow dayRow = Row(device, day);
        dayRow.Dirty = true;
        if (device.Clock != DeviceTracker.NoTime && t < device.Clock)
        {
            dayRow.OutOfOrder++;
            if (telemetry)
            {
                dayRow.Samples += weight;
            }

            return;
        }

        Advance(device, t);
        device.Dirty = true;
        if (telemetry)
        {
            dayRow.Samples += weight;
            dayRow.FirstNanoseconds ??= t;
            dayRow.LastNanoseconds = t;
            dayRow.MaxArrivalLagNanoseconds = Math.Max(dayRow.MaxArrivalLagNanoseconds, arrivalNanoseconds - t);
            ApplyFields(device, dayRow, line, t);
        }
        else if (connection)
        {
            dayRow.Events++;
            foreach (LineProtocolField field in line.Fields)
            {
                if (field.Key.SequenceEqual(s_up) && TryTruth(field, out bool up))
                {
                    device.Disconnected = !up;
                    if (up)
                    {
                        device.LastEvidence = t;
                    }
                }
            }
        }
        else
        {
            dayRow.Events++;
            foreach (LineProtocolField field in line.Fields)
            {
                string value = field.Kind == FieldKind.String ? field.AsString() : System.Text.Encoding.UTF8.GetString(field.RawValue);
                dayRow.Identities.Add($"{LineProtocolText.Unescape(field.Key)}={value}");
            }
        }
    }

    /// <summary>
    /// Records that every record that arrived up to <paramref name="arrivalNanoseconds"/> has been applied, and
    /// seals the days whose late window has passed by then. Never moves backwards.
    /// </summary>
    public void AdvanceWatermark(long arrivalNanoseconds)
    {
        if (arrivalNanoseconds <= Watermark)
        {
            return;
        }

        Watermark = arrivalNanoseconds;
        foreach ((string enterprise, List<DeviceTracker> devices) in _byEnterprise)
        {
            int offset = devices[0].OffsetMinutes;
            int sealable = LocalDays.DayOf(arrivalNanoseconds - _parameters.LateWindowNs, offset) - 1;
            if (SealedThrough(enterprise) is { } already && sealable <= already)
            {
                continue;
            }

            Seal(enterprise, devices, sealable, offset);
        }
    }

    /// <summary>What changed since the last <see cref="TakeChanges"/>: the persistence unit of one checkpoint.</summary>
    public LedgerChanges TakeChanges()
    {
        var rows = new List<DeviceDayRow>(_sealedSinceCheckpoint);
        var devices = new List<TrackerState>();
        foreach (DeviceTracker device in _byName.Values)
        {
            foreach (DeviceDayRow row in device.Open)
            {
                if (row.Dirty)
                {
                    ApplyShift(row);
                    rows.Add(row);
                }
            }

            if (device.Dirty)
            {
                devices.Add(new TrackerState(device.Enterprise, device.Device, device.SaveState()));
            }
        }

        var changes = new LedgerChanges(
            rows,
            [.. _rootsSinceCheckpoint],
            devices,
            _dirtySeals.ToDictionary(e => e, e => _sealedThrough[e], StringComparer.Ordinal),
            Watermark);
        foreach (DeviceDayRow row in rows)
        {
            row.Dirty = false;
        }

        foreach (DeviceTracker device in _byName.Values)
        {
            device.Dirty = false;
        }

        _sealedSinceCheckpoint.Clear();
        _rootsSinceCheckpoint.Clear();
        _dirtySeals.Clear();
        return changes;
    }

    /// <summary>Restores the state a checkpoint saved (before any line is applied).</summary>
    public void Restore(LedgerSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        if (_byName.Count > 0 || Watermark != long.MinValue)
        {
            throw new InvalidOperationException("Restore must come before any line is applied.");
        }

        Watermark = snapshot.Watermark;
        foreach ((string enterprise, int day) in snapshot.SealedThrough)
        {
            _sealedThrough[enterprise] = day;
        }

        foreach (TrackerState state in snapshot.Devices)
        {
            DeviceTracker device = Create(state.Enterprise, state.Device);
            device.LoadState(state.State);
        }

        foreach (DeviceDayRow row in snapshot.OpenRows.OrderBy(r => r.Day))
        {
            DeviceTracker device = Create(row.Enterprise, row.Device);
            row.Dirty = false;
            device.Open.Add(row);
        }
    }

    private bool IsSealed(string enterprise, int day) => _sealedThrough.TryGetValue(enterprise, out int sealedThrough) && day <= sealedThrough;

    // The row late or backfill samples are counted on: the device's row of the arrival day (null if sealed).
    private DeviceDayRow? ArrivalRow(DeviceTracker device, long arrivalNanoseconds)
    {
        int day = LocalDays.DayOf(arrivalNanoseconds, device.OffsetMinutes);
        return IsSealed(device.Enterprise, day) ? null : Row(device, day);
    }

    private DeviceDayRow Row(DeviceTracker device, int day)
    {
        List<DeviceDayRow> open = device.Open;
        for (int i = open.Count - 1; i >= 0; i--)
        {
            if (open[i].Day == day)
            {
                return open[i];
            }
        }

        var row = new DeviceDayRow(device.Enterprise, device.Device, day, device.OffsetMinutes, _parameters.FormulaSet);
        int at = open.Count;
        while (at > 0 && open[at - 1].Day > day)
        {
            at--;
        }

        open.Insert(at, row);
        return row;
    }

    // Moves the device's clock to `to`, adding the covered part of [clock, to) to the rows it falls in.
    private void Advance(DeviceTracker device, long to)
    {
        long from = device.Clock;
        if (from == DeviceTracker.NoTime)
        {
            device.Clock = to;
            return;
        }

        if (to <= from)
        {
            return;
        }

        if (!device.Disconnected && device.BadOpenCount == 0 && device.LastEvidence != DeviceTracker.NoTime)
        {
            long coveredUntil = Math.Min(to, device.LastEvidence + _parameters.CoverageMaxAgeNs);
            if (coveredUntil > from)
            {
                AddCovered(device, from, coveredUntil);
            }
        }

        device.Clock = to;
    }

    private void AddCovered(DeviceTracker device, long from, long to)
    {
        int offset = device.OffsetMinutes;
        long start = from;
        while (start < to)
        {
            int day = LocalDays.DayOf(start, offset);
            long dayStart = LocalDays.StartOf(day, offset);
            long end = Math.Min(to, dayStart + LocalDays.NanosecondsPerDay);
            if (!IsSealed(device.Enterprise, day))
            {
                DeviceDayRow row = Row(device, day);
                row.Dirty = true;
                if (device.State >= 0)
                {
                    row.StateNanoseconds[device.State] += end - start;
                }

                // Minutes whose start lies in [start, end).
                int first = (int)((start - dayStart + LocalDays.NanosecondsPerMinute - 1) / LocalDays.NanosecondsPerMinute);
                int last = (int)((end - dayStart + LocalDays.NanosecondsPerMinute - 1) / LocalDays.NanosecondsPerMinute);
                if (last > first)
                {
                    row.Minutes.AsSpan(first, last - first).Fill(device.State >= 0 ? (byte)device.State : MinuteStates.CoveredUnknown);
                }
            }

            start = end;
        }
    }

    private void ApplyFields(DeviceTracker device, DeviceDayRow row, in LineProtocolLine line, long t)
    {
        foreach (LineProtocolField field in line.Fields)
        {
            ReadOnlySpan<byte> key = field.Key;
            if (key.EndsWith(s_statusSuffix) && key.Length > s_statusSuffix.Length)
            {
                SignalState statusOf = device.Signal(key[..^s_statusSuffix.Length]);
                row.NonGoodSamples++;
                bool bad = TryStatus(field, out uint code) && (code & 0xC000_0000u) == 0x8000_0000u;
                if (bad && !statusOf.BadOpen)
                {
                    statusOf.BadOpen = true;
                    device.BadOpenCount++;
                }
                else if (!bad)
                {
                    CloseBad(device, statusOf);
                    device.LastEvidence = t;
                }

                continue;
            }

            SignalState signal = device.Signal(key);
            CloseBad(device, signal);
            device.LastEvidence = t;
            byte kind = (byte)field.Kind;
            long bits;
            byte[]? text = null;
            switch (field.Kind)
            {
                case FieldKind.Float:
                    bits = BitConverter.DoubleToInt64Bits(field.AsDouble() + 0.0); // -0.0 is 0.0
                    break;
                case FieldKind.Integer:
                    bits = field.AsInteger();
                    break;
                case FieldKind.UnsignedInteger:
                    bits = unchecked((long)field.AsUnsignedInteger());
                    break;
                case FieldKind.Boolean:
                    bits = field.AsBoolean() ? 1 : 0;
                    break;
                default:
                    bits = 0;
                    text = field.RawValue.ToArray();
                    break;
            }

            bool changed = !signal.HasValue || signal.Kind != kind || signal.Bits != bits
                || (text is not null && !text.AsSpan().SequenceEqual(signal.Text));
            if (changed)
            {
                row.Substantive++;
            }

            switch (signal.Role)
            {
                case SignalRole.State when changed && field.Kind is FieldKind.Integer or FieldKind.UnsignedInteger && bits is >= 0 and <= 5:
                    ChangeState(device, row, (int)bits, t);
                    break;
                case SignalRole.PartsTotal or SignalRole.PartsGood or SignalRole.Cycles when signal.HasValue && TryCount(signal.Kind, signal.Bits, out long before) && TryCount(kind, bits, out long after):
                    if (after >= before)
                    {
                        long delta = after - before;
                        switch (signal.Role)
                        {
                            case SignalRole.PartsTotal:
                                row.PartsDelta += delta;
                                break;
                            case SignalRole.PartsGood:
                                row.GoodDelta += delta;
                                break;
                            default:
                                row.CyclesDelta += delta;
                                break;
                        }
                    }
                    else
                    {
                        row.CounterResets++;
                    }

                    break;
                case SignalRole.PowerOnSeconds or SignalRole.EnergyKwh when signal.HasValue && TryReal(signal.Kind, signal.Bits, out double before) && TryReal(kind, bits, out double after):
                    if (after >= before)
                    {
                        if (signal.Role == SignalRole.PowerOnSeconds)
                        {
                            row.PowerOnDeltaSeconds += after - before;
                        }
                        else
                        {
                            row.EnergyDeltaKwh += after - before;
                        }
                    }
                    else
                    {
                        row.CounterResets++;
                    }

                    break;
                case SignalRole.Program when changed && signal.HasValue:
                    row.ProgramChanges++;
                    break;
            }

            signal.HasValue = true;
            signal.Kind = kind;
            signal.Bits = bits;
            signal.Text = text;
        }
    }

    private void ChangeState(DeviceTracker device, DeviceDayRow row, int state, long t)
    {
        if (device.State >= 0 && device.State != state)
        {
            row.Transitions++;
            if (device.LastTransition != DeviceTracker.NoTime)
            {
                long interval = t - device.LastTransition;
                if (device.LastInterval >= 0 && Math.Abs(interval - device.LastInterval) < _parameters.RegularJitterNs)
                {
                    row.RegularTransitions++;
                }

                device.LastInterval = interval;
            }

            device.LastTransition = t;
        }
        else if (device.State < 0)
        {
            device.LastTransition = t;
        }

        device.State = state; // from t on: the next advance integrates [t, …) in the new state
    }

    private static void CloseBad(DeviceTracker device, SignalState signal)
    {
        if (signal.BadOpen)
        {
            signal.BadOpen = false;
            device.BadOpenCount--;
        }
    }

    private void Seal(string enterprise, List<DeviceTracker> devices, int throughDay, int offset)
    {
        long end = LocalDays.StartOf(throughDay + 1, offset);
        var byDay = new SortedDictionary<int, List<DeviceDayRow>>();
        foreach (DeviceTracker device in devices.OrderBy(d => d.Device, StringComparer.Ordinal))
        {
            if (device.Clock != DeviceTracker.NoTime && device.Clock < end)
            {
                Advance(device, end);
                device.Dirty = true;
            }

            while (device.Open.Count > 0 && device.Open[0].Day <= throughDay)
            {
                DeviceDayRow row = device.Open[0];
                device.Open.RemoveAt(0);
                ApplyShift(row);
                row.PreviousHash = device.ChainHead;
                byte[] canonical = row.ToCanonicalBytes();
                row.Hash = ChainHash(device.ChainHead, canonical);
                row.IsSealed = true;
                row.Dirty = true;
                device.ChainHead = row.Hash;
                device.Dirty = true;
                _sealedSinceCheckpoint.Add(row);
                if (!byDay.TryGetValue(row.Day, out List<DeviceDayRow>? rows))
                {
                    byDay[row.Day] = rows = [];
                }

                rows.Add(row);
            }
        }

        foreach ((int day, List<DeviceDayRow> rows) in byDay)
        {
            _rootsSinceCheckpoint.Add(new LedgerRoot(enterprise, day, MerkleTree.Root([.. rows.Select(r => r.Hash!)]), rows.Count));
        }

        _sealedThrough[enterprise] = throughDay;
        _dirtySeals.Add(enterprise);
    }

    /// <summary>SHA-256(previous hash ‖ canonical bytes).</summary>
    public static byte[] ChainHash(ReadOnlySpan<byte> previous, ReadOnlySpan<byte> canonical)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(previous);
        hash.AppendData(canonical);
        return hash.GetHashAndReset();
    }

    private void ApplyShift(DeviceDayRow row)
    {
        _calendar.GetShiftMinutes(row.Enterprise, row.Date, _shiftScratch);
        row.ApplyShift(_shiftScratch);
    }

    private DeviceTracker Track(ReadOnlySpan<byte> ent, ReadOnlySpan<byte> dev)
    {
        var hash = new HashCode();
        hash.AddBytes(ent);
        hash.Add(0xFF);
        hash.AddBytes(dev);
        int key = hash.ToHashCode();
        ref RawAlias? bucket = ref CollectionsMarshal.GetValueRefOrAddDefault(_byRaw, key, out _);
        for (RawAlias? alias = bucket; alias is not null; alias = alias.Next)
        {
            if (alias.Enterprise.AsSpan().SequenceEqual(ent) && alias.Device.AsSpan().SequenceEqual(dev))
            {
                return alias.Tracker;
            }
        }

        DeviceTracker tracker = Create(LineProtocolText.Unescape(ent), LineProtocolText.Unescape(dev));
        bucket = new RawAlias(ent.ToArray(), dev.ToArray(), tracker) { Next = bucket };
        return tracker;
    }

    private DeviceTracker Create(string enterprise, string device)
    {
        if (_byName.TryGetValue((enterprise, device), out DeviceTracker? known))
        {
            return known;
        }

        var tracker = new DeviceTracker(enterprise, device, _calendar.OffsetMinutes(enterprise));
        _byName.Add((enterprise, device), tracker);
        if (!_byEnterprise.TryGetValue(enterprise, out List<DeviceTracker>? devices))
        {
            _byEnterprise[enterprise] = devices = [];
        }

        devices.Add(tracker);
        return tracker;
    }

    private static bool TryTruth(in LineProtocolField field, out bool value)
    {
        switch (field.Kind)
        {
            case FieldKind.Boolean:
                value = field.AsBoolean();
                return true;
            case FieldKind.Integer:
                value = field.AsInteger() != 0;
                return true;
            case FieldKind.UnsignedInteger:
                value = field.AsUnsignedInteger() != 0;
                return true;
            case FieldKind.Float:
                value = field.AsDouble() != 0;
                return true;
            default:
                value = false;
                return false;
        }
    }

    private static bool TryStatus(in LineProtocolField field, out uint code)
    {
        switch (field.Kind)
        {
            case FieldKind.Integer when field.AsInteger() is >= 0 and <= uint.MaxValue:
                code = (uint)field.AsInteger();
                return true;
            case FieldKind.UnsignedInteger when field.AsUnsignedInteger() <= uint.MaxValue:
                code = (uint)field.AsUnsignedInteger();
                return true;
            default:
                code = 0;
                return false;
        }
    }

    private static bool TryCount(byte kind, long bits, out long count)
    {
        switch ((FieldKind)kind)
        {
            case FieldKind.Integer:
                count = bits;
                return true;
            case FieldKind.UnsignedInteger when bits >= 0:
                count = bits;
                return true;
            case FieldKind.Float:
                double value = BitConverter.Int64BitsToDouble(bits);
                if (value >= long.MinValue && value < long.MaxValue && Math.Floor(value) == value)
                {
                    count = (long)value;
                    return true;
                }

                break;
        }

        count = 0;
        return false;
    }

    private static bool TryReal(byte kind, long bits, out double value)
    {
        switch ((FieldKind)kind)
        {
            case FieldKind.Float:
                value = BitConverter.Int64BitsToDouble(bits);
                return true;
            case FieldKind.Integer:
                value = bits;
                return true;
            case FieldKind.UnsignedInteger:
                value = (ulong)bits;
                return true;
            default:
                value = 0;
                return false;
        }
    }

    private sealed class RawAlias(byte[] enterprise, byte[] device, DeviceTracker tracker)
    {
        public byte[] Enterprise { get; } = enterprise;

        public byte[] Device { get; } = device;

        public DeviceTracker Tracker { get; } = tracker;

        public RawAlias? Next { get; init; }
    }
}

/// <summary>A device's running state as a checkpoint stores it.</summary>
public sealed record TrackerState(string Enterprise, string Device, byte[] State);

/// <summary>One checkpoint's worth of changes: rows (open ones rewritten, newly sealed ones), new roots, device states, seal marks.</summary>
public sealed record LedgerChanges(
    IReadOnlyList<DeviceDayRow> Rows,
    IReadOnlyList<LedgerRoot> Roots,
    IReadOnlyList<TrackerState> Devices,
    IReadOnlyDictionary<string, int> SealedThrough,
    long Watermark);

/// <summary>What <see cref="EvidenceAccumulation.Restore"/> needs: the state of the last checkpoint.</summary>
public sealed record LedgerSnapshot(
    long Position,
    long Watermark,
    IReadOnlyList<TrackerState> Devices,
    IReadOnlyList<DeviceDayRow> OpenRows,
    IReadOnlyDictionary<string, int> SealedThrough);
