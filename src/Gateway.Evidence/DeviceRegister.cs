using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using Microsoft.Data.Sqlite;

namespace FactoryGateway.Evidence;

/// <summary>
/// The ingest's view of the device register: which (enterprise, device id) pairs are registered, and a tally
/// of the devices that sent data without being registered. The full register (identity, class, flags,
/// dates; indicator spec §1) is <see cref="AssetRegister"/>, on the same <c>devices</c> table (migration 3).
/// </summary>
/// <remarks>
/// <see cref="IsRegistered"/> is on the ingest's hot path (once per distinct device per batch) and answers
/// from memory: a "registered" answer is kept (devices are not removed), a "not registered" answer for
/// <see cref="EvidenceStoreOptions.UnregisteredRecheckInterval"/>, so a registration by another process
/// is seen within that interval; <see cref="RegisterDevice"/> through this store is seen at once. The cache
/// holds at most <see cref="EvidenceStoreOptions.DeviceCacheCapacity"/> answers and is emptied when full.
/// </remarks>
public sealed class DeviceRegister
{
    /// <summary>The longest device id the register accepts.</summary>
    public const int MaxDeviceIdLength = 256;

    // The cache value of a registered device; otherwise the value is when to ask SQLite again.
    private const long Registered = long.MaxValue;

    private const string UpsertUnregistered = """
        INSERT INTO unregistered_devices (enterprise, device, first_seen_ns, last_seen_ns, points)
        VALUES ($enterprise, $device, $first, $last, $points)
        ON CONFLICT (enterprise, device) DO UPDATE SET
            first_seen_ns = min(first_seen_ns, excluded.first_seen_ns),
            last_seen_ns = max(last_seen_ns, excluded.last_seen_ns),
            points = points + excluded.points;
        """;

    private const string SelectUnregistered = """
        SELECT u.enterprise, u.device, u.first_seen_ns, u.last_seen_ns, u.points
        FROM unregistered_devices AS u
        WHERE NOT EXISTS (SELECT 1 FROM devices AS d WHERE d.enterprise = u.enterprise AND d.device = u.device)
        """;

    private readonly EvidenceStore _store;
    private readonly TimeProvider _timeProvider;
    private readonly int _cacheCapacity;
    private readonly long _recheckTimestampTicks;
    private readonly ConcurrentDictionary<(string Enterprise, string Device), long> _cache = new();
    private long _databaseReads;

    internal DeviceRegister(EvidenceStore store, EvidenceStoreOptions options)
    {
        _store = store;
        _timeProvider = options.TimeProvider;
        _cacheCapacity = options.DeviceCacheCapacity;
        _recheckTimestampTicks = TokenStore.TimestampTicks(options.UnregisteredRecheckInterval, _timeProvider);
    }

    /// <summary>How many times <see cref="IsRegistered"/> read SQLite (a cache miss); for tests.</summary>
    internal long DatabaseReads => Interlocked.Read(ref _databaseReads);

    /// <summary>True when <paramref name="device"/> of <paramref name="enterprise"/> is in the register. Thread-safe; from memory once seen.</summary>
    public bool IsRegistered(string enterprise, string device)
    {
        ArgumentNullException.ThrowIfNull(enterprise);
        ArgumentNullException.ThrowIfNull(device);
        _store.ThrowIfDisposed();

        if (_cache.TryGetValue((enterprise, device), out long until)
            && (until == Registered || _timeProvider.GetTimestamp() < until))
        {
            return until == Registered;
        }

        Interlocked.Increment(ref _databaseReads);
        bool registered;
        using (SqliteConnection connection = _store.OpenConnection())
        using (SqliteCommand command = connection.CreateCommand())
        {
            command.CommandText = "SELECT EXISTS (SELECT 1 FROM devices WHERE enterprise = $enterprise AND device = $device);";
            command.Parameters.AddWithValue("$enterprise", enterprise);
            command.Parameters.AddWithValue("$device", device);
            registered = Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture) == 1;
        }

        long value = registered ? Registered : _timeProvider.GetTimestamp() + _recheckTimestampTicks;
        if (_cache.Count >= _cacheCapacity)
        {
            // Bounded: start over rather than track recency (only a flood of made-up device ids fills it).
            _cache.Clear();
        }

