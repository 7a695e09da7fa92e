using System.Buffers.Binary;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Data.Sqlite;

namespace FactoryGateway.Evidence.Ledger;

/// <summary>What an operator did about a flag: resolved it (the device counts again) or took a resolution back.</summary>
public enum ResolutionAction
{
    Resolve,
    Reopen,
}

/// <summary>What an operator asks to record: a flag of one device over a window, who and why.</summary>
public sealed record FlagResolutionRequest
{
    public required string Enterprise { get; init; }

    public required string Device { get; init; }

    /// <summary>The spec §6 name of the flag (<c>clone</c>, <c>heartbeat_only</c>, …).</summary>
    public required string Flag { get; init; }

    /// <summary>The window the resolution covers: it applies to any report window inside it.</summary>
    public required Window Window { get; init; }

    public ResolutionAction Action { get; init; } = ResolutionAction.Resolve;

    /// <summary>Who decided: a person or a bureau token's name.</summary>
    public required string Actor { get; init; }

    /// <summary>Why: what was checked, on site or in the data.</summary>
    public required string Reason { get; init; }
}

/// <summary>
/// One recorded resolution (spec §6): append-only, numbered, and hash-chained in the order recorded, so
/// <see cref="LedgerStore.Verify"/> detects a changed, removed or inserted entry.
/// </summary>
public sealed record FlagResolution
{
    public required long Sequence { get; init; }

    public required string Enterprise { get; init; }

    public required string Device { get; init; }

    public required string Flag { get; init; }

    /// <summary>First local day covered (days since the Unix epoch).</summary>
    public required int FromDay { get; init; }

    /// <summary>The local day after the last one covered.</summary>
    public required int ToDay { get; init; }

    /// <summary>The window's label as given (<c>2026Q3</c>).</summary>
    public required string Window { get; init; }

    public required ResolutionAction Action { get; init; }

    public required string Actor { get; init; }

    public required string Reason { get; init; }

    /// <summary>When it was recorded, Unix nanoseconds (the store's clock).</summary>
    public required long AtUnixNanoseconds { get; init; }

    public DateTimeOffset At => DateTimeOffset.UnixEpoch.AddTicks(AtUnixNanoseconds / 100);

    public required byte[] PreviousHash { get; init; }

    public required byte[] Hash { get; init; }

    /// <summary>True when the resolution covers every day of <c>[fromDay, toDay)</c>.</summary>
    public bool Covers(int fromDay, int toDay) => FromDay <= fromDay && toDay <= ToDay;

    /// <summary>The bytes hashed into the chain: version, then every field, each length-prefixed.</summary>
    public byte[] ToCanonicalBytes()
    {
        using var buffer = new MemoryStream();
        buffer.Write("FGRS"u8);
        buffer.WriteByte(1);
        byte[] number = new byte[8];
        void Int(long value)
        {
            BinaryPrimitives.WriteInt64LittleEndian(number, value);
            buffer.Write(number);
        }

        void Text(string value)
        {
            byte[] bytes = Encoding.UTF8.GetBytes(value);
            Int(bytes.Length);
            buffer.Write(bytes);
        }

        Int(Sequence);
        Text(Enterprise);
        Text(Device);
        Text(Flag);
        Int(FromDay);
        Int(ToDay);
        Text(Window);
        Text(ActionName(Action));
        Text(Actor);
        Text(Reason);
        Int(AtUnixNanoseconds);
        return buffer.ToArray();
    }

    /// <summary>The action as stored and printed: <c>resolve</c> or <c>reopen</c>.</summary>
    public static string ActionName(ResolutionAction action) => action == ResolutionAction.Resolve ? "resolve" : "reopen";
}

/// <summary>Records and reads flag resolutions in the evidence store (table <c>flag_resolutions</c>, migration 4).</summary>
public sealed partial class FlagResolutionStore
{
    private const string Columns = "seq, enterprise, device, flag, from_day, to_day, window, action, actor, reason, at_ns, prev_hash, hash";

    private readonly EvidenceStore _store;

