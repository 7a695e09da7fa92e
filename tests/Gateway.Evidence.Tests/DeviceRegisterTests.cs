using FactoryGateway.Testing;

namespace FactoryGateway.Evidence.Tests;

public sealed class DeviceRegisterTests : IDisposable
{
    private const string Enterprise = EvidenceTest.Enterprise;
    private const string Other = EvidenceTest.OtherEnterprise;
    private const long T0 = EvidenceTest.StartUnixNanoseconds;

    private readonly TempDirectory _directory = new("evidence");
    private readonly ManualTimeProvider _time = new(EvidenceTest.Start);
    private readonly EvidenceStore _store;

    public DeviceRegisterTests()
    {
        _store = EvidenceTest.Open(_directory, _time);
    }

    private DeviceRegister Devices => _store.Devices;

    public void Dispose()
    {
        _store.Dispose();
        _directory.Dispose();
    }

    [Fact]
    public void A_registered_device_is_known_per_enterprise()
    {
        Assert.False(Devices.IsRegistered(Enterprise, "cnc-01"));

        Assert.True(Devices.RegisterDevice(Enterprise, "cnc-01"));
        Assert.False(Devices.RegisterDevice(Enterprise, "cnc-01")); // already there

        Assert.True(Devices.IsRegistered(Enterprise, "cnc-01"));
        Assert.False(Devices.IsRegistered(Other, "cnc-01"));
        Assert.False(Devices.IsRegistered(Enterprise, "CNC-01")); // ids are compared exactly
    }

    [Fact]
    public void IsRegistered_answers_from_memory_and_rechecks_a_no_after_the_interval()
    {
        Devices.RegisterDevice(Enterprise, "cnc-01");
        for (int i = 0; i < 1000; i++)
        {
            Assert.True(Devices.IsRegistered(Enterprise, "cnc-01"));
            Assert.False(Devices.IsRegistered(Enterprise, "robot-07"));
        }

        Assert.Equal(1, Devices.DatabaseReads); // robot-07 once; cnc-01 was cached by RegisterDevice

        _time.Advance(TimeSpan.FromSeconds(10));
        Assert.False(Devices.IsRegistered(Enterprise, "robot-07"));
        Assert.True(Devices.IsRegistered(Enterprise, "cnc-01"));
        Assert.Equal(2, Devices.DatabaseReads);
    }

    [Fact]
    public void A_registration_through_this_store_is_seen_at_once_and_through_another_within_the_interval()
    {
        Assert.False(Devices.IsRegistered(Enterprise, "cnc-01"));
        Assert.False(Devices.IsRegistered(Enterprise, "cnc-02"));

        Devices.RegisterDevice(Enterprise, "cnc-01");
        using (EvidenceStore other = EvidenceTest.Open(_directory, _time))
        {
            // Another process (the fgw command) registering while the ingest runs.
            other.Devices.RegisterDevice(Enterprise, "cnc-02");
        }

        Assert.True(Devices.IsRegistered(Enterprise, "cnc-01"));
        Assert.False(Devices.IsRegistered(Enterprise, "cnc-02")); // the cached "no", within the documented bound
        _time.Advance(TimeSpan.FromSeconds(10));
        Assert.True(Devices.IsRegistered(Enterprise, "cnc-02"));
    }

    [Fact]
    public void The_device_cache_stays_bounded()
    {
        using var directory = new TempDirectory("evidence");
        using EvidenceStore store = EvidenceTest.Open(directory, _time, o => o.DeviceCacheCapacity = 10);
        store.Devices.RegisterDevice(Enterprise, "cnc-01");

        for (int i = 0; i < 100; i++)
        {
            Assert.False(store.Devices.IsRegistered(Enterprise, $"made-up-{i}"));
        }

        Assert.True(store.Devices.IsRegistered(Enterprise, "cnc-01"));
        Assert.Equal(101, store.Devices.DatabaseReads); // cnc-01 was dropped with the rest and read again
    }

    public static TheoryData<string, string, string, string> InvalidRegistrations => new()
    {
        {
            "91330402MA2B3C4D5E", "cnc-01", "enterprise",
            "enterprise \"91330402MA2B3C4D5E\" is not a valid unified social credit code: the check character is 'E' but the GB 32100-2015 checksum of the first 17 characters gives '3'."
        },
        { Enterprise, "", "deviceId", "deviceId must not be empty." },
        { Enterprise, new string('d', 257), "deviceId", "deviceId must be at most 256 characters (was 257)." },
        { Enterprise, "cnc\t01", "deviceId", "deviceId must not contain control characters (U+0009 at index 3)." },
    };

    [Theory]
    [MemberData(nameof(InvalidRegistrations))]
    public void An_invalid_registration_is_refused_naming_the_field(string enterprise, string device, string field, string message)
    {
        ArgumentException error = Assert.Throws<ArgumentException>(() => Devices.RegisterDevice(enterprise, device));

        Assert.Equal(field, error.ParamName);
        Assert.Equal($"{message} (Parameter '{field}')", error.Message);
    }

