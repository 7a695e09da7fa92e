using System.Buffers;
using FactoryGateway.Evidence.Ledger;
using FactoryGateway.Telemetry.LineProtocol;

namespace FactoryGateway.Metrics.Indicators;

/// <summary>
/// Indicator values as InfluxDB points for dashboards (Grafana): measurement <c>indicator</c>, tags
/// <c>ent</c> (enterprise reports), <c>region</c> (the enterprise's county, or the region reported),
/// <c>indicator</c> and <c>window</c>; fields <c>value</c>, <c>numerator</c>, <c>denominator</c>,
/// <c>counted</c>, <c>excluded</c> and <c>provisional</c>; the timestamp is the window's start (local
/// midnight). Writing a window again overwrites its points: InfluxDB keeps one value per series and time.
/// </summary>
public static class IndicatorSeries
{
    public const string Measurement = "indicator";

    /// <summary>Writes one point per indicator of <paramref name="report"/>; an indicator without a value (empty denominator) is left out.</summary>
    /// <param name="region">The region tag: the enterprise's county for an enterprise report; null to use the report's region code.</param>
    public static int Write(IndicatorReport report, string? region, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(report);
        ArgumentNullException.ThrowIfNull(output);
        var writer = new LineProtocolWriter(output);
        long timestamp = LocalDays.StartOf(report.Window.FromDay, LocalDays.DefaultOffsetMinutes);
        bool enterprise = report.Scope.Kind == "enterprise";
        string regionTag = region ?? (enterprise ? "" : report.Scope.Code);
        int points = 0;
        foreach (IndicatorValue value in report.Indicators)
        {
            if (value.Value is not { } v)
            {
                continue;
            }

            writer.WriteMeasurement(Measurement);
            if (enterprise)
            {
                writer.WriteTag("ent", report.Scope.Code);
            }

            writer.WriteTag("indicator", value.Id);
            if (regionTag.Length > 0)
            {
                writer.WriteTag("region", regionTag);
            }

            writer.WriteTag("window", value.Window)
                .WriteField("value", (double)v)
                .WriteField("numerator", (double)value.Numerator)
                .WriteField("denominator", (double)value.Denominator)
                .WriteField("counted", (long)value.Counted.Count)
                .WriteField("excluded", (long)value.Excluded.Count)
                .WriteField("provisional", value.Provisional)
                .WriteTimestamp(timestamp);
            points++;
        }

        return points;
    }
}
