using System.Buffers.Text;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using FactoryGateway.Mqtt.Client;
using FactoryGateway.Mqtt.Packets;
using FactoryGateway.Testing;

namespace FactoryGateway.Benchmarks.Load;

/// <summary>
/// Our MQTT client as a subscriber next to <c>mosquitto_sub</c>, both consuming the same stream from
/// mosquitto in the same run: <c>mosquitto_pub -l</c> publishes N numbered messages as fast as it can at
/// QoS 0, then at QoS 1, and each subscriber's rate (first to last message received), losses,
/// duplicates, order and CPU-µs per message are printed as a table. The broker runs with
/// <c>max_queued_messages 0</c> (its default of 1000 drops QoS 1 messages for a subscriber that falls
/// behind) and logs no PUBLISH lines.
/// </summary>
/// <remarks>
/// <c>dotnet run -c Release --project benchmarks/Gateway.Benchmarks -- load-mqtt [--messages 200000]
/// [--qos1-messages 50000] [--payload 64] [--version 5|3]</c>
/// </remarks>
internal static class MqttLoadHarness
{
    // After the publisher has finished, a subscriber that receives nothing more for this long is done (QoS 0 may lose).
    private static readonly TimeSpan s_quiet = TimeSpan.FromSeconds(3);

    public static async Task<int> RunAsync(string[] args)
    {
        int qos0Messages = Option(args, "--messages", 200_000);
        int qos1Messages = Option(args, "--qos1-messages", 50_000);
        int payloadBytes = Option(args, "--payload", 64);
        MqttProtocolVersion version = Option(args, "--version", 5) == 3 ? MqttProtocolVersion.V311 : MqttProtocolVersion.V500;

        await using MosquittoServer broker = MosquittoServer.ForLoad();
        await broker.InitializeAsync();
        using var dir = new TempDirectory("mqtt-load");

        var rows = new List<RunResult>();
        foreach ((MqttQos qos, int count) in new[] { (MqttQos.AtMostOnce, qos0Messages), (MqttQos.AtLeastOnce, qos1Messages) })
        {
            // Warm-up: JIT and connection paths, not measured.
            await RunOnceAsync(broker, dir, qos, Math.Min(count, 5_000), payloadBytes, version, warmUp: true);
            rows.AddRange(await RunOnceAsync(broker, dir, qos, count, payloadBytes, version, warmUp: false));
        }

        Console.WriteLine();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"MQTT subscriber load: mosquitto 2 on loopback, publisher mosquitto_pub -l, {payloadBytes}-byte payloads, our client MQTT {(version == MqttProtocolVersion.V500 ? "5.0" : "3.1.1")}, mosquitto_sub 3.1.1, {Environment.ProcessorCount} cores shared by broker, publisher and both subscribers"));
        Console.WriteLine("| QoS | subscriber | published | received | lost | duplicates | out of order | msg/s (first→last) | vs mosquitto_sub | CPU-µs per message |");
        Console.WriteLine("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (IGrouping<MqttQos, RunResult> run in rows.GroupBy(r => r.Qos))
        {
            double reference = run.Single(r => r.Subscriber == "mosquitto_sub").Rate;
            foreach (RunResult r in run)
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {(int)r.Qos} | {r.Subscriber} | {r.Published:N0} | {r.Received:N0} | {r.Published - r.Distinct:N0} | {r.Received - r.Distinct:N0} | {r.OutOfOrder:N0} | {r.Rate:N0} | {r.Rate / reference:0.00} | {r.CpuMicrosecondsPerMessage:0.00} |"));
            }
        }

        RunResult ours1 = rows.Single(r => r.Qos == MqttQos.AtLeastOnce && r.Subscriber != "mosquitto_sub");
        return ours1.Distinct == ours1.Published ? 0 : 1;
    }

    private static async Task<RunResult[]> RunOnceAsync(MosquittoServer broker, TempDirectory dir, MqttQos qos, int count, int payloadBytes, MqttProtocolVersion version, bool warmUp)
    {
        string topic = $"load/{Guid.NewGuid():N}";
        string input = dir.Combine($"messages-{Guid.NewGuid():N}.txt");
        await File.WriteAllTextAsync(input, BuildMessages(count, payloadBytes));

        // mosquitto_sub: one line per message, "<unix seconds with ns> <payload>", to a file.
        string subOutput = dir.Combine($"sub-{Guid.NewGuid():N}.txt");
        string subId = $"load-sub-{Guid.NewGuid():N}";
        string port = broker.Port.ToString(CultureInfo.InvariantCulture);
        ServerProcess sub = ServerProcess.Start(
            "mosquitto_sub",
            "/bin/sh",
            ["-c", $"exec {Prerequisites.MosquittoSub} -h {MosquittoServer.Host} -p {port} -i {subId} -q {(int)qos} -t {topic} -F '%U %p' > {subOutput}"]);

        var ours = new CountingSubscriber(count);
        var options = new MqttClientOptions
        {
            Host = MosquittoServer.Host,
            Port = broker.Port,
            ClientId = $"load-fgw-{Guid.NewGuid():N}",
            ProtocolVersion = version,
        };
        await using var client = new MqttClient(options, ours.HandleAsync);
        await client.StartAsync(CancellationToken.None);
        await client.SubscribeAsync([new MqttSubscription(topic, qos)], CancellationToken.None);
        using (var subscribed = new CancellationTokenSource(TimeSpan.FromSeconds(30)))
        {
            await broker.WaitForLogAsync($"{subId} {(int)qos} {topic}", subscribed.Token);
        }

        TimeSpan cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        long subCpuBefore = ProcessCpuTicks(sub.Id);
        CommandResult published = await CommandRunner.RunAsync(
            "/bin/sh",
            ["-c", $"{Prerequisites.MosquittoPub} -h {MosquittoServer.Host} -p {port} -q {(int)qos} -t {topic} -l < {input}"],
            TimeSpan.FromMinutes(10));
        if (published.ExitCode != 0)
        {
            throw new InvalidOperationException($"mosquitto_pub failed: {published.Output}");
        }

        await ours.WaitUntilQuietAsync(s_quiet);
        TimeSpan cpu = Process.GetCurrentProcess().TotalProcessorTime - cpuBefore;
        await WaitForFileQuietAsync(subOutput, count, s_quiet);
        long subCpu = ProcessCpuTicks(sub.Id) - subCpuBefore;
        await sub.DisposeAsync();
        await client.DisconnectAsync();
        if (warmUp)
        {
            return [];
        }

        RunResult reference = ReadMosquittoSub(subOutput, qos, count, subCpu);
        return
        [
            new RunResult(qos, "FactoryGateway MqttClient", count, ours.Received, ours.Distinct, ours.OutOfOrder, ours.Rate, cpu.TotalMicroseconds / Math.Max(1, ours.Received)),
            reference,
        ];
    }

    private static string BuildMessages(int count, int payloadBytes)
    {
        var text = new StringBuilder(count * (payloadBytes + 1));
        for (int i = 0; i < count; i++)
        {
            string number = i.ToString("D9", CultureInfo.InvariantCulture);
            text.Append(number).Append(' ', Math.Max(0, payloadBytes - number.Length - 1)).Append('x').Append('\n');
        }

        return text.ToString();
    }

    private static RunResult ReadMosquittoSub(string path, MqttQos qos, int count, long cpuTicks)
    {
        var seen = new bool[count];
        int received = 0;
        int distinct = 0;
        int outOfOrder = 0;
        int last = -1;
        decimal first = 0;
        decimal end = 0;
        foreach (string line in File.ReadLines(path))
        {
            int space = line.IndexOf(' ', StringComparison.Ordinal);
            decimal at = decimal.Parse(line.AsSpan(0, space), CultureInfo.InvariantCulture);
            int n = int.Parse(line.AsSpan(space + 1, 9), CultureInfo.InvariantCulture);
            if (received++ == 0)
            {
                first = at;
            }

            end = at;
            if (!seen[n])
            {
                seen[n] = true;
                distinct++;
            }

            if (n < last)
            {
                outOfOrder++;
            }

            last = n;
        }

        double seconds = (double)(end - first);
        double rate = received > 1 && seconds > 0 ? (received - 1) / seconds : 0;
        double cpuMicroseconds = cpuTicks * 1_000_000.0 / 100; // USER_HZ: 100 ticks per second on Linux
        return new RunResult(qos, "mosquitto_sub", count, received, distinct, outOfOrder, rate, cpuMicroseconds / Math.Max(1, received));
    }

    // utime + stime of a process, in clock ticks (/proc/<pid>/stat fields 14 and 15).
    private static long ProcessCpuTicks(int pid)
    {
        string stat = File.ReadAllText($"/proc/{pid}/stat");
        string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
    }

    private static async Task WaitForFileQuietAsync(string path, int count, TimeSpan quiet)
    {
        long length = -1;
        var still = Stopwatch.StartNew();
        while (true)
        {
            long now = new FileInfo(path).Length;
            if (now != length)
            {
                length = now;
                still.Restart();
            }
            else if (still.Elapsed > quiet || CountLines(path) >= count)
            {
                return;
            }

            await Task.Delay(100);
        }
    }

    private static int CountLines(string path)
    {
        int lines = 0;
        foreach (string _ in File.ReadLines(path))
        {
            lines++;
        }

        return lines;
    }

    private static int Option(string[] args, string name, int fallback)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
    }

    private sealed record RunResult(MqttQos Qos, string Subscriber, int Published, long Received, long Distinct, long OutOfOrder, double Rate, double CpuMicrosecondsPerMessage);

    /// <summary>Counts messages by the 9-digit number at the start of the payload: received, distinct, out of order, first and last arrival.</summary>
    private sealed class CountingSubscriber(int count)
    {
        private readonly bool[] _seen = new bool[count];
        private long _received;
        private long _distinct;
        private long _outOfOrder;
        private int _last = -1;
        private long _first;
        private long _end;

        public long Received => Interlocked.Read(ref _received);

        public long Distinct => _distinct;

        public long OutOfOrder => _outOfOrder;

        public double Rate => _received > 1 ? (_received - 1) / Stopwatch.GetElapsedTime(_first, _end).TotalSeconds : 0;

        public ValueTask HandleAsync(MqttReceivedMessage message, CancellationToken cancellationToken)
        {
            long now = Stopwatch.GetTimestamp();
            if (_received == 0)
            {
                _first = now;
            }

            _end = now;
            if (Utf8Parser.TryParse(message.Payload.Span[..9], out int n, out _) && n < _seen.Length)
            {
                if (!_seen[n])
                {
                    _seen[n] = true;
                    _distinct++;
                }

                if (n < _last)
                {
                    _outOfOrder++;
                }

                _last = n;
            }

            Interlocked.Increment(ref _received);
            return ValueTask.CompletedTask;
        }

        public async Task WaitUntilQuietAsync(TimeSpan quiet)
        {
            long seen = -1;
            var still = Stopwatch.StartNew();
            while (Received < _seen.Length)
            {
                long now = Received;
                if (now != seen)
                {
                    seen = now;
                    still.Restart();
                }
                else if (still.Elapsed > quiet)
                {
                    return;
                }

                await Task.Delay(50);
            }
        }
    }
}
