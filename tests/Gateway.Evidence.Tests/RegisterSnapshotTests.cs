using System.Security.Cryptography;
using FactoryGateway.Testing;

namespace FactoryGateway.Evidence.Tests;

public sealed class RegisterSnapshotTests : IDisposable
{
    private const string Enterprise = EvidenceTest.Enterprise;
    private const string Other = EvidenceTest.OtherEnterprise;

    private readonly TempDirectory _directory = new("snapshot");
    private readonly ManualTimeProvider _time = new(EvidenceTest.Start);
    private readonly EvidenceStore _store;

    public RegisterSnapshotTests()
    {
        _store = EvidenceTest.Open(_directory, _time);
        Assert.True(_store.Register.ImportJson(RegisterSamples.JsonBytes, "register.json").Succeeded);
    }

    private AssetRegister Register => _store.Register;

    public void Dispose()
    {
        _store.Dispose();
        _directory.Dispose();
    }

    [Fact]
    public void A_snapshot_holds_the_register_as_it_applies_to_the_window()
    {
        RegisterSnapshot q3 = Register.Freeze(null, Window.Parse("2026Q3"));

        Assert.Equal(("*", "2026Q3"), (q3.Scope, q3.Window));
        Assert.Equal([Enterprise, Other], q3.Enterprises.Select(e => e.Enterprise.CreditCode));
        EnterpriseRegister first = q3.Enterprises[0];
        Assert.Equal(["2026-07", "2026-08", "2026-09"], first.Employees.Select(m => m.Month)); // not June
        Assert.Equal([new DateOnly(2026, 8, 14), new DateOnly(2026, 8, 16)], first.Calendar.Days.Select(d => d.Date)); // not 2026-10-01
        Assert.Equal(3, first.KeyProcesses.Count);
        Assert.Equal(["cnc-01", "robot-01"], first.Devices.Select(d => d.Device)); // lathe-07 retired on 2026-06-30
        Assert.Equal(["plc-line-1"], q3.Enterprises[1].Devices.Select(d => d.Device)); // commissioned 2026-08-20
        Assert.Equal(Register.GetDevice(Enterprise, "cnc-01"), first.Devices[0]);

        RegisterSnapshot july = Register.Freeze(Other, Window.Parse("2026-07"));
        EnterpriseRegister other = Assert.Single(july.Enterprises);
        Assert.Empty(other.Devices); // not yet commissioned in July
    }

    [Fact]
    public void The_hash_is_SHA256_of_the_canonical_bytes_and_the_same_data_gives_the_same_hash()
    {
        RegisterSnapshot snapshot = Register.Freeze(null, Window.Parse("2026Q3"));

        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(snapshot.Canonical.Span)), snapshot.Hash);
        // Pinned: a change to the canonical form changes every future hash, so it must be deliberate.
        Assert.Equal("48185d3132db9572e8b987424b7cd0897bbd15ef477ae7e6becfa2a66fb14c82", snapshot.Hash);

        // Another store, the same register written in another order and at another time: the same bytes.
        using var directory = new TempDirectory("snapshot-copy");
        var later = new ManualTimeProvider(EvidenceTest.Start.AddDays(40));
        using EvidenceStore copy = EvidenceTest.Open(directory, later);
        foreach (RegisterTable table in AssetRegister.CsvImportOrder)
        {
            Assert.True(copy.Register.ImportCsv(Register.ExportCsv(table), AssetRegister.CsvFileName(table)).Succeeded);
        }

        RegisterSnapshot again = copy.Register.Freeze(null, Window.Parse("2026Q3"));
        Assert.Equal(snapshot.Hash, again.Hash);
        Assert.Equal(snapshot.Canonical.ToArray(), again.Canonical.ToArray());
        Assert.NotEqual(snapshot.FrozenUnixNanoseconds, again.FrozenUnixNanoseconds);
    }

    [Fact]
    public void Later_register_edits_never_change_a_frozen_snapshot()
    {
        Window q3 = Window.Parse("2026Q3");
        Assert.Null(Register.GetSnapshot(null, q3));
        RegisterSnapshot frozen = Register.Freeze(null, q3);

        _time.Advance(TimeSpan.FromDays(1));
        Register.UpsertDevice(Enterprise, Register.GetDevice(Enterprise, "cnc-01")! with { Retired = new DateOnly(2026, 6, 1), Commissioned = new DateOnly(2020, 1, 1) });
        Register.UpsertEnterprise(Register.GetEnterprise(Other)! with { Name = "renamed" });

        RegisterSnapshot refrozen = Register.Freeze(null, q3);
        RegisterSnapshot stored = Register.GetSnapshot(null, q3)!;
        Assert.Equal(frozen.Hash, refrozen.Hash);
        Assert.Equal(frozen.FrozenUnixNanoseconds, refrozen.FrozenUnixNanoseconds);
        Assert.Equal(frozen.Hash, stored.Hash);
        Assert.Equal(["cnc-01", "robot-01"], stored.Enterprises[0].Devices.Select(d => d.Device));
        Assert.Equal("福州示例电子有限公司", stored.Enterprises[1].Enterprise.Name);

        // A window frozen after the edit sees it.
        RegisterSnapshot q4 = Register.Freeze(null, Window.Parse("2026Q4"));
        Assert.Equal(["robot-01"], q4.Enterprises[0].Devices.Select(d => d.Device));
        Assert.Equal("renamed", q4.Enterprises[1].Enterprise.Name);
        Assert.NotEqual(frozen.Hash, q4.Hash);
    }

    [Fact]
    public void Scopes_are_frozen_separately_and_an_unknown_enterprise_is_refused()
    {
        Window q3 = Window.Parse("2026Q3");
        RegisterSnapshot one = Register.Freeze(Enterprise, q3);
        RegisterSnapshot all = Register.Freeze(null, q3);

        Assert.Equal(Enterprise, one.Scope);
        Assert.Single(one.Enterprises);
        Assert.NotEqual(one.Hash, all.Hash);
        Assert.Equal(one.Hash, Register.GetSnapshot(Enterprise, q3)!.Hash);
        Assert.Null(Register.GetSnapshot(Other, q3));

        ArgumentException error = Assert.Throws<ArgumentException>(() => Register.Freeze(RegisterSamples.UnknownEnterprise, q3));
        Assert.StartsWith($"enterprise \"{RegisterSamples.UnknownEnterprise}\" is not in the register.", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Each_enterprise_window_is_taken_in_its_own_time_zone()
    {
        Register.UpsertEnterprise(Register.GetEnterprise(Other)! with { TimeZone = "UTC" });
        var register = Register.Export(Other).Single();

        EnterpriseRegister applied = AssetRegister.ApplyingTo(register, Window.Parse("2026-08"));

        Assert.Equal(["plc-line-1"], applied.Devices.Select(d => d.Device));
        Assert.Equal(0, Window.Parse("2026-08").WithOffset(register.Enterprise.UtcOffsetMinutes).UtcOffsetMinutes);
    }
}
