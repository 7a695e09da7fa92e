using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.Data.Sqlite;

namespace FactoryGateway.Evidence.Ledger;

/// <summary>
/// The device-day ledger in the evidence store: rows (open and sealed), enterprise-day Merkle roots, the
/// accumulator's device states and its checkpoint (WAL position and watermark), all written by
/// <see cref="Save"/> in one transaction, so a checkpoint is all there or not at all.
/// </summary>
/// <remarks>
/// Sealed rows are protected twice: triggers refuse any UPDATE or DELETE of a sealed row (against bugs), and
/// every sealed row is hashed into its device's chain and its enterprise-day root (against anyone who can
/// write the file): <see cref="Verify"/> recomputes both and names the first row that does not match.
/// <para>
/// The month rollups (<c>ledger_months</c>, <see cref="LedgerMonth"/>) are derived from the sealed rows and
/// rewritten in the transaction that seals a row, so that a window's indicators (<see cref="ReadWindow"/>)
/// read one blob per device-month; <see cref="Verify"/> recomputes them from the rows.
/// </para>
/// </remarks>
public sealed class LedgerStore
{
    private const string RowColumns = """
        enterprise, device, day, offset_min, formula_set, samples, substantive, events, non_good,
        off_ns, down_ns, setup_ns, idle_ns, run_ns, run_test_ns,
        parts_delta, good_delta, cycles_delta, power_on_delta_s, energy_delta_kwh, counter_resets, program_changes,
        first_ns, last_ns, max_lag_ns, late, backfill, out_of_order, transitions, regular_transitions,
        identities, minutes, minute_digest, covered_min, scheduled_min, covered_shift_min, sealed, hash, prev_hash, summary
        """;

    private const string UpsertRow = $"""
        INSERT INTO ledger_rows ({RowColumns}) VALUES (
            $enterprise, $device, $day, $offset, $formula, $samples, $substantive, $events, $nongood,
            $s0, $s1, $s2, $s3, $s4, $s5,
            $parts, $good, $cycles, $power, $energy, $resets, $programs,
            $first, $last, $lag, $late, $backfill, $ooo, $transitions, $regular,
            $identities, $minutes, $digest, $covered, $scheduled, $coveredshift, $sealed, $hash, $prev, $summary)
        ON CONFLICT (enterprise, device, day) DO UPDATE SET
            offset_min = excluded.offset_min, formula_set = excluded.formula_set, samples = excluded.samples,
            substantive = excluded.substantive, events = excluded.events, non_good = excluded.non_good,
            off_ns = excluded.off_ns, down_ns = excluded.down_ns, setup_ns = excluded.setup_ns, idle_ns = excluded.idle_ns,
            run_ns = excluded.run_ns, run_test_ns = excluded.run_test_ns, parts_delta = excluded.parts_delta,
            good_delta = excluded.good_delta, cycles_delta = excluded.cycles_delta, power_on_delta_s = excluded.power_on_delta_s,
            energy_delta_kwh = excluded.energy_delta_kwh, counter_resets = excluded.counter_resets,
            program_changes = excluded.program_changes, first_ns = excluded.first_ns, last_ns = excluded.last_ns,
            max_lag_ns = excluded.max_lag_ns, late = excluded.late, backfill = excluded.backfill,
            out_of_order = excluded.out_of_order, transitions = excluded.transitions,
            regular_transitions = excluded.regular_transitions, identities = excluded.identities,
            minutes = excluded.minutes, minute_digest = excluded.minute_digest, covered_min = excluded.covered_min,
            scheduled_min = excluded.scheduled_min, covered_shift_min = excluded.covered_shift_min,
            sealed = excluded.sealed, hash = excluded.hash, prev_hash = excluded.prev_hash, summary = excluded.summary;
        """;

    private readonly EvidenceStore _store;

    internal LedgerStore(EvidenceStore store) => _store = store;

    /// <summary>The state the accumulator named <paramref name="consumer"/> checkpointed last (position 0 / empty the first time).</summary>
    public LedgerSnapshot LoadSnapshot(string consumer)
    {
        ArgumentException.ThrowIfNullOrEmpty(consumer);
        using SqliteConnection connection = _store.OpenConnection();
        long position = 0;
        long watermark = long.MinValue;
        using (SqliteCommand command = connection.CreateCommand())
        {
            command.CommandText = "SELECT position, watermark FROM accumulator_checkpoints WHERE name = $name;";
            command.Parameters.AddWithValue("$name", consumer);
            using SqliteDataReader reader = command.ExecuteReader();
            if (reader.Read())
            {
                position = reader.GetInt64(0);
                watermark = reader.GetInt64(1);
            }
        }

        List<TrackerState> devices = Query(connection, "SELECT enterprise, device, state FROM accumulator_devices;",
            r => new TrackerState(r.GetString(0), r.GetString(1), (byte[])r.GetValue(2)));
        Dictionary<string, int> seals = Query(connection, "SELECT enterprise, sealed_through FROM ledger_seals;", r => (Enterprise: r.GetString(0), Day: r.GetInt32(1)))
            .ToDictionary(s => s.Enterprise, s => s.Day, StringComparer.Ordinal);
        List<DeviceDayRow> open = Query(connection, $"SELECT {RowColumns} FROM ledger_rows WHERE sealed = 0;", ReadRow);
        return new LedgerSnapshot(position, watermark, devices, open, seals);
    }

