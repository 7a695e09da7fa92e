using FactoryGateway.Evidence.Ledger;

namespace FactoryGateway.Ingest.Evidence;

/// <summary>Options of the <see cref="EvidenceAccumulator"/>; checked by <see cref="Validate"/>.</summary>
public sealed class EvidenceAccumulatorOptions
{
    /// <summary>The WAL cursor and checkpoint name. One accumulator per ledger.</summary>
    public string CursorName { get; set; } = "evidence";

    /// <summary>
    /// The longest time between checkpoints while records are being applied. A checkpoint is one SQLite
    /// transaction (synchronous=FULL) with every changed row: 1 s keeps it to a few per second under load and
    /// bounds the work redone after a crash to a second of WAL.
    /// </summary>
    public TimeSpan CheckpointInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How far apart in time two records can be stamped and appended out of order. The accumulator treats
    /// every record stamped before (latest arrival seen − skew) as in: 1 min is far beyond a write's
    /// duration (the ingest stamps a request just before appending it).
    /// </summary>
    public TimeSpan ArrivalSkew { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// How far (WAL bytes) the accumulator may fall behind while it gives way to the InfluxDB forwarder: while
    /// the forwarder delivers a backlog (a burst of writes, or the catch-up after an outage), the accumulator
    /// waits, so that the CPU goes to InfluxDB first; evidence is settled per day and loses nothing by a few
    /// seconds. Past this lag it applies records again whatever the forwarder does. It never waits for a
    /// forwarder that is failing or caught up. 1 GiB, and never more than a quarter of the WAL's disk bound (so
    /// the WAL's backpressure never starts because of evidence); 0 turns the giving way off.
    /// </summary>
    public long MaxDeferredBytes { get; set; } = 1L * 1024 * 1024 * 1024;

    /// <summary>The evidence parameters of the formula set (late window, coverage age, backfill age).</summary>
    public LedgerParameters Parameters { get; set; } = new();

    public EvidenceAccumulatorOptions Validate()
    {
        if (string.IsNullOrWhiteSpace(CursorName) || CursorName.Length > 64)
        {
            throw new ArgumentException($"EvidenceAccumulatorOptions.CursorName must be 1-64 characters (was '{CursorName}').", nameof(CursorName));
        }

        if (CheckpointInterval < TimeSpan.FromMilliseconds(10) || CheckpointInterval > TimeSpan.FromMinutes(10))
        {
            throw new ArgumentException($"EvidenceAccumulatorOptions.CheckpointInterval must be between 10 ms and 10 min (was {CheckpointInterval}).", nameof(CheckpointInterval));
        }

        if (ArrivalSkew < TimeSpan.Zero || ArrivalSkew > TimeSpan.FromHours(1))
        {
            throw new ArgumentException($"EvidenceAccumulatorOptions.ArrivalSkew must be between 0 and 1 h (was {ArrivalSkew}).", nameof(ArrivalSkew));
        }

        if (MaxDeferredBytes < 0)
        {
            throw new ArgumentException($"EvidenceAccumulatorOptions.MaxDeferredBytes must not be negative (was {MaxDeferredBytes}); 0 turns giving way off.", nameof(MaxDeferredBytes));
        }

        ArgumentNullException.ThrowIfNull(Parameters);
        Parameters.Validate();
        return this;
    }
}
