using System.Net;
using System.Text.RegularExpressions;
using FactoryGateway.Edge.Signals;
using FactoryGateway.Edge.Sources;
using FactoryGateway.Edge.Uplink;
using FactoryGateway.Ingest.Edges;
using FactoryGateway.Ingest.Wal;
using FactoryGateway.Testing;

namespace FactoryGateway.Edge.Tests.Core;

/// <summary>The uplink against the real ingest: once, in order, across outages, lost responses and refused lines.</summary>
public sealed partial class UplinkTests
{
    private static readonly DateTimeOffset s_start = DateTimeOffset.UtcNow.AddMinutes(-30);

    [Fact]
    public async Task Every_sample_reaches_the_ingest_once_and_in_order()
    {
        await using var ingest = new IngestRig();
        await ingest.StartAsync();
        using var dir = new TempDirectory("edge-uplink");
        var source = new SyntheticSource("synthetic", "d1", "d2", "d3", "d4", "d5");
        await using EdgeAgent agent = EdgeRig.Start(EdgeRig.Options(dir, ingest.Url, ingest.Token), source);

        Assert.Equal(10_000, await source.EmitAsync(2_000, s_start));
        await EdgeRig.DrainedAsync(agent, 10_000);

        AssertOnceInOrder(ingest, agent, 2_000, 5);
    }

    [Fact]
    public async Task During_an_ingest_outage_the_data_waits_in_the_buffer_and_afterwards_every_sample_arrives_once_in_order()
    {
        await using var ingest = new IngestRig();
        using var dir = new TempDirectory("edge-outage");
        var source = new SyntheticSource("synthetic", "d1", "d2", "d3", "d4", "d5");
        await using EdgeAgent agent = EdgeRig.Start(EdgeRig.Options(dir, ingest.Url, ingest.Token), source);

        // Two minutes of 10 Hz samples from five devices while nothing listens at the ingest's address.
        Assert.Equal(6_000, await source.EmitAsync(1_200, s_start));
        await EdgeRig.WaitUntilAsync(
            () => agent.Buffer.Lines >= 6_000 && agent.Uplink.GetStats().ResponsesByStatus.GetValueOrDefault(0) >= 2,
            () => $"buffer lines {agent.Buffer.Lines}, uplink {agent.Uplink.GetStats()}");
        UplinkStats during = agent.Uplink.GetStats();
        Assert.Equal(0, during.Batches);
        Assert.True(during.PendingBytes > 0);
        Assert.NotNull(during.LastError);

        await ingest.StartAsync();
        await EdgeRig.DrainedAsync(agent, 6_000);

        AssertOnceInOrder(ingest, agent, 1_200, 5);
        Assert.Null(agent.Uplink.GetStats().LastError);
    }

    [Fact]
    public async Task A_lost_acknowledgement_sends_the_same_batch_again_and_the_ingest_counts_it_once()
    {
        await using var ingest = new IngestRig();
        await ingest.StartAsync();
        using var dir = new TempDirectory("edge-lost-ack");
        var source = new SyntheticSource("synthetic", "d1", "d2");
        // The ingest makes batch 2 durable and answers 204; the answer is lost on the way back.
        var handler = new LoseResponse(sequence: 2);
        await using EdgeAgent agent = EdgeAgent.Create(EdgeRig.Options(dir, ingest.Url, ingest.Token), [source], uplinkHandler: handler);
        agent.Start();

        Assert.Equal(4_000, await source.EmitAsync(2_000, s_start));
        await EdgeRig.DrainedAsync(agent, 4_000);

        Assert.Equal(1, handler.Lost);
        EdgeStatus edge = Assert.Single(ingest.Server.Service.Edges.Snapshot());
        Assert.Equal(1, edge.Duplicates);
        Assert.Equal(0, edge.MissingBatches);
        AssertOnceInOrder(ingest, agent, 2_000, 2);
    }

