using System.Globalization;
using System.Text;
using FactoryGateway.Testing;
using Microsoft.Data.Sqlite;

namespace FactoryGateway.Evidence.Tests;

public sealed class AssetRegisterTests : IDisposable
{
    private const string Enterprise = EvidenceTest.Enterprise;
    private const string Other = EvidenceTest.OtherEnterprise;

    private readonly TempDirectory _directory = new("register");
    private readonly ManualTimeProvider _time = new(EvidenceTest.Start);
    private readonly EvidenceStore _store;

    public AssetRegisterTests()
    {
        _store = EvidenceTest.Open(_directory, _time);
    }

    private AssetRegister Register => _store.Register;

    public void Dispose()
    {
        _store.Dispose();
        _directory.Dispose();
    }

    [Fact]
    public void A_JSON_document_imports_every_part_of_the_register()
    {
        RegisterImportResult result = Register.ImportJson(RegisterSamples.JsonBytes, "register.json");

        Assert.True(result.Succeeded, string.Join("\n", result.Errors));
        Assert.Equal((2, 4, 1, 3, 3, 4), (result.Enterprises, result.EmployeeMonths, result.ShiftWeeks, result.CalendarDays, result.KeyProcesses, result.Devices));

        Enterprise enterprise = Assert.IsType<Enterprise>(Register.GetEnterprise(Enterprise));
        Assert.Equal(new Enterprise { CreditCode = Enterprise, Name = "嘉兴示例精密机械有限公司", Region = "330402", Industry = "C3484", TimeZone = "Asia/Shanghai" }, enterprise);
        Assert.Equal("Asia/Shanghai", Register.GetEnterprise(Other)!.TimeZone); // the default
        Assert.Null(Register.GetEnterprise(Other)!.Industry);
        Assert.Equal([208, 212, 215, 209], Register.GetEmployees(Enterprise).Select(m => m.AverageHeadcount));
        Assert.Equal([new KeyProcess { Process = "包装", IsKey = false }, new KeyProcess { Process = "焊接", IsKey = true }, new KeyProcess { Process = "精加工", IsKey = true }],
            Register.GetKeyProcesses(Enterprise));

        ShiftCalendar calendar = Register.GetCalendar(Enterprise);
        Assert.Equal(720, calendar.ScheduledMinutes(new DateOnly(2026, 8, 13))); // Thursday
        Assert.Equal(0, calendar.ScheduledMinutes(new DateOnly(2026, 8, 14)));   // declared planned downtime (a Friday)
        Assert.Equal(240, calendar.ScheduledMinutes(new DateOnly(2026, 8, 15))); // Saturday 08:00-12:00
        Assert.Equal(480, calendar.ScheduledMinutes(new DateOnly(2026, 8, 16))); // extra Sunday, two shifts
        Assert.Equal(0, calendar.ScheduledMinutes(new DateOnly(2026, 8, 23)));   // an ordinary Sunday
        Assert.Equal(ShiftCalendar.Default, Register.GetCalendar(Other));

        RegisteredDevice cnc = Assert.IsType<RegisteredDevice>(Register.GetDevice(Enterprise, "cnc-01"));
        Assert.Equal(DeviceClass.CncMachineTool, cnc.Class);
        Assert.Equal((true, true, true, true, "精加工"), (cnc.Production, cnc.Digital, cnc.Nc, cnc.KeyProcess, cnc.Process));
        Assert.Equal(("DMG MORI", "NLX 2500", "NLX25-001234"), (cnc.Manufacturer, cnc.Model, cnc.SerialNumber));
        Assert.Equal(1_250_000.00m, cnc.PurchasePrice);
        Assert.Equal(42_500_000_000, cnc.IdealCycleNanoseconds);
        Assert.Equal(new DateOnly(2024, 3, 15), cnc.Commissioned);
        Assert.Equal("JX-2025-017", cnc.RetrofitProject);

        RegisteredDevice robot = Register.GetDevice(Enterprise, "robot-01")!;
        Assert.Equal((DeviceClass.IndustrialRobot, 6, true, true), (robot.Class, robot.RobotAxes, robot.Leased, robot.FirstOfKind));
        Assert.Equal(380_000m, robot.PurchasePrice); // a JSON number, read from its literal text
        Assert.Equal(new DateOnly(2026, 6, 30), Register.GetDevice(Enterprise, "lathe-07")!.Retired);

        // Described devices are registered for the ingest at once (no SQLite read).
        Assert.True(_store.Devices.IsRegistered(Enterprise, "cnc-01"));
        Assert.True(_store.Devices.IsRegistered(Other, "plc-line-1"));
        Assert.Equal(0, _store.Devices.DatabaseReads);
    }

