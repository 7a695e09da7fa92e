using System.Buffers;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace FactoryGateway.Evidence;

/// <summary>
/// The register's JSON document (docs/register.md): <c>{"format": "fgw-register/1", "enterprises": [...]}</c>
/// with each enterprise's employees, calendar, key processes and devices nested. Reads it into a
/// <see cref="RegisterBatch"/> with the line of every value; writes it (export) and its compact canonical
/// form (snapshots).
/// </summary>
internal static class RegisterJson
{
    public const string DocumentFormat = "fgw-register/1";
    public const string SnapshotFormat = "fgw-register-snapshot/1";

    private static readonly string[] s_enterpriseNested = ["employees", "calendar", "key_processes", "devices"];

    /// <summary>Reads a register document (or a snapshot's canonical bytes); errors go to <paramref name="errors"/>.</summary>
    public static RegisterBatch Read(ReadOnlySpan<byte> utf8, string file, ErrorSink errors, bool snapshot = false)
    {
        var batch = new RegisterBatch();
        Node? root = Parse(utf8, file, errors);
        if (root is null)
        {
            return batch;
        }

        var top = new FieldReader(Source(root, file, ""), errors);
        if (root.Kind != RawKind.Composite || root.Props is null)
        {
            top.Fail("", "a register document is a JSON object {\"format\": \"fgw-register/1\", \"enterprises\": [...]}");
            return batch;
        }

        string expected = snapshot ? SnapshotFormat : DocumentFormat;
        string? format = top.Text("format", required: true);
        if (format is not null && format != expected)
        {
            top.Fail("format", $"{RegisterRules.Show(format)} is not this register format (\"{expected}\")");
        }

        CheckFields(top, root, snapshot ? ["format", "scope", "window", "enterprises"] : ["format", "enterprises"], "the document");
        foreach ((Node item, string path) in Items(top, root, "enterprises", "enterprises"))
        {
            ReadEnterprise(item, path, file, batch, errors);
        }

        return batch;
    }

