using FactoryGateway.Edge.Signals;
using FactoryGateway.Edge.Sources.OpcUa;
using static FactoryGateway.Edge.Signals.MachineState;
using static FactoryGateway.Edge.Sources.OpcUa.MachineryItemStateValue;

namespace FactoryGateway.Edge.Tests.OpcUa;

/// <summary>The state table of spec indicators §1, row by row, for each profile.</summary>
public sealed class MachineStateRulesTests
{
    public static TheoryData<MachineryItemStateValue?, MachineryOperationModeValue?, MachineState?> MachineryTable => new()
    {
        { NotAvailable, MachineryOperationModeValue.Processing, Off },
        { OutOfService, MachineryOperationModeValue.Processing, Down },
        { OutOfService, MachineryOperationModeValue.Setup, Down },
        { NotExecuting, MachineryOperationModeValue.Setup, Setup },
        { Executing, MachineryOperationModeValue.Maintenance, Setup },
        { NotExecuting, MachineryOperationModeValue.Processing, Idle },
        { Executing, MachineryOperationModeValue.Processing, Run },
        { Executing, null, Run },
        { NotExecuting, MachineryOperationModeValue.None, Idle },
        { null, MachineryOperationModeValue.Processing, null },
    };

    [Theory]
    [MemberData(nameof(MachineryTable))]
    public void Machinery_item_state_and_operation_mode(MachineryItemStateValue? item, MachineryOperationModeValue? mode, MachineState? expected) =>
        Assert.Equal(expected, MachineStateRules.Machinery(item, mode));

    public static TheoryData<MachineryItemStateValue?, MachineToolOperationMode?, ChannelStateValue?, bool, bool, bool, MachineState?> MachineToolTable => new()
    {
        { NotAvailable, MachineToolOperationMode.Automatic, ChannelStateValue.Active, false, false, false, Off },
        { OutOfService, MachineToolOperationMode.Automatic, ChannelStateValue.Active, false, false, false, Down },
        { Executing, MachineToolOperationMode.Setup, ChannelStateValue.Active, false, false, false, Setup },
        { Executing, MachineToolOperationMode.Service, ChannelStateValue.Active, false, false, false, Setup },
        { null, MachineToolOperationMode.AutoWithManualIntervention, ChannelStateValue.Active, false, false, false, RunTest },
        { null, MachineToolOperationMode.Other, ChannelStateValue.Active, false, false, false, Run },
        { null, MachineToolOperationMode.Automatic, ChannelStateValue.Reset, false, false, false, Idle },
        { null, MachineToolOperationMode.Automatic, ChannelStateValue.Interrupted, false, false, false, Idle },
        { null, MachineToolOperationMode.Automatic, ChannelStateValue.Active, false, false, false, Run },
        { Executing, null, ChannelStateValue.Active, false, false, false, Run },
        { null, MachineToolOperationMode.Automatic, ChannelStateValue.Active, true, false, false, RunTest },
        { null, MachineToolOperationMode.Automatic, ChannelStateValue.Active, false, true, false, RunTest },
        { null, MachineToolOperationMode.Automatic, ChannelStateValue.Active, false, false, true, RunTest },
        { null, MachineToolOperationMode.Manual, ChannelStateValue.Active, false, false, false, RunTest },
        { null, MachineToolOperationMode.Manual, ChannelStateValue.Reset, false, false, false, Idle },
        // Modifiers on a channel that is not running do not matter.
        { null, MachineToolOperationMode.Automatic, ChannelStateValue.Reset, true, true, true, Idle },
        // Without channel states the Machinery item state decides.
        { Executing, MachineToolOperationMode.Automatic, null, false, false, false, Run },
        { NotExecuting, MachineToolOperationMode.Automatic, null, false, false, false, Idle },
        { null, MachineToolOperationMode.Automatic, null, false, false, false, null },
    };

    [Theory]
    [MemberData(nameof(MachineToolTable))]
    public void Machine_tool_channel_state_modifiers_and_operation_mode(
        MachineryItemStateValue? item, MachineToolOperationMode? mode, ChannelStateValue? channel, bool dryRun, bool testMode, bool singleStep, MachineState? expected) =>
        Assert.Equal(expected, MachineStateRules.MachineTool(item, null, mode, [new ChannelInputs(channel, dryRun, testMode, singleStep)]));

