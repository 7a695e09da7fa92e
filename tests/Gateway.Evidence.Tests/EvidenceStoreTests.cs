using System.Globalization;
using FactoryGateway.Testing;
using Microsoft.Data.Sqlite;

namespace FactoryGateway.Evidence.Tests;

public sealed class EvidenceStoreTests
{
    private static readonly string s_latest = EvidenceStore.SchemaVersion.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private readonly ManualTimeProvider _time = new(EvidenceTest.Start);

    [Fact]
    public void Open_creates_evidence_db_in_WAL_mode_with_full_sync_and_foreign_keys()
    {
        using var directory = new TempDirectory("evidence");
        string dataDirectory = directory.Combine("data", "nested");

        using EvidenceStore store = EvidenceStore.Open(new EvidenceStoreOptions { DataDirectory = dataDirectory, TimeProvider = _time });

        Assert.Equal(Path.Combine(dataDirectory, "evidence.db"), store.DatabasePath);
        Assert.True(File.Exists(store.DatabasePath));
        Assert.Equal(Enumerable.Range(1, EvidenceStore.SchemaVersion), store.AppliedMigrations);
        Assert.Equal(6, EvidenceStore.SchemaVersion);
        using SqliteConnection connection = store.OpenConnection();
        Assert.Equal("wal", Scalar(connection, "PRAGMA journal_mode;"));
        Assert.Equal("2", Scalar(connection, "PRAGMA synchronous;")); // FULL
        Assert.Equal("1", Scalar(connection, "PRAGMA foreign_keys;"));
        Assert.Equal(
            "accumulator_checkpoints,accumulator_devices,calendar_days,devices,employee_months,enterprises,flag_resolutions,future_rejections,key_processes,ledger_months,ledger_roots,ledger_rows,ledger_seals,"
            + "register_snapshots,schema_version,shift_weeks,tokens,unregistered_devices",
            Scalar(connection, "SELECT group_concat(name, ',') FROM (SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name);"));
        Assert.Equal(string.Join(",", Enumerable.Range(1, EvidenceStore.SchemaVersion).Select(v => $"{v}:{EvidenceTest.StartUnixNanoseconds}")), Scalar(connection, "SELECT group_concat(version || ':' || applied_ns) FROM (SELECT * FROM schema_version ORDER BY version);"));
    }

    [Fact]
    public void Every_connection_of_the_pool_gets_full_sync()
    {
        using var directory = new TempDirectory("evidence");
        using EvidenceStore store = EvidenceTest.Open(directory, _time);

        // Several connections open at once come from the pool as distinct handles; each is set up on open.
        SqliteConnection[] connections = [.. Enumerable.Range(0, 4).Select(_ => store.OpenConnection())];
        try
        {
            Assert.All(connections, c => Assert.Equal("2", Scalar(c, "PRAGMA synchronous;")));
            Assert.All(connections, c => Assert.Equal("1", Scalar(c, "PRAGMA foreign_keys;")));
        }
        finally
        {
            Array.ForEach(connections, c => c.Dispose());
        }
    }

    [Fact]
    public void Reopening_applies_no_migration_and_keeps_the_data()
    {
        using var directory = new TempDirectory("evidence");
        string token;
        using (EvidenceStore first = EvidenceTest.Open(directory, _time))
        {
            token = first.Tokens.CreateToken(TokenRole.Enterprise, EvidenceTest.Enterprise, null, null);
            first.Devices.RegisterDevice(EvidenceTest.Enterprise, "cnc-01");
            first.Devices.RecordUnregistered([(EvidenceTest.Enterprise, "robot-07")], EvidenceTest.StartUnixNanoseconds);
        }

        for (int reopen = 0; reopen < 3; reopen++)
        {
            using EvidenceStore store = EvidenceTest.Open(directory, _time);

            Assert.Empty(store.AppliedMigrations);
            Assert.NotNull(store.Tokens.Authenticate(token));
            Assert.True(store.Devices.IsRegistered(EvidenceTest.Enterprise, "cnc-01"));
            Assert.Equal("robot-07", Assert.Single(store.Devices.ListUnregistered(null)).Device);
            using SqliteConnection connection = store.OpenConnection();
            Assert.Equal(s_latest, Scalar(connection, "SELECT count(*) FROM schema_version;"));
        }
    }

    [Fact]
    public void Migrating_a_current_database_again_changes_nothing()
    {
        using var directory = new TempDirectory("evidence");
        using EvidenceStore store = EvidenceTest.Open(directory, _time);
        using SqliteConnection connection = store.OpenConnection();
        string schema = Scalar(connection, "SELECT group_concat(sql, ';') FROM sqlite_schema;");

        Assert.Empty(EvidenceSchema.Migrate(connection, store.DatabasePath, 0));
        Assert.Empty(EvidenceSchema.Migrate(connection, store.DatabasePath, 0));

        Assert.Equal(schema, Scalar(connection, "SELECT group_concat(sql, ';') FROM sqlite_schema;"));
        Assert.Equal(s_latest, Scalar(connection, "SELECT count(*) FROM schema_version;"));
    }

