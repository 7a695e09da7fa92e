using System.Buffers;
using System.Globalization;
using System.Text;
using FactoryGateway.Evidence.Ledger;
using FactoryGateway.Telemetry.LineProtocol;

namespace FactoryGateway.Evidence.Tests.Ledger;

/// <summary>
/// Hand-computed device-day rows (spec §2). The days are in Asia/Shanghai (UTC+8): 2026-07-01 is a
/// Wednesday (shift 08:00–20:00, 720 min) and 2026-07-04 a Saturday (no shift).
/// </summary>
public sealed class EvidenceAccumulationTests : IDisposable
{
    private const string Ent = EvidenceTest.Enterprise;
    private const long Second = 1_000_000_000;
    private const long Minute = 60 * Second;

    private readonly LineProtocolReader _reader = new(new LineProtocolLimits());
    private readonly EvidenceAccumulation _evidence = new(new LedgerParameters(), DefaultShiftCalendar.Instance);

    public void Dispose() => _reader.Dispose();

    /// <summary>Unix ns of a local (UTC+8) time.</summary>
    internal static long Local(string time) =>
        (DateTimeOffset.Parse(time + "+08:00", CultureInfo.InvariantCulture).UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) * 100;

    private static readonly int s_wednesday = LocalDays.DayOf(new DateOnly(2026, 7, 1));

    [Fact]
    public void Heartbeats_cover_the_minutes_from_the_first_to_two_minutes_after_the_last()
    {
        // Heartbeats every 60 s, 08:00 to 10:00: covered from 08:00 up to 10:02 → 122 minute starts.
        for (long t = Local("2026-07-01T08:00:00"); t <= Local("2026-07-01T10:00:00"); t += Minute)
        {
            Apply($"connection,ent={Ent},dev=m1 up=true {t}", t);
        }

        SealThrough("2026-07-01");
        DeviceDayRow row = Sealed("m1", s_wednesday);
        Assert.Equal(122, row.CoveredMinutes);
        Assert.Equal(122, row.CoveredShiftMinutes);
        Assert.Equal(720, row.ScheduledMinutes);
        Assert.Equal(121, row.Events);
        Assert.Equal(0, row.Samples);
        Assert.Equal(0, row.Substantive);
        Assert.All(row.StateNanoseconds, ns => Assert.Equal(0, ns)); // covered, but no state known
    }

    [Fact]
    public void State_time_is_integrated_over_covered_time_only_and_a_gap_is_never_idle()
    {
        long t0 = Local("2026-07-01T08:00:00");
        Apply($"telemetry,ent={Ent},dev=m1 state=3i {t0}", t0);                               // idle
        Apply($"telemetry,ent={Ent},dev=m1 state=3i {t0 + Minute}", t0 + Minute);             // evidence, idle
        Apply($"telemetry,ent={Ent},dev=m1 state=4i {t0 + (2 * Minute)}", t0 + (2 * Minute)); // run from 08:02
        // Silence until 12:00: coverage ends 120 s after the last evidence, at 08:04.
        long noon = Local("2026-07-01T12:00:00");
        Apply($"telemetry,ent={Ent},dev=m1 state=4i {noon}", noon);
        Apply($"telemetry,ent={Ent},dev=m1 state=3i {noon + (30 * Second)}", noon + (30 * Second));

        SealThrough("2026-07-01");
        DeviceDayRow row = Sealed("m1", s_wednesday);
        Assert.Equal(240 * Second, row.StateNanosecondsOf(MachineState.Idle)); // 08:00–08:02, then 12:00:30–12:02:30
        Assert.Equal((2 * Minute) + (30 * Second), row.StateNanosecondsOf(MachineState.Run)); // 08:02–08:04 and 12:00–12:00:30
        // Minutes 08:00–08:03 and 12:00–12:02 are covered: 4 + 3.
        Assert.Equal(7, row.CoveredMinutes);
        Assert.Equal(5, row.Samples);
        Assert.Equal(3, row.Substantive); // 3 → 3 and 4 → 4 repeat their value
        Assert.Equal(2, row.Transitions); // 3→4 at 08:02, 4→3 at 12:00:30; the first state is no transition
        byte[] minutes = row.Minutes;
        int at0800 = 8 * 60;
        Assert.Equal([3, 3, 4, 4, MinuteStates.NotCovered], minutes[at0800..(at0800 + 5)]);
        Assert.Equal([4, 3, 3, MinuteStates.NotCovered], minutes[(12 * 60)..((12 * 60) + 4)]);
    }

