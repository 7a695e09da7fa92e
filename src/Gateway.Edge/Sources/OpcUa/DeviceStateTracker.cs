using FactoryGateway.Edge.Config;
using FactoryGateway.Edge.Signals;
using FactoryGateway.OpcUa.Encoding;

namespace FactoryGateway.Edge.Sources.OpcUa;

/// <summary>
/// The latest value of every state input of one device and the state last sent. Touched only by the source's event loop.
/// An input with a non-Good status counts as unknown; the state is then sent with that status.
/// </summary>
internal sealed class DeviceStateTracker
{
    private readonly OpcUaDevicePlan _plan;
    private readonly ChannelInputs[] _channels;
    private readonly RobotOperationalMode?[] _robotModes;
    private readonly bool?[] _emergencyStops;
    private readonly bool?[] _protectiveStops;
    private readonly Dictionary<int, uint> _badInputs = [];
    // The conditions now active with a down severity, by condition key, with their severity.
    private readonly Dictionary<string, ushort> _downAlarms = new(StringComparer.Ordinal);
    private MachineryItemStateValue? _itemState;
    private MachineryOperationModeValue? _operationMode;
    private MachineToolOperationMode? _toolMode;
    private double? _current;
    private (long Value, uint Status)? _sent;

    public DeviceStateTracker(OpcUaDevicePlan plan)
    {
        _plan = plan;
        _channels = new ChannelInputs[plan.Channels];
        _robotModes = new RobotOperationalMode?[plan.SafetyStates];
        _emergencyStops = new bool?[plan.SafetyStates];
        _protectiveStops = new bool?[plan.SafetyStates];
    }

    /// <summary>True once any input changed since the last <see cref="TryTake"/>.</summary>
    public bool Dirty { get; private set; }

    /// <summary>The latest source time of a state input, Unix nanoseconds.</summary>
    public long Time { get; private set; }

    /// <summary>Conditions now active with a severity that makes the device down.</summary>
    public int DownAlarms => _downAlarms.Count;

    /// <summary>Forgets what was sent (after a reconnect the state is sent again).</summary>
    public void Reset() => _sent = null;

    /// <summary>
    /// Takes one event of the device. A RefreshStartEvent (the answer to ConditionRefresh begins) forgets every alarm: the
    /// refresh then sends every condition still retained. A condition event adds or removes its condition from the active
    /// down alarms by <see cref="MachineStateRules.IsDownAlarm"/>. Returns true when the set of down alarms changed.
    /// </summary>
    public bool Alarm(AlarmEvent alarm)
    {
        ArgumentNullException.ThrowIfNull(alarm);
        int before = _downAlarms.Count;
        bool changed;
        if (alarm.IsRefreshStart)
        {
            _downAlarms.Clear();
            changed = before != 0;
        }
        else if (alarm.ConditionKey is not { } key)
        {
            return false;
        }
        else if (MachineStateRules.IsDownAlarm(alarm.Active, alarm.Severity))
        {
            changed = _downAlarms.TryAdd(key, alarm.Severity);
        }
        else
        {
            changed = _downAlarms.Remove(key);
        }

        if (changed)
        {
            Dirty = true;
            if (alarm.Time != default)
            {
                Time = Math.Max(Time, (DateTime.SpecifyKind(alarm.Time, DateTimeKind.Utc).Ticks - DateTime.UnixEpoch.Ticks) * 100);
            }
        }

        return changed;
    }

