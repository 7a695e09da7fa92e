using FactoryGateway.Edge.Config;
using FactoryGateway.Edge.Signals;
using FactoryGateway.OpcUa.Client;
using FactoryGateway.OpcUa.Encoding;
using FactoryGateway.OpcUa.Services;
using FactoryGateway.OpcUa.Transport;
using static FactoryGateway.Edge.Sources.OpcUa.CompanionNames;

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

/// <summary>
/// Where a device's alarms come from: its own root object (every event of it counts, <see cref="Sources"/> null), or the
/// Server object with the SourceNodes that belong to the device (the root and the event sources below it), as node ids
/// of the session that discovered them (a server that renumbers its namespaces on restart needs a rediscovery).
/// </summary>
internal sealed record DeviceEvents(ExpandedNodeId Notifier, IReadOnlySet<NodeId>? Sources)
{
    public bool Counts(NodeId? source) => Sources is null || (source is not null && Sources.Contains(source));
}

/// <summary>A device as found on the server: its profile, its root object and the items to monitor.</summary>
internal sealed record OpcUaDevicePlan(string Id, OpcUaDeviceProfile Profile, ExpandedNodeId? Root, IReadOnlyList<DeviceItem> Items)
{
    /// <summary>Where the device's alarms come from; null when the server offers no events for it.</summary>
    public DeviceEvents? Events { get; init; }

    /// <summary>The client handle of the device's event item: after its <see cref="Items"/>.</summary>
    public uint EventsHandle => (uint)Items.Count + 1;

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
    public const string DiNamespace = CompanionNames.DiNamespace;
    public const string MachineryNamespace = CompanionNames.MachineryNamespace;
    public const string MachineToolNamespace = CompanionNames.MachineToolNamespace;
    public const string RoboticsNamespace = CompanionNames.RoboticsNamespace;

    // OPC 10000-4 §7.39 status codes this discovery reports.
    public const uint BadTypeDefinitionInvalid = 0x8075_0000;

    private static readonly NodeId s_hasTypeDefinition = new(40u);
    private static readonly NodeId s_hasSubtype = new(45u);
    private static readonly NodeId s_baseObjectType = new(58u);

    // The type definitions that name a profile, with the ids of their companion specifications' NodeSets.
    internal static ExpandedNodeId MachineToolType { get; } = new(new NodeId(13u), MachineToolNamespace);
    internal static ExpandedNodeId MotionDeviceSystemType { get; } = new(new NodeId(1002u), RoboticsNamespace);
    internal static ExpandedNodeId MachinesFolder { get; } = new(new NodeId(1001u), MachineryNamespace);

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

