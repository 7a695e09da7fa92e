using System.Globalization;
using System.Security.Cryptography;
using Microsoft.Data.Sqlite;

namespace FactoryGateway.Evidence;

/// <summary>
/// The asset register R of the indicator spec §1 (the denominator authority): enterprises, monthly
/// employees, shift calendars, key-process lists and devices with every field, in <c>evidence.db</c>
/// (migration 3); the file import and export (docs/register.md); and the frozen per-window snapshots whose
/// SHA-256 a report cites.
/// </summary>
/// <remarks>
/// Every write (a file or a typed call) is validated in full inside one immediate transaction and written
/// in it, or not at all. Devices are never deleted: a device leaves the register by its retired date.
/// Devices registered through <see cref="DeviceRegister.RegisterDevice"/> without their fields are
/// "undescribed": registered for the ingest, but not part of the register's typed views, exports or
/// snapshots until a file or <see cref="UpsertDevice"/> describes them.
/// </remarks>
public sealed class AssetRegister
{
    /// <summary>The most errors an import lists (all are counted).</summary>
    public const int MaxErrors = 100;

    /// <summary>The largest register file accepted: 64 MiB is about 100,000 described devices in JSON.</summary>
    public const long MaxFileBytes = 64L * 1024 * 1024;

    // Errors kept before sorting by line and capping at MaxErrors.
    private const int CollectedErrors = 10_000;

    private const string DeviceColumns = """
        device, product_instance_uri, manufacturer, model, serial_number, class, production, digital, nc, key_process, process,
        robot_axes, commissioned, retired, retrofit_project, purchase_price_fen, invoice, leased, locally_made, first_of_kind, ideal_cycle_ns
        """;

    private readonly EvidenceStore _store;

    internal AssetRegister(EvidenceStore store)
    {
        _store = store;
        ShiftCalendars = new RegisterShiftCalendars(this, store.TimeProvider);
    }

    /// <summary>
    /// Imports a register file: JSON (<c>.json</c>, or content starting with <c>{</c>) or one CSV table.
    /// Nothing of the file is written unless every record is valid.
    /// </summary>
    /// <exception cref="IOException">The file cannot be read or is larger than <see cref="MaxFileBytes"/>.</exception>
    public RegisterImportResult ImportFile(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var info = new FileInfo(path);
        if (info.Exists && info.Length > MaxFileBytes)
        {
            throw new IOException($"{path} has {info.Length} bytes; a register file has at most {MaxFileBytes} (AssetRegister.MaxFileBytes).");
        }

        byte[] content = File.ReadAllBytes(path);
        string name = Path.GetFileName(path);
        bool json = path.EndsWith(".json", StringComparison.OrdinalIgnoreCase)
            || (!path.EndsWith(".csv", StringComparison.OrdinalIgnoreCase) && content.AsSpan().TrimStart(" \t\r\n\uFEFF"u8).StartsWith("{"u8));
        return json ? ImportJson(content, name) : ImportCsv(content, name);
    }

    /// <summary>Imports a register JSON document (format <c>fgw-register/1</c>); <paramref name="fileName"/> names it in errors.</summary>
    public RegisterImportResult ImportJson(ReadOnlySpan<byte> utf8, string fileName)
    {
        var errors = new ErrorSink(CollectedErrors);
        RegisterBatch batch = RegisterJson.Read(utf8, fileName, errors);
        return Import(batch, errors, "register");
    }

    /// <summary>Imports one CSV table of the register; <paramref name="fileName"/> names it in errors.</summary>
    public RegisterImportResult ImportCsv(ReadOnlySpan<byte> utf8, string fileName)
    {
        var errors = new ErrorSink(CollectedErrors);
        (RegisterTable? table, RegisterBatch batch) = RegisterCsv.Read(utf8, fileName, errors);
        return Import(batch, errors, table is null ? "unknown" : RegisterCsv.TableName(table.Value));
    }

    /// <summary>Adds or updates an enterprise.</summary>
    /// <exception cref="RegisterValidationException">A field breaks a register rule.</exception>
    public void UpsertEnterprise(Enterprise enterprise)
    {
        ArgumentNullException.ThrowIfNull(enterprise);
        var batch = new RegisterBatch();
        RecordSource source = ApiSource("enterprise");
        batch.Enterprises.Add(new(enterprise.CreditCode, enterprise, source));
        ImportTyped(batch, RegisterRules.Check(enterprise), source);
    }

    /// <summary>Sets the average headcount of one month of <paramref name="enterprise"/>.</summary>
    /// <exception cref="RegisterValidationException">The month or count is invalid, or the enterprise is not in the register.</exception>
    public void SetEmployeeMonth(string enterprise, EmployeeMonth month)
    {
        ArgumentNullException.ThrowIfNull(enterprise);
        ArgumentNullException.ThrowIfNull(month);
        var batch = new RegisterBatch();
        RecordSource source = ApiSource("employees");
        batch.Employees.Add(new(enterprise, month, source));
        ImportTyped(batch, RegisterRules.Check(month), source);
    }

