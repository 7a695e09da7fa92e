namespace FactoryGateway.Evidence;

/// <summary>A record of a batch with the enterprise it belongs to and where it came from.</summary>
internal sealed record BatchItem<T>(string Enterprise, T Value, RecordSource Source);

/// <summary>
/// Everything one file (or one typed API call) writes to the register, validated as a whole before anything
/// is written, then written in one transaction.
/// </summary>
internal sealed class RegisterBatch
{
    public const string EnterpriseField = "enterprise";

    public List<BatchItem<Enterprise>> Enterprises { get; } = [];

    public List<BatchItem<EmployeeMonth>> Employees { get; } = [];

    /// <summary>Whole calendars (JSON): the enterprise's week and every override are replaced.</summary>
    public List<BatchItem<ShiftCalendar>> Calendars { get; } = [];

    /// <summary>Weekly patterns (CSV <c>shift_weeks</c>): the week is replaced, the overrides are kept.</summary>
    public List<BatchItem<IReadOnlyDictionary<DayOfWeek, IReadOnlyList<ShiftSpan>>>> Weeks { get; } = [];

    /// <summary>Calendar overrides (CSV <c>calendar_days</c>), upserted by date.</summary>
    public List<BatchItem<CalendarDay>> Days { get; } = [];

    public List<BatchItem<KeyProcess>> KeyProcesses { get; } = [];

    public List<BatchItem<RegisteredDevice>> Devices { get; } = [];

    /// <summary>The credit codes of enterprise records in the file, including rejected ones (so their other rows are not also reported as of an unknown enterprise).</summary>
    public HashSet<string> MentionedEnterprises { get; } = new(StringComparer.Ordinal);

    /// <summary>Every enterprise record of the file with its credit code as written, valid or not (for the duplicate check).</summary>
    public List<BatchItem<string>> EnterpriseRecords { get; } = [];

    public void Mention(string code, RecordSource source)
    {
        MentionedEnterprises.Add(code);
        EnterpriseRecords.Add(new(code, code, source));
    }

    /// <summary>Reads the fields of an enterprise record (without its nested parts).</summary>
    public static Enterprise? ReadEnterprise(FieldReader r)
    {
        string? code = r.Text("credit_code", required: true);
        string? name = r.Text("name", required: true);
        string? region = r.Text("region", required: true);
        string? industry = r.Text("industry");
        string timeZone = r.Text("time_zone") ?? TimeZones.Default;
        if (code is null || name is null || region is null)
        {
            return null;
        }

        var enterprise = new Enterprise { CreditCode = code, Name = name, Region = region, Industry = industry, TimeZone = timeZone };
        r.Check(RegisterRules.Check(enterprise));
        return r.Failed ? null : enterprise;
    }

    public static EmployeeMonth? ReadEmployeeMonth(FieldReader r)
    {
        string? month = r.Month("month");
        int? headcount = r.Integer("average_headcount", required: true, positive: false);
        return r.Failed || month is null || headcount is null ? null : new EmployeeMonth { Month = month, AverageHeadcount = headcount.Value };
    }

    public static KeyProcess? ReadKeyProcess(FieldReader r)
    {
        string? process = r.Text("process", required: true);
        bool key = r.Flag("key");
        if (process is null)
        {
            return null;
        }

        var keyProcess = new KeyProcess { Process = process, IsKey = key };
        r.Check(RegisterRules.Check(keyProcess));
        return r.Failed ? null : keyProcess;
    }

    public static CalendarDay? ReadCalendarDay(FieldReader r)
    {
        DateOnly? date = r.Date("date", required: true);
        CalendarDayKind? kind = r.DayKind("kind");
        IReadOnlyList<ShiftSpan>? shifts = r.Shifts("shifts");
        string? note = r.Text("note");
        r.Check(RegisterRules.CheckText("note", note, required: false));
        if (r.Failed || date is null || kind is null)
        {
            return null;
        }

        // An extra production day without shifts works the default shift (spec §1: 08:00–20:00).
        shifts ??= kind == CalendarDayKind.ExtraProduction ? [ShiftCalendar.DefaultShift] : [];
        var day = new CalendarDay { Date = date.Value, Kind = kind.Value, Shifts = shifts, Note = note };
        if (!ShiftCalendar.TryCheckDay(day, out string reason))
        {
            r.Fail("shifts", reason);
            return null;
        }

        return day;
    }

