using Microsoft.Data.Sqlite;

namespace FactoryGateway.Evidence;

/// <summary>
/// The evidence store: one SQLite database, <c>evidence.db</c> in a data directory, holding the tokens,
/// the device and asset register and (later) the device-day ledger. <see cref="Open(EvidenceStoreOptions)"/> creates it when missing and
/// applies the schema migrations (see docs/architecture.md, "Evidence store").
/// </summary>
/// <remarks>
/// <para>
/// Durability: WAL journal mode, <c>synchronous=FULL</c> (a committed transaction survives a power loss),
/// foreign keys enforced.
/// </para>
/// <para>
/// Concurrency: every member is safe to call from any number of threads. Each operation opens its own
/// connection and closes it when done; Microsoft.Data.Sqlite keeps closed connections in its pool, so an
/// open is a pool hand-out plus one <c>PRAGMA synchronous</c>, not a file open. Readers never block (WAL);
/// writers serialise on SQLite's write lock, taken up front (<c>BEGIN IMMEDIATE</c>) and waited for up to
/// <see cref="EvidenceStoreOptions.BusyTimeout"/>. Other processes may open the same file at the same
/// time (the <c>fgw</c> command while the ingest runs); the caches bound how long their changes take to be
/// seen here.
/// </para>
/// </remarks>
public sealed class EvidenceStore : IDisposable
{
    /// <summary>The database file's name inside the data directory.</summary>
    public const string FileName = "evidence.db";

    private readonly string _connectionString;
    private int _disposed;

    private EvidenceStore(string databasePath, string connectionString, EvidenceStoreOptions options, IReadOnlyList<int> appliedMigrations)
    {
        DatabasePath = databasePath;
        _connectionString = connectionString;
        AppliedMigrations = appliedMigrations;
        TimeProvider = options.TimeProvider;
        Tokens = new TokenStore(this, options);
        Devices = new DeviceRegister(this, options);
        Register = new AssetRegister(this);
        Ledger = new Ledger.LedgerStore(this);
        Resolutions = new Ledger.FlagResolutionStore(this);
    }

    /// <summary>The schema version this build writes; an open database is always at this version.</summary>
    public static int SchemaVersion => EvidenceSchema.LatestVersion;

    /// <summary>The full path of <c>evidence.db</c>.</summary>
    public string DatabasePath { get; }

    /// <summary>The migrations this open applied, in order; empty when the database was already current.</summary>
    public IReadOnlyList<int> AppliedMigrations { get; }

    /// <summary>API tokens: create, authenticate, revoke.</summary>
    public TokenStore Tokens { get; }

    /// <summary>The minimal device register and the tally of unregistered devices.</summary>
    public DeviceRegister Devices { get; }

    /// <summary>The asset register: enterprises, employees, calendars, key processes, devices, frozen snapshots.</summary>
    public AssetRegister Register { get; }

    /// <summary>The device-day ledger and the evidence accumulator's checkpoint.</summary>
    public Ledger.LedgerStore Ledger { get; }

    /// <summary>Operators' resolutions of integrity flags: append-only and hash-chained, checked by <see cref="Ledger.LedgerStore.Verify"/>.</summary>
    public Ledger.FlagResolutionStore Resolutions { get; }

    internal TimeProvider TimeProvider { get; }

    /// <summary>Opens (creating when missing) <c>evidence.db</c> in <paramref name="dataDirectory"/> with default options.</summary>
    public static EvidenceStore Open(string dataDirectory) => Open(new EvidenceStoreOptions { DataDirectory = dataDirectory });

    /// <summary>
    /// Validates <paramref name="options"/>, creates the data directory and database when missing, switches
    /// the database to WAL and applies the missing schema migrations.
    /// </summary>
    /// <exception cref="ArgumentException">An option is invalid.</exception>
    /// <exception cref="InvalidOperationException">The database was written by a newer build, or refuses WAL mode.</exception>
    public static EvidenceStore Open(EvidenceStoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();

        string directory = Path.GetFullPath(options.DataDirectory);
        Directory.CreateDirectory(directory);
        string path = Path.Combine(directory, FileName);
        string connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            Pooling = true,
            ForeignKeys = true,
            DefaultTimeout = (int)options.BusyTimeout.TotalSeconds,
        }.ToString();

        try
        {
            using SqliteConnection connection = OpenConnection(connectionString);
            using (SqliteCommand wal = connection.CreateCommand())
            {
                // The journal mode is stored in the database file: set once, every later connection uses it.
                wal.CommandText = "PRAGMA journal_mode = WAL;";
                string? mode = wal.ExecuteScalar() as string;
                if (!string.Equals(mode, "wal", StringComparison.OrdinalIgnoreCase))
                {
                    throw new InvalidOperationException($"{path} refused WAL journal mode (journal_mode is '{mode}').");
                }
            }

            IReadOnlyList<int> applied = EvidenceSchema.Migrate(connection, path, UnixNanoseconds(options.TimeProvider.GetUtcNow()));
            return new EvidenceStore(path, connectionString, options, applied);
        }
        catch
        {
            ClearPool(connectionString);
            throw;
        }
    }

    /// <summary>Closes the pooled connections of this database. Operations after dispose throw <see cref="ObjectDisposedException"/>.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            ClearPool(_connectionString);
        }
    }

    /// <summary>An open connection for one operation, with this store's pragmas applied; the caller disposes it.</summary>
    internal SqliteConnection OpenConnection()
    {
        ThrowIfDisposed();
        return OpenConnection(_connectionString);
    }

    internal void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);

    /// <summary>Unix nanoseconds of <paramref name="time"/>, in integer arithmetic (100 ns ticks × 100).</summary>
    internal static long UnixNanoseconds(DateTimeOffset time) => (time.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) * 100;

    internal long NowUnixNanoseconds() => UnixNanoseconds(TimeProvider.GetUtcNow());

    private static SqliteConnection OpenConnection(string connectionString)
    {
        var connection = new SqliteConnection(connectionString);
        try
        {
            connection.Open();
            using SqliteCommand pragma = connection.CreateCommand();
            // Per connection (foreign keys come from the connection string, applied on every open). FULL
            // fsyncs the WAL at every commit, so a committed token or registration survives a power loss.
            pragma.CommandText = "PRAGMA synchronous = FULL;";
            pragma.ExecuteNonQuery();
            return connection;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    private static void ClearPool(string connectionString)
    {
        using var connection = new SqliteConnection(connectionString);
        SqliteConnection.ClearPool(connection);
    }
}
