using FactoryGateway.Testing;

namespace FactoryGateway.OpcUa.Tests;

/// <summary>
/// node-opcua with 1,000 extra variables (<c>--bulk 1000</c>) and a user (<c>--users</c>): the peer
/// for large subscriptions and user-name sessions.
/// </summary>
public sealed class BulkNodeOpcUaServer : IAsyncLifetime
{
    public const string UserName = "operator";
    public const string Password = "line-7-secret";
    public const int BulkItems = 1000;

    public NodeOpcUaServer Server { get; } = new()
    {
        ExtraArguments = ["--bulk", BulkItems.ToString(System.Globalization.CultureInfo.InvariantCulture), "--users", $"{UserName}:{Password}"],
    };

    public ValueTask InitializeAsync() => Server.InitializeAsync();

    public ValueTask DisposeAsync() => Server.DisposeAsync();
}