    /// <summary>Writes the register document of <paramref name="registers"/> (export), indented.</summary>
    public static byte[] WriteDocument(IReadOnlyList<EnterpriseRegister> registers)
    {
        var buffer = new ArrayBufferWriter<byte>();
        var options = new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
        using (var writer = new Utf8JsonWriter(buffer, options))
        {
            writer.WriteStartObject();
            writer.WriteString("format", DocumentFormat);
            WriteEnterprises(writer, registers);
            writer.WriteEndObject();
        }

        buffer.Write("\n"u8);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>
    /// The canonical bytes of a snapshot: compact JSON, fixed field order, every field written (null when
    /// absent), lists in key order, non-ASCII escaped (<c>\uXXXX</c>), so the same register gives the same bytes.
    /// </summary>
    public static byte[] WriteCanonical(string scope, string window, IReadOnlyList<EnterpriseRegister> registers)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = false, Encoder = JavaScriptEncoder.Default }))
        {
            writer.WriteStartObject();
            writer.WriteString("format", SnapshotFormat);
            writer.WriteString("scope", scope);
            writer.WriteString("window", window);
            WriteEnterprises(writer, registers);
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Assembles the enterprises of a JSON batch (nested records carry their enterprise).</summary>
    public static IReadOnlyList<EnterpriseRegister> Assemble(RegisterBatch batch) =>
    [
        .. batch.Enterprises.Select(e => new EnterpriseRegister
        {
            Enterprise = e.Value,
            Employees = [.. batch.Employees.Where(m => m.Enterprise == e.Enterprise).Select(m => m.Value)],
            Calendar = batch.Calendars.FirstOrDefault(c => c.Enterprise == e.Enterprise)?.Value ?? ShiftCalendar.Default,
            KeyProcesses = [.. batch.KeyProcesses.Where(p => p.Enterprise == e.Enterprise).Select(p => p.Value)],
            Devices = [.. batch.Devices.Where(d => d.Enterprise == e.Enterprise).Select(d => d.Value)],
        }),
    ];

    public static string FormatPrice(decimal price) => price.ToString("0.00", CultureInfo.InvariantCulture);

    public static string FormatSeconds(long nanoseconds)
    {
        string whole = (nanoseconds / 1_000_000_000).ToString(CultureInfo.InvariantCulture);
        string fraction = (nanoseconds % 1_000_000_000).ToString("D9", CultureInfo.InvariantCulture).TrimEnd('0');
        return fraction.Length == 0 ? whole : $"{whole}.{fraction}";
    }

    private static void ReadEnterprise(Node node, string path, string file, RegisterBatch batch, ErrorSink errors)
    {
        var r = new FieldReader(Source(node, file, path), errors);
        if (!IsObject(r, node, "an enterprise"))
        {
            return;
        }

        CheckFields(r, node, [.. RegisterBatch.EnterpriseFields, .. s_enterpriseNested], "an enterprise");
        Enterprise? enterprise = RegisterBatch.ReadEnterprise(r);
        string? code = node.Get("credit_code") is { Kind: RawKind.String } c ? c.Text : null;
        if (code is not null)
        {
            batch.Mention(code, r.Source);
        }

        if (enterprise is not null)
        {
            batch.Enterprises.Add(new(enterprise.CreditCode, enterprise, r.Source));
        }

        code ??= "";
        foreach ((Node item, string itemPath) in Items(r, node, "employees", $"{path}.employees"))
        {
            var ir = new FieldReader(Source(item, file, itemPath), errors);
            if (IsObject(ir, item, "an employee month"))
            {
                CheckFields(ir, item, RegisterBatch.EmployeeFields, "an employee month");
                if (RegisterBatch.ReadEmployeeMonth(ir) is EmployeeMonth month)
                {
                    batch.Employees.Add(new(code, month, ir.Source));
                }
            }
        }

        ReadCalendar(r, node, path, file, code, batch, errors);

        foreach ((Node item, string itemPath) in Items(r, node, "key_processes", $"{path}.key_processes"))
        {
            var ir = new FieldReader(Source(item, file, itemPath), errors);
            if (IsObject(ir, item, "a key process"))
            {
                CheckFields(ir, item, RegisterBatch.KeyProcessFields, "a key process");
                if (RegisterBatch.ReadKeyProcess(ir) is KeyProcess process)
                {
                    batch.KeyProcesses.Add(new(code, process, ir.Source));
                }
            }
        }

        foreach ((Node item, string itemPath) in Items(r, node, "devices", $"{path}.devices"))
        {
            var ir = new FieldReader(Source(item, file, itemPath), errors);
            if (IsObject(ir, item, "a device"))
            {
                CheckFields(ir, item, RegisterBatch.DeviceFields, "a device");
                if (RegisterBatch.ReadDevice(ir) is RegisteredDevice device)
                {
                    batch.Devices.Add(new(code, device, ir.Source));
                }
            }
        }
    }

    private static void ReadCalendar(FieldReader r, Node enterprise, string path, string file, string code, RegisterBatch batch, ErrorSink errors)
    {
        Node? calendar = enterprise.Find("calendar");
        if (calendar is null || calendar.Kind == RawKind.Null)
        {
            return;
        }

        var cr = new FieldReader(Source(calendar, file, $"{path}.calendar"), errors);
        if (!IsObject(cr, calendar, "a calendar"))
        {
            r.Fail("calendar", "must be an object {\"week\": {...}, \"days\": [...]}");
            return;
        }

        CheckFields(cr, calendar, ["week", "days"], "a calendar");
        IReadOnlyDictionary<DayOfWeek, IReadOnlyList<ShiftSpan>>? week = ShiftCalendar.DefaultWeek;
        Node? weekNode = calendar.Find("week");
        if (weekNode is not null && weekNode.Kind != RawKind.Null)
        {
            var wr = new FieldReader(Source(weekNode, file, $"{path}.calendar.week"), errors);
            if (IsObject(wr, weekNode, "a week"))
            {
                CheckFields(wr, weekNode, RegisterBatch.WeekFields, "a week");
                week = RegisterBatch.ReadWeek(wr);
            }
            else
            {
                week = null;
            }
        }

        var days = new List<CalendarDay>();
        var lines = new Dictionary<DateOnly, int>();
        bool failed = cr.Failed || week is null;
        foreach ((Node item, string itemPath) in Items(cr, calendar, "days", $"{path}.calendar.days"))
        {
            var ir = new FieldReader(Source(item, file, itemPath), errors);
            if (!IsObject(ir, item, "a calendar day"))
            {
                failed = true;
                continue;
            }

            CheckFields(ir, item, RegisterBatch.CalendarDayFields, "a calendar day");
            CalendarDay? day = RegisterBatch.ReadCalendarDay(ir);
            if (day is null)
            {
                failed = true;
            }
            else if (lines.TryGetValue(day.Date, out int first))
            {
                ir.Fail("date", $"{day.Date:yyyy-MM-dd} is already given on line {first}");
                failed = true;
            }
            else
            {
                lines[day.Date] = ir.Source.Line;
                days.Add(day);
            }
        }

        if (!failed && week is not null)
        {
            batch.Calendars.Add(new(code, new ShiftCalendar(week, days), cr.Source));
        }
    }

    private static void WriteEnterprises(Utf8JsonWriter writer, IReadOnlyList<EnterpriseRegister> registers)
    {
        writer.WriteStartArray("enterprises");
        foreach (EnterpriseRegister register in registers.OrderBy(r => r.Enterprise.CreditCode, StringComparer.Ordinal))
        {
            Enterprise e = register.Enterprise;
            writer.WriteStartObject();
            writer.WriteString("credit_code", e.CreditCode);
            writer.WriteString("name", e.Name);
            writer.WriteString("region", e.Region);
            WriteNullable(writer, "industry", e.Industry);
            writer.WriteString("time_zone", e.TimeZone);

            writer.WriteStartArray("employees");
            foreach (EmployeeMonth month in register.Employees.OrderBy(m => m.Month, StringComparer.Ordinal))
            {
                writer.WriteStartObject();
                writer.WriteString("month", month.Month);
                writer.WriteNumber("average_headcount", month.AverageHeadcount);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();

            writer.WriteStartObject("calendar");
            writer.WriteStartObject("week");
            foreach ((string field, DayOfWeek day) in RegisterBatch.Weekdays)
            {
                writer.WriteString(field, ShiftCalendar.FormatShifts(register.Calendar.WeekShifts(day)));
            }

            writer.WriteEndObject();
            writer.WriteStartArray("days");
            foreach (CalendarDay day in register.Calendar.Days)
            {
                writer.WriteStartObject();
                writer.WriteString("date", day.Date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
                writer.WriteString("kind", day.Kind == CalendarDayKind.PlannedDowntime ? "planned_downtime" : "extra_production");
                writer.WriteString("shifts", ShiftCalendar.FormatShifts(day.Shifts));
                WriteNullable(writer, "note", day.Note);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteEndObject();

            writer.WriteStartArray("key_processes");
            foreach (KeyProcess process in register.KeyProcesses.OrderBy(p => p.Process, StringComparer.Ordinal))
            {
                writer.WriteStartObject();
                writer.WriteString("process", process.Process);
                writer.WriteBoolean("key", process.IsKey);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();

            writer.WriteStartArray("devices");
            foreach (RegisteredDevice d in register.Devices.OrderBy(d => d.Device, StringComparer.Ordinal))
            {
                WriteDevice(writer, d);
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
    }

    private static void WriteDevice(Utf8JsonWriter writer, RegisteredDevice d)
    {
        writer.WriteStartObject();
        writer.WriteString("device", d.Device);
        WriteNullable(writer, "product_instance_uri", d.ProductInstanceUri);
        WriteNullable(writer, "manufacturer", d.Manufacturer);
        WriteNullable(writer, "model", d.Model);
        WriteNullable(writer, "serial_number", d.SerialNumber);
        writer.WriteString("class", DeviceClasses.Name(d.Class));
        writer.WriteBoolean("production", d.Production);
        writer.WriteBoolean("digital", d.Digital);
        writer.WriteBoolean("nc", d.Nc);
        writer.WriteBoolean("key_process", d.KeyProcess);
        WriteNullable(writer, "process", d.Process);
        if (d.RobotAxes is int axes)
        {
            writer.WriteNumber("robot_axes", axes);
        }
        else
        {
            writer.WriteNull("robot_axes");
        }

        writer.WriteString("commissioned", d.Commissioned.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
        WriteNullable(writer, "retired", d.Retired?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
        WriteNullable(writer, "retrofit_project", d.RetrofitProject);
        WriteNullable(writer, "purchase_price", d.PurchasePrice is decimal price ? FormatPrice(price) : null);
        WriteNullable(writer, "invoice", d.Invoice);
        writer.WriteBoolean("leased", d.Leased);
        writer.WriteBoolean("locally_made", d.LocallyMade);
        writer.WriteBoolean("first_of_kind", d.FirstOfKind);
        WriteNullable(writer, "ideal_cycle_s", d.IdealCycleNanoseconds is long cycle ? FormatSeconds(cycle) : null);
        writer.WriteEndObject();
    }

    private static void WriteNullable(Utf8JsonWriter writer, string name, string? value)
    {
        if (value is null)
        {
            writer.WriteNull(name);
        }
        else
        {
            writer.WriteString(name, value);
        }
    }

    private static RecordSource Source(Node node, string file, string path) =>
        new(file, isCsv: false, node.Line, path, field => node.Get(field));

    private static bool IsObject(FieldReader r, Node node, string what)
    {
        if (node.Kind == RawKind.Composite && node.Props is not null)
        {
            return true;
        }

        r.Fail("", $"{what} must be a JSON object");
        return false;
    }

    private static void CheckFields(FieldReader r, Node node, string[] known, string what)
    {
        foreach ((string name, Node _) in node.Props ?? [])
        {
            if (Array.IndexOf(known, name) < 0)
            {
                r.Fail(name, $"is not a field of {what} (its fields: {string.Join(", ", known)})");
            }
        }
    }

    private static IEnumerable<(Node Item, string Path)> Items(FieldReader r, Node parent, string field, string path)
    {
        Node? array = parent.Find(field);
        if (array is null || array.Kind == RawKind.Null)
        {
            yield break;
        }

        if (array.Items is null)
        {
            r.Fail(field, "must be a JSON array");
            yield break;
        }

        for (int i = 0; i < array.Items.Count; i++)
        {
            yield return (array.Items[i], string.Create(CultureInfo.InvariantCulture, $"{path}[{i}]"));
        }
    }

    private static Node? Parse(ReadOnlySpan<byte> utf8, string file, ErrorSink errors)
    {
        if (utf8.StartsWith("\uFEFF"u8))
        {
            utf8 = utf8[3..];
        }

        if (RegisterCsv.FirstInvalidUtf8(utf8) is int invalid and >= 0)
        {
            errors.Add(new RegisterError { File = file, Line = RegisterCsv.LineAt(utf8, invalid), Column = "$", Reason = "the file is not UTF-8 text (an invalid byte sequence on this line)", IsCsv = false });
            return null;
        }

        var newlines = new List<int>();
        for (int i = utf8.IndexOf((byte)'\n'); i >= 0;)
        {
            newlines.Add(i);
            int next = utf8[(i + 1)..].IndexOf((byte)'\n');
            i = next < 0 ? -1 : i + 1 + next;
        }

        var reader = new Utf8JsonReader(utf8, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow, MaxDepth = 16 });
        try
        {
            if (!reader.Read())
            {
                errors.Add(new RegisterError { File = file, Line = 1, Column = "$", Reason = "the file is empty", IsCsv = false });
                return null;
            }

            Node root = ReadNode(ref reader, newlines, file, errors);
            if (reader.Read())
            {
                throw new JsonException("there is more after the document's closing brace", null, LineOf(newlines, reader.TokenStartIndex) - 1, null);
            }

            return root;
        }
        catch (JsonException error)
        {
            long line = (error.LineNumber ?? 0) + 1;
            errors.Add(new RegisterError
            {
                File = file,
                Line = (int)Math.Min(line, int.MaxValue),
                Column = "$",
                Reason = $"not valid JSON: {error.Message}",
                IsCsv = false,
            });
            return null;
        }
    }

    private static Node ReadNode(ref Utf8JsonReader reader, List<int> newlines, string file, ErrorSink errors)
    {
        int line = LineOf(newlines, reader.TokenStartIndex);
        switch (reader.TokenType)
        {
            case JsonTokenType.StartObject:
                var props = new List<(string, Node)>();
                var node = new Node(RawKind.Composite, "", line, props, null);
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    string name = reader.GetString()!;
                    int nameLine = LineOf(newlines, reader.TokenStartIndex);
                    reader.Read();
                    Node value = ReadNode(ref reader, newlines, file, errors);
                    if (node.Find(name) is not null)
                    {
                        errors.Add(new RegisterError { File = file, Line = nameLine, Column = name, Reason = "the field is given twice in one object", IsCsv = false });
                        continue;
                    }

                    props.Add((name, value));
                }

                return node;
            case JsonTokenType.StartArray:
                var items = new List<Node>();
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    items.Add(ReadNode(ref reader, newlines, file, errors));
                }

                return new Node(RawKind.Composite, "", line, null, items);
            case JsonTokenType.String:
                return new Node(RawKind.String, reader.GetString()!, line, null, null);
            case JsonTokenType.Number:
                return new Node(RawKind.Number, System.Text.Encoding.UTF8.GetString(reader.ValueSpan), line, null, null);
            case JsonTokenType.True:
                return new Node(RawKind.Bool, "true", line, null, null);
            case JsonTokenType.False:
                return new Node(RawKind.Bool, "false", line, null, null);
            default:
                return new Node(RawKind.Null, "", line, null, null);
        }
    }

    private static int LineOf(List<int> newlines, long offset)
    {
        int index = newlines.BinarySearch((int)offset);
        return (index < 0 ? ~index : index) + 1;
    }

    /// <summary>A parsed JSON value with the line it starts on.</summary>
    private sealed record Node(RawKind Kind, string Text, int Line, List<(string Name, Node Value)>? Props, List<Node>? Items)
    {
        public Node? Find(string name)
        {
            foreach ((string n, Node value) in Props ?? [])
            {
                if (n == name)
                {
                    return value;
                }
            }

            return null;
        }

        public RawValue Get(string name) => Find(name) is Node value ? new RawValue(value.Kind, value.Text, value.Line) : new RawValue(RawKind.Absent, "", 0);
    }
}
