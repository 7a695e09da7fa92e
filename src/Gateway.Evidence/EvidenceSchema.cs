using Microsoft.Data.Sqlite;

namespace FactoryGateway.Evidence;

/// <summary>
/// The evidence database's schema, as numbered migrations. <c>schema_version</c> holds one row per
/// applied migration; <see cref="Migrate"/> applies, in one immediate transaction, every migration above
/// the highest applied one, so concurrent openers (two processes) apply each migration exactly once.
/// A migration is never edited once released: a change is a new migration.
/// </summary>
internal static class EvidenceSchema
{
    private const string CreateVersionTable = """
        CREATE TABLE IF NOT EXISTS schema_version (
            version    INTEGER PRIMARY KEY NOT NULL,
            applied_ns INTEGER NOT NULL
        ) STRICT;
        """;

    // Migration 1: tokens, the minimal device register and the unregistered-device tally.
    private const string Migration1 = """
        CREATE TABLE tokens (
            id          TEXT PRIMARY KEY NOT NULL CHECK (length(id) = 16),
            hash        BLOB NOT NULL CHECK (length(hash) = 32),
            role        TEXT NOT NULL CHECK (role IN ('enterprise', 'bureau', 'admin')),
            enterprise  TEXT CHECK (enterprise IS NULL OR length(enterprise) = 18),
            region      TEXT CHECK (region IS NULL OR length(region) = 6),
            description TEXT,
            created_ns  INTEGER NOT NULL,
            revoked     INTEGER NOT NULL DEFAULT 0 CHECK (revoked IN (0, 1)),
            revoked_ns  INTEGER,
            CHECK ((role = 'enterprise') = (enterprise IS NOT NULL)),
            CHECK ((role = 'bureau') = (region IS NOT NULL)),
            CHECK ((revoked = 1) = (revoked_ns IS NOT NULL))
        ) STRICT;

        CREATE TABLE devices (
            enterprise           TEXT NOT NULL,
            device               TEXT NOT NULL,
            product_instance_uri TEXT,
            manufacturer         TEXT,
            model                TEXT,
            serial_number        TEXT,
            registered_ns        INTEGER NOT NULL,
            PRIMARY KEY (enterprise, device)
        ) STRICT, WITHOUT ROWID;

        CREATE TABLE unregistered_devices (
            enterprise    TEXT NOT NULL,
            device        TEXT NOT NULL,
            first_seen_ns INTEGER NOT NULL,
            last_seen_ns  INTEGER NOT NULL,
            points        INTEGER NOT NULL CHECK (points >= 0),
            PRIMARY KEY (enterprise, device)
        ) STRICT, WITHOUT ROWID;
        """;

    private static readonly string[] s_migrations = [Migration1];

    /// <summary>The schema version this build writes: the number of the last migration.</summary>
    public static int LatestVersion => s_migrations.Length;

    /// <summary>
    /// Applies the missing migrations on <paramref name="connection"/> and returns their numbers (empty
    /// when the schema is up to date).
    /// </summary>
    /// <exception cref="InvalidOperationException">The database was written by a newer build.</exception>
    public static IReadOnlyList<int> Migrate(SqliteConnection connection, string path, long nowUnixNanoseconds)
    {
        // BeginTransaction() is BEGIN IMMEDIATE: the write lock is taken before the version is read.
        using SqliteTransaction transaction = connection.BeginTransaction();
        Execute(connection, transaction, CreateVersionTable);

        using SqliteCommand read = connection.CreateCommand();
        read.Transaction = transaction;
        read.CommandText = "SELECT coalesce(max(version), 0) FROM schema_version;";
        int current = Convert.ToInt32(read.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
        if (current > LatestVersion)
        {
            throw new InvalidOperationException(
                $"{path} has schema version {current}; this build knows versions up to {LatestVersion}. Open it with a newer FactoryGateway.");
        }

        var applied = new List<int>();
        for (int version = current + 1; version <= LatestVersion; version++)
        {
            Execute(connection, transaction, s_migrations[version - 1]);

            using SqliteCommand record = connection.CreateCommand();
            record.Transaction = transaction;
            record.CommandText = "INSERT INTO schema_version (version, applied_ns) VALUES ($version, $applied);";
            record.Parameters.AddWithValue("$version", version);
            record.Parameters.AddWithValue("$applied", nowUnixNanoseconds);
            record.ExecuteNonQuery();
            applied.Add(version);
        }

        transaction.Commit();
        return applied;
    }

    private static void Execute(SqliteConnection connection, SqliteTransaction transaction, string sql)
    {
        using SqliteCommand command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
