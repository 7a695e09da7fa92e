using FactoryGateway.Edge.Signals;

namespace FactoryGateway.Edge.Sources.OpcUa;

/// <summary>OPC 40001-1 MachineryItemState_StateMachineType's states.</summary>
public enum MachineryItemStateValue
{
    NotAvailable = 0,
    OutOfService = 1,
    NotExecuting = 2,
    Executing = 3,
}

/// <summary>OPC 40001-1 MachineryOperationModeStateMachineType's states.</summary>
public enum MachineryOperationModeValue
{
    None = 0,
    Maintenance = 1,
    Setup = 2,
    Processing = 3,
}

/// <summary>OPC 40501-1 ChannelState (enumeration values).</summary>
public enum ChannelStateValue
{
    Active = 0,
    Interrupted = 1,
    Reset = 2,
}

/// <summary>OPC 40501-1 MachineOperationMode (enumeration values, as the MachineTool NodeSet publishes them).</summary>
public enum MachineToolOperationMode
{
    Manual = 0,
    Automatic = 1,
    Setup = 2,
    AutoWithManualIntervention = 3,
    Service = 4,
    Other = 5,
}

/// <summary>OPC 40010-1 OperationalModeEnumeration (ISO 10218-1 operational modes).</summary>
public enum RobotOperationalMode
{
    Other = 0,
    ManualReducedSpeed = 1,
    ManualHighSpeed = 2,
    Automatic = 3,
    AutomaticExternal = 4,
}

/// <summary>One NC channel of a machine tool (OPC 40501-1 ChannelMonitoringType): its state and the modifiers that make a run a test.</summary>
public readonly record struct ChannelInputs(ChannelStateValue? State, bool DryRun = false, bool TestMode = false, bool SingleStep = false);

/// <summary>
/// The normalised <c>state</c> (spec indicators §1) from the standard nodes of each profile: pure functions, one per
/// profile. Null means the inputs do not say (nothing is sent then: missing data is never read as idle).
/// </summary>
public static class MachineStateRules
{
    /// <summary>
    /// The lowest alarm severity that makes a machine down (spec indicators §1: "alarm severity ≥ 667"). OPC 10000-5 §6.4.2
    /// scales Severity 1–1000; 667–1000 is the upper third, the band OPC UA servers map "high" and "urgent" alarms to.
    /// </summary>
    public const int DownAlarmSeverity = 667;

    /// <summary>An alarm condition counts as a breakdown while it is active (ActiveState/Id true) with severity ≥ <see cref="DownAlarmSeverity"/>.</summary>
    public static bool IsDownAlarm(bool? active, int severity) => active == true && severity >= DownAlarmSeverity;

    /// <summary>
    /// Spec indicators §1 row 1: while any down alarm (<see cref="IsDownAlarm"/>) is active the machine is down, whatever its
    /// state nodes say; otherwise (and as soon as the last one clears) the state is what the state nodes say.
    /// </summary>
    public static MachineState? WithAlarms(MachineState? fromStateNodes, bool downAlarmActive) => downAlarmActive ? MachineState.Down : fromStateNodes;

    /// <summary>Parses a state machine's CurrentState text (its English name, as OPC 40001-1 names the states).</summary>
    public static MachineryItemStateValue? ParseItemState(string? text) =>
        Enum.TryParse(text?.Replace(" ", "", StringComparison.Ordinal), ignoreCase: true, out MachineryItemStateValue value) && Enum.IsDefined(value) && !char.IsAsciiDigit(text![0]) ? value : null;

    /// <summary>Parses a MachineryOperationMode CurrentState text.</summary>
    public static MachineryOperationModeValue? ParseOperationMode(string? text) =>
        Enum.TryParse(text?.Replace(" ", "", StringComparison.Ordinal), ignoreCase: true, out MachineryOperationModeValue value) && Enum.IsDefined(value) && !char.IsAsciiDigit(text![0]) ? value : null;

    /// <summary>
    /// OPC 40001-1: NotAvailable → off; OutOfService → down; operation mode Setup or Maintenance → setup; NotExecuting → idle;
    /// Executing (mode Processing, or none given) → run.
    /// </summary>
    public static MachineState? Machinery(MachineryItemStateValue? item, MachineryOperationModeValue? mode) => item switch
    {
        null => null,
        MachineryItemStateValue.NotAvailable => MachineState.Off,
        MachineryItemStateValue.OutOfService => MachineState.Down,
        _ when mode is MachineryOperationModeValue.Setup or MachineryOperationModeValue.Maintenance => MachineState.Setup,
        MachineryItemStateValue.NotExecuting => MachineState.Idle,
        MachineryItemStateValue.Executing => MachineState.Run,
        _ => null,
    };

