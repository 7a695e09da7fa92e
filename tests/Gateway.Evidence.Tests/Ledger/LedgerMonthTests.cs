using System.Buffers;
using System.Globalization;
using System.Text;
using FactoryGateway.Evidence.Ledger;
using FactoryGateway.Telemetry.LineProtocol;
using FactoryGateway.Testing;
using Microsoft.Data.Sqlite;

namespace FactoryGateway.Evidence.Tests.Ledger;

/// <summary>The month rollups: written as rows seal, filled by the migration, verified against the rows, read as the rows read.</summary>
public sealed class LedgerMonthTests : IDisposable
{
    private const string Consumer = "evidence";
    private const string Ent = EvidenceTest.Enterprise;
    private const long Minute = 60_000_000_000;

    private static readonly int s_july = LocalDays.DayOf(new DateOnly(2026, 7, 1));
    private static readonly int s_october = LocalDays.DayOf(new DateOnly(2026, 10, 1));

    private readonly TempDirectory _directory = new("months");
    private readonly LineProtocolReader _reader = new(new LineProtocolLimits());

    public void Dispose()
    {
        _reader.Dispose();
        SqliteConnection.ClearAllPools();
        _directory.Dispose();
    }

    [Fact]
    public void Rollups_rewritten_checkpoint_by_checkpoint_read_as_the_rows_do()
    {
        using EvidenceStore store = EvidenceTest.Open(_directory, TimeProvider.System);
        var evidence = new EvidenceAccumulation(new LedgerParameters(), DefaultShiftCalendar.Instance);

        // Six days across the July–August boundary, sealed in three checkpoints: the July rollups are rewritten as days seal.
        Feed(evidence, Lines(new DateOnly(2026, 7, 28), 3));
        evidence.AdvanceWatermark(Local(new DateOnly(2026, 7, 31)));
        store.Ledger.Save(Consumer, 1, evidence.TakeChanges());
        AssertWindowReadsAsRows(store, expectOpen: true);

        Feed(evidence, Lines(new DateOnly(2026, 7, 31), 3));
        evidence.AdvanceWatermark(Local(new DateOnly(2026, 8, 3)));
        store.Ledger.Save(Consumer, 2, evidence.TakeChanges());
        AssertWindowReadsAsRows(store, expectOpen: true);

        evidence.AdvanceWatermark(Local(new DateOnly(2026, 8, 10)));
        store.Ledger.Save(Consumer, 3, evidence.TakeChanges());
        AssertWindowReadsAsRows(store, expectOpen: false);

        // One rollup per device-month, holding every sealed day of it.
        IReadOnlyList<DeviceDayRow> rows = store.Ledger.ReadRows(null, s_july, s_october);
        Assert.Equal(
            [.. rows.Where(r => r.Device == "m0").GroupBy(r => LedgerMonth.MonthOf(r.Day)).Select(g => (g.Key, (long)g.Count()))],
            Months(store, "m0"));
        Assert.Equal(2, Months(store, "m0").Count);

        // The accumulator's per-minute vectors reach the indicator views: each row's, run-length encoded, with runs of run and idle.
        Dictionary<(string, int), DeviceDayRow> byDay = rows.ToDictionary(r => (r.Device, r.Day));
        foreach (LedgerDay day in store.Ledger.ReadDays(s_july, s_october))
        {
            Assert.Equal(MinuteStates.Encode(byDay[(day.Device, day.Day)].Minutes), day.MinuteRuns);
            Assert.True(MinuteStates.CountRuns(day.MinuteRuns) > 10);
        }

        Assert.All(AllMinutes(store), m => Assert.NotNull(m.Minutes));
        LedgerVerification verification = store.Ledger.Verify();
        Assert.True(verification.IsIntact, verification.FirstBreak?.ToString());
        Assert.Equal(rows.Count, verification.RowsVerified);
    }