    [Fact]
    public void Counters_add_increments_and_count_resets_without_subtracting()
    {
        long t = Local("2026-07-01T09:00:00");
        foreach (long parts in new long[] { 10, 15, 15, 3, 8 })
        {
            Apply($"telemetry,ent={Ent},dev=m1 parts_total={parts}i,energy_kwh={parts * 1.5} {t}", t);
            t += 10 * Second;
        }

        SealThrough("2026-07-01");
        DeviceDayRow row = Sealed("m1", s_wednesday);
        Assert.Equal(10, row.PartsDelta);          // 10→15 (+5), 15→15, 15→3 (reset), 3→8 (+5)
        Assert.Equal(15.0, row.EnergyDeltaKwh, 9); // 15→22.5 (+7.5), 4.5→12 (+7.5)
        Assert.Equal(2, row.CounterResets);        // parts and energy both fell once
        Assert.Equal(10, row.Samples);
        Assert.Equal(8, row.Substantive);          // the repeated 15 / 22.5 are not substantive
    }

    [Fact]
    public void A_disconnect_ends_coverage_at_once_and_a_bad_status_until_a_good_value()
    {
        long t0 = Local("2026-07-01T08:00:00");
        Apply($"telemetry,ent={Ent},dev=m1 state=4i {t0}", t0);
        Apply($"connection,ent={Ent},dev=m1 up=false {t0 + (30 * Second)}", t0 + (30 * Second));
        Apply($"connection,ent={Ent},dev=m1 up=true {t0 + (5 * Minute)}", t0 + (5 * Minute));
        // A Bad status (0x80340000, BadNodeIdUnknown) on the spindle at 08:06 until a value at 08:09.
        Apply($"telemetry,ent={Ent},dev=m1 spindle__status=2150891520i {t0 + (6 * Minute)}", t0 + (6 * Minute));
        Apply($"telemetry,ent={Ent},dev=m1 spindle=1200.5 {t0 + (9 * Minute)}", t0 + (9 * Minute));

        SealThrough("2026-07-01");
        DeviceDayRow row = Sealed("m1", s_wednesday);
        // Run: 08:00–08:00:30, 08:05–08:06, 08:09–08:11 = 30 s + 60 s + 120 s.
        Assert.Equal(210 * Second, row.StateNanosecondsOf(MachineState.Run));
        // Minute starts covered: 08:00, 08:05, 08:09, 08:10.
        Assert.Equal(4, row.CoveredMinutes);
        Assert.Equal(1, row.NonGoodSamples);
    }

    [Fact]
    public void A_day_without_a_shift_has_no_scheduled_minutes_but_keeps_its_evidence()
    {
        long t0 = Local("2026-07-04T10:00:00"); // Saturday
        Apply($"telemetry,ent={Ent},dev=m1 state=4i {t0}", t0);
        Apply($"telemetry,ent={Ent},dev=m1 state=4i {t0 + Minute}", t0 + Minute);

        SealThrough("2026-07-04");
        DeviceDayRow row = Sealed("m1", LocalDays.DayOf(new DateOnly(2026, 7, 4)));
        Assert.Equal(0, row.ScheduledMinutes);
        Assert.Equal(0, row.CoveredShiftMinutes);
        Assert.Equal(3, row.CoveredMinutes);
        Assert.Equal(180 * Second, row.StateNanosecondsOf(MachineState.Run));
    }

