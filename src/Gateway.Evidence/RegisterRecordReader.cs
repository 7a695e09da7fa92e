using System.Globalization;

namespace FactoryGateway.Evidence;

/// <summary>What a field holds in the file: absent, JSON null, a string (every CSV cell), a number, a boolean, or an object/array.</summary>
internal enum RawKind
{
    Absent,
    Null,
    String,
    Number,
    Bool,
    Composite,
}

/// <summary>A field's value as written, and the line it is on (0 = the record's line).</summary>
internal readonly record struct RawValue(RawKind Kind, string Text, int Line);

/// <summary>
/// One record of a register file (a CSV row or a JSON object): its fields by name and where it is, so that
/// an error names file, row/line and column/path.
/// </summary>
internal sealed class RecordSource
{
    private readonly Func<string, RawValue> _get;

    public RecordSource(string file, bool isCsv, int line, string path, Func<string, RawValue> get)
    {
        File = file;
        IsCsv = isCsv;
        Line = line;
        Path = path;
        _get = get;
    }

    public string File { get; }

    public bool IsCsv { get; }

    public int Line { get; }

    /// <summary>The JSON path of the record (<c>enterprises[0].devices[3]</c>); empty for CSV.</summary>
    public string Path { get; }

    public RawValue Get(string field) => _get(field);

    public RegisterError Error(string field, string reason)
    {
        int line = Line;
        if (!IsCsv && field.Length > 0)
        {
            RawValue value = _get(field);
            line = value.Line > 0 ? value.Line : Line;
        }

        return new RegisterError
        {
            File = File,
            Line = line,
            Column = IsCsv ? (field.Length == 0 ? "*" : field) : (field.Length == 0 ? (Path.Length == 0 ? "$" : Path) : (Path.Length == 0 ? field : $"{Path}.{field}")),
            Reason = reason,
            IsCsv = IsCsv,
        };
    }
}

/// <summary>
/// Reads typed fields of one <see cref="RecordSource"/>, recording an error per bad field (so every error of
/// a file is listed) and the record as failed. JSON fields must have their JSON type (a flag is
/// <c>true</c>/<c>false</c>, a count a number); CSV cells are text, with the same spellings.
/// </summary>
internal sealed class FieldReader
{
    private readonly ErrorSink _errors;

    public FieldReader(RecordSource source, ErrorSink errors)
    {
        Source = source;
        _errors = errors;
    }

    public RecordSource Source { get; }

    /// <summary>True when a field of this record was rejected.</summary>
    public bool Failed { get; private set; }

    public void Fail(string field, string reason)
    {
        Failed = true;
        _errors.Add(Source.Error(field, reason));
    }

    public void Check(IEnumerable<(string Field, string Reason)> broken)
    {
        foreach ((string field, string reason) in broken)
        {
            Fail(field, reason);
        }
    }

    /// <summary>A text field; null when absent, JSON null or empty.</summary>
    public string? Text(string field, bool required = false)
    {
        RawValue value = Source.Get(field);
        switch (value.Kind)
        {
            case RawKind.Absent or RawKind.Null:
                break;
            case RawKind.String when value.Text.Length == 0:
                // An empty string is "not given", in JSON as in CSV, so both forms round-trip to the same register.
                break;
            case RawKind.String:
                return value.Text;
            default:
                Fail(field, $"must be a string, not {Describe(value)}");
                return null;
        }

        if (required)
        {
            Fail(field, "is required");
        }

        return null;
    }

    public bool Flag(string field)
    {
        RawValue value = Source.Get(field);
        switch (value.Kind)
        {
            case RawKind.Absent or RawKind.Null:
                return false;
            case RawKind.Bool:
                return value.Text == "true";
            case RawKind.String when Source.IsCsv:
                if (value.Text is "true" or "false" or "")
                {
                    return value.Text == "true";
                }

                Fail(field, $"{RegisterRules.Show(value.Text)} is not a flag (true or false)");
                return false;
            default:
                Fail(field, $"must be true or false, not {Describe(value)}");
                return false;
        }
    }

    /// <summary>A non-negative integer (a CSV cell of digits, or a JSON integer).</summary>
    public int? Integer(string field, bool required, bool positive)
    {
        string? text = NumberText(field, required);
        if (text is null)
        {
            return null;
        }

        if (text.Length > 0 && text.Length <= 9 && text.AsSpan().IndexOfAnyExceptInRange('0', '9') < 0)
        {
            int number = int.Parse(text, NumberStyles.None, CultureInfo.InvariantCulture);
            if (!positive || number > 0)
            {
                return number;
            }
        }

        Fail(field, $"{RegisterRules.Show(text)} is not a {(positive ? "positive" : "non-negative")} integer");
        return null;
    }

    public DateOnly? Date(string field, bool required)
    {
        string? text = Text(field, required);
        if (text is null)
        {
            return null;
        }

        if (text.Length == 10 && DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out DateOnly date))
        {
            return date;
        }

