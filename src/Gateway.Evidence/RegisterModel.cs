namespace FactoryGateway.Evidence;

/// <summary>An enterprise of the asset register (indicator spec §1).</summary>
public sealed record Enterprise
{
    /// <summary>The unified social credit code (GB 32100-2015, checksum validated): the enterprise's key.</summary>
    public required string CreditCode { get; init; }

    /// <summary>The registered name.</summary>
    public required string Name { get; init; }

    /// <summary>The 6-digit GB/T 2260 county code where it operates, e.g. 330402.</summary>
    public required string Region { get; init; }

    /// <summary>The industry (free text, typically a GB/T 4754 class such as C3484); optional.</summary>
    public string? Industry { get; init; }

    /// <summary>The IANA time zone of its local days and windows; one of <see cref="TimeZones.Names"/>.</summary>
    public string TimeZone { get; init; } = TimeZones.Default;

    /// <summary>The UTC offset of <see cref="TimeZone"/> in minutes.</summary>
    public int UtcOffsetMinutes => TimeZones.TryGetOffsetMinutes(TimeZone, out int offset)
        ? offset
        : throw new InvalidOperationException($"time zone \"{TimeZone}\" is not one the register accepts ({TimeZones.Names}).");
}

/// <summary>The monthly average headcount 从业人员平均人数 of one month.</summary>
public sealed record EmployeeMonth
{
    /// <summary>The month, <c>YYYY-MM</c>.</summary>
    public required string Month { get; init; }

    /// <summary>The average number of employees in the month.</summary>
    public required int AverageHeadcount { get; init; }
}

/// <summary>A named process step of the key-process list 关键工序清单, flagged key or not.</summary>
public sealed record KeyProcess
{
    /// <summary>The process name, unique within the enterprise.</summary>
    public required string Process { get; init; }

    /// <summary>True when the process is a key process.</summary>
    public required bool IsKey { get; init; }
}

/// <summary>A device's class (indicator spec §1).</summary>
public enum DeviceClass
{
    /// <summary><c>cnc_machine_tool</c>.</summary>
    CncMachineTool,

    /// <summary><c>industrial_robot</c>.</summary>
    IndustrialRobot,

    /// <summary><c>plc_automated</c>.</summary>
    PlcAutomated,

    /// <summary><c>conventional</c>.</summary>
    Conventional,

    /// <summary><c>instrument</c>.</summary>
    Instrument,

    /// <summary><c>agv</c>.</summary>
    Agv,

    /// <summary><c>other</c>.</summary>
    Other,
}

/// <summary>The wire names of <see cref="DeviceClass"/>.</summary>
public static class DeviceClasses
{
    private static readonly string[] s_names = ["cnc_machine_tool", "industrial_robot", "plc_automated", "conventional", "instrument", "agv", "other"];

    /// <summary>Every name, for error messages.</summary>
    public static string Names => string.Join(", ", s_names);

    /// <summary>The wire name of <paramref name="deviceClass"/>.</summary>
    public static string Name(DeviceClass deviceClass) => s_names[(int)deviceClass];

    /// <summary>The class named <paramref name="name"/>; false for any other text.</summary>
    public static bool TryParse(string name, out DeviceClass deviceClass)
    {
        int index = Array.IndexOf(s_names, name);
        deviceClass = (DeviceClass)Math.Max(index, 0);
        return index >= 0;
    }
}

/// <summary>
/// A device of the asset register with every field of indicator spec §1, plus an optional ideal cycle time
/// (spec §4, OEE performance).
/// </summary>
public sealed record RegisteredDevice
{
    /// <summary>The device id, as the edge tags its data (<c>dev</c>); unique within the enterprise.</summary>
    public required string Device { get; init; }

    /// <summary>The OPC UA <c>ProductInstanceUri</c>; this or manufacturer + model + serial number identifies the machine.</summary>
    public string? ProductInstanceUri { get; init; }

    /// <summary>The nameplate manufacturer.</summary>
    public string? Manufacturer { get; init; }

    /// <summary>The nameplate model.</summary>
    public string? Model { get; init; }

    /// <summary>The nameplate serial number.</summary>
    public string? SerialNumber { get; init; }

    /// <summary>The device class.</summary>
    public required DeviceClass Class { get; init; }

    /// <summary>A production device.</summary>
    public bool Production { get; init; }

    /// <summary>Has a controller with a digital data interface.</summary>
    public bool Digital { get; init; }