        // Never downgrade: a concurrent RegisterDevice may have stored "registered" after this read.
        _cache.AddOrUpdate((enterprise, device), static (_, fresh) => fresh, static (_, old, fresh) => old == Registered ? old : fresh, value);
        return registered;
    }

    /// <summary>
    /// Registers <paramref name="deviceId"/> for <paramref name="enterprise"/> (identity fields left empty for
    /// now). Returns false when it was already registered.
    /// </summary>
    /// <exception cref="ArgumentException">The credit code is invalid, or the device id empty, too long or with control characters.</exception>
    public bool RegisterDevice(string enterprise, string deviceId)
    {
        ValidateEnterprise(enterprise);
        ValidateDeviceId(deviceId, nameof(deviceId));

        int inserted;
        using (SqliteConnection connection = _store.OpenConnection())
        using (SqliteCommand command = connection.CreateCommand())
        {
            command.CommandText = """
                INSERT INTO devices (enterprise, device, registered_ns) VALUES ($enterprise, $device, $now)
                ON CONFLICT (enterprise, device) DO NOTHING;
                """;
            command.Parameters.AddWithValue("$enterprise", enterprise);
            command.Parameters.AddWithValue("$device", deviceId);
            command.Parameters.AddWithValue("$now", _store.NowUnixNanoseconds());
            inserted = command.ExecuteNonQuery();
        }

        _cache[(enterprise, deviceId)] = Registered;
        return inserted == 1;
    }

    /// <summary>Records in the cache that a device written by the asset register (same store) is registered.</summary>
    internal void MarkRegistered(string enterprise, string deviceId) => _cache[(enterprise, deviceId)] = Registered;

    /// <summary>
    /// Adds sightings of unregistered devices to the tally, one point per element (repeat a device once per
    /// point, or use an overload with counts). One transaction per call: first seen is the earliest and last
    /// seen the latest time recorded for a device, points add up.
    /// </summary>
    public void RecordUnregistered(IEnumerable<(string Enterprise, string Device)> seen, long atUnixNanoseconds)
    {
        ArgumentNullException.ThrowIfNull(seen);
        var tally = new Dictionary<(string, string), Sightings>();
        foreach ((string enterprise, string device) in seen)
        {
            Add(tally, enterprise, device, 1, atUnixNanoseconds, nameof(seen));
        }

        Write(tally);
    }

    /// <summary>
    /// Adds sightings of unregistered devices to the tally with a point count each (a device may appear more
    /// than once; its counts add up). One transaction per call.
    /// </summary>
    public void RecordUnregistered(IEnumerable<(string Enterprise, string Device, long Points)> seen, long atUnixNanoseconds)
    {
        ArgumentNullException.ThrowIfNull(seen);
        var tally = new Dictionary<(string, string), Sightings>();
        foreach ((string enterprise, string device, long points) in seen)
        {
            Add(tally, enterprise, device, points, atUnixNanoseconds, nameof(seen));
        }

        Write(tally);
    }

    /// <summary>
    /// Adds sightings of unregistered devices to the tally, each with its point count and its own time (the
    /// shape of the ingest's queued sightings, which may span batches). One transaction per call.
    /// </summary>
    public void RecordUnregistered(IEnumerable<(string Enterprise, string Device, long Points, long AtUnixNanoseconds)> seen)
    {
        ArgumentNullException.ThrowIfNull(seen);
        var tally = new Dictionary<(string, string), Sightings>();
        foreach ((string enterprise, string device, long points, long at) in seen)
        {
            Add(tally, enterprise, device, points, at, nameof(seen));
        }

        Write(tally);
    }

    /// <summary>
    /// Counts writes the ingest refused because a line of a device had a source time ahead of the ingest's
    /// clock (spec §6 <c>future_timestamp</c>), one per element, on the local day of the refusal. One transaction per call.
    /// </summary>
    public void RecordFutureTimestamps(IEnumerable<(string Enterprise, string Device, long AtUnixNanoseconds)> refused)
    {
        ArgumentNullException.ThrowIfNull(refused);
        using SqliteConnection connection = _store.OpenConnection();
        using SqliteTransaction transaction = connection.BeginTransaction();
        using SqliteCommand command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = """
            INSERT INTO future_rejections (enterprise, device, day, requests, last_ns) VALUES ($e, $d, $day, 1, $at)
            ON CONFLICT (enterprise, device, day) DO UPDATE SET requests = requests + 1, last_ns = max(last_ns, excluded.last_ns);
            """;
        foreach ((string enterprise, string device, long at) in refused)
        {
            command.Parameters.Clear();
            command.Parameters.AddWithValue("$e", enterprise);
            command.Parameters.AddWithValue("$d", device);
            command.Parameters.AddWithValue("$day", Ledger.LocalDays.DayOf(at, Ledger.LocalDays.DefaultOffsetMinutes));
            command.Parameters.AddWithValue("$at", at);
            command.ExecuteNonQuery();
        }

        transaction.Commit();
    }

    /// <summary>Writes refused for future timestamps per device on local days <c>[fromDay, toDay)</c>.</summary>
    public IReadOnlyDictionary<(string Enterprise, string Device), long> CountFutureTimestamps(int fromDay, int toDay)
    {
        using SqliteConnection connection = _store.OpenConnection();
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = "SELECT enterprise, device, sum(requests) FROM future_rejections WHERE day >= $from AND day < $to GROUP BY enterprise, device;";
        command.Parameters.AddWithValue("$from", fromDay);
        command.Parameters.AddWithValue("$to", toDay);
        using SqliteDataReader reader = command.ExecuteReader();
        var counts = new Dictionary<(string, string), long>();
        while (reader.Read())
        {
            counts[(reader.GetString(0), reader.GetString(1))] = reader.GetInt64(2);
        }

        return counts;
    }

    /// <summary>
    /// The tally of devices that sent data and are still not registered (a device registered since drops
    /// out of the list; its row is kept), for one enterprise or all, ordered by enterprise and device.
    /// </summary>
    public IReadOnlyList<UnregisteredDevice> ListUnregistered(string? enterprise)
    {
        using SqliteConnection connection = _store.OpenConnection();
        using SqliteCommand command = connection.CreateCommand();
        if (enterprise is null)
        {
            command.CommandText = SelectUnregistered + " ORDER BY u.enterprise, u.device;";
        }
        else
        {
            command.CommandText = SelectUnregistered + " AND u.enterprise = $enterprise ORDER BY u.device;";
            command.Parameters.AddWithValue("$enterprise", enterprise);
        }

        using SqliteDataReader reader = command.ExecuteReader();
        var devices = new List<UnregisteredDevice>();
        while (reader.Read())
        {
            devices.Add(new UnregisteredDevice
            {
                Enterprise = reader.GetString(0),
                Device = reader.GetString(1),
                FirstSeenUnixNanoseconds = reader.GetInt64(2),
                LastSeenUnixNanoseconds = reader.GetInt64(3),
                Points = reader.GetInt64(4),
            });
        }

        return devices;
    }

    private static void Add(Dictionary<(string, string), Sightings> tally, string enterprise, string device, long points, long at, string parameter)
    {
        ValidateSighting(enterprise, device, parameter);
        ArgumentOutOfRangeException.ThrowIfNegative(points, parameter);
        ref Sightings entry = ref CollectionsMarshal.GetValueRefOrAddDefault(tally, (enterprise, device), out bool exists);
        entry = exists
            ? new Sightings(entry.Points + points, Math.Min(entry.FirstSeen, at), Math.Max(entry.LastSeen, at))
            : new Sightings(points, at, at);
    }

    private void Write(Dictionary<(string, string), Sightings> tally)
    {
        if (tally.Count == 0)
        {
            return;
        }

        using SqliteConnection connection = _store.OpenConnection();
        using SqliteTransaction transaction = connection.BeginTransaction();
        using SqliteCommand command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = UpsertUnregistered;
        SqliteParameter enterpriseParameter = command.Parameters.Add("$enterprise", SqliteType.Text);
        SqliteParameter deviceParameter = command.Parameters.Add("$device", SqliteType.Text);
        SqliteParameter pointsParameter = command.Parameters.Add("$points", SqliteType.Integer);
        SqliteParameter firstParameter = command.Parameters.Add("$first", SqliteType.Integer);
        SqliteParameter lastParameter = command.Parameters.Add("$last", SqliteType.Integer);
        command.Prepare();
        foreach (KeyValuePair<(string Enterprise, string Device), Sightings> entry in tally)
        {
            enterpriseParameter.Value = entry.Key.Enterprise;
            deviceParameter.Value = entry.Key.Device;
            pointsParameter.Value = entry.Value.Points;
            firstParameter.Value = entry.Value.FirstSeen;
            lastParameter.Value = entry.Value.LastSeen;
            command.ExecuteNonQuery();
        }

        transaction.Commit();
    }

    private static void ValidateEnterprise(string enterprise)
    {
        if (!CreditCode.TryValidate(enterprise, out string reason))
        {
            throw new ArgumentException($"enterprise \"{enterprise}\" is not a valid unified social credit code: {reason}.", nameof(enterprise));
        }
    }

    private static void ValidateDeviceId(string device, string parameter)
    {
        if (string.IsNullOrEmpty(device))
        {
            throw new ArgumentException($"{parameter} must not be empty.", parameter);
        }

        if (device.Length > MaxDeviceIdLength)
        {
            throw new ArgumentException($"{parameter} must be at most {MaxDeviceIdLength} characters (was {device.Length}).", parameter);
        }

        int control = device.AsSpan().IndexOfAnyInRange('\0', '\u001F');
        if (control >= 0)
        {
            throw new ArgumentException($"{parameter} must not contain control characters (U+{(int)device[control]:X4} at index {control}).", parameter);
        }
    }

    private static void ValidateSighting(string enterprise, string device, string parameter)
    {
        // The ingest has already checked these against its token and the line protocol; an empty one here is a bug.
        if (string.IsNullOrEmpty(enterprise) || string.IsNullOrEmpty(device))
        {
            throw new ArgumentException($"Every sighting in {parameter} needs an enterprise and a device id (one was null or empty).", parameter);
        }
    }

    private readonly record struct Sightings(long Points, long FirstSeen, long LastSeen);
}
