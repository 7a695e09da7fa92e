namespace FactoryGateway.Metrics.Indicators;

/// <summary>The device classes of the asset register (spec §1).</summary>
public enum DeviceClass
{
    CncMachineTool,
    IndustrialRobot,
    PlcAutomated,
    Conventional,
    Instrument,
    Agv,
    Other,
}

/// <summary>A registered device as the indicators see it (spec §1): the denominator authority.</summary>
public sealed record RegisteredDevice
{
    public required string Enterprise { get; init; }

    public required string Device { get; init; }

    public DeviceClass Class { get; init; } = DeviceClass.Other;

    public bool Production { get; init; }

    public bool Digital { get; init; }

    public bool Nc { get; init; }

    public bool KeyProcess { get; init; }

    public string? ProcessName { get; init; }

    /// <summary>Programmable axes of a robot (ISO 8373: an industrial robot has at least 3).</summary>
    public int? RobotAxes { get; init; }

    public DateOnly? Commissioned { get; init; }

    public DateOnly? Retired { get; init; }

    public string? RetrofitProject { get; init; }

    /// <summary>Ideal cycle time per part, for OEE performance.</summary>
    public double? IdealCycleSeconds { get; init; }

    public string? ProductInstanceUri { get; init; }

    public string? SerialNumber { get; init; }

    /// <summary>An industrial robot per ISO 8373: class industrial_robot with at least 3 programmable axes (unknown axes: not counted).</summary>
    public bool IsRobot => Class == DeviceClass.IndustrialRobot && RobotAxes >= 3;
}

/// <summary>An enterprise of the register with its monthly average headcount (从业人员平均人数).</summary>
public sealed record RegisteredEnterprise
{
    public required string Code { get; init; }

    /// <summary>The 6-digit GB/T 2260 county code.</summary>
    public required string Region { get; init; }

    public string Name { get; init; } = "";

    /// <summary>Monthly average employees by month (first day of the month).</summary>
    public IReadOnlyDictionary<DateOnly, decimal> Employees { get; init; } = new Dictionary<DateOnly, decimal>();
}

/// <summary>The register as frozen for a window: what every indicator's denominator comes from, and its hash.</summary>
public sealed record RegisterView(IReadOnlyList<RegisteredEnterprise> Enterprises, IReadOnlyList<RegisteredDevice> Devices, string SnapshotHash);
