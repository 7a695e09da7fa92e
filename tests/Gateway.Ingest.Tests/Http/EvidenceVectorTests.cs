using System.Globalization;
using System.Net;
using System.Text;
using FactoryGateway.Evidence;
using FactoryGateway.Evidence.Ledger;
using FactoryGateway.Ingest.Evidence;
using FactoryGateway.Telemetry.LineProtocol;
using FactoryGateway.Testing;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;

namespace FactoryGateway.Ingest.Tests.Http;

/// <summary>
/// The per-minute state vector the clone test correlates, through the real path: a write over HTTP, the WAL,
/// the evidence accumulator behind the ingest, the ledger in SQLite, and both indicator views of it.
/// </summary>
public sealed class EvidenceVectorTests
{
    private const long Second = 1_000_000_000;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_accumulator_behind_the_ingest_keeps_each_device_days_minute_vector_for_the_indicators()
    {
        using var directory = new TempDirectory("ingest-vector");
        try
        {
            using EvidenceStore store = EvidenceStore.Open(directory.Path);
            EvidenceAccumulator? accumulator = null;
            await using (IngestTestHost host = await IngestTestHost.StartAsync(dataDirectory: directory.Path, consumers: wal =>
            [
                accumulator = new EvidenceAccumulator(wal, store.Ledger, new EvidenceAccumulatorOptions(), DefaultShiftCalendar.Instance,
                    new LineProtocolLimits(), TimeProvider.System, NullLogger<EvidenceAccumulator>.Instance),
            ]))
            {
                // The last 40 minutes: a state sample every 30 s, run and idle in 4-minute stretches.
                long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1_000_000;
                long start = now - (40 * 60 * Second);
                var body = new StringBuilder();
                for (int i = 0; i < 78; i++)
                {
                    int state = i / 8 % 2 == 0 ? 4 : 3;
                    body.Append(CultureInfo.InvariantCulture, $"telemetry,dev=cnc-01 state={state}i {start + (i * 30 * Second)}\n");
                }

                using HttpResponseMessage response = await host.Client.SendAsync(host.Write("/api/v2/write?org=o&bucket=factory&precision=ns", body.ToString()), Ct);
                Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
                await accumulator!.WaitForCheckpointAsync(host.Wal.TailPosition, Ct).WaitAsync(TimeSpan.FromSeconds(30), Ct);
            }

            int first = LocalDays.DayOf(DateOnly.FromDateTime(DateTime.UtcNow)) - 1;
            DeviceDayRow[] rows = [.. store.Ledger.ReadRows(TestTokens.EnterpriseA, first, first + 3).Where(r => r.Device == "cnc-01")];
            Assert.NotEmpty(rows);
            byte[] minutes = [.. rows.SelectMany(r => r.Minutes)];
            Assert.InRange(minutes.Count(m => m == (byte)MachineState.Run), 16, 24);
            Assert.InRange(minutes.Count(m => m == (byte)MachineState.Idle), 12, 24);

            // Both indicator views carry each day's vector, run-length encoded: the rows' (ReadDays) and the open days' of a window (ReadWindow).
            LedgerDay[] days = [.. store.Ledger.ReadDays(first, first + 3).Where(d => d.Device == "cnc-01")];
            Assert.Equal(rows.Select(r => Convert.ToHexString(MinuteStates.Encode(r.Minutes))), days.Select(d => Convert.ToHexString(d.MinuteRuns)));
            Assert.True(days.Sum(d => MinuteStates.CountRuns(d.MinuteRuns)) >= 10);
            LedgerDeviceDays device = Assert.Single(store.Ledger.ReadWindow(first, first + 3).Devices, d => d.Device == "cnc-01");
            var figures = new List<LedgerDayFigures>();
            device.ReadDays(figures);
            Assert.Equal(days.Select(d => Convert.ToHexString(d.MinuteRuns)), figures.Select(f => Convert.ToHexString(f.MinuteRuns.Span)));
        }
        finally
        {
            SqliteConnection.ClearAllPools();
        }
    }
}
