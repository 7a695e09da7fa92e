using System.Collections.Concurrent;
using System.Text;
using FactoryGateway.Mqtt.Client;

namespace FactoryGateway.Mqtt.Tests.Client;

/// <summary>A message handler that records what it receives and completes waits at a count (no sleeps).</summary>
internal sealed class MessageCollector
{
    private readonly ConcurrentQueue<MqttReceivedMessage> _messages = new();
    private readonly Lock _lock = new();
    private readonly HashSet<string> _distinct = new(StringComparer.Ordinal);
    private readonly List<(int Count, bool Distinct, TaskCompletionSource Done)> _waits = [];

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

        lock (_lock)
        {
            _messages.Enqueue(message);
            _distinct.Add(Encoding.UTF8.GetString(message.Payload.Span));
            foreach ((int count, bool distinct, TaskCompletionSource done) in _waits)
            {
                if (Reached(count, distinct))
                {
                    done.TrySetResult();
                }
            }
        }
    }

    /// <summary>Waits until at least <paramref name="count"/> messages have arrived, within <paramref name="deadline"/>.</summary>
    public Task WaitForAsync(int count, TimeSpan deadline, CancellationToken cancellationToken) =>
        WaitAsync(count, distinct: false, deadline, cancellationToken);

    /// <summary>
    /// Waits until <paramref name="count"/> distinct payloads have arrived, within <paramref name="deadline"/>: QoS 1
    /// may deliver a message twice, so the count of messages alone does not say when the stream is complete.
    /// </summary>
    public Task WaitForDistinctAsync(int count, TimeSpan deadline, CancellationToken cancellationToken) =>
        WaitAsync(count, distinct: true, deadline, cancellationToken);

    private bool Reached(int count, bool distinct) => (distinct ? _distinct.Count : _messages.Count) >= count;

    private async Task WaitAsync(int count, bool distinct, TimeSpan deadline, CancellationToken cancellationToken)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_lock)
        {
            if (Reached(count, distinct))
            {
                return;
            }

            _waits.Add((count, distinct, done));
        }

        try
        {
            await done.Task.WaitAsync(deadline, cancellationToken);
        }
        catch (TimeoutException)
        {
            int arrived;
            lock (_lock)
            {
                arrived = distinct ? _distinct.Count : _messages.Count;
            }

            throw new TimeoutException($"{arrived} of {count} {(distinct ? "distinct payloads" : "messages")} arrived within {deadline.TotalSeconds:0} s.");
        }
    }
}
