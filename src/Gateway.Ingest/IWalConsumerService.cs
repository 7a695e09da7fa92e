namespace FactoryGateway.Ingest;

/// <summary>
/// A reader of the ingest's WAL that runs for the service's lifetime (the InfluxDB forwarder; later the
/// evidence accumulator). Its <see cref="Name"/> is its WAL cursor, registered before the first write so
/// that no segment is deleted before it has read it.
/// </summary>
public interface IWalConsumerService
{
    string Name { get; }

    /// <summary>Reads the WAL from the consumer's cursor until <paramref name="cancellationToken"/> fires.</summary>
    Task RunAsync(CancellationToken cancellationToken);
}
