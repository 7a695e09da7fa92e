using FactoryGateway.Evidence;
using FactoryGateway.Evidence.Ledger;
using FactoryGateway.Ingest.Evidence;
using FactoryGateway.Ingest.Forwarding;
using FactoryGateway.Telemetry.Influx;
using FactoryGateway.Telemetry.LineProtocol;
using FactoryGateway.Testing;
using Microsoft.Data.Sqlite;

namespace FactoryGateway.Ingest.Tests.Forwarding;

/// <summary>
/// The evidence accumulator gives way to the InfluxDB forwarder while it delivers a backlog, never further than
/// <see cref="EvidenceAccumulatorOptions.MaxDeferredBytes"/> behind, and never to a failing forwarder.
/// </summary>
public sealed class EvidenceGivesWayTests : IDisposable
{
    private readonly TempDirectory _directory = new("evidence-gives-way");
    private readonly EvidenceStore _store;

    public EvidenceGivesWayTests() => _store = EvidenceStore.Open(_directory.Path);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose()
    {
        _store.Dispose();
        SqliteConnection.ClearAllPools();
        _directory.Dispose();
    }

    [Fact]
    public async Task While_the_priority_consumer_delivers_a_backlog_the_accumulator_waits_then_applies_every_line()
    {
        await using var rig = new ForwarderRig();
        var forwarder = new Backlog("influx") { Delivering = true };
        await rig.AppendPointsAsync(0, 400, perRecord: 50);
        EvidenceAccumulator accumulator = Accumulator(rig, new EvidenceAccumulatorOptions(), forwarder);
        await using (var running = new RunningAccumulator(accumulator))
        {
            await Until(() => accumulator.GetStats().GivingWay, "the accumulator to give way");
            EvidenceAccumulatorStats waiting = accumulator.GetStats();
            Assert.Equal(0, waiting.LinesApplied);
            Assert.True(waiting.LagBytes > 0);

            forwarder.Delivering = false; // caught up (or failing): nothing to wait for
            await CaughtUpAsync(accumulator, rig);
            await running.StopAsync();
        }

        EvidenceAccumulatorStats done = accumulator.GetStats();
        Assert.Equal(400, done.LinesApplied);
        Assert.False(done.GivingWay);
        Assert.True(done.GaveWay > TimeSpan.Zero);
        Assert.Equal(0, done.LagBytes);
    }

    [Fact]
    public async Task Past_MaxDeferredBytes_the_accumulator_applies_records_whatever_the_priority_consumer_does()
    {
        await using var rig = new ForwarderRig();
        var forwarder = new Backlog("influx") { Delivering = true };
        await rig.AppendPointsAsync(0, 1000, perRecord: 50);
        long cap = (rig.Log.TailPosition - rig.Log.HeadPosition) / 4;
        EvidenceAccumulator accumulator = Accumulator(rig, new EvidenceAccumulatorOptions { MaxDeferredBytes = cap }, forwarder);
        await using var running = new RunningAccumulator(accumulator);

        // Further behind than the cap: it applies records although the forwarder has a backlog.
        await CaughtUpAsync(accumulator, rig);
        Assert.Equal(1000, accumulator.GetStats().LinesApplied);

        // Within the cap: it waits.
        long before = rig.Log.TailPosition;
        await rig.AppendPointsAsync(1000, 100, perRecord: 50);
        await Until(() => accumulator.GetStats().GivingWay, "the accumulator to give way within the cap");
        EvidenceAccumulatorStats stats = accumulator.GetStats();
        Assert.Equal(1000, stats.LinesApplied);
        Assert.Equal(rig.Log.TailPosition - before, stats.LagBytes);
        Assert.True(stats.LagBytes < cap);

        forwarder.Delivering = false;
        await CaughtUpAsync(accumulator, rig);
        Assert.Equal(1100, accumulator.GetStats().LinesApplied);
    }

    [Fact]
    public async Task A_forwarder_whose_InfluxDB_is_unreachable_holds_no_evidence_back()
    {
        await using var rig = new ForwarderRig();
        await rig.AppendPointsAsync(0, 2000, perRecord: 100);
        // Nothing listens on the port: every write fails with a network error and is retried.
        var nowhere = new Uri($"http://127.0.0.1:{FreeTcpPort.Next()}/");
        InfluxForwarder forwarder = rig.Forwarder(InfluxTarget.ForV1(nowhere, "factory"), rig.Options(o => o.MaxBatchBytes = 16 * 1024));
        Assert.False(forwarder.IsDeliveringBacklog); // not running
        EvidenceAccumulator accumulator = Accumulator(rig, new EvidenceAccumulatorOptions(), forwarder);
        await using (var sending = new RunningForwarder(forwarder))
        await using (var running = new RunningAccumulator(accumulator))
        {
            await CaughtUpAsync(accumulator, rig);
            Assert.False(forwarder.IsDeliveringBacklog);
            Assert.True(sending.Stats.RetriesNetwork > 0);
            Assert.Equal(rig.Log.TailPosition - rig.Log.HeadPosition, sending.Stats.LagBytes);
        }

        Assert.Equal(2000, accumulator.GetStats().LinesApplied);
    }

