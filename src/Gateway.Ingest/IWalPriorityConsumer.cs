namespace FactoryGateway.Ingest;

/// <summary>
/// A WAL consumer that background consumers give way to: the InfluxDB forwarder, whose delay dashboards see
/// at once. While it is delivering a backlog, the evidence accumulator (settled per day, a few seconds late
/// costs nothing) waits, so that a burst of writes reaches InfluxDB first and the evidence follows.
/// </summary>
public interface IWalPriorityConsumer
{
    /// <summary>The consumer's WAL cursor name.</summary>
    string Name { get; }

    /// <summary>
    /// True while the consumer is running, none of its sends is failing, and at least one full batch of the
    /// WAL waits for it: work it can do now, and that others would slow down. False when it is caught up, stopped,
    /// or retrying (InfluxDB down or throttling): then nobody should wait for it.
    /// </summary>
    bool IsDeliveringBacklog { get; }
}