    /// <summary>Replaces the shift calendar (week and overrides) of <paramref name="enterprise"/>.</summary>
    /// <exception cref="RegisterValidationException">The enterprise is not in the register.</exception>
    public void SetCalendar(string enterprise, ShiftCalendar calendar)
    {
        ArgumentNullException.ThrowIfNull(enterprise);
        ArgumentNullException.ThrowIfNull(calendar);
        var batch = new RegisterBatch();
        RecordSource source = ApiSource("calendar");
        batch.Calendars.Add(new(enterprise, calendar, source));
        ImportTyped(batch, [], source);
    }

    /// <summary>Adds or updates a process of the key-process list of <paramref name="enterprise"/>.</summary>
    /// <exception cref="RegisterValidationException">The name is invalid, or the enterprise is not in the register.</exception>
    public void UpsertKeyProcess(string enterprise, KeyProcess process)
    {
        ArgumentNullException.ThrowIfNull(enterprise);
        ArgumentNullException.ThrowIfNull(process);
        var batch = new RegisterBatch();
        RecordSource source = ApiSource("key_processes");
        batch.KeyProcesses.Add(new(enterprise, process, source));
        ImportTyped(batch, RegisterRules.Check(process), source);
    }

    /// <summary>Adds or describes (updates) a device of <paramref name="enterprise"/>; the ingest sees it as registered at once.</summary>
    /// <exception cref="RegisterValidationException">A field breaks a register rule, or the enterprise is not in the register.</exception>
    public void UpsertDevice(string enterprise, RegisteredDevice device)
    {
        ArgumentNullException.ThrowIfNull(enterprise);
        ArgumentNullException.ThrowIfNull(device);
        var batch = new RegisterBatch();
        RecordSource source = ApiSource("devices");
        batch.Devices.Add(new(enterprise, device, source));
        ImportTyped(batch, RegisterRules.Check(device), source);
    }

    /// <summary>
    /// The register's shift calendars and time zones for the ledger's accumulation (an enterprise not in the
    /// register has the default calendar and Asia/Shanghai), cached per enterprise for
    /// <see cref="RegisterShiftCalendars.CacheLifetime"/>.
    /// </summary>
    public RegisterShiftCalendars ShiftCalendars { get; }

    /// <summary>The enterprise with credit code <paramref name="creditCode"/>, or null.</summary>
    public Enterprise? GetEnterprise(string creditCode) => Read(creditCode).SingleOrDefault()?.Enterprise;

    /// <summary>Every enterprise, by credit code.</summary>
    public IReadOnlyList<Enterprise> ListEnterprises() => [.. Read(null).Select(r => r.Enterprise)];

    /// <summary>The monthly headcounts of <paramref name="enterprise"/>, by month (empty when unknown).</summary>
    public IReadOnlyList<EmployeeMonth> GetEmployees(string enterprise) => Read(enterprise).SingleOrDefault()?.Employees ?? [];

    /// <summary>The shift calendar of <paramref name="enterprise"/> (the default one when none was set).</summary>
    public ShiftCalendar GetCalendar(string enterprise) => Read(enterprise).SingleOrDefault()?.Calendar ?? ShiftCalendar.Default;

    /// <summary>The key-process list of <paramref name="enterprise"/>, by name.</summary>
    public IReadOnlyList<KeyProcess> GetKeyProcesses(string enterprise) => Read(enterprise).SingleOrDefault()?.KeyProcesses ?? [];

    /// <summary>The described devices of <paramref name="enterprise"/>, by device id.</summary>
    public IReadOnlyList<RegisteredDevice> GetDevices(string enterprise) => Read(enterprise).SingleOrDefault()?.Devices ?? [];

    /// <summary>A described device, or null (unknown, or registered without its fields).</summary>
    public RegisteredDevice? GetDevice(string enterprise, string device) =>
        GetDevices(enterprise).FirstOrDefault(d => string.Equals(d.Device, device, StringComparison.Ordinal));

    /// <summary>The calendar and UTC offset of <paramref name="enterprise"/>, or null when it is not in the register.</summary>
    internal (ShiftCalendar Calendar, int UtcOffsetMinutes)? ReadCalendarAndOffset(string enterprise)
    {
        using SqliteConnection connection = _store.OpenConnection();
        using SqliteTransaction transaction = connection.BeginTransaction(deferred: true);
        string? zone = null;
        ReadRows(connection, transaction, "SELECT time_zone FROM enterprises WHERE credit_code = $e;", enterprise, reader => zone = reader.GetString(0));
        if (zone is null)
        {
            return null;
        }

        int offset = TimeZones.TryGetOffsetMinutes(zone, out int minutes)
            ? minutes
            : throw new InvalidDataException($"enterprises.time_zone of {enterprise} holds '{zone}', which is not a zone the register accepts.");
        return (ReadCalendar(connection, transaction, enterprise), offset);
    }

