using FactoryGateway.Evidence.Ledger;
using FactoryGateway.Testing;
using Microsoft.Data.Sqlite;

namespace FactoryGateway.Evidence.Tests.Ledger;

/// <summary>Operators' flag resolutions: recorded with who, why and when, append-only, and chained into the ledger's verification.</summary>
public sealed class FlagResolutionStoreTests : IDisposable
{
    private readonly TempDirectory _directory = new("resolutions");
    private readonly ManualTimeProvider _clock = new(EvidenceTest.Start);

    public void Dispose() => _directory.Dispose();

    [Fact]
    public void Resolutions_are_numbered_timed_and_chained_in_the_order_recorded()
    {
        using EvidenceStore store = Open();
        FlagResolution first = store.Resolutions.Record(Request("clone", "2026Q3", "twin cells running one program, seen on site"));
        _clock.Advance(TimeSpan.FromHours(2));
        FlagResolution second = store.Resolutions.Record(Request("clone", "2026-08", "second visit: the twins were one machine", ResolutionAction.Reopen));

        Assert.Equal((1L, 2L), (first.Sequence, second.Sequence));
        Assert.Equal(EvidenceTest.StartUnixNanoseconds, first.AtUnixNanoseconds);
        Assert.Equal(EvidenceTest.Start.AddHours(2), second.At);
        Assert.Equal(new byte[32], first.PreviousHash);
        Assert.Equal(first.Hash, second.PreviousHash);
        Assert.Equal(EvidenceAccumulation.ChainHash(first.Hash, second.ToCanonicalBytes()), second.Hash);
        Assert.Equal((LocalDays.DayOf(new DateOnly(2026, 7, 1)), LocalDays.DayOf(new DateOnly(2026, 10, 1))), (first.FromDay, first.ToDay));
        Assert.Equal([first, second], store.Resolutions.Read(), new ResolutionComparer());
        Assert.Empty(store.Resolutions.Read("91110000600037341L"));

        LedgerVerification verified = store.Ledger.Verify();
        Assert.True(verified.IsIntact);
        Assert.Equal(2, verified.ResolutionsVerified);
    }

    [Theory]
    [InlineData("cnc-99", "clone", "op", "why", "device cnc-99 of enterprise 91330402MA2B3C4D53 is not in the register.")]
    [InlineData("cnc-01", "Clone!", "op", "why", "'Clone!' is not a flag name")]
    [InlineData("cnc-01", "clone", " ", "why", "a resolution needs who decided (actor) and why (reason).")]
    [InlineData("cnc-01", "clone", "op", "", "a resolution needs who decided (actor) and why (reason).")]
    public void A_resolution_without_a_registered_device_a_flag_name_an_actor_or_a_reason_is_refused(string device, string flag, string actor, string reason, string message)
    {
        using EvidenceStore store = Open();

        ArgumentException refused = Assert.Throws<ArgumentException>(() => store.Resolutions.Record(Request(flag, "2026Q3", reason) with { Device = device, Actor = actor }));

        Assert.StartsWith(message, refused.Message, StringComparison.Ordinal);
        Assert.Empty(store.Resolutions.Read());
    }

    [Theory]
    [InlineData("UPDATE flag_resolutions SET reason = 'changed';", "flag resolutions are never changed")]
    [InlineData("DELETE FROM flag_resolutions;", "flag resolutions are never deleted")]
    public void The_store_refuses_to_change_or_delete_a_resolution(string sql, string message)
    {
        using EvidenceStore store = Open();
        store.Resolutions.Record(Request("no_output", "2026Q3", "checked"));

        SqliteException refused = Assert.Throws<SqliteException>(() => Execute(store, sql));

        Assert.Contains(message, refused.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("UPDATE flag_resolutions SET reason = 'nothing to see' WHERE seq = 2;", "resolution #2 (clone, 2026Q3): its content does not match its hash")]
    [InlineData("UPDATE flag_resolutions SET actor = 'someone else' WHERE seq = 1;", "resolution #1 (no_output, 2026Q3): its content does not match its hash")]
    [InlineData("DELETE FROM flag_resolutions WHERE seq = 2;", "resolution #3 (backfill, 2026Q3): expected number 2")]
    public void Ledger_verify_names_the_first_tampered_resolution(string tamper, string reason)
    {
        using EvidenceStore store = Open();
        store.Resolutions.Record(Request("no_output", "2026Q3", "checked"));
        store.Resolutions.Record(Request("clone", "2026Q3", "checked"));
        store.Resolutions.Record(Request("backfill", "2026Q3", "checked"));

        // Someone with the file drops the triggers first; the chain still tells.
        Execute(store, "DROP TRIGGER flag_resolutions_update; DROP TRIGGER flag_resolutions_delete; " + tamper);
        LedgerVerification verified = store.Ledger.Verify();

        Assert.False(verified.IsIntact);
        LedgerBreak broken = Assert.IsType<LedgerBreak>(verified.FirstBreak);
        Assert.Equal(("cnc-01", reason), (broken.Device, broken.Reason[..reason.Length]));
    }

    private EvidenceStore Open()
    {
        EvidenceStore store = EvidenceTest.Open(_directory, _clock);
        Assert.True(store.Devices.RegisterDevice(EvidenceTest.Enterprise, "cnc-01"));
        return store;
    }

    private static FlagResolutionRequest Request(string flag, string window, string reason, ResolutionAction action = ResolutionAction.Resolve) => new()
    {
        Enterprise = EvidenceTest.Enterprise,
        Device = "cnc-01",
        Flag = flag,
        Window = Window.Parse(window),
        Action = action,
        Actor = "王工",
        Reason = reason,
    };

    private static void Execute(EvidenceStore store, string sql)
    {
        using var connection = new SqliteConnection($"Data Source={store.DatabasePath};Pooling=False");
        connection.Open();
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private sealed class ResolutionComparer : IEqualityComparer<FlagResolution>
    {
        public bool Equals(FlagResolution? x, FlagResolution? y) =>
            x is not null && y is not null && x.Sequence == y.Sequence && x.Hash.AsSpan().SequenceEqual(y.Hash) && x.Reason == y.Reason && x.Actor == y.Actor;

        public int GetHashCode(FlagResolution obj) => obj.Sequence.GetHashCode();
    }
}
