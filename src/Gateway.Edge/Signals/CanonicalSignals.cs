namespace FactoryGateway.Edge.Signals;

/// <summary>The canonical signal names of spec indicators §1; any other name is a process value.</summary>
public static class CanonicalSignals
{
    /// <summary>Normalised machine state, an integer <see cref="MachineState"/>.</summary>
    public const string State = "state";

    /// <summary>Parts made, monotone integer (machine tools).</summary>
    public const string PartsTotal = "parts_total";

    /// <summary>Good parts, monotone integer (machine tools).</summary>
    public const string PartsGood = "parts_good";

    /// <summary>Completed program or task cycles, monotone integer (robots, PLC lines).</summary>
    public const string Cycles = "cycles";

    /// <summary>Active NC or robot program name, a string.</summary>
    public const string Program = "program";

    /// <summary>Controller power-on time in seconds, monotone float.</summary>
    public const string PowerOnSeconds = "power_on_s";

    /// <summary>Energy meter in kWh, monotone float.</summary>
    public const string EnergyKwh = "energy_kwh";
}