    /// <summary>The register of one enterprise or (null) of all, by credit code: what the export writes.</summary>
    public IReadOnlyList<EnterpriseRegister> Export(string? enterprise = null) => Read(enterprise);

    /// <summary>The register as a JSON document (format <c>fgw-register/1</c>); importing it again changes nothing.</summary>
    public byte[] ExportJson(string? enterprise = null) => RegisterJson.WriteDocument(Read(enterprise));

    /// <summary>One table of the register as CSV; importing the tables in <see cref="CsvImportOrder"/> restores it.</summary>
    public byte[] ExportCsv(RegisterTable table, string? enterprise = null) => RegisterCsv.Write(table, Read(enterprise));

    /// <summary>The CSV tables in the order their files must be imported (an enterprise before the rows that name it).</summary>
    public static IReadOnlyList<RegisterTable> CsvImportOrder => RegisterCsv.ImportOrder;

    /// <summary>The file name of a CSV table (<c>devices.csv</c>).</summary>
    public static string CsvFileName(RegisterTable table) => RegisterCsv.TableName(table) + ".csv";

    /// <summary>Devices registered (by the ingest's operator) but not described yet, by enterprise and device id.</summary>
    public IReadOnlyList<(string Enterprise, string Device)> ListUndescribedDevices()
    {
        using SqliteConnection connection = _store.OpenConnection();
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = "SELECT enterprise, device FROM devices WHERE class IS NULL ORDER BY enterprise, device;";
        using SqliteDataReader reader = command.ExecuteReader();
        var devices = new List<(string, string)>();
        while (reader.Read())
        {
            devices.Add((reader.GetString(0), reader.GetString(1)));
        }

        return devices;
    }

    /// <summary>
    /// Freezes the register of <paramref name="enterprise"/> (null: every enterprise) as it applies to
    /// <paramref name="window"/>: the enterprises, the employees of the window's months, the calendar
    /// (week and the overrides inside the window), the key-process lists and the devices active in the
    /// window, each enterprise's window taken in its own time zone. The canonical bytes and their SHA-256
    /// are stored; when the window is already frozen for this scope the stored snapshot is returned
    /// unchanged, so later register edits never change a frozen snapshot.
    /// </summary>
    /// <exception cref="ArgumentException">The enterprise is not in the register.</exception>
    public RegisterSnapshot Freeze(string? enterprise, Window window)
    {
        ArgumentNullException.ThrowIfNull(window);
        string scope = enterprise ?? "*";
        using SqliteConnection connection = _store.OpenConnection();
        using SqliteTransaction transaction = connection.BeginTransaction();
        if (ReadSnapshot(connection, transaction, scope, window.Label) is RegisterSnapshot existing)
        {
            return existing;
        }

        List<EnterpriseRegister> registers = Read(connection, transaction, enterprise);
        if (enterprise is not null && registers.Count == 0)
        {
            throw new ArgumentException($"enterprise \"{enterprise}\" is not in the register.", nameof(enterprise));
        }

        byte[] canonical = RegisterJson.WriteCanonical(scope, window.Label, [.. registers.Select(r => ApplyingTo(r, window))]);
        byte[] hash = SHA256.HashData(canonical);
        long now = _store.NowUnixNanoseconds();
        using (SqliteCommand insert = connection.CreateCommand())
        {
            insert.Transaction = transaction;
            insert.CommandText = """
                INSERT INTO register_snapshots (scope, window_label, hash, canonical, frozen_ns) VALUES ($scope, $window, $hash, $canonical, $now);
                """;
            insert.Parameters.AddWithValue("$scope", scope);
            insert.Parameters.AddWithValue("$window", window.Label);
            insert.Parameters.AddWithValue("$hash", hash);
            insert.Parameters.AddWithValue("$canonical", canonical);
            insert.Parameters.AddWithValue("$now", now);
            insert.ExecuteNonQuery();
        }

        transaction.Commit();
        return ToSnapshot(scope, window.Label, hash, canonical, now);
    }

    /// <summary>The frozen snapshot of <paramref name="enterprise"/> (null: all) for <paramref name="window"/>, or null when it was not frozen.</summary>
    /// <exception cref="InvalidDataException">The stored bytes no longer match the stored hash.</exception>
    public RegisterSnapshot? GetSnapshot(string? enterprise, Window window)
    {
        ArgumentNullException.ThrowIfNull(window);
        using SqliteConnection connection = _store.OpenConnection();
        return ReadSnapshot(connection, null, enterprise ?? "*", window.Label);
    }

