using System.Text;
using FactoryGateway.Ingest.Forwarding;
using FactoryGateway.Telemetry.Influx;
using FactoryGateway.Telemetry.Storage;
using FactoryGateway.Testing;

namespace FactoryGateway.Ingest.Tests.Forwarding;

/// <summary>The forwarder from a real WAL into a real InfluxDB 1.6.7 (one server, a database per test).</summary>
public sealed class InfluxForwarderTests(InfluxDbServer influx) : IClassFixture<InfluxDbServer>
{
    [Fact]
    public async Task Twenty_thousand_points_arrive_exactly_once()
    {
        const int Points = 20_000;
        await influx.CreateDatabaseAsync("exact", TestContext.Current.CancellationToken);
        await using var rig = new ForwarderRig();
        await rig.AppendPointsAsync(0, Points, perRecord: 250);

        // The default flush interval: only full batches go while there is a backlog, whatever the machine's load.
        // Gzip asked for: the default sends a loopback InfluxDB identity bodies (the next test).
        await using var running = new RunningForwarder(rig.Forwarder(InfluxTarget.ForV1(influx.Url, "exact"), rig.Options(o =>
        {
            o.FlushInterval = TimeSpan.FromSeconds(1);
            o.Gzip = true;
        })));
        await running.WaitForwardedAsync(Points);

        await InfluxAssert.ExactlyAsync(influx, "exact", Points);
        ForwarderStats stats = running.Stats;
        Assert.Equal(Points, stats.PointsForwarded);
        Assert.Equal(Points / 5_000, stats.Batches); // full batches of the default 5,000 lines
        Assert.Equal(0, stats.Retries);
        Assert.Equal(0, stats.PointsDeadLettered);
        Assert.True(stats.WireBytes < stats.LineProtocolBytes / 4, $"gzip: {stats.WireBytes} of {stats.LineProtocolBytes} bytes on the wire");
        Assert.Equal(rig.Log.TailPosition, stats.CursorPosition);
        Assert.NotNull(stats.LastSuccessTime);
    }

    [Fact]
    public async Task By_default_an_influxdb_on_a_loopback_address_gets_uncompressed_bodies_and_every_point()
    {
        const int Points = 6_000;
        await influx.CreateDatabaseAsync("identity", TestContext.Current.CancellationToken);
        await using var rig = new ForwarderRig();
        await rig.AppendPointsAsync(0, Points, perRecord: 500);
        Assert.True(influx.Url.IsLoopback, influx.Url.ToString());

        await using var running = new RunningForwarder(rig.Forwarder(InfluxTarget.ForV1(influx.Url, "identity"), rig.Options()));
        await running.WaitForwardedAsync(Points);

        await InfluxAssert.ExactlyAsync(influx, "identity", Points);
        ForwarderStats stats = running.Stats;
        Assert.True(stats.LineProtocolBytes > 0);
        Assert.Equal(stats.LineProtocolBytes, stats.WireBytes); // no Content-Encoding: the bytes sent are the line protocol
    }

    [Fact]
    public async Task A_rejected_line_goes_to_the_dead_letter_file_with_the_reason_and_the_rest_arrive()
    {
        const int Points = 1_000;
        const int Bad = 617;
        CancellationToken ct = TestContext.Current.CancellationToken;
        await influx.CreateDatabaseAsync("deadletter", ct);
        // `seq` becomes an integer field; the bad line sends it as a string: InfluxDB answers 400 "field type conflict".
        await using var rig = new ForwarderRig();
        string badLine = ForwarderRig.Line(Bad).Replace($"seq={Bad}i", "seq=\"oops\"", StringComparison.Ordinal);
        List<long> records = await rig.AppendPointsAsync(0, Points, perRecord: 100, i => i == Bad ? badLine : ForwarderRig.Line(i));
        var clock = new DateClock(new DateTimeOffset(2026, 7, 1, 8, 0, 0, TimeSpan.Zero));
        InfluxForwarder forwarder = rig.Forwarder(InfluxTarget.ForV1(influx.Url, "deadletter"), rig.Options(), clock);

        await using (var running = new RunningForwarder(forwarder))
        {
            await running.WaitForwardedAsync(Points);
            // And forwarding goes on after the rejection.
            await rig.AppendPointsAsync(Points, 500, perRecord: 100);
            await running.WaitForwardedAsync(Points + 500);
        }

        ForwarderStats stats = forwarder.GetStats();
        Assert.Equal(1, stats.PointsDeadLettered);
        Assert.Equal(1, stats.BatchesDeadLettered);
        Assert.True(stats.SplitsRejected > 0);
        Assert.Contains("field type conflict", stats.LastError, StringComparison.Ordinal);
        Assert.Equal(Points + 500 - 1, await influx.CountAsync("deadletter", "telemetry", "seq", ct));
        HashSet<long> timestamps = await InfluxAssert.TimestampsAsync(influx, "deadletter", "telemetry", "seq");
        Assert.DoesNotContain(ForwarderRig.StartNanoseconds + (Bad * 1_000_000L), timestamps);

        string path = Path.Combine(rig.DeadLetterDirectory, "forwarder-20260701.lp");
        Assert.Equal(path, forwarder.DeadLetterPath(clock.GetUtcNow()));
        string[] lines = await File.ReadAllLinesAsync(path, ct);
        Assert.Equal(2, lines.Length);
        Assert.StartsWith($"# rejected 2026-07-01T08:00:00.000Z status=400 points=1 wal-position={records[Bad / 100]} error: ", lines[0], StringComparison.Ordinal);
        Assert.Contains("error: {\"error\":\"partial write: field type conflict: input field \\\"seq\\\" on measurement \\\"telemetry\\\" is type string, already exists as type integer dropped=1\"}", lines[0], StringComparison.Ordinal);
        Assert.Equal(badLine, lines[1]);
    }

