namespace FactoryGateway.Ingest;

/// <summary>
/// A WAL consumer that is configured off: it registers its cursor and never moves it, so the WAL keeps
/// everything that consumer has not read (up to the WAL's disk bound, then writers get 429/503) until
/// it runs again. The ingest uses it for the forwarder when no InfluxDB target is set.
/// </summary>
public sealed class ParkedConsumer(string name) : IWalConsumerService
{
    public string Name { get; } = name;

    public Task RunAsync(CancellationToken cancellationToken) => Task.Delay(Timeout.Infinite, cancellationToken);
}
