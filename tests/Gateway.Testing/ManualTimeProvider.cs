namespace FactoryGateway.Testing;

/// <summary>
/// A clock that moves only when a test calls <see cref="Advance"/>; its timers (what <c>Task.Delay</c> and
/// <c>Task.WaitAsync</c> use with a <see cref="TimeProvider"/>) fire then. <see cref="WaitForTimerAsync"/> lets
/// a test wait, with a deadline, until the code under test has armed the timer it expects.
/// </summary>
public sealed class ManualTimeProvider : TimeProvider
{
    private readonly Lock _lock = new();
    private readonly List<ManualTimer> _timers = [];
    private DateTimeOffset _now;
    private int _created;
    private TaskCompletionSource _changed = NewSignal();

    /// <summary>How long <see cref="WaitForTimerAsync"/> waits, in real time, for the code under test to arm a timer.</summary>
    public static TimeSpan TimerDeadline { get; } = TimeSpan.FromSeconds(60);

    public ManualTimeProvider(DateTimeOffset start)
    {
        _now = start;
    }

    public override DateTimeOffset GetUtcNow()
    {
        lock (_lock)
        {
            return _now;
        }
    }

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override long GetTimestamp() => GetUtcNow().UtcTicks;

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new ManualTimer(this, callback, state, Interlocked.Increment(ref _created));
        timer.Change(dueTime, period);
        return timer;
    }

    /// <summary>The armed timers: their creation number (1, 2, …) and due time relative to now.</summary>
    public IReadOnlyList<(int Id, TimeSpan Due)> ArmedTimers()
    {
        lock (_lock)
        {
            return [.. _timers.Where(t => t.DueAt is not null).Select(t => (t.Id, t.DueAt!.Value - _now))];
        }
    }

    /// <summary>
    /// Completes with the creation number and due time of a timer, created after timer <paramref name="newerThan"/>,
    /// that is armed and due within [<paramref name="min"/>, <paramref name="max"/>] from now. Advance by exactly
    /// that due time: a longer step would also fire a timer the code under test arms in reaction.
    /// </summary>
    public async Task<(int Id, TimeSpan Due)> WaitForTimerAsync(TimeSpan min, TimeSpan max, int newerThan = 0)
    {
        using var timeout = new CancellationTokenSource(TimerDeadline);
        while (true)
        {
            Task changed;
            lock (_lock)
            {
                changed = _changed.Task;
            }

            foreach ((int id, TimeSpan due) in ArmedTimers())
            {
                if (id > newerThan && due >= min && due <= max)
                {
                    return (id, due);
                }
            }

            try
            {
                await changed.WaitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"No timer due within [{min}, {max}] was armed within {TimerDeadline}; armed: [{string.Join(", ", ArmedTimers())}].");
            }
        }
    }

    /// <summary>Moves the clock forward, firing every timer that falls due on the way, in order.</summary>
    public void Advance(TimeSpan by)
    {
        DateTimeOffset target;
        lock (_lock)
        {
            target = _now + by;
        }

        while (true)
        {
            ManualTimer? due = null;
            lock (_lock)
            {
                foreach (ManualTimer timer in _timers)
                {
                    if (timer.DueAt is { } at && at <= target && (due is null || at < due.DueAt))
                    {
                        due = timer;
                    }
                }

                if (due is null)
                {
                    _now = target;
                    Signal();
                    return;
                }

                _now = due.DueAt!.Value;
                due.DueAt = due.Period is { } period ? _now + period : null;
            }

            due.Fire();
        }
    }

    private void Changed(ManualTimer timer, TimeSpan dueTime, TimeSpan period)
    {
        lock (_lock)
        {
            if (!_timers.Contains(timer))
            {
                _timers.Add(timer);
            }

            timer.DueAt = dueTime == Timeout.InfiniteTimeSpan ? null : _now + dueTime;
            timer.Period = period == Timeout.InfiniteTimeSpan || period == TimeSpan.Zero ? null : period;
            Signal();
        }
    }

    private void Removed(ManualTimer timer)
    {
        lock (_lock)
        {
            _timers.Remove(timer);
            Signal();
        }
    }

    // Caller holds _lock.
    private void Signal()
    {
        TaskCompletionSource changed = _changed;
        _changed = NewSignal();
        changed.TrySetResult();
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private sealed class ManualTimer(ManualTimeProvider owner, TimerCallback callback, object? state, int id) : ITimer
    {
        public int Id => id;

        public DateTimeOffset? DueAt { get; set; }

        public TimeSpan? Period { get; set; }

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            owner.Changed(this, dueTime, period);
            return true;
        }

        public void Fire() => callback(state);

        public void Dispose() => owner.Removed(this);

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
