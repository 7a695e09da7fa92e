using System.Text.Json.Nodes;
using FactoryGateway.Edge.Config;
using FactoryGateway.Edge.Sources.OpcUa;
using FactoryGateway.OpcUa.Services;
using FactoryGateway.Testing;

namespace FactoryGateway.Edge.Tests.OpcUa;

/// <summary>Importing OPC Publisher's publishednodes.json as edge OPC UA sources.</summary>
public sealed class PublishedNodesTests
{
    // Laid out as OPC Publisher documents its configuration file: entries per endpoint with writer groups and ids,
    // node ids as Id or ExpandedNodeId, intervals in milliseconds (or as time spans), per-node heartbeat and filters.
    private const string Realistic = """
        [
          {
            "EndpointUrl": "opc.tcp://plc-line7:4840",
            "UseSecurity": true,
            "OpcAuthenticationMode": "UsernamePassword",
            "OpcAuthenticationUsername": "publisher",
            "OpcAuthenticationPassword": "s3cret",
            "DataSetWriterGroup": "Line7",
            "DataSetWriterId": "Press-07",
            "DataSetPublishingInterval": 2000,
            "MessageEncoding": "Json",
            "OpcNodes": [
              { "Id": "ns=2;s=Press07.Stroke.Count", "DataSetFieldId": "cycles", "OpcSamplingInterval": 500, "QueueSize": 4 },
              { "Id": "nsu=urn:plc-line7:press;s=Press07.Hydraulic.Pressure", "DisplayName": "Hydraulic pressure (bar)", "DeadbandType": "Absolute", "DeadbandValue": 0.5,
                "DataChangeTrigger": "StatusValueTimestamp", "HeartbeatInterval": 30 },
              { "ExpandedNodeId": "nsu=urn:plc-line7:press;i=1007", "DataSetFieldId": "Motor Current/A", "OpcSamplingIntervalTimespan": "00:00:00.250", "SkipFirst": true }
            ]
          },
          {
            "EndpointUrl": "opc.tcp://plc-line7:4840",
            "UseSecurity": true,
            "OpcAuthenticationMode": "UsernamePassword",
            "OpcAuthenticationUsername": "publisher",
            "OpcAuthenticationPassword": "s3cret",
            "DataSetWriterGroup": "Line7",
            "DataSetWriterId": "Press-08",
            "OpcNodes": [
              { "Id": "ns=2;s=Press08.Stroke.Count", "DataSetFieldId": "cycles", "OpcPublishingInterval": 1000 },
              { "Id": "ns=2;s=Press08.Stroke.Count2", "DataSetFieldId": "cycles" }
            ]
          },
          {
            "EndpointUrl": "opc.tcp://10.0.0.12:49320",
            "UseSecurity": false,
            "OpcNodes": [
              { "Id": "ns=2;s=Channel1.Device1.Tag1", "OpcSamplingInterval": 1000, "OpcPublishingInterval": 1000 },
              { "Id": "not a node id", "DataSetFieldId": "broken" },
              { "DataSetFieldId": "nothing" }
            ]
          },
          {
            "EndpointUrl": "opc.tcp://10.0.0.13:4840",
            "OpcAuthenticationMode": "Certificate",
            "OpcNodes": [ { "Id": "i=2258", "DataSetFieldId": "server_time", "DeadbandType": "Sometimes" } ]
          }
        ]
        """;

    [Fact]
    public void Imports_endpoints_devices_nodes_and_settings_and_names_every_field_not_taken_over()
    {
        PublishedNodesImport import = PublishedNodes.Import(Realistic);

        Assert.Equal(3, import.Sources.Count);
        OpcUaSourceOptions line7 = import.Sources[0];
        Assert.Equal("opc.tcp://plc-line7:4840", line7.Endpoint);
        Assert.Equal(("Basic256Sha256", MessageSecurityMode.SignAndEncrypt), (line7.SecurityPolicy, line7.SecurityMode));
        Assert.Equal((OpcUaIdentityType.UserName, "publisher", "s3cret"), (line7.Identity.Type, line7.Identity.UserName, line7.Identity.Password));
        Assert.Equal(TimeSpan.FromSeconds(1), line7.PublishingInterval);
        Assert.Equal(["Press-07", "Press-08"], line7.Devices.Select(d => d.Id));
        Assert.All(line7.Devices, d => Assert.Equal(OpcUaDeviceProfile.Custom, d.ProfileKind));

        OpcUaNodeOptions[] press7 = [.. line7.Devices[0].Nodes];
        Assert.Equal(["cycles", "Hydraulic_pressure_bar", "Motor_Current_A"], press7.Select(n => n.Signal));
        Assert.Equal("ns=2;s=Press07.Stroke.Count", press7[0].Node);
        Assert.Equal((TimeSpan.FromMilliseconds(500), 4u), (press7[0].SamplingInterval, press7[0].QueueSize));
        Assert.Equal("nsu=urn:plc-line7:press;s=Press07.Hydraulic.Pressure", press7[1].Node);
        Assert.Equal((DeadbandType.Absolute, 0.5, DataChangeTrigger.StatusValueTimestamp), (press7[1].DeadbandType, press7[1].DeadbandValue, press7[1].DataChangeTrigger));
        Assert.Equal(("nsu=urn:plc-line7:press;i=1007", TimeSpan.FromMilliseconds(250)), (press7[2].Node, press7[2].SamplingInterval));
        Assert.Equal(["cycles", "cycles_2"], line7.Devices[1].Nodes.Select(n => n.Signal));

        OpcUaSourceOptions kepware = import.Sources[1];
        Assert.Equal(("None", MessageSecurityMode.None, OpcUaIdentityType.Anonymous), (kepware.SecurityPolicy, kepware.SecurityMode, kepware.Identity.Type));
        Assert.Equal("10.0.0.12_49320", Assert.Single(kepware.Devices).Id);
        Assert.Equal("Channel1_Device1_Tag1", Assert.Single(kepware.Devices[0].Nodes).Signal);

        string[] paths = [.. import.Issues.Select(i => i.Path)];
        Assert.Contains("$[0].MessageEncoding", paths);
        Assert.Contains("$[0].OpcNodes[1].HeartbeatInterval", paths);
        Assert.Contains("$[0].OpcNodes[2].SkipFirst", paths);
        Assert.Contains("$[0].OpcNodes[2].DataSetFieldId", paths);
        Assert.Contains("$[1].OpcNodes[0].OpcPublishingInterval", paths);
        Assert.Contains("$[1].OpcNodes[1]", paths);
        Assert.Contains("$[2].OpcNodes[1].Id", paths);
        Assert.Contains("$[2].OpcNodes[2]", paths);
        Assert.Contains("$[3].OpcAuthenticationMode", paths);
        Assert.Contains("$[3].OpcNodes[0].DeadbandType", paths);
        Assert.Equal(10, import.Issues.Count);
    }

