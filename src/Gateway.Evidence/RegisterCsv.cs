using System.Globalization;
using System.Text;

namespace FactoryGateway.Evidence;

/// <summary>A table of the register's CSV form: one table per file, recognised by its header row.</summary>
public enum RegisterTable
{
    /// <summary><c>enterprises</c>: credit_code, name, region, industry, time_zone.</summary>
    Enterprises,

    /// <summary><c>employees</c>: enterprise, month, average_headcount.</summary>
    Employees,

    /// <summary><c>shift_weeks</c>: enterprise, mon … sun (replaces the enterprise's weekly pattern).</summary>
    ShiftWeeks,

    /// <summary><c>calendar_days</c>: enterprise, date, kind, shifts, note (upserted by date).</summary>
    CalendarDays,

    /// <summary><c>key_processes</c>: enterprise, process, key.</summary>
    KeyProcesses,

    /// <summary><c>devices</c>: enterprise, device and every device field.</summary>
    Devices,
}

/// <summary>
/// The register's CSV form (RFC 4180: comma separated, double-quoted fields with <c>""</c> escapes, UTF-8
/// with or without a BOM, LF or CRLF). The header row names the columns in any order; its columns tell the
/// table. Rows are numbered by the line they start on (the header is row 1).
/// </summary>
internal static class RegisterCsv
{
    /// <summary>The tables in the order their files are imported (an enterprise before its rows).</summary>
    public static readonly RegisterTable[] ImportOrder =
        [RegisterTable.Enterprises, RegisterTable.Employees, RegisterTable.ShiftWeeks, RegisterTable.CalendarDays, RegisterTable.KeyProcesses, RegisterTable.Devices];

    public static string TableName(RegisterTable table) => table switch
    {
        RegisterTable.Enterprises => "enterprises",
        RegisterTable.Employees => "employees",
        RegisterTable.ShiftWeeks => "shift_weeks",
        RegisterTable.CalendarDays => "calendar_days",
        RegisterTable.KeyProcesses => "key_processes",
        _ => "devices",
    };

    public static string[] Columns(RegisterTable table) => table switch
    {
        RegisterTable.Enterprises => RegisterBatch.EnterpriseFields,
        RegisterTable.Employees => [RegisterBatch.EnterpriseField, .. RegisterBatch.EmployeeFields],
        RegisterTable.ShiftWeeks => [RegisterBatch.EnterpriseField, .. RegisterBatch.WeekFields],
        RegisterTable.CalendarDays => [RegisterBatch.EnterpriseField, .. RegisterBatch.CalendarDayFields],
        RegisterTable.KeyProcesses => [RegisterBatch.EnterpriseField, .. RegisterBatch.KeyProcessFields],
        _ => [RegisterBatch.EnterpriseField, .. RegisterBatch.DeviceFields],
    };

    private static string[] RequiredColumns(RegisterTable table) => table switch
    {
        RegisterTable.Enterprises => ["credit_code", "name", "region"],
        RegisterTable.Employees => [RegisterBatch.EnterpriseField, "month", "average_headcount"],
        RegisterTable.ShiftWeeks => [RegisterBatch.EnterpriseField, .. RegisterBatch.WeekFields],
        RegisterTable.CalendarDays => [RegisterBatch.EnterpriseField, "date", "kind"],
        RegisterTable.KeyProcesses => [RegisterBatch.EnterpriseField, "process", "key"],
        _ => [RegisterBatch.EnterpriseField, "device", "class", "commissioned"],
    };

