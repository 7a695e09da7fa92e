using FactoryGateway.Edge.Config;
using FactoryGateway.Edge.Signals;
using FactoryGateway.OpcUa.Client;
using FactoryGateway.OpcUa.Encoding;
using FactoryGateway.OpcUa.Services;
using FactoryGateway.OpcUa.Transport;

namespace FactoryGateway.Edge.Sources.OpcUa;

/// <summary>What a monitored item feeds: a signal passed through, or one input of the state derivation.</summary>
internal enum ItemRole
{
    Signal,
    ItemState,
    OperationMode,
    ChannelState,
    DryRun,
    TestMode,
    SingleStep,
    MachineToolMode,
    RobotMode,
    EmergencyStop,
    ProtectiveStop,
    Current,
}

/// <summary>
/// One monitored item of a device. <see cref="Signal"/> names the signal a value is written under (null for a pure state
/// input); <see cref="Scale"/> converts units (hours and milliseconds to seconds); <see cref="Index"/> tells channels and
/// safety states apart.
/// </summary>
internal sealed record DeviceItem(string Name, UaNodeReference Node, ItemRole Role, string? Signal, double Scale = 1, int Index = 0)
{
    public OpcUaNodeOptions? Options { get; init; }
}

/// <summary>A device as found on the server: its profile, its root object and the items to monitor.</summary>
internal sealed record OpcUaDevicePlan(string Id, OpcUaDeviceProfile Profile, ExpandedNodeId? Root, IReadOnlyList<DeviceItem> Items)
{
    public double IdleThreshold { get; init; }

    public double RunThreshold { get; init; }

    public int Channels => Items.Where(i => i.Role == ItemRole.ChannelState).Select(i => i.Index + 1).DefaultIfEmpty(0).Max();

    public int SafetyStates => Items.Where(i => i.Role is ItemRole.RobotMode or ItemRole.EmergencyStop or ItemRole.ProtectiveStop).Select(i => i.Index + 1).DefaultIfEmpty(0).Max();
}

/// <summary>
/// Finds each configured device on the server (its root object, its companion-specification profile by type definition)
/// and the standard nodes of that profile, and reads nameplates. Only nodes the server has become monitored items; they
/// are declared by browse path from the root (by namespace URI), so the connection finds them again after a restart.
/// </summary>
internal static class OpcUaDiscovery
{
    public const string DiNamespace = "http://opcfoundation.org/UA/DI/";
    public const string MachineryNamespace = "http://opcfoundation.org/UA/Machinery/";
    public const string MachineToolNamespace = "http://opcfoundation.org/UA/MachineTool/";
    public const string RoboticsNamespace = "http://opcfoundation.org/UA/Robotics/";

    // OPC 10000-4 §7.39 status codes this discovery reports.
    public const uint BadTypeDefinitionInvalid = 0x8075_0000;

    private static readonly NodeId s_hasTypeDefinition = new(40u);
    private static readonly NodeId s_hasSubtype = new(45u);
    private static readonly NodeId s_baseObjectType = new(58u);

    // The type definitions that name a profile, with the ids of their companion specifications' NodeSets.
    private static readonly ExpandedNodeId s_machineToolType = new(new NodeId(13u), MachineToolNamespace);
    private static readonly ExpandedNodeId s_motionDeviceSystemType = new(new NodeId(1002u), RoboticsNamespace);
    private static readonly ExpandedNodeId s_machinesFolder = new(new NodeId(1001u), MachineryNamespace);

    private static UaBrowseName Ua(string name) => new(OpcUaNodeText.UaNamespace, name);

    private static UaBrowseName Di(string name) => new(DiNamespace, name);

    private static UaBrowseName Mach(string name) => new(MachineryNamespace, name);

    private static UaBrowseName Mt(string name) => new(MachineToolNamespace, name);

    private static UaBrowseName Rob(string name) => new(RoboticsNamespace, name);

