using FactoryGateway.OpcUa.Client;

namespace FactoryGateway.Edge.Sources.OpcUa;

/// <summary>
/// Every browse name the device profiles look for, by companion specification, qualified by namespace URI. Kept in one
/// place so that a test can check each against the published NodeSets.
/// </summary>
internal static class CompanionNames
{
    public const string DiNamespace = "http://opcfoundation.org/UA/DI/";
    public const string MachineryNamespace = "http://opcfoundation.org/UA/Machinery/";
    public const string MachineToolNamespace = "http://opcfoundation.org/UA/MachineTool/";
    public const string RoboticsNamespace = "http://opcfoundation.org/UA/Robotics/";

    /// <summary>Every name below, for the NodeSet check.</summary>
    public static IReadOnlyList<UaBrowseName> All { get; } =
        [.. typeof(CompanionNames).GetNestedTypes().SelectMany(t => t.GetFields()).Select(f => (UaBrowseName)f.GetValue(null)!)];

    /// <summary>OPC 10000-5 (namespace 0).</summary>
    public static class Ua
    {
        public static readonly UaBrowseName CurrentState = new(OpcUaNodeText.UaNamespace, "CurrentState");
    }

    /// <summary>OPC 10000-100 Devices (DI).</summary>
    public static class Di
    {
        public static readonly UaBrowseName Identification = new(DiNamespace, "Identification");
        public static readonly UaBrowseName Manufacturer = new(DiNamespace, "Manufacturer");
        public static readonly UaBrowseName Model = new(DiNamespace, "Model");
        public static readonly UaBrowseName OperationCounters = new(DiNamespace, "OperationCounters");
        public static readonly UaBrowseName ParameterSet = new(DiNamespace, "ParameterSet");
        public static readonly UaBrowseName PowerOnDuration = new(DiNamespace, "PowerOnDuration");
        public static readonly UaBrowseName ProductInstanceUri = new(DiNamespace, "ProductInstanceUri");
        public static readonly UaBrowseName SerialNumber = new(DiNamespace, "SerialNumber");
    }

    /// <summary>OPC 40001-1 Machinery.</summary>
    public static class Machinery
    {
        public static readonly UaBrowseName MachineryBuildingBlocks = new(MachineryNamespace, "MachineryBuildingBlocks");
        public static readonly UaBrowseName MachineryItemState = new(MachineryNamespace, "MachineryItemState");
        public static readonly UaBrowseName MachineryOperationMode = new(MachineryNamespace, "MachineryOperationMode");
    }

    /// <summary>OPC 40501-1 Machine Tools.</summary>
    public static class MachineTool
    {
        public static readonly UaBrowseName ActiveProgram = new(MachineToolNamespace, "ActiveProgram");
        public static readonly UaBrowseName ChannelModifiers = new(MachineToolNamespace, "ChannelModifiers");
        public static readonly UaBrowseName ChannelState = new(MachineToolNamespace, "ChannelState");
        public static readonly UaBrowseName DryRun = new(MachineToolNamespace, "DryRun");
        public static readonly UaBrowseName Monitoring = new(MachineToolNamespace, "Monitoring");
        public static readonly UaBrowseName Name = new(MachineToolNamespace, "Name");
        public static readonly UaBrowseName OperationMode = new(MachineToolNamespace, "OperationMode");
        public static readonly UaBrowseName PartsProducedInLifetime = new(MachineToolNamespace, "PartsProducedInLifetime");
        public static readonly UaBrowseName PowerOnDuration = new(MachineToolNamespace, "PowerOnDuration");
        public static readonly UaBrowseName Production = new(MachineToolNamespace, "Production");
        public static readonly UaBrowseName SingleStep = new(MachineToolNamespace, "SingleStep");
        public static readonly UaBrowseName Statistics = new(MachineToolNamespace, "Statistics");
        public static readonly UaBrowseName TestMode = new(MachineToolNamespace, "TestMode");
    }

    /// <summary>OPC 40010-1 Robotics.</summary>
    public static class Robotics
    {
        public static readonly UaBrowseName Controllers = new(RoboticsNamespace, "Controllers");
        public static readonly UaBrowseName EmergencyStop = new(RoboticsNamespace, "EmergencyStop");
        public static readonly UaBrowseName OperationalMode = new(RoboticsNamespace, "OperationalMode");
        public static readonly UaBrowseName ProtectiveStop = new(RoboticsNamespace, "ProtectiveStop");
        public static readonly UaBrowseName SafetyStates = new(RoboticsNamespace, "SafetyStates");
        public static readonly UaBrowseName TaskControls = new(RoboticsNamespace, "TaskControls");
        public static readonly UaBrowseName TaskProgramName = new(RoboticsNamespace, "TaskProgramName");
        public static readonly UaBrowseName TotalPowerOnTime = new(RoboticsNamespace, "TotalPowerOnTime");
    }
}