    /// <summary>
    /// OPC 40501-1 machine tool. The Machinery item state decides off (NotAvailable) and down (OutOfService); operation
    /// mode Setup or Service (machine tool) or Setup/Maintenance (Machinery) → setup. Executing means a channel is Active
    /// (or, with no channel state known, ItemState Executing); not executing (channels Reset or Interrupted) → idle.
    /// Executing with DryRun, TestMode or SingleStep on an active channel, or in mode Manual or AutoWithManualIntervention
    /// (manual execution, spec indicators §1) → run_test; otherwise → run.
    /// </summary>
    public static MachineState? MachineTool(MachineryItemStateValue? item, MachineryOperationModeValue? machineryMode, MachineToolOperationMode? mode, IReadOnlyList<ChannelInputs> channels)
    {
        ArgumentNullException.ThrowIfNull(channels);
        switch (item)
        {
            case MachineryItemStateValue.NotAvailable:
                return MachineState.Off;
            case MachineryItemStateValue.OutOfService:
                return MachineState.Down;
        }

        if (mode is MachineToolOperationMode.Setup or MachineToolOperationMode.Service || machineryMode is MachineryOperationModeValue.Setup or MachineryOperationModeValue.Maintenance)
        {
            return MachineState.Setup;
        }

        bool anyChannel = false;
        bool executing = false;
        bool test = false;
        foreach (ChannelInputs channel in channels)
        {
            if (channel.State is not { } state)
            {
                continue;
            }

            anyChannel = true;
            if (state == ChannelStateValue.Active)
            {
                executing = true;
                test |= channel.DryRun || channel.TestMode || channel.SingleStep;
            }
        }

        if (!anyChannel)
        {
            if (item is null)
            {
                return null;
            }

            executing = item == MachineryItemStateValue.Executing;
        }

        if (!executing)
        {
            return MachineState.Idle;
        }

        return test || mode is MachineToolOperationMode.Manual or MachineToolOperationMode.AutoWithManualIntervention ? MachineState.RunTest : MachineState.Run;
    }

    /// <summary>
    /// OPC 40010-1 robot. ItemState NotAvailable → off; OutOfService, an emergency stop or a protective stop → down;
    /// MANUAL_* modes → setup, or run_test while executing (manual execution); AUTOMATIC* → run while executing, else idle
    /// (READY); OTHER → run_test while executing, else idle. Executing is the robot's own flag, else ItemState Executing.
    /// </summary>
    public static MachineState? Robot(MachineryItemStateValue? item, RobotOperationalMode? mode, bool? emergencyStop, bool? protectiveStop, bool? executing)
    {
        switch (item)
        {
            case MachineryItemStateValue.NotAvailable:
                return MachineState.Off;
            case MachineryItemStateValue.OutOfService:
                return MachineState.Down;
        }

        if (emergencyStop == true || protectiveStop == true)
        {
            return MachineState.Down;
        }

        bool? running = executing ?? (item is null ? null : item == MachineryItemStateValue.Executing);
        if (mode is null && running is null)
        {
            return null;
        }

        bool run = running == true;
        return mode switch
        {
            RobotOperationalMode.ManualReducedSpeed or RobotOperationalMode.ManualHighSpeed => run ? MachineState.RunTest : MachineState.Setup,
            RobotOperationalMode.Automatic or RobotOperationalMode.AutomaticExternal => run ? MachineState.Run : MachineState.Idle,
            _ => run ? MachineState.RunTest : MachineState.Idle,
        };
    }

    /// <summary>Retrofit current sensor: current &lt; <paramref name="idleThreshold"/> → off; &lt; <paramref name="runThreshold"/> → idle; else run. NaN says nothing.</summary>
    public static MachineState? CurrentSensor(double current, double idleThreshold, double runThreshold)
    {
        if (double.IsNaN(current))
        {
            return null;
        }

        return current < idleThreshold ? MachineState.Off : current < runThreshold ? MachineState.Idle : MachineState.Run;
    }
}
