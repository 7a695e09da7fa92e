using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using FactoryGateway.Evidence;
using FactoryGateway.Ingest;
using FactoryGateway.Ingest.Http;
using FactoryGateway.Telemetry.Storage;
using Microsoft.Extensions.Logging.Abstractions;

namespace FactoryGateway.Benchmarks.Load;

/// <summary>
/// Bounded HTTP load on the ingest: concurrent clients post pre-built line-protocol batches to
/// <c>/api/v2/write</c> of an in-process ingest (real Kestrel on loopback, WAL with fsync group commit)
/// whose only WAL consumer is a null forwarder, for a fixed time, then print a table: accepted
/// points/s, CPU-µs per point, request latency. Client and server share the machine's cores, as they
/// would not in production; the table says so.
/// </summary>
/// <remarks>
/// <c>dotnet run -c Release --project benchmarks/Gateway.Benchmarks -- load-ingest [--seconds 20]
/// [--connections 8] [--lines 5000] [--gzip] [--fsync always|none]</c>
/// </remarks>
internal static class IngestLoadHarness
{
    public static async Task<int> RunAsync(string[] args)
    {
        int seconds = Option(args, "--seconds", 20);
        int connections = Option(args, "--connections", 8);
        int lines = Option(args, "--lines", 5000);
        bool gzip = args.Contains("--gzip");
        string dataDirectory = Directory.CreateTempSubdirectory("fgw-load-").FullName;
        try
        {
            var options = new IngestOptions { DataDirectory = dataDirectory };
            using EvidenceStore evidence = EvidenceStore.Open(dataDirectory);
            string token = evidence.Tokens.CreateToken(TokenRole.Admin, null, null, "load harness");
            await using IngestServer server = await IngestServer.StartAsync(
                "http://127.0.0.1:0", options, evidence.Tokens, register: null, consumers: wal => [new NullConsumer(wal)], metrics: null,
                TimeProvider.System, NullLoggerFactory.Instance, CancellationToken.None);

            byte[][] bodies = [.. Enumerable.Range(0, 16).Select(i => BuildBody(i, lines, gzip))];
            using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = connections, PooledConnectionLifetime = Timeout.InfiniteTimeSpan };
            using var client = new HttpClient(handler) { BaseAddress = server.Addresses[0], Timeout = TimeSpan.FromSeconds(60) };

            // Warm-up: JIT, connection pool, first WAL segment.
            await RunClientsAsync(client, token, bodies, gzip, connections, TimeSpan.FromSeconds(2));
            SegmentLogStats walBefore = server.Service.Wal.GetStats();
            TimeSpan cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
            long allocatedBefore = GC.GetTotalAllocatedBytes(precise: false);
            int gen2Before = GC.CollectionCount(2);
            var clock = Stopwatch.StartNew();
            LoadResult result = await RunClientsAsync(client, token, bodies, gzip, connections, TimeSpan.FromSeconds(seconds));
            clock.Stop();
            TimeSpan cpu = Process.GetCurrentProcess().TotalProcessorTime - cpuBefore;
            long allocated = GC.GetTotalAllocatedBytes(precise: false) - allocatedBefore;
            int gen2 = GC.CollectionCount(2) - gen2Before;
            SegmentLogStats walAfter = server.Service.Wal.GetStats();

            long points = result.Requests * lines;
            double elapsed = clock.Elapsed.TotalSeconds;
            Console.WriteLine();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"ingest load: {connections} connections, {lines} lines/batch, gzip {(gzip ? "on" : "off")}, WAL fsync group commit, null forwarder, {elapsed:0.0} s, {Environment.ProcessorCount} cores shared by client and server"));
            Console.WriteLine("| metric | value |");
            Console.WriteLine("|---|---:|");
            Row("accepted points/s", points / elapsed, "N0");
            Row("accepted MB/s (line protocol)", result.Bytes / elapsed / 1e6, "0.0");
            Row("requests (204)", result.Requests, "N0");
            Row("non-204 answers", result.Failures, "N0");
            Row("CPU-µs per point (client + server)", cpu.TotalMicroseconds / Math.Max(1, points), "0.000");
            Row("bytes allocated per point (client + server)", (double)allocated / Math.Max(1, points), "0.0");
            Row("gen-2 collections", gen2, "N0");
            Row("request latency p50 (ms)", result.Percentile(0.50), "0.0");
            Row("request latency p99 (ms)", result.Percentile(0.99), "0.0");
            Row("WAL appends", walAfter.Appends - walBefore.Appends, "N0");
            Row("WAL fsyncs", walAfter.Fsyncs - walBefore.Fsyncs, "N0");
            return result.Failures == 0 ? 0 : 1;
        }
        finally
        {
            Directory.Delete(dataDirectory, recursive: true);
        }
    }

    private static void Row(string name, double value, string format) =>
        Console.WriteLine($"| {name} | {value.ToString(format, CultureInfo.InvariantCulture)} |");

    private static async Task<LoadResult> RunClientsAsync(HttpClient client, string token, byte[][] bodies, bool gzip, int connections, TimeSpan duration)
    {
        var result = new LoadResult();
        long deadline = Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        await Task.WhenAll(Enumerable.Range(0, connections).Select(async worker =>
        {
            int i = worker;
            while (Stopwatch.GetTimestamp() < deadline)
            {
                byte[] body = bodies[i++ % bodies.Length];
                using var content = new ByteArrayContent(body);
                if (gzip)
                {
                    content.Headers.ContentEncoding.Add("gzip");
                }

                using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v2/write?org=load&bucket=load&precision=ns") { Content = content };
                request.Headers.Authorization = new AuthenticationHeaderValue("Token", token);
                long start = Stopwatch.GetTimestamp();
                using HttpResponseMessage response = await client.SendAsync(request);
                result.Record(response.StatusCode == HttpStatusCode.NoContent, body.Length, Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            }
        }));
        return result;
    }

    private static byte[] BuildBody(int seed, int lines, bool gzip)
    {
        var text = new StringBuilder(lines * 160);
        long timestamp = 1_795_000_000_000_000_000 + (seed * 1_000_000_000L);
        for (int i = 0; i < lines; i++)
        {
            text.Append("telemetry,ent=91330402MA2B3C4D53,dev=cnc-").Append((seed * 31 + i) % 500).Append(",edge=edge-").Append(seed % 4)
                .Append(",cls=cnc spindle_speed=").Append(12000.5 + (i % 97)).Append(",feed_rate=").Append(850.25 + (i % 13))
                .Append(",parts_total=").Append(100_000 + i).Append("i ").Append(timestamp + i).Append('\n');
        }

        byte[] plain = Encoding.UTF8.GetBytes(text.ToString());
        if (!gzip)
        {
            return plain;
        }

        using var compressed = new MemoryStream();
        using (var stream = new GZipStream(compressed, CompressionLevel.Fastest, leaveOpen: true))
        {
            stream.Write(plain);
        }

        return compressed.ToArray();
    }

    private static int Option(string[] args, string name, int fallback)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
    }

    private sealed class LoadResult
    {
        private readonly Lock _lock = new();
        private readonly List<double> _latencies = [];

        public long Requests { get; private set; }

        public long Failures { get; private set; }

        public long Bytes { get; private set; }

        public void Record(bool ok, int bytes, double milliseconds)
        {
            lock (_lock)
            {
                if (ok)
                {
                    Requests++;
                    Bytes += bytes;
                }
                else
                {
                    Failures++;
                }

                _latencies.Add(milliseconds);
            }
        }

        public double Percentile(double p)
        {
            lock (_lock)
            {
                if (_latencies.Count == 0)
                {
                    return 0;
                }

                _latencies.Sort();
                return _latencies[(int)Math.Min(_latencies.Count - 1, p * _latencies.Count)];
            }
        }
    }

    /// <summary>A WAL consumer that keeps nothing: the log's cursor advances as fast as it is read.</summary>
    private sealed class NullConsumer(SegmentLog wal) : ILogConsumer, IWalConsumerService
    {
        public string Name => "null-forwarder";

        public ValueTask ConsumeAsync(LogReadBatch batch, CancellationToken cancellationToken) => ValueTask.CompletedTask;

        public Task RunAsync(CancellationToken cancellationToken) => wal.RunConsumerAsync(this, 1024, 16 * 1024 * 1024, cancellationToken);
    }
}
