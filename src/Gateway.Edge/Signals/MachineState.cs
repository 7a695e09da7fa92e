namespace FactoryGateway.Edge.Signals;

/// <summary>
/// The normalised machine state (spec indicators §1), the value of the canonical <c>state</c> signal.
/// "Offline" is not a state: it is the absence of coverage.
/// </summary>
public enum MachineState
{
    /// <summary>NotAvailable, controller off.</summary>
    Off = 0,

    /// <summary>OutOfService, alarm severity ≥ 667, e-stop or protective stop.</summary>
    Down = 1,

    /// <summary>OperationMode Setup/Maintenance/Service, robot MANUAL_* modes.</summary>
    Setup = 2,

    /// <summary>NotExecuting + Processing, ChannelState Reset/Interrupted, READY.</summary>
    Idle = 3,

    /// <summary>Executing + Processing, not DryRun/TestMode; robot AUTOMATIC* + executing.</summary>
    Run = 4,

    /// <summary>Executing but excluded: DryRun, TestMode, SingleStep, manual execution.</summary>
    RunTest = 5,
}
