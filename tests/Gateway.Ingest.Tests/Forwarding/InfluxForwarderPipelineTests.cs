using System.Net;
using FactoryGateway.Ingest.Forwarding;
using FactoryGateway.Telemetry.Influx;

namespace FactoryGateway.Ingest.Tests.Forwarding;

/// <summary>Several batches in flight: the cursor still moves only over the contiguous acknowledged prefix.</summary>
public sealed class InfluxForwarderPipelineTests
{
    private static readonly InfluxTarget s_target = InfluxTarget.ForV1(new Uri("http://influx.test:8086/"), "plant");

    [Fact]
    public async Task A_later_batch_acknowledged_first_does_not_move_the_cursor_past_an_earlier_one()
    {
        var influx = new GatedInflux();
        await using var rig = new ForwarderRig(influx);
        List<long> records = await rig.AppendPointsAsync(0, 8, perRecord: 4);
        InfluxForwarder forwarder = rig.Forwarder(s_target, rig.Options(o =>
        {
            o.MaxBatchLines = 4;
            o.MaxBatchesInFlight = 2;
            o.FlushInterval = TimeSpan.Zero;
        }));

        await using var running = new RunningForwarder(forwarder);
        await influx.BothReceived.WaitAsync(ForwarderRig.Deadline, TestContext.Current.CancellationToken);
        await running.WaitUntilAsync(s => s.PointsForwarded >= 4, "the second batch acknowledged while the first is held");

        Assert.Equal(2, influx.Requests);
        Assert.InRange(running.Stats.CursorPosition, rig.Log.HeadPosition, records[0]); // not past the held first batch

        influx.ReleaseFirst();
        await running.WaitForwardedAsync(8);
        Assert.Equal(rig.Log.TailPosition, running.Stats.CursorPosition);
    }

    /// <summary>Holds the first write until released; answers every other at once.</summary>
    private sealed class GatedInflux : HttpMessageHandler
    {
        private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _both = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _requests;

        public int Requests => Volatile.Read(ref _requests);

        public Task BothReceived => _both.Task;

        public void ReleaseFirst() => _release.TrySetResult();

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            await request.Content!.ReadAsByteArrayAsync(cancellationToken);
            int index = Interlocked.Increment(ref _requests) - 1;
            if (index == 1)
            {
                _both.TrySetResult();
            }

            if (index == 0)
            {
                await _release.Task.WaitAsync(cancellationToken);
            }

            return new HttpResponseMessage(HttpStatusCode.NoContent);
        }
    }
}
