using FactoryGateway.Testing;

namespace FactoryGateway.OpcUa.Tests;

/// <summary>
/// node-opcua with 1,000 extra variables (<c>--bulk 1000</c>), a user (<c>--users</c>) and operation
/// limits below the client's defaults: the peer for large subscriptions, batching and user-name sessions.
/// </summary>
public sealed class BulkNodeOpcUaServer : IAsyncLifetime
{
    public const string UserName = "operator";
    public const string Password = "line-7-secret";
    public const int BulkItems = 1000;
    public const int MaxMonitoredItemsPerCall = 200;
    public const int MaxNodesPerRead = 300;

    public NodeOpcUaServer Server { get; } = new()
    {
        ExtraArguments = ["--bulk", BulkItems.ToString(System.Globalization.CultureInfo.InvariantCulture), "--users", $"{UserName}:{Password}",
            "--max-monitored-items-per-call", MaxMonitoredItemsPerCall.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--max-nodes-per-read", MaxNodesPerRead.ToString(System.Globalization.CultureInfo.InvariantCulture)],
    };

    public ValueTask InitializeAsync() => Server.InitializeAsync();

    public ValueTask DisposeAsync() => Server.DisposeAsync();
}