    [Fact]
    public void Late_and_backfilled_samples_are_counted_on_the_arrival_day_and_change_nothing_else()
    {
        long t = Local("2026-07-01T09:00:00");
        Apply($"telemetry,ent={Ent},dev=m1 parts_total=1i {t}", t);
        // 2026-07-05T00:00:01 local is 48 h and 1 s after the end of 2026-07-02: a sample of 07-02 is late.
        long arrival = Local("2026-07-05T00:00:01");
        Apply($"telemetry,ent={Ent},dev=m1 parts_total=5i,state=4i {Local("2026-07-02T10:00:00")}", arrival);
        // Eight days after its source time: backfill.
        Apply($"telemetry,ent={Ent},dev=m1 parts_total=6i {Local("2026-06-25T10:00:00")}", Local("2026-07-03T12:00:00"));

        int arrivalDay = LocalDays.DayOf(new DateOnly(2026, 7, 5));
        DeviceDayRow arrivalRow = Assert.Single(_evidence.OpenRows, r => r.Day == arrivalDay);
        Assert.Equal(2, arrivalRow.Late);
        Assert.Equal(0, arrivalRow.Samples);
        DeviceDayRow backfillRow = Assert.Single(_evidence.OpenRows, r => r.Day == arrivalDay - 2); // arrived 07-03
        Assert.Equal(1, backfillRow.Backfill);
        Assert.Equal(0, backfillRow.Samples);
        Assert.DoesNotContain(_evidence.OpenRows, r => r.Day == arrivalDay - 3); // 07-02 got nothing
        Assert.Equal(1, Assert.Single(_evidence.OpenRows, r => r.Day == s_wednesday).Samples);
    }

    [Fact]
    public void A_sample_older_than_the_device_clock_is_counted_as_out_of_order_only()
    {
        long t = Local("2026-07-01T09:00:00");
        Apply($"telemetry,ent={Ent},dev=m1 parts_total=10i {t}", t);
        Apply($"telemetry,ent={Ent},dev=m1 parts_total=12i {t - Second}", t);
        Apply($"telemetry,ent={Ent},dev=m1 parts_total=20i {t + Second}", t + Second);

        DeviceDayRow row = Assert.Single(_evidence.OpenRows);
        Assert.Equal(1, row.OutOfOrder);
        Assert.Equal(3, row.Samples);
        Assert.Equal(10, row.PartsDelta); // 10 → 20; the 12 had no effect
    }

    [Fact]
    public void Regular_transition_intervals_are_counted_for_the_synthetic_timing_flag()
    {
        long t = Local("2026-07-01T09:00:00");
        for (int i = 0; i < 12; i++)
        {
            long at = t + (i * 10 * Second) + (i % 2 == 0 ? 0 : 200_000); // 0.2 ms of jitter
            Apply($"telemetry,ent={Ent},dev=m1 state={(i % 2 == 0 ? 4 : 3)}i {at}", at);
        }

        DeviceDayRow row = Assert.Single(_evidence.OpenRows);
        Assert.Equal(11, row.Transitions);
        Assert.Equal(10, row.RegularTransitions); // from the second transition on, each interval is within 1 ms (0.4 ms) of the one before
    }

    [Fact]
    public void Identities_seen_are_kept_sorted_and_distinct()
    {
        long t = Local("2026-07-01T09:00:00");
        Apply($"identity,ent={Ent},dev=m1 serial_number=\"SN-1\",cert_thumbprint=\"ab12\" {t}", t);
        Apply($"identity,ent={Ent},dev=m1 serial_number=\"SN-1\" {t + Second}", t + Second);

        DeviceDayRow row = Assert.Single(_evidence.OpenRows);
        Assert.Equal(["cert_thumbprint=ab12", "serial_number=SN-1"], row.Identities);
        Assert.Equal(2, row.Events);
    }

    [Fact]
    public void Lines_without_enterprise_or_device_and_other_measurements_are_not_evidence()
    {
        long t = Local("2026-07-01T09:00:00");
        Apply($"telemetry,dev=m1 state=4i {t}\ntelemetry,ent={Ent} state=4i {t}\nweather,ent={Ent},dev=m1 temp=20 {t}", t);
        Assert.Empty(_evidence.OpenRows);
        Assert.Equal(3, _evidence.LinesIgnored);
    }

