using FactoryGateway.Edge.Signals;
using FactoryGateway.Edge.Sources;

namespace FactoryGateway.Edge.Tests.Core;

/// <summary>
/// A source whose devices are driven by the test: it reports its devices connected when it starts and hands
/// over whatever the test emits. It stands for a device, not for a server.
/// </summary>
internal sealed class SyntheticSource(string name, params string[] devices) : IEdgeSource
{
    private readonly TaskCompletionSource<IEdgeSink> _sink = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public string Name { get; } = name;

    public IReadOnlyList<string> Devices { get; } = devices;

    /// <summary>The sink, once the agent has started the source.</summary>
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

    /// <summary>Emits <paramref name="perDevice"/> samples of signal <c>v</c> per device, 100 ms apart in source time from <paramref name="start"/>.</summary>
    public async Task<int> EmitAsync(int perDevice, DateTimeOffset start, int offset = 0)
    {
        IEdgeSink sink = await Sink.WaitAsync(TimeSpan.FromSeconds(30));
        long startNs = (start - DateTimeOffset.UnixEpoch).Ticks * 100;
        int accepted = 0;
        for (int i = 0; i < perDevice; i++)
        {
            foreach (string device in Devices)
            {
                var sample = new EdgeSample(device, "v", SignalValue.Integer(offset + i), SignalQuality.Good, startNs + ((offset + i) * 100_000_000L));
                if (sink.Sample(sample) == SampleAcceptance.Accepted)
                {
                    accepted++;
                }
            }
        }

        return accepted;
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
