namespace FactoryGateway.Ingest.Forwarding;

/// <summary>
/// A snapshot of an <see cref="InfluxForwarder"/>'s counters since it was created. Each value is read
/// atomically; the snapshot as a whole is not (a batch may complete between two reads).
/// </summary>
/// <param name="PointsForwarded">Lines InfluxDB acknowledged (2xx). A line re-sent after a crash or a partial write counts again.</param>
/// <param name="Batches">Write requests InfluxDB acknowledged.</param>
/// <param name="LineProtocolBytes">Line-protocol bytes InfluxDB acknowledged, before gzip.</param>
/// <param name="WireBytes">Request body bytes of the acknowledged writes, after gzip.</param>
/// <param name="Retries4xx">Retries after a 429 (Too Many Requests).</param>
/// <param name="Retries5xx">Retries after a 5xx (503 included).</param>
/// <param name="RetriesNetwork">Retries after a network error or timeout (no HTTP answer).</param>
/// <param name="RetriesOther">Retries after a status outside 2xx/4xx/5xx.</param>
/// <param name="Splits413">Batches split in halves because InfluxDB answered 413 (body too large).</param>
/// <param name="SplitsRejected">Batches split in halves to isolate the lines InfluxDB rejected with 400/422.</param>
/// <param name="PointsDeadLettered">Lines written to the dead-letter file.</param>
/// <param name="BatchesDeadLettered">Rejected batches (each with its comment header) written to the dead-letter file.</param>
/// <param name="UndecodableRecords">WAL records that were not ingest records, kept (base64) in the dead-letter file and skipped.</param>
/// <param name="LastError">The last failure: the status and InfluxDB's error text, or the network error; null when none yet.</param>
/// <param name="LastErrorTime">When <paramref name="LastError"/> happened.</param>
/// <param name="LastSuccessTime">When InfluxDB last acknowledged a write.</param>
/// <param name="CursorPosition">The forwarder's persisted WAL cursor: everything before it is in InfluxDB or dead-lettered.</param>
/// <param name="LagBytes">WAL tail − <paramref name="CursorPosition"/>: the durable bytes (record headers included) not yet forwarded.</param>
public sealed record ForwarderStats(
    long PointsForwarded,
    long Batches,
    long LineProtocolBytes,
    long WireBytes,
    long Retries4xx,
    long Retries5xx,
    long RetriesNetwork,
    long RetriesOther,
    long Splits413,
    long SplitsRejected,
    long PointsDeadLettered,
    long BatchesDeadLettered,
    long UndecodableRecords,
    string? LastError,
    DateTimeOffset? LastErrorTime,
    DateTimeOffset? LastSuccessTime,
    long CursorPosition,
    long LagBytes)
{
    /// <summary>Failed sends (retried or dead-lettered) by HTTP status, "network" where there was no answer.</summary>
    public IReadOnlyDictionary<string, long> ErrorsByStatus { get; init; } = new Dictionary<string, long>();

    /// <summary>All retries, whatever their cause.</summary>
    public long Retries => Retries4xx + Retries5xx + RetriesNetwork + RetriesOther;
}