        DeviceEvents? events = profile is OpcUaDeviceProfile.MachineTool or OpcUaDeviceProfile.Robot or OpcUaDeviceProfile.Machinery
            ? await FindEventsAsync(session, namespaces, root!, rootId!, cancellationToken)
            : null;
        return new OpcUaDevicePlan(device.Id, profile, rootId, found) { IdleThreshold = idle, RunThreshold = run, Events = events };
    }

    // OPC 10000-3 §5.4: EventNotifier bit 0, SubscribeToEvents.
    private const byte SubscribeToEvents = 1;

    // A bound on the event sources collected below a root when its alarms come through the Server object.
    private const int MaxEventSources = 256;

    /// <summary>
    /// The device's events: its root when the root is an event notifier, else the Server object (every server that
    /// offers events makes it one, OPC 10000-5 §8.3.2) with the SourceNodes of the device: the root and what it reaches
    /// over HasEventSource (and its subtype HasNotifier). Null when neither is an event notifier.
    /// </summary>
    private static async Task<DeviceEvents?> FindEventsAsync(UaSession session, IReadOnlyList<string> ns, NodeId root, ExpandedNodeId rootId, CancellationToken ct)
    {
        IReadOnlyList<DataValue> notifiers = await session.ReadAsync(
            [new ReadValueId(root, AttributeIds.EventNotifier), new ReadValueId(WellKnownNodes.Server, AttributeIds.EventNotifier)], cancellationToken: ct);
        if (IsNotifier(notifiers[0]))
        {
            return new DeviceEvents(rootId, null);
        }

        if (!IsNotifier(notifiers[1]))
        {
            return null;
        }

        var sources = new HashSet<NodeId> { root };
        var queue = new Queue<NodeId>([root]);
        while (queue.Count > 0 && sources.Count < MaxEventSources)
        {
            NodeId node = queue.Dequeue();
            foreach (ReferenceDescription r in await session.BrowseAllAsync(new BrowseDescription(node) { ReferenceTypeId = WellKnownNodes.HasEventSource }, cancellationToken: ct))
            {
                if (r.IsForward && r.NodeId.ServerIndex == 0 && sources.Count < MaxEventSources && sources.Add(r.NodeId.ToNodeId(ns)))
                {
                    queue.Enqueue(r.NodeId.ToNodeId(ns));
                }
            }
        }

        return new DeviceEvents(new ExpandedNodeId(WellKnownNodes.Server), sources);

        static bool IsNotifier(DataValue value) => value.Status.IsGood && value.Value.TryGetInt64(out long bits) && (bits & SubscribeToEvents) != 0;
    }

    private static void AddMachinery(List<DeviceItem> items, ExpandedNodeId root)
    {
        items.Add(Item(root, ItemRole.ItemState, null, 1, 0, Machinery.MachineryBuildingBlocks, Machinery.MachineryItemState, Ua.CurrentState));
        items.Add(Item(root, ItemRole.OperationMode, null, 1, 0, Machinery.MachineryBuildingBlocks, Machinery.MachineryOperationMode, Ua.CurrentState));
        // OPC 40001-1 MachineryOperationCounterType (default browse name DI OperationCounters); OPC 10000-100
        // IOperationCounterType PowerOnDuration is a Duration: milliseconds.
        items.Add(Item(root, ItemRole.Signal, CanonicalSignals.PowerOnSeconds, 0.001, 0, Machinery.MachineryBuildingBlocks, Di.OperationCounters, Di.PowerOnDuration));
    }

    private static async Task AddMachineToolAsync(UaSession session, IReadOnlyList<string> ns, NodeId root, ExpandedNodeId rootId, List<DeviceItem> items, CancellationToken ct)
    {
        NodeId? monitoring = (await ResolveRelativeAsync(session, ns, root, [[MachineTool.Monitoring]], ct))[0];
        if (monitoring is not null)
        {
            int channel = 0;
            foreach (ReferenceDescription child in await ChildrenAsync(session, monitoring, ct))
            {
                UaBrowseName name = Name(ns, child.BrowseName);
                IReadOnlyList<NodeId?> probe = await ResolveRelativeAsync(session, ns, root, [[MachineTool.Monitoring, name, MachineTool.ChannelState]], ct);
                if (probe[0] is not null)
                {
                    items.Add(Item(rootId, ItemRole.ChannelState, null, 1, channel, MachineTool.Monitoring, name, MachineTool.ChannelState));
                    items.Add(Item(rootId, ItemRole.DryRun, null, 1, channel, MachineTool.Monitoring, name, MachineTool.ChannelModifiers, MachineTool.DryRun));
                    items.Add(Item(rootId, ItemRole.TestMode, null, 1, channel, MachineTool.Monitoring, name, MachineTool.ChannelModifiers, MachineTool.TestMode));
                    items.Add(Item(rootId, ItemRole.SingleStep, null, 1, channel, MachineTool.Monitoring, name, MachineTool.ChannelModifiers, MachineTool.SingleStep));
                    channel++;
                }
                else
                {
                    // The MachineToolMonitoringType element: the machine's operation mode and power-on time (OPC 40501-1: hours).
                    items.Add(Item(rootId, ItemRole.MachineToolMode, null, 1, 0, MachineTool.Monitoring, name, MachineTool.OperationMode));
                    items.Add(Item(rootId, ItemRole.Signal, CanonicalSignals.PowerOnSeconds, 3600, 0, MachineTool.Monitoring, name, MachineTool.PowerOnDuration));
                }
            }
        }

        items.Add(Item(rootId, ItemRole.Signal, CanonicalSignals.Program, 1, 0, MachineTool.Production, MachineTool.ActiveProgram, MachineTool.Name));
        // OPC 40501-1 ProductionStatisticsType PartsProducedInLifetime. The standard has no machine-wide good-part counter
        // (PartsGood belongs to a job's part sets): parts_good needs a mapped node.
        items.Add(Item(rootId, ItemRole.Signal, CanonicalSignals.PartsTotal, 1, 0, MachineTool.Production, MachineTool.Statistics, MachineTool.PartsProducedInLifetime));
    }

    private static async Task AddRobotAsync(UaSession session, IReadOnlyList<string> ns, NodeId root, ExpandedNodeId rootId, List<DeviceItem> items, CancellationToken ct)
    {
        IReadOnlyList<NodeId?> folders = await ResolveRelativeAsync(session, ns, root, [[Robotics.SafetyStates], [Robotics.Controllers]], ct);
        if (folders[0] is { } safety)
        {
            int index = 0;
            foreach (ReferenceDescription child in await ChildrenAsync(session, safety, ct))
            {
                UaBrowseName name = Name(ns, child.BrowseName);
                items.Add(Item(rootId, ItemRole.RobotMode, null, 1, index, Robotics.SafetyStates, name, Di.ParameterSet, Robotics.OperationalMode));
                items.Add(Item(rootId, ItemRole.EmergencyStop, null, 1, index, Robotics.SafetyStates, name, Di.ParameterSet, Robotics.EmergencyStop));
                items.Add(Item(rootId, ItemRole.ProtectiveStop, null, 1, index, Robotics.SafetyStates, name, Di.ParameterSet, Robotics.ProtectiveStop));
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
                items.Add(Item(rootId, ItemRole.Signal, CanonicalSignals.PowerOnSeconds, 0.001, 0, Robotics.Controllers, controller, Di.ParameterSet, Robotics.TotalPowerOnTime));
                NodeId? tasks = (await ResolveRelativeAsync(session, ns, root, [[Robotics.Controllers, controller, Robotics.TaskControls]], ct))[0];
                if (tasks is not null && await ChildrenAsync(session, tasks, ct) is [ReferenceDescription task, ..])
                {
                    items.Add(Item(rootId, ItemRole.Signal, CanonicalSignals.Program, 1, 0, Robotics.Controllers, controller, Robotics.TaskControls, Name(ns, task.BrowseName), Di.ParameterSet, Robotics.TaskProgramName));
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
            machines = MachinesFolder.ToNodeId(ns);
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

        NodeId? machineTool = TryLocal(MachineToolType, ns);
        NodeId? robot = TryLocal(MotionDeviceSystemType, ns);
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
        IReadOnlyList<NodeId?> blocks = await ResolveRelativeAsync(session, ns, root, [[Machinery.MachineryBuildingBlocks], [Di.Identification]], ct);
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

        UaBrowseName[] fields = [Di.ProductInstanceUri, Di.Manufacturer, Di.Model, Di.SerialNumber];
        IReadOnlyList<NodeId?> nodes = await ResolveRelativeAsync(session, ns, root, fields.Select(f => (IReadOnlyList<UaBrowseName>)[Di.Identification, f]).ToList(), ct);
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
