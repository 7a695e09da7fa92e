namespace FactoryGateway.Mqtt.Client;

/// <summary>
/// Counts QoS 1/2 messages sent and not yet acknowledged. The writer takes a slot before it sends a
/// message and waits for room when there is none; the capacity changes per connection (the broker's
/// Receive Maximum). Slots outlive connections: a resent message keeps its slot.
/// </summary>
internal sealed class InFlightWindow
{
    private readonly Lock _lock = new();
    private TaskCompletionSource _room = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _capacity;
    private int _used;

    public InFlightWindow(int capacity)
    {
        _capacity = capacity;
    }

    public int Used
    {
        get
        {
            lock (_lock)
            {
                return _used;
            }
        }
    }

    public bool TryAcquire()
    {
        lock (_lock)
        {
            if (_used >= _capacity)
            {
                return false;
            }

            _used++;
            return true;
        }
    }

    /// <summary>Takes a slot even when the window is full (a race between two writers; rare).</summary>
    public void ForceAcquire()
    {
        lock (_lock)
        {
            _used++;
        }
    }

    public void Release()
    {
        TaskCompletionSource room;
        lock (_lock)
        {
            _used--;
            room = _room;
            _room = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        room.TrySetResult();
    }

    public void SetCapacity(int capacity)
    {
        TaskCompletionSource room;
        lock (_lock)
        {
            _capacity = capacity;
            room = _room;
            _room = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        room.TrySetResult();
    }

    /// <summary>Completes when a slot may be free (the caller then tries <see cref="TryAcquire"/> again).</summary>
    public Task WaitForRoomAsync(CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            return _used < _capacity ? Task.CompletedTask : _room.Task.WaitAsync(cancellationToken);
        }
    }
}
