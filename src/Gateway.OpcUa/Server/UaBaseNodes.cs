using FactoryGateway.OpcUa.Encoding;
using FactoryGateway.OpcUa.Services;

namespace FactoryGateway.OpcUa.Server;

/// <summary>
/// The namespace-0 nodes every address space starts with (OPC 10000-5): the standard folders, the
/// reference types with their hierarchy, the base object, variable and data types a Machinery model
/// uses, and the Server object (NamespaceArray, ServerStatus, ServerCapabilities/OperationLimits).
/// </summary>
internal static class UaBaseNodes
{
    private static readonly string?[] s_profiles = ["http://opcfoundation.org/UA-Profile/Server/NanoEmbeddedDevice2017"];
    private static readonly string?[] s_locales = ["en"];

    public static void Add(UaAddressSpace space)
    {
        // Reference types (OPC 10000-3 §7, OPC 10000-5 §11).
        RefType(space, UaNodeIds.References, "References", null, isAbstract: true, symmetric: true);
        RefType(space, UaNodeIds.HierarchicalReferences, "HierarchicalReferences", UaNodeIds.References, isAbstract: true, inverse: "InverseHierarchicalReferences");
        RefType(space, UaNodeIds.NonHierarchicalReferences, "NonHierarchicalReferences", UaNodeIds.References, isAbstract: true, symmetric: true);
        RefType(space, UaNodeIds.HasChild, "HasChild", UaNodeIds.HierarchicalReferences, isAbstract: true, inverse: "ChildOf");
        RefType(space, UaNodeIds.Organizes, "Organizes", UaNodeIds.HierarchicalReferences, inverse: "OrganizedBy");
        RefType(space, UaNodeIds.HasEventSource, "HasEventSource", UaNodeIds.HierarchicalReferences, inverse: "EventSourceOf");
        RefType(space, UaNodeIds.HasNotifier, "HasNotifier", UaNodeIds.HasEventSource, inverse: "NotifierOf");
        RefType(space, UaNodeIds.Aggregates, "Aggregates", UaNodeIds.HasChild, isAbstract: true, inverse: "AggregatedBy");
        RefType(space, UaNodeIds.HasSubtype, "HasSubtype", UaNodeIds.HasChild, inverse: "SubtypeOf");
        RefType(space, UaNodeIds.HasComponent, "HasComponent", UaNodeIds.Aggregates, inverse: "ComponentOf");
        RefType(space, UaNodeIds.HasProperty, "HasProperty", UaNodeIds.Aggregates, inverse: "PropertyOf");
        RefType(space, UaNodeIds.HasOrderedComponent, "HasOrderedComponent", UaNodeIds.HasComponent, inverse: "OrderedComponentOf");
        RefType(space, UaNodeIds.HasAddIn, "HasAddIn", UaNodeIds.HasComponent, inverse: "AddInOf");
        RefType(space, UaNodeIds.HasTypeDefinition, "HasTypeDefinition", UaNodeIds.NonHierarchicalReferences, inverse: "TypeDefinitionOf");
        RefType(space, UaNodeIds.HasModellingRule, "HasModellingRule", UaNodeIds.NonHierarchicalReferences, inverse: "ModellingRuleOf");
        RefType(space, UaNodeIds.HasEncoding, "HasEncoding", UaNodeIds.NonHierarchicalReferences, inverse: "EncodingOf");
        RefType(space, UaNodeIds.HasDescription, "HasDescription", UaNodeIds.NonHierarchicalReferences, inverse: "DescriptionOf");
        RefType(space, UaNodeIds.GeneratesEvent, "GeneratesEvent", UaNodeIds.NonHierarchicalReferences, inverse: "GeneratedBy");
        RefType(space, UaNodeIds.HasInterface, "HasInterface", UaNodeIds.NonHierarchicalReferences, inverse: "InterfaceOf");

        // Object and variable types.
        space.AddType(NodeClass.ObjectType, UaNodeIds.BaseObjectType, new QualifiedName(0, "BaseObjectType"), null);
        space.AddType(NodeClass.ObjectType, UaNodeIds.FolderType, new QualifiedName(0, "FolderType"), UaNodeIds.BaseObjectType);
        space.AddType(NodeClass.ObjectType, UaNodeIds.ServerType, new QualifiedName(0, "ServerType"), UaNodeIds.BaseObjectType);
        space.AddType(NodeClass.ObjectType, UaNodeIds.ServerCapabilitiesType, new QualifiedName(0, "ServerCapabilitiesType"), UaNodeIds.BaseObjectType);
        space.AddType(NodeClass.ObjectType, UaNodeIds.OperationLimitsType, new QualifiedName(0, "OperationLimitsType"), UaNodeIds.FolderType);
        space.AddType(NodeClass.ObjectType, UaNodeIds.StateMachineType, new QualifiedName(0, "StateMachineType"), UaNodeIds.BaseObjectType);
        space.AddType(NodeClass.ObjectType, UaNodeIds.FiniteStateMachineType, new QualifiedName(0, "FiniteStateMachineType"), UaNodeIds.StateMachineType, isAbstract: true);
        space.AddType(NodeClass.ObjectType, UaNodeIds.StateType, new QualifiedName(0, "StateType"), UaNodeIds.BaseObjectType);
        space.AddType(NodeClass.VariableType, UaNodeIds.BaseVariableType, new QualifiedName(0, "BaseVariableType"), null, isAbstract: true);
        space.AddType(NodeClass.VariableType, UaNodeIds.BaseDataVariableType, new QualifiedName(0, "BaseDataVariableType"), UaNodeIds.BaseVariableType);
        space.AddType(NodeClass.VariableType, UaNodeIds.PropertyType, new QualifiedName(0, "PropertyType"), UaNodeIds.BaseVariableType);
        space.AddType(NodeClass.VariableType, UaNodeIds.ServerStatusType, new QualifiedName(0, "ServerStatusType"), UaNodeIds.BaseDataVariableType);
        space.AddType(NodeClass.VariableType, UaNodeIds.StateVariableType, new QualifiedName(0, "StateVariableType"), UaNodeIds.BaseDataVariableType);
        space.AddType(NodeClass.VariableType, UaNodeIds.FiniteStateVariableType, new QualifiedName(0, "FiniteStateVariableType"), UaNodeIds.StateVariableType);

        // Data types: the built-in types under their abstract parents (OPC 10000-3 §8, OPC 10000-5 §12).
        space.AddType(NodeClass.DataType, UaNodeIds.BaseDataType, new QualifiedName(0, "BaseDataType"), null, isAbstract: true);
        space.AddType(NodeClass.DataType, UaNodeIds.Number, new QualifiedName(0, "Number"), UaNodeIds.BaseDataType, isAbstract: true);
        space.AddType(NodeClass.DataType, UaNodeIds.Integer, new QualifiedName(0, "Integer"), UaNodeIds.Number, isAbstract: true);
        space.AddType(NodeClass.DataType, UaNodeIds.UInteger, new QualifiedName(0, "UInteger"), UaNodeIds.Number, isAbstract: true);
        space.AddType(NodeClass.DataType, UaNodeIds.Enumeration, new QualifiedName(0, "Enumeration"), UaNodeIds.BaseDataType, isAbstract: true);
        foreach (BuiltInType type in Enum.GetValues<BuiltInType>())
        {
            if (type is BuiltInType.Null or BuiltInType.Variant or BuiltInType.DataValue or BuiltInType.DiagnosticInfo)
            {
                continue;
            }

            NodeId parent = type switch
            {
                BuiltInType.SByte or BuiltInType.Int16 or BuiltInType.Int32 or BuiltInType.Int64 => UaNodeIds.Integer,
                BuiltInType.Byte or BuiltInType.UInt16 or BuiltInType.UInt32 or BuiltInType.UInt64 => UaNodeIds.UInteger,
                BuiltInType.Float or BuiltInType.Double => UaNodeIds.Number,
                _ => UaNodeIds.BaseDataType,
            };
            string name = type == BuiltInType.ExtensionObject ? "Structure" : type.ToString();
            space.AddType(NodeClass.DataType, new NodeId((uint)type), new QualifiedName(0, name), parent, isAbstract: type == BuiltInType.ExtensionObject);
        }

        space.AddType(NodeClass.DataType, UaNodeIds.Duration, new QualifiedName(0, "Duration"), UaNodeIds.Double);
        space.AddType(NodeClass.DataType, UaNodeIds.UtcTime, new QualifiedName(0, "UtcTime"), UaNodeIds.DateTime);
        space.AddType(NodeClass.DataType, UaNodeIds.ServerState, new QualifiedName(0, "ServerState"), UaNodeIds.Enumeration);
        space.AddType(NodeClass.DataType, UaNodeIds.BuildInfo, new QualifiedName(0, "BuildInfo"), UaNodeIds.Structure);
        space.AddType(NodeClass.DataType, UaNodeIds.ServerStatusDataType, new QualifiedName(0, "ServerStatusDataType"), UaNodeIds.Structure);

        // The standard folders (OPC 10000-5 §8.2).
        space.Add(new UaNode(UaNodeIds.RootFolder, NodeClass.Object, new QualifiedName(0, "Root"), new LocalizedText(null, "Root")));
        space.AddReference(UaNodeIds.RootFolder, UaNodeIds.HasTypeDefinition, UaNodeIds.FolderType);
        space.AddFolder(UaNodeIds.RootFolder, UaNodeIds.ObjectsFolder, new QualifiedName(0, "Objects"));
        space.AddFolder(UaNodeIds.RootFolder, UaNodeIds.TypesFolder, new QualifiedName(0, "Types"));
        space.AddFolder(UaNodeIds.RootFolder, UaNodeIds.ViewsFolder, new QualifiedName(0, "Views"));
        space.AddFolder(UaNodeIds.TypesFolder, UaNodeIds.ObjectTypesFolder, new QualifiedName(0, "ObjectTypes"));
        space.AddFolder(UaNodeIds.TypesFolder, UaNodeIds.VariableTypesFolder, new QualifiedName(0, "VariableTypes"));
        space.AddFolder(UaNodeIds.TypesFolder, UaNodeIds.DataTypesFolder, new QualifiedName(0, "DataTypes"));
        space.AddFolder(UaNodeIds.TypesFolder, UaNodeIds.ReferenceTypesFolder, new QualifiedName(0, "ReferenceTypes"));
        space.AddReference(UaNodeIds.ObjectTypesFolder, UaNodeIds.Organizes, UaNodeIds.BaseObjectType);
        space.AddReference(UaNodeIds.VariableTypesFolder, UaNodeIds.Organizes, UaNodeIds.BaseVariableType);
        space.AddReference(UaNodeIds.DataTypesFolder, UaNodeIds.Organizes, UaNodeIds.BaseDataType);
        space.AddReference(UaNodeIds.ReferenceTypesFolder, UaNodeIds.Organizes, UaNodeIds.References);
    }

