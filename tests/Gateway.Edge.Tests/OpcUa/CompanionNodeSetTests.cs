using System.Xml.Linq;
using FactoryGateway.Edge.Sources.OpcUa;
using FactoryGateway.OpcUa.Client;
using FactoryGateway.OpcUa.Encoding;
using FactoryGateway.Testing;

namespace FactoryGateway.Edge.Tests.OpcUa;

/// <summary>
/// Every constant of the OPC UA device profiles and state rules against the published NodeSets of the companion
/// specifications (node-opcua-nodesets in the test peers): namespace URIs, type and folder ids, browse names, enumeration
/// values and state machine states.
/// </summary>
public sealed class CompanionNodeSetTests
{
    private static readonly Lazy<NodeSets> s_nodeSets = new(NodeSets.Load);

    [Fact]
    public void Namespace_uris_are_the_model_uris_of_the_nodesets()
    {
        Assert.Contains(CompanionNames.DiNamespace, s_nodeSets.Value.Models);
        Assert.Contains(CompanionNames.MachineryNamespace, s_nodeSets.Value.Models);
        Assert.Contains(CompanionNames.MachineToolNamespace, s_nodeSets.Value.Models);
        Assert.Contains(CompanionNames.RoboticsNamespace, s_nodeSets.Value.Models);
    }

    [Theory]
    [InlineData("MachineToolType", "UAObjectType", "MachineToolType")]
    [InlineData("MotionDeviceSystemType", "UAObjectType", "MotionDeviceSystemType")]
    [InlineData("MachinesFolder", "UAObject", "Machines")]
    public void Type_and_folder_ids_name_the_published_nodes(string constant, string nodeClass, string browseName)
    {
        ExpandedNodeId id = constant switch
        {
            "MachineToolType" => OpcUaDiscovery.MachineToolType,
            "MotionDeviceSystemType" => OpcUaDiscovery.MotionDeviceSystemType,
            _ => OpcUaDiscovery.MachinesFolder,
        };
        Assert.True(s_nodeSets.Value.Nodes.TryGetValue((id.NamespaceUri!, id.NodeId.ToString()), out Node? node), $"{id} is in no NodeSet");
        Assert.Equal((nodeClass, new UaBrowseName(id.NamespaceUri!, browseName)), (node.NodeClass, node.BrowseName));
    }

    [Fact]
    public void Every_browse_name_the_profiles_use_is_published_in_its_namespace()
    {
        HashSet<UaBrowseName> published = [.. s_nodeSets.Value.Nodes.Values.Select(n => n.BrowseName)];
        List<UaBrowseName> missing = CompanionNames.All.Where(n => !published.Contains(n)).ToList();
        Assert.True(missing.Count == 0, $"not in the NodeSets: {string.Join(", ", missing)}");
    }

    [Theory]
    [InlineData(CompanionNames.MachineToolNamespace, "ChannelState", typeof(ChannelStateValue))]
    [InlineData(CompanionNames.MachineToolNamespace, "MachineOperationMode", typeof(MachineToolOperationMode))]
    [InlineData(CompanionNames.RoboticsNamespace, "OperationalModeEnumeration", typeof(RobotOperationalMode))]
    public void Enumerations_have_the_published_names_and_values(string namespaceUri, string dataType, Type ours)
    {
        Node node = s_nodeSets.Value.Nodes.Values.Single(n => n.NodeClass == "UADataType" && n.BrowseName == new UaBrowseName(namespaceUri, dataType));
        var published = node.Element.Elements(NodeSets.Ns + "Definition").Elements(NodeSets.Ns + "Field")
            .Select(f => (Name: Normal((string)f.Attribute("Name")!), Value: (int)f.Attribute("Value")!)).OrderBy(f => f.Value).ToList();
        var mine = Enum.GetValues(ours).Cast<object>().Select(v => (Name: Normal(v.ToString()!), Value: (int)v)).OrderBy(f => f.Value).ToList();
        Assert.Equal(published, mine);
    }