    [Fact]
    public void Sealing_chains_each_device_and_roots_each_enterprise_day()
    {
        long t = Local("2026-07-01T09:00:00");
        foreach (string device in new[] { "b", "a" })
        {
            Apply($"telemetry,ent={Ent},dev={device} state=4i {t}", t);
            Apply($"telemetry,ent={Ent},dev={device} state=4i {t + LocalDays.NanosecondsPerDay}", t + LocalDays.NanosecondsPerDay);
        }

        Watermark("2026-07-02");
        LedgerChanges changes = _evidence.TakeChanges();
        DeviceDayRow[] a = [.. changes.Rows.Where(r => r.Device == "a").OrderBy(r => r.Day)];
        Assert.Equal(2, a.Length);
        Assert.Equal(new byte[32], a[0].PreviousHash);
        Assert.Equal(a[0].Hash, a[1].PreviousHash);
        Assert.Equal(EvidenceAccumulation.ChainHash(a[0].Hash!, a[1].ToCanonicalBytes()), a[1].Hash);
        Assert.Equal(2, changes.Roots.Count);
        LedgerRoot first = changes.Roots.Single(r => r.Day == s_wednesday);
        DeviceDayRow b0 = changes.Rows.Single(r => r.Device == "b" && r.Day == s_wednesday);
        Assert.Equal(MerkleTree.Root([a[0].Hash!, b0.Hash!]), first.Root); // device order a, b
        Assert.Equal(2, first.Rows);
        Assert.Equal(s_wednesday + 1, _evidence.SealedThrough(Ent));
    }

    [Fact]
    public void Recomputing_from_the_same_lines_gives_identical_rows()
    {
        string[] lines = ScenarioLines();
        byte[][] first = Run(lines);
        byte[][] second = Run(lines);
        Assert.Equal(first.Length, second.Length);
        for (int i = 0; i < first.Length; i++)
        {
            Assert.Equal(first[i], second[i]);
        }
    }

    internal static string[] ScenarioLines()
    {
        var lines = new List<string>();
        long t0 = Local("2026-07-01T07:55:00");
        for (int i = 0; i < 24 * 60; i++)
        {
            long t = t0 + (i * Minute);
            int state = (i / 37) % 3 == 0 ? 3 : 4;
            lines.Add($"telemetry,ent={Ent},dev=m{i % 3} state={state}i,parts_total={i / 2}i,spindle={1000 + (i % 7)} {t}");
        }

        return [.. lines];
    }

    private static byte[][] Run(string[] lines)
    {
        using var reader = new LineProtocolReader(new LineProtocolLimits());
        var evidence = new EvidenceAccumulation(new LedgerParameters(), DefaultShiftCalendar.Instance);
        foreach (string line in lines)
        {
            long t = long.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture);
            evidence.Apply(new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes(line)), t, reader);
        }

        evidence.AdvanceWatermark(Local("2026-07-10T00:00:00"));
        return [.. evidence.TakeChanges().Rows.OrderBy(r => r.Device, StringComparer.Ordinal).ThenBy(r => r.Day).Select(r => r.ToCanonicalBytes())];
    }

    private void Apply(string lines, long arrival) =>
        _evidence.Apply(new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes(lines)), arrival, _reader);

    // Moves the watermark just past the late window of `date`: every day up to it can be sealed.
    private void Watermark(string date)
    {
        long end = LocalDays.StartOf(LocalDays.DayOf(DateOnly.Parse(date, CultureInfo.InvariantCulture)) + 1, LocalDays.DefaultOffsetMinutes);
        _evidence.AdvanceWatermark(end + _evidence.Parameters.LateWindowNs);
    }

    // Seals every day up to and including `date` and keeps the sealed rows for Sealed().
    private void SealThrough(string date)
    {
        Watermark(date);
        _sealed.AddRange(_evidence.TakeChanges().Rows.Where(r => r.IsSealed));
    }

    private readonly List<DeviceDayRow> _sealed = [];

    private DeviceDayRow Sealed(string device, int day) => Assert.Single(_sealed, r => r.Device == device && r.Day == day);
}