    /// <summary>Reads the weekday fields <c>mon</c> … <c>sun</c>; an absent or empty weekday has no shift.</summary>
    public static IReadOnlyDictionary<DayOfWeek, IReadOnlyList<ShiftSpan>>? ReadWeek(FieldReader r)
    {
        var week = new Dictionary<DayOfWeek, IReadOnlyList<ShiftSpan>>();
        foreach ((string field, DayOfWeek day) in Weekdays)
        {
            week[day] = r.Shifts(field) ?? [];
        }

        return r.Failed ? null : week;
    }

    public static RegisteredDevice? ReadDevice(FieldReader r)
    {
        string? device = r.Text("device", required: true);
        string? uri = r.Text("product_instance_uri");
        string? manufacturer = r.Text("manufacturer");
        string? model = r.Text("model");
        string? serial = r.Text("serial_number");
        DeviceClass? deviceClass = r.Class("class");
        bool production = r.Flag("production");
        bool digital = r.Flag("digital");
        bool nc = r.Flag("nc");
        bool keyProcess = r.Flag("key_process");
        string? process = r.Text("process");
        int? axes = r.Integer("robot_axes", required: false, positive: true);
        DateOnly? commissioned = r.Date("commissioned", required: true);
        DateOnly? retired = r.Date("retired", required: false);
        string? retrofit = r.Text("retrofit_project");
        decimal? price = r.Price("purchase_price");
        string? invoice = r.Text("invoice");
        bool leased = r.Flag("leased");
        bool locallyMade = r.Flag("locally_made");
        bool firstOfKind = r.Flag("first_of_kind");
        long? idealCycle = r.Seconds("ideal_cycle_s");
        if (device is null || deviceClass is null || commissioned is null)
        {
            return null;
        }

        var registered = new RegisteredDevice
        {
            Device = device,
            ProductInstanceUri = uri,
            Manufacturer = manufacturer,
            Model = model,
            SerialNumber = serial,
            Class = deviceClass.Value,
            Production = production,
            Digital = digital,
            Nc = nc,
            KeyProcess = keyProcess,
            Process = process,
            RobotAxes = axes,
            Commissioned = commissioned.Value,
            Retired = retired,
            RetrofitProject = retrofit,
            PurchasePrice = price,
            Invoice = invoice,
            Leased = leased,
            LocallyMade = locallyMade,
            FirstOfKind = firstOfKind,
            IdealCycleNanoseconds = idealCycle,
        };
        r.Check(RegisterRules.Check(registered));
        return r.Failed ? null : registered;
    }

    /// <summary>The weekday fields in file order (Monday first) and the day each names.</summary>
    public static IReadOnlyList<(string Field, DayOfWeek Day)> Weekdays { get; } =
    [
        ("mon", DayOfWeek.Monday), ("tue", DayOfWeek.Tuesday), ("wed", DayOfWeek.Wednesday), ("thu", DayOfWeek.Thursday),
        ("fri", DayOfWeek.Friday), ("sat", DayOfWeek.Saturday), ("sun", DayOfWeek.Sunday),
    ];

    /// <summary>The fields of each record kind, in the order the export writes them.</summary>
    public static readonly string[] EnterpriseFields = ["credit_code", "name", "region", "industry", "time_zone"];

    public static readonly string[] EmployeeFields = ["month", "average_headcount"];

    public static readonly string[] KeyProcessFields = ["process", "key"];

    public static readonly string[] CalendarDayFields = ["date", "kind", "shifts", "note"];

    public static readonly string[] WeekFields = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

    public static readonly string[] DeviceFields =
    [
        "device", "product_instance_uri", "manufacturer", "model", "serial_number", "class", "production", "digital", "nc",
        "key_process", "process", "robot_axes", "commissioned", "retired", "retrofit_project", "purchase_price", "invoice",
        "leased", "locally_made", "first_of_kind", "ideal_cycle_s",
    ];
}
