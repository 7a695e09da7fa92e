using System.Globalization;

namespace FactoryGateway.Edge.Signals;

/// <summary>
/// The profile rule for a current-sensor retrofit (spec indicators §1: "a profile rule on a current
/// sensor"): a manual machine whose only signal is the current it draws. With the thresholds
/// <c>t_idle &lt; t_run</c>: <c>off &lt; t_idle ≤ idle &lt; t_run ≤ run</c>. The same rule for every source.
/// </summary>
public static class CurrentSensorRule
{
    /// <summary>The state for <paramref name="current"/>; null when it is not a finite number (no state is made up).</summary>
    /// <param name="current">The measured current, in the unit of the thresholds.</param>
    /// <param name="idleThreshold">t_idle: at or above it the machine is powered (idle).</param>
    /// <param name="runThreshold">t_run: at or above it the machine is working (run); greater than <paramref name="idleThreshold"/>.</param>
    public static MachineState? Classify(double current, double idleThreshold, double runThreshold)
    {
        if (!double.IsFinite(current))
        {
            return null;
        }

        return current >= runThreshold ? MachineState.Run
            : current >= idleThreshold ? MachineState.Idle
            : MachineState.Off;
    }

    /// <summary>Why the thresholds cannot be used, or null when they can: both finite, <c>0 ≤ t_idle &lt; t_run</c>.</summary>
    public static string? CheckThresholds(double idleThreshold, double runThreshold) =>
        !double.IsFinite(idleThreshold) || !double.IsFinite(runThreshold) ? "the thresholds must be finite numbers"
        : idleThreshold < 0 ? string.Create(CultureInfo.InvariantCulture, $"the idle threshold {idleThreshold} is negative")
        : runThreshold <= idleThreshold ? string.Create(CultureInfo.InvariantCulture, $"the run threshold {runThreshold} is not above the idle threshold {idleThreshold}")
        : null;
}
