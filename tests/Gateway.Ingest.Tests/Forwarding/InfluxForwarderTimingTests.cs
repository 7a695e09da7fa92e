using System.Net;
using FactoryGateway.Ingest.Forwarding;
using FactoryGateway.Telemetry.Influx;
using FactoryGateway.Testing;

namespace FactoryGateway.Ingest.Tests.Forwarding;

/// <summary>
/// Retry timing, Retry-After and the flush interval under a manual clock, with a scripted HTTP handler in
/// place of InfluxDB (1.6.7 never answers 429/503 with Retry-After, and real time would make these slow).
/// </summary>
public sealed class InfluxForwarderTimingTests
{
    private static readonly InfluxTarget s_target = InfluxTarget.ForV1(new Uri("http://influx.test:8086/"), "plant");

    private static ManualTimeProvider Clock() => new(new DateTimeOffset(2026, 7, 1, 8, 0, 0, TimeSpan.Zero));

    private static InfluxForwarder Forwarder(ForwarderRig rig, ManualTimeProvider clock, Action<ForwarderOptions> configure) =>
        // No request timeout: its timer would run on the manual clock too.
        rig.Forwarder(s_target, rig.Options(o =>
        {
            o.InitialBackoff = TimeSpan.FromMilliseconds(100);
            o.MaxBackoff = TimeSpan.FromSeconds(30);
            o.FlushInterval = TimeSpan.Zero;
            configure(o);
        }), clock, Timeout.InfiniteTimeSpan);