    /// <summary>
    /// The register of one enterprise as it applies to <paramref name="window"/> (in the enterprise's zone):
    /// employees of the window's months, calendar overrides inside it, devices active in it.
    /// </summary>
    public static EnterpriseRegister ApplyingTo(EnterpriseRegister register, Window window)
    {
        ArgumentNullException.ThrowIfNull(register);
        ArgumentNullException.ThrowIfNull(window);
        Window local = window.WithOffset(register.Enterprise.UtcOffsetMinutes);
        IReadOnlyList<string> months = local.Months;
        return register with
        {
            Employees = [.. register.Employees.Where(m => months.Contains(m.Month))],
            Calendar = register.Calendar.Within(local),
            Devices = [.. register.Devices.Where(d => d.IsActiveIn(local))],
        };
    }

    private static RecordSource ApiSource(string path) =>
        new("register", isCsv: false, 0, path, _ => new RawValue(RawKind.Absent, "", 0));

    private void ImportTyped(RegisterBatch batch, IEnumerable<(string Field, string Reason)> broken, RecordSource source)
    {
        var errors = new ErrorSink(CollectedErrors);
        foreach ((string field, string reason) in broken)
        {
            errors.Add(source.Error(field, reason));
        }

        RegisterImportResult result = Import(batch, errors, "register");
        if (!result.Succeeded)
        {
            throw new RegisterValidationException(result.Errors);
        }
    }

    private RegisterImportResult Import(RegisterBatch batch, ErrorSink errors, string table)
    {
        using SqliteConnection connection = _store.OpenConnection();
        using SqliteTransaction transaction = connection.BeginTransaction();
        Validate(connection, transaction, batch, errors);
        if (errors.Count > 0)
        {
            transaction.Rollback();
            return new RegisterImportResult
            {
                Errors = [.. errors.Errors.OrderBy(e => e.Line).Take(MaxErrors)],
                ErrorCount = errors.Count,
                Table = table,
            };
        }

        Write(connection, transaction, batch);
        transaction.Commit();
        foreach (BatchItem<RegisteredDevice> device in batch.Devices)
        {
            _store.Devices.MarkRegistered(device.Enterprise, device.Value.Device);
        }

        return new RegisterImportResult
        {
            Errors = [],
            ErrorCount = 0,
            Table = table,
            Enterprises = batch.Enterprises.Count,
            EmployeeMonths = batch.Employees.Count,
            ShiftWeeks = batch.Weeks.Count + batch.Calendars.Count,
            CalendarDays = batch.Days.Count + batch.Calendars.Sum(c => c.Value.Days.Count),
            KeyProcesses = batch.KeyProcesses.Count,
            Devices = batch.Devices.Count,
        };
    }

    private static void Validate(SqliteConnection connection, SqliteTransaction transaction, RegisterBatch batch, ErrorSink errors)
    {
        // Valid: in the register or a valid record of this batch. Known: also a rejected enterprise record of
        // this batch (its own error is reported; its rows are not reported again as of an unknown enterprise).
        var valid = new HashSet<string>(batch.Enterprises.Select(e => e.Enterprise), StringComparer.Ordinal);
        using (SqliteCommand command = connection.CreateCommand())
        {
            command.Transaction = transaction;
            command.CommandText = "SELECT credit_code FROM enterprises;";
            using SqliteDataReader reader = command.ExecuteReader();
            while (reader.Read())
            {
                valid.Add(reader.GetString(0));
            }
        }

        var known = new HashSet<string>(valid, StringComparer.Ordinal);
        known.UnionWith(batch.MentionedEnterprises);

        Unique(batch.EnterpriseRecords, e => e.Enterprise, "credit_code", e => $"enterprise {RegisterRules.Show(e.Enterprise)}", errors);
        Unique(batch.Employees, e => (e.Enterprise, e.Value.Month), "month", e => $"month {e.Value.Month} of {e.Enterprise}", errors);
        Unique(batch.Weeks, e => e.Enterprise, RegisterBatch.EnterpriseField, e => $"the week of {e.Enterprise}", errors);
        Unique(batch.Calendars, e => e.Enterprise, "calendar", e => $"the calendar of {e.Enterprise}", errors);
        Unique(batch.Days, e => (e.Enterprise, e.Value.Date), "date", e => $"{e.Value.Date:yyyy-MM-dd} of {e.Enterprise}", errors);
        Unique(batch.KeyProcesses, e => (e.Enterprise, e.Value.Process), "process", e => $"process {RegisterRules.Show(e.Value.Process)} of {e.Enterprise}", errors);
        Unique(batch.Devices, e => (e.Enterprise, e.Value.Device), "device", e => $"device {RegisterRules.Show(e.Value.Device)} of {e.Enterprise}", errors);

        KnownEnterprise(batch.Employees, known, errors);
        KnownEnterprise(batch.Weeks, known, errors);
        KnownEnterprise(batch.Calendars, known, errors);
        KnownEnterprise(batch.Days, known, errors);
        KnownEnterprise(batch.KeyProcesses, known, errors);
        KnownEnterprise(batch.Devices, known, errors);

        // A key_process device names a process flagged key in its enterprise's list (as it will be after this batch).
        var keyLists = new Dictionary<string, Dictionary<string, bool>>(StringComparer.Ordinal);
        foreach (BatchItem<RegisteredDevice> item in batch.Devices)
        {
            RegisteredDevice device = item.Value;
            if (!device.KeyProcess || device.Process is null || !valid.Contains(item.Enterprise))
            {
                continue;
            }

            if (!keyLists.TryGetValue(item.Enterprise, out Dictionary<string, bool>? list))
            {
                list = ReadKeyProcesses(connection, transaction, item.Enterprise).ToDictionary(p => p.Process, p => p.IsKey, StringComparer.Ordinal);
                foreach (BatchItem<KeyProcess> process in batch.KeyProcesses.Where(p => p.Enterprise == item.Enterprise))
                {
                    list[process.Value.Process] = process.Value.IsKey;
                }

                keyLists[item.Enterprise] = list;
            }

            if (!list.TryGetValue(device.Process, out bool isKey))
            {
                errors.Add(item.Source.Error("process", $"{RegisterRules.Show(device.Process)} is not in the key-process list of {item.Enterprise}, so a key_process device cannot name it"));
            }
            else if (!isKey)
            {
                errors.Add(item.Source.Error("process", $"{RegisterRules.Show(device.Process)} is in the key-process list of {item.Enterprise} but not flagged key, so a key_process device cannot name it"));
            }
        }
    }

