using System.Collections.Concurrent;

namespace FactoryGateway.OpcUa.Tests;

/// <summary>A clock whose timers fire only when a test says so; the wall clock is the system's.</summary>
public sealed class ManualTimeProvider : TimeProvider
{
    private readonly ConcurrentQueue<ManualTimer> _timers = new();

    public IReadOnlyCollection<ManualTimer> Timers => _timers;

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new ManualTimer(callback, state, dueTime, period);
        _timers.Enqueue(timer);
        return timer;
    }

    public sealed class ManualTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) : ITimer
    {
        public TimeSpan DueTime { get; private set; } = dueTime;

        /// <summary>The repeat period (<see cref="Timeout.InfiniteTimeSpan"/> for one-shot timers such as request timeouts).</summary>
        public TimeSpan Period { get; private set; } = period;

        public bool Disposed { get; private set; }

        public void Fire() => callback(state);

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            DueTime = dueTime;
            Period = period;
            return true;
        }

        public void Dispose() => Disposed = true;

        public ValueTask DisposeAsync()
        {
            Disposed = true;
            return ValueTask.CompletedTask;
        }
    }
}
