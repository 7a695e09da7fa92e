namespace FactoryGateway.Edge.Uplink;

/// <summary>The uplink's counters and position, for health and <c>/metrics</c>.</summary>
/// <param name="EdgeHeader">The <c>X-FG-Edge</c> value this buffer is sent under.</param>
/// <param name="AcknowledgedSequence">The last batch sequence number the ingest acknowledged (0 before any).</param>
/// <param name="Batches">Batches acknowledged since start.</param>
/// <param name="Lines">Lines acknowledged since start.</param>
/// <param name="BytesSent">Compressed bytes acknowledged since start.</param>
/// <param name="Retries">Failed attempts that were retried.</param>
/// <param name="DeadLetteredBatches">Batches the ingest refused for good (written to the dead-letter directory).</param>
/// <param name="DeadLetteredLines">Their lines.</param>
/// <param name="Splits">Batches split after a 413.</param>
/// <param name="PendingBytes">Buffer bytes not yet acknowledged.</param>
/// <param name="Lag">Age of the oldest unacknowledged record (zero when nothing waits).</param>
/// <param name="LastError">The last failure, if the last attempt failed.</param>
/// <param name="ResponsesByStatus">Responses by HTTP status (0 = no response: connection failure or timeout).</param>
public sealed record UplinkStats(
    string EdgeHeader,
    long AcknowledgedSequence,
    long Batches,
    long Lines,
    long BytesSent,
    long Retries,
    long DeadLetteredBatches,
    long DeadLetteredLines,
    long Splits,
    long PendingBytes,
    TimeSpan Lag,
    string? LastError,
    IReadOnlyDictionary<int, long> ResponsesByStatus);