    /// <summary>Executes motion or sequence from a stored reprogrammable program.</summary>
    public bool Nc { get; init; }

    /// <summary>Serves a key process (<see cref="Process"/> names it).</summary>
    public bool KeyProcess { get; init; }

    /// <summary>The process step the device serves; required when <see cref="KeyProcess"/>.</summary>
    public string? Process { get; init; }

    /// <summary>The robot's number of programmable axes, when given.</summary>
    public int? RobotAxes { get; init; }

    /// <summary>The local date it was commissioned.</summary>
    public required DateOnly Commissioned { get; init; }

    /// <summary>The local date it was retired, when it was; not before <see cref="Commissioned"/>.</summary>
    public DateOnly? Retired { get; init; }

    /// <summary>The retrofit project 智能化改造项目 it belongs to.</summary>
    public string? RetrofitProject { get; init; }

    /// <summary>The purchase (or lease) price in CNY, exact to the fen (0.01).</summary>
    public decimal? PurchasePrice { get; init; }

    /// <summary>The purchase invoice number.</summary>
    public string? Invoice { get; init; }

    /// <summary>Leased rather than bought.</summary>
    public bool Leased { get; init; }

    /// <summary>Made locally (in the programme's region).</summary>
    public bool LocallyMade { get; init; }

    /// <summary>A first-of-kind 首台套 machine.</summary>
    public bool FirstOfKind { get; init; }

    /// <summary>The ideal cycle time per part or cycle in nanoseconds, for OEE performance; optional.</summary>
    public long? IdealCycleNanoseconds { get; init; }

    /// <summary>
    /// Active in <paramref name="window"/> (spec §3): commissioned before the end of the window and not
    /// retired before its start.
    /// </summary>
    public bool IsActiveIn(Window window)
    {
        ArgumentNullException.ThrowIfNull(window);
        return Commissioned < window.EndDay && (Retired is null || Retired.Value >= window.FirstDay);
    }

    /// <summary>
    /// The local days of <paramref name="window"/> on which the device is active, from its commissioning
    /// date to its retired date (both counted, as in <see cref="IsActiveIn"/>): the weight that prorates a
    /// device entering or leaving mid-window (spec §3).
    /// </summary>
    public int ActiveDays(Window window)
    {
        ArgumentNullException.ThrowIfNull(window);
        int first = Math.Max(window.FirstDay.DayNumber, Commissioned.DayNumber);
        int end = Math.Min(window.EndDay.DayNumber, Retired is DateOnly retired ? retired.DayNumber + 1 : int.MaxValue);
        return Math.Max(0, end - first);
    }
}

/// <summary>One enterprise's part of the register: the unit of the JSON document and of a snapshot.</summary>
public sealed record EnterpriseRegister
{
    /// <summary>The enterprise.</summary>
    public required Enterprise Enterprise { get; init; }

    /// <summary>Monthly headcounts, by month.</summary>
    public required IReadOnlyList<EmployeeMonth> Employees { get; init; }

    /// <summary>The shift calendar (the default one when none was given).</summary>
    public required ShiftCalendar Calendar { get; init; }

    /// <summary>The key-process list, by process name.</summary>
    public required IReadOnlyList<KeyProcess> KeyProcesses { get; init; }

    /// <summary>The described devices, by device id.</summary>
    public required IReadOnlyList<RegisteredDevice> Devices { get; init; }
}

/// <summary>
/// A frozen register snapshot: the register as it applies to a window, its canonical bytes and their
/// SHA-256 (the hash a report cites).
/// </summary>
public sealed record RegisterSnapshot
{
    /// <summary>The enterprise's credit code, or <c>*</c> for every enterprise.</summary>
    public required string Scope { get; init; }

    /// <summary>The window label (<c>2026-07</c>, <c>2026Q3</c>, <c>2026</c>).</summary>
    public required string Window { get; init; }

    /// <summary>SHA-256 of <see cref="Canonical"/>, lower-case hex.</summary>
    public required string Hash { get; init; }

    /// <summary>The canonical bytes (compact JSON, format <c>fgw-register-snapshot/1</c>).</summary>
    public required ReadOnlyMemory<byte> Canonical { get; init; }

    /// <summary>When it was frozen, Unix nanoseconds.</summary>
    public required long FrozenUnixNanoseconds { get; init; }

    /// <summary>The typed view of <see cref="Canonical"/>.</summary>
    public required IReadOnlyList<EnterpriseRegister> Enterprises { get; init; }
}
