using System.Buffers;
using System.Globalization;
using System.Text;
using FactoryGateway.Evidence.Ledger;
using FactoryGateway.Telemetry.LineProtocol;
using FactoryGateway.Testing;
using Microsoft.Data.Sqlite;

namespace FactoryGateway.Evidence.Tests.Ledger;

/// <summary>The ledger in SQLite: checkpoints, restore, sealing protection and verification.</summary>
public sealed class LedgerStoreTests : IDisposable
{
    private const string Consumer = "evidence";

    private readonly TempDirectory _directory = new("ledger");
    private readonly LineProtocolReader _reader = new(new LineProtocolLimits());

    public void Dispose()
    {
        _reader.Dispose();
        _directory.Dispose();
    }

    [Fact]
    public void A_checkpoint_restored_and_continued_equals_one_continuous_run()
    {
        string[] lines = EvidenceAccumulationTests.ScenarioLines();
        int half = lines.Length / 2;

        using EvidenceStore store = EvidenceTest.Open(_directory, TimeProvider.System);
        var first = new EvidenceAccumulation(new LedgerParameters(), DefaultShiftCalendar.Instance);
        Feed(first, lines[..half]);
        store.Ledger.Save(Consumer, position: half, first.TakeChanges());

        LedgerSnapshot snapshot = store.Ledger.LoadSnapshot(Consumer);
        Assert.Equal(half, snapshot.Position);
        var resumed = new EvidenceAccumulation(new LedgerParameters(), DefaultShiftCalendar.Instance);
        resumed.Restore(snapshot);
        Feed(resumed, lines[half..]);
        resumed.AdvanceWatermark(EvidenceAccumulationTests.Local("2026-07-10T00:00:00"));
        store.Ledger.Save(Consumer, position: lines.Length, resumed.TakeChanges());

        var continuous = new EvidenceAccumulation(new LedgerParameters(), DefaultShiftCalendar.Instance);
        Feed(continuous, lines);
        continuous.AdvanceWatermark(EvidenceAccumulationTests.Local("2026-07-10T00:00:00"));
        byte[][] expected = [.. continuous.TakeChanges().Rows.OrderBy(r => r.Device, StringComparer.Ordinal).ThenBy(r => r.Day).Select(r => r.ToCanonicalBytes())];

        IReadOnlyList<DeviceDayRow> stored = store.Ledger.ReadRows(null, int.MinValue, int.MaxValue);
        Assert.All(stored, row => Assert.True(row.IsSealed));
        Assert.Equal(expected, stored.Select(r => r.ToCanonicalBytes()));
        LedgerVerification verification = store.Ledger.Verify();
        Assert.True(verification.IsIntact, verification.FirstBreak?.ToString());
        Assert.Equal(expected.Length, verification.RowsVerified);
    }

    [Fact]
    public void Sealed_rows_cannot_be_updated_or_deleted_through_sql()
    {
        using EvidenceStore store = SealedLedger();
        using var connection = new SqliteConnection($"Data Source={store.DatabasePath}");
        connection.Open();
        using SqliteCommand update = connection.CreateCommand();
        update.CommandText = "UPDATE ledger_rows SET parts_delta = parts_delta + 1;";
        SqliteException updateError = Assert.Throws<SqliteException>(() => update.ExecuteNonQuery());
        Assert.Contains("sealed ledger rows are never changed", updateError.Message, StringComparison.Ordinal);
        using SqliteCommand delete = connection.CreateCommand();
        delete.CommandText = "DELETE FROM ledger_rows;";
        SqliteException deleteError = Assert.Throws<SqliteException>(() => delete.ExecuteNonQuery());
        Assert.Contains("sealed ledger rows are never deleted", deleteError.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("parts_delta", "m1", 0)]
    [InlineData("run_ns", "m2", 1)]
    [InlineData("minutes", "m0", 1)]
    public void Changing_one_value_of_a_sealed_row_makes_verification_fail_at_that_row(string column, string device, int dayOffset)
    {
        using EvidenceStore store = SealedLedger();
        Assert.True(store.Ledger.Verify().IsIntact);
        int day = LocalDays.DayOf(new DateOnly(2026, 7, 1)) + dayOffset;

        Tamper(store, column, device, day);

        LedgerVerification verification = store.Ledger.Verify();
        Assert.False(verification.IsIntact);
        LedgerBreak broken = Assert.IsType<LedgerBreak>(verification.FirstBreak);
        Assert.Equal((EvidenceTest.Enterprise, device, day), (broken.Enterprise, broken.Device, broken.Day));
        Assert.StartsWith("its content does not match its hash", broken.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_removed_sealed_row_breaks_the_chain_of_the_next_one()
    {
        using EvidenceStore store = SealedLedger();
        int day = LocalDays.DayOf(new DateOnly(2026, 7, 1));
        Execute(store, $"DROP TRIGGER ledger_rows_sealed_delete; DELETE FROM ledger_rows WHERE device = 'm1' AND day = {day};");

        LedgerBreak broken = Assert.IsType<LedgerBreak>(store.Ledger.Verify().FirstBreak);
        Assert.Equal(("m1", day + 1), (broken.Device, broken.Day));
        Assert.Contains("previous-row hash", broken.Reason, StringComparison.Ordinal);
    }

    private EvidenceStore SealedLedger()
    {
        EvidenceStore store = EvidenceTest.Open(_directory, TimeProvider.System);
        var evidence = new EvidenceAccumulation(new LedgerParameters(), DefaultShiftCalendar.Instance);
        Feed(evidence, EvidenceAccumulationTests.ScenarioLines());
        evidence.AdvanceWatermark(EvidenceAccumulationTests.Local("2026-07-10T00:00:00"));
        store.Ledger.Save(Consumer, 1, evidence.TakeChanges());
        return store;
    }

    private static void Tamper(EvidenceStore store, string column, string device, int day)
    {
        // An attacker with the file drops the protecting trigger first; the hash chain still tells.
        string change = column == "minutes"
            ? "minutes = CAST(X'05' || substr(minutes, 2) AS BLOB)" // one byte of the encoded vector: the first run's state, to run_test
            : $"{column} = {column} + 1";
        Execute(store, $"DROP TRIGGER ledger_rows_sealed_update; UPDATE ledger_rows SET {change} WHERE device = '{device}' AND day = {day};");
    }

    private static void Execute(EvidenceStore store, string sql)
    {
        using var connection = new SqliteConnection($"Data Source={store.DatabasePath}");
        connection.Open();
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = sql;
        Assert.Equal(1, command.ExecuteNonQuery());
    }

    private void Feed(EvidenceAccumulation evidence, IEnumerable<string> lines)
    {
        foreach (string line in lines)
        {
            long t = long.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture);
            evidence.Apply(new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes(line)), t, _reader);
        }
    }
}