    internal FlagResolutionStore(EvidenceStore store) => _store = store;

    /// <summary>
    /// Appends a resolution after the last one, chained to its hash. The enterprise and device must be in the
    /// register; the actor and reason must say something.
    /// </summary>
    /// <exception cref="ArgumentException">The request names an unknown device, a malformed flag or an empty actor or reason.</exception>
    public FlagResolution Record(FlagResolutionRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!FlagName().IsMatch(request.Flag))
        {
            throw new ArgumentException($"'{request.Flag}' is not a flag name (lower-case words joined by '_').");
        }

        if (string.IsNullOrWhiteSpace(request.Actor) || string.IsNullOrWhiteSpace(request.Reason))
        {
            throw new ArgumentException("a resolution needs who decided (actor) and why (reason).");
        }

        using SqliteConnection connection = _store.OpenConnection();
        using SqliteTransaction transaction = connection.BeginTransaction(); // BEGIN IMMEDIATE: one writer appends at a time
        using (SqliteCommand known = connection.CreateCommand())
        {
            known.Transaction = transaction;
            known.CommandText = "SELECT count(*) FROM devices WHERE enterprise = $e AND device = $d;";
            known.Parameters.AddWithValue("$e", request.Enterprise);
            known.Parameters.AddWithValue("$d", request.Device);
            if (Convert.ToInt64(known.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture) == 0)
            {
                throw new ArgumentException($"device {request.Device} of enterprise {request.Enterprise} is not in the register.");
            }
        }

        long sequence = 1;
        byte[] previous = new byte[32];
        using (SqliteCommand last = connection.CreateCommand())
        {
            last.Transaction = transaction;
            last.CommandText = "SELECT seq, hash FROM flag_resolutions ORDER BY seq DESC LIMIT 1;";
            using SqliteDataReader reader = last.ExecuteReader();
            if (reader.Read())
            {
                sequence = reader.GetInt64(0) + 1;
                previous = (byte[])reader.GetValue(1);
            }
        }

        int fromDay = request.Window.FirstDay.DayNumber - LocalDays.EpochDayNumber;
        int toDay = request.Window.EndDay.DayNumber - LocalDays.EpochDayNumber;
        var unhashed = new FlagResolution
        {
            Sequence = sequence,
            Enterprise = request.Enterprise,
            Device = request.Device,
            Flag = request.Flag,
            FromDay = fromDay,
            ToDay = toDay,
            Window = request.Window.Label,
            Action = request.Action,
            Actor = request.Actor.Trim(),
            Reason = request.Reason.Trim(),
            AtUnixNanoseconds = _store.NowUnixNanoseconds(),
            PreviousHash = previous,
            Hash = [],
        };
        FlagResolution resolution = unhashed with { Hash = EvidenceAccumulation.ChainHash(previous, unhashed.ToCanonicalBytes()) };
        using (SqliteCommand insert = connection.CreateCommand())
        {
            insert.Transaction = transaction;
            insert.CommandText = $"INSERT INTO flag_resolutions ({Columns}) VALUES ($seq, $e, $d, $f, $from, $to, $w, $a, $actor, $reason, $at, $prev, $hash);";
            insert.Parameters.AddWithValue("$seq", resolution.Sequence);
            insert.Parameters.AddWithValue("$e", resolution.Enterprise);
            insert.Parameters.AddWithValue("$d", resolution.Device);
            insert.Parameters.AddWithValue("$f", resolution.Flag);
            insert.Parameters.AddWithValue("$from", resolution.FromDay);
            insert.Parameters.AddWithValue("$to", resolution.ToDay);
            insert.Parameters.AddWithValue("$w", resolution.Window);
            insert.Parameters.AddWithValue("$a", FlagResolution.ActionName(resolution.Action));
            insert.Parameters.AddWithValue("$actor", resolution.Actor);
            insert.Parameters.AddWithValue("$reason", resolution.Reason);
            insert.Parameters.AddWithValue("$at", resolution.AtUnixNanoseconds);
            insert.Parameters.AddWithValue("$prev", resolution.PreviousHash);
            insert.Parameters.AddWithValue("$hash", resolution.Hash);
            insert.ExecuteNonQuery();
        }

