namespace FactoryGateway.OpcUa.Tests.Server;

/// <summary>
/// A clock a test moves forward: <see cref="Advance"/> sets the time and fires each timer that fell
/// due once (coalesced), on the calling thread. The server's publishing cycles, session and token
/// expiry run on it, so tests step them exactly.
/// </summary>
public sealed class SteppedClock : TimeProvider
{
    private readonly Lock _sync = new();
    private readonly List<SteppedTimer> _timers = [];
    private DateTimeOffset _now = new(2026, 11, 22, 8, 0, 0, TimeSpan.Zero);

    public override DateTimeOffset GetUtcNow()
    {
        lock (_sync)
        {
            return _now;
        }
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new SteppedTimer(this, callback, state);
        timer.Change(dueTime, period);
        lock (_sync)
        {
            _timers.Add(timer);
        }

        return timer;
    }

    /// <summary>Moves the clock and fires every timer due by then (once each).</summary>
    public void Advance(TimeSpan by)
    {
        SteppedTimer[] due;
        lock (_sync)
        {
            _now += by;
            due = _timers.Where(t => t.Next is { } next && next <= _now).ToArray();
            foreach (SteppedTimer t in due)
            {
                t.Next = t.Period is { } p && p > TimeSpan.Zero && p != Timeout.InfiniteTimeSpan ? _now + p : null;
            }
        }

        foreach (SteppedTimer t in due)
        {
            t.Fire();
        }
    }

    private sealed class SteppedTimer(SteppedClock clock, TimerCallback callback, object? state) : ITimer
    {
        public DateTimeOffset? Next { get; set; }

        public TimeSpan? Period { get; private set; }

        public void Fire() => callback(state);

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            lock (clock._sync)
            {
                Next = dueTime == Timeout.InfiniteTimeSpan ? null : clock._now + dueTime;
                Period = period;
            }

            return true;
        }

        public void Dispose()
        {
            lock (clock._sync)
            {
                Next = null;
                clock._timers.Remove(this);
            }
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