    private static void Unique<T, TKey>(List<BatchItem<T>> items, Func<BatchItem<T>, TKey> key, string field, Func<BatchItem<T>, string> describe, ErrorSink errors)
        where TKey : notnull
    {
        var first = new Dictionary<TKey, RecordSource>();
        foreach (BatchItem<T> item in items)
        {
            if (first.TryGetValue(key(item), out RecordSource? earlier))
            {
                string where = earlier.IsCsv ? $"row {earlier.Line}" : $"line {earlier.Line} ({earlier.Path})";
                errors.Add(item.Source.Error(field, $"{describe(item)} is already given on {where}"));
            }
            else
            {
                first[key(item)] = item.Source;
            }
        }
    }

    private static void KnownEnterprise<T>(List<BatchItem<T>> items, HashSet<string> known, ErrorSink errors)
    {
        foreach (BatchItem<T> item in items)
        {
            if (known.Contains(item.Enterprise) || item.Enterprise.Length == 0)
            {
                continue;
            }

            string reason = CreditCode.TryValidate(item.Enterprise, out string why)
                ? $"enterprise {RegisterRules.Show(item.Enterprise)} is not in the register (import its enterprise first)"
                : $"{RegisterRules.Show(item.Enterprise)} is not a valid unified social credit code: {why}";
            errors.Add(item.Source.Error(RegisterBatch.EnterpriseField, reason));
        }
    }