    /// <summary>
    /// Writes one checkpoint in one transaction: the changed rows, the new roots, the changed device states,
    /// the seal marks, and the accumulator's WAL position and watermark.
    /// </summary>
    public void Save(string consumer, long position, LedgerChanges changes)
    {
        ArgumentException.ThrowIfNullOrEmpty(consumer);
        ArgumentNullException.ThrowIfNull(changes);
        using SqliteConnection connection = _store.OpenConnection();
        using SqliteTransaction transaction = connection.BeginTransaction();
        ExecuteEach(connection, transaction, UpsertRow, changes.Rows, Bind);
        SaveMonths(connection, transaction, changes.Rows);
        ExecuteEach(connection, transaction, "INSERT INTO ledger_roots (enterprise, day, root, rows) VALUES ($enterprise, $day, $root, $rows);", changes.Roots, (p, root) =>
        {
            p.AddWithValue("$enterprise", root.Enterprise);
            p.AddWithValue("$day", root.Day);
            p.AddWithValue("$root", root.Root);
            p.AddWithValue("$rows", root.Rows);
        });
        ExecuteEach(connection, transaction, """
            INSERT INTO accumulator_devices (enterprise, device, state) VALUES ($enterprise, $device, $state)
            ON CONFLICT (enterprise, device) DO UPDATE SET state = excluded.state;
            """, changes.Devices, (p, state) =>
        {
            p.AddWithValue("$enterprise", state.Enterprise);
            p.AddWithValue("$device", state.Device);
            p.AddWithValue("$state", state.State);
        });
        ExecuteEach(connection, transaction, """
            INSERT INTO ledger_seals (enterprise, sealed_through) VALUES ($enterprise, $day)
            ON CONFLICT (enterprise) DO UPDATE SET sealed_through = excluded.sealed_through;
            """, changes.SealedThrough, (p, seal) =>
        {
            p.AddWithValue("$enterprise", seal.Key);
            p.AddWithValue("$day", seal.Value);
        });
        ExecuteEach(connection, transaction, """
            INSERT INTO accumulator_checkpoints (name, position, watermark, updated_ns) VALUES ($name, $position, $watermark, $now)
            ON CONFLICT (name) DO UPDATE SET position = excluded.position, watermark = excluded.watermark, updated_ns = excluded.updated_ns;
            """, [consumer], (p, name) =>
        {
            p.AddWithValue("$name", name);
            p.AddWithValue("$position", position);
            p.AddWithValue("$watermark", changes.Watermark);
            p.AddWithValue("$now", _store.NowUnixNanoseconds());
        });
        transaction.Commit();
    }

    /// <summary>Rows of <paramref name="enterprise"/> (null: every enterprise) with local day in [<paramref name="fromDay"/>, <paramref name="toDay"/>), open and sealed.</summary>
    public IReadOnlyList<DeviceDayRow> ReadRows(string? enterprise, int fromDay, int toDay)
    {
        using SqliteConnection connection = _store.OpenConnection();
        string sql = enterprise is null
            ? $"SELECT {RowColumns} FROM ledger_rows WHERE day >= $from AND day < $to ORDER BY enterprise, device, day;"
            : $"SELECT {RowColumns} FROM ledger_rows WHERE enterprise = $enterprise AND day >= $from AND day < $to ORDER BY device, day;";
        return Query(connection, sql, ReadRow, ("$from", fromDay), ("$to", toDay), ("$enterprise", enterprise));
    }

    /// <summary>
    /// Streams the indicator view of the rows with local day in [<paramref name="fromDay"/>, <paramref name="toDay"/>),
    /// ordered by enterprise, device and day: narrow columns, the minute vector's digest and its encoding.
    /// </summary>
    public IEnumerable<LedgerDay> ReadDays(int fromDay, int toDay)
    {
        using SqliteConnection connection = _store.OpenConnection();
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = """
            SELECT enterprise, device, day, summary, identities, sealed, minutes
            FROM ledger_rows WHERE +day >= $from AND +day < $to ORDER BY enterprise, device, day;
            """;
        command.Parameters.AddWithValue("$from", fromDay);
        command.Parameters.AddWithValue("$to", toDay);
        using SqliteDataReader r = command.ExecuteReader();
        string enterprise = "";
        string device = "";
        while (r.Read())
        {
            // Consecutive rows share their enterprise and device: keep one string instance of each.
            string e = r.GetString(0);
            string d = r.GetString(1);
            enterprise = e == enterprise ? enterprise : e;
            device = d == device ? device : d;
            string identities = r.GetString(4);
            yield return LedgerDay.FromSummary(
                enterprise,
                device,
                r.GetInt32(2),
                (byte[])r.GetValue(3),
                identities == "[]" ? [] : JsonSerializer.Deserialize<string[]>(identities) ?? [],
                r.GetInt32(5) == 1,
                (byte[])r.GetValue(6));
        }
    }