    /// <summary>The Server object (OPC 10000-5 §8.3.2) with what clients read: namespaces, status and limits.</summary>
    public static void AddServerObject(UaAddressSpace space, UaServerOptions options, Func<ServerStatus> status)
    {
        NodeId server = WellKnownNodes.Server;
        space.AddObject(UaNodeIds.ObjectsFolder, server, new QualifiedName(0, "Server"), UaNodeIds.ServerType, UaNodeIds.Organizes);
        space.AddComputedVariable(server, new NodeId(2254u), new QualifiedName(0, "ServerArray"), UaNodeIds.String,
            () => new DataValue(Variant.FromArray(BuiltInType.String, new string?[] { options.ApplicationUri })), UaNodeIds.HasProperty, UaNodeIds.PropertyType, 1);
        space.AddComputedVariable(server, WellKnownNodes.ServerNamespaceArray, new QualifiedName(0, "NamespaceArray"), UaNodeIds.String,
            () => new DataValue(Variant.FromArray(BuiltInType.String, space.NamespaceUris.ToArray<string?>())), UaNodeIds.HasProperty, UaNodeIds.PropertyType, 1);
        space.AddComputedVariable(server, WellKnownNodes.ServerStatus, new QualifiedName(0, "ServerStatus"), UaNodeIds.ServerStatusDataType,
            () => Now(space, new Variant(new ExtensionObject(new ServerStatusBody(status())))), UaNodeIds.HasComponent, UaNodeIds.ServerStatusType);
        NodeId statusNode = WellKnownNodes.ServerStatus;
        space.AddComputedVariable(statusNode, new NodeId(2257u), new QualifiedName(0, "StartTime"), UaNodeIds.UtcTime, () => Now(space, new Variant(status().StartTime)));
        space.AddComputedVariable(statusNode, WellKnownNodes.ServerStatusCurrentTime, new QualifiedName(0, "CurrentTime"), UaNodeIds.UtcTime, () => Now(space, new Variant(space.Now)));
        space.AddComputedVariable(statusNode, WellKnownNodes.ServerStatusState, new QualifiedName(0, "State"), UaNodeIds.ServerState, () => Now(space, new Variant((int)status().State)));
        space.AddComputedVariable(statusNode, new NodeId(2992u), new QualifiedName(0, "SecondsTillShutdown"), UaNodeIds.UInt32, () => Now(space, new Variant(status().SecondsTillShutdown)));
        space.AddComputedVariable(statusNode, new NodeId(2993u), new QualifiedName(0, "ShutdownReason"), UaNodeIds.LocalizedText, () => Now(space, new Variant(status().ShutdownReason)));
        space.AddVariable(server, new NodeId(2267u), new QualifiedName(0, "ServiceLevel"), UaNodeIds.Byte, new Variant((byte)255), UaNodeIds.HasProperty, UaNodeIds.PropertyType);

        NodeId capabilities = new(2268u);
        space.AddObject(server, capabilities, new QualifiedName(0, "ServerCapabilities"), UaNodeIds.ServerCapabilitiesType);
        space.AddProperty(capabilities, new NodeId(2269u), new QualifiedName(0, "ServerProfileArray"), UaNodeIds.String,
            Variant.FromArray(BuiltInType.String, s_profiles.ToArray()), 1);
        space.AddProperty(capabilities, new NodeId(2271u), new QualifiedName(0, "LocaleIdArray"), UaNodeIds.String, Variant.FromArray(BuiltInType.String, s_locales.ToArray()), 1);
        space.AddProperty(capabilities, new NodeId(2272u), new QualifiedName(0, "MinSupportedSampleRate"), UaNodeIds.Duration, new Variant(options.MinSamplingInterval.TotalMilliseconds));
        space.AddProperty(capabilities, new NodeId(2735u), new QualifiedName(0, "MaxBrowseContinuationPoints"), UaNodeIds.UInt16, new Variant((ushort)options.MaxBrowseContinuationPoints));
        NodeId limits = new(11704u);
        space.AddObject(capabilities, limits, new QualifiedName(0, "OperationLimits"), UaNodeIds.OperationLimitsType);
        uint perCall = (uint)options.MaxNodesPerCall;
        Limit(space, limits, WellKnownNodes.MaxNodesPerRead, "MaxNodesPerRead", perCall);
        Limit(space, limits, new NodeId(11707u), "MaxNodesPerWrite", perCall);
        Limit(space, limits, WellKnownNodes.MaxNodesPerBrowse, "MaxNodesPerBrowse", perCall);
        Limit(space, limits, WellKnownNodes.MaxNodesPerRegisterNodes, "MaxNodesPerRegisterNodes", perCall);
        Limit(space, limits, WellKnownNodes.MaxNodesPerTranslateBrowsePathsToNodeIds, "MaxNodesPerTranslateBrowsePathsToNodeIds", perCall);
        Limit(space, limits, WellKnownNodes.MaxMonitoredItemsPerCall, "MaxMonitoredItemsPerCall", (uint)options.MaxMonitoredItemsPerCall);
    }

