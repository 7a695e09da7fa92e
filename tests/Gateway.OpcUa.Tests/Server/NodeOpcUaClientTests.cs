using System.Globalization;
using System.Text.Json;
using FactoryGateway.OpcUa.Encoding;
using FactoryGateway.OpcUa.Server;
using FactoryGateway.Testing;

namespace FactoryGateway.OpcUa.Tests.Server;

/// <summary>
/// node-opcua's client (tests/peers/opcua-client.mjs) against our server subset: a third-party client
/// connects with SecurityPolicy None, browses the Machines folder, reads the nameplate, subscribes to a
/// changing variable and logs in with a user name.
/// </summary>
public sealed class NodeOpcUaClientTests(FactoryServerFixture factory) : IClassFixture<FactoryServerFixture>
{
    // node-opcua loads in several seconds on a busy machine and creates its client certificate (an RSA key) on first start.
    private static readonly TimeSpan s_deadline = TimeSpan.FromSeconds(90);

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private string[] Arguments(params string[] extra) => ["opcua-client.mjs", "--endpoint", factory.EndpointUrl, "--pki", factory.NodeClientPki.Path, .. extra];

    private static ServerProcess Start(string[] arguments)
    {
        Prerequisites.PeerModule("node-opcua");
        return ServerProcess.Start("opcua-client", Prerequisites.Node, arguments, RepositoryLayout.PeersDirectory);
    }

    private static async Task<List<JsonElement>> RunAsync(string[] arguments)
    {
        await using ServerProcess client = Start(arguments);
        try
        {
            await client.Exited.WaitAsync(s_deadline, Token);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"opcua-client.mjs did not finish within {s_deadline.TotalSeconds} s.{Environment.NewLine}{client.Describe()}");
        }