    [Fact]
    public void Export_then_import_into_an_empty_store_is_the_identity_for_JSON_and_CSV()
    {
        Assert.True(Register.ImportJson(RegisterSamples.JsonBytes, "register.json").Succeeded);
        byte[] exported = Register.ExportJson();

        using var jsonDirectory = new TempDirectory("register-json");
        using (EvidenceStore copy = EvidenceTest.Open(jsonDirectory, _time))
        {
            RegisterImportResult result = copy.Register.ImportJson(exported, "export.json");
            Assert.True(result.Succeeded, string.Join("\n", result.Errors));
            Assert.Equal(Encoding.UTF8.GetString(exported), Encoding.UTF8.GetString(copy.Register.ExportJson()));
        }

        using var csvDirectory = new TempDirectory("register-csv");
        using (EvidenceStore copy = EvidenceTest.Open(csvDirectory, _time))
        {
            foreach (RegisterTable table in AssetRegister.CsvImportOrder)
            {
                RegisterImportResult result = copy.Register.ImportCsv(Register.ExportCsv(table), AssetRegister.CsvFileName(table));
                Assert.True(result.Succeeded, string.Join("\n", result.Errors));
            }

            Assert.Equal(Encoding.UTF8.GetString(exported), Encoding.UTF8.GetString(copy.Register.ExportJson()));
        }

        // Importing the export into the store it came from changes nothing either.
        Assert.True(Register.ImportJson(exported, "export.json").Succeeded);
        Assert.Equal(exported, Register.ExportJson());
    }

    [Fact]
    public void CSV_tables_import_in_order_with_quoted_cells_a_BOM_and_CRLF()
    {
        Import("enterprises.csv", "\uFEFFcredit_code,name,region,industry\r\n" + $"{Enterprise},\"嘉兴示例, \"\"精密\"\" 机械\",330402,C3484\r\n");
        Import("employees.csv", $"enterprise,month,average_headcount\n{Enterprise},2026-07,212\n{Enterprise},2026-08,215\n");
        Import("shift_weeks.csv", $"enterprise,mon,tue,wed,thu,fri,sat,sun\n{Enterprise},\"06:00-14:00,14:00-22:00\",08:00-20:00,08:00-20:00,08:00-20:00,08:00-20:00,,\n");
        Import("calendar_days.csv", $"enterprise,date,kind,shifts,note\n{Enterprise},2026-07-01,planned_downtime,,\n{Enterprise},2026-07-05,extra_production,,\n");
        Import("key_processes.csv", $"enterprise,process,key\n{Enterprise},精加工,true\n");
        Import("devices.csv", RegisterSamples.DeviceHeader + "\n" + RegisterSamples.DeviceRow("cnc-08") + "\n\n" + RegisterSamples.DeviceRow("cnc-09") + "\n");

        Assert.Equal("嘉兴示例, \"精密\" 机械", Register.GetEnterprise(Enterprise)!.Name);
        Assert.Equal(2, Register.GetEmployees(Enterprise).Count);
        ShiftCalendar calendar = Register.GetCalendar(Enterprise);
        Assert.Equal(960, calendar.ScheduledMinutes(new DateOnly(2026, 7, 6)));  // Monday, two shifts
        Assert.Equal(0, calendar.ScheduledMinutes(new DateOnly(2026, 7, 1)));    // downtime
        Assert.Equal(720, calendar.ScheduledMinutes(new DateOnly(2026, 7, 5)));  // extra Sunday, default shift
        Assert.Equal(["cnc-08", "cnc-09"], Register.GetDevices(Enterprise).Select(d => d.Device));
    }

