using FactoryGateway.Edge.Signals;
using FactoryGateway.Edge.Sources;

namespace FactoryGateway.Edge.Tests.OpcUa;

/// <summary>What a source told the sink, in order, under one lock; tests wait for a condition with a deadline.</summary>
public sealed class RecordingSink : IEdgeSink
{
    private readonly Lock _lock = new();
    private readonly List<object> _events = [];
    private readonly List<(Func<IReadOnlyList<object>, bool> Condition, TaskCompletionSource Done)> _waiters = [];

    public sealed record ConnectionEvent(string Device, bool Up, string? Reason);

    public sealed record IdentityEvent(string Device, DeviceIdentity Identity);

    public sealed record ItemStatusEvent(string Device, string Item, uint Status, string? Reason);

    public IReadOnlyList<object> Events
    {
        get
        {
            lock (_lock)
            {
                return [.. _events];
            }
        }
    }

    public IReadOnlyList<EdgeSample> Samples(string device, string signal) =>
        Events.OfType<EdgeSample>().Where(s => s.Device == device && s.Signal == signal).ToList();

    public SampleAcceptance Sample(in EdgeSample sample)
    {
        Add(sample);
        return SampleAcceptance.Accepted;
    }

    public void Connection(string device, bool up, string? reason = null) => Add(new ConnectionEvent(device, up, reason));

    public void Identity(string device, DeviceIdentity identity) => Add(new IdentityEvent(device, identity));

    public void ItemStatus(string device, string item, uint status, string? reason = null) => Add(new ItemStatusEvent(device, item, status, reason));

    /// <summary>Completes when <paramref name="condition"/> holds over the events so far; fails naming <paramref name="what"/> and the events after <paramref name="timeout"/>.</summary>
    public async Task WaitAsync(string what, Func<IReadOnlyList<object>, bool> condition, TimeSpan? timeout = null)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_lock)
        {
            if (condition(_events))
            {
                return;
            }

            _waiters.Add((condition, done));
        }

        try
        {
            await done.Task.WaitAsync(timeout ?? TimeSpan.FromSeconds(60));
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"waited for {what}; the sink saw:{Environment.NewLine}{Describe()}");
        }
    }

    /// <summary>Every event other than a sample, and per device and signal the number of samples and the last one.</summary>
    public string Describe()
    {
        IReadOnlyList<object> events = Events;
        IEnumerable<string> others = events.Where(e => e is not EdgeSample).Take(50).Select(e => e.ToString()!);
        IEnumerable<string> samples = events.OfType<EdgeSample>().GroupBy(s => (s.Device, s.Signal))
            .Select(g => $"{g.Key.Device}/{g.Key.Signal}: {g.Count()} sample(s), last {g.Last()}");
        return string.Join(Environment.NewLine, others.Concat(samples));
    }

    private void Add(object e)
    {
        lock (_lock)
        {
            _events.Add(e);
            for (int i = _waiters.Count - 1; i >= 0; i--)
            {
                if (_waiters[i].Condition(_events))
                {
                    _waiters[i].Done.TrySetResult();
                    _waiters.RemoveAt(i);
                }
            }
        }
    }
}