    public static async Task<OpcUaDevicePlan> DiscoverAsync(UaSession session, IReadOnlyList<string> namespaces, OpcUaDeviceOptions device, CancellationToken cancellationToken)
    {
        OpcUaDeviceProfile profile = device.ProfileKind ?? throw new InvalidOperationException($"device {device.Id}: profile \"{device.Profile}\" is not valid.");
        bool needsRoot = profile is OpcUaDeviceProfile.Auto or OpcUaDeviceProfile.MachineTool or OpcUaDeviceProfile.Robot or OpcUaDeviceProfile.Machinery
            || device.Nodes.Any(n => OpcUaNodeText.Parse(n.Node).IsRelative);
        NodeId? root = null;
        ExpandedNodeId? typeDefinition = null;
        if (device.Root is not null)
        {
            root = await ResolveAsync(session, namespaces, OpcUaNodeText.Parse(device.Root), null, cancellationToken)
                ?? throw new UaServiceException(StatusCode.BadNodeIdUnknown, $"device {device.Id}: the root {device.Root} is not on the server.");
        }
        else if (needsRoot)
        {
            (root, typeDefinition) = await FindInMachinesAsync(session, namespaces, device.Id, cancellationToken);
        }

        ExpandedNodeId? rootId = root is null ? null : new ExpandedNodeId(root, namespaces[root.NamespaceIndex]);
        if (profile == OpcUaDeviceProfile.Auto)
        {
            profile = await DetectAsync(session, namespaces, root!, typeDefinition, cancellationToken)
                ?? throw new UaServiceException(new StatusCode(BadTypeDefinitionInvalid),
                    $"device {device.Id}: {rootId} is not a MachineToolType (OPC 40501-1), a MotionDeviceSystemType (OPC 40010-1) or a Machinery machine (OPC 40001-1); set its Profile.");
        }

        var candidates = new List<DeviceItem>();
        if (profile is OpcUaDeviceProfile.MachineTool or OpcUaDeviceProfile.Robot or OpcUaDeviceProfile.Machinery)
        {
            AddMachinery(candidates, rootId!);
        }

        if (profile == OpcUaDeviceProfile.MachineTool)
        {
            await AddMachineToolAsync(session, namespaces, root!, rootId!, candidates, cancellationToken);
        }
        else if (profile == OpcUaDeviceProfile.Robot)
        {
            await AddRobotAsync(session, namespaces, root!, rootId!, candidates, cancellationToken);
        }

        // Keep only the standard nodes this server has.
        var found = new List<DeviceItem>();
        if (candidates.Count > 0)
        {
            IReadOnlyList<NodeId?> resolved = await ResolveRelativeAsync(session, namespaces, root!, candidates.Select(c => c.Node.Path).ToList(), cancellationToken);
            for (int i = 0; i < candidates.Count; i++)
            {
                if (resolved[i] is not null)
                {
                    found.Add(candidates[i]);
                }
            }
        }

        double idle = 0;
        double run = 0;
        foreach (OpcUaNodeOptions node in device.Nodes)
        {
            OpcUaNodeText text = OpcUaNodeText.Parse(node.Node);
            bool current = node.IdleThreshold is not null;
            found.RemoveAll(f => f.Signal == node.Signal);
            found.Add(new DeviceItem(text.ToString(), text.ToReference(rootId), current ? ItemRole.Current : ItemRole.Signal, node.Signal) { Options = node });
            if (current)
            {
                idle = node.IdleThreshold!.Value;
                run = node.RunThreshold!.Value;
            }
        }

        if (found.Count == 0)
        {
            throw new UaServiceException(StatusCode.BadNodeIdUnknown, $"device {device.Id}: {rootId} has none of the {profile} profile's nodes and no node is mapped.");
        }

        return new OpcUaDevicePlan(device.Id, profile, rootId, found) { IdleThreshold = idle, RunThreshold = run };
    }

    private static void AddMachinery(List<DeviceItem> items, ExpandedNodeId root)
    {
        items.Add(Item(root, ItemRole.ItemState, null, 1, 0, Mach("MachineryBuildingBlocks"), Mach("MachineryItemState"), Ua("CurrentState")));
        items.Add(Item(root, ItemRole.OperationMode, null, 1, 0, Mach("MachineryBuildingBlocks"), Mach("MachineryOperationMode"), Ua("CurrentState")));
        // OPC 10000-100 IOperationCounterType PowerOnDuration is a Duration: milliseconds.
        items.Add(Item(root, ItemRole.Signal, CanonicalSignals.PowerOnSeconds, 0.001, 0, Mach("MachineryBuildingBlocks"), Mach("MachineryOperationCounter"), Di("PowerOnDuration")));
    }