    [Fact]
    public void The_edge_config_section_loads_and_validates_and_leaves_passwords_out_unless_asked()
    {
        PublishedNodesImport import = PublishedNodes.Import(Realistic);
        string withoutSecrets = PublishedNodes.ToEdgeConfigJson(import);
        Assert.DoesNotContain("s3cret", withoutSecrets, StringComparison.Ordinal);

        JsonObject section = JsonNode.Parse(PublishedNodes.ToEdgeConfigJson(import, includeSecrets: true))!.AsObject();
        using var dir = new TempDirectory("edge-import");
        var config = new JsonObject
        {
            ["EdgeId"] = "edge-1",
            ["Enterprise"] = "91330402MA2B12345X",
            ["DataDirectory"] = dir.Combine("data"),
            ["Ingest"] = new JsonObject { ["Url"] = "https://ingest.example:9086", ["Token"] = "t" },
            ["OpcUa"] = section["OpcUa"]!.DeepClone(),
        };
        string file = dir.Combine("edge.json");
        File.WriteAllText(file, config.ToJsonString());

        EdgeOptions loaded = EdgeConfiguration.Load(file, []);

        Assert.Equal(import.Sources.Select(s => s.Endpoint), loaded.OpcUa.Select(s => s.Endpoint));
        Assert.Equal("s3cret", loaded.OpcUa[0].Identity.Password);
        Assert.Equal(
            import.Sources.SelectMany(s => s.Devices).SelectMany(d => d.Nodes).Select(n => (n.Node, n.Signal, n.SamplingInterval, n.QueueSize, n.DeadbandType, n.DeadbandValue, n.DataChangeTrigger)),
            loaded.OpcUa.SelectMany(s => s.Devices).SelectMany(d => d.Nodes).Select(n => (n.Node, n.Signal, n.SamplingInterval, n.QueueSize, n.DeadbandType, n.DeadbandValue, n.DataChangeTrigger)));
    }

    [Theory]
    [InlineData("{}")]
    [InlineData("not json")]
    public void Anything_but_an_array_of_entries_is_refused(string json) => Assert.Throws<FormatException>(() => PublishedNodes.Import(json));

    [Fact]
    public void Options_name_each_bad_key()
    {
        var options = new OpcUaSourceOptions
        {
            Endpoint = "http://x",
            SecurityPolicy = "Basic128",
            Identity = new OpcUaIdentityOptions { Type = OpcUaIdentityType.UserName },
            Devices =
            {
                new OpcUaDeviceOptions { Id = "a", Profile = "lathe", Root = "/{urn:x" },
                new OpcUaDeviceOptions { Id = "a", Profile = "current-sensor", Nodes = { new OpcUaNodeOptions { Node = "ns=1;s=I", Signal = "bad name", IdleThreshold = 5, RunThreshold = 1 } } },
            },
        };
        var errors = new EdgeConfigurationErrors();
        options.Validate("OpcUa:0", errors);
        string[] keys = [.. errors.All.Select(e => e.Key)];
        Assert.Equal(
            ["OpcUa:0:Endpoint", "OpcUa:0:SecurityPolicy", "OpcUa:0:Identity:UserName", "OpcUa:0:Identity:Password", "OpcUa:0:Devices:0:Profile", "OpcUa:0:Devices:0:Root",
             "OpcUa:0:Devices:1:Nodes:0:Signal", "OpcUa:0:Devices:1:Nodes:0:IdleThreshold", "OpcUa:0:Devices:1:Id"],
            keys);
    }
}
