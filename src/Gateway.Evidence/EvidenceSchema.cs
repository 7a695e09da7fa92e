using Microsoft.Data.Sqlite;

namespace FactoryGateway.Evidence;

/// <summary>
/// The evidence database's schema, as numbered migrations. <c>schema_version</c> holds one row per
/// applied migration; <see cref="Migrate(SqliteConnection, string, long)"/> applies, in one immediate transaction, every migration above
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

    // Migration 3: the asset register of the indicator spec §1. Enterprises, monthly employees, the shift
    // calendar (weekly pattern; no row = the default Mon–Fri 08:00–20:00) and its per-date overrides, the
    // key-process list, every device field (added to migration 1's devices, NULL for a device registered
    // before it was described; its key and registered_ns are untouched) and the frozen snapshots.
    // Prices are integer fen and cycle times integer ns: nothing is stored as a floating-point number.
    private const string Migration3 = """
        CREATE TABLE enterprises (
            credit_code TEXT PRIMARY KEY NOT NULL CHECK (length(credit_code) = 18),
            name        TEXT NOT NULL CHECK (length(name) > 0),
            region      TEXT NOT NULL CHECK (length(region) = 6),
            industry    TEXT,
            time_zone   TEXT NOT NULL DEFAULT 'Asia/Shanghai',
            updated_ns  INTEGER NOT NULL
        ) STRICT, WITHOUT ROWID;

        CREATE TABLE employee_months (
            enterprise        TEXT NOT NULL REFERENCES enterprises (credit_code),
            month             TEXT NOT NULL CHECK (length(month) = 7),
            average_headcount INTEGER NOT NULL CHECK (average_headcount >= 0),
            PRIMARY KEY (enterprise, month)
        ) STRICT, WITHOUT ROWID;

        CREATE TABLE shift_weeks (
            enterprise TEXT PRIMARY KEY NOT NULL REFERENCES enterprises (credit_code),
            mon TEXT NOT NULL,
            tue TEXT NOT NULL,
            wed TEXT NOT NULL,
            thu TEXT NOT NULL,
            fri TEXT NOT NULL,
            sat TEXT NOT NULL,
            sun TEXT NOT NULL
        ) STRICT, WITHOUT ROWID;

        CREATE TABLE calendar_days (
            enterprise TEXT NOT NULL REFERENCES enterprises (credit_code),
            day        TEXT NOT NULL CHECK (length(day) = 10),
            kind       TEXT NOT NULL CHECK (kind IN ('planned_downtime', 'extra_production')),
            shifts     TEXT NOT NULL,
            note       TEXT,
            PRIMARY KEY (enterprise, day)
        ) STRICT, WITHOUT ROWID;

        CREATE TABLE key_processes (
            enterprise TEXT NOT NULL REFERENCES enterprises (credit_code),
            process    TEXT NOT NULL,
            is_key     INTEGER NOT NULL CHECK (is_key IN (0, 1)),
            PRIMARY KEY (enterprise, process)
        ) STRICT, WITHOUT ROWID;

        ALTER TABLE devices ADD COLUMN class TEXT
            CHECK (class IS NULL OR class IN ('cnc_machine_tool', 'industrial_robot', 'plc_automated', 'conventional', 'instrument', 'agv', 'other'));
        ALTER TABLE devices ADD COLUMN production INTEGER CHECK (production IS NULL OR production IN (0, 1));
        ALTER TABLE devices ADD COLUMN digital INTEGER CHECK (digital IS NULL OR digital IN (0, 1));
        ALTER TABLE devices ADD COLUMN nc INTEGER CHECK (nc IS NULL OR nc IN (0, 1));
        ALTER TABLE devices ADD COLUMN key_process INTEGER CHECK (key_process IS NULL OR key_process IN (0, 1));
        ALTER TABLE devices ADD COLUMN process TEXT;
        ALTER TABLE devices ADD COLUMN robot_axes INTEGER CHECK (robot_axes IS NULL OR robot_axes > 0);
        ALTER TABLE devices ADD COLUMN commissioned TEXT CHECK (commissioned IS NULL OR length(commissioned) = 10);
        ALTER TABLE devices ADD COLUMN retired TEXT CHECK (retired IS NULL OR length(retired) = 10);
        ALTER TABLE devices ADD COLUMN retrofit_project TEXT;
        ALTER TABLE devices ADD COLUMN purchase_price_fen INTEGER CHECK (purchase_price_fen IS NULL OR purchase_price_fen >= 0);
        ALTER TABLE devices ADD COLUMN invoice TEXT;
        ALTER TABLE devices ADD COLUMN leased INTEGER CHECK (leased IS NULL OR leased IN (0, 1));
        ALTER TABLE devices ADD COLUMN locally_made INTEGER CHECK (locally_made IS NULL OR locally_made IN (0, 1));
        ALTER TABLE devices ADD COLUMN first_of_kind INTEGER CHECK (first_of_kind IS NULL OR first_of_kind IN (0, 1));
        ALTER TABLE devices ADD COLUMN ideal_cycle_ns INTEGER CHECK (ideal_cycle_ns IS NULL OR ideal_cycle_ns > 0);
        ALTER TABLE devices ADD COLUMN described_ns INTEGER;

        CREATE TABLE register_snapshots (
            scope        TEXT NOT NULL,
            window_label TEXT NOT NULL,
            hash         BLOB NOT NULL CHECK (length(hash) = 32),
            canonical    BLOB NOT NULL,
            frozen_ns    INTEGER NOT NULL,
            PRIMARY KEY (scope, window_label)
        ) STRICT, WITHOUT ROWID;
        """;

    // Migration 4: operator resolutions of integrity flags (spec §6: "resolutions are part of the ledger"),
    // and the ingest's tally of writes refused for future timestamps.
    // Append-only and hash-chained like the ledger rows: a resolution is never changed or deleted; taking
    // one back is a new entry with action 'reopen'.
    private const string Migration4 = """
        CREATE TABLE flag_resolutions (
            seq         INTEGER PRIMARY KEY,
            enterprise  TEXT NOT NULL,
            device      TEXT NOT NULL,
            flag        TEXT NOT NULL,
            from_day    INTEGER NOT NULL,
            to_day      INTEGER NOT NULL CHECK (to_day > from_day),
            window      TEXT NOT NULL,
            action      TEXT NOT NULL CHECK (action IN ('resolve', 'reopen')),
            actor       TEXT NOT NULL CHECK (length(actor) > 0),
            reason      TEXT NOT NULL CHECK (length(reason) > 0),
            at_ns       INTEGER NOT NULL,
            prev_hash   BLOB NOT NULL CHECK (length(prev_hash) = 32),
            hash        BLOB NOT NULL CHECK (length(hash) = 32)
        ) STRICT;

        CREATE INDEX flag_resolutions_device ON flag_resolutions (enterprise, device);

        CREATE TRIGGER flag_resolutions_update BEFORE UPDATE ON flag_resolutions
        BEGIN SELECT RAISE(ABORT, 'flag resolutions are never changed'); END;

        CREATE TRIGGER flag_resolutions_delete BEFORE DELETE ON flag_resolutions
        BEGIN SELECT RAISE(ABORT, 'flag resolutions are never deleted'); END;

        -- Writes the ingest refused because a line's source time was ahead of its clock (spec §6
        -- future_timestamp): nothing of them is in the WAL, so the ingest counts them here, per device and
        -- local day of arrival.
        CREATE TABLE future_rejections (
            enterprise TEXT NOT NULL,
            device     TEXT NOT NULL,
            day        INTEGER NOT NULL,
            requests   INTEGER NOT NULL CHECK (requests > 0),
            last_ns    INTEGER NOT NULL,
            PRIMARY KEY (enterprise, device, day)
        ) STRICT, WITHOUT ROWID;
        """;

    // Migration 5: the month rollups of the ledger (docs/architecture.md, "Evidence ledger"): per device and
    // month the sealed days' indicator figures in one blob (LedgerMonth), derived from ledger_rows and
    // written in the transaction that seals them; filled here from the rows sealed so far
    // (LedgerStore.FillMonths). month is the local day of the month's first day. The partial index finds
    // the open rows of a window without scanning the sealed ones.
    private const string Migration5 = """
        CREATE TABLE ledger_months (
            enterprise TEXT NOT NULL,
            device     TEXT NOT NULL,
            month      INTEGER NOT NULL,
            days       INTEGER NOT NULL CHECK (days BETWEEN 1 AND 31),
            rollup     BLOB NOT NULL,
            PRIMARY KEY (enterprise, device, month)
        ) STRICT;

        CREATE INDEX ledger_months_month ON ledger_months (month);

        CREATE INDEX ledger_rows_open ON ledger_rows (day) WHERE sealed = 0;
        """;

    // Migration 6: beside each month rollup, its sealed days' per-minute state vectors (LedgerMonth.EncodeMinutes),
    // for the clone test's correlation (spec §6 "Pearson ≥ 0.99"), so that a window read from the rollups has
    // them without reading the rows. Derived like the rollup: the rows' hashed minutes column is the evidence;
    // filled here from the rows sealed so far (LedgerStore.FillMonthMinutes), checked by verify-ledger.
    private const string Migration6 = """
        ALTER TABLE ledger_months ADD COLUMN minutes BLOB;
        """;

    private static readonly string[] s_migrations = [Migration1, Migration2, Migration3, Migration4, Migration5, Migration6];


    /// <summary>The schema version this build writes: the number of the last migration.</summary>
    public static int LatestVersion => s_migrations.Length;

    /// <summary>
    /// Applies the missing migrations on <paramref name="connection"/> and returns their numbers (empty
    /// when the schema is up to date).
    /// </summary>
    /// <exception cref="InvalidOperationException">The database was written by a newer build.</exception>
    public static IReadOnlyList<int> Migrate(SqliteConnection connection, string path, long nowUnixNanoseconds) =>
        Migrate(connection, path, nowUnixNanoseconds, LatestVersion);

    /// <summary>Applies the missing migrations up to <paramref name="targetVersion"/> (tests build older databases with it).</summary>
    internal static IReadOnlyList<int> Migrate(SqliteConnection connection, string path, long nowUnixNanoseconds, int targetVersion)
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
        for (int version = current + 1; version <= targetVersion; version++)
        {
            Execute(connection, transaction, s_migrations[version - 1]);
            if (ReferenceEquals(s_migrations[version - 1], Migration5))
            {
                Ledger.LedgerStore.FillMonths(connection, transaction);
            }
            else if (ReferenceEquals(s_migrations[version - 1], Migration6))
            {
                Ledger.LedgerStore.FillMonthMinutes(connection, transaction);
            }

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
