using System.Collections.Concurrent;
using System.Text;
using FactoryGateway.Mqtt.Client;

namespace FactoryGateway.Mqtt.Tests.Client;

/// <summary>A message handler that records what it receives and completes waits at a count (no sleeps).</summary>
internal sealed class MessageCollector
{
    private readonly ConcurrentQueue<MqttReceivedMessage> _messages = new();
    private readonly Lock _lock = new();
    private readonly List<(int Count, TaskCompletionSource Done)> _waits = [];

    /// <summary>Optional work done inside the handler before the message counts as accepted.</summary>
    public Func<MqttReceivedMessage, CancellationToken, Task>? Before { get; set; }

    public int Count => _messages.Count;

    public IReadOnlyList<MqttReceivedMessage> Messages => [.. _messages];

    public IReadOnlyList<string> Payloads => [.. _messages.Select(m => Encoding.UTF8.GetString(m.Payload.Span))];

    public async ValueTask HandleAsync(MqttReceivedMessage message, CancellationToken cancellationToken)
    {
        if (Before is { } before)
        {
            await before(message, cancellationToken);
        }

        _messages.Enqueue(message);
        lock (_lock)
        {
            foreach ((int count, TaskCompletionSource done) in _waits)
            {
                if (_messages.Count >= count)
                {
                    done.TrySetResult();
                }
            }
        }
    }

    /// <summary>Waits until at least <paramref name="count"/> messages have arrived, within <paramref name="deadline"/>.</summary>
    public async Task WaitForAsync(int count, TimeSpan deadline, CancellationToken cancellationToken)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_lock)
        {
            if (_messages.Count >= count)
            {
                return;
            }

            _waits.Add((count, done));
        }

        try
        {
            await done.Task.WaitAsync(deadline, cancellationToken);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"{_messages.Count} of {count} messages arrived within {deadline.TotalSeconds:0} s.");
        }
    }
}