    /// <summary>Reads one CSV table; returns its table (null when the header names none) and the batch of its valid rows.</summary>
    public static (RegisterTable? Table, RegisterBatch Batch) Read(ReadOnlySpan<byte> utf8, string file, ErrorSink errors)
    {
        var batch = new RegisterBatch();
        if (utf8.StartsWith("\uFEFF"u8))
        {
            utf8 = utf8[3..];
        }

        if (FirstInvalidUtf8(utf8) is int invalid and >= 0)
        {
            errors.Add(new RegisterError { File = file, Line = LineAt(utf8, invalid), Column = "*", Reason = "the file is not UTF-8 text (an invalid byte sequence on this line)", IsCsv = true });
            return (null, batch);
        }

        string text = Encoding.UTF8.GetString(utf8);

        List<(int Line, List<string> Cells)> records = [];
        if (!TrySplit(text, records, out int badLine, out string reason))
        {
            errors.Add(new RegisterError { File = file, Line = badLine, Column = "*", Reason = reason, IsCsv = true });
            return (null, batch);
        }

        if (records.Count == 0)
        {
            errors.Add(new RegisterError { File = file, Line = 1, Column = "*", Reason = "the file is empty; the first row names the columns", IsCsv = true });
            return (null, batch);
        }

        List<string> header = records[0].Cells;
        RegisterTable? table = Recognise(header);
        if (table is null)
        {
            errors.Add(new RegisterError
            {
                File = file,
                Line = 1,
                Column = "*",
                Reason = "the header row matches no register table (enterprises has credit_code, employees average_headcount, shift_weeks mon, calendar_days kind, key_processes key, devices device)",
                IsCsv = true,
            });
            return (null, batch);
        }

        string[] columns = Columns(table.Value);
        string name = TableName(table.Value);
        bool headerOk = true;
        for (int i = 0; i < header.Count; i++)
        {
            if (Array.IndexOf(columns, header[i]) < 0)
            {
                errors.Add(new RegisterError { File = file, Line = 1, Column = header[i], Reason = $"is not a column of the {name} table (its columns: {string.Join(", ", columns)})", IsCsv = true });
                headerOk = false;
            }
            else if (header.IndexOf(header[i]) != i)
            {
                errors.Add(new RegisterError { File = file, Line = 1, Column = header[i], Reason = "the column is named twice", IsCsv = true });
                headerOk = false;
            }
        }

        foreach (string required in RequiredColumns(table.Value))
        {
            if (!header.Contains(required))
            {
                errors.Add(new RegisterError { File = file, Line = 1, Column = required, Reason = $"the {name} table needs this column", IsCsv = true });
                headerOk = false;
            }
        }

        if (!headerOk)
        {
            return (table, batch);
        }

        for (int r = 1; r < records.Count; r++)
        {
            (int line, List<string> cells) = records[r];
            if (cells.Count != header.Count)
            {
                errors.Add(new RegisterError { File = file, Line = line, Column = "*", Reason = $"the row has {cells.Count} cells; the header has {header.Count}", IsCsv = true });
                continue;
            }

            var source = new RecordSource(file, isCsv: true, line, "", field =>
            {
                int index = header.IndexOf(field);
                return index < 0 ? new RawValue(RawKind.Absent, "", 0) : new RawValue(RawKind.String, cells[index], 0);
            });
            ReadRow(table.Value, new FieldReader(source, errors), batch);
        }

        return (table, batch);
    }