    private static void Limit(UaAddressSpace space, NodeId parent, NodeId id, string name, uint value) =>
        space.AddProperty(parent, id, new QualifiedName(0, name), UaNodeIds.UInt32, new Variant(value));

    private static DataValue Now(UaAddressSpace space, Variant value) => new(value, default, space.Now, space.Now);

    private static void RefType(UaAddressSpace space, NodeId id, string name, NodeId? superType, bool isAbstract = false, bool symmetric = false, string? inverse = null) =>
        space.AddType(NodeClass.ReferenceType, id, new QualifiedName(0, name), superType, isAbstract, inverse, symmetric);
}

/// <summary>ServerStatusDataType (encoding i=864) for encoding into a Variant.</summary>
internal sealed class ServerStatusBody(ServerStatus value) : IUaEncodable
{
    public uint BinaryEncodingId => ServiceIds.ServerStatusDataType;

    public void Encode(UaBinaryEncoder encoder)
    {
        encoder.WriteDateTime(value.StartTime);
        encoder.WriteDateTime(value.CurrentTime);
        encoder.WriteInt32((int)value.State);
        encoder.WriteString(value.BuildInfo.ProductUri);
        encoder.WriteString(value.BuildInfo.ManufacturerName);
        encoder.WriteString(value.BuildInfo.ProductName);
        encoder.WriteString(value.BuildInfo.SoftwareVersion);
        encoder.WriteString(value.BuildInfo.BuildNumber);
        encoder.WriteDateTime(value.BuildInfo.BuildDate);
        encoder.WriteUInt32(value.SecondsTillShutdown);
        encoder.WriteLocalizedText(value.ShutdownReason);
    }
}
