using FactoryGateway.OpcUa.Encoding;
using FactoryGateway.OpcUa.Services;

namespace FactoryGateway.OpcUa.Server;

/// <summary>The nameplate of a machine (OPC 40001-1 MachineIdentificationType, OPC 10000-100 IVendorNameplateType).</summary>
public sealed record MachineNameplate(string Manufacturer, string SerialNumber, string ProductInstanceUri)
{
    public string? Model { get; init; }

    public string? ProductCode { get; init; }

    public string? ManufacturerUri { get; init; }

    public string? SoftwareRevision { get; init; }

    public ushort? YearOfConstruction { get; init; }

    public string? Location { get; init; }
}

/// <summary>The top-level states of OPC 40001-1 §12 MachineryItemState.</summary>
public enum MachineryItemState
{
    NotAvailable,
    OutOfService,
    NotExecuting,
    Executing,
}

/// <summary>The nodes of one machine built by <see cref="MachineryModel"/>.</summary>
public sealed record MachineNodes(NodeId Machine, NodeId Identification, NodeId State, NodeId CurrentState);

/// <summary>
/// Builds Machinery-style models into an address space: the <c>Machines</c> folder (OPC 40001-1 §9.2,
/// <c>nsu=http://opcfoundation.org/UA/Machinery/;i=1001</c>), the companion type definitions in their
/// own namespaces (DI, Machinery, MachineTool, Robotics, with the specifications' numeric ids), and
/// machines with an <c>Identification</c> nameplate AddIn and a <c>MachineryItemState</c> state machine.
/// Instance nodes are string ids in the application namespace (<c>ns=1;s=&lt;machine&gt;.&lt;path&gt;</c>).
/// </summary>
public sealed class MachineryModel
{
    public const string DiNamespace = "http://opcfoundation.org/UA/DI/";
    public const string MachineryNamespace = "http://opcfoundation.org/UA/Machinery/";
    public const string MachineToolNamespace = "http://opcfoundation.org/UA/MachineTool/";
    public const string RoboticsNamespace = "http://opcfoundation.org/UA/Robotics/";

    private readonly UaAddressSpace _space;
    private readonly ushort _app;

    public MachineryModel(UaAddressSpace space)
    {
        ArgumentNullException.ThrowIfNull(space);
        _space = space;
        _app = 1;
        // DI (OPC 10000-100): the base of ComponentType and FunctionalGroupType.
        NodeId topology = T(DiNamespace, 1001, "TopologyElementType", UaNodeIds.BaseObjectType, isAbstract: true);
        NodeId component = T(DiNamespace, 15063, "ComponentType", topology, isAbstract: true);
        T(DiNamespace, 1005, "FunctionalGroupType", UaNodeIds.FolderType);
        // Machinery (OPC 40001-1).
        NodeId itemIdentification = T(MachineryNamespace, 1004, "MachineryItemIdentificationType", _space.Id(DiNamespace, 1005u), isAbstract: true);
        MachineIdentificationType = T(MachineryNamespace, 1012, "MachineIdentificationType", itemIdentification);
        StateMachineType = T(MachineryNamespace, 1002, "MachineryItemState_StateMachineType", UaNodeIds.FiniteStateMachineType);
        Machines = _space.Id(MachineryNamespace, 1001u);
        _space.AddFolder(UaNodeIds.ObjectsFolder, Machines, _space.Name(MachineryNamespace, "Machines"),
            "This object is the entry point to machines managed in the server. All machines are directly referenced by this object.");
        // MachineTool (OPC 40501-1).
        MachineToolIdentificationType = T(MachineToolNamespace, 11, "MachineToolIdentificationType", MachineIdentificationType);
        MachineToolType = T(MachineToolNamespace, 13, "MachineToolType", UaNodeIds.BaseObjectType);
        MonitoringType = T(MachineToolNamespace, 14, "MonitoringType", UaNodeIds.BaseObjectType);
        // Robotics (OPC 40010-1).
        MotionDeviceSystemType = T(RoboticsNamespace, 1002, "MotionDeviceSystemType", component);
        ControllerType = T(RoboticsNamespace, 1003, "ControllerType", component);
        MotionDeviceType = T(RoboticsNamespace, 1004, "MotionDeviceType", component);
    }

    public UaAddressSpace AddressSpace => _space;

    /// <summary><c>nsu=http://opcfoundation.org/UA/Machinery/;i=1001</c>.</summary>
    public NodeId Machines { get; }