    [Fact]
    public async Task A_line_the_ingest_refuses_goes_to_the_dead_letter_file_with_the_reason_and_the_rest_of_its_batch_arrives()
    {
        await using var ingest = new IngestRig();
        await ingest.StartAsync();
        using var dir = new TempDirectory("edge-refused");
        var source = new SyntheticSource("synthetic", "d1");
        await using EdgeAgent agent = EdgeRig.Start(EdgeRig.Options(dir, ingest.Url, ingest.Token), source);
        IEdgeSink sink = await source.Sink;

        Assert.Equal(100, await source.EmitAsync(100, s_start));
        // A device whose clock runs an hour ahead: the ingest refuses the line ("line N: … ahead of the ingest clock").
        long ahead = (DateTimeOffset.UtcNow.AddHours(1) - DateTimeOffset.UnixEpoch).Ticks * 100;
        Assert.Equal(SampleAcceptance.Accepted, sink.Sample(new EdgeSample("d1", "clock_skewed", SignalValue.Float(1.5), SignalQuality.Good, ahead)));
        Assert.Equal(100, await source.EmitAsync(100, s_start, offset: 100));
        await EdgeRig.DrainedAsync(agent, 201);

        UplinkStats stats = agent.Uplink.GetStats();
        Assert.Equal(1, stats.DeadLetteredLines);
        string deadLetter = File.ReadAllText(Assert.Single(Directory.GetFiles(Path.Combine(dir.Path, "dead-letter"))));
        Assert.Contains("ahead of the ingest clock", deadLetter, StringComparison.Ordinal);
        Assert.Contains("clock_skewed=1.5", deadLetter, StringComparison.Ordinal);
        Assert.Equal(0, Assert.Single(ingest.Server.Service.Edges.Snapshot()).MissingBatches);
        AssertOnceInOrder(ingest, agent, 200, 1);
    }

    [Fact]
    public async Task After_a_restart_the_agent_resumes_from_its_saved_state_without_resending_acknowledged_data()
    {
        await using var ingest = new IngestRig();
        await ingest.StartAsync();
        using var dir = new TempDirectory("edge-restart");
        var first = new SyntheticSource("synthetic", "d1", "d2");
        await using (EdgeAgent agent = EdgeRig.Start(EdgeRig.Options(dir, ingest.Url, ingest.Token), first))
        {
            Assert.Equal(2_000, await first.EmitAsync(1_000, s_start));
            await EdgeRig.DrainedAsync(agent, 2_000);
        }

        var second = new SyntheticSource("synthetic", "d1", "d2");
        await using (EdgeAgent again = EdgeRig.Start(EdgeRig.Options(dir, ingest.Url, ingest.Token), second))
        {
            Assert.Equal(2_000, await second.EmitAsync(1_000, s_start, offset: 1_000));
            await EdgeRig.DrainedAsync(again, 2_000);
            AssertOnceInOrder(ingest, again, 2_000, 2);
            Assert.Equal(0, Assert.Single(ingest.Server.Service.Edges.Snapshot()).Duplicates);
        }
    }

    // The WAL of the ingest holds each device's samples 0..perDevice-1 exactly once and in order, in batches
    // numbered 1, 2, 3… under this buffer's X-FG-Edge.
    private static void AssertOnceInOrder(IngestRig ingest, EdgeAgent agent, int perDevice, int devices)
    {
        List<IngestRecord> records = ingest.ReadWal();
        Assert.All(records, r => Assert.Equal(agent.Uplink.EdgeHeader, r.EdgeId));
        Assert.Equal(Enumerable.Range(1, records.Count).Select(i => (long?)i), records.Select(r => r.EdgeSequence));
        var values = new Dictionary<string, List<long>>();
        foreach (string line in ingest.WalLines().Where(l => l.StartsWith("telemetry,", StringComparison.Ordinal) && l.Contains(" v=", StringComparison.Ordinal)))
        {
            Match m = SampleLine().Match(line);
            Assert.True(m.Success, line);
            (values.TryGetValue(m.Groups["dev"].Value, out List<long>? list) ? list : values[m.Groups["dev"].Value] = []).Add(long.Parse(m.Groups["v"].Value, System.Globalization.CultureInfo.InvariantCulture));
        }

        Assert.Equal(devices, values.Count);
        Assert.All(values.Values, list => Assert.Equal(Enumerable.Range(0, perDevice).Select(i => (long)i), list));
    }

    [GeneratedRegex(@"^telemetry,dev=(?<dev>[^,]+),edge=edge-test,ent=91330402MA2B3C4D53 v=(?<v>\d+)i \d+$")]
    private static partial Regex SampleLine();

    // Passes the request to the ingest, then drops its answer for one batch, as a connection cut after the ingest
    // committed would.
    private sealed class LoseResponse(long sequence) : DelegatingHandler(new SocketsHttpHandler())
    {
        private int _lost;

        public int Lost => _lost;

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            HttpResponseMessage response = await base.SendAsync(request, cancellationToken);
            if (response.StatusCode == HttpStatusCode.NoContent
                && request.Headers.GetValues("X-FG-Seq").Single() == sequence.ToString(System.Globalization.CultureInfo.InvariantCulture)
                && Interlocked.CompareExchange(ref _lost, 1, 0) == 0)
            {
                response.Dispose();
                throw new HttpRequestException("the connection was reset after the request was sent (test)");
            }

            return response;
        }
    }
}