    /// <summary>
    /// The indicator view of the window [<paramref name="fromDay"/>, <paramref name="toDay"/>) in one consistent
    /// read: every device's month rollups (its sealed days) and its open rows' figures, devices in ordinal
    /// (enterprise, device) order. The rollups are decoded by whoever evaluates them (<see cref="LedgerDeviceDays.ReadDays(List{LedgerDayFigures}, int)"/>).
    /// </summary>
    /// <remarks>
    /// A window of several months is read by up to one reader per core, a share of the months each, on their own
    /// connections. Only sealing changes a rollup, and it sets <c>ledger_seals</c> in the same transaction, so
    /// readers whose transactions saw the same <c>ledger_seals</c> saw the same rollups, and the open rows read
    /// beside them belong to that state: the read is taken when they agree, and made again when a seal came
    /// between them (after the second disagreement, on one connection).
    /// </remarks>
    public LedgerWindow ReadWindow(int fromDay, int toDay)
    {
        int months = 0;
        for (int month = LedgerMonth.MonthOf(fromDay); month < toDay; month = LedgerMonth.EndOf(month))
        {
            months++;
        }

        int readers = Math.Min(Environment.ProcessorCount, months);
        for (int attempt = 0; readers > 1 && attempt < 2; attempt++)
        {
            if (TryReadWindow(fromDay, toDay, readers) is { } window)
            {
                return window;
            }
        }

        return TryReadWindow(fromDay, toDay, readers: 1)!;
    }

    /// <summary>
    /// One read of the window with <paramref name="readers"/> connections (reader r takes the months r,
    /// r + readers, …); null when the readers' transactions saw different seals. <paramref name="afterSnapshot"/>
    /// runs once the first reader's snapshot is fixed, before the others take theirs.
    /// </summary>
    internal LedgerWindow? TryReadWindow(int fromDay, int toDay, int readers, Action? afterSnapshot = null)
    {
        var months = new List<int>();
        for (int month = LedgerMonth.MonthOf(fromDay); month < toDay; month = LedgerMonth.EndOf(month))
        {
            months.Add(month);
        }

        using SqliteConnection connection = _store.OpenConnection();
        using SqliteTransaction snapshot = connection.BeginTransaction(deferred: true); // rollups and open rows of one instant
        string seals = ReadSeals(connection, snapshot); // the first read fixes the transaction's snapshot
        afterSnapshot?.Invoke();
        var rollups = new List<(string Enterprise, string Device, int Month, byte[] Rollup, byte[]? Minutes)>[readers];
        var seen = new string[readers];
        Parallel.For(0, readers, new ParallelOptions { MaxDegreeOfParallelism = readers }, reader =>
        {
            int[] share = [.. months.Where((_, i) => i % readers == reader)];
            if (reader == 0)
            {
                seen[0] = seals;
                rollups[0] = ReadMonths(connection, snapshot, share);
                return;
            }

            using SqliteConnection own = _store.OpenConnection();
            using SqliteTransaction ownSnapshot = own.BeginTransaction(deferred: true);
            seen[reader] = ReadSeals(own, ownSnapshot);
            rollups[reader] = ReadMonths(own, ownSnapshot, share);
        });
        if (seen.Any(other => !string.Equals(other, seals, StringComparison.Ordinal)))
        {
            return null;
        }

        var devices = new Dictionary<(string Enterprise, string Device), LedgerDeviceDays>();
        var enterprises = new Dictionary<string, string>(StringComparer.Ordinal); // one string instance per enterprise
        LedgerDeviceDays DeviceOf(string enterprise, string device)
        {
            if (!enterprises.TryGetValue(enterprise, out string? shared))
            {
                enterprises[enterprise] = shared = enterprise;
            }

            if (!devices.TryGetValue((shared, device), out LedgerDeviceDays? days))
            {
                devices[(shared, device)] = days = new LedgerDeviceDays(shared, device, fromDay, toDay);
            }

            return days;
        }

        foreach (var share in rollups)
        {
            foreach ((string enterprise, string device, int month, byte[] rollup, byte[]? minutes) in share)
            {
                DeviceOf(enterprise, device).Months.Add((month, rollup, minutes));
            }
        }

        var unsealed = new HashSet<string>(StringComparer.Ordinal);
        using (SqliteCommand command = connection.CreateCommand())
        {
            command.Transaction = snapshot;
            command.CommandText = "SELECT enterprise, device, day, summary, identities, minutes FROM ledger_rows WHERE sealed = 0 AND day >= $from AND day < $to;";
            command.Parameters.AddWithValue("$from", fromDay);
            command.Parameters.AddWithValue("$to", toDay);
            using SqliteDataReader r = command.ExecuteReader();
            while (r.Read())
            {
                LedgerDeviceDays device = DeviceOf(r.GetString(0), r.GetString(1));
                device.Open.Add(LedgerDayFigures.FromSummary(r.GetInt32(2), (byte[])r.GetValue(3), ParseIdentities(r.GetString(4))) with { MinuteRuns = (byte[])r.GetValue(5) });
                unsealed.Add(device.Enterprise);
            }
        }

        LedgerDeviceDays[] ordered = [.. devices.Values];
        foreach (LedgerDeviceDays device in ordered)
        {
            device.Months.Sort((a, b) => a.Month.CompareTo(b.Month));
        }

        Array.Sort(ordered, static (a, b) =>
        {
            int byEnterprise = string.CompareOrdinal(a.Enterprise, b.Enterprise);
            return byEnterprise != 0 ? byEnterprise : string.CompareOrdinal(a.Device, b.Device);
        });
        return new LedgerWindow(fromDay, toDay, ordered, unsealed);
    }