    /// <summary>Writes <paramref name="table"/> of <paramref name="registers"/> as CSV (LF line ends, header first).</summary>
    public static byte[] Write(RegisterTable table, IReadOnlyList<EnterpriseRegister> registers)
    {
        var text = new StringBuilder();
        AppendRow(text, Columns(table));
        foreach (EnterpriseRegister register in registers.OrderBy(r => r.Enterprise.CreditCode, StringComparer.Ordinal))
        {
            string code = register.Enterprise.CreditCode;
            switch (table)
            {
                case RegisterTable.Enterprises:
                    Enterprise e = register.Enterprise;
                    AppendRow(text, [e.CreditCode, e.Name, e.Region, e.Industry ?? "", e.TimeZone]);
                    break;
                case RegisterTable.Employees:
                    foreach (EmployeeMonth m in register.Employees.OrderBy(m => m.Month, StringComparer.Ordinal))
                    {
                        AppendRow(text, [code, m.Month, m.AverageHeadcount.ToString(CultureInfo.InvariantCulture)]);
                    }

                    break;
                case RegisterTable.ShiftWeeks:
                    AppendRow(text, [code, .. RegisterBatch.Weekdays.Select(w => ShiftCalendar.FormatShifts(register.Calendar.WeekShifts(w.Day)))]);
                    break;
                case RegisterTable.CalendarDays:
                    foreach (CalendarDay d in register.Calendar.Days)
                    {
                        AppendRow(text, [code, d.Date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), d.Kind == CalendarDayKind.PlannedDowntime ? "planned_downtime" : "extra_production", ShiftCalendar.FormatShifts(d.Shifts), d.Note ?? ""]);
                    }

                    break;
                case RegisterTable.KeyProcesses:
                    foreach (KeyProcess p in register.KeyProcesses.OrderBy(p => p.Process, StringComparer.Ordinal))
                    {
                        AppendRow(text, [code, p.Process, Flag(p.IsKey)]);
                    }

                    break;
                default:
                    foreach (RegisteredDevice d in register.Devices.OrderBy(d => d.Device, StringComparer.Ordinal))
                    {
                        AppendRow(text,
                        [
                            code, d.Device, d.ProductInstanceUri ?? "", d.Manufacturer ?? "", d.Model ?? "", d.SerialNumber ?? "", DeviceClasses.Name(d.Class),
                            Flag(d.Production), Flag(d.Digital), Flag(d.Nc), Flag(d.KeyProcess), d.Process ?? "",
                            d.RobotAxes?.ToString(CultureInfo.InvariantCulture) ?? "", d.Commissioned.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                            d.Retired?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) ?? "", d.RetrofitProject ?? "",
                            d.PurchasePrice is decimal price ? RegisterJson.FormatPrice(price) : "", d.Invoice ?? "",
                            Flag(d.Leased), Flag(d.LocallyMade), Flag(d.FirstOfKind),
                            d.IdealCycleNanoseconds is long cycle ? RegisterJson.FormatSeconds(cycle) : "",
                        ]);
                    }

                    break;
            }
        }

        return Encoding.UTF8.GetBytes(text.ToString());
    }

    /// <summary>The offset of the first byte that is not well-formed UTF-8, or -1.</summary>
    internal static int FirstInvalidUtf8(ReadOnlySpan<byte> utf8)
    {
        if (System.Text.Unicode.Utf8.IsValid(utf8))
        {
            return -1;
        }

        int offset = 0;
        while (offset < utf8.Length && Rune.DecodeFromUtf8(utf8[offset..], out _, out int consumed) == System.Buffers.OperationStatus.Done)
        {
            offset += consumed;
        }

        return offset;
    }

    /// <summary>The 1-based line of byte <paramref name="offset"/>.</summary>
    internal static int LineAt(ReadOnlySpan<byte> utf8, int offset) => utf8[..offset].Count((byte)'\n') + 1;

    private static string Flag(bool value) => value ? "true" : "false";

    private static void ReadRow(RegisterTable table, FieldReader r, RegisterBatch batch)
    {
        if (table == RegisterTable.Enterprises)
        {
            string? mentioned = r.Source.Get("credit_code").Text;
            if (!string.IsNullOrEmpty(mentioned))
            {
                batch.Mention(mentioned, r.Source);
            }

            if (RegisterBatch.ReadEnterprise(r) is Enterprise enterprise)
            {
                batch.Enterprises.Add(new(enterprise.CreditCode, enterprise, r.Source));
            }

            return;
        }

        string code = r.Text(RegisterBatch.EnterpriseField, required: true) ?? "";
        switch (table)
        {
            case RegisterTable.Employees:
                if (RegisterBatch.ReadEmployeeMonth(r) is EmployeeMonth month && code.Length > 0)
                {
                    batch.Employees.Add(new(code, month, r.Source));
                }

                break;
            case RegisterTable.ShiftWeeks:
                if (RegisterBatch.ReadWeek(r) is { } week && code.Length > 0)
                {
                    batch.Weeks.Add(new(code, week, r.Source));
                }

                break;
            case RegisterTable.CalendarDays:
                if (RegisterBatch.ReadCalendarDay(r) is CalendarDay day && code.Length > 0)
                {
                    batch.Days.Add(new(code, day, r.Source));
                }

                break;
            case RegisterTable.KeyProcesses:
                if (RegisterBatch.ReadKeyProcess(r) is KeyProcess process && code.Length > 0)
                {
                    batch.KeyProcesses.Add(new(code, process, r.Source));
                }

                break;
            default:
                if (RegisterBatch.ReadDevice(r) is RegisteredDevice device && code.Length > 0)
                {
                    batch.Devices.Add(new(code, device, r.Source));
                }

                break;
        }
    }

    private static RegisterTable? Recognise(List<string> header) =>
        header.Contains("credit_code") ? RegisterTable.Enterprises
        : header.Contains("average_headcount") ? RegisterTable.Employees
        : header.Contains("mon") ? RegisterTable.ShiftWeeks
        : header.Contains("kind") ? RegisterTable.CalendarDays
        : header.Contains("key") ? RegisterTable.KeyProcesses
        : header.Contains("device") ? RegisterTable.Devices
        : null;

    /// <summary>Splits RFC 4180 text into records with the line each starts on; blank lines are skipped.</summary>
    private static bool TrySplit(string text, List<(int Line, List<string> Cells)> records, out int badLine, out string reason)
    {
        int line = 1;
        int i = 0;
        while (i < text.Length)
        {
            int start = line;
            var cells = new List<string>();
            var cell = new StringBuilder();
            bool endOfRecord = false;
            while (!endOfRecord)
            {
                if (i < text.Length && text[i] == '"')
                {
                    i++;
                    while (true)
                    {
                        if (i >= text.Length)
                        {
                            badLine = start;
                            reason = "a quoted field is not closed before the end of the file";
                            return false;
                        }

                        if (text[i] == '"')
                        {
                            if (i + 1 < text.Length && text[i + 1] == '"')
                            {
                                cell.Append('"');
                                i += 2;
                                continue;
                            }

                            i++;
                            break;
                        }

                        if (text[i] == '\n')
                        {
                            line++;
                        }

                        cell.Append(text[i++]);
                    }

                    if (i < text.Length && text[i] is not (',' or '\r' or '\n'))
                    {
                        badLine = line;
                        reason = "a quoted field is followed by text before the next comma (write \"\" for a quote inside quotes)";
                        return false;
                    }
                }
                else
                {
                    while (i < text.Length && text[i] is not (',' or '\r' or '\n'))
                    {
                        if (text[i] == '"')
                        {
                            badLine = line;
                            reason = "a quote inside an unquoted field (quote the whole field and double the quote)";
                            return false;
                        }

                        cell.Append(text[i++]);
                    }
                }

                cells.Add(cell.ToString());
                cell.Clear();
                if (i < text.Length && text[i] == ',')
                {
                    i++;
                    continue;
                }

                if (i < text.Length && text[i] == '\r')
                {
                    i++;
                }

                if (i < text.Length && text[i] == '\n')
                {
                    i++;
                    line++;
                }

                endOfRecord = true;
            }

            if (!(cells.Count == 1 && cells[0].Length == 0))
            {
                records.Add((start, cells));
            }
        }

        badLine = 0;
        reason = string.Empty;
        return true;
    }

    private static void AppendRow(StringBuilder text, IEnumerable<string> cells)
    {
        bool first = true;
        foreach (string cell in cells)
        {
            if (!first)
            {
                text.Append(',');
            }

            first = false;
            if (cell.AsSpan().IndexOfAny(",\"\r\n") >= 0 || (cell.Length > 0 && (cell[0] == ' ' || cell[^1] == ' ')))
            {
                text.Append('"').Append(cell.Replace("\"", "\"\"", StringComparison.Ordinal)).Append('"');
            }
            else
            {
                text.Append(cell);
            }
        }

        text.Append('\n');
    }
}