    /// <summary>Takes a state input value. <paramref name="itemIndex"/> identifies the input for its status.</summary>
    public void Update(DeviceItem item, int itemIndex, DataValue value, long time)
    {
        Dirty = true;
        Time = Math.Max(Time, time);
        if (!value.Status.IsGood)
        {
            _badInputs[itemIndex] = value.Status.Code;
            return;
        }

        _badInputs.Remove(itemIndex);
        Variant v = value.Value;
        switch (item.Role)
        {
            case ItemRole.ItemState:
                _itemState = MachineStateRules.ParseItemState(Text(v));
                break;
            case ItemRole.OperationMode:
                _operationMode = MachineStateRules.ParseOperationMode(Text(v));
                break;
            case ItemRole.ChannelState:
                _channels[item.Index] = _channels[item.Index] with { State = v.TryGetInt64(out long cs) && Enum.IsDefined((ChannelStateValue)cs) ? (ChannelStateValue)cs : null };
                break;
            case ItemRole.DryRun:
                _channels[item.Index] = _channels[item.Index] with { DryRun = Flag(v) == true };
                break;
            case ItemRole.TestMode:
                _channels[item.Index] = _channels[item.Index] with { TestMode = Flag(v) == true };
                break;
            case ItemRole.SingleStep:
                _channels[item.Index] = _channels[item.Index] with { SingleStep = Flag(v) == true };
                break;
            case ItemRole.MachineToolMode:
                _toolMode = v.TryGetInt64(out long tm) && Enum.IsDefined((MachineToolOperationMode)tm) ? (MachineToolOperationMode)tm : null;
                break;
            case ItemRole.RobotMode:
                _robotModes[item.Index] = v.TryGetInt64(out long rm) && Enum.IsDefined((RobotOperationalMode)rm) ? (RobotOperationalMode)rm : null;
                break;
            case ItemRole.EmergencyStop:
                _emergencyStops[item.Index] = Flag(v);
                break;
            case ItemRole.ProtectiveStop:
                _protectiveStops[item.Index] = Flag(v);
                break;
            case ItemRole.Current:
                _current = v.TryGetDouble(out double c) ? c : null;
                break;
        }
    }

    /// <summary>The state to send now, if it differs from the last one sent: its value and status.</summary>
    public bool TryTake(out SignalValue value, out uint status)
    {
        Dirty = false;
        value = default;
        status = SignalQuality.Good;
        bool alarmed = _downAlarms.Count > 0;
        MachineState? state = MachineStateRules.WithAlarms(Derive(), alarmed);
        if (_badInputs.Count > 0 && !alarmed)
        {
            status = _badInputs.Values.First();
        }
        else if (state is null)
        {
            return false;
        }

        long number = state is { } s ? (long)s : _sent?.Value ?? (long)MachineState.Off;
        if (_sent is { } last && last.Value == number && last.Status == status)
        {
            return false;
        }

        _sent = (number, status);
        value = SignalValue.Integer(number);
        return true;
    }

    private MachineState? Derive() => _plan.Profile switch
    {
        OpcUaDeviceProfile.MachineTool => MachineStateRules.MachineTool(_itemState, _operationMode, _toolMode, _channels),
        OpcUaDeviceProfile.Robot => MachineStateRules.Robot(
            _itemState,
            _robotModes.FirstOrDefault(m => m is RobotOperationalMode.ManualHighSpeed or RobotOperationalMode.ManualReducedSpeed) ?? _robotModes.FirstOrDefault(m => m is not null),
            AnyTrue(_emergencyStops),
            AnyTrue(_protectiveStops),
            null),
        OpcUaDeviceProfile.Machinery => MachineStateRules.Machinery(_itemState, _operationMode),
        OpcUaDeviceProfile.CurrentSensor => _current is { } c ? MachineStateRules.CurrentSensor(c, _plan.IdleThreshold, _plan.RunThreshold) : null,
        _ => null,
    };

    private static bool? AnyTrue(bool?[] flags) => flags.Any(f => f == true) ? true : flags.Any(f => f == false) ? false : null;

    private static bool? Flag(Variant v) => v.Value switch
    {
        bool b => b,
        _ when v.TryGetInt64(out long n) => n != 0,
        _ => null,
    };

    private static string? Text(Variant v) => v.Value switch
    {
        LocalizedText l => l.Text,
        string s => s,
        _ => null,
    };
}
