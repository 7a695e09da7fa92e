using FactoryGateway.Ingest.Metrics;

namespace FactoryGateway.Ingest.Forwarding;

/// <summary>The forwarder's counters in the ingest's <c>/metrics</c>.</summary>
public static class ForwarderMetrics
{
    public static void Write(PrometheusTextWriter text, ForwarderStats stats)
    {
        var errors = new LabeledCounter("status");
        foreach ((string status, long count) in stats.ErrorsByStatus)
        {
            errors[status].Add(count);
        }

        text.Counter("fgw_forwarder_points_total", "Points acknowledged by InfluxDB.", stats.PointsForwarded)
            .Counter("fgw_forwarder_batches_total", "Batches acknowledged by InfluxDB.", stats.Batches)
            .Counter("fgw_forwarder_wire_bytes_total", "Bytes sent to InfluxDB (after gzip).", stats.WireBytes)
            .Counter("fgw_forwarder_errors_total", "Failed sends to InfluxDB (retried or dead-lettered), by HTTP status; \"network\" when there was no answer.", errors)
            .Counter("fgw_forwarder_retries_total", "Sends retried after a failure.", stats.Retries)
            .Counter("fgw_forwarder_splits_413_total", "Batches split because InfluxDB answered 413.", stats.Splits413)
            .Counter("fgw_forwarder_dead_lettered_points_total", "Points InfluxDB rejected, kept in the dead-letter file.", stats.PointsDeadLettered)
            .Gauge("fgw_forwarder_lag_bytes", "WAL bytes not yet acknowledged by InfluxDB.", stats.LagBytes)
            .Gauge("fgw_forwarder_last_success_unix_seconds", "When InfluxDB last acknowledged a batch (0: never).", stats.LastSuccessTime?.ToUnixTimeSeconds() ?? 0);
    }
}
