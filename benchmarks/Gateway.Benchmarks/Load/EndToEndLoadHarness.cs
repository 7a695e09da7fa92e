using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using FactoryGateway.Evidence;
using FactoryGateway.Evidence.Ledger;
using FactoryGateway.Ingest;
using FactoryGateway.Ingest.Evidence;
using FactoryGateway.Ingest.Forwarding;
using FactoryGateway.Ingest.Http;
using FactoryGateway.Telemetry.Influx;
using FactoryGateway.Telemetry.Storage;
using FactoryGateway.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace FactoryGateway.Benchmarks.Load;

/// <summary>
/// Bounded end-to-end load: in one run, against its own <c>influxd</c> (InfluxDB 1.x on loopback, data in a
/// temporary directory), posts N points straight to InfluxDB's <c>/write</c> with C connections (the
/// direct rate), then the same N points through an in-process ingest (Kestrel, WAL with fsync group commit,
/// evidence store, token, <see cref="InfluxForwarder"/> — composed as <c>fgw ingest run</c> composes them) into
/// a second database, and prints a table: seconds, points/s, the ratio of the ingest path to the direct one
/// (goal ≥ 0.90), CPU-µs per point of this process and of influxd. Each database's <c>COUNT</c> must equal N
/// exactly (no loss, no duplicates), or the exit code is 1. Client, ingest and InfluxDB share the machine's
/// cores; the table says so.
/// </summary>
/// <remarks>
/// <c>dotnet run -c Release --project benchmarks/Gateway.Benchmarks -- load-e2e [--points 2000000]
/// [--lines 5000] [--connections 4] [--forward-lines 5000] [--forward-in-flight 4] [--forward-gzip] [--no-gzip] [--serial-baseline] [--unregistered]
/// [--warmup-points 200000] [--separate-cores] [--no-evidence] [--own-influxd] [--sorted-tags] [--rounds K]</c>.
/// <c>--forward-lines</c> sets <see cref="ForwarderOptions.MaxBatchLines"/>, <c>--forward-in-flight</c>
/// <see cref="ForwarderOptions.MaxBatchesInFlight"/>; the forwarder's gzip is left unset as <c>fgw ingest run</c>
/// leaves it (off for this loopback InfluxDB), <c>--forward-gzip</c> turns it on; <c>--no-gzip</c> turns gzip off on
/// every hop (client bodies and the forwarder); <c>--serial-baseline</c> adds a direct run with one connection,
/// the best that one-batch-at-a-time delivery can reach; <c>--unregistered</c> leaves the 500 devices out of the
/// asset register, so that the ingest records their sightings in SQLite with every batch; <c>--warmup-points</c>
/// first sends that many points through a throw-away ingest into another database (0: start cold);
/// <c>--sorted-tags</c> sends every line's tags in InfluxDB's key order instead of the machine's (the order the ingest forwards
/// them in either way), so that the direct run is spared InfluxDB's sort as well;
/// <c>--separate-cores</c> pins influxd to core 1 and this process (client and ingest) to core 0 with
/// <c>taskset</c>, as when InfluxDB runs on its own host, so that both paths are bounded by InfluxDB's own core;
/// <c>--rounds K</c> (K ≥ 2) measures K alternating pairs of runs, each on a fresh influxd, and reports the
/// median ratio (see <see cref="RunRoundsAsync"/>).
/// </remarks>
internal static class EndToEndLoadHarness
{
    private const string Measurement = "telemetry";
    private const string CountedField = "parts_total";
    private const string DirectDatabase = "direct";
    private const string SerialDatabase = "direct1";
    private const string IngestDatabase = "viaingest";
    private const string WarmUpDatabase = "warmup";

    // 500 machines, one sample a second each: the series count of a mid-sized plant, and every point is a
    // distinct (series, timestamp) pair, so InfluxDB's count equals the points sent.
    private const int Devices = 500;
    private const string Enterprise = "91330402MA2B3C4D53";

    // influxd's compactions and cache snapshot after a write burst: wait until it uses less than 5% of a
    // core over half a second (at most a minute) so that they do not land on the next phase.
    private static readonly TimeSpan s_settleWindow = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan s_settleDeadline = TimeSpan.FromMinutes(1);

    // Short enough to add little to the measured time, long enough that polling costs nothing.
    private static readonly TimeSpan s_forwarderPollInterval = TimeSpan.FromMilliseconds(10);
    private static readonly TimeSpan s_countPollInterval = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan s_countDeadline = TimeSpan.FromSeconds(30);