    [Fact]
    public async Task Evidence_waits_while_InfluxDB_takes_the_forwarders_backlog_and_follows_once_it_is_delivered()
    {
        const int Points = 3000;
        await using var influx = new InfluxDbServer();
        await influx.InitializeAsync();
        await influx.CreateDatabaseAsync("factory", Ct);
        await using var rig = new ForwarderRig();
        await rig.AppendPointsAsync(0, Points, perRecord: 100);
        InfluxForwarder forwarder = rig.Forwarder(InfluxTarget.ForV1(influx.Url, "factory"), rig.Options(o => o.MaxBatchBytes = 16 * 1024));
        EvidenceAccumulator accumulator = Accumulator(rig, new EvidenceAccumulatorOptions(), forwarder);

        // A frozen influxd holds the first writes open: the forwarder is delivering (nothing failed) and
        // has a backlog, so the accumulator waits.
        influx.Process.Freeze();
        try
        {
            await using var sending = new RunningForwarder(forwarder);
            // The accumulator starts once the forwarder runs: started first, it would read the WAL before
            // there was anyone to give way to.
            await Until(() => forwarder.IsDeliveringBacklog, "the forwarder to run with a backlog");
            await using var running = new RunningAccumulator(accumulator);
            await Until(() => accumulator.GetStats().GivingWay, "the accumulator to give way to the forwarder");
            Assert.True(forwarder.IsDeliveringBacklog);
            Assert.Equal(0, accumulator.GetStats().LinesApplied);

            // InfluxDB takes the backlog; then the evidence follows.
            influx.Process.Thaw();
            await sending.WaitForwardedAsync(Points);
            await CaughtUpAsync(accumulator, rig);
            Assert.False(forwarder.IsDeliveringBacklog);
            EvidenceAccumulatorStats stats = accumulator.GetStats();
            Assert.Equal(Points, stats.LinesApplied);
            Assert.False(stats.GivingWay);
            Assert.True(stats.GaveWay > TimeSpan.Zero);
            Assert.Equal(0, sending.Stats.Retries);
            await InfluxAssert.ExactlyAsync(influx, "factory", Points);
        }
        finally
        {
            influx.Process.Thaw(); // again, harmless, when an assertion failed while it was frozen
        }
    }

    [Fact]
    public void A_negative_MaxDeferredBytes_is_refused_with_its_name()
    {
        var error = Assert.Throws<ArgumentException>(() => new EvidenceAccumulatorOptions { MaxDeferredBytes = -1 }.Validate());
        Assert.Contains("MaxDeferredBytes", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, new EvidenceAccumulatorOptions { MaxDeferredBytes = 0 }.Validate().MaxDeferredBytes);
    }

    private EvidenceAccumulator Accumulator(ForwarderRig rig, EvidenceAccumulatorOptions options, IWalPriorityConsumer giveWayTo) =>
        new(rig.Log, _store.Ledger, options, DefaultShiftCalendar.Instance, new LineProtocolLimits(), TimeProvider.System,
            new TestLogger<EvidenceAccumulator>(), giveWayTo);

    // The ledger holds every record of the WAL, within the deadline.
    private static Task CaughtUpAsync(EvidenceAccumulator accumulator, ForwarderRig rig) =>
        accumulator.WaitForCheckpointAsync(rig.Log.TailPosition, Ct).WaitAsync(ForwarderRig.Deadline, Ct);

    private static async Task Until(Func<bool> condition, string what)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        deadline.CancelAfter(ForwarderRig.Deadline);
        while (!condition())
        {
            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(5), deadline.Token); // polling interval within the deadline
            }
            catch (OperationCanceledException) when (!Ct.IsCancellationRequested)
            {
                Assert.Fail($"Waited {ForwarderRig.Deadline} for {what}.");
            }
        }
    }

    /// <summary>A priority consumer whose backlog the test sets.</summary>
    private sealed class Backlog(string name) : IWalPriorityConsumer
    {
        private volatile bool _delivering;

        public string Name => name;

        public bool Delivering
        {
            get => _delivering;
            set => _delivering = value;
        }

        public bool IsDeliveringBacklog => _delivering;
    }

    /// <summary>An accumulator's <see cref="EvidenceAccumulator.RunAsync"/> on the thread pool, stopped on dispose.</summary>
    private sealed class RunningAccumulator : IAsyncDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _run;

        public RunningAccumulator(EvidenceAccumulator accumulator) => _run = Task.Run(() => accumulator.RunAsync(_stop.Token));

        public async Task StopAsync()
        {
            await _stop.CancelAsync();
            try
            {
                await _run;
            }
            catch (OperationCanceledException)
            {
                // stopped
            }
        }

        public async ValueTask DisposeAsync()
        {
            await StopAsync();
            _stop.Dispose();
        }
    }
}