        Fail(field, $"{RegisterRules.Show(text)} is not a date (YYYY-MM-DD)");
        return null;
    }

    public string? Month(string field)
    {
        string? text = Text(field, required: true);
        if (text is not null && !RegisterRules.IsMonth(text))
        {
            Fail(field, $"{RegisterRules.Show(text)} is not a month (YYYY-MM)");
            return null;
        }

        return text;
    }

    /// <summary>A decimal CNY amount with at most 2 decimals (<c>1250000.00</c>), read exactly (no floating point).</summary>
    public decimal? Price(string field)
    {
        string? text = NumberText(field, required: false);
        if (text is null)
        {
            return null;
        }

        if (!TrySplitDecimal(text, 13, 2, out string whole, out string fraction))
        {
            Fail(field, $"{RegisterRules.Show(text)} is not an amount in CNY (digits with at most 2 decimals, e.g. 1250000.00)");
            return null;
        }

        return decimal.Parse(fraction.Length == 0 ? whole : $"{whole}.{fraction}", NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture);
    }

    /// <summary>A positive number of seconds with at most 9 decimals, as integer nanoseconds.</summary>
    public long? Seconds(string field)
    {
        string? text = NumberText(field, required: false);
        if (text is null)
        {
            return null;
        }

        if (!TrySplitDecimal(text, 9, 9, out string whole, out string fraction))
        {
            Fail(field, $"{RegisterRules.Show(text)} is not a duration in seconds (digits with at most 9 decimals, e.g. 42.5)");
            return null;
        }

        long nanoseconds = (long.Parse(whole, NumberStyles.None, CultureInfo.InvariantCulture) * 1_000_000_000)
            + (fraction.Length == 0 ? 0 : long.Parse(fraction.PadRight(9, '0'), NumberStyles.None, CultureInfo.InvariantCulture));
        return nanoseconds;
    }

    public DeviceClass? Class(string field)
    {
        string? text = Text(field, required: true);
        if (text is null)
        {
            return null;
        }

        if (DeviceClasses.TryParse(text, out DeviceClass deviceClass))
        {
            return deviceClass;
        }

        Fail(field, $"{RegisterRules.Show(text)} is not a device class ({DeviceClasses.Names})");
        return null;
    }

    public CalendarDayKind? DayKind(string field)
    {
        string? text = Text(field, required: true);
        switch (text)
        {
            case null:
                return null;
            case "planned_downtime":
                return CalendarDayKind.PlannedDowntime;
            case "extra_production":
                return CalendarDayKind.ExtraProduction;
            default:
                Fail(field, $"{RegisterRules.Show(text)} is not a calendar day kind (planned_downtime, extra_production)");
                return null;
        }
    }

    /// <summary>
    /// Shifts written <c>08:00-20:00</c> (several separated by commas); a JSON empty string is no shift; null
    /// when absent, JSON null or an empty CSV cell (the caller's default applies).
    /// </summary>
    public IReadOnlyList<ShiftSpan>? Shifts(string field)
    {
        RawValue value = Source.Get(field);
        if (value.Kind is RawKind.Absent or RawKind.Null || (Source.IsCsv && value.Text.Length == 0))
        {
            return null;
        }

        if (value.Kind != RawKind.String)
        {
            Fail(field, $"must be a string of shifts like \"08:00-20:00\", not {Describe(value)}");
            return null;
        }

        if (ShiftCalendar.TryParseShifts(value.Text, out IReadOnlyList<ShiftSpan>? shifts, out string reason))
        {
            return shifts;
        }

        Fail(field, reason);
        return null;
    }

    private static bool TrySplitDecimal(string text, int maxWhole, int maxFraction, out string whole, out string fraction)
    {
        int dot = text.IndexOf('.', StringComparison.Ordinal);
        whole = dot < 0 ? text : text[..dot];
        fraction = dot < 0 ? "" : text[(dot + 1)..];
        return whole.Length is > 0 && whole.Length <= maxWhole && whole.AsSpan().IndexOfAnyExceptInRange('0', '9') < 0
            && (dot < 0 || (fraction.Length is > 0 && fraction.Length <= maxFraction && fraction.AsSpan().IndexOfAnyExceptInRange('0', '9') < 0));
    }

    private string? NumberText(string field, bool required)
    {
        RawValue value = Source.Get(field);
        switch (value.Kind)
        {
            case RawKind.Absent or RawKind.Null:
            case RawKind.String when value.Text.Length == 0 && Source.IsCsv:
                if (required)
                {
                    Fail(field, "is required");
                }

                return null;
            case RawKind.Number:
            case RawKind.String:
                // A JSON number is taken as its literal text, so nothing is rounded through a double.
                return value.Text;
            default:
                Fail(field, $"must be a number, not {Describe(value)}");
                return null;
        }
    }

    private static string Describe(RawValue value) => value.Kind switch
    {
        RawKind.String => $"the string {RegisterRules.Show(value.Text)}",
        RawKind.Number => $"the number {value.Text}",
        RawKind.Bool => value.Text,
        _ => "an object or array",
    };
}

/// <summary>The errors of one import, counted in full and kept up to a cap.</summary>
internal sealed class ErrorSink
{
    private readonly List<RegisterError> _errors = [];

    public ErrorSink(int capacity)
    {
        Capacity = capacity;
    }

    public int Capacity { get; }

    public int Count { get; private set; }

    public IReadOnlyList<RegisterError> Errors => _errors;

    public void Add(RegisterError error)
    {
        Count++;
        if (_errors.Count < Capacity)
        {
            _errors.Add(error);
        }
    }
}
