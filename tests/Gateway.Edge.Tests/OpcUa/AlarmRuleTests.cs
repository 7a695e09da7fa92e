using FactoryGateway.Edge.Config;
using FactoryGateway.Edge.Signals;
using FactoryGateway.Edge.Sources.OpcUa;
using FactoryGateway.OpcUa.Client;
using FactoryGateway.OpcUa.Encoding;
using FactoryGateway.OpcUa.Services;

namespace FactoryGateway.Edge.Tests.OpcUa;

/// <summary>Spec indicators §1 row 1, "alarm severity ≥ 667 → down": the rule, and the tracker that applies it to a device's events.</summary>
public sealed class AlarmRuleTests
{
    [Theory]
    [InlineData(true, 667, true)]
    [InlineData(true, 1000, true)]
    [InlineData(true, 666, false)]
    [InlineData(true, 500, false)]
    [InlineData(false, 1000, false)]
    [InlineData(null, 1000, false)]
    public void An_alarm_is_a_breakdown_while_active_with_severity_667_or_more(bool? active, int severity, bool down) =>
        Assert.Equal(down, MachineStateRules.IsDownAlarm(active, severity));

    [Theory]
    [InlineData(MachineState.Run, true, MachineState.Down)]
    [InlineData(MachineState.Setup, true, MachineState.Down)]
    [InlineData(null, true, MachineState.Down)]
    [InlineData(MachineState.Run, false, MachineState.Run)]
    [InlineData(MachineState.Idle, false, MachineState.Idle)]
    [InlineData(null, false, null)]
    public void A_down_alarm_overrides_the_state_nodes_and_the_state_nodes_decide_without_one(MachineState? fromStateNodes, bool downAlarm, MachineState? expected) =>
        Assert.Equal(expected, MachineStateRules.WithAlarms(fromStateNodes, downAlarm));

    private static readonly DeviceItem s_itemState = new("ItemState", UaNodeReference.Parse("ns=1;s=x"), ItemRole.ItemState, null);

    private static AlarmEvent Condition(string id, ushort severity, bool active) =>
        new(WellKnownNodes.AlarmConditionType, new NodeId("Mill1", 1), new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc), severity, id, id, active, active);

    private static AlarmEvent Refresh(NodeId type) => new(type, WellKnownNodes.Server, default, 0, null, null, null, null);

    private static long? Take(DeviceStateTracker tracker) => tracker.TryTake(out SignalValue value, out _) ? value.AsInteger : null;

    [Fact]
    public void Tracker_goes_down_while_any_high_alarm_is_active_ignores_low_ones_and_returns_to_the_state_nodes()
    {
        var tracker = new DeviceStateTracker(new OpcUaDevicePlan("Mill1", OpcUaDeviceProfile.Machinery, null, [s_itemState]));
        tracker.Update(s_itemState, 0, new DataValue(new Variant(new LocalizedText("en", "Executing"))), 1);
        Assert.Equal((long)MachineState.Run, Take(tracker));

        Assert.False(tracker.Alarm(Condition("CoolantLow", 500, active: true)));
        Assert.Null(Take(tracker));
        Assert.True(tracker.Alarm(Condition("Overload", 800, active: true)));
        Assert.True(tracker.Alarm(Condition("Overheat", 667, active: true)));
        Assert.Equal((long)MachineState.Down, Take(tracker));
        Assert.Equal(2, tracker.DownAlarms);

        // The state nodes change while down: still down.
        tracker.Update(s_itemState, 0, new DataValue(new Variant(new LocalizedText("en", "NotExecuting"))), 2);
        Assert.Null(Take(tracker));
        Assert.True(tracker.Alarm(Condition("Overload", 800, active: false)));
        Assert.Null(Take(tracker));
        Assert.True(tracker.Alarm(Condition("Overheat", 667, active: false)));
        Assert.Equal((long)MachineState.Idle, Take(tracker));
        Assert.Equal(0, tracker.DownAlarms);
    }

    [Fact]
    public void Refresh_start_forgets_the_alarms_and_the_refresh_brings_back_those_still_active()
    {
        var tracker = new DeviceStateTracker(new OpcUaDevicePlan("Mill1", OpcUaDeviceProfile.Machinery, null, [s_itemState]));
        tracker.Update(s_itemState, 0, new DataValue(new Variant(new LocalizedText("en", "Executing"))), 1);
        tracker.Alarm(Condition("Overload", 800, active: true));
        tracker.Alarm(Condition("Overheat", 900, active: true));
        Assert.Equal((long)MachineState.Down, Take(tracker));

        Assert.True(tracker.Alarm(Refresh(WellKnownNodes.RefreshStartEventType)));
        tracker.Alarm(Condition("Overheat", 900, active: true));
        Assert.False(tracker.Alarm(Refresh(WellKnownNodes.RefreshEndEventType)));
        Assert.Equal(1, tracker.DownAlarms);
        Assert.Null(Take(tracker));
    }

    [Fact]
    public void Event_fields_decode_in_select_clause_order_and_unknown_fields_read_as_unknown()
    {
        Assert.Equal(9, AlarmEvents.Filter.SelectClauses.Count);
        var condition = new NodeId("Mill1.Alarms.SpindleOverload", 1);
        Variant[] fields =
        [
            new Variant(new byte[] { 1, 2 }.AsMemory()), new Variant(WellKnownNodes.AlarmConditionType), new Variant(new NodeId("Mill1", 1)),
            new Variant(new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc)), new Variant((ushort)800), new Variant(new LocalizedText("en", "overload")),
            new Variant(condition), new Variant(true), new Variant(true),
        ];
        AlarmEvent alarm = AlarmEvents.Decode(fields);
        Assert.Equal((condition.ToString(), (ushort)800, true, "overload"), (alarm.ConditionKey, alarm.Severity, alarm.Active, alarm.Message));

        // A server that could not select ConditionId or ActiveState/Id: not a condition the rule can use.
        AlarmEvent plain = AlarmEvents.Decode([Variant.Null, new Variant(WellKnownNodes.BaseEventType), Variant.Null, Variant.Null, new Variant((ushort)900)]);
        Assert.Null(plain.ConditionKey);
        Assert.Null(plain.Active);
    }
}