    private void Write(SqliteConnection connection, SqliteTransaction transaction, RegisterBatch batch)
    {
        long now = _store.NowUnixNanoseconds();
        using var statements = new Statements(connection, transaction);
        foreach (BatchItem<Enterprise> item in batch.Enterprises)
        {
            Enterprise e = item.Value;
            statements.Execute("""
                INSERT INTO enterprises (credit_code, name, region, industry, time_zone, updated_ns) VALUES ($code, $name, $region, $industry, $zone, $now)
                ON CONFLICT (credit_code) DO UPDATE SET name = excluded.name, region = excluded.region, industry = excluded.industry,
                    time_zone = excluded.time_zone, updated_ns = excluded.updated_ns;
                """,
                ("$code", e.CreditCode), ("$name", e.Name), ("$region", e.Region), ("$industry", e.Industry), ("$zone", e.TimeZone), ("$now", now));
        }

        foreach (BatchItem<EmployeeMonth> item in batch.Employees)
        {
            statements.Execute("""
                INSERT INTO employee_months (enterprise, month, average_headcount) VALUES ($e, $month, $count)
                ON CONFLICT (enterprise, month) DO UPDATE SET average_headcount = excluded.average_headcount;
                """,
                ("$e", item.Enterprise), ("$month", item.Value.Month), ("$count", item.Value.AverageHeadcount));
        }

        foreach (BatchItem<ShiftCalendar> item in batch.Calendars)
        {
            WriteWeek(statements, item.Enterprise, item.Value.WeekDictionary());
            statements.Execute("DELETE FROM calendar_days WHERE enterprise = $e;", ("$e", item.Enterprise));
            foreach (CalendarDay day in item.Value.Days)
            {
                WriteDay(statements, item.Enterprise, day);
            }
        }

        foreach (BatchItem<IReadOnlyDictionary<DayOfWeek, IReadOnlyList<ShiftSpan>>> item in batch.Weeks)
        {
            WriteWeek(statements, item.Enterprise, item.Value);
        }

        foreach (BatchItem<CalendarDay> item in batch.Days)
        {
            WriteDay(statements, item.Enterprise, item.Value);
        }

        foreach (BatchItem<KeyProcess> item in batch.KeyProcesses)
        {
            statements.Execute("""
                INSERT INTO key_processes (enterprise, process, is_key) VALUES ($e, $process, $key)
                ON CONFLICT (enterprise, process) DO UPDATE SET is_key = excluded.is_key;
                """,
                ("$e", item.Enterprise), ("$process", item.Value.Process), ("$key", item.Value.IsKey ? 1 : 0));
        }

        foreach (BatchItem<RegisteredDevice> item in batch.Devices)
        {
            RegisteredDevice d = item.Value;
            statements.Execute($"""
                INSERT INTO devices (enterprise, registered_ns, described_ns, {DeviceColumns})
                VALUES ($e, $now, $now, $device, $uri, $manufacturer, $model, $serial, $class, $production, $digital, $nc, $key, $process,
                        $axes, $commissioned, $retired, $retrofit, $price, $invoice, $leased, $local, $first, $cycle)
                ON CONFLICT (enterprise, device) DO UPDATE SET
                    product_instance_uri = excluded.product_instance_uri, manufacturer = excluded.manufacturer, model = excluded.model,
                    serial_number = excluded.serial_number, class = excluded.class, production = excluded.production, digital = excluded.digital,
                    nc = excluded.nc, key_process = excluded.key_process, process = excluded.process, robot_axes = excluded.robot_axes,
                    commissioned = excluded.commissioned, retired = excluded.retired, retrofit_project = excluded.retrofit_project,
                    purchase_price_fen = excluded.purchase_price_fen, invoice = excluded.invoice, leased = excluded.leased,
                    locally_made = excluded.locally_made, first_of_kind = excluded.first_of_kind, ideal_cycle_ns = excluded.ideal_cycle_ns,
                    described_ns = excluded.described_ns;
                """,
                ("$e", item.Enterprise), ("$now", now), ("$device", d.Device), ("$uri", d.ProductInstanceUri), ("$manufacturer", d.Manufacturer),
                ("$model", d.Model), ("$serial", d.SerialNumber), ("$class", DeviceClasses.Name(d.Class)), ("$production", Bit(d.Production)),
                ("$digital", Bit(d.Digital)), ("$nc", Bit(d.Nc)), ("$key", Bit(d.KeyProcess)), ("$process", d.Process), ("$axes", d.RobotAxes),
                ("$commissioned", Day(d.Commissioned)), ("$retired", d.Retired is DateOnly retired ? Day(retired) : null),
                ("$retrofit", d.RetrofitProject), ("$price", d.PurchasePrice is decimal price ? (long)(price * 100) : null), ("$invoice", d.Invoice),
                ("$leased", Bit(d.Leased)), ("$local", Bit(d.LocallyMade)), ("$first", Bit(d.FirstOfKind)), ("$cycle", d.IdealCycleNanoseconds));
        }
    }

    private static void WriteWeek(Statements statements, string enterprise, IReadOnlyDictionary<DayOfWeek, IReadOnlyList<ShiftSpan>> week)
    {
        string Shifts(DayOfWeek day) => ShiftCalendar.FormatShifts(week.TryGetValue(day, out IReadOnlyList<ShiftSpan>? shifts) ? shifts : []);
        statements.Execute("""
            INSERT OR REPLACE INTO shift_weeks (enterprise, mon, tue, wed, thu, fri, sat, sun) VALUES ($e, $mon, $tue, $wed, $thu, $fri, $sat, $sun);
            """,
            ("$e", enterprise), ("$mon", Shifts(DayOfWeek.Monday)), ("$tue", Shifts(DayOfWeek.Tuesday)), ("$wed", Shifts(DayOfWeek.Wednesday)),
            ("$thu", Shifts(DayOfWeek.Thursday)), ("$fri", Shifts(DayOfWeek.Friday)), ("$sat", Shifts(DayOfWeek.Saturday)), ("$sun", Shifts(DayOfWeek.Sunday)));
    }

    private static void WriteDay(Statements statements, string enterprise, CalendarDay day) =>
        statements.Execute("""
            INSERT OR REPLACE INTO calendar_days (enterprise, day, kind, shifts, note) VALUES ($e, $day, $kind, $shifts, $note);
            """,
            ("$e", enterprise), ("$day", Day(day.Date)), ("$kind", day.Kind == CalendarDayKind.PlannedDowntime ? "planned_downtime" : "extra_production"),
            ("$shifts", ShiftCalendar.FormatShifts(day.Shifts)), ("$note", day.Note));

    private List<EnterpriseRegister> Read(string? enterprise)
    {
        using SqliteConnection connection = _store.OpenConnection();
        // One read transaction: every table is read from the same version of the database.
        using SqliteTransaction transaction = connection.BeginTransaction(deferred: true);
        return Read(connection, transaction, enterprise);
    }