    [Fact]
    public async Task A_batch_for_a_missing_database_is_dead_lettered_whole_with_the_404()
    {
        await using var rig = new ForwarderRig();
        await rig.AppendPointsAsync(0, 300, perRecord: 100);
        InfluxForwarder forwarder = rig.Forwarder(InfluxTarget.ForV1(influx.Url, "never_created"), rig.Options());

        await using (var running = new RunningForwarder(forwarder))
        {
            await running.WaitForwardedAsync(300);
        }

        ForwarderStats stats = forwarder.GetStats();
        Assert.Equal(300, stats.PointsDeadLettered);
        Assert.Equal(1, stats.BatchesDeadLettered);
        Assert.Equal(0, stats.SplitsRejected); // a 404 is about the batch, not about a line
        string[] lines = await File.ReadAllLinesAsync(forwarder.DeadLetterPath(TimeProvider.System.GetUtcNow()), TestContext.Current.CancellationToken);
        Assert.Equal(301, lines.Length);
        Assert.Matches("^# rejected .* status=404 points=300 wal-position=\\d+ error: .*database not found", lines[0]);
    }

    [Fact]
    public async Task A_restarted_forwarder_resumes_from_its_persisted_cursor()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        await influx.CreateDatabaseAsync("resume", ct);
        await using var rig = new ForwarderRig();
        InfluxTarget target = InfluxTarget.ForV1(influx.Url, "resume");
        await rig.AppendPointsAsync(0, 5_000, perRecord: 200);
        await using (var first = new RunningForwarder(rig.Forwarder(target, rig.Options())))
        {
            await first.WaitForwardedAsync(5_000);
        }

        // A process restart: the WAL is closed and opened again; the cursor is read back from its file.
        await rig.ReopenAsync();
        Assert.Equal(rig.Log.TailPosition, rig.Log.GetCursor("forwarder"));
        await rig.AppendPointsAsync(5_000, 3_000, perRecord: 200);

        await using var second = new RunningForwarder(rig.Forwarder(target, rig.Options()));
        await second.WaitForwardedAsync(3_000);

        Assert.Equal(3_000, second.Stats.PointsForwarded); // nothing of the first 5,000 again
        await InfluxAssert.ExactlyAsync(influx, "resume", 8_000);
    }

    [Fact]
    public async Task Run_by_the_segment_log_as_a_consumer_it_forwards_each_delivered_batch()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        await influx.CreateDatabaseAsync("consumer", ct);
        await using var rig = new ForwarderRig();
        await rig.AppendPointsAsync(0, 2_000, perRecord: 250);
        InfluxForwarder forwarder = rig.Forwarder(InfluxTarget.ForV1(influx.Url, "consumer"), rig.Options());
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        Task run = rig.Log.RunConsumerAsync(forwarder, maxRecords: 3, maxBytes: 1024 * 1024, stop.Token);

        using var deadline = new CancellationTokenSource(ForwarderRig.Deadline);
        while (rig.Log.GetCursor("forwarder") != rig.Log.TailPosition)
        {
            Assert.False(run.IsCompleted, $"RunConsumerAsync ended: {run.Exception}");
            await Task.WhenAny(run, Task.Delay(TimeSpan.FromMilliseconds(20), deadline.Token));
        }

        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
        await InfluxAssert.ExactlyAsync(influx, "consumer", 2_000);
        ForwarderStats stats = forwarder.GetStats();
        Assert.Equal(3, stats.Batches); // 8 records, 3 per delivered batch: the read bounds decide the batch size
        Assert.Equal(0, stats.LagBytes);
    }

    [Fact]
    public async Task A_record_that_is_not_an_ingest_record_is_kept_in_the_dead_letter_file_and_skipped()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        await influx.CreateDatabaseAsync("undecodable", ct);
        await using var rig = new ForwarderRig();
        await rig.AppendPointsAsync(0, 100, perRecord: 100);
        LogAppendResult junk = await rig.Log.AppendAsync(Encoding.UTF8.GetBytes("not an ingest record"), ct);
        await rig.AppendPointsAsync(100, 100, perRecord: 100);
        InfluxForwarder forwarder = rig.Forwarder(InfluxTarget.ForV1(influx.Url, "undecodable"), rig.Options());

        await using (var running = new RunningForwarder(forwarder))
        {
            await running.WaitForwardedAsync(200);
        }

        Assert.Equal(1, forwarder.GetStats().UndecodableRecords);
        await InfluxAssert.ExactlyAsync(influx, "undecodable", 200);
        string header = Assert.Single(await File.ReadAllLinesAsync(forwarder.DeadLetterPath(TimeProvider.System.GetUtcNow()), ct));
        Assert.StartsWith("# undecodable ", header, StringComparison.Ordinal);
        Assert.Contains($"wal-position={junk.Position} sequence={junk.SequenceNumber}", header, StringComparison.Ordinal);
        Assert.EndsWith($"payload-base64: {Convert.ToBase64String("not an ingest record"u8)}", header, StringComparison.Ordinal);
    }

    /// <summary>A clock whose date is fixed (for the dead-letter file name) while its timers run in real time.</summary>
    private sealed class DateClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}

