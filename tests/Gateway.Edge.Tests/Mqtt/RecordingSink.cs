using FactoryGateway.Edge.Signals;
using FactoryGateway.Edge.Sources;

namespace FactoryGateway.Edge.Tests.Mqtt;

/// <summary>What a source told the sink, in order.</summary>
internal abstract record SinkEvent(string Device);

internal sealed record SampleEvent(EdgeSample Sample) : SinkEvent(Sample.Device);

internal sealed record ConnectionEvent(string Device, bool Up, string? Reason) : SinkEvent(Device);

internal sealed record IdentityEvent(string Device, DeviceIdentity Identity) : SinkEvent(Device);

internal sealed record ItemStatusEvent(string Device, string Item, uint Status, string? Reason) : SinkEvent(Device);

/// <summary>
/// An <see cref="IEdgeSink"/> that records every call in order (thread-safe) and lets a test wait, with a deadline,
/// until what it recorded satisfies a condition. <see cref="Acceptance"/> is what <see cref="Sample"/> answers, unless
/// the calls are passed on to <see cref="Inner"/> (a real normaliser), whose answers it then gives.
/// </summary>
internal sealed class RecordingSink : IEdgeSink
{
    private static readonly TimeSpan s_deadline = TimeSpan.FromSeconds(30);

    private readonly Lock _lock = new();
    private readonly List<SinkEvent> _events = [];
    private readonly List<(Func<IReadOnlyList<SinkEvent>, bool> Condition, TaskCompletionSource Done)> _waiters = [];

    public SampleAcceptance Acceptance { get; set; } = SampleAcceptance.Accepted;

    /// <summary>A sink every call is passed on to after it is recorded.</summary>
    public IEdgeSink? Inner { get; init; }

    /// <summary>When set, <see cref="Sample"/> records, then waits for it (at most the deadline), as a full buffer under the Block policy does.</summary>
    public ManualResetEventSlim? Gate { get; set; }

    public IReadOnlyList<SinkEvent> Events
    {
        get
        {
            lock (_lock)
            {
                return [.. _events];
            }
        }
    }

    public IReadOnlyList<EdgeSample> Samples => [.. Events.OfType<SampleEvent>().Select(e => e.Sample)];

    public SampleAcceptance Sample(in EdgeSample sample)
    {
        SampleAcceptance acceptance = Inner?.Sample(sample) ?? Acceptance;
        Record(new SampleEvent(sample));
        if (Gate is { } gate && !gate.Wait(s_deadline))
        {
            throw new TimeoutException("The test did not open the sink's gate.");
        }

        return acceptance;
    }

    public void Connection(string device, bool up, string? reason = null)
    {
        Inner?.Connection(device, up, reason);
        Record(new ConnectionEvent(device, up, reason));
    }

    public void Identity(string device, DeviceIdentity identity)
    {
        Inner?.Identity(device, identity);
        Record(new IdentityEvent(device, identity));
    }

    public void ItemStatus(string device, string item, uint status, string? reason = null)
    {
        Inner?.ItemStatus(device, item, status, reason);
        Record(new ItemStatusEvent(device, item, status, reason));
    }

    /// <summary>Waits until <paramref name="condition"/> holds over everything recorded; fails with the record after the deadline.</summary>
    public async Task WaitAsync(string what, Func<IReadOnlyList<SinkEvent>, bool> condition, CancellationToken cancellationToken, TimeSpan? deadline = null)
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

        TimeSpan limit = deadline ?? s_deadline;
        try
        {
            await done.Task.WaitAsync(limit, cancellationToken);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"Not within {limit.TotalSeconds} s: {what}. Recorded:{Environment.NewLine}{string.Join(Environment.NewLine, Events)}");
        }
        finally
        {
            lock (_lock)
            {
                _waiters.RemoveAll(w => w.Done == done);
            }
        }
    }

    /// <summary>Waits until <paramref name="count"/> samples of <paramref name="device"/> are recorded and returns them.</summary>
    public async Task<IReadOnlyList<EdgeSample>> WaitForSamplesAsync(string device, int count, CancellationToken cancellationToken)
    {
        await WaitAsync($"{count} samples of {device}", events => events.OfType<SampleEvent>().Count(e => e.Device == device) >= count, cancellationToken);
        return [.. Samples.Where(s => s.Device == device)];
    }

    /// <summary>Waits for a connection event of <paramref name="device"/> after the <paramref name="after"/>-th recorded event.</summary>
    public async Task<ConnectionEvent> WaitForConnectionAsync(string device, bool up, CancellationToken cancellationToken, int after = 0, TimeSpan? deadline = null)
    {
        await WaitAsync($"{device} {(up ? "up" : "down")}", events => events.Skip(after).OfType<ConnectionEvent>().Any(e => e.Device == device && e.Up == up), cancellationToken, deadline);
        return Events.Skip(after).OfType<ConnectionEvent>().First(e => e.Device == device && e.Up == up);
    }

    private void Record(SinkEvent sinkEvent)
    {
        List<TaskCompletionSource>? ready = null;
        lock (_lock)
        {
            _events.Add(sinkEvent);
            foreach ((Func<IReadOnlyList<SinkEvent>, bool> condition, TaskCompletionSource done) in _waiters)
            {
                if (condition(_events))
                {
                    (ready ??= []).Add(done);
                }
            }
        }

        foreach (TaskCompletionSource done in ready ?? [])
        {
            done.TrySetResult();
        }
    }
}