    // Every enterprise's seal mark, as one string: equal strings, equal rollups.
    private static string ReadSeals(SqliteConnection connection, SqliteTransaction transaction)
    {
        using SqliteCommand command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "SELECT enterprise, sealed_through FROM ledger_seals ORDER BY enterprise;";
        using SqliteDataReader r = command.ExecuteReader();
        var seals = new StringBuilder();
        while (r.Read())
        {
            seals.Append(r.GetString(0)).Append('=').Append(r.GetInt64(1)).Append(';');
        }

        return seals.ToString();
    }

    private static List<(string, string, int, byte[], byte[]?)> ReadMonths(SqliteConnection connection, SqliteTransaction transaction, int[] months)
    {
        var rows = new List<(string, string, int, byte[], byte[]?)>();
        using SqliteCommand command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "SELECT enterprise, device, month, rollup, minutes FROM ledger_months WHERE month = $month;";
        SqliteParameter month = command.Parameters.Add("$month", SqliteType.Integer);
        foreach (int one in months)
        {
            month.Value = one;
            using SqliteDataReader r = command.ExecuteReader();
            while (r.Read())
            {
                rows.Add((r.GetString(0), r.GetString(1), r.GetInt32(2), (byte[])r.GetValue(3), r.IsDBNull(4) ? null : (byte[])r.GetValue(4)));
            }
        }

        return rows;
    }

    /// <summary>The last sealed local day of <paramref name="enterprise"/>, or null before its first sealing.</summary>
    public int? SealedThrough(string enterprise)
    {
        using SqliteConnection connection = _store.OpenConnection();
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = "SELECT sealed_through FROM ledger_seals WHERE enterprise = $enterprise;";
        command.Parameters.AddWithValue("$enterprise", enterprise);
        return command.ExecuteScalar() is long day ? (int)day : null;
    }

    /// <summary>The enterprise-day roots with local day in [<paramref name="fromDay"/>, <paramref name="toDay"/>), of one enterprise or all.</summary>
    public IReadOnlyList<LedgerRoot> ReadRoots(string? enterprise, int fromDay, int toDay)
    {
        using SqliteConnection connection = _store.OpenConnection();
        return Query(connection, """
            SELECT enterprise, day, root, rows FROM ledger_roots
            WHERE ($enterprise IS NULL OR enterprise = $enterprise) AND day >= $from AND day < $to
            ORDER BY enterprise, day;
            """,
            r => new LedgerRoot(r.GetString(0), r.GetInt32(1), (byte[])r.GetValue(2), r.GetInt32(3)),
            ("$enterprise", enterprise), ("$from", fromDay), ("$to", toDay));
    }

