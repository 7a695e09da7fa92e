namespace FactoryGateway.Edge.Sources;

/// <summary>
/// A source of device data: one OPC UA server, one MQTT broker. It connects, reads and reconnects by itself
/// until stopped, and tells the sink about every sample, connection change and identity.
/// </summary>
public interface IEdgeSource : IAsyncDisposable
{
    /// <summary>The configured source name, for logs and health.</summary>
    string Name { get; }

    /// <summary>The ids of the devices this source feeds.</summary>
    IReadOnlyList<string> Devices { get; }

    /// <summary>
    /// Runs the source until <paramref name="cancellationToken"/> fires; connection losses are handled inside
    /// (reconnect with backoff) and reported to <paramref name="sink"/>, never thrown. Throws only for a
    /// configuration the source cannot run with.
    /// </summary>
    Task RunAsync(IEdgeSink sink, CancellationToken cancellationToken);
}