    public NodeId MachineIdentificationType { get; }

    public NodeId StateMachineType { get; }

    public NodeId MachineToolIdentificationType { get; }

    public NodeId MachineToolType { get; }

    public NodeId MonitoringType { get; }

    public NodeId MotionDeviceSystemType { get; }

    public NodeId ControllerType { get; }

    public NodeId MotionDeviceType { get; }

    private NodeId T(string ns, uint id, string name, NodeId superType, bool isAbstract = false)
    {
        NodeId nodeId = _space.Id(ns, id);
        _space.AddType(NodeClass.ObjectType, nodeId, _space.Name(ns, name), superType, isAbstract);
        return nodeId;
    }

    /// <summary>The id of a node below a machine: <c>ns=1;s=&lt;machine&gt;.&lt;path&gt;</c>.</summary>
    public NodeId Id(string machine, string path) => new($"{machine}.{path}", _app);

    /// <summary>
    /// A machine organised by <c>Machines</c>: its object, the <c>Identification</c> AddIn with the
    /// nameplate, and <c>MachineryBuildingBlocks/MachineryItemState</c> with its CurrentState.
    /// </summary>
    public MachineNodes AddMachine(string name, NodeId typeDefinition, MachineNameplate nameplate, NodeId? identificationType = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(nameplate);
        var machine = new NodeId(name, _app);
        _space.AddObject(Machines, machine, new QualifiedName(_app, name), typeDefinition, UaNodeIds.Organizes);
        NodeId identification = AddIdentification(name, machine, nameplate, identificationType ?? MachineIdentificationType);
        NodeId blocks = Id(name, "MachineryBuildingBlocks");
        _space.AddObject(machine, blocks, _space.Name(MachineryNamespace, "MachineryBuildingBlocks"), UaNodeIds.FolderType);
        _space.AddReference(blocks, UaNodeIds.HasAddIn, identification);
        NodeId state = Id(name, "MachineryItemState");
        _space.AddObject(blocks, state, _space.Name(MachineryNamespace, "MachineryItemState"), StateMachineType, UaNodeIds.HasAddIn);
        NodeId current = Id(name, "MachineryItemState.CurrentState");
        _space.AddVariable(state, current, new QualifiedName(0, "CurrentState"), UaNodeIds.LocalizedText, new Variant(new LocalizedText("en", nameof(MachineryItemState.NotAvailable))),
            typeDefinition: UaNodeIds.FiniteStateVariableType);
        return new MachineNodes(machine, identification, state, current);
    }

    private NodeId AddIdentification(string name, NodeId machine, MachineNameplate plate, NodeId type)
    {
        NodeId identification = Id(name, "Identification");
        _space.AddObject(machine, identification, _space.Name(DiNamespace, "Identification"), type, UaNodeIds.HasAddIn);
        Property(name, identification, DiNamespace, "Manufacturer", UaNodeIds.LocalizedText, new Variant(new LocalizedText("en", plate.Manufacturer)));
        Property(name, identification, DiNamespace, "SerialNumber", UaNodeIds.String, new Variant(plate.SerialNumber));
        Property(name, identification, DiNamespace, "ProductInstanceUri", UaNodeIds.String, new Variant(plate.ProductInstanceUri));
        if (plate.Model is not null)
        {
            Property(name, identification, DiNamespace, "Model", UaNodeIds.LocalizedText, new Variant(new LocalizedText("en", plate.Model)));
        }

        if (plate.ProductCode is not null)
        {
            Property(name, identification, DiNamespace, "ProductCode", UaNodeIds.String, new Variant(plate.ProductCode));
        }

        if (plate.ManufacturerUri is not null)
        {
            Property(name, identification, DiNamespace, "ManufacturerUri", UaNodeIds.String, new Variant(plate.ManufacturerUri));
        }

        if (plate.SoftwareRevision is not null)
        {
            Property(name, identification, DiNamespace, "SoftwareRevision", UaNodeIds.String, new Variant(plate.SoftwareRevision));
        }

        if (plate.YearOfConstruction is { } year)
        {
            Property(name, identification, MachineryNamespace, "YearOfConstruction", UaNodeIds.UInt16, new Variant(year));
        }

        if (plate.Location is not null)
        {
            Property(name, identification, MachineryNamespace, "Location", UaNodeIds.String, new Variant(plate.Location));
        }

        return identification;
    }