    [Fact]
    public void A_window_read_by_several_readers_is_taken_only_when_no_seal_came_between_their_snapshots()
    {
        using EvidenceStore store = EvidenceTest.Open(_directory, TimeProvider.System);
        var evidence = new EvidenceAccumulation(new LedgerParameters(), DefaultShiftCalendar.Instance);
        Feed(evidence, Lines(new DateOnly(2026, 7, 28), 6));
        evidence.AdvanceWatermark(Local(new DateOnly(2026, 7, 31)));
        store.Ledger.Save(Consumer, 1, evidence.TakeChanges());

        // A seal between the first reader's snapshot and the second's: the readers disagree, the read is refused.
        LedgerWindow? torn = store.Ledger.TryReadWindow(s_july, s_october, readers: 2, afterSnapshot: () =>
        {
            evidence.AdvanceWatermark(Local(new DateOnly(2026, 8, 10)));
            store.Ledger.Save(Consumer, 2, evidence.TakeChanges());
        });
        Assert.Null(torn);

        // Without one, two readers read what one reads; and ReadWindow reads the rows as they are now.
        LedgerWindow? two = store.Ledger.TryReadWindow(s_july, s_october, readers: 2, afterSnapshot: () => { });
        LedgerWindow? one = store.Ledger.TryReadWindow(s_july, s_october, readers: 1);
        Assert.NotNull(two);
        Assert.NotNull(one);
        Assert.Equal(Figures(one), Figures(two));
        Assert.Empty(one.UnsealedEnterprises);
        AssertWindowReadsAsRows(store, expectOpen: false);

        static string[] Figures(LedgerWindow window) =>
            [.. window.Devices.Select(d =>
            {
                var days = new List<LedgerDayFigures>();
                d.ReadDays(days, 0);
                return $"{d.Enterprise}/{d.Device}: {string.Join(", ", days.Select(f => $"{f.Day} {f.RunNanoseconds} {f.Transitions} {Convert.ToHexString(f.MinuteRuns.Span)}"))}";
            })];
    }

