namespace FactoryGateway.Ingest.Metrics;

/// <summary>The ingest's counters, exposed at <c>/metrics</c>.</summary>
public sealed class IngestMetrics
{
    /// <summary>Write requests by HTTP status code.</summary>
    public LabeledCounter Requests { get; } = new("status");

    public Counter PointsAccepted { get; } = new();

    /// <summary>Points in rejected requests, by reason (malformed, future_timestamp, forbidden_enterprise, too_large, unauthorized, wal_full, overloaded).</summary>
    public LabeledCounter PointsRejected { get; } = new("reason");

    /// <summary>Requests rejected, by the same reasons (a rejected request's points may be uncountable).</summary>
    public LabeledCounter RequestsRejected { get; } = new("reason");

    public Counter BytesReceived { get; } = new();

    public Counter BytesDecoded { get; } = new();

    public Counter PointsLate { get; } = new();

    public Counter PointsEnterpriseTagAdded { get; } = new();

    /// <summary>Accepted points whose tags the ingest put in key order (their sender did not).</summary>
    public Counter PointsTagsSorted { get; } = new();

    public Counter PointsUnregistered { get; } = new();

    public Counter DuplicateBatches { get; } = new();

    public Counter SequenceGaps { get; } = new();
}
