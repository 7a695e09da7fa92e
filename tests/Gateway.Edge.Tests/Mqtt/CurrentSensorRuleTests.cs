using FactoryGateway.Edge.Signals;

namespace FactoryGateway.Edge.Tests.Mqtt;

public sealed class CurrentSensorRuleTests
{
    [Theory]
    [InlineData(0.0, MachineState.Off)]
    [InlineData(-0.3, MachineState.Off)]
    [InlineData(0.999, MachineState.Off)]
    [InlineData(1.0, MachineState.Idle)]
    [InlineData(4.999, MachineState.Idle)]
    [InlineData(5.0, MachineState.Run)]
    [InlineData(120.0, MachineState.Run)]
    public void Off_below_the_idle_threshold_idle_from_it_run_from_the_run_threshold(double current, MachineState expected) =>
        Assert.Equal(expected, CurrentSensorRule.Classify(current, idleThreshold: 1.0, runThreshold: 5.0));

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    public void A_current_that_is_not_a_number_gives_no_state(double current) =>
        Assert.Null(CurrentSensorRule.Classify(current, 1.0, 5.0));

    [Theory]
    [InlineData(1.0, 5.0, null)]
    [InlineData(0.0, 0.5, null)]
    [InlineData(5.0, 5.0, "the run threshold 5 is not above the idle threshold 5")]
    [InlineData(-1.0, 5.0, "the idle threshold -1 is negative")]
    [InlineData(double.NaN, 5.0, "the thresholds must be finite numbers")]
    public void Thresholds_are_checked(double idle, double run, string? expected) =>
        Assert.Equal(expected, CurrentSensorRule.CheckThresholds(idle, run));
}