    public static async Task<int> RunAsync(string[] args)
    {
        long points = Option(args, "--points", 2_000_000);
        int lines = (int)Option(args, "--lines", 5000);
        int connections = (int)Option(args, "--connections", 4);
        int forwardLines = (int)Option(args, "--forward-lines", new ForwarderOptions().MaxBatchLines);
        int forwardInFlight = (int)Option(args, "--forward-in-flight", new ForwarderOptions().MaxBatchesInFlight);
        bool gzip = !args.Contains("--no-gzip");
        bool sortedTags = args.Contains("--sorted-tags");
        // The forwarder's gzip as `fgw ingest run` sets it (unset: off for a loopback InfluxDB, as here) unless
        // --forward-gzip forces it on or --no-gzip turns every hop off.
        bool? forwardGzip = !gzip ? false : args.Contains("--forward-gzip") ? true : null;
        bool serialBaseline = args.Contains("--serial-baseline");
        bool registered = !args.Contains("--unregistered");
        long warmUpPoints = Option(args, "--warmup-points", 200_000);
        bool separateCores = args.Contains("--separate-cores");
        bool accumulate = !args.Contains("--no-evidence");
        bool ownInfluxd = args.Contains("--own-influxd");
        int rounds = (int)Option(args, "--rounds", 1);
        if (points < 1 || lines < 1 || connections < 1 || warmUpPoints < 0 || rounds < 1)
        {
            Console.Error.WriteLine("load-e2e: --points, --lines, --connections and --rounds must be positive, --warmup-points not negative.");
            return 2;
        }

        if (separateCores)
        {
            if (Environment.ProcessorCount < 2)
            {
                Console.Error.WriteLine("load-e2e: --separate-cores needs at least 2 cores.");
                return 2;
            }

            // InfluxDB on its own core, as on its own host (StartDaemonAsync pins each daemon to core 1); client and
            // ingest share the other core.
            await PinAsync(Environment.ProcessId, "0");
        }

        if (rounds > 1)
        {
            return await RunRoundsAsync(new RoundsSettings(points, lines, connections, (forwardLines, forwardInFlight, forwardGzip), gzip, sortedTags, registered, warmUpPoints, separateCores, accumulate, rounds));
        }

        // A minute plus a second per 10,000 points, a rate far below any measured here: a stalled forwarder
        // fails the run instead of hanging it.
        TimeSpan deliveryDeadline = TimeSpan.FromSeconds(60 + (points / 10_000.0));
        string loadBefore = LoadAverage();
        string root = Directory.CreateTempSubdirectory("fgw-load-e2e-").FullName;
        InfluxDaemon? influx = null;
        InfluxDaemon? ingestInflux = null;
        try
        {
            Batches batches = Batches.Build(points, lines, gzip, sortedTags);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"load-e2e: {points:N0} points in {batches.Bodies.Length:N0} batches of {lines:N0} lines, {batches.LineProtocolBytes / 1e6:0.0} MB of line protocol, {batches.WireBytes / 1e6:0.0} MB on the wire (gzip {(gzip ? "on" : "off")}; compressing all batches took {batches.CompressTime.TotalSeconds:0.00} s on one core)"));

            influx = await StartDaemonAsync(separateCores);
            // --own-influxd: the ingest path writes to a second influxd, started now and configured alike; the
            // direct run's daemon is stopped before the ingest run, so its cache snapshots and compactions of the
            // direct writes do not fall into the ingest run's window (with one daemon they do).
            ingestInflux = ownInfluxd ? await StartDaemonAsync(separateCores) : null;
            InfluxDaemon ingestTarget = ingestInflux ?? influx;
            string placement = separateCores
                ? "InfluxDB pinned to core 1, client and ingest to core 0 (every thread, with taskset)"
                : $"client, ingest and InfluxDB share this machine's {Environment.ProcessorCount} cores";

            if (warmUpPoints > 0)
            {
                // JIT and tiering of the client, Kestrel, the ingest, the WAL and the forwarder, through a throw-away
                // ingest into its own database: a gateway runs for days, so cold code is not what is measured.
                Batches warmUp = Batches.Build(warmUpPoints, lines, gzip, sortedTags);
                await PostThroughIngestAsync(Path.Combine(root, "warmup"), WarmUpDatabase, ingestTarget, warmUp, gzip, connections, (forwardLines, forwardInFlight, forwardGzip), registered, accumulate, deliveryDeadline);
                await SettleAsync(ingestTarget);
            }

            var rows = new List<Row>();
            bool exact = true;

            // 1. Direct: the client's pre-built batches straight to InfluxDB.
            Measured direct = await PostDirectAsync(influx, batches, gzip, connections, DirectDatabase);
            long directCount = await CountAsync(influx, DirectDatabase);
            Sample directCounted = Sample.Take(influx);
            exact &= Check("direct", directCount, points, direct.Failures, direct.FirstFailure);
            rows.Add(new Row($"direct → InfluxDB, {connections} connections (until the last 204)", points, direct.Start, direct.LastAck, baseline: null));
            Row directRow = rows[0];
            // The direct run's COUNT query, timed as the ingest run's is: both rows then end when InfluxDB answers N.
            Row directCountedRow = new($"direct → InfluxDB, {connections} connections (until COUNT = N)", points, direct.Start, directCounted, directRow);
            rows.Add(directCountedRow);

            if (serialBaseline)
            {
                await SettleAsync(influx);
                Measured serial = await PostDirectAsync(influx, batches, gzip, 1, SerialDatabase);
                long serialCount = await CountAsync(influx, SerialDatabase);
                exact &= Check("direct, 1 connection", serialCount, points, serial.Failures, serial.FirstFailure);
                rows.Add(new Row("direct → InfluxDB, 1 connection (until the last 204)", points, serial.Start, serial.LastAck, directRow));
            }

            string version = influx.Version;
            if (ingestInflux is not null)
            {
                await influx.DisposeAsync();
                influx = null;
                placement += "; the ingest path writes to its own influxd, the direct run's one stopped before it";
            }

            TimeSpan settled = await SettleAsync(ingestTarget);

            // 2. Through the ingest: the same batches to /api/v2/write, forwarded to another database.
            IngestRun ingest = await PostThroughIngestAsync(Path.Combine(root, "ingest"), IngestDatabase, ingestTarget, batches, gzip, connections, (forwardLines, forwardInFlight, forwardGzip), registered, accumulate, deliveryDeadline);
            exact &= Check("ingest → InfluxDB", ingest.Count, points, ingest.Client.Failures, ingest.Client.FirstFailure);
            if (ingest.CountConfirmed is { } confirmed)
            {
                rows.Add(new Row("ingest → InfluxDB (until COUNT = N; ratio to the direct run's last 204)", points, ingest.Client.Start, confirmed, directRow) { IsGoal = true });
                rows.Add(new Row("ingest → InfluxDB (until COUNT = N; ratio to the direct run's COUNT = N)", points, ingest.Client.Start, confirmed, directCountedRow));
            }