    [Fact]
    public void Machine_tool_runs_when_any_channel_is_active_and_tests_when_an_active_channel_has_a_modifier()
    {
        Assert.Equal(Run, MachineStateRules.MachineTool(null, null, MachineToolOperationMode.Automatic,
            [new ChannelInputs(ChannelStateValue.Reset, DryRun: true), new ChannelInputs(ChannelStateValue.Active)]));
        Assert.Equal(RunTest, MachineStateRules.MachineTool(null, null, MachineToolOperationMode.Automatic,
            [new ChannelInputs(ChannelStateValue.Active), new ChannelInputs(ChannelStateValue.Active, SingleStep: true)]));
        Assert.Equal(Setup, MachineStateRules.MachineTool(null, MachineryOperationModeValue.Maintenance, MachineToolOperationMode.Automatic, [new ChannelInputs(ChannelStateValue.Active)]));
    }

    public static TheoryData<MachineryItemStateValue?, RobotOperationalMode?, bool?, bool?, bool?, MachineState?> RobotTable => new()
    {
        { NotAvailable, RobotOperationalMode.Automatic, false, false, null, Off },
        { OutOfService, RobotOperationalMode.Automatic, false, false, null, Down },
        { Executing, RobotOperationalMode.Automatic, true, false, null, Down },
        { Executing, RobotOperationalMode.Automatic, false, true, null, Down },
        { null, RobotOperationalMode.ManualReducedSpeed, false, false, false, Setup },
        { null, RobotOperationalMode.ManualHighSpeed, false, false, false, Setup },
        { null, RobotOperationalMode.ManualReducedSpeed, false, false, true, RunTest },
        { null, RobotOperationalMode.Automatic, false, false, false, Idle },
        { null, RobotOperationalMode.AutomaticExternal, false, false, false, Idle },
        { null, RobotOperationalMode.Automatic, false, false, true, Run },
        { null, RobotOperationalMode.AutomaticExternal, false, false, true, Run },
        { Executing, RobotOperationalMode.Automatic, false, false, null, Run },
        { NotExecuting, RobotOperationalMode.Automatic, false, false, null, Idle },
        { null, RobotOperationalMode.Other, false, false, true, RunTest },
        { null, RobotOperationalMode.Other, false, false, false, Idle },
        { null, null, null, null, null, null },
    };

    [Theory]
    [MemberData(nameof(RobotTable))]
    public void Robot_operational_mode_stops_and_execution(
        MachineryItemStateValue? item, RobotOperationalMode? mode, bool? emergencyStop, bool? protectiveStop, bool? executing, MachineState? expected) =>
        Assert.Equal(expected, MachineStateRules.Robot(item, mode, emergencyStop, protectiveStop, executing));

    [Theory]
    [InlineData(0.0, Off)]
    [InlineData(0.99, Off)]
    [InlineData(1.0, Idle)]
    [InlineData(9.99, Idle)]
    [InlineData(10.0, Run)]
    [InlineData(250.0, Run)]
    public void Current_sensor_thresholds(double current, MachineState expected) =>
        Assert.Equal(expected, MachineStateRules.CurrentSensor(current, idleThreshold: 1, runThreshold: 10));

    [Fact]
    public void Current_sensor_says_nothing_for_nan() => Assert.Null(MachineStateRules.CurrentSensor(double.NaN, 1, 10));

    [Theory]
    [InlineData("Executing", Executing)]
    [InlineData("NotExecuting", NotExecuting)]
    [InlineData("Not Executing", NotExecuting)]
    [InlineData("outofservice", OutOfService)]
    [InlineData("NotAvailable", NotAvailable)]
    [InlineData("3", null)]
    [InlineData("Running", null)]
    [InlineData(null, null)]
    public void Item_state_text(string? text, MachineryItemStateValue? expected) => Assert.Equal(expected, MachineStateRules.ParseItemState(text));
}
