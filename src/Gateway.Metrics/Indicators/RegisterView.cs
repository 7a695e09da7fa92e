using FactoryGateway.Evidence;

namespace FactoryGateway.Metrics.Indicators;

/// <summary>A registered device as the indicators see it (spec §1): the denominator authority.</summary>
public sealed record IndicatorDevice
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

    /// <summary>The last day the device was in use (the register's retired date); null while in use.</summary>
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
public sealed record IndicatorEnterprise
{
    public required string Code { get; init; }

    /// <summary>The 6-digit GB/T 2260 county code.</summary>
    public required string Region { get; init; }

    public string Name { get; init; } = "";

    /// <summary>Monthly average employees by month (first day of the month).</summary>
    public IReadOnlyDictionary<DateOnly, decimal> Employees { get; init; } = new Dictionary<DateOnly, decimal>();
}

/// <summary>The register as frozen for a window: what every indicator's denominator comes from, and its hash.</summary>
public sealed record RegisterView(IReadOnlyList<IndicatorEnterprise> Enterprises, IReadOnlyList<IndicatorDevice> Devices, string SnapshotHash);

/// <summary>Builds the indicators' view of the asset register.</summary>
public static class RegisterViews
{
    /// <summary>The view of a frozen register snapshot (its hash is what every indicator value cites).</summary>
    public static RegisterView From(RegisterSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        return From(snapshot.Enterprises, snapshot.Hash);
    }

    public static RegisterView From(IReadOnlyList<EnterpriseRegister> registers, string hash)
    {
        ArgumentNullException.ThrowIfNull(registers);
        var enterprises = new List<IndicatorEnterprise>(registers.Count);
        var devices = new List<IndicatorDevice>();
        foreach (EnterpriseRegister register in registers)
        {
            string code = register.Enterprise.CreditCode;
            enterprises.Add(new IndicatorEnterprise
            {
                Code = code,
                Region = register.Enterprise.Region,
                Name = register.Enterprise.Name,
                Employees = register.Employees.ToDictionary(
                    m => DateOnly.ParseExact(m.Month + "-01", "yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture),
                    m => (decimal)m.AverageHeadcount),
            });
            devices.AddRange(register.Devices.Select(d => new IndicatorDevice
            {
                Enterprise = code,
                Device = d.Device,
                Class = d.Class,
                Production = d.Production,
                Digital = d.Digital,
                Nc = d.Nc,
                KeyProcess = d.KeyProcess,
                ProcessName = d.Process,
                RobotAxes = d.RobotAxes,
                Commissioned = d.Commissioned,
                Retired = d.Retired,
                RetrofitProject = d.RetrofitProject,
                IdealCycleSeconds = d.IdealCycleNanoseconds is long ns ? ns / 1e9 : null,
                ProductInstanceUri = d.ProductInstanceUri,
                SerialNumber = d.SerialNumber,
            }));
        }

        return new RegisterView(enterprises, devices, hash);
    }
}