    [Theory]
    [InlineData("UPDATE ledger_months SET rollup = CAST(substr(rollup, 1, 3) || X'7F' || substr(rollup, 5) AS BLOB) WHERE device = 'm1'", "rollup does not match")]
    [InlineData("UPDATE ledger_months SET days = days + 1 WHERE device = 'm1'", "rollup does not match")]
    [InlineData("DELETE FROM ledger_months WHERE device = 'm1'", "has sealed rows but no rollup")]
    [InlineData("UPDATE ledger_months SET minutes = CAST(substr(minutes, 1, 4) || X'05' || substr(minutes, 6) AS BLOB) WHERE device = 'm1'", "minute vectors do not match")]
    [InlineData("UPDATE ledger_months SET minutes = NULL WHERE device = 'm1'", "minute vectors do not match")]
    [InlineData("INSERT INTO ledger_months SELECT enterprise, 'm1', month - 31, days, rollup, minutes FROM ledger_months WHERE device = 'm0'", "has a rollup but no sealed rows")]
    public void Verification_names_the_device_month_whose_rollup_differs_from_its_rows(string tamper, string reason)
    {
        using EvidenceStore store = EvidenceTest.Open(_directory, TimeProvider.System);
        var evidence = new EvidenceAccumulation(new LedgerParameters(), DefaultShiftCalendar.Instance);
        Feed(evidence, Lines(new DateOnly(2026, 7, 6), 2));
        evidence.AdvanceWatermark(Local(new DateOnly(2026, 7, 20)));
        store.Ledger.Save(Consumer, 1, evidence.TakeChanges());
        Assert.True(store.Ledger.Verify().IsIntact);

        Execute(store, tamper);

        LedgerBreak broken = Assert.IsType<LedgerBreak>(store.Ledger.Verify().FirstBreak);
        int month = tamper.StartsWith("INSERT", StringComparison.Ordinal) ? s_july - 31 : s_july;
        Assert.Equal((Ent, "m1", month), (broken.Enterprise, broken.Device, broken.Day));
        Assert.Contains(reason, broken.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void The_migration_fills_the_rollups_of_rows_sealed_before_it()
    {
        List<(string, int, long, string)> written;
        using (EvidenceStore store = EvidenceTest.Open(_directory, TimeProvider.System))
        {
            var evidence = new EvidenceAccumulation(new LedgerParameters(), DefaultShiftCalendar.Instance);
            Feed(evidence, Lines(new DateOnly(2026, 7, 29), 5));
            evidence.AdvanceWatermark(Local(new DateOnly(2026, 8, 4)));
            store.Ledger.Save(Consumer, 1, evidence.TakeChanges());
            written = AllMonths(store);
            Assert.NotEmpty(written);

            // Back to the schema before the rollups.
            Execute(store, "DROP TABLE ledger_months; DROP INDEX ledger_rows_open; DELETE FROM schema_version WHERE version >= 5;");
        }

        SqliteConnection.ClearAllPools();
        using EvidenceStore reopened = EvidenceTest.Open(_directory, TimeProvider.System);
        Assert.Equal(written, AllMonths(reopened));
        Assert.True(reopened.Ledger.Verify().IsIntact);
        AssertWindowReadsAsRows(reopened, expectOpen: true);
    }

    [Fact]
    public void The_migration_fills_the_minute_vectors_of_rollups_written_before_it()
    {
        List<(string Device, int Month, byte[]? Minutes)> written;
        using (EvidenceStore store = EvidenceTest.Open(_directory, TimeProvider.System))
        {
            var evidence = new EvidenceAccumulation(new LedgerParameters(), DefaultShiftCalendar.Instance);
            Feed(evidence, Lines(new DateOnly(2026, 7, 29), 5));
            evidence.AdvanceWatermark(Local(new DateOnly(2026, 8, 4)));
            store.Ledger.Save(Consumer, 1, evidence.TakeChanges());
            written = AllMinutes(store);
            Assert.NotEmpty(written);
            Assert.All(written, m => Assert.NotNull(m.Minutes));

            // Back to the schema before the minute vectors (rollups written by migration 5 or by sealing then).
            Execute(store, "ALTER TABLE ledger_months DROP COLUMN minutes; DELETE FROM schema_version WHERE version = 6;");
        }

        SqliteConnection.ClearAllPools();
        using EvidenceStore reopened = EvidenceTest.Open(_directory, TimeProvider.System);
        Assert.Equal([6], reopened.AppliedMigrations);
        Assert.Equal(written.Select(m => (m.Item1, m.Item2, Convert.ToHexString(m.Item3!))), AllMinutes(reopened).Select(m => (m.Item1, m.Item2, Convert.ToHexString(m.Item3!))));
        Assert.True(reopened.Ledger.Verify().IsIntact);
        AssertWindowReadsAsRows(reopened, expectOpen: true);
    }

    [Fact]
    public void Minute_vectors_of_a_month_round_trip_and_damaged_ones_are_refused()
    {
        int month = LedgerMonth.MonthOf(s_july);
        byte[] busy = MinuteStates.CreateEmpty();
        busy.AsSpan(480, 720).Fill((byte)MachineState.Idle);
        busy.AsSpan(500, 50).Fill((byte)MachineState.Run);
        LedgerDayFigures[] days =
        [
            new() { Day = month + 9, MinuteRuns = MinuteStates.Encode(busy), Identities = [] },
            new() { Day = month, MinuteRuns = MinuteStates.Encode(MinuteStates.CreateEmpty()), Identities = [] },
            new() { Day = month + 3, Identities = [] }, // read without its vector: left out
        ];
        byte[] blob = LedgerMonth.EncodeMinutes(month, days);

        // Attached to the days a rollup decoded, in day order, from a start index; days the blob lacks keep none.
        List<LedgerDayFigures> read = [new() { Day = month - 1, Identities = [] }, new() { Day = month, Identities = [] }, new() { Day = month + 3, Identities = [] }, new() { Day = month + 9, Identities = [] }];
        LedgerMonth.AttachMinutes(blob, month, read, 1);
        Assert.Equal(
            ["", Convert.ToHexString(days[1].MinuteRuns.Span), "", Convert.ToHexString(days[0].MinuteRuns.Span)],
            read.Select(d => Convert.ToHexString(d.MinuteRuns.Span)));

        Assert.Throws<ArgumentException>(() => LedgerMonth.EncodeMinutes(month, [days[0], days[0]]));
        Assert.Throws<ArgumentException>(() => LedgerMonth.EncodeMinutes(month, [days[0] with { Day = month + 31 }]));
        for (int length = 0; length < blob.Length; length++)
        {
            InvalidDataException error = Assert.Throws<InvalidDataException>(() => LedgerMonth.AttachMinutes(blob.AsMemory(0, length), month, [], 0));
            Assert.Contains("offset", error.Message, StringComparison.Ordinal);
        }

        Assert.Throws<InvalidDataException>(() => LedgerMonth.AttachMinutes(blob.Append((byte)0).ToArray(), month, [], 0));
        Assert.Throws<InvalidDataException>(() => LedgerMonth.AttachMinutes((byte[])[2, .. blob[1..]], month, [], 0));
    }

    [Fact]
    public void A_rollup_round_trips_every_figure_and_a_damaged_one_is_refused()
    {
        int month = LedgerMonth.MonthOf(s_july + 40);
        Assert.Equal(LocalDays.DayOf(new DateOnly(2026, 8, 1)), month);
        Assert.Equal(LocalDays.DayOf(new DateOnly(2026, 9, 1)), LedgerMonth.EndOf(month));
        LedgerDayFigures[] days =
        [
            new() { Day = month + 30, Samples = long.MaxValue, Events = 0, Substantive = 7, RunNanoseconds = 8 * 3600 * 1_000_000_000L, PartsDelta = -3, PowerOnDeltaSeconds = double.NaN, CounterResets = int.MinValue, Transitions = 12, DigestKey = UInt128.MaxValue, HasDigest = true, Identities = ["serial_number=SN-1", "product_instance_uri=urn:设备:1"] },
            new() { Day = month, Samples = 1, Backfill = long.MinValue, PowerOnDeltaSeconds = -0.0, CoveredShiftMinutes = 720, RegularTransitions = int.MaxValue, DigestKey = 42, HasDigest = true, Identities = [] },
        ];
        byte[] rollup = LedgerMonth.Encode(month, days);
        var read = new List<LedgerDayFigures>();
        LedgerMonth.Decode(rollup, month, int.MinValue, int.MaxValue, read);
        Assert.Equal([.. days.OrderBy(d => d.Day).Select(Describe)], read.Select(Describe));

        read.Clear();
        LedgerMonth.Decode(rollup, month, month + 1, month + 31, read);
        Assert.Equal(month + 30, Assert.Single(read).Day);

        Assert.Throws<ArgumentException>(() => LedgerMonth.Encode(month, [days[0], days[0]]));
        Assert.Throws<ArgumentException>(() => LedgerMonth.Encode(month, [days[0] with { Day = month + 31 }]));
        for (int length = 0; length < rollup.Length; length++)
        {
            InvalidDataException error = Assert.Throws<InvalidDataException>(() => LedgerMonth.Decode(rollup.AsSpan(0, length), month, int.MinValue, int.MaxValue, []));
            Assert.Contains("offset", error.Message, StringComparison.Ordinal);
        }

        Assert.Throws<InvalidDataException>(() => LedgerMonth.Decode([.. rollup, 0], month, int.MinValue, int.MaxValue, []));
        Assert.Throws<InvalidDataException>(() => LedgerMonth.Decode([2, .. rollup[1..]], month, int.MinValue, int.MaxValue, []));
    }

    internal static string Describe(LedgerDayFigures figures) =>
        $"{figures with { Identities = [] }} identities [{string.Join(", ", figures.Identities)}] minutes {Convert.ToHexString(figures.MinuteRuns.Span)}";

    // Every device's days of July–September: from the rollups and open rows exactly what the rows give.
    private static void AssertWindowReadsAsRows(EvidenceStore store, bool expectOpen)
    {
        string[] fromRows = [.. store.Ledger.ReadDays(s_july, s_october).Select(d => $"{d.Enterprise}/{d.Device} {Describe(d.ToFigures())}")];
        LedgerWindow window = store.Ledger.ReadWindow(s_july, s_october);
        var days = new List<LedgerDayFigures>();
        var fromRollups = new List<string>();
        foreach (LedgerDeviceDays device in window.Devices)
        {
            device.ReadDays(days);
            fromRollups.AddRange(days.Select(d => $"{device.Enterprise}/{device.Device} {Describe(d)}"));
        }

        Assert.NotEmpty(fromRows);
        Assert.Equal(fromRows, fromRollups);

        // Asked for the vectors of days with more transitions than any has: the same days, without vectors.
        var busyOnly = new List<string>();
        foreach (LedgerDeviceDays device in window.Devices)
        {
            device.ReadDays(days, int.MaxValue);
            busyOnly.AddRange(days.Select(d => $"{device.Enterprise}/{device.Device} {Describe(d)}"));
            Assert.All(days, d => Assert.True(d.MinuteRuns.IsEmpty));
        }

        Assert.Equal(store.Ledger.ReadDays(s_july, s_october).Select(d => $"{d.Enterprise}/{d.Device} {Describe(d.ToFigures() with { MinuteRuns = default })}"), busyOnly);
        Assert.Equal(expectOpen, window.UnsealedEnterprises.Contains(Ent));
        Assert.Equal(expectOpen, store.Ledger.ReadDays(s_july, s_october).Any(d => !d.IsSealed));
    }

    // Three devices every minute of 07:55–19:55 local on `days` days from `first`; m0 also reports a serial number.
    private static IEnumerable<string> Lines(DateOnly first, int days)
    {
        for (int d = 0; d < days; d++)
        {
            long t0 = Local(first.AddDays(d)) + (475 * Minute);
            yield return $"identity,ent={Ent},dev=m0 serial_number=\"SN-{d % 2}\" {t0}";
            for (int i = 0; i < 12 * 60; i++)
            {
                int state = (i / 37) % 3 == 0 ? 3 : 4;
                yield return $"telemetry,ent={Ent},dev=m{i % 3} state={state}i,parts_total={(d * 1000) + (i / 2)}i,spindle={1000 + (i % 7)} {t0 + (i * Minute)}";
            }
        }
    }

    private static long Local(DateOnly day) => LocalDays.StartOf(LocalDays.DayOf(day), LocalDays.DefaultOffsetMinutes);

    private void Feed(EvidenceAccumulation evidence, IEnumerable<string> lines)
    {
        foreach (string line in lines)
        {
            long t = long.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture);
            evidence.Apply(new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes(line)), t, _reader);
        }
    }