    /// <summary>
    /// Recomputes every sealed row's hash and chain link (devices in ordinal order, days in order) and every
    /// enterprise-day root; stops at the first mismatch and names it.
    /// </summary>
    public LedgerVerification Verify()
    {
        using SqliteConnection connection = _store.OpenConnection();
        using SqliteTransaction snapshot = connection.BeginTransaction(deferred: true); // one consistent read
        var leaves = new Dictionary<(string Enterprise, int Day), List<(string Device, byte[] Hash)>>();
        long rows = 0;
        Dictionary<(string Enterprise, string Device, int Month), (long Days, byte[] Rollup, byte[]? Minutes)> months = LoadMonths(connection, snapshot);
        var monthDays = new List<LedgerDayFigures>(LedgerMonth.MaxDays);
        (string Enterprise, string Device, int Month)? month = null;
        string? MonthBreak()
        {
            if (month is not { } key)
            {
                return null;
            }

            int count = monthDays.Count;
            byte[] recomputed = LedgerMonth.Encode(key.Month, monthDays);
            byte[] minutes = LedgerMonth.EncodeMinutes(key.Month, monthDays);
            monthDays.Clear();
            string name = DateOnly.FromDayNumber(LocalDays.EpochDayNumber + key.Month).ToString("yyyy-MM", CultureInfo.InvariantCulture);
            return !months.Remove(key, out (long Days, byte[] Rollup, byte[]? Minutes) stored) ? $"its month {name} has sealed rows but no rollup"
                : stored.Days != count || !stored.Rollup.AsSpan().SequenceEqual(recomputed)
                    ? $"its month {name} rollup does not match the rollup recomputed from the month's {count} sealed row(s)"
                : stored.Minutes is null || !stored.Minutes.AsSpan().SequenceEqual(minutes)
                    ? $"its month {name} minute vectors do not match the vectors of the month's {count} sealed row(s)"
                    : null;
        }

        using (SqliteCommand command = connection.CreateCommand())
        {
            command.Transaction = snapshot;
            command.CommandText = $"SELECT {RowColumns} FROM ledger_rows WHERE sealed = 1 ORDER BY enterprise, device, day;";
            using SqliteDataReader reader = command.ExecuteReader();
            string? device = null;
            string? enterprise = null;
            byte[] previous = new byte[32];
            while (reader.Read())
            {
                DeviceDayRow row;
                try
                {
                    row = ReadRow(reader);
                }
                catch (Exception error) when (error is InvalidDataException or JsonException or FormatException or InvalidCastException)
                {
                    return LedgerVerification.Broken(rows, reader.GetString(0), reader.GetString(1), reader.GetInt32(2), $"the row cannot be read: {error.Message}");
                }

                int rowMonth = LedgerMonth.MonthOf(row.Day);
                if (month is not { } open || open != (row.Enterprise, row.Device, rowMonth))
                {
                    (string Enterprise, string Device, int Month)? closing = month;
                    if (MonthBreak() is { } reason)
                    {
                        return LedgerVerification.Broken(rows, closing!.Value.Enterprise, closing.Value.Device, closing.Value.Month, reason);
                    }

                    month = (row.Enterprise, row.Device, rowMonth);
                }

                if (!string.Equals(row.Enterprise, enterprise, StringComparison.Ordinal) || !string.Equals(row.Device, device, StringComparison.Ordinal))
                {
                    enterprise = row.Enterprise;
                    device = row.Device;
                    previous = new byte[32];
                }

                if (row.PreviousHash is null || !row.PreviousHash.AsSpan().SequenceEqual(previous))
                {
                    return LedgerVerification.Broken(rows, row.Enterprise, row.Device, row.Day,
                        "its previous-row hash does not match the hash of the device's preceding sealed row (a row was removed, inserted or re-chained)");
                }

                byte[] recomputed = EvidenceAccumulation.ChainHash(previous, row.ToCanonicalBytes());
                if (row.Hash is null || !row.Hash.AsSpan().SequenceEqual(recomputed))
                {
                    return LedgerVerification.Broken(rows, row.Enterprise, row.Device, row.Day,
                        $"its content does not match its hash (stored {Hex(row.Hash)}, recomputed {Convert.ToHexStringLower(recomputed)})");
                }

                byte[] summary = (byte[])reader.GetValue(39);
                if (!summary.AsSpan().SequenceEqual(LedgerDay.From(row).ToSummary()))
                {
                    return LedgerVerification.Broken(rows, row.Enterprise, row.Device, row.Day,
                        "its indicator summary does not match its hashed columns");
                }

                monthDays.Add(LedgerDayFigures.FromSummary(row.Day, summary, [.. row.Identities]) with { MinuteRuns = MinuteStates.Encode(row.Minutes) });

                previous = recomputed;
                rows++;
                if (!leaves.TryGetValue((row.Enterprise, row.Day), out List<(string, byte[])>? list))
                {
                    leaves[(row.Enterprise, row.Day)] = list = [];
                }

                list.Add((row.Device, recomputed));
            }
        }

        (string Enterprise, string Device, int Month)? last = month;
        if (MonthBreak() is { } lastReason)
        {
            return LedgerVerification.Broken(rows, last!.Value.Enterprise, last.Value.Device, last.Value.Month, lastReason);
        }

        if (months.Count > 0)
        {
            ((string e, string d, int m), _) = months.OrderBy(m => m.Key.Enterprise, StringComparer.Ordinal).ThenBy(m => m.Key.Device, StringComparer.Ordinal).ThenBy(m => m.Key.Month).First();
            return LedgerVerification.Broken(rows, e, d, m,
                $"its month {DateOnly.FromDayNumber(LocalDays.EpochDayNumber + m):yyyy-MM} has a rollup but no sealed rows");
        }

        var roots = new List<LedgerRoot>();
        using (SqliteCommand command = connection.CreateCommand())
        {
            command.Transaction = snapshot;
            command.CommandText = "SELECT enterprise, day, root, rows FROM ledger_roots ORDER BY enterprise, day;";
            using SqliteDataReader reader = command.ExecuteReader();
            while (reader.Read())
            {
                var stored = new LedgerRoot(reader.GetString(0), reader.GetInt32(1), (byte[])reader.GetValue(2), reader.GetInt32(3));
                if (!leaves.Remove((stored.Enterprise, stored.Day), out List<(string Device, byte[] Hash)>? list))
                {
                    return LedgerVerification.BrokenRoot(rows, stored.Enterprise, stored.Day, "the root has no sealed rows (rows were removed)");
                }

                byte[] recomputed = MerkleTree.Root([.. list.OrderBy(l => l.Device, StringComparer.Ordinal).Select(l => l.Hash)]);
                if (list.Count != stored.Rows || !recomputed.AsSpan().SequenceEqual(stored.Root))
                {
                    return LedgerVerification.BrokenRoot(rows, stored.Enterprise, stored.Day,
                        $"the root over its {list.Count} sealed rows is {Convert.ToHexStringLower(recomputed)}, the stored root {stored.RootHex} covers {stored.Rows}");
                }

                roots.Add(stored);
            }
        }

        if (leaves.Count > 0)
        {
            ((string enterprise, int day), _) = leaves.OrderBy(l => l.Key.Enterprise, StringComparer.Ordinal).ThenBy(l => l.Key.Day).First();
            return LedgerVerification.BrokenRoot(rows, enterprise, day, "sealed rows have no enterprise-day root");
        }

        (long resolutions, LedgerBreak? broken) = FlagResolutionStore.Verify(connection, snapshot);
        if (broken is not null)
        {
            return new LedgerVerification(false, rows, [], broken) { ResolutionsVerified = resolutions };
        }

        return new LedgerVerification(true, rows, roots, null) { ResolutionsVerified = resolutions };
    }