    [Fact]
    public async Task Retry_after_is_honoured_on_429_and_backoff_applies_on_503_without_it()
    {
        var influx = new ScriptedInflux(i => i switch
        {
            0 => ScriptedInflux.Status(HttpStatusCode.TooManyRequests, TimeSpan.FromSeconds(10)),
            1 => ScriptedInflux.Status(HttpStatusCode.ServiceUnavailable),
            _ => ScriptedInflux.Status(HttpStatusCode.NoContent),
        });
        ManualTimeProvider clock = Clock();
        await using var rig = new ForwarderRig(influx);
        await rig.AppendPointsAsync(0, 10, perRecord: 10);
        await using var running = new RunningForwarder(Forwarder(rig, clock, _ => { }));

        Assert.Equal(429, (await influx.NextAsync()).Status);
        await clock.WaitForTimerAsync(TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(10));
        clock.Advance(TimeSpan.FromSeconds(10) - TimeSpan.FromTicks(1));
        Assert.Equal(1, influx.Requests); // not a tick early
        clock.Advance(TimeSpan.FromTicks(1));
        Assert.Equal(503, (await influx.NextAsync()).Status);
        // Second retry: nominal 100 ms × 2, jittered into [100 ms, 200 ms].
        (_, TimeSpan backoff) = await clock.WaitForTimerAsync(TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(200));
        clock.Advance(backoff);
        (string body, int status) = await influx.NextAsync();
        await running.WaitForwardedAsync(10);

        Assert.Equal(204, status);
        Assert.Equal(10, body.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        ForwarderStats stats = running.Stats;
        Assert.Equal(1, stats.Retries4xx);
        Assert.Equal(1, stats.Retries5xx);
        Assert.Equal(10, stats.PointsForwarded);
        Assert.Equal("503: {\"error\":\"scripted 503\"}", stats.LastError);
        Assert.Equal(clock.GetUtcNow(), stats.LastSuccessTime);
    }

    [Fact]
    public async Task A_retry_after_beyond_the_maximum_is_cut_to_it()
    {
        var influx = new ScriptedInflux(i => ScriptedInflux.Status(i == 0 ? HttpStatusCode.TooManyRequests : HttpStatusCode.NoContent, TimeSpan.FromHours(2)));
        ManualTimeProvider clock = Clock();
        await using var rig = new ForwarderRig(influx);
        await rig.AppendPointsAsync(0, 1, perRecord: 1);
        await using var running = new RunningForwarder(Forwarder(rig, clock, o => o.MaxRetryAfter = TimeSpan.FromMinutes(5)));

        await influx.NextAsync();
        await clock.WaitForTimerAsync(TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(5));
        clock.Advance(TimeSpan.FromMinutes(5));

        Assert.Equal(204, (await influx.NextAsync()).Status);
    }

    [Fact]
    public async Task A_zero_retry_after_still_waits_the_initial_backoff()
    {
        var influx = new ScriptedInflux(i => ScriptedInflux.Status(i == 0 ? HttpStatusCode.ServiceUnavailable : HttpStatusCode.NoContent, TimeSpan.Zero));
        ManualTimeProvider clock = Clock();
        await using var rig = new ForwarderRig(influx);
        await rig.AppendPointsAsync(0, 1, perRecord: 1);
        await using var running = new RunningForwarder(Forwarder(rig, clock, _ => { }));

        await influx.NextAsync();
        await clock.WaitForTimerAsync(TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(100));
        Assert.Equal(1, influx.Requests);
        clock.Advance(TimeSpan.FromMilliseconds(100));

        Assert.Equal(204, (await influx.NextAsync()).Status);
    }

    [Fact]
    public async Task Server_errors_back_off_exponentially_up_to_the_maximum()
    {
        var influx = new ScriptedInflux(i => ScriptedInflux.Status(i < 12 ? HttpStatusCode.InternalServerError : HttpStatusCode.NoContent));
        ManualTimeProvider clock = Clock();
        await using var rig = new ForwarderRig(influx);
        await rig.AppendPointsAsync(0, 1, perRecord: 1);
        await using var running = new RunningForwarder(Forwarder(rig, clock, o => o.MaxBackoff = TimeSpan.FromSeconds(30)));

        int timer = 0;
        for (int retry = 0; retry < 12; retry++)
        {
            Assert.Equal(500, (await influx.NextAsync()).Status);
            TimeSpan nominal = TimeSpan.FromMilliseconds(Math.Min(30_000, 100 * Math.Pow(2, retry)));
            (timer, TimeSpan delay) = await clock.WaitForTimerAsync(nominal / 2, nominal, timer);
            clock.Advance(delay);
        }

        Assert.Equal(204, (await influx.NextAsync()).Status);
        await running.WaitForwardedAsync(1);
        Assert.Equal(12, running.Stats.Retries5xx);
    }

    [Fact]
    public async Task A_partial_batch_waits_for_the_flush_interval_and_a_full_one_goes_at_once()
    {
        var influx = new ScriptedInflux(_ => ScriptedInflux.Status(HttpStatusCode.NoContent));
        ManualTimeProvider clock = Clock();
        await using var rig = new ForwarderRig(influx);
        await using var running = new RunningForwarder(Forwarder(rig, clock, o =>
        {
            o.FlushInterval = TimeSpan.FromSeconds(1);
            o.MaxBatchLines = 50;
        }));

        await rig.AppendPointsAsync(0, 10, perRecord: 10);
        (int linger, _) = await clock.WaitForTimerAsync(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
        clock.Advance(TimeSpan.FromMilliseconds(400));
        await rig.AppendPointsAsync(10, 10, perRecord: 10);
        // The new points join the batch, which still goes one second after its first point.
        await clock.WaitForTimerAsync(TimeSpan.FromMilliseconds(600), TimeSpan.FromMilliseconds(600), linger);
        Assert.Equal(0, influx.Requests);
        clock.Advance(TimeSpan.FromMilliseconds(600));
        Assert.Equal(20, Lines((await influx.NextAsync()).Body));

        await rig.AppendPointsAsync(20, 50, perRecord: 50);
        Assert.Equal(50, Lines((await influx.NextAsync()).Body)); // full: no waiting, the clock did not move
        await running.WaitForwardedAsync(70);
        Assert.Equal(2, running.Stats.Batches);
    }

    [Fact]
    public async Task The_cursor_stays_before_a_record_that_is_only_partly_acknowledged()
    {
        bool healthy = false;
        var influx = new ScriptedInflux(i => ScriptedInflux.Status(i < 2 || Volatile.Read(ref healthy) ? HttpStatusCode.NoContent : HttpStatusCode.BadGateway));
        ManualTimeProvider clock = Clock();
        await using var rig = new ForwarderRig(influx);
        long record = (await rig.AppendPointsAsync(0, 10, perRecord: 10))[0];
        InfluxForwarder first = Forwarder(rig, clock, o => o.MaxBatchLines = 4);

        await using (var running = new RunningForwarder(first))
        {
            Assert.Equal(4, Lines((await influx.NextAsync()).Body));
            Assert.Equal(4, Lines((await influx.NextAsync()).Body));
            Assert.Equal(2, Lines((await influx.NextAsync()).Body));
            await clock.WaitForTimerAsync(TimeSpan.FromMilliseconds(50), TimeSpan.FromMilliseconds(100));
            ForwarderStats stats = running.Stats;
            Assert.Equal(8, stats.PointsForwarded);
            Assert.Equal(record, stats.CursorPosition); // not past the record whose last 2 lines are unacknowledged
            Assert.Equal(rig.Log.TailPosition - record, stats.LagBytes);
        }

        // A restart re-sends the whole record: at least once, and InfluxDB's overwrite makes it harmless.
        Volatile.Write(ref healthy, true);
        InfluxForwarder second = Forwarder(rig, clock, o => o.MaxBatchLines = 4);
        await using (var running = new RunningForwarder(second))
        {
            await running.WaitForwardedAsync(10);
            Assert.Equal(10, running.Stats.PointsForwarded);
            Assert.Equal(rig.Log.TailPosition, running.Stats.CursorPosition);
        }
    }

    [Fact]
    public async Task A_second_concurrent_run_is_refused()
    {
        var influx = new ScriptedInflux(_ => ScriptedInflux.Status(HttpStatusCode.NoContent));
        await using var rig = new ForwarderRig(influx);
        InfluxForwarder forwarder = Forwarder(rig, Clock(), _ => { });
        await using var running = new RunningForwarder(forwarder);
        await rig.AppendPointsAsync(0, 1, perRecord: 1);
        await running.WaitForwardedAsync(1);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => forwarder.RunAsync(TestContext.Current.CancellationToken));
        Assert.Contains("already running", error.Message, StringComparison.Ordinal);
    }

    private static int Lines(string body) => body.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length;
}