    [Fact]
    public async Task Stores_opened_concurrently_on_a_new_directory_migrate_it_once()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        using var directory = new TempDirectory("evidence");

        EvidenceStore[] stores = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() => EvidenceTest.Open(directory, _time), ct)))
            .WaitAsync(EvidenceTest.Deadline, ct);
        try
        {
            Assert.Equal(EvidenceStore.SchemaVersion, stores.Sum(s => s.AppliedMigrations.Count));
            using SqliteConnection connection = stores[0].OpenConnection();
            Assert.Equal(s_latest, Scalar(connection, "SELECT count(*) FROM schema_version;"));
        }
        finally
        {
            Array.ForEach(stores, s => s.Dispose());
        }
    }

    [Fact]
    public void A_database_written_by_a_newer_build_is_refused()
    {
        using var directory = new TempDirectory("evidence");
        string path;
        using (EvidenceStore store = EvidenceTest.Open(directory, _time))
        {
            path = store.DatabasePath;
            using SqliteConnection connection = store.OpenConnection();
            Scalar(connection, $"INSERT INTO schema_version (version, applied_ns) VALUES ({EvidenceStore.SchemaVersion + 1}, 0);");
        }

        InvalidOperationException error = Assert.Throws<InvalidOperationException>(() => EvidenceTest.Open(directory, _time));

        Assert.Equal($"{path} has schema version {EvidenceStore.SchemaVersion + 1}; this build knows versions up to {EvidenceStore.SchemaVersion}. Open it with a newer FactoryGateway.", error.Message);
    }

    [Fact]
    public void A_store_refuses_work_once_disposed()
    {
        using var directory = new TempDirectory("evidence");
        EvidenceStore store = EvidenceTest.Open(directory, _time);
        string token = store.Tokens.CreateToken(TokenRole.Admin, null, null, null);
        Assert.NotNull(store.Tokens.Authenticate(token));

        store.Dispose();
        store.Dispose();

        Assert.Throws<ObjectDisposedException>(() => store.Tokens.Authenticate(token));
        Assert.Throws<ObjectDisposedException>(() => store.Tokens.CreateToken(TokenRole.Admin, null, null, null));
        Assert.Throws<ObjectDisposedException>(() => store.Devices.IsRegistered(EvidenceTest.Enterprise, "cnc-01"));
        Assert.Throws<ObjectDisposedException>(() => store.Devices.ListUnregistered(null));
    }

    [Fact]
    public void The_default_options_are_valid_once_a_directory_is_given()
    {
        var options = new EvidenceStoreOptions { DataDirectory = "data" };
        options.Validate();
        Assert.Same(TimeProvider.System, options.TimeProvider);
        Assert.Equal(TimeSpan.FromSeconds(30), options.TokenCacheLifetime);
        Assert.Equal(TimeSpan.FromSeconds(10), options.UnregisteredRecheckInterval);
    }

    public static TheoryData<string, Action<EvidenceStoreOptions>, string> InvalidOptions => new()
    {
        { "DataDirectory", o => o.DataDirectory = " ", "EvidenceStoreOptions.DataDirectory must name the store's data directory (was  )." },
        { "TimeProvider", o => o.TimeProvider = null!, "EvidenceStoreOptions.TimeProvider must be set (was null)." },
        { "TokenCacheCapacity", o => o.TokenCacheCapacity = 0, "EvidenceStoreOptions.TokenCacheCapacity must be between 1 and 10000000 (was 0)." },
        { "TokenCacheLifetime", o => o.TokenCacheLifetime = TimeSpan.Zero, "EvidenceStoreOptions.TokenCacheLifetime must be positive and at most 1 day (was 00:00:00)." },
        { "DeviceCacheCapacity", o => o.DeviceCacheCapacity = -1, "EvidenceStoreOptions.DeviceCacheCapacity must be between 1 and 10000000 (was -1)." },
        { "UnregisteredRecheckInterval", o => o.UnregisteredRecheckInterval = TimeSpan.FromDays(2), "EvidenceStoreOptions.UnregisteredRecheckInterval must be positive and at most 1 day (was 2.00:00:00)." },
        { "BusyTimeout", o => o.BusyTimeout = TimeSpan.FromMilliseconds(10), "EvidenceStoreOptions.BusyTimeout must be between 1 s and 1 h (was 00:00:00.0100000)." },
    };

    [Theory]
    [MemberData(nameof(InvalidOptions))]
    public void An_invalid_option_is_named_with_the_reason_before_the_disk_is_touched(string option, Action<EvidenceStoreOptions> breakIt, string message)
    {
        using var directory = new TempDirectory("evidence");
        string path = directory.Combine("never-created");
        var options = new EvidenceStoreOptions { DataDirectory = path };
        breakIt(options);

        ArgumentException error = Assert.Throws<ArgumentException>(() => EvidenceStore.Open(options));

        Assert.Equal(option, error.ParamName);
        Assert.Equal($"{message} (Parameter '{option}')", error.Message);
        Assert.False(Directory.Exists(path));
    }

    private static string Scalar(SqliteConnection connection, string sql)
    {
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToString(command.ExecuteScalar(), CultureInfo.InvariantCulture) ?? "";
    }
}