    private static async Task AddMachineToolAsync(UaSession session, IReadOnlyList<string> ns, NodeId root, ExpandedNodeId rootId, List<DeviceItem> items, CancellationToken ct)
    {
        NodeId? monitoring = (await ResolveRelativeAsync(session, ns, root, [[Mt("Monitoring")]], ct))[0];
        if (monitoring is not null)
        {
            int channel = 0;
            foreach (ReferenceDescription child in await ChildrenAsync(session, monitoring, ct))
            {
                UaBrowseName name = Name(ns, child.BrowseName);
                IReadOnlyList<NodeId?> probe = await ResolveRelativeAsync(session, ns, root, [[Mt("Monitoring"), name, Mt("ChannelState")]], ct);
                if (probe[0] is not null)
                {
                    items.Add(Item(rootId, ItemRole.ChannelState, null, 1, channel, Mt("Monitoring"), name, Mt("ChannelState")));
                    items.Add(Item(rootId, ItemRole.DryRun, null, 1, channel, Mt("Monitoring"), name, Mt("ChannelModifiers"), Mt("DryRun")));
                    items.Add(Item(rootId, ItemRole.TestMode, null, 1, channel, Mt("Monitoring"), name, Mt("ChannelModifiers"), Mt("TestMode")));
                    items.Add(Item(rootId, ItemRole.SingleStep, null, 1, channel, Mt("Monitoring"), name, Mt("ChannelModifiers"), Mt("SingleStep")));
                    channel++;
                }
                else
                {
                    // The MachineToolMonitoringType element: the machine's operation mode and power-on time (OPC 40501-1: hours).
                    items.Add(Item(rootId, ItemRole.MachineToolMode, null, 1, 0, Mt("Monitoring"), name, Mt("OperationMode")));
                    items.Add(Item(rootId, ItemRole.Signal, CanonicalSignals.PowerOnSeconds, 3600, 0, Mt("Monitoring"), name, Mt("PowerOnDuration")));
                }
            }
        }

        items.Add(Item(rootId, ItemRole.Signal, CanonicalSignals.Program, 1, 0, Mt("Production"), Mt("ActiveProgram"), Mt("Name")));
        items.Add(Item(rootId, ItemRole.Signal, CanonicalSignals.PartsTotal, 1, 0, Mt("Production"), Mt("PartsCounter")));
        items.Add(Item(rootId, ItemRole.Signal, CanonicalSignals.PartsGood, 1, 0, Mt("Production"), Mt("PartsGoodCounter")));
        items.Add(Item(rootId, ItemRole.Signal, CanonicalSignals.PartsTotal, 1, 0, Mt("Production"), Mt("Statistics"), Mt("PartsProducedInLifetime")));
    }

    private static async Task AddRobotAsync(UaSession session, IReadOnlyList<string> ns, NodeId root, ExpandedNodeId rootId, List<DeviceItem> items, CancellationToken ct)
    {
        IReadOnlyList<NodeId?> folders = await ResolveRelativeAsync(session, ns, root, [[Rob("SafetyStates")], [Rob("Controllers")]], ct);
        if (folders[0] is { } safety)
        {
            int index = 0;
            foreach (ReferenceDescription child in await ChildrenAsync(session, safety, ct))
            {
                UaBrowseName name = Name(ns, child.BrowseName);
                items.Add(Item(rootId, ItemRole.RobotMode, null, 1, index, Rob("SafetyStates"), name, Di("ParameterSet"), Rob("OperationalMode")));
                items.Add(Item(rootId, ItemRole.EmergencyStop, null, 1, index, Rob("SafetyStates"), name, Di("ParameterSet"), Rob("EmergencyStop")));
                items.Add(Item(rootId, ItemRole.ProtectiveStop, null, 1, index, Rob("SafetyStates"), name, Di("ParameterSet"), Rob("ProtectiveStop")));
                index++;
            }
        }

        if (folders[1] is { } controllers)
        {
            IReadOnlyList<ReferenceDescription> list = await ChildrenAsync(session, controllers, ct);
            if (list.Count > 0)
            {
                UaBrowseName controller = Name(ns, list[0].BrowseName);
                // OPC 40010-1 TotalPowerOnTime is a Duration: milliseconds.
                items.Add(Item(rootId, ItemRole.Signal, CanonicalSignals.PowerOnSeconds, 0.001, 0, Rob("Controllers"), controller, Di("ParameterSet"), Rob("TotalPowerOnTime")));
                NodeId? tasks = (await ResolveRelativeAsync(session, ns, root, [[Rob("Controllers"), controller, Rob("TaskControls")]], ct))[0];
                if (tasks is not null && await ChildrenAsync(session, tasks, ct) is [ReferenceDescription task, ..])
                {
                    items.Add(Item(rootId, ItemRole.Signal, CanonicalSignals.Program, 1, 0, Rob("Controllers"), controller, Rob("TaskControls"), Name(ns, task.BrowseName), Di("ParameterSet"), Rob("TaskProgramName")));
                }
            }
        }
    }