    [Theory]
    [InlineData("MachineryItemState_StateMachineType", typeof(MachineryItemStateValue))]
    [InlineData("MachineryOperationModeStateMachineType", typeof(MachineryOperationModeValue))]
    public void State_machine_states_have_the_published_names_and_state_numbers(string type, Type ours)
    {
        NodeSets sets = s_nodeSets.Value;
        Node machine = sets.Nodes.Values.Single(n => n.NodeClass == "UAObjectType" && n.BrowseName == new UaBrowseName(CompanionNames.MachineryNamespace, type));
        // The states: objects of StateType (i=2307) or InitialStateType (i=2309) declared in the type.
        var states = sets.Nodes.Values
            .Where(n => n.NodeClass == "UAObject" && n.Parent == machine.Key && n.TypeDefinition is "i=2307" or "i=2309")
            .Select(n => (Name: Normal(n.BrowseName.Name), Number: sets.PropertyValue(n, "StateNumber")))
            .OrderBy(s => s.Name, StringComparer.Ordinal).ToList();
        var mine = Enum.GetValues(ours).Cast<object>().Select(v => (Name: Normal(v.ToString()!), Number: (int?)(int)v)).OrderBy(s => s.Name, StringComparer.Ordinal).ToList();
        Assert.Equal(states, mine);
    }

    private static string Normal(string name) => name.Replace("_", "", StringComparison.Ordinal).ToUpperInvariant();

    internal sealed record Node((string Namespace, string Id) Key, string NodeClass, UaBrowseName BrowseName, (string, string)? Parent, string? TypeDefinition, XElement Element);

    internal sealed class NodeSets
    {
        public static readonly XNamespace Ns = "http://opcfoundation.org/UA/2011/03/UANodeSet.xsd";

        private static readonly string[] s_files =
            ["Opc.Ua.NodeSet2.xml", "Opc.Ua.Di.NodeSet2.xml", "Opc.Ua.Machinery.NodeSet2.xml", "Opc.Ua.MachineTool.NodeSet2.xml", "Opc.Ua.Robotics.NodeSet2.xml"];

        public Dictionary<(string Namespace, string Id), Node> Nodes { get; } = [];

        public HashSet<string> Models { get; } = new(StringComparer.Ordinal);

        public static NodeSets Load()
        {
            Prerequisites.PeerModule("node-opcua");
            string directory = Path.Combine(RepositoryLayout.PeersDirectory, "node_modules", "node-opcua-nodesets", "nodesets");
            var sets = new NodeSets();
            foreach (string file in s_files)
            {
                sets.Add(XDocument.Load(Path.Combine(directory, file)).Root!);
            }

            return sets;
        }

        private void Add(XElement root)
        {
            // Namespace index 0 is the OPC UA namespace; 1… are the file's NamespaceUris.
            List<string> uris = ["http://opcfoundation.org/UA/", .. root.Elements(Ns + "NamespaceUris").Elements(Ns + "Uri").Select(u => u.Value)];
            foreach (XElement model in root.Elements(Ns + "Models").Elements(Ns + "Model"))
            {
                Models.Add((string)model.Attribute("ModelUri")!);
            }

            foreach (XElement e in root.Elements().Where(e => e.Name.LocalName.StartsWith("UA", StringComparison.Ordinal)))
            {
                (string, string) key = Id(uris, (string)e.Attribute("NodeId")!);
                string browse = (string)e.Attribute("BrowseName")!;
                int colon = browse.IndexOf(':', StringComparison.Ordinal);
                int index = colon > 0 && int.TryParse(browse.AsSpan(0, colon), out int n) ? n : 0;
                var name = new UaBrowseName(uris[index], colon > 0 && index > 0 ? browse[(colon + 1)..] : browse);
                string? parent = (string?)e.Attribute("ParentNodeId");
                string? type = e.Elements(Ns + "References").Elements(Ns + "Reference")
                    .FirstOrDefault(r => (string?)r.Attribute("ReferenceType") == "HasTypeDefinition")?.Value;
                Nodes[key] = new Node(key, e.Name.LocalName, name, parent is null ? null : Id(uris, parent), type, e);
            }
        }

        private static (string, string) Id(List<string> uris, string nodeId)
        {
            if (nodeId.StartsWith("ns=", StringComparison.Ordinal))
            {
                int semicolon = nodeId.IndexOf(';', StringComparison.Ordinal);
                return (uris[int.Parse(nodeId.AsSpan(3, semicolon - 3), System.Globalization.CultureInfo.InvariantCulture)], nodeId[(semicolon + 1)..]);
            }

            return (uris[0], nodeId);
        }

        /// <summary>The integer value of a property of <paramref name="node"/> (a UInt32 in the NodeSet), or null.</summary>
        public int? PropertyValue(Node node, string property)
        {
            Node? p = Nodes.Values.FirstOrDefault(n => n.Parent == node.Key && n.BrowseName.Name == property);
            string? text = p?.Element.Element(Ns + "Value")?.Elements().FirstOrDefault()?.Value;
            return int.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, out int value) ? value : null;
        }
    }
}