    private static List<EnterpriseRegister> Read(SqliteConnection connection, SqliteTransaction transaction, string? enterprise)
    {
        var registers = new List<EnterpriseRegister>();
        using SqliteCommand command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "SELECT credit_code, name, region, industry, time_zone FROM enterprises"
            + (enterprise is null ? "" : " WHERE credit_code = $e") + " ORDER BY credit_code;";
        if (enterprise is not null)
        {
            command.Parameters.AddWithValue("$e", enterprise);
        }

        var enterprises = new List<Enterprise>();
        using (SqliteDataReader reader = command.ExecuteReader())
        {
            while (reader.Read())
            {
                enterprises.Add(new Enterprise
                {
                    CreditCode = reader.GetString(0),
                    Name = reader.GetString(1),
                    Region = reader.GetString(2),
                    Industry = reader.IsDBNull(3) ? null : reader.GetString(3),
                    TimeZone = reader.GetString(4),
                });
            }
        }

        foreach (Enterprise e in enterprises)
        {
            registers.Add(new EnterpriseRegister
            {
                Enterprise = e,
                Employees = ReadEmployees(connection, transaction, e.CreditCode),
                Calendar = ReadCalendar(connection, transaction, e.CreditCode),
                KeyProcesses = ReadKeyProcesses(connection, transaction, e.CreditCode),
                Devices = ReadDevices(connection, transaction, e.CreditCode),
            });
        }

        return registers;
    }

    private static List<EmployeeMonth> ReadEmployees(SqliteConnection connection, SqliteTransaction transaction, string enterprise)
    {
        var months = new List<EmployeeMonth>();
        ReadRows(connection, transaction, "SELECT month, average_headcount FROM employee_months WHERE enterprise = $e ORDER BY month;", enterprise, reader =>
            months.Add(new EmployeeMonth { Month = reader.GetString(0), AverageHeadcount = reader.GetInt32(1) }));
        return months;
    }

    private static ShiftCalendar ReadCalendar(SqliteConnection connection, SqliteTransaction transaction, string enterprise)
    {
        IReadOnlyDictionary<DayOfWeek, IReadOnlyList<ShiftSpan>> week = ShiftCalendar.DefaultWeek;
        ReadRows(connection, transaction, "SELECT mon, tue, wed, thu, fri, sat, sun FROM shift_weeks WHERE enterprise = $e;", enterprise, reader =>
        {
            var stored = new Dictionary<DayOfWeek, IReadOnlyList<ShiftSpan>>();
            for (int i = 0; i < 7; i++)
            {
                stored[RegisterBatch.Weekdays[i].Day] = StoredShifts(reader.GetString(i), "shift_weeks");
            }

            week = stored;
        });

        var days = new List<CalendarDay>();
        ReadRows(connection, transaction, "SELECT day, kind, shifts, note FROM calendar_days WHERE enterprise = $e ORDER BY day;", enterprise, reader =>
            days.Add(new CalendarDay
            {
                Date = StoredDay(reader.GetString(0)),
                Kind = reader.GetString(1) == "planned_downtime" ? CalendarDayKind.PlannedDowntime : CalendarDayKind.ExtraProduction,
                Shifts = StoredShifts(reader.GetString(2), "calendar_days"),
                Note = reader.IsDBNull(3) ? null : reader.GetString(3),
            }));

        return new ShiftCalendar(week, days);
    }

    private static List<KeyProcess> ReadKeyProcesses(SqliteConnection connection, SqliteTransaction transaction, string enterprise)
    {
        var processes = new List<KeyProcess>();
        ReadRows(connection, transaction, "SELECT process, is_key FROM key_processes WHERE enterprise = $e ORDER BY process;", enterprise, reader =>
            processes.Add(new KeyProcess { Process = reader.GetString(0), IsKey = reader.GetInt64(1) == 1 }));
        return processes;
    }