    private static List<(int Month, long Days)> Months(EvidenceStore store, string device) =>
        [.. AllMonths(store).Where(m => m.Item1 == device).Select(m => (m.Item2, m.Item3))];

    private static List<(string, int, long, string)> AllMonths(EvidenceStore store)
    {
        using var connection = new SqliteConnection($"Data Source={store.DatabasePath}");
        connection.Open();
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = "SELECT device, month, days, rollup FROM ledger_months ORDER BY device, month;";
        using SqliteDataReader r = command.ExecuteReader();
        var months = new List<(string, int, long, string)>();
        while (r.Read())
        {
            months.Add((r.GetString(0), r.GetInt32(1), r.GetInt64(2), Convert.ToHexString((byte[])r.GetValue(3))));
        }

        return months;
    }

    private static List<(string Device, int Month, byte[]? Minutes)> AllMinutes(EvidenceStore store)
    {
        using var connection = new SqliteConnection($"Data Source={store.DatabasePath}");
        connection.Open();
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = "SELECT device, month, minutes FROM ledger_months ORDER BY device, month;";
        using SqliteDataReader r = command.ExecuteReader();
        var months = new List<(string, int, byte[]?)>();
        while (r.Read())
        {
            months.Add((r.GetString(0), r.GetInt32(1), r.IsDBNull(2) ? null : (byte[])r.GetValue(2)));
        }

        return months;
    }

    private static void Execute(EvidenceStore store, string sql)
    {
        using var connection = new SqliteConnection($"Data Source={store.DatabasePath}");
        connection.Open();
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = sql;
        Assert.True(command.ExecuteNonQuery() > 0);
    }
}