    private static DeviceItem Item(ExpandedNodeId root, ItemRole role, string? signal, double scale, int index, params UaBrowseName[] path) =>
        new(OpcUaNodeText.FormatPath(path, relative: true), UaNodeReference.FromBrowsePath(path, root.ToString()), role, signal, scale, index);

    private static UaBrowseName Name(IReadOnlyList<string> ns, QualifiedName name) =>
        new(name.NamespaceIndex < ns.Count ? ns[name.NamespaceIndex] : OpcUaNodeText.UaNamespace, name.Name ?? "");

    private static async Task<IReadOnlyList<ReferenceDescription>> ChildrenAsync(UaSession session, NodeId node, CancellationToken ct) =>
        (await session.BrowseAllAsync(new BrowseDescription(node) { NodeClassMask = 1 | 2 }, cancellationToken: ct))
            .Where(r => r.IsForward).ToList();

    /// <summary>The device's object in the Machinery Machines folder: the one named like the device, or the only one.</summary>
    private static async Task<(NodeId Root, ExpandedNodeId TypeDefinition)> FindInMachinesAsync(UaSession session, IReadOnlyList<string> ns, string deviceId, CancellationToken ct)
    {
        NodeId machines;
        try
        {
            machines = s_machinesFolder.ToNodeId(ns);
        }
        catch (FormatException)
        {
            throw new UaServiceException(StatusCode.BadNodeIdUnknown, $"device {deviceId}: no Root is configured and the server has no OPC 40001-1 Machines folder (namespace {MachineryNamespace}).");
        }

        List<ReferenceDescription> children = (await ChildrenAsync(session, machines, ct)).Where(c => c.NodeClass == NodeClass.Object).ToList();
        ReferenceDescription? match = children.FirstOrDefault(c => c.BrowseName.Name == deviceId || c.DisplayName.Text == deviceId)
            ?? (children.Count == 1 ? children[0] : null);
        if (match is null)
        {
            throw new UaServiceException(StatusCode.BadNodeIdUnknown,
                $"device {deviceId}: no Root is configured and the Machines folder holds {children.Count} machines ({string.Join(", ", children.Select(c => c.BrowseName.Name))}), none named {deviceId}; set Root.");
        }

        return (match.NodeId.ToNodeId(ns), match.TypeDefinition);
    }

    /// <summary>The profile of the type definition of <paramref name="root"/> or one of its supertypes; machinery for another Machinery machine.</summary>
    private static async Task<OpcUaDeviceProfile?> DetectAsync(UaSession session, IReadOnlyList<string> ns, NodeId root, ExpandedNodeId? typeDefinition, CancellationToken ct)
    {
        NodeId? type = typeDefinition is { IsNull: false } ? typeDefinition.ToNodeId(ns) : null;
        if (type is null)
        {
            IReadOnlyList<ReferenceDescription> refs = await session.BrowseAllAsync(new BrowseDescription(root) { ReferenceTypeId = s_hasTypeDefinition, IncludeSubtypes = false }, cancellationToken: ct);
            type = refs.Count > 0 ? refs[0].NodeId.ToNodeId(ns) : null;
        }

        NodeId? machineTool = TryLocal(s_machineToolType, ns);
        NodeId? robot = TryLocal(s_motionDeviceSystemType, ns);
        for (int depth = 0; type is not null && depth < 16 && type != s_baseObjectType; depth++)
        {
            if (type == machineTool)
            {
                return OpcUaDeviceProfile.MachineTool;
            }

            if (type == robot)
            {
                return OpcUaDeviceProfile.Robot;
            }

            IReadOnlyList<ReferenceDescription> supertypes = await session.BrowseAllAsync(
                new BrowseDescription(type) { Direction = BrowseDirection.Inverse, ReferenceTypeId = s_hasSubtype, IncludeSubtypes = false }, cancellationToken: ct);
            type = supertypes.Count > 0 ? supertypes[0].NodeId.ToNodeId(ns) : null;
        }

        // Not a known type: a machine with Machinery building blocks or a nameplate is a Machinery machine.
        IReadOnlyList<NodeId?> blocks = await ResolveRelativeAsync(session, ns, root, [[Mach("MachineryBuildingBlocks")], [Di("Identification")]], ct);
        return blocks.Any(b => b is not null) ? OpcUaDeviceProfile.Machinery : null;
    }

    private static NodeId? TryLocal(ExpandedNodeId id, IReadOnlyList<string> ns)
    {
        try
        {
            return id.ToNodeId(ns);
        }
        catch (FormatException)
        {
            return null;
        }
    }