    private void Property(string machine, NodeId parent, string ns, string name, NodeId dataType, Variant value) =>
        _space.AddProperty(parent, Id(machine, "Identification." + name), _space.Name(ns, name), dataType, value);

    /// <summary>Sets a machine's MachineryItemState (its CurrentState), raising a data change.</summary>
    public void SetState(MachineNodes machine, MachineryItemState state, DateTime sourceTimestamp)
    {
        ArgumentNullException.ThrowIfNull(machine);
        _space.SetValue(machine.CurrentState, new Variant(new LocalizedText("en", state.ToString())), sourceTimestamp);
    }

    /// <summary>
    /// A machine tool shaped like OPC 40501-1 MachineToolType: Identification (MachineToolIdentificationType),
    /// Monitoring, Production and Equipment, plus the Machinery building blocks.
    /// </summary>
    public MachineNodes AddMachineTool(string name, MachineNameplate nameplate)
    {
        MachineNodes nodes = AddMachine(name, MachineToolType, nameplate, MachineToolIdentificationType);
        _space.AddObject(nodes.Machine, Id(name, "Monitoring"), _space.Name(MachineToolNamespace, "Monitoring"), MonitoringType);
        _space.AddObject(nodes.Machine, Id(name, "Production"), _space.Name(MachineToolNamespace, "Production"), UaNodeIds.BaseObjectType);
        _space.AddObject(nodes.Machine, Id(name, "Equipment"), _space.Name(MachineToolNamespace, "Equipment"), UaNodeIds.BaseObjectType);
        _space.AddObject(nodes.Machine, Id(name, "Notification"), _space.Name(MachineToolNamespace, "Notification"), UaNodeIds.BaseObjectType);
        return nodes;
    }

    /// <summary>
    /// A robot shaped like OPC 40010-1 MotionDeviceSystemType: the MotionDevices, Controllers and
    /// SafetyStates folders with one motion device and one controller, plus the Machinery building blocks.
    /// </summary>
    public MachineNodes AddRobot(string name, MachineNameplate nameplate)
    {
        ArgumentNullException.ThrowIfNull(nameplate);
        MachineNodes nodes = AddMachine(name, MotionDeviceSystemType, nameplate);
        NodeId devices = Id(name, "MotionDevices");
        NodeId controllers = Id(name, "Controllers");
        _space.AddObject(nodes.Machine, devices, _space.Name(RoboticsNamespace, "MotionDevices"), UaNodeIds.FolderType);
        _space.AddObject(nodes.Machine, controllers, _space.Name(RoboticsNamespace, "Controllers"), UaNodeIds.FolderType);
        _space.AddObject(nodes.Machine, Id(name, "SafetyStates"), _space.Name(RoboticsNamespace, "SafetyStates"), UaNodeIds.FolderType);
        NodeId device = Id(name, "MotionDevices.Robot");
        _space.AddObject(devices, device, new QualifiedName(_app, "Robot"), MotionDeviceType);
        _space.AddProperty(device, Id(name, "MotionDevices.Robot.Manufacturer"), _space.Name(DiNamespace, "Manufacturer"), UaNodeIds.LocalizedText, new Variant(new LocalizedText("en", nameplate.Manufacturer)));
        _space.AddProperty(device, Id(name, "MotionDevices.Robot.SerialNumber"), _space.Name(DiNamespace, "SerialNumber"), UaNodeIds.String, new Variant(nameplate.SerialNumber));
        _space.AddObject(controllers, Id(name, "Controllers.Controller"), new QualifiedName(_app, "Controller"), ControllerType);
        return nodes;
    }

    /// <summary>A variable below a machine's node (a process value the simulator changes with <see cref="UaAddressSpace.SetValue"/>).</summary>
    public NodeId AddValue(MachineNodes machine, string path, NodeId dataType, Variant initial, bool writable = false)
    {
        ArgumentNullException.ThrowIfNull(machine);
        NodeId parent = machine.Machine;
        int dot = path.LastIndexOf('.');
        if (dot > 0)
        {
            parent = new NodeId($"{machine.Machine.StringIdentifier}.{path[..dot]}", _app);
        }

        NodeId id = new($"{machine.Machine.StringIdentifier}.{path}", _app);
        _space.AddVariable(parent, id, new QualifiedName(_app, path[(dot + 1)..]), dataType, initial, writable: writable);
        return id;
    }
}