        return Events(client.Output);
    }

    private static List<JsonElement> Events(string output) =>
        output.Split('\n').Select(l => l.Trim()).Where(l => l.StartsWith("{\"event\"", StringComparison.Ordinal))
            .Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();

    private static string NodeIdText(NodeId id) => id.IdType == NodeIdType.String
        ? string.Create(CultureInfo.InvariantCulture, $"ns={id.NamespaceIndex};s={id.StringIdentifier}")
        : string.Create(CultureInfo.InvariantCulture, $"ns={id.NamespaceIndex};i={id.NumericIdentifier}");

    [Fact]
    public async Task Node_client_connects_anonymously_and_browses_the_Machines_folder()
    {
        ushort machinery = factory.Ns(MachineryModel.MachineryNamespace);
        ushort machineTool = factory.Ns(MachineryModel.MachineToolNamespace);
        ushort robotics = factory.Ns(MachineryModel.RoboticsNamespace);

        List<JsonElement> events = await RunAsync(Arguments("--browse", $"ns={machinery};i=1001", "--browse", "i=85"));

        Assert.Contains(events, e => e.GetProperty("event").GetString() == "done");
        JsonElement[] browses = events.Where(e => e.GetProperty("event").GetString() == "browse").ToArray();
        Assert.Equal(2, browses.Length);
        JsonElement[] machines = browses[0].GetProperty("references").EnumerateArray().ToArray();
        JsonElement lathe = Assert.Single(machines, r => r.GetProperty("browseName").GetString() == "1:Lathe1");
        JsonElement robot = Assert.Single(machines, r => r.GetProperty("browseName").GetString() == "1:Robot1");
        Assert.Equal("Object", lathe.GetProperty("nodeClass").GetString());
        Assert.Equal("ns=1;s=Lathe1", lathe.GetProperty("nodeId").GetString());
        Assert.Equal($"ns={machineTool};i=13", lathe.GetProperty("typeDefinition").GetString());
        Assert.Equal($"ns={robotics};i=1002", robot.GetProperty("typeDefinition").GetString());
        JsonElement[] objects = browses[1].GetProperty("references").EnumerateArray().ToArray();
        Assert.Contains(objects, r => r.GetProperty("browseName").GetString() == $"{machinery}:Machines");
        Assert.Contains(objects, r => r.GetProperty("nodeId").GetString() == "ns=0;i=2253");
    }

    [Fact]
    public async Task Node_client_reads_the_nameplate()
    {
        NodeId manufacturer = factory.Model.Id("Lathe1", "Identification.Manufacturer");
        NodeId serial = factory.Model.Id("Lathe1", "Identification.SerialNumber");
        NodeId uri = factory.Model.Id("Lathe1", "Identification.ProductInstanceUri");

        List<JsonElement> events = await RunAsync(Arguments("--read", NodeIdText(manufacturer), "--read", NodeIdText(serial), "--read", NodeIdText(uri), "--read", "i=2255"));

        JsonElement[] reads = events.Where(e => e.GetProperty("event").GetString() == "read").ToArray();
        Assert.Equal(4, reads.Length);
        Assert.Equal("Gildemeister", reads[0].GetProperty("value").GetString());
        Assert.Equal("Manufacturer", reads[0].GetProperty("displayName").GetString());
        Assert.Equal($"{factory.Ns(MachineryModel.DiNamespace)}:Manufacturer", reads[0].GetProperty("browseName").GetString());
        Assert.Equal("Variable", reads[0].GetProperty("nodeClass").GetString());
        Assert.Equal("ns=0;i=21", reads[0].GetProperty("dataType").GetString());
        Assert.Equal("SN-4711", reads[1].GetProperty("value").GetString());
        Assert.Equal("urn:example:lathe:SN-4711", reads[2].GetProperty("value").GetString());
        Assert.Contains(MachineryModel.MachineryNamespace, reads[3].GetProperty("value").EnumerateArray().Select(v => v.GetString()));
        Assert.All(reads, r => Assert.Equal("Good", r.GetProperty("status").GetString()));
    }

    [Fact]
    public async Task Node_client_receives_every_data_change_in_order()
    {
        const int Changes = 25;
        NodeId counter = factory.Model.AddValue(factory.Robot, "Cycles", UaNodeIds.Int32, new Variant(0));
        await using ServerProcess client = Start(Arguments("--subscribe", NodeIdText(counter), "--count", (Changes + 1).ToString(CultureInfo.InvariantCulture)));
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(Token);
        deadline.CancelAfter(s_deadline);
        await client.WaitForLineAsync(l => l.Contains("\"event\":\"subscribed\"", StringComparison.Ordinal), deadline.Token);

        DateTime t0 = DateTime.UtcNow;
        for (int i = 1; i <= Changes; i++)
        {
            factory.Server.AddressSpace.SetValue(counter, new Variant(i), t0.AddMilliseconds(i));
        }

        await client.Exited.WaitAsync(s_deadline, Token);
        List<JsonElement> events = Events(client.Output);
        int[] values = events.Where(e => e.GetProperty("event").GetString() == "change").Select(e => e.GetProperty("value").GetInt32()).ToArray();
        Assert.True(client.ExitCode == 0, client.Output);
        Assert.Equal(Enumerable.Range(0, Changes + 1), values);
    }

    [Fact]
    public async Task Node_client_logs_in_with_a_user_name_and_a_wrong_password_is_refused()
    {
        List<JsonElement> accepted = await RunAsync(Arguments("--user", $"{FactoryServerFixture.UserName}:{FactoryServerFixture.Password}", "--read", "i=2259"));
        List<JsonElement> refused = await RunAsync(Arguments("--user", $"{FactoryServerFixture.UserName}:not-the-password"));

        Assert.Contains(accepted, e => e.GetProperty("event").GetString() == "session");
        Assert.Contains(accepted, e => e.GetProperty("event").GetString() == "done");
        JsonElement error = Assert.Single(refused, e => e.GetProperty("event").GetString() == "error");
        Assert.Contains("BadUserAccessDenied", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.DoesNotContain(refused, e => e.GetProperty("event").GetString() == "session");
    }
}
