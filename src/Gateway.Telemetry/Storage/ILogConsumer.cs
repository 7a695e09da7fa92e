namespace FactoryGateway.Telemetry.Storage;

/// <summary>
/// A reader of the segment log with its own persisted cursor (the InfluxDB forwarder, the evidence
/// accumulator). Run one with <see cref="SegmentLog.RunConsumerAsync"/>. The contract:
/// <list type="bullet">
/// <item><see cref="Name"/> is the cursor's name (lowercase letters, digits, '-' and '_'); it stays the same
/// across restarts, and while the cursor exists it pins the log: no segment at or after it is deleted.</item>
/// <item>Batches arrive in log order. The cursor moves past a batch only after
/// <see cref="ConsumeAsync"/> returns, so delivery is at least once: after a crash the last batch may
/// come again, and a consumer must apply it idempotently (by record position or sequence number).</item>
/// <item>A consumer that throws stops the loop without moving its cursor; running it again redelivers.</item>
/// <item>A consumer that is retired must remove its cursor (<see cref="SegmentLog.RemoveCursor"/>), or the log fills.</item>
/// </list>
/// </summary>
public interface ILogConsumer
{
    /// <summary>The cursor name.</summary>
    string Name { get; }

    /// <summary>
    /// Processes one batch. The batch's payload memory is valid only until this returns.
    /// </summary>
    ValueTask ConsumeAsync(LogReadBatch batch, CancellationToken cancellationToken);
}