    public static TheoryData<string, string, string> BadDeviceCells => new()
    {
        { "commissioned", "2025-13-01", "\"2025-13-01\" is not a date (YYYY-MM-DD)" },
        { "commissioned", "", "is required" },
        { "class", "robot", "\"robot\" is not a device class (cnc_machine_tool, industrial_robot, plc_automated, conventional, instrument, agv, other)" },
        { "robot_axes", "0", "\"0\" is not a positive integer" },
        { "robot_axes", "6.5", "\"6.5\" is not a positive integer" },
        { "retired", "2024-01-01", "\"2024-01-01\" is before the commissioning date 2024-03-15" },
        { "process", "磨削", $"\"磨削\" is not in the key-process list of {Enterprise}, so a key_process device cannot name it" },
        { "process", "包装", $"\"包装\" is in the key-process list of {Enterprise} but not flagged key, so a key_process device cannot name it" },
        { "process", "", "a key_process device names its process (one flagged key in the enterprise's key-process list)" },
        { "production", "yes", "\"yes\" is not a flag (true or false)" },
        { "purchase_price", "12.345", "\"12.345\" is not an amount in CNY (digits with at most 2 decimals, e.g. 1250000.00)" },
        { "purchase_price", "-5", "\"-5\" is not an amount in CNY (digits with at most 2 decimals, e.g. 1250000.00)" },
        { "purchase_price", "1e6", "\"1e6\" is not an amount in CNY (digits with at most 2 decimals, e.g. 1250000.00)" },
        { "ideal_cycle_s", "0", "the ideal cycle time must be positive" },
        { "ideal_cycle_s", "fast", "\"fast\" is not a duration in seconds (digits with at most 9 decimals, e.g. 42.5)" },
        { "device", "cnc-08", $"device \"cnc-08\" of {Enterprise} is already given on row 2" },
        { "device", "", "is required" },
    };

    [Theory]
    [MemberData(nameof(BadDeviceCells))]
    public void A_bad_device_row_is_reported_with_row_column_and_reason_and_nothing_of_the_file_is_imported(string column, string value, string reason)
    {
        Assert.True(Register.ImportJson(RegisterSamples.JsonBytes, "register.json").Succeeded);
        string csv = $"{RegisterSamples.DeviceHeader}\n{RegisterSamples.DeviceRow("cnc-08")}\n{RegisterSamples.DeviceRow("cnc-09", column, value)}\n";

        RegisterImportResult result = Register.ImportCsv(Encoding.UTF8.GetBytes(csv), "devices.csv");

        Assert.False(result.Succeeded);
        Assert.Equal($"devices.csv row 3 column {column}: {reason}", Assert.Single(result.Errors).Message);
        Assert.Null(Register.GetDevice(Enterprise, "cnc-08")); // the good row before it is not imported either
        Assert.Equal(3, Register.GetDevices(Enterprise).Count);
    }

    [Fact]
    public void A_device_without_an_identity_or_of_an_unknown_enterprise_is_rejected()
    {
        Assert.True(Register.ImportJson(RegisterSamples.JsonBytes, "register.json").Succeeded);
        string csv = string.Join("\n",
            RegisterSamples.DeviceHeader,
            RegisterSamples.DeviceRow("cnc-08", "serial_number", ""),
            RegisterSamples.DeviceRow("cnc-09", "enterprise", RegisterSamples.UnknownEnterprise),
            RegisterSamples.DeviceRow("cnc-10", "enterprise", "91330402MA2B3C4D54"),
            "");

        RegisterImportResult result = Register.ImportCsv(Encoding.UTF8.GetBytes(csv), "devices.csv");

        Assert.Equal(
        [
            "devices.csv row 2 column product_instance_uri: a device needs an identity: product_instance_uri, or manufacturer, model and serial_number",
            $"devices.csv row 3 column enterprise: enterprise \"{RegisterSamples.UnknownEnterprise}\" is not in the register (import its enterprise first)",
            "devices.csv row 4 column enterprise: \"91330402MA2B3C4D54\" is not a valid unified social credit code: the check character is '4' but the GB 32100-2015 checksum of the first 17 characters gives '3'",
        ], result.Errors.Select(e => e.Message));
        Assert.Equal(3, result.ErrorCount);
    }

