using System.Diagnostics;
using System.Globalization;
using FactoryGateway.Edge;
using FactoryGateway.Edge.Config;
using FactoryGateway.Edge.Signals;
using FactoryGateway.Edge.Sources;
using FactoryGateway.Evidence;
using FactoryGateway.Ingest;
using FactoryGateway.Ingest.Http;
using FactoryGateway.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace FactoryGateway.Benchmarks.Load;

/// <summary>
/// The edge agent's data path, measured in three phases with the real ingest in a child process (so the
/// edge's CPU is this process's alone):
/// <list type="number">
/// <item><b>Outage</b>: the ingest is down; a source hands N samples (D devices, 10 Hz of source time) to the
/// normaliser as fast as it takes them; they go to the disk buffer. Samples/s and CPU-µs per sample of
/// source → buffer.</item>
/// <item><b>Backlog</b>: the agent's resident memory with those N samples waiting on disk (goal ≤ 150 MB at 10M).</item>
/// <item><b>Replay</b>: the ingest starts; the uplink sends the backlog. Samples/s and CPU-µs per sample for the
/// edge and for the ingest.</item>
/// </list>
/// Then a <b>live</b> run: source → buffer → uplink → ingest at once, for samples/s and the edge's CPU-µs per sample.
/// </summary>
/// <remarks>
/// <c>dotnet run -c Release --project benchmarks/Gateway.Benchmarks -- load-edge [--samples 10000000] [--devices 100] [--live-samples 2000000]</c>
/// </remarks>
internal static class EdgeLoadHarness
{
    private const string Enterprise = "91330402MA2B3C4D53";

    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Length > 0 && args[0] == "ingest-child")
        {
            return await RunIngestChildAsync(args[1], args[2]);
        }

        long samples = Option(args, "--samples", 10_000_000);
        int devices = (int)Option(args, "--devices", 100);
        long liveSamples = Option(args, "--live-samples", 2_000_000);
        using var dir = new TempDirectory("edge-load");
        string ingestDir = dir.Combine("ingest");
        Directory.CreateDirectory(ingestDir);
        string token;
        using (EvidenceStore evidence = EvidenceStore.Open(ingestDir))
        {
            token = evidence.Tokens.CreateToken(TokenRole.Enterprise, Enterprise, null, "load-edge");
        }

        string url = $"http://127.0.0.1:{FreeTcpPort.Next()}";
        var rows = new List<string>();

        // Outage → backlog → replay.
        {
            EdgeOptions options = Options(dir.Combine("edge-backlog"), url, token);
            var source = new GeneratorSource(devices);
            await using EdgeAgent agent = EdgeAgent.Create(options, [source], NullLoggerFactory.Instance);
            agent.Start();
            IEdgeSink sink = await source.Sink;
            Process self = Process.GetCurrentProcess();
            self.Refresh();
            TimeSpan cpu0 = self.TotalProcessorTime;
            long t0 = Stopwatch.GetTimestamp();
            long accepted = source.Emit(sink, 0, samples);
            await WaitAsync(() => agent.Buffer.Lines >= accepted && agent.Buffer.PendingLines == 0, TimeSpan.FromMinutes(30));
            double seconds = Stopwatch.GetElapsedTime(t0).TotalSeconds;
            self.Refresh();
            double cpuUs = (self.TotalProcessorTime - cpu0).TotalMicroseconds;
            rows.Add(Row("source → disk buffer (ingest down)", accepted, seconds, cpuUs, null));

            GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
            self.Refresh();
            long bufferBytes = agent.Buffer.Log.GetStats().BytesOnDisk;
            string rss = string.Create(CultureInfo.InvariantCulture, $"{self.WorkingSet64 / 1048576.0:0} MB RSS (peak {self.PeakWorkingSet64 / 1048576.0:0} MB, managed heap {GC.GetTotalMemory(false) / 1048576.0:0} MB, GC committed {GC.GetGCMemoryInfo().TotalCommittedBytes / 1048576.0:0} MB) with {accepted:N0} samples = {bufferBytes / 1048576.0:0} MB waiting on disk");

            using IngestChild ingest = IngestChild.Start(ingestDir, url);
            await ingest.ReadyAsync(url);
            self.Refresh();
            cpu0 = self.TotalProcessorTime;
            TimeSpan ingestCpu0 = ingest.Cpu;
            t0 = Stopwatch.GetTimestamp();
            await WaitAsync(() => agent.Uplink.GetStats().PendingBytes == 0, TimeSpan.FromMinutes(60));
            seconds = Stopwatch.GetElapsedTime(t0).TotalSeconds;
            self.Refresh();
            rows.Add(Row("replay of the backlog to the ingest", accepted, seconds, (self.TotalProcessorTime - cpu0).TotalMicroseconds, (ingest.Cpu - ingestCpu0).TotalMicroseconds));
            rows.Add($"| memory with the backlog | {rss} | | | |");
            await ingest.StopAsync();
        }

        // Live: source → buffer → uplink → ingest at once.
        {
            using IngestChild ingest = IngestChild.Start(ingestDir, url);
            await ingest.ReadyAsync(url);
            EdgeOptions options = Options(dir.Combine("edge-live"), url, token);
            var source = new GeneratorSource(devices);
            await using EdgeAgent agent = EdgeAgent.Create(options, [source], NullLoggerFactory.Instance);
            agent.Start();
            IEdgeSink sink = await source.Sink;
            Process self = Process.GetCurrentProcess();
            self.Refresh();
            TimeSpan cpu0 = self.TotalProcessorTime;
            TimeSpan ingestCpu0 = ingest.Cpu;
            long t0 = Stopwatch.GetTimestamp();
            long accepted = source.Emit(sink, samples, liveSamples);
            await WaitAsync(() => agent.Buffer.Lines >= accepted && agent.Buffer.PendingLines == 0 && agent.Uplink.GetStats().PendingBytes == 0, TimeSpan.FromMinutes(30));
            double seconds = Stopwatch.GetElapsedTime(t0).TotalSeconds;
            self.Refresh();
            rows.Add(Row("live: source → buffer → uplink → ingest", accepted, seconds, (self.TotalProcessorTime - cpu0).TotalMicroseconds, (ingest.Cpu - ingestCpu0).TotalMicroseconds));
            await ingest.StopAsync();
        }

        Console.WriteLine();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Edge agent load: {devices} devices, one integer signal at 10 Hz of source time, buffer fsync per 1 s flush, uplink batches of 5,000 lines gzip to the real ingest (child process, WAL fsync) on loopback, {Environment.ProcessorCount} cores shared"));
        Console.WriteLine("| phase | samples | samples/s | edge CPU-µs per sample | ingest CPU-µs per sample |");
        Console.WriteLine("|---|---:|---:|---:|---:|");
        rows.ForEach(Console.WriteLine);
        return 0;
    }

    private static string Row(string phase, long samples, double seconds, double edgeCpuUs, double? ingestCpuUs) =>
        string.Create(CultureInfo.InvariantCulture,
            $"| {phase} | {samples:N0} | {samples / seconds:N0} | {edgeCpuUs / samples:0.00} | {(ingestCpuUs is { } i ? (i / samples).ToString("0.00", CultureInfo.InvariantCulture) : "—")} |");

    private static EdgeOptions Options(string dataDirectory, string url, string token)
    {
        var options = new EdgeOptions
        {
            EdgeId = "load-edge",
            Enterprise = Enterprise,
            DataDirectory = dataDirectory,
            Ingest = new UplinkOptions { Url = url, Token = token, InitialRetryDelay = TimeSpan.FromMilliseconds(200), MaxRetryDelay = TimeSpan.FromSeconds(1) },
            Buffer = new BufferOptions { MaxBytes = 16L * 1024 * 1024 * 1024 },
        };
        return options;
    }

    private static async Task WaitAsync(Func<bool> condition, TimeSpan deadline)
    {
        long start = Stopwatch.GetTimestamp();
        while (!condition())
        {
            if (Stopwatch.GetElapsedTime(start) > deadline)
            {
                throw new TimeoutException($"the phase did not finish within {deadline}");
            }

            await Task.Delay(10); // polling interval of the harness
        }
    }

    private static async Task<int> RunIngestChildAsync(string dataDirectory, string url)
    {
        using EvidenceStore evidence = EvidenceStore.Open(dataDirectory);
        await using IngestServer server = await IngestServer.StartAsync(
            url, new IngestOptions { DataDirectory = dataDirectory }, evidence.Tokens, evidence.Devices, consumers: null, metrics: null,
            TimeProvider.System, NullLoggerFactory.Instance, CancellationToken.None);
        Console.WriteLine("ready");
        await Console.In.ReadLineAsync(); // the parent closes stdin to stop the child
        return 0;
    }

    // Generated samples: device i's integer signal at 10 Hz of source time, ending now.
    private sealed class GeneratorSource(int devices) : IEdgeSource
    {
        private readonly TaskCompletionSource<IEdgeSink> _sink = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public string Name => "generator";

        public IReadOnlyList<string> Devices { get; } = [.. Enumerable.Range(0, devices).Select(i => $"dev-{i:D4}")];

        public Task<IEdgeSink> Sink => _sink.Task;

        public async Task RunAsync(IEdgeSink sink, CancellationToken cancellationToken)
        {
            foreach (string device in Devices)
            {
                sink.Connection(device, up: true);
            }

            _sink.TrySetResult(sink);
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }

        public long Emit(IEdgeSink sink, long first, long count)
        {
            long perDevice = (first + count) / Devices.Count + 1;
            long start = ((DateTimeOffset.UtcNow - DateTimeOffset.UnixEpoch).Ticks * 100) - (perDevice * 100_000_000L);
            long accepted = 0;
            for (long n = first; n < first + count; n++)
            {
                int device = (int)(n % Devices.Count);
                long step = n / Devices.Count;
                if (sink.Sample(new EdgeSample(Devices[device], "v", SignalValue.Integer(step), SignalQuality.Good, start + (step * 100_000_000L))) == SampleAcceptance.Accepted)
                {
                    accepted++;
                }
            }

            return accepted;
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    private sealed class IngestChild : IDisposable
    {
        private readonly Process _process;

        private IngestChild(Process process) => _process = process;

        public TimeSpan Cpu
        {
            get
            {
                _process.Refresh();
                return _process.TotalProcessorTime;
            }
        }

        public static IngestChild Start(string dataDirectory, string url)
        {
            var start = new ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false };
            if (Path.GetFileNameWithoutExtension(Environment.ProcessPath!) == "dotnet")
            {
                start.ArgumentList.Add(typeof(EdgeLoadHarness).Assembly.Location);
            }

            foreach (string arg in new[] { "load-edge", "ingest-child", dataDirectory, url })
            {
                start.ArgumentList.Add(arg);
            }

            return new IngestChild(Process.Start(start)!);
        }

        public async Task ReadyAsync(string url)
        {
            string? line = await _process.StandardOutput.ReadLineAsync();
            if (line != "ready")
            {
                throw new InvalidOperationException($"the ingest child at {url} did not start: {line}");
            }
        }

        public async Task StopAsync()
        {
            _process.StandardInput.Close();
            await _process.WaitForExitAsync();
        }

        public void Dispose()
        {
            if (!_process.HasExited)
            {
                _process.Kill();
            }

            _process.Dispose();
        }
    }

    private static long Option(string[] args, string name, long fallback)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? long.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
    }
}