    /// <summary>Resolves a node id or an absolute browse path (or a relative one from <paramref name="root"/>); null when the server has no such node.</summary>
    public static async Task<NodeId?> ResolveAsync(UaSession session, IReadOnlyList<string> ns, OpcUaNodeText node, NodeId? root, CancellationToken ct)
    {
        if (node.NodeId is not null)
        {
            try
            {
                return node.NodeId.ToNodeId(ns);
            }
            catch (FormatException)
            {
                return null;
            }
        }

        return (await ResolveRelativeAsync(session, ns, node.IsRelative ? root! : WellKnownNodes.ObjectsFolder, [node.Path], ct))[0];
    }

    /// <summary>Resolves browse paths from <paramref name="start"/> in one TranslateBrowsePathsToNodeIds call; null for a path the server does not have.</summary>
    public static async Task<IReadOnlyList<NodeId?>> ResolveRelativeAsync(UaSession session, IReadOnlyList<string> ns, NodeId start, IReadOnlyList<IReadOnlyList<UaBrowseName>> paths, CancellationToken ct)
    {
        var results = new NodeId?[paths.Count];
        var requests = new List<(int Index, BrowsePath Path)>();
        for (int i = 0; i < paths.Count; i++)
        {
            var names = new List<QualifiedName>();
            foreach (UaBrowseName name in paths[i])
            {
                int index = IndexOf(ns, name.NamespaceUri);
                if (index < 0)
                {
                    names = null;
                    break;
                }

                names.Add(new QualifiedName((ushort)index, name.Name));
            }

            if (names is not null)
            {
                requests.Add((i, new BrowsePath(start, names)));
            }
        }

        if (requests.Count == 0)
        {
            return results;
        }

        IReadOnlyList<BrowsePathResult> translated = await session.TranslateBrowsePathsAsync(requests.Select(r => r.Path).ToList(), ct);
        for (int i = 0; i < requests.Count; i++)
        {
            BrowsePathResult result = translated[i];
            if (result.Status.IsGood && result.Targets.FirstOrDefault(t => t.RemainingPathIndex == uint.MaxValue) is { } target && target.TargetId.ServerIndex == 0)
            {
                results[requests[i].Index] = target.TargetId.ToNodeId(ns);
            }
        }

        return results;
    }

    private static int IndexOf(IReadOnlyList<string> ns, string uri)
    {
        for (int i = 0; i < ns.Count; i++)
        {
            if (string.Equals(ns[i], uri, StringComparison.Ordinal))
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>
    /// Reads the nameplate (OPC 40001-1 Identification: ProductInstanceUri, Manufacturer, Model, SerialNumber) of a
    /// device with a root, and adds the server certificate's thumbprint when the channel is secure.
    /// </summary>
    public static async Task<DeviceIdentity> ReadIdentityAsync(UaSession session, IReadOnlyList<string> ns, OpcUaDevicePlan plan, CancellationToken ct)
    {
        string? thumbprint = session.Channel.Security?.ServerCertificate.Thumbprint;
        var identity = new DeviceIdentity { CertificateThumbprint = thumbprint };
        if (plan.Root is null)
        {
            return identity;
        }

        NodeId root;
        try
        {
            root = plan.Root.ToNodeId(ns);
        }
        catch (FormatException)
        {
            return identity;
        }

        string[] fields = ["ProductInstanceUri", "Manufacturer", "Model", "SerialNumber"];
        IReadOnlyList<NodeId?> nodes = await ResolveRelativeAsync(session, ns, root, fields.Select(f => (IReadOnlyList<UaBrowseName>)[Di("Identification"), Di(f)]).ToList(), ct);
        var reads = nodes.Select((n, i) => (Node: n, Index: i)).Where(x => x.Node is not null).ToList();
        if (reads.Count == 0)
        {
            return identity;
        }

        IReadOnlyList<DataValue> values = await session.ReadAsync(reads.Select(r => new ReadValueId(r.Node!)).ToList(), cancellationToken: ct);
        var text = new string?[fields.Length];
        for (int i = 0; i < reads.Count; i++)
        {
            if (values[i].Status.IsGood)
            {
                text[reads[i].Index] = values[i].Value.Value switch
                {
                    LocalizedText l => l.Text,
                    string s => s,
                    _ => null,
                } is { Length: > 0 } t ? t : null;
            }
        }

        return identity with { ProductInstanceUri = text[0], Manufacturer = text[1], Model = text[2], SerialNumber = text[3] };
    }
}
