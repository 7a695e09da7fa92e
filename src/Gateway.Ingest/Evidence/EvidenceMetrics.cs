using FactoryGateway.Ingest.Metrics;

namespace FactoryGateway.Ingest.Evidence;

/// <summary>The evidence accumulator's counters in the ingest's <c>/metrics</c>.</summary>
public static class EvidenceMetrics
{
    public static void Write(PrometheusTextWriter text, EvidenceAccumulatorStats stats)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(stats);
        text.Counter("fgw_evidence_records_total", "WAL records the evidence accumulator has read.", stats.Records)
            .Counter("fgw_evidence_lines_total", "Lines applied to the ledger as evidence.", stats.LinesApplied)
            .Counter("fgw_evidence_lines_ignored_total", "Lines that are not evidence (no ent or dev tag, or another measurement).", stats.LinesIgnored)
            .Counter("fgw_evidence_records_skipped_total", "WAL records that could not be read as evidence.", stats.RecordsSkipped)
            .Counter("fgw_evidence_rows_sealed_total", "Device-day rows sealed into the hash chains.", stats.RowsSealed)
            .Counter("fgw_evidence_checkpoints_total", "Ledger checkpoints committed.", stats.Checkpoints)
            .Gauge("fgw_evidence_lag_bytes", "WAL bytes not yet in the ledger.", stats.LagBytes)
            .Gauge("fgw_evidence_giving_way", "1 while the accumulator waits for the InfluxDB forwarder to deliver its backlog.", stats.GivingWay ? 1 : 0)
            .Counter("fgw_evidence_gave_way_seconds_total", "Time the accumulator waited for the InfluxDB forwarder's backlog.", stats.GaveWay.TotalSeconds);
    }
}
