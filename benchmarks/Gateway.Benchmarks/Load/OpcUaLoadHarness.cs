using System.Diagnostics;
using System.Globalization;
using FactoryGateway.OpcUa.Client;
using FactoryGateway.OpcUa.Services;
using FactoryGateway.Testing;

namespace FactoryGateway.Benchmarks.Load;

/// <summary>
/// OPC UA subscription load: a node-opcua server with n changing variables (<c>opcua-server.mjs --bulk n</c>),
/// our client (a <see cref="UaConnection"/> in this process) and node-opcua's own client
/// (<c>tests/peers/opcua-load-client.mjs</c>, its own process) both subscribed to all of them at the
/// same sampling and publishing interval, measured over the same window. Prints a table: notifications/s,
/// lost notifications (sequence gaps and values that did not increase), and CPU-µs per notification —
/// this process's CPU for ours, <c>/proc/&lt;pid&gt;/stat</c> utime+stime for node-opcua's client.
/// </summary>
/// <remarks>
/// <c>dotnet run -c Release --project benchmarks/Gateway.Benchmarks -- load-opcua [--seconds 60]
/// [--items 10000] [--interval 1000] [--warmup 5]</c>
/// </remarks>
internal static class OpcUaLoadHarness
{
    public static async Task<int> RunAsync(string[] args)
    {
        int seconds = Option(args, "--seconds", 60);
        int items = Option(args, "--items", 10_000);
        int interval = Option(args, "--interval", 1000);
        int warmup = Option(args, "--warmup", 5);
        if (items > 10_000)
        {
            Console.Error.WriteLine("--items: at most 10,000 (the bulk variables are numbered with four digits).");
            return 2;
        }

        await using var server = new NodeOpcUaServer { ExtraArguments = ["--bulk", items.ToString(CultureInfo.InvariantCulture)] };
        await server.InitializeAsync();
        Console.WriteLine($"node-opcua server with {items:N0} variables at {server.EndpointUrl}");

        // Ours.
        var spec = new UaSubscriptionSpec("bulk", [.. Enumerable.Range(0, items).Select(i =>
            new UaMonitoredItemSpec(i.ToString(CultureInfo.InvariantCulture), UaNodeReference.Parse($"ns=1;s=Bulk.{i:D4}")) { SamplingInterval = interval })])
        {
            Options = new UaSubscriptionOptions { PublishingInterval = interval, LifetimeCount = 60, MaxKeepAliveCount = 10 },
        };
        // Five Publish requests in the pipeline, as node-opcua's client keeps (ClientSidePublishEngine.publishRequestCountInPipeline):
        // node-opcua caps a NotificationMessage at 1,000 notifications, so 10,000 items need 10 messages per cycle.
        var options = new UaConnectionOptions { EndpointUrl = server.EndpointUrl, Session = new UaSessionOptions { PublishRequests = 5 } };
        options.Subscriptions.Add(spec);
        await using var connection = new UaConnection(options);
        var counter = new Counter(items);
        connection.Start();
        Task consuming = Task.Run(() => ConsumeAsync(connection, counter));

        // node-opcua's.
        string script = Path.Combine(RepositoryLayout.PeersDirectory, "opcua-load-client.mjs");
        await using ServerProcess nodeClient = ServerProcess.Start(
            "node-opcua client", Prerequisites.Node,
            [script, "--endpoint", server.EndpointUrl, "--items", items.ToString(CultureInfo.InvariantCulture), "--interval", interval.ToString(CultureInfo.InvariantCulture)],
            RepositoryLayout.PeersDirectory);

        using (var ready = new CancellationTokenSource(TimeSpan.FromMinutes(3)))
        {
            await nodeClient.WaitForLineAsync(l => l == "SUBSCRIBED", ready.Token);
            await counter.AllSeen.WaitAsync(ready.Token);
        }

        Console.WriteLine($"both clients subscribed; warm-up {warmup} s, then {seconds} s measured");
        await Task.Delay(TimeSpan.FromSeconds(warmup));

        // Window start.
        int mark = 0;
        Snapshot oursBefore = counter.Take();
        TimeSpan cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        long allocatedBefore = GC.GetTotalAllocatedBytes(precise: false);
        (long Notifications, long Lost, long Messages) nodeBefore = await MarkAsync(nodeClient, ++mark);
        double nodeCpuBefore = ProcessCpuSeconds(nodeClient.Id);
        var clock = Stopwatch.StartNew();

        await Task.Delay(TimeSpan.FromSeconds(seconds));

        // Window end.
        double nodeCpuAfter = ProcessCpuSeconds(nodeClient.Id);
        (long Notifications, long Lost, long Messages) nodeAfter = await MarkAsync(nodeClient, ++mark);
        TimeSpan cpuAfter = Process.GetCurrentProcess().TotalProcessorTime;
        long allocatedAfter = GC.GetTotalAllocatedBytes(precise: false);
        Snapshot oursAfter = counter.Take();
        double elapsed = clock.Elapsed.TotalSeconds;

        long ours = oursAfter.Notifications - oursBefore.Notifications;
        long oursLost = oursAfter.Lost - oursBefore.Lost;
        long theirs = nodeAfter.Notifications - nodeBefore.Notifications;
        long theirsLost = nodeAfter.Lost - nodeBefore.Lost;
        double oursCpuUs = (cpuAfter - cpuBefore).TotalMicroseconds / Math.Max(1, ours);
        double theirsCpuUs = (nodeCpuAfter - nodeCpuBefore) * 1e6 / Math.Max(1, theirs);

        Console.WriteLine();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"OPC UA subscription load: node-opcua server, {items:N0} Double variables changing every 100 ms, sampling and publishing {interval} ms, {elapsed:0.0} s measured after {warmup} s warm-up; server and both clients share {Environment.ProcessorCount} cores"));
        Console.WriteLine("| client | notifications/s | lost | CPU-µs per notification | bytes allocated per notification |");
        Console.WriteLine("|---|---:|---:|---:|---:|");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| FactoryGateway (UaConnection) | {ours / elapsed:N0} | {oursLost:N0} | {oursCpuUs:0.00} | {(double)(allocatedAfter - allocatedBefore) / Math.Max(1, ours):0} |"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| node-opcua client | {theirs / elapsed:N0} | {theirsLost:N0} | {theirsCpuUs:0.00} | – |"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| ratio (ours / node-opcua) | {(double)ours / Math.Max(1, theirs):0.00} | | {oursCpuUs / theirsCpuUs:0.00} | |"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"our connection: {connection.Connects} connect(s), {connection.Gaps} gap(s), {connection.DeliveryFullWaits} delivery waits; items with values: {counter.ItemsSeen:N0}"));

        await connection.DisposeAsync();
        await consuming;
        return oursLost == 0 && ours > 0 ? 0 : 1;
    }

    private static async Task ConsumeAsync(UaConnection connection, Counter counter)
    {
        await foreach (UaConnectionEvent e in connection.Events.ReadAllAsync())
        {
            switch (e)
            {
                case UaDataChanges data:
                    counter.Add(data);
                    break;
                case UaDataGap gap:
                    Console.WriteLine($"gap: {gap.Start:O} – {gap.End:O} ({gap.Reason})");
                    break;
                case UaConnectionStateChanged { State: UaConnectionState.Disconnected } lost:
                    Console.WriteLine($"disconnected: {lost.Status} {lost.Reason}");
                    break;
                case UaItemUnavailable item:
                    Console.WriteLine($"unavailable: {item.Key} {item.Status}");
                    break;
            }
        }
    }

    /// <summary>Sends SIGUSR1 and reads the "MARK n lost messages" line the script answers with.</summary>
    private static async Task<(long, long, long)> MarkAsync(ServerProcess process, int mark)
    {
        int seen = 0;
        Task<string> line = process.WaitForLineAsync(l => l.StartsWith("MARK ", StringComparison.Ordinal) && ++seen == mark, CancellationToken.None);
        using (Process kill = Process.Start("kill", ["-USR1", process.Id.ToString(CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
        }

        string[] parts = (await line.WaitAsync(TimeSpan.FromSeconds(30))).Split(' ');
        return (long.Parse(parts[1], CultureInfo.InvariantCulture), long.Parse(parts[2], CultureInfo.InvariantCulture), long.Parse(parts[3], CultureInfo.InvariantCulture));
    }

    /// <summary>utime + stime of a process from /proc/&lt;pid&gt;/stat, in seconds (clock ticks of 1/100 s on Linux).</summary>
    private static double ProcessCpuSeconds(int pid)
    {
        string stat = File.ReadAllText($"/proc/{pid}/stat");
        // The command name (field 2) is in parentheses and may hold spaces: count fields after the last ')'.
        string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        long utime = long.Parse(fields[11], CultureInfo.InvariantCulture);
        long stime = long.Parse(fields[12], CultureInfo.InvariantCulture);
        return (utime + stime) / 100.0;
    }

    private static int Option(string[] args, string name, int fallback)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
    }

    private sealed record Snapshot(long Notifications, long Lost);

    /// <summary>Counts notifications; a value that does not increase, or a sequence gap, counts as lost.</summary>
    private sealed class Counter(int items)
    {
        private readonly double[] _last = Enumerable.Repeat(double.NegativeInfinity, items).ToArray();
        private readonly TaskCompletionSource _allSeen = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private long _notifications;
        private long _lost;
        private int _itemsSeen;

        public Task AllSeen => _allSeen.Task;

        public int ItemsSeen => Volatile.Read(ref _itemsSeen);

        public Snapshot Take() => new(Interlocked.Read(ref _notifications), Interlocked.Read(ref _lost));

        public void Add(UaDataChanges data)
        {
            long lost = data.MissedBefore;
            foreach (MonitoredItemNotification n in data.Values)
            {
                int index = (int)n.ClientHandle - 1;
                if ((uint)index >= (uint)_last.Length || !n.Value.Value.TryGetDouble(out double value))
                {
                    lost++;
                    continue;
                }

                if (double.IsNegativeInfinity(_last[index]) && Interlocked.Increment(ref _itemsSeen) == _last.Length)
                {
                    _allSeen.TrySetResult();
                }

                if (value <= _last[index])
                {
                    lost++;
                }

                _last[index] = value;
            }

            Interlocked.Add(ref _notifications, data.Values.Count);
            Interlocked.Add(ref _lost, lost);
        }
    }
}