    /// <summary>
    /// Writes every month rollup from the sealed rows (schema migration 5, inside its transaction): the rows
    /// in enterprise, device and day order, one rollup per device-month.
    /// </summary>
    internal static void FillMonths(SqliteConnection connection, SqliteTransaction transaction)
    {
        using SqliteCommand read = connection.CreateCommand();
        read.Transaction = transaction;
        read.CommandText = "SELECT enterprise, device, day, summary, identities FROM ledger_rows WHERE sealed = 1 ORDER BY enterprise, device, day;";
        using SqliteCommand write = MonthWriter(connection, transaction, withMinutes: false);
        using SqliteDataReader r = read.ExecuteReader();
        var days = new List<LedgerDayFigures>(LedgerMonth.MaxDays);
        (string Enterprise, string Device, int Month)? current = null;
        while (r.Read())
        {
            int day = r.GetInt32(2);
            var key = (r.GetString(0), r.GetString(1), LedgerMonth.MonthOf(day));
            if (current is { } open && open != key)
            {
                WriteMonth(write, open, days);
                days.Clear();
            }

            current = key;
            days.Add(LedgerDayFigures.FromSummary(day, (byte[])r.GetValue(3), ParseIdentities(r.GetString(4))));
        }

        if (current is { } lastMonth)
        {
            WriteMonth(write, lastMonth, days);
        }
    }

    // Rewrites the month rollup of every device-month with a row sealed in this checkpoint: the stored
    // rollup's days, and the newly sealed ones.
    private static void SaveMonths(SqliteConnection connection, SqliteTransaction transaction, IReadOnlyList<DeviceDayRow> rows)
    {
        var sealedDays = new Dictionary<(string Enterprise, string Device, int Month), List<LedgerDayFigures>>();
        foreach (DeviceDayRow row in rows)
        {
            if (row.IsSealed)
            {
                var key = (row.Enterprise, row.Device, LedgerMonth.MonthOf(row.Day));
                if (!sealedDays.TryGetValue(key, out List<LedgerDayFigures>? list))
                {
                    sealedDays[key] = list = [];
                }

                // Through the summary, as the rows' readers see the day.
                LedgerDay view = LedgerDay.From(row);
                list.Add(LedgerDayFigures.FromSummary(row.Day, view.ToSummary(), [.. row.Identities]) with { MinuteRuns = view.MinuteRuns });
            }
        }

        if (sealedDays.Count == 0)
        {
            return;
        }

        using SqliteCommand read = connection.CreateCommand();
        read.Transaction = transaction;
        read.CommandText = "SELECT rollup, minutes FROM ledger_months WHERE enterprise = $enterprise AND device = $device AND month = $month;";
        SqliteParameter enterprise = read.Parameters.Add("$enterprise", SqliteType.Text);
        SqliteParameter device = read.Parameters.Add("$device", SqliteType.Text);
        SqliteParameter month = read.Parameters.Add("$month", SqliteType.Integer);
        using SqliteCommand write = MonthWriter(connection, transaction, withMinutes: true);
        var days = new List<LedgerDayFigures>(LedgerMonth.MaxDays);
        foreach (((string Enterprise, string Device, int Month) key, List<LedgerDayFigures> added) in sealedDays)
        {
            enterprise.Value = key.Enterprise;
            device.Value = key.Device;
            month.Value = key.Month;
            days.Clear();
            using (SqliteDataReader stored = read.ExecuteReader())
            {
                if (stored.Read())
                {
                    LedgerMonth.Decode((byte[])stored.GetValue(0), key.Month, int.MinValue, int.MaxValue, days);
                    if (!stored.IsDBNull(1))
                    {
                        LedgerMonth.AttachMinutes((byte[])stored.GetValue(1), key.Month, days, 0);
                    }

                    days.RemoveAll(d => added.Exists(a => a.Day == d.Day));
                }
            }

            days.AddRange(added);
            WriteMonth(write, key, days);
        }
    }

    // Writes a month's rollup and, since migration 6, its days' minute vectors (migration 5 fills the rollups
    // before the column exists; migration 6 then fills the column, FillMonthMinutes).
    private static SqliteCommand MonthWriter(SqliteConnection connection, SqliteTransaction transaction, bool withMinutes)
    {
        SqliteCommand write = connection.CreateCommand();
        write.Transaction = transaction;
        write.CommandText = withMinutes
            ? """
                INSERT INTO ledger_months (enterprise, device, month, days, rollup, minutes) VALUES ($enterprise, $device, $month, $days, $rollup, $minutes)
                ON CONFLICT (enterprise, device, month) DO UPDATE SET days = excluded.days, rollup = excluded.rollup, minutes = excluded.minutes;
                """
            : """
                INSERT INTO ledger_months (enterprise, device, month, days, rollup) VALUES ($enterprise, $device, $month, $days, $rollup)
                ON CONFLICT (enterprise, device, month) DO UPDATE SET days = excluded.days, rollup = excluded.rollup;
                """;
        write.Parameters.Add("$enterprise", SqliteType.Text);
        write.Parameters.Add("$device", SqliteType.Text);
        write.Parameters.Add("$month", SqliteType.Integer);
        write.Parameters.Add("$days", SqliteType.Integer);
        write.Parameters.Add("$rollup", SqliteType.Blob);
        if (withMinutes)
        {
            write.Parameters.Add("$minutes", SqliteType.Blob);
        }

        return write;
    }

    private static void WriteMonth(SqliteCommand write, (string Enterprise, string Device, int Month) key, List<LedgerDayFigures> days)
    {
        write.Parameters[0].Value = key.Enterprise;
        write.Parameters[1].Value = key.Device;
        write.Parameters[2].Value = key.Month;
        write.Parameters[3].Value = days.Count;
        write.Parameters[4].Value = LedgerMonth.Encode(key.Month, days);
        if (write.Parameters.Count > 5)
        {
            write.Parameters[5].Value = LedgerMonth.EncodeMinutes(key.Month, days);
        }

        write.ExecuteNonQuery();
    }