    public static TheoryData<string, string, string> BadTables => new()
    {
        {
            "enterprises.csv",
            $"credit_code,name,region,time_zone\n{Enterprise},A,33040,Asia/Shanghai\n{Other},B,350102,Europe/Berlin\n91330402MA2B3C4D5,C,330402,\n{Enterprise},D,330402,\n",
            "enterprises.csv row 2 column region: \"33040\" is not a GB/T 2260 region code: a region code has 6 digits, this one has 5 characters\n"
            + $"enterprises.csv row 3 column time_zone: \"Europe/Berlin\" is not a time zone the register accepts ({TimeZones.Names})\n"
            + "enterprises.csv row 4 column credit_code: \"91330402MA2B3C4D5\" is not a valid unified social credit code: a credit code has 18 characters, this one has 17\n"
            + $"enterprises.csv row 5 column credit_code: enterprise \"{Enterprise}\" is already given on row 2"
        },
        {
            "employees.csv",
            $"enterprise,month,average_headcount\n{Enterprise},2026-13,10\n{Enterprise},2026-07,-3\n{Enterprise},2026-08,\n",
            "employees.csv row 2 column month: \"2026-13\" is not a month (YYYY-MM)\n"
            + "employees.csv row 3 column average_headcount: \"-3\" is not a non-negative integer\n"
            + "employees.csv row 4 column average_headcount: is required"
        },
        {
            "calendar_days.csv",
            $"enterprise,date,kind,shifts\n{Enterprise},2026-10-01,holiday,\n{Enterprise},2026-10-02,extra_production,20:00-08:00\n{Enterprise},2026-10-03,planned_downtime,08:00-12:00\n",
            "calendar_days.csv row 2 column kind: \"holiday\" is not a calendar day kind (planned_downtime, extra_production)\n"
            + "calendar_days.csv row 3 column shifts: shift \"20:00-08:00\" ends before it starts (a night shift is written as two shifts, to 24:00 and from 00:00 the next day)\n"
            + "calendar_days.csv row 4 column shifts: a planned-downtime day has no shifts"
        },
        {
            "key_processes.csv",
            $"enterprise,process,key\n{Enterprise},精加工,yes\n{Enterprise},精加工,true\n{Enterprise}, 焊接,true\n",
            "key_processes.csv row 2 column key: \"yes\" is not a flag (true or false)\n"
            + "key_processes.csv row 4 column process: \" 焊接\" starts or ends with white space"
        },
        {
            "devices.csv",
            "enterprise,device,class,colour\n",
            "devices.csv row 1 column colour: is not a column of the devices table (its columns: enterprise, device, product_instance_uri, manufacturer, model, serial_number, class, production, digital, nc, key_process, process, robot_axes, commissioned, retired, retrofit_project, purchase_price, invoice, leased, locally_made, first_of_kind, ideal_cycle_s)\n"
            + "devices.csv row 1 column commissioned: the devices table needs this column"
        },
        {
            "things.csv",
            "a,b\n1,2\n",
            "things.csv row 1 column *: the header row matches no register table (enterprises has credit_code, employees average_headcount, shift_weeks mon, calendar_days kind, key_processes key, devices device)"
        },
        {
            "devices.csv",
            $"enterprise,device,class,commissioned,manufacturer\n{Enterprise},cnc-1,other,2024-01-01\n{Enterprise},\"cnc-2,other,2024-01-01\n",
            "devices.csv row 3 column *: a quoted field is not closed before the end of the file"
        },
        {
            "devices.csv",
            $"enterprise,device,class,commissioned\n{Enterprise},cnc-1,other\n",
            "devices.csv row 2 column *: the row has 3 cells; the header has 4"
        },
    };

