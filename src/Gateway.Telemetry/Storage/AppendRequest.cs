using System.Buffers;
using System.Collections.Concurrent;
using System.Threading.Tasks.Sources;

namespace FactoryGateway.Telemetry.Storage;

/// <summary>
/// One queued append: the payload, the result the writer decides, and the completion the appender awaits.
/// Requests are pooled and back a <see cref="ValueTask{TResult}"/> directly, so an append allocates
/// nothing when the queue has room. The writer touches a request last when it completes it; the
/// request returns to the pool when the appender has read the result.
/// </summary>
internal sealed class AppendRequest : IValueTaskSource<LogAppendResult>
{
    private readonly AppendRequestPool _pool;
    // Continuations run on the thread pool, never inline on the writer, which has the next batch to write.
    private ManualResetValueTaskSourceCore<LogAppendResult> _core = new() { RunContinuationsAsynchronously = true };

    public AppendRequest(AppendRequestPool pool)
    {
        _pool = pool;
    }

    public ReadOnlySequence<byte> Payload { get; set; }

    public LogAppendResult Result { get; set; }

    public ValueTask<LogAppendResult> AsValueTask() => new(this, _core.Version);

    public void Complete()
    {
        Payload = default;
        _core.SetResult(Result);
    }

    public void Fail(Exception error)
    {
        Payload = default;
        _core.SetException(error);
    }

    public LogAppendResult GetResult(short token)
    {
        bool mine = token == _core.Version;
        try
        {
            return _core.GetResult(token);
        }
        finally
        {
            if (mine)
            {
                _core.Reset();
                _pool.Return(this);
            }
        }
    }

    public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);
}

/// <summary>A bounded pool of <see cref="AppendRequest"/>; beyond its capacity, returned requests are left to the GC.</summary>
internal sealed class AppendRequestPool
{
    private readonly ConcurrentQueue<AppendRequest> _items = new();
    private readonly int _capacity;
    private int _count;

    public AppendRequestPool(int capacity)
    {
        _capacity = capacity;
    }

    public AppendRequest Rent()
    {
        if (_items.TryDequeue(out AppendRequest? request))
        {
            Interlocked.Decrement(ref _count);
            return request;
        }

        return new AppendRequest(this);
    }

    public void Return(AppendRequest request)
    {
        if (Interlocked.Increment(ref _count) <= _capacity)
        {
            _items.Enqueue(request);
        }
        else
        {
            Interlocked.Decrement(ref _count);
        }
    }
}
