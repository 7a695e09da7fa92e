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

    // Migration 2: the device-day ledger (docs/architecture.md, "Evidence ledger") and the evidence
    // accumulator's checkpoint. Sealed rows are never updated or deleted; the triggers refuse it.
    private const string Migration2 = """
        CREATE TABLE ledger_rows (
            enterprise          TEXT NOT NULL,
            device              TEXT NOT NULL,
            day                 INTEGER NOT NULL,
            offset_min          INTEGER NOT NULL,
            formula_set         TEXT NOT NULL,
            samples             INTEGER NOT NULL,
            substantive         INTEGER NOT NULL,
            events              INTEGER NOT NULL,
            non_good            INTEGER NOT NULL,
            off_ns              INTEGER NOT NULL,
            down_ns             INTEGER NOT NULL,
            setup_ns            INTEGER NOT NULL,
            idle_ns             INTEGER NOT NULL,
            run_ns              INTEGER NOT NULL,
            run_test_ns         INTEGER NOT NULL,
            parts_delta         INTEGER NOT NULL,
            good_delta          INTEGER NOT NULL,
            cycles_delta        INTEGER NOT NULL,
            power_on_delta_s    REAL NOT NULL,
            energy_delta_kwh    REAL NOT NULL,
            counter_resets      INTEGER NOT NULL,
            program_changes     INTEGER NOT NULL,
            first_ns            INTEGER,
            last_ns             INTEGER,
            max_lag_ns          INTEGER NOT NULL,
            late                INTEGER NOT NULL,
            backfill            INTEGER NOT NULL,
            out_of_order        INTEGER NOT NULL,
            transitions         INTEGER NOT NULL,
            regular_transitions INTEGER NOT NULL,
            identities          TEXT NOT NULL,
            minutes             BLOB NOT NULL,
            minute_digest       BLOB NOT NULL CHECK (length(minute_digest) = 32),
            covered_min         INTEGER NOT NULL,
            scheduled_min       INTEGER NOT NULL,
            covered_shift_min   INTEGER NOT NULL,
            sealed              INTEGER NOT NULL CHECK (sealed IN (0, 1)),
            hash                BLOB CHECK (hash IS NULL OR length(hash) = 32),
            prev_hash           BLOB CHECK (prev_hash IS NULL OR length(prev_hash) = 32),
            summary             BLOB NOT NULL,
            PRIMARY KEY (enterprise, device, day),
            CHECK ((sealed = 1) = (hash IS NOT NULL AND prev_hash IS NOT NULL))
        ) STRICT, WITHOUT ROWID;

        CREATE INDEX ledger_rows_day ON ledger_rows (day);

        CREATE TRIGGER ledger_rows_sealed_update BEFORE UPDATE ON ledger_rows WHEN OLD.sealed = 1
        BEGIN SELECT RAISE(ABORT, 'sealed ledger rows are never changed'); END;

        CREATE TRIGGER ledger_rows_sealed_delete BEFORE DELETE ON ledger_rows WHEN OLD.sealed = 1
        BEGIN SELECT RAISE(ABORT, 'sealed ledger rows are never deleted'); END;

        CREATE TABLE ledger_roots (
            enterprise TEXT NOT NULL,
            day        INTEGER NOT NULL,
            root       BLOB NOT NULL CHECK (length(root) = 32),
            rows       INTEGER NOT NULL CHECK (rows > 0),
            PRIMARY KEY (enterprise, day)
        ) STRICT, WITHOUT ROWID;

        CREATE TRIGGER ledger_roots_update BEFORE UPDATE ON ledger_roots
        BEGIN SELECT RAISE(ABORT, 'ledger roots are never changed'); END;

        CREATE TRIGGER ledger_roots_delete BEFORE DELETE ON ledger_roots
        BEGIN SELECT RAISE(ABORT, 'ledger roots are never deleted'); END;

        CREATE TABLE ledger_seals (
            enterprise     TEXT PRIMARY KEY NOT NULL,
            sealed_through INTEGER NOT NULL
        ) STRICT;

        CREATE TABLE accumulator_devices (
            enterprise TEXT NOT NULL,
            device     TEXT NOT NULL,
            state      BLOB NOT NULL,
            PRIMARY KEY (enterprise, device)
        ) STRICT, WITHOUT ROWID;

        CREATE TABLE accumulator_checkpoints (
            name       TEXT PRIMARY KEY NOT NULL,
            position   INTEGER NOT NULL,
            watermark  INTEGER NOT NULL,
            updated_ns INTEGER NOT NULL
        ) STRICT;
        """;

    private static readonly string[] s_migrations = [Migration1, Migration2];

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