    [Fact]
    public void The_unregistered_tally_adds_points_and_widens_first_and_last_seen()
    {
        Devices.RecordUnregistered([(Enterprise, "robot-07"), (Enterprise, "robot-07"), (Enterprise, "plc-2")], T0 + 100);
        Devices.RecordUnregistered([(Enterprise, "robot-07")], T0 + 50); // a late batch: earlier first-seen
        Devices.RecordUnregistered([(Enterprise, "robot-07", 10L), (Other, "agv-1", 3L)], T0 + 200);
        Devices.RecordUnregistered([(Enterprise, "plc-2", 0L)], T0 + 300);

        Assert.Equal(
            [
                new UnregisteredDevice { Enterprise = Enterprise, Device = "plc-2", FirstSeenUnixNanoseconds = T0 + 100, LastSeenUnixNanoseconds = T0 + 300, Points = 1 },
                new UnregisteredDevice { Enterprise = Enterprise, Device = "robot-07", FirstSeenUnixNanoseconds = T0 + 50, LastSeenUnixNanoseconds = T0 + 200, Points = 13 },
                new UnregisteredDevice { Enterprise = Other, Device = "agv-1", FirstSeenUnixNanoseconds = T0 + 200, LastSeenUnixNanoseconds = T0 + 200, Points = 3 },
            ],
            Devices.ListUnregistered(null));
        Assert.Equal(["plc-2", "robot-07"], Devices.ListUnregistered(Enterprise).Select(d => d.Device));
        Assert.Equal(["agv-1"], Devices.ListUnregistered(Other).Select(d => d.Device));
        Assert.Empty(Devices.ListUnregistered("913304020000FGW01F"));
    }

    [Fact]
    public void Sightings_with_their_own_times_widen_first_and_last_seen_within_one_call()
    {
        // The ingest's queued sightings: points and arrival time per sighting, possibly from several batches.
        Devices.RecordUnregistered([(Enterprise, "robot-07", 5L, T0 + 300), (Enterprise, "robot-07", 2L, T0 + 100), (Other, "agv-1", 1L, T0 + 200)]);
        Devices.RecordUnregistered([(Enterprise, "robot-07", 1L, T0 + 400)]);

        Assert.Equal(
            [
                new UnregisteredDevice { Enterprise = Enterprise, Device = "robot-07", FirstSeenUnixNanoseconds = T0 + 100, LastSeenUnixNanoseconds = T0 + 400, Points = 8 },
                new UnregisteredDevice { Enterprise = Other, Device = "agv-1", FirstSeenUnixNanoseconds = T0 + 200, LastSeenUnixNanoseconds = T0 + 200, Points = 1 },
            ],
            Devices.ListUnregistered(null));
    }

    [Fact]
    public void A_device_registered_later_leaves_the_unregistered_list()
    {
        Devices.RecordUnregistered([(Enterprise, "robot-07"), (Enterprise, "plc-2")], T0);

        Devices.RegisterDevice(Enterprise, "robot-07");

        Assert.Equal(["plc-2"], Devices.ListUnregistered(Enterprise).Select(d => d.Device));
        Assert.Equal(["plc-2"], Devices.ListUnregistered(null).Select(d => d.Device));
    }

    [Fact]
    public void An_empty_batch_is_a_no_op_and_a_bad_sighting_writes_nothing()
    {
        Devices.RecordUnregistered(Array.Empty<(string, string)>(), T0);
        Devices.RecordUnregistered(Array.Empty<(string, string, long)>(), T0);
        Devices.RecordUnregistered(Array.Empty<(string, string, long, long)>());
        Assert.Empty(Devices.ListUnregistered(null));

        ArgumentException empty = Assert.Throws<ArgumentException>(() => Devices.RecordUnregistered([(Enterprise, "robot-07"), (Enterprise, "")], T0));
        Assert.Equal("seen", empty.ParamName);
        Assert.Throws<ArgumentNullException>(() => Devices.RecordUnregistered((IEnumerable<(string, string)>)null!, T0));
        Assert.Equal("seen", Assert.Throws<ArgumentOutOfRangeException>(() => Devices.RecordUnregistered([(Enterprise, "robot-07", -1L)], T0)).ParamName);
        Assert.Empty(Devices.ListUnregistered(null));
    }

    [Fact]
    public async Task Concurrent_recording_and_registration_lose_nothing()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        const int Tasks = 8;
        const int Calls = 40;

        Task[] recorders = [.. Enumerable.Range(0, Tasks).Select(worker => Task.Run(() =>
        {
            for (int call = 0; call < Calls; call++)
            {
                // Ten sightings per call over five devices: two points each.
                Devices.RecordUnregistered(Enumerable.Range(0, 10).Select(i => (Enterprise, $"dev-{i % 5}")), T0 + (worker * 1_000) + call);
            }
        }, ct))];
        Task[] registrars = [.. Enumerable.Range(0, Tasks).Select(worker => Task.Run(() =>
        {
            for (int i = 0; i < 20; i++)
            {
                string device = $"cnc-{worker}-{i}";
                Assert.False(Devices.IsRegistered(Enterprise, device));
                Devices.RegisterDevice(Enterprise, device);
                Assert.True(Devices.IsRegistered(Enterprise, device));
            }
        }, ct))];
        await Task.WhenAll([.. recorders, .. registrars]).WaitAsync(EvidenceTest.Deadline, ct);

        IReadOnlyList<UnregisteredDevice> tally = Devices.ListUnregistered(Enterprise);
        Assert.Equal(5, tally.Count);
        Assert.All(tally, d =>
        {
            Assert.Equal(Tasks * Calls * 2, d.Points);
            Assert.Equal(T0, d.FirstSeenUnixNanoseconds);
            Assert.Equal(T0 + ((Tasks - 1) * 1_000) + Calls - 1, d.LastSeenUnixNanoseconds);
        });

        using EvidenceStore reopened = EvidenceTest.Open(_directory, _time);
        Assert.All(Enumerable.Range(0, Tasks * 20), i => Assert.True(reopened.Devices.IsRegistered(Enterprise, $"cnc-{i / 20}-{i % 20}")));
    }
}
