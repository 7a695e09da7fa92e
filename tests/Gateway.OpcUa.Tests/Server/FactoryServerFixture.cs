using FactoryGateway.OpcUa.Encoding;
using FactoryGateway.OpcUa.Server;
using FactoryGateway.Testing;

namespace FactoryGateway.OpcUa.Tests.Server;

/// <summary>
/// Our server on a free loopback port with a small factory: a lathe (MachineToolType) with a spindle
/// speed and a writable set-point, and a robot (MotionDeviceSystemType); one user name login.
/// </summary>
public sealed class FactoryServerFixture : IAsyncLifetime
{
    public const string UserName = "operator";
    public const string Password = "line-7-secret";

    public FactoryServerFixture()
    {
        Server = new UaServer(new UaServerOptions
        {
            UserValidator = static (user, password) => user == UserName && password == Password,
            MinPublishingInterval = TimeSpan.FromMilliseconds(20),
        });
        Model = new MachineryModel(Server.AddressSpace);
        Lathe = Model.AddMachineTool("Lathe1", new MachineNameplate("Gildemeister", "SN-4711", "urn:example:lathe:SN-4711")
        {
            Model = "CTX 500",
            YearOfConstruction = 2019,
        });
        Robot = Model.AddRobot("Robot1", new MachineNameplate("KUKA", "R-0815", "urn:example:robot:R-0815") { Model = "KR 6" });
        SpindleSpeed = Model.AddValue(Lathe, "Monitoring.SpindleSpeed", UaNodeIds.Double, new Variant(0.0));
        SetPoint = Model.AddValue(Lathe, "Monitoring.SetPoint", UaNodeIds.Double, new Variant(100.0), writable: true);
        PartsMade = Model.AddValue(Robot, "PartsMade", UaNodeIds.Int32, new Variant(0));
    }

    public UaServer Server { get; }

    public MachineryModel Model { get; }

    public MachineNodes Lathe { get; }

    public MachineNodes Robot { get; }

    public NodeId SpindleSpeed { get; }

    public NodeId SetPoint { get; }

    public NodeId PartsMade { get; }

    public string EndpointUrl => Server.EndpointUrl;

    /// <summary>node-opcua's client PKI, shared by the runs of one test class so its certificate is created once.</summary>
    public TempDirectory NodeClientPki { get; } = new("node-opcua-client");

    /// <summary>The index of a namespace URI in the server's table.</summary>
    public ushort Ns(string uri) => (ushort)Server.AddressSpace.NamespaceUris.ToList().IndexOf(uri);

    public async ValueTask InitializeAsync() => await Server.StartAsync(TestContext.Current.CancellationToken);

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync();
        NodeClientPki.Dispose();
    }
}
