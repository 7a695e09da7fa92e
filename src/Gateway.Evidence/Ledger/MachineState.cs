namespace FactoryGateway.Evidence.Ledger;

/// <summary>The normalised machine state of the canonical <c>state</c> signal (spec §1).</summary>
public enum MachineState : byte
{
    Off = 0,
    Down = 1,
    Setup = 2,
    Idle = 3,
    Run = 4,

    /// <summary>Executing but excluded: dry run, test mode, single step, manual execution.</summary>
    RunTest = 5,
}
