using System.Diagnostics;
using System.Globalization;
using FactoryGateway.OpcUa.Client;
using FactoryGateway.OpcUa.Encoding;
using FactoryGateway.OpcUa.Server;
using FactoryGateway.OpcUa.Services;

namespace FactoryGateway.Benchmarks.Load;

/// <summary>
/// The OPC UA server subset under a subscription load: N variables monitored by one of our client sessions
/// over loopback UA-TCP; each round sets every value once and waits until the client received all N data
/// changes, R rounds. Reports notifications/s, CPU-µs and allocated bytes per notification (server and
/// client share the process, so both sides are in the figures).
/// </summary>
/// <remarks><c>dotnet run -c Release --project benchmarks/Gateway.Benchmarks -- load-opcua-server [--items 1000] [--rounds 100]</c>.</remarks>
internal static class OpcUaServerLoadHarness
{
    public static async Task<int> RunAsync(string[] args)
    {
        int items = (int)Option(args, "--items", 1_000);
        int rounds = (int)Option(args, "--rounds", 100);
        await using var server = new UaServer(new UaServerOptions { MinPublishingInterval = TimeSpan.FromMilliseconds(10) });
        var nodes = new NodeId[items];
        for (int i = 0; i < items; i++)
        {
            nodes[i] = new NodeId(string.Create(CultureInfo.InvariantCulture, $"Load.{i:D5}"), 1);
            server.AddressSpace.AddVariable(UaNodeIds.ObjectsFolder, nodes[i], new QualifiedName(1, nodes[i].StringIdentifier), UaNodeIds.Double, new Variant(0.0));
        }

        await server.StartAsync();
        await using UaSession session = await UaSession.ConnectAsync(server.EndpointUrl);
        UaSubscription subscription = await session.CreateSubscriptionAsync(new UaSubscriptionOptions { PublishingInterval = 10, MessageBufferCapacity = 10_000 });
        await subscription.CreateMonitoredItemsAsync(nodes.Select((n, i) => new MonitoredItemRequest(new ReadValueId(n)) { ClientHandle = (uint)i + 1, SamplingInterval = 0, QueueSize = 1 }).ToArray());
        await ReceiveAsync(subscription, items); // the initial values

        using var process = Process.GetCurrentProcess();
        TimeSpan cpu = process.TotalProcessorTime;
        long allocated = GC.GetTotalAllocatedBytes(precise: true);
        long started = Stopwatch.GetTimestamp();
        for (int round = 1; round <= rounds; round++)
        {
            DateTime now = DateTime.UtcNow;
            foreach (NodeId node in nodes)
            {
                server.AddressSpace.SetValue(node, new Variant((double)round), now);
            }

            await ReceiveAsync(subscription, items);
        }

        TimeSpan elapsed = Stopwatch.GetElapsedTime(started);
        process.Refresh();
        double cpuMicros = (process.TotalProcessorTime - cpu).TotalMicroseconds;
        long bytes = GC.GetTotalAllocatedBytes(precise: true) - allocated;
        long notifications = (long)items * rounds;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"OPC UA server subset, {DateTime.UtcNow:yyyy-MM-dd}: {items:N0} monitored items × {rounds} rounds over loopback, publishing interval 10 ms, {Environment.ProcessorCount} cores"));
        Console.WriteLine("| notifications | wall (s) | notifications/s | CPU-µs per notification | allocated bytes per notification | Publish responses | keep-alives |");
        Console.WriteLine("|---:|---:|---:|---:|---:|---:|---:|");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {notifications:N0} | {elapsed.TotalSeconds:0.00} | {notifications / elapsed.TotalSeconds:N0} | {cpuMicros / notifications:0.0} | {(double)bytes / notifications:N0} | {server.PublishResponses:N0} | {server.KeepAlives:N0} |"));
        return 0;
    }

    private static async Task ReceiveAsync(UaSubscription subscription, int count)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        int received = 0;
        while (received < count)
        {
            SubscriptionMessage message = await subscription.Messages.ReadAsync(deadline.Token);
            received += message.DataChanges.Count;
        }
    }

    private static long Option(string[] args, string name, long fallback)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? long.Parse(args[i + 1], NumberStyles.AllowThousands, CultureInfo.InvariantCulture) : fallback;
    }
}