    [Theory]
    [MemberData(nameof(BadTables))]
    public void Every_error_of_a_table_is_listed_and_nothing_of_it_is_imported(string file, string csv, string messages)
    {
        Assert.True(Register.ImportJson(RegisterSamples.JsonBytes, "register.json").Succeeded);
        byte[] before = Register.ExportJson();

        RegisterImportResult result = Register.ImportCsv(Encoding.UTF8.GetBytes(csv), file);

        Assert.Equal(messages.Split('\n'), result.Errors.Select(e => e.Message));
        Assert.Equal(before, Register.ExportJson());
    }

    [Fact]
    public void JSON_errors_name_the_line_and_the_path()
    {
        string json = """
            {
              "format": "fgw-register/1",
              "enterprises": [
                {
                  "credit_code": "91330402MA2B3C4D53",
                  "name": "A",
                  "region": "330402",
                  "key_processes": [{ "process": "精加工", "key": "yes" }],
                  "devices": [
                    {
                      "device": "cnc-01",
                      "product_instance_uri": "urn:x",
                      "class": "cnc_machine_tool",
                      "commissioned": "2025-13-01",
                      "robot_axes": "6",
                      "purchase_price": 12.5,
                      "colour": "red"
                    }
                  ]
                }
              ]
            }
            """;

        RegisterImportResult result = Register.ImportJson(Encoding.UTF8.GetBytes(json), "register.json");

        Assert.Equal(
        [
            "register.json line 8 enterprises[0].key_processes[0].key: must be true or false, not the string \"yes\"",
            "register.json line 14 enterprises[0].devices[0].commissioned: \"2025-13-01\" is not a date (YYYY-MM-DD)",
            $"register.json line 17 enterprises[0].devices[0].colour: is not a field of a device (its fields: {string.Join(", ", "device, product_instance_uri, manufacturer, model, serial_number, class, production, digital, nc, key_process, process, robot_axes, commissioned, retired, retrofit_project, purchase_price, invoice, leased, locally_made, first_of_kind, ideal_cycle_s")})",
        ], result.Errors.Select(e => e.Message));
        Assert.Empty(Register.ListEnterprises());
    }

    [Fact]
    public void An_empty_string_is_not_given_in_JSON_as_in_CSV()
    {
        string json = $$"""{"format": "fgw-register/1", "enterprises": [{"credit_code": "{{Enterprise}}", "name": "A", "region": "330402", "industry": ""}]}""";

        Assert.True(Register.ImportJson(Encoding.UTF8.GetBytes(json), "register.json").Succeeded);

        Assert.Null(Register.GetEnterprise(Enterprise)!.Industry);
        RegisterImportResult noName = Register.ImportJson(Encoding.UTF8.GetBytes(json.Replace("\"A\"", "\"\"", StringComparison.Ordinal)), "register.json");
        Assert.Equal("register.json line 1 enterprises[0].name: is required", Assert.Single(noName.Errors).Message);
    }

    [Fact]
    public void A_rejected_enterprise_is_reported_once_not_again_for_each_of_its_devices()
    {
        string json = RegisterSamples.Json.Replace("\"region\": \"330402\"", "\"region\": \"990402\"", StringComparison.Ordinal);

        RegisterImportResult result = Register.ImportJson(Encoding.UTF8.GetBytes(json), "register.json");

        Assert.Equal("register.json line 7 enterprises[0].region: \"990402\" is not a GB/T 2260 region code: '99' is not a GB/T 2260 province code", Assert.Single(result.Errors).Message);
        Assert.Empty(Register.ListEnterprises());
    }

