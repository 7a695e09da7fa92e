using FactoryGateway.Edge.Config;
using FactoryGateway.Edge.Sources.Mqtt;
using FactoryGateway.Testing;

namespace FactoryGateway.Edge.Tests.Mqtt;

/// <summary>An <see cref="MqttSource"/> running against a broker into a <see cref="RecordingSink"/>, stopped on dispose.</summary>
internal sealed class MqttSourceRun : IAsyncDisposable
{
    private static readonly TimeSpan s_deadline = TimeSpan.FromSeconds(30);

    private readonly CancellationTokenSource _stop = new();

    private MqttSourceRun(MqttSource source, RecordingSink sink)
    {
        Source = source;
        Sink = sink;
        Run = source.RunAsync(sink, _stop.Token);
    }

    public MqttSource Source { get; }

    public RecordingSink Sink { get; }

    public Task Run { get; }

    /// <summary>Starts the source and waits until the broker has its subscription(s).</summary>
    public static async Task<MqttSourceRun> StartAsync(MqttSourceOptions options, MosquittoServer broker, CancellationToken cancellationToken, RecordingSink? sink = null)
    {
        var source = new MqttSource(options, $"edge{Guid.NewGuid():N}"[..16]);
        var run = new MqttSourceRun(source, sink ?? new RecordingSink());
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(s_deadline);
        foreach (string? clientId in new[] { source.JsonClientId, source.SparkplugClientId })
        {
            if (clientId is not null)
            {
                Task subscribed = broker.WaitForLogAsync($"Received SUBSCRIBE from {clientId}", deadline.Token);
                if (await Task.WhenAny(subscribed, run.Run) == run.Run)
                {
                    await run.Run; // it failed: show why
                }

                await subscribed;
            }
        }

        return run;
    }

    /// <summary>Stops the source and returns what it threw (null when it stopped cleanly).</summary>
    public async Task StopAsync()
    {
        await _stop.CancelAsync();
        await Run.WaitAsync(s_deadline);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await Run.WaitAsync(s_deadline);
        }
        finally
        {
            await Source.DisposeAsync();
            _stop.Dispose();
        }
    }
}