    /// <summary>
    /// Writes every month's minute vectors (<see cref="LedgerMonth.EncodeMinutes"/>) from the sealed rows' hashed
    /// <c>minutes</c> column (schema migration 6, inside its transaction): every sealed row already holds its
    /// vector, so no month is left without.
    /// </summary>
    internal static void FillMonthMinutes(SqliteConnection connection, SqliteTransaction transaction)
    {
        using SqliteCommand read = connection.CreateCommand();
        read.Transaction = transaction;
        read.CommandText = "SELECT enterprise, device, day, minutes FROM ledger_rows WHERE sealed = 1 ORDER BY enterprise, device, day;";
        using SqliteCommand write = connection.CreateCommand();
        write.Transaction = transaction;
        write.CommandText = "UPDATE ledger_months SET minutes = $minutes WHERE enterprise = $enterprise AND device = $device AND month = $month;";
        SqliteParameter minutes = write.Parameters.Add("$minutes", SqliteType.Blob);
        SqliteParameter enterprise = write.Parameters.Add("$enterprise", SqliteType.Text);
        SqliteParameter device = write.Parameters.Add("$device", SqliteType.Text);
        SqliteParameter month = write.Parameters.Add("$month", SqliteType.Integer);
        var days = new List<LedgerDayFigures>(LedgerMonth.MaxDays);
        (string Enterprise, string Device, int Month)? current = null;
        void Flush()
        {
            if (current is { } key)
            {
                minutes.Value = LedgerMonth.EncodeMinutes(key.Month, days);
                enterprise.Value = key.Enterprise;
                device.Value = key.Device;
                month.Value = key.Month;
                write.ExecuteNonQuery();
                days.Clear();
            }
        }

        using SqliteDataReader r = read.ExecuteReader();
        while (r.Read())
        {
            int day = r.GetInt32(2);
            var key = (r.GetString(0), r.GetString(1), LedgerMonth.MonthOf(day));
            if (current != key)
            {
                Flush();
                current = key;
            }

            // Re-encoded from the decoded vector: the canonical encoding, as sealing writes it. A row whose vector
            // cannot be read is left out (the store must still open, for verify-ledger to name that row).
            try
            {
                days.Add(new LedgerDayFigures { Day = day, MinuteRuns = MinuteStates.Encode(MinuteStates.Decode((byte[])r.GetValue(3))), Identities = [] });
            }
            catch (InvalidDataException)
            {
            }
        }

        Flush();
    }

    private static Dictionary<(string Enterprise, string Device, int Month), (long Days, byte[] Rollup, byte[]? Minutes)> LoadMonths(SqliteConnection connection, SqliteTransaction snapshot)
    {
        var months = new Dictionary<(string, string, int), (long, byte[], byte[]?)>();
        using SqliteCommand command = connection.CreateCommand();
        command.Transaction = snapshot;
        command.CommandText = "SELECT enterprise, device, month, days, rollup, minutes FROM ledger_months;";
        using SqliteDataReader r = command.ExecuteReader();
        while (r.Read())
        {
            months[(r.GetString(0), r.GetString(1), r.GetInt32(2))] = (r.GetInt64(3), (byte[])r.GetValue(4), r.IsDBNull(5) ? null : (byte[])r.GetValue(5));
        }

        return months;
    }

    private static string[] ParseIdentities(string json) => json == "[]" ? [] : JsonSerializer.Deserialize<string[]>(json) ?? [];

    // Runs a query and reads every row; a null parameter value is SQL NULL.
    private static List<T> Query<T>(SqliteConnection connection, string sql, Func<SqliteDataReader, T> read, params (string Name, object? Value)[] parameters)
    {
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = sql;
        foreach ((string name, object? value) in parameters)
        {
            command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        }

        var rows = new List<T>();
        using SqliteDataReader reader = command.ExecuteReader();
        while (reader.Read())
        {
            rows.Add(read(reader));
        }

        return rows;
    }

    // One prepared statement run once per item, inside the checkpoint's transaction.
    private static void ExecuteEach<T>(SqliteConnection connection, SqliteTransaction transaction, string sql, IEnumerable<T> items, Action<SqliteParameterCollection, T> bind)
    {
        using SqliteCommand command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        foreach (T item in items)
        {
            command.Parameters.Clear();
            bind(command.Parameters, item);
            command.ExecuteNonQuery();
        }
    }

    private static string Hex(byte[]? bytes) => bytes is null ? "none" : Convert.ToHexStringLower(bytes);