/// <summary>The forwarder through InfluxDB outages and body limits; each test has its own server.</summary>
public sealed class InfluxForwarderOutageTests
{
    [Fact]
    public async Task An_InfluxDB_outage_mid_stream_loses_and_duplicates_nothing()
    {
        const int Points = 20_000;
        await using var influx = new InfluxDbServer();
        await influx.InitializeAsync();
        await influx.CreateDatabaseAsync("outage", TestContext.Current.CancellationToken);
        await using var rig = new ForwarderRig();
        InfluxForwarder forwarder = rig.Forwarder(InfluxTarget.ForV1(influx.Url, "outage"), rig.Options(o => o.MaxBatchLines = 1_000));
        await using var running = new RunningForwarder(forwarder);
        await rig.AppendPointsAsync(0, Points / 2, perRecord: 250);
        await running.WaitForwardedAsync(Points / 2);

        await influx.StopAsync();
        await rig.AppendPointsAsync(Points / 2, Points / 2, perRecord: 250);
        await running.WaitUntilAsync(s => s.Retries >= 3, "three retries while InfluxDB is down");
        ForwarderStats during = running.Stats;
        await influx.StartAsync();
        await running.WaitForwardedAsync(Points);

        Assert.True(during.LagBytes > 0);
        Assert.True(during.RetriesNetwork >= 3, during.ToString());
        Assert.StartsWith("network error: HttpRequestException", during.LastError, StringComparison.Ordinal);
        await InfluxAssert.ExactlyAsync(influx, "outage", Points);
        Assert.Equal(0, running.Stats.PointsDeadLettered);
    }

    [Fact]
    public async Task Batches_over_max_body_size_are_split_until_they_fit_and_a_single_oversized_line_is_dead_lettered()
    {
        const int Points = 10_000;
        const int MaxBodySize = 32 * 1024;
        CancellationToken ct = TestContext.Current.CancellationToken;
        await using InfluxDbServer influx = InfluxDbServer.WithMaxBodySize(MaxBodySize);
        await influx.InitializeAsync();
        await influx.CreateDatabaseAsync("split", ct);
        await using var rig = new ForwarderRig();
        await rig.AppendPointsAsync(0, Points / 2, perRecord: 500);
        string huge = $"telemetry,dev=cnc-99 note=\"{new string('x', MaxBodySize)}\" {ForwarderRig.StartNanoseconds - 1}\n";
        await rig.AppendBodyAsync(huge, 1);
        await rig.AppendPointsAsync(Points / 2, Points / 2, perRecord: 500);
        // Without gzip: InfluxDB 1.6.7 applies max-body-size to the body as sent.
        InfluxForwarder forwarder = rig.Forwarder(InfluxTarget.ForV1(influx.Url, "split"), rig.Options(o => o.Gzip = false));

        await using (var running = new RunningForwarder(forwarder))
        {
            await running.WaitForwardedAsync(Points + 1);
        }

        ForwarderStats stats = forwarder.GetStats();
        Assert.True(stats.Splits413 >= 4, stats.ToString()); // 5,000 lines of ~115 bytes halve four times before they fit
        Assert.Equal(1, stats.PointsDeadLettered);
        await InfluxAssert.ExactlyAsync(influx, "split", Points);
        string[] lines = await File.ReadAllLinesAsync(forwarder.DeadLetterPath(TimeProvider.System.GetUtcNow()), ct);
        Assert.Equal(2, lines.Length);
        Assert.Matches("^# rejected .* status=413 points=1 .*Request Entity Too Large", lines[0]);
        Assert.Equal(huge.TrimEnd('\n'), lines[1]);
    }
}