            if (ingest.Forwarded is { } forwarded)
            {
                rows.Add(new Row("ingest → InfluxDB (until the forwarder's last 204)", points, ingest.Client.Start, forwarded, directRow));
            }

            rows.Add(new Row($"ingest acknowledged, {connections} connections (client's last 204 from the ingest)", points, ingest.Client.Start, ingest.Client.LastAck, directRow));
            if (ingest.Forwarded is { } drained && points > ingest.ForwardedAtAck)
            {
                rows.Add(new Row("forwarder alone, after the client's last 204 (points left then)", points - ingest.ForwardedAtAck, ingest.Client.LastAck, drained, directRow));
            }

            Console.WriteLine();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"load-e2e, {DateTime.UtcNow:yyyy-MM-dd}: {points:N0} points, batches of {lines:N0} lines, gzip {(gzip ? "on" : "off")}, forwarder batches of {forwardLines:N0} lines ({forwardInFlight} in flight, gzip {ForwardGzip(forwardGzip)}), {Devices} devices {(registered ? "registered" : "unregistered")}, {Tags(sortedTags)}; InfluxDB {version}; {placement}"));
            Console.WriteLine("| path | points | seconds | points/s | ratio to direct | CPU-µs/point, this process | CPU-µs/point, influxd | cores busy (both) | bytes allocated/point, this process | gen-2 GCs |");
            Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
            foreach (Row row in rows)
            {
                Console.WriteLine(row.Format());
            }

            ForwarderStats stats = ingest.Forwarder;
            Console.WriteLine();
            if (rows.FirstOrDefault(r => r.IsGoal) is { } goal)
            {
                // With the cores saturated, throughput follows CPU per point: this is the ratio's ceiling then.
                string cpuRatio = directRow.CpuPerPoint is { } d && goal.CpuPerPoint is { } g ? (d / g).ToString("0.00", CultureInfo.InvariantCulture) : "n/a";
                double ratio = goal.PointsPerSecond / directRow.PointsPerSecond;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"goal: ingest → InfluxDB (until COUNT = N) at ≥ 0.90 of the direct rate: {ratio:0.00} {(ratio >= 0.90 ? "✔" : "✘")}; "
                    + $"CPU per point (this process + influxd), direct ÷ ingest path: {cpuRatio}"));
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"counts: direct {directCount:N0}, via ingest {ingest.Count:N0} (expected {points:N0}): {(exact ? "exact" : "NOT EXACT")}. "
                + $"Non-204 answers: direct {direct.Failures}, ingest {ingest.Client.Failures}."));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"forwarder: {stats.Batches:N0} writes ({stats.PointsForwarded / (double)Math.Max(1, stats.Batches):N0} points each), {stats.LineProtocolBytes / 1e6:0.0} MB → {stats.WireBytes / 1e6:0.0} MB on the wire, "
                + $"retries 4xx/5xx/network/other {stats.Retries4xx}/{stats.Retries5xx}/{stats.RetriesNetwork}/{stats.RetriesOther}, splits 413/400 {stats.Splits413}/{stats.SplitsRejected}, dead-lettered {stats.PointsDeadLettered:N0}, last error: {stats.LastError ?? "none"}"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"ingest WAL: {ingest.Wal.Appends:N0} appends, {ingest.Wal.Fsyncs:N0} fsyncs; influxd idle {settled.TotalSeconds:0.0} s after the direct run before the ingest run started; "
                + $"{ingest.ForwardedAtAck:N0} points forwarded when the ingest acknowledged the last batch; the evidence of every point in the ledger after {ingest.Evidence(points)} (this process, from the client's start). Load average (1/5/15 min) before {loadBefore}, after {LoadAverage()}."));
            return exact ? 0 : 1;
        }
        catch (Exception failed) when (failed is ServerStartException or MissingPrerequisiteException)
        {
            Console.Error.WriteLine($"load-e2e: {failed.Message}");
            return 2;
        }
        finally
        {
            if (influx is not null)
            {
                await influx.DisposeAsync();
            }

            if (ingestInflux is not null)
            {
                await ingestInflux.DisposeAsync();
            }

            Directory.Delete(root, recursive: true);
        }
    }

    private sealed record RoundsSettings(
        long Points, int Lines, int Connections, (int Lines, int InFlight, bool? Gzip) Forward, bool Gzip, bool SortedTags, bool Registered, long WarmUpPoints, bool SeparateCores, bool Accumulate, int Rounds);

    /// <summary>
    /// <c>--rounds K</c>: K rounds of a direct run and an ingest run, the order alternating (odd rounds direct
    /// first, even rounds the ingest first, so a drift of the machine during the series falls on both paths
    /// alike), every measurement against a fresh influxd that is stopped after it (no daemon carries the cache
    /// snapshots and compactions of earlier writes into a later window). Prints each round's ratio, their
    /// median, and the ratio of the total rates (all direct points over all direct seconds, likewise ingest).
    /// </summary>
    private static async Task<int> RunRoundsAsync(RoundsSettings settings)
    {
        TimeSpan deliveryDeadline = TimeSpan.FromSeconds(60 + (settings.Points / 10_000.0));
        string loadBefore = LoadAverage();
        string root = Directory.CreateTempSubdirectory("fgw-load-e2e-").FullName;
        try
        {
            Batches batches = Batches.Build(settings.Points, settings.Lines, settings.Gzip, settings.SortedTags);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"load-e2e: {settings.Rounds} rounds of {settings.Points:N0} points direct and through the ingest, batches of {settings.Lines:N0} lines, gzip {(settings.Gzip ? "on" : "off")}, every measurement on a fresh influxd"));
            string version;
            await using (InfluxDaemon warmUpDaemon = await StartDaemonAsync(settings.SeparateCores))
            {
                version = warmUpDaemon.Version;
                if (settings.WarmUpPoints > 0)
                {
                    Batches warmUp = Batches.Build(settings.WarmUpPoints, settings.Lines, settings.Gzip, settings.SortedTags);
                    await PostThroughIngestAsync(Path.Combine(root, "warmup"), WarmUpDatabase, warmUpDaemon, warmUp, settings.Gzip, settings.Connections, settings.Forward,
                        settings.Registered, settings.Accumulate, deliveryDeadline);
                }
            }

            var results = new List<(int Round, string Order, Row Direct, Row DirectCounted, Row Ingest, Row Forwarded, string Evidence)>();
            bool exact = true;
            for (int round = 1; round <= settings.Rounds; round++)
            {
                bool directFirst = round % 2 == 1;
                Row? direct = null;
                Row? directCounted = null;
                Row? ingest = null;
                Row? forwarded = null;
                string evidence = "n/a";
                for (int step = 0; step < 2; step++)
                {
                    await using InfluxDaemon daemon = await StartDaemonAsync(settings.SeparateCores);
                    if ((step == 0) == directFirst)
                    {
                        Measured measured = await PostDirectAsync(daemon, batches, settings.Gzip, settings.Connections, DirectDatabase);
                        long count = await CountAsync(daemon, DirectDatabase);
                        Sample counted = Sample.Take(daemon);
                        exact &= Check($"round {round}, direct", count, settings.Points, measured.Failures, measured.FirstFailure);
                        direct = new Row("direct", settings.Points, measured.Start, measured.LastAck, baseline: null);
                        directCounted = new Row("direct (until COUNT = N)", settings.Points, measured.Start, counted, baseline: null);
                    }
                    else
                    {
                        IngestRun run = await PostThroughIngestAsync(Path.Combine(root, $"ingest-{round}"), IngestDatabase, daemon, batches, settings.Gzip, settings.Connections,
                            settings.Forward, settings.Registered, settings.Accumulate, deliveryDeadline);
                        exact &= Check($"round {round}, ingest → InfluxDB", run.Count, settings.Points, run.Client.Failures, run.Client.FirstFailure)
                            && run.CountConfirmed is not null && run.Forwarded is not null;
                        ingest = new Row("ingest → InfluxDB (until COUNT = N)", settings.Points, run.Client.Start, run.CountConfirmed ?? run.Client.LastAck, baseline: null);
                        forwarded = new Row("ingest → InfluxDB (until the forwarder's last 204)", settings.Points, run.Client.Start, run.Forwarded ?? run.Client.LastAck, baseline: null);
                        evidence = run.Evidence(settings.Points);
                    }
                }

                results.Add((round, directFirst ? "direct, ingest" : "ingest, direct", direct!, directCounted!, ingest!, forwarded!, evidence));
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"round {round}: direct {direct!.PointsPerSecond:N0} points/s until its last 204, {directCounted!.PointsPerSecond:N0} until COUNT = N; ingest → InfluxDB {forwarded!.PointsPerSecond:N0} points/s until the forwarder's last 204 (ratio {forwarded.PointsPerSecond / direct.PointsPerSecond:0.00}), {ingest!.PointsPerSecond:N0} until COUNT = N (ratio {ingest.PointsPerSecond / directCounted.PointsPerSecond:0.00} to the direct COUNT = N, {ingest.PointsPerSecond / direct.PointsPerSecond:0.00} to its last 204); evidence in the ledger after {evidence}"));
            }

            string placement = settings.SeparateCores
                ? "each influxd pinned to core 1, client and ingest to core 0 (taskset)"
                : $"client, ingest and InfluxDB share this machine's {Environment.ProcessorCount} cores";
            Console.WriteLine();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"load-e2e, {DateTime.UtcNow:yyyy-MM-dd}: {settings.Rounds} rounds, {settings.Points:N0} points each way, batches of {settings.Lines:N0} lines, {settings.Connections} connections, gzip {(settings.Gzip ? "on" : "off")}, forwarder batches of {settings.Forward.Lines:N0} lines ({settings.Forward.InFlight} in flight, gzip {ForwardGzip(settings.Forward.Gzip)}), evidence {(settings.Accumulate ? "on" : "off")}, {Tags(settings.SortedTags)}; InfluxDB {version}; {placement}"));
            Console.WriteLine("| round | order | direct points/s: last 204 / COUNT = N | ingest → InfluxDB points/s: forwarder's last 204 / COUNT = N | ratio: last 204 to last 204 / COUNT = N to COUNT = N / COUNT = N to the direct last 204 | CPU-µs/point, this process: direct / ingest path | CPU-µs/point, influxd: direct / ingest path (last 204) | evidence in the ledger (from the start; this process's CPU-µs/point until then) |");
            Console.WriteLine("|---:|---|---:|---:|---:|---:|---:|---:|");
            foreach ((int round, string order, Row d, Row dc, Row i, Row f, string e) in results)
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {round} | {order} | {d.PointsPerSecond:N0} / {dc.PointsPerSecond:N0} | {f.PointsPerSecond:N0} / {i.PointsPerSecond:N0} | {f.PointsPerSecond / d.PointsPerSecond:0.00} / {i.PointsPerSecond / dc.PointsPerSecond:0.00} / {i.PointsPerSecond / d.PointsPerSecond:0.00} | {d.ProcessCpuPerPoint:0.00} / {f.ProcessCpuPerPoint:0.00} | {Row.Cpu(d.InfluxCpuPerPoint)} / {Row.Cpu(f.InfluxCpuPerPoint)} | {e} |"));
            }

            Console.WriteLine();
            Console.WriteLine("goal: ingest → InfluxDB at ≥ 0.90 of the direct rate:");
            Summarise("both until their last 204 from InfluxDB (the forwarder's, the direct client's)", [.. results.Select(r => (r.Direct, r.Forwarded))]);
            Summarise("both until COUNT = N (each path's time includes one COUNT query)", [.. results.Select(r => (r.DirectCounted, r.Ingest))]);
            Summarise("ingest until COUNT = N, direct until its last 204 (the ingest path alone pays the COUNT query)", [.. results.Select(r => (r.Direct, r.Ingest))]);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"counts: {(exact ? "exact in every round" : "NOT EXACT")} ({settings.Points:N0} each way). Load average (1/5/15 min) before {loadBefore}, after {LoadAverage()}."));
            return exact ? 0 : 1;
        }
        catch (Exception failed) when (failed is ServerStartException or MissingPrerequisiteException)
        {
            Console.Error.WriteLine($"load-e2e: {failed.Message}");
            return 2;
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    // One line of the rounds' summary: the median ratio, the ratio of total rates, and the range.
    private static void Summarise(string label, IReadOnlyList<(Row Direct, Row Path)> rounds)
    {
        double[] ratios = [.. rounds.Select(r => r.Path.PointsPerSecond / r.Direct.PointsPerSecond).Order()];
        double median = ratios.Length % 2 == 1 ? ratios[ratios.Length / 2] : (ratios[(ratios.Length / 2) - 1] + ratios[ratios.Length / 2]) / 2;
        double pooled = rounds.Sum(r => r.Direct.Seconds) / rounds.Sum(r => r.Path.Seconds);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  {label}: median of {ratios.Length} rounds {median:0.00} {(median >= 0.90 ? "✔" : "✘")}, total rates {pooled:0.00}, range {ratios[0]:0.00}–{ratios[^1]:0.00}"));
    }

    // A fresh influxd with the harness's databases, on core 1 with --separate-cores.
    private static async Task<InfluxDaemon> StartDaemonAsync(bool separateCores)
    {
        InfluxDaemon daemon = await InfluxDaemon.StartAsync();
        try
        {
            if (separateCores)
            {
                await PinAsync(daemon.ProcessId, "1");
            }

            foreach (string database in new[] { DirectDatabase, SerialDatabase, IngestDatabase, WarmUpDatabase })
            {
                await daemon.Server.CreateDatabaseAsync(database);
            }

            return daemon;
        }
        catch
        {
            await daemon.DisposeAsync();
            throw;
        }
    }

    private static string Tags(bool sorted) => sorted ? "tags sent in key order" : "tags sent in the machine's order (ent, dev, edge, cls)";

    private static string ForwardGzip(bool? gzip) => gzip switch
    {
        true => "on",
        false => "off",
        null => "unset (off: InfluxDB is on loopback)",
    };

    private static bool Check(string path, long count, long expected, long failures, string? firstFailure)
    {
        if (count == expected && failures == 0)
        {
            return true;
        }

        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"load-e2e: {path}: COUNT(\"{CountedField}\") is {count:N0}, expected {expected:N0}; {failures} non-204 answers{(firstFailure is null ? "" : $", the first: {firstFailure}")}"));
        return false;
    }

    private static async Task<Measured> PostDirectAsync(InfluxDaemon influx, Batches batches, bool gzip, int connections, string database)
    {
        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = connections, PooledConnectionLifetime = Timeout.InfiniteTimeSpan };
        using var client = new HttpClient(handler) { BaseAddress = influx.Url, Timeout = TimeSpan.FromMinutes(2) };
        return await PostAllAsync(client, $"/write?db={database}&precision=ns", authorization: null, batches, gzip, connections, influx);
    }

    private static async Task<IngestRun> PostThroughIngestAsync(
        string dataDirectory, string database, InfluxDaemon influx, Batches batches, bool gzip, int connections, (int Lines, int InFlight, bool? Gzip) forward, bool registered, bool accumulate, TimeSpan deadline)
    {
        // As IngestCommand composes the service: options, evidence store in the data directory, token store and
        // register, an InfluxForwarder with its own HttpClient, the evidence accumulator, the forwarder's counters in /metrics.
        Directory.CreateDirectory(dataDirectory);
        var options = new IngestOptions { DataDirectory = dataDirectory }.Validate();
        var forwarderOptions = new ForwarderOptions
        {
            DeadLetterDirectory = Path.Combine(dataDirectory, "deadletter"),
            MaxBatchLines = forward.Lines,
            MaxBatchesInFlight = forward.InFlight,
            Gzip = forward.Gzip,
        };
        forwarderOptions.Validate();
        using EvidenceStore evidence = EvidenceStore.Open(new EvidenceStoreOptions { DataDirectory = dataDirectory });
        string token = evidence.Tokens.CreateToken(TokenRole.Admin, null, null, "load-e2e harness");
        if (registered)
        {
            // A plant's machines are in the asset register; with --unregistered every batch instead records
            // 500 unregistered-device sightings in SQLite, as for devices nobody has registered yet.
            for (int device = 0; device < Devices; device++)
            {
                evidence.Devices.RegisterDevice(Enterprise, $"cnc-{device}");
            }
        }

        using var influxHttp = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) }) { Timeout = Timeout.InfiniteTimeSpan };
        InfluxForwarder? created = null;
        EvidenceAccumulator? accumulator = null;
        await using IngestServer server = await IngestServer.StartAsync(
            "http://127.0.0.1:0",
            options,
            evidence.Tokens,
            evidence.Devices,
            wal =>
            {
                created = new InfluxForwarder(wal, new InfluxWriteClient(influxHttp, InfluxTarget.ForV1(influx.Url, database), TimeProvider.System),
                    forwarderOptions, TimeProvider.System, NullLogger<InfluxForwarder>.Instance);
                if (!accumulate)
                {
                    return [created]; // --no-evidence: the forwarder alone reads the WAL (diagnosis only)
                }

                // As fgw ingest run: the evidence gives way to the forwarder while it delivers a backlog.
                accumulator = new EvidenceAccumulator(wal, evidence.Ledger, new EvidenceAccumulatorOptions(), DefaultShiftCalendar.Instance, options.Limits,
                    TimeProvider.System, NullLogger<EvidenceAccumulator>.Instance, giveWayTo: created);
                return [created, accumulator];
            },
            text =>
            {
                if (created is not null)
                {
                    ForwarderMetrics.Write(text, created.GetStats());
                }
            },
            TimeProvider.System,
            NullLoggerFactory.Instance,
            CancellationToken.None);
        InfluxForwarder forwarder = created ?? throw new InvalidOperationException("The ingest did not create its WAL consumers.");
        SegmentLogStats walBefore = server.Service.Wal.GetStats();

        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = connections, PooledConnectionLifetime = Timeout.InfiniteTimeSpan };
        using var client = new HttpClient(handler) { BaseAddress = server.Addresses[0], Timeout = TimeSpan.FromMinutes(2) };
        var authorization = new AuthenticationHeaderValue("Token", token);

        // The forwarder's acknowledged-point counter is read in-process (free); COUNT queries start only once it
        // says every point is in InfluxDB, since a COUNT over millions of points during the load would take
        // influxd CPU from the writes being measured.
        using var stop = new CancellationTokenSource(deadline);
        long points = batches.Points;
        Task<Sample?> delivered = WatchForwarderAsync(forwarder, points, influx, stop.Token);
        Measured posted = await PostAllAsync(client, "/api/v2/write?org=load&bucket=load&precision=ns", authorization, batches, gzip, connections, influx);
        long forwardedAtAck = forwarder.GetStats().PointsForwarded;
        if (posted.Failures > 0)
        {
            await stop.CancelAsync(); // refused batches never reach InfluxDB: do not wait for them
        }

        Sample? forwarded = await delivered;

        Sample? confirmed = null;
        long count;
        long countDeadline = Stopwatch.GetTimestamp() + (long)(s_countDeadline.TotalSeconds * Stopwatch.Frequency);
        while (true)
        {
            count = await CountAsync(influx, database);
            if (count >= points || forwarded is null || Stopwatch.GetTimestamp() > countDeadline)
            {
                if (count == points)
                {
                    confirmed = Sample.Take(influx);
                }

                break;
            }

            await Task.Delay(s_countPollInterval);
        }

        // The evidence of every point, after InfluxDB's (it gave way): when the ledger held it all, from the client's start.
        Sample? evidenceDone = null;
        if (accumulator is not null && confirmed is not null)
        {
            try
            {
                await accumulator.WaitForCheckpointAsync(server.Service.Wal.TailPosition, CancellationToken.None).WaitAsync(deadline);
                evidenceDone = Sample.Take(influx);
            }
            catch (TimeoutException)
            {
                Console.Error.WriteLine("load-e2e: the evidence accumulator had not caught up with the WAL when the wait ended.");
            }
        }

        return new IngestRun(posted, forwardedAtAck, forwarded, confirmed, count, forwarder.GetStats(), WalDelta.Between(walBefore, server.Service.Wal.GetStats()), evidenceDone);
    }

    private static async Task<Sample?> WatchForwarderAsync(InfluxForwarder forwarder, long points, InfluxDaemon influx, CancellationToken deadline)
    {
        try
        {
            while (forwarder.GetStats().PointsForwarded < points)
            {
                await Task.Delay(s_forwarderPollInterval, deadline);
            }

            return Sample.Take(influx);
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine("load-e2e: the forwarder had not delivered every point when the wait ended (deadline, or the ingest refused batches).");
            return null;
        }
    }

    // Posts every batch once, `connections` requests at a time, and records when the last 204 came.
    private static async Task<Measured> PostAllAsync(
        HttpClient client, string path, AuthenticationHeaderValue? authorization, Batches batches, bool gzip, int connections, InfluxDaemon influx)
    {
        int next = -1;
        long failures = 0;
        string? firstFailure = null;
        Sample start = Sample.Take(influx);
        await Task.WhenAll(Enumerable.Range(0, connections).Select(async _ =>
        {
            int index;
            while ((index = Interlocked.Increment(ref next)) < batches.Bodies.Length)
            {
                using var content = new ByteArrayContent(batches.Bodies[index]);
                content.Headers.ContentType = new MediaTypeHeaderValue("text/plain") { CharSet = "utf-8" };
                if (gzip)
                {
                    content.Headers.ContentEncoding.Add("gzip");
                }

                using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = content };
                request.Headers.Authorization = authorization;
                using HttpResponseMessage response = await client.SendAsync(request);
                if (response.StatusCode != HttpStatusCode.NoContent)
                {
                    string body = await response.Content.ReadAsStringAsync();
                    Interlocked.Increment(ref failures);
                    Interlocked.CompareExchange(ref firstFailure, $"batch {index}: {(int)response.StatusCode} {body}", null);
                }
            }
        }));
        return new Measured(start, Sample.Take(influx), failures, firstFailure);
    }

    private static async Task<TimeSpan> SettleAsync(InfluxDaemon influx)
    {
        long start = Stopwatch.GetTimestamp();
        while (Stopwatch.GetElapsedTime(start) < s_settleDeadline)
        {
            TimeSpan? before = influx.CpuTime();
            await Task.Delay(s_settleWindow);
            TimeSpan? after = influx.CpuTime();
            if (before is null || after is null || after - before < s_settleWindow * 0.05)
            {
                break;
            }
        }

        return Stopwatch.GetElapsedTime(start);
    }

    // Sets the CPU affinity of every thread of a process (threads created later inherit it from their creator).
    private static async Task PinAsync(int processId, string cores)
    {
        using var taskset = Process.Start(new ProcessStartInfo("taskset", ["--all-tasks", "--cpu-list", "--pid", cores, processId.ToString(CultureInfo.InvariantCulture)])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        }) ?? throw new InvalidOperationException("taskset did not start.");
        string error = await taskset.StandardError.ReadToEndAsync();
        await taskset.WaitForExitAsync();
        if (taskset.ExitCode != 0)
        {
            throw new InvalidOperationException($"taskset could not pin process {processId} to core {cores}: {error.Trim()}");
        }
    }

    private static Task<long> CountAsync(InfluxDaemon influx, string database) =>
        influx.Server.CountAsync(database, Measurement, CountedField);

    // Other work on the machine (a build on the other core) shows here; "n/a" where /proc is absent.
    private static string LoadAverage()
    {
        try
        {
            return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return "n/a";
        }
    }

    private static long Option(string[] args, string name, long fallback)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? long.Parse(args[i + 1], NumberStyles.AllowThousands, CultureInfo.InvariantCulture) : fallback;
    }

    /// <summary>The clock and both processes' CPU time at one moment.</summary>
    private readonly record struct Sample(long Timestamp, TimeSpan ProcessCpu, TimeSpan? InfluxCpu, long Allocated, int Gen2Collections)
    {
        public static Sample Take(InfluxDaemon influx)
        {
            using var self = Process.GetCurrentProcess();
            return new Sample(Stopwatch.GetTimestamp(), self.TotalProcessorTime, influx.CpuTime(), GC.GetTotalAllocatedBytes(precise: false), GC.CollectionCount(2));
        }
    }

    private sealed record Measured(Sample Start, Sample LastAck, long Failures, string? FirstFailure);

    private sealed record IngestRun(Measured Client, long ForwardedAtAck, Sample? Forwarded, Sample? CountConfirmed, long Count, ForwarderStats Forwarder, WalDelta Wal, Sample? EvidenceDone)
    {
        /// <summary>Seconds from the client's start until the ledger held every point's evidence, and this process's CPU-µs per point until then.</summary>
        public string Evidence(long points)
        {
            if (EvidenceDone is not { } done)
            {
                return "n/a";
            }

            var row = new Row("evidence", points, Client.Start, done, baseline: null);
            return string.Create(CultureInfo.InvariantCulture, $"{row.Seconds:0.00} s, {row.ProcessCpuPerPoint:0.00} CPU-µs/point");
        }
    }

    private readonly record struct WalDelta(long Appends, long Fsyncs)
    {
        public static WalDelta Between(SegmentLogStats before, SegmentLogStats after) => new(after.Appends - before.Appends, after.Fsyncs - before.Fsyncs);
    }

    private sealed class Row(string path, long points, Sample start, Sample end, Row? baseline)
    {
        /// <summary>The row the goal (≥ 0.90 of the direct rate) is about.</summary>
        public bool IsGoal { get; init; }

        public double Seconds { get; } = Stopwatch.GetElapsedTime(start.Timestamp, end.Timestamp).TotalSeconds;

        public double PointsPerSecond => points / Seconds;

        /// <summary>CPU-µs per point of this process.</summary>
        public double ProcessCpuPerPoint => (end.ProcessCpu - start.ProcessCpu).TotalMicroseconds / points;

        /// <summary>CPU-µs per point of influxd; null where its CPU time is unknown.</summary>
        public double? InfluxCpuPerPoint => (end.InfluxCpu - start.InfluxCpu)?.TotalMicroseconds / points;

        /// <summary>CPU-µs per point of this process and influxd together; null where influxd's CPU time is unknown.</summary>
        public double? CpuPerPoint => ProcessCpuPerPoint + InfluxCpuPerPoint;

        public string Format()
        {
            string ratio = baseline is null ? "1.00" : (PointsPerSecond / baseline.PointsPerSecond).ToString("0.00", CultureInfo.InvariantCulture);
            string cores = CpuPerPoint is { } both ? (both * points / 1e6 / Seconds).ToString("0.00", CultureInfo.InvariantCulture) : "n/a";
            return string.Create(CultureInfo.InvariantCulture,
                $"| {path} | {points:N0} | {Seconds:0.00} | {PointsPerSecond:N0} | {ratio} | {ProcessCpuPerPoint:0.00} | {Cpu(InfluxCpuPerPoint)} | {cores} | {(end.Allocated - start.Allocated) / (double)points:0} | {end.Gen2Collections - start.Gen2Collections} |");
        }

        /// <summary>A CPU-µs figure, or "n/a".</summary>
        public static string Cpu(double? value) => value is { } v ? v.ToString("0.00", CultureInfo.InvariantCulture) : "n/a";
    }

    /// <summary>The request bodies: machine-shaped lines, every point a distinct (series, timestamp), compressed as the forwarder would.</summary>
    private sealed class Batches
    {
        private Batches(byte[][] bodies, long points, long lineProtocolBytes, TimeSpan compressTime)
        {
            Bodies = bodies;
            Points = points;
            LineProtocolBytes = lineProtocolBytes;
            CompressTime = compressTime;
            WireBytes = bodies.Sum(b => (long)b.Length);
        }

        public byte[][] Bodies { get; }

        public long Points { get; }

        public long LineProtocolBytes { get; }

        public long WireBytes { get; }

        public TimeSpan CompressTime { get; }

        public static Batches Build(long points, int lines, bool gzip, bool sortedTags)
        {
            // Device d samples once a second: point g is device g % 500 at second g / 500, all of it in the
            // past hours (the ingest refuses timestamps more than 5 min ahead), starting on a whole hour.
            long seconds = (points / Devices) + 1;
            long startSecond = ((DateTimeOffset.UtcNow.ToUnixTimeSeconds() - seconds - 3600) / 3600) * 3600;
            var bodies = new byte[(points + lines - 1) / lines][];
            var text = new StringBuilder(lines * 160);
            long lineProtocolBytes = 0;
            TimeSpan compressTime = TimeSpan.Zero;
            for (int b = 0; b < bodies.Length; b++)
            {
                text.Clear();
                long first = (long)b * lines;
                long last = Math.Min(points, first + lines);
                for (long g = first; g < last; g++)
                {
                    long device = g % Devices;
                    long timestamp = (startSecond + (g / Devices)) * 1_000_000_000;
                    // A machine's own order (ent, dev, edge, cls), or with --sorted-tags InfluxDB's key order, which spares
                    // InfluxDB its sort on the direct path too (the ingest puts every line's tags in that order).
                    if (sortedTags)
                    {
                        text.Append(CultureInfo.InvariantCulture, $"telemetry,cls=cnc,dev=cnc-{device},edge=edge-{device % 4},ent={Enterprise} ");
                    }
                    else
                    {
                        text.Append(CultureInfo.InvariantCulture, $"telemetry,ent={Enterprise},dev=cnc-{device},edge=edge-{device % 4},cls=cnc ");
                    }

                    text.Append(CultureInfo.InvariantCulture,
                        $"spindle_speed={12000.5 + (g % 97)},feed_rate={850.25 + (g % 13)},parts_total={100_000 + g}i {timestamp}\n");
                }

                byte[] plain = Encoding.UTF8.GetBytes(text.ToString());
                lineProtocolBytes += plain.Length;
                if (!gzip)
                {
                    bodies[b] = plain;
                    continue;
                }

                long started = Stopwatch.GetTimestamp();
                using var compressed = new MemoryStream(plain.Length / 4);
                using (var stream = new GZipStream(compressed, CompressionLevel.Fastest, leaveOpen: true))
                {
                    stream.Write(plain);
                }

                bodies[b] = compressed.ToArray();
                compressTime += Stopwatch.GetElapsedTime(started);
            }

            return new Batches(bodies, points, lineProtocolBytes, compressTime);
        }
    }

    /// <summary>
    /// A throw-away <c>influxd</c>: the test fixture <see cref="InfluxDbServer"/> (loopback ports, temporary
    /// directory, HTTP only, stopped with SIGTERM on dispose), plus what the harness reads of it.
    /// </summary>
    private sealed class InfluxDaemon : IAsyncDisposable
    {
        private readonly InfluxDbServer _server;
        private readonly Process _process;

        private InfluxDaemon(InfluxDbServer server, string version)
        {
            _server = server;
            _process = Process.GetProcessById(server.Process.Id);
            Version = version;
        }

        public Uri Url => _server.Url;

        public int ProcessId => _process.Id;

        /// <summary>The fixture itself, for its InfluxQL helpers (create database, count).</summary>
        public InfluxDbServer Server => _server;

        /// <summary>The server's version, from <c>X-Influxdb-Version</c> of its <c>/ping</c> answer.</summary>
        public string Version { get; }

        public static async Task<InfluxDaemon> StartAsync()
        {
            var server = new InfluxDbServer();
            try
            {
                await server.InitializeAsync();
                using HttpResponseMessage ping = await server.Http.GetAsync(new Uri(server.Url, "ping"));
                string version = ping.Headers.TryGetValues("X-Influxdb-Version", out IEnumerable<string>? values) ? values.First() : "(unknown version)";
                return new InfluxDaemon(server, version);
            }
            catch
            {
                await server.DisposeAsync();
                throw;
            }
        }

        /// <summary>influxd's CPU time (user + system, all threads); null where it cannot be read.</summary>
        public TimeSpan? CpuTime()
        {
            try
            {
                _process.Refresh();
                return _process.TotalProcessorTime;
            }
            catch (Exception ex) when (ex is InvalidOperationException or Win32Exception or NotSupportedException)
            {
                return null;
            }
        }

        public async ValueTask DisposeAsync()
        {
            _process.Dispose();
            await _server.DisposeAsync();
        }
    }
}