    private static List<RegisteredDevice> ReadDevices(SqliteConnection connection, SqliteTransaction transaction, string enterprise)
    {
        var devices = new List<RegisteredDevice>();
        ReadRows(connection, transaction, $"SELECT {DeviceColumns} FROM devices WHERE enterprise = $e AND class IS NOT NULL ORDER BY device;", enterprise, reader =>
        {
            string? Text(int i) => reader.IsDBNull(i) ? null : reader.GetString(i);
            bool Flag(int i) => !reader.IsDBNull(i) && reader.GetInt64(i) == 1;
            if (!DeviceClasses.TryParse(reader.GetString(5), out DeviceClass deviceClass))
            {
                throw new InvalidDataException($"devices.class holds '{reader.GetString(5)}', which is not a device class.");
            }

            devices.Add(new RegisteredDevice
            {
                Device = reader.GetString(0),
                ProductInstanceUri = Text(1),
                Manufacturer = Text(2),
                Model = Text(3),
                SerialNumber = Text(4),
                Class = deviceClass,
                Production = Flag(6),
                Digital = Flag(7),
                Nc = Flag(8),
                KeyProcess = Flag(9),
                Process = Text(10),
                RobotAxes = reader.IsDBNull(11) ? null : reader.GetInt32(11),
                Commissioned = StoredDay(reader.GetString(12)),
                Retired = reader.IsDBNull(13) ? null : StoredDay(reader.GetString(13)),
                RetrofitProject = Text(14),
                PurchasePrice = reader.IsDBNull(15) ? null : reader.GetInt64(15) / 100m,
                Invoice = Text(16),
                Leased = Flag(17),
                LocallyMade = Flag(18),
                FirstOfKind = Flag(19),
                IdealCycleNanoseconds = reader.IsDBNull(20) ? null : reader.GetInt64(20),
            });
        });

        return devices;
    }

    private static RegisterSnapshot? ReadSnapshot(SqliteConnection connection, SqliteTransaction? transaction, string scope, string window)
    {
        using SqliteCommand command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "SELECT hash, canonical, frozen_ns FROM register_snapshots WHERE scope = $scope AND window_label = $window;";
        command.Parameters.AddWithValue("$scope", scope);
        command.Parameters.AddWithValue("$window", window);
        using SqliteDataReader reader = command.ExecuteReader();
        if (!reader.Read())
        {
            return null;
        }

        byte[] hash = (byte[])reader.GetValue(0);
        byte[] canonical = (byte[])reader.GetValue(1);
        if (!SHA256.HashData(canonical).AsSpan().SequenceEqual(hash))
        {
            throw new InvalidDataException($"The register snapshot of {scope} for {window} no longer matches its hash {Convert.ToHexStringLower(hash)}.");
        }

        return ToSnapshot(scope, window, hash, canonical, reader.GetInt64(2));
    }

    private static RegisterSnapshot ToSnapshot(string scope, string window, byte[] hash, byte[] canonical, long frozen)
    {
        var errors = new ErrorSink(MaxErrors);
        RegisterBatch batch = RegisterJson.Read(canonical, "snapshot", errors, snapshot: true);
        if (errors.Count > 0)
        {
            throw new InvalidDataException($"The register snapshot of {scope} for {window} does not read back: {errors.Errors[0].Message}");
        }

        return new RegisterSnapshot
        {
            Scope = scope,
            Window = window,
            Hash = Convert.ToHexStringLower(hash),
            Canonical = canonical,
            FrozenUnixNanoseconds = frozen,
            Enterprises = RegisterJson.Assemble(batch),
        };
    }

    private static void ReadRows(SqliteConnection connection, SqliteTransaction transaction, string sql, string enterprise, Action<SqliteDataReader> row)
    {
        using SqliteCommand command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        command.Parameters.AddWithValue("$e", enterprise);
        using SqliteDataReader reader = command.ExecuteReader();
        while (reader.Read())
        {
            row(reader);
        }
    }

    /// <summary>The write statements of one transaction, each prepared once and run with new values per record.</summary>
    private sealed class Statements : IDisposable
    {
        private readonly SqliteConnection _connection;
        private readonly SqliteTransaction _transaction;
        private readonly Dictionary<string, SqliteCommand> _commands = new(StringComparer.Ordinal);

        public Statements(SqliteConnection connection, SqliteTransaction transaction)
        {
            _connection = connection;
            _transaction = transaction;
        }

        public void Execute(string sql, params (string Name, object? Value)[] parameters)
        {
            if (!_commands.TryGetValue(sql, out SqliteCommand? command))
            {
                command = _connection.CreateCommand();
                command.Transaction = _transaction;
                command.CommandText = sql;
                foreach ((string name, object? _) in parameters)
                {
                    command.Parameters.Add(new SqliteParameter { ParameterName = name });
                }

                _commands[sql] = command;
            }

            foreach ((string name, object? value) in parameters)
            {
                command.Parameters[name].Value = value ?? DBNull.Value;
            }

            command.ExecuteNonQuery();
        }

        public void Dispose()
        {
            foreach (SqliteCommand command in _commands.Values)
            {
                command.Dispose();
            }
        }
    }

    private static long Bit(bool value) => value ? 1 : 0;

    private static string Day(DateOnly date) => date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    private static DateOnly StoredDay(string text) =>
        DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out DateOnly date)
            ? date
            : throw new InvalidDataException($"The register holds '{text}' where a date (YYYY-MM-DD) belongs.");

    private static IReadOnlyList<ShiftSpan> StoredShifts(string text, string table) =>
        ShiftCalendar.TryParseShifts(text, out IReadOnlyList<ShiftSpan>? shifts, out string reason)
            ? shifts
            : throw new InvalidDataException($"{table} holds shifts '{text}': {reason}.");
}