        transaction.Commit();
        return resolution;
    }

    /// <summary>Every resolution in the order recorded; only <paramref name="enterprise"/>'s when given.</summary>
    public IReadOnlyList<FlagResolution> Read(string? enterprise = null)
    {
        using SqliteConnection connection = _store.OpenConnection();
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = enterprise is null
            ? $"SELECT {Columns} FROM flag_resolutions ORDER BY seq;"
            : $"SELECT {Columns} FROM flag_resolutions WHERE enterprise = $e ORDER BY seq;";
        if (enterprise is not null)
        {
            command.Parameters.AddWithValue("$e", enterprise);
        }

        using SqliteDataReader reader = command.ExecuteReader();
        var list = new List<FlagResolution>();
        while (reader.Read())
        {
            list.Add(ReadOne(reader));
        }

        return list;
    }

    /// <summary>Recomputes the chain in sequence order; the first entry that does not match, or null.</summary>
    internal static (long Verified, LedgerBreak? Break) Verify(SqliteConnection connection, SqliteTransaction snapshot)
    {
        using SqliteCommand command = connection.CreateCommand();
        command.Transaction = snapshot;
        command.CommandText = $"SELECT {Columns} FROM flag_resolutions ORDER BY seq;";
        using SqliteDataReader reader = command.ExecuteReader();
        byte[] previous = new byte[32];
        long expected = 1;
        long verified = 0;
        while (reader.Read())
        {
            FlagResolution entry;
            try
            {
                entry = ReadOne(reader);
            }
            catch (InvalidDataException error)
            {
                return (verified, new LedgerBreak(reader.GetString(1), reader.GetString(2), reader.GetInt32(4), $"resolution #{reader.GetInt64(0)} cannot be read: {error.Message}"));
            }

            string where = $"resolution #{entry.Sequence} ({entry.Flag}, {entry.Window})";
            if (entry.Sequence != expected)
            {
                return (verified, new LedgerBreak(entry.Enterprise, entry.Device, entry.FromDay, $"{where}: expected number {expected} (an entry was removed or inserted)"));
            }

            if (!entry.PreviousHash.AsSpan().SequenceEqual(previous))
            {
                return (verified, new LedgerBreak(entry.Enterprise, entry.Device, entry.FromDay, $"{where}: its previous hash does not match the preceding resolution's hash"));
            }

            byte[] recomputed = EvidenceAccumulation.ChainHash(previous, entry.ToCanonicalBytes());
            if (!recomputed.AsSpan().SequenceEqual(entry.Hash))
            {
                return (verified, new LedgerBreak(entry.Enterprise, entry.Device, entry.FromDay,
                    $"{where}: its content does not match its hash (stored {Convert.ToHexStringLower(entry.Hash)}, recomputed {Convert.ToHexStringLower(recomputed)})"));
            }

            previous = recomputed;
            expected++;
            verified++;
        }

        return (verified, null);
    }

    private static FlagResolution ReadOne(SqliteDataReader r) => new()
    {
        Sequence = r.GetInt64(0),
        Enterprise = r.GetString(1),
        Device = r.GetString(2),
        Flag = r.GetString(3),
        FromDay = r.GetInt32(4),
        ToDay = r.GetInt32(5),
        Window = r.GetString(6),
        Action = r.GetString(7) switch
        {
            "resolve" => ResolutionAction.Resolve,
            "reopen" => ResolutionAction.Reopen,
            string other => throw new InvalidDataException($"unknown action '{other}'"),
        },
        Actor = r.GetString(8),
        Reason = r.GetString(9),
        AtUnixNanoseconds = r.GetInt64(10),
        PreviousHash = (byte[])r.GetValue(11),
        Hash = (byte[])r.GetValue(12),
    };

    [GeneratedRegex("^[a-z]+(_[a-z]+)*$", RegexOptions.CultureInvariant)]
    private static partial Regex FlagName();
}