    private static void Bind(SqliteParameterCollection p, DeviceDayRow row)
    {
        p.AddWithValue("$enterprise", row.Enterprise);
        p.AddWithValue("$device", row.Device);
        p.AddWithValue("$day", row.Day);
        p.AddWithValue("$offset", row.OffsetMinutes);
        p.AddWithValue("$formula", row.FormulaSet);
        p.AddWithValue("$samples", row.Samples);
        p.AddWithValue("$substantive", row.Substantive);
        p.AddWithValue("$events", row.Events);
        p.AddWithValue("$nongood", row.NonGoodSamples);
        for (int s = 0; s < 6; s++)
        {
            p.AddWithValue("$s" + s.ToString(CultureInfo.InvariantCulture), row.StateNanoseconds[s]);
        }

        p.AddWithValue("$parts", row.PartsDelta);
        p.AddWithValue("$good", row.GoodDelta);
        p.AddWithValue("$cycles", row.CyclesDelta);
        p.AddWithValue("$power", row.PowerOnDeltaSeconds);
        p.AddWithValue("$energy", row.EnergyDeltaKwh);
        p.AddWithValue("$resets", row.CounterResets);
        p.AddWithValue("$programs", row.ProgramChanges);
        p.AddWithValue("$first", (object?)row.FirstNanoseconds ?? DBNull.Value);
        p.AddWithValue("$last", (object?)row.LastNanoseconds ?? DBNull.Value);
        p.AddWithValue("$lag", row.MaxArrivalLagNanoseconds);
        p.AddWithValue("$late", row.Late);
        p.AddWithValue("$backfill", row.Backfill);
        p.AddWithValue("$ooo", row.OutOfOrder);
        p.AddWithValue("$transitions", row.Transitions);
        p.AddWithValue("$regular", row.RegularTransitions);
        p.AddWithValue("$identities", JsonSerializer.Serialize(row.Identities.ToArray()));
        byte[] runs = MinuteStates.Encode(row.Minutes);
        p.AddWithValue("$minutes", runs);
        byte[] digest = MinuteStates.Digest(row.Minutes); // once: the column and the summary both carry it
        p.AddWithValue("$digest", digest);
        p.AddWithValue("$covered", row.CoveredMinutes);
        p.AddWithValue("$scheduled", row.ScheduledMinutes);
        p.AddWithValue("$coveredshift", row.CoveredShiftMinutes);
        p.AddWithValue("$sealed", row.IsSealed ? 1 : 0);
        p.AddWithValue("$hash", (object?)row.Hash ?? DBNull.Value);
        p.AddWithValue("$prev", (object?)row.PreviousHash ?? DBNull.Value);
        p.AddWithValue("$summary", LedgerDay.From(row, digest, runs).ToSummary());
    }

    private static DeviceDayRow ReadRow(SqliteDataReader r)
    {
        var row = new DeviceDayRow(r.GetString(0), r.GetString(1), r.GetInt32(2), r.GetInt32(3), r.GetString(4))
        {
            Samples = r.GetInt64(5),
            Substantive = r.GetInt64(6),
            Events = r.GetInt64(7),
            NonGoodSamples = r.GetInt64(8),
            PartsDelta = r.GetInt64(15),
            GoodDelta = r.GetInt64(16),
            CyclesDelta = r.GetInt64(17),
            PowerOnDeltaSeconds = r.GetDouble(18),
            EnergyDeltaKwh = r.GetDouble(19),
            CounterResets = r.GetInt32(20),
            ProgramChanges = r.GetInt32(21),
            FirstNanoseconds = r.IsDBNull(22) ? null : r.GetInt64(22),
            LastNanoseconds = r.IsDBNull(23) ? null : r.GetInt64(23),
            MaxArrivalLagNanoseconds = r.GetInt64(24),
            Late = r.GetInt64(25),
            Backfill = r.GetInt64(26),
            OutOfOrder = r.GetInt64(27),
            Transitions = r.GetInt32(28),
            RegularTransitions = r.GetInt32(29),
            Minutes = MinuteStates.Decode((byte[])r.GetValue(31)),
            ScheduledMinutes = r.GetInt32(34),
            CoveredShiftMinutes = r.GetInt32(35),
            IsSealed = r.GetInt32(36) == 1,
            Hash = r.IsDBNull(37) ? null : (byte[])r.GetValue(37),
            PreviousHash = r.IsDBNull(38) ? null : (byte[])r.GetValue(38),
            Dirty = false,
        };
        for (int s = 0; s < 6; s++)
        {
            row.StateNanoseconds[s] = r.GetInt64(9 + s);
        }

        foreach (string identity in JsonSerializer.Deserialize<string[]>(r.GetString(30)) ?? [])
        {
            row.Identities.Add(identity);
        }

        return row;
    }
}

/// <summary>The outcome of <see cref="LedgerStore.Verify"/>: the roots when every row and root checks out, else the first broken one.</summary>
public sealed record LedgerVerification(bool IsIntact, long RowsVerified, IReadOnlyList<LedgerRoot> Roots, LedgerBreak? FirstBreak)
{
    /// <summary>Flag resolutions whose chain checked out (all of them when the ledger is intact).</summary>
    public long ResolutionsVerified { get; init; }

    internal static LedgerVerification Broken(long rows, string enterprise, string device, int day, string reason) =>
        new(false, rows, [], new LedgerBreak(enterprise, device, day, reason));

    internal static LedgerVerification BrokenRoot(long rows, string enterprise, int day, string reason) =>
        new(false, rows, [], new LedgerBreak(enterprise, null, day, reason));
}

/// <summary>Where verification failed: a row or a flag resolution (with <see cref="Device"/>) or an enterprise-day root (without).</summary>
public sealed record LedgerBreak(string Enterprise, string? Device, int Day, string Reason)
{
    public DateOnly Date => DateOnly.FromDayNumber(LocalDays.EpochDayNumber + Day);

    public override string ToString() => Device is null
        ? $"enterprise {Enterprise}, day {Date:yyyy-MM-dd} (root): {Reason}"
        : $"enterprise {Enterprise}, device {Device}, day {Date:yyyy-MM-dd}: {Reason}";
}