    [Fact]
    public void Malformed_JSON_is_one_error_with_its_line()
    {
        RegisterImportResult result = Register.ImportJson("{\n  \"format\": \"fgw-register/1\",\n  \"enterprises\": [\n}\n"u8, "register.json");

        RegisterError error = Assert.Single(result.Errors);
        Assert.Equal(4, error.Line);
        Assert.StartsWith("register.json line 4 $: not valid JSON: ", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_BOM_is_skipped_and_invalid_UTF8_is_one_error_with_its_line()
    {
        Assert.True(Register.ImportJson([0xEF, 0xBB, 0xBF, .. RegisterSamples.JsonBytes], "register.json").Succeeded);

        byte[] json = [.. "{\n  \"format\": \"fgw-register/1\",\n  \"x\": \""u8, 0xFF, .. "\"\n}"u8];
        byte[] csv = [.. "credit_code,name,region\n91330402MA2B3C4D53,"u8, 0xC3, .. ",330402\n"u8];

        Assert.Equal(
            "register.json line 3 $: the file is not UTF-8 text (an invalid byte sequence on this line)",
            Assert.Single(Register.ImportJson(json, "register.json").Errors).Message);
        Assert.Equal(
            "enterprises.csv row 2 column *: the file is not UTF-8 text (an invalid byte sequence on this line)",
            Assert.Single(Register.ImportCsv(csv, "enterprises.csv").Errors).Message);
    }

    [Fact]
    public void A_file_with_many_bad_rows_lists_the_first_100_and_counts_all()
    {
        Assert.True(Register.ImportJson(RegisterSamples.JsonBytes, "register.json").Succeeded);
        var csv = new StringBuilder(RegisterSamples.DeviceHeader).Append('\n');
        for (int i = 0; i < 150; i++)
        {
            csv.Append(RegisterSamples.DeviceRow($"cnc-{i}", "commissioned", "someday")).Append('\n');
        }

        RegisterImportResult result = Register.ImportCsv(Encoding.UTF8.GetBytes(csv.ToString()), "devices.csv");

        Assert.Equal(150, result.ErrorCount);
        Assert.Equal(AssetRegister.MaxErrors, result.Errors.Count);
        Assert.Equal(Enumerable.Range(2, 100), result.Errors.Select(e => e.Line));
        Assert.Equal(3, Register.GetDevices(Enterprise).Count);
    }

    [Fact]
    public void The_typed_API_validates_and_upserts()
    {
        var enterprise = new Enterprise { CreditCode = Enterprise, Name = "A", Region = "330402" };
        var device = new RegisteredDevice
        {
            Device = "robot-02",
            ProductInstanceUri = "urn:kuka:kr16:1",
            Class = DeviceClass.IndustrialRobot,
            RobotAxes = 6,
            Commissioned = new DateOnly(2025, 5, 1),
            PurchasePrice = 99_999_999_999.99m,
        };

        RegisterValidationException unknown = Assert.Throws<RegisterValidationException>(() => Register.UpsertDevice(Enterprise, device));
        Assert.Equal($"register devices.enterprise: enterprise \"{Enterprise}\" is not in the register (import its enterprise first)", unknown.Message);

        Register.UpsertEnterprise(enterprise);
        Register.UpsertDevice(Enterprise, device);
        Register.SetEmployeeMonth(Enterprise, new EmployeeMonth { Month = "2026-07", AverageHeadcount = 40 });
        Register.UpsertKeyProcess(Enterprise, new KeyProcess { Process = "焊接", IsKey = true });
        Register.SetCalendar(Enterprise, new ShiftCalendar(new Dictionary<DayOfWeek, IReadOnlyList<ShiftSpan>> { [DayOfWeek.Monday] = [new ShiftSpan(0, 1440)] }, []));

        Assert.Equal(device, Register.GetDevice(Enterprise, "robot-02"));
        Assert.Equal(1440, Register.GetCalendar(Enterprise).ScheduledMinutes(new DateOnly(2026, 7, 6)));
        Assert.Equal(0, Register.GetCalendar(Enterprise).ScheduledMinutes(new DateOnly(2026, 7, 7)));
        Assert.True(_store.Devices.IsRegistered(Enterprise, "robot-02"));

        Register.UpsertDevice(Enterprise, device with { Retired = new DateOnly(2026, 1, 31), KeyProcess = true, Process = "焊接" });
        Assert.Equal(new DateOnly(2026, 1, 31), Register.GetDevice(Enterprise, "robot-02")!.Retired);

        RegisterValidationException bad = Assert.Throws<RegisterValidationException>(() =>
            Register.UpsertDevice(Enterprise, device with { RobotAxes = 0, PurchasePrice = 0.001m, Retired = new DateOnly(2020, 1, 1) }));
        Assert.Equal(
        [
            "register devices.robot_axes: \"0\" is not a positive integer",
            "register devices.retired: \"2020-01-01\" is before the commissioning date 2025-05-01",
            "register devices.purchase_price: \"0.001\" has more than 2 decimals (CNY is exact to the fen)",
        ], bad.Errors.Select(e => e.Message));
        Assert.Throws<RegisterValidationException>(() => Register.UpsertEnterprise(enterprise with { Region = "990000" }));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void The_old_DeviceRegister_API_keeps_working_on_a_database_migrated_to_the_register(int version)
    {
        using var directory = new TempDirectory("register-old");
        string path = Path.Combine(directory.Path, EvidenceStore.FileName);
        using (var connection = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            connection.Open();
            Assert.Equal(Enumerable.Range(1, version), EvidenceSchema.Migrate(connection, path, EvidenceTest.StartUnixNanoseconds, version));
            using SqliteCommand insert = connection.CreateCommand();
            // What RegisterDevice and RecordUnregistered wrote before the register existed.
            insert.CommandText = $"""
                INSERT INTO devices (enterprise, device, registered_ns) VALUES ('{Enterprise}', 'cnc-01', 111), ('{Other}', 'old-press', 222);
                INSERT INTO unregistered_devices (enterprise, device, first_seen_ns, last_seen_ns, points) VALUES ('{Enterprise}', 'robot-07', 1, 2, 3);
                """;
            insert.ExecuteNonQuery();
        }

        using EvidenceStore store = EvidenceTest.Open(directory, _time);

        Assert.Equal(Enumerable.Range(version + 1, EvidenceStore.SchemaVersion - version), store.AppliedMigrations);
        Assert.True(store.Devices.IsRegistered(Enterprise, "cnc-01"));
        Assert.True(store.Devices.IsRegistered(Other, "old-press"));
        Assert.False(store.Devices.IsRegistered(Enterprise, "robot-07"));
        Assert.Equal("robot-07", Assert.Single(store.Devices.ListUnregistered(null)).Device);
        Assert.True(store.Devices.RegisterDevice(Enterprise, "robot-07"));
        Assert.Empty(store.Devices.ListUnregistered(null));
        Assert.Equal([(Enterprise, "cnc-01"), (Enterprise, "robot-07"), (Other, "old-press")], store.Register.ListUndescribedDevices());
        Assert.Empty(store.Register.Export());

        // Describing an old device keeps its registration time; it leaves the undescribed list.
        Assert.True(store.Register.ImportJson(RegisterSamples.JsonBytes, "register.json").Succeeded);
        Assert.Equal(DeviceClass.CncMachineTool, store.Register.GetDevice(Enterprise, "cnc-01")!.Class);
        Assert.Equal([(Enterprise, "robot-07"), (Other, "old-press")], store.Register.ListUndescribedDevices());
        using SqliteConnection check = store.OpenConnection();
        using SqliteCommand select = check.CreateCommand();
        select.CommandText = $"SELECT registered_ns FROM devices WHERE enterprise = '{Enterprise}' AND device = 'cnc-01';";
        Assert.Equal(111L, Convert.ToInt64(select.ExecuteScalar(), CultureInfo.InvariantCulture));
    }

    [Fact]
    public void ImportFile_reads_JSON_or_CSV_by_name_and_content()
    {
        string json = _directory.Combine("register.txt");
        File.WriteAllBytes(json, RegisterSamples.JsonBytes);
        string csv = _directory.Combine("more-employees.csv");
        File.WriteAllText(csv, $"enterprise,month,average_headcount\n{Other},2026-07,55\n");

        Assert.Equal("register", Register.ImportFile(json).Table);
        Assert.Equal("employees", Register.ImportFile(csv).Table);
        Assert.Equal(55, Assert.Single(Register.GetEmployees(Other)).AverageHeadcount);
    }

    private void Import(string file, string csv)
    {
        RegisterImportResult result = Register.ImportCsv(Encoding.UTF8.GetBytes(csv), file);
        Assert.True(result.Succeeded, string.Join("\n", result.Errors));
    }
}
