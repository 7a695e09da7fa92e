using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using FactoryGateway.Evidence;
using FactoryGateway.Evidence.Ledger;
using FactoryGateway.Testing;

namespace FactoryGateway.Cli.Tests;

/// <summary>
/// The evidence ledger behind the composed ingest (<c>fgw ingest run</c>, a real process): a SIGKILL mid-stream
/// neither loses nor double-counts evidence, and <c>fgw ledger verify</c> names a tampered row.
/// </summary>
public sealed class LedgerEndToEndTests
{
    private const string Enterprise = "91330402MA2B3C4D53";
    private const int Batches = 30;
    private const int PointsPerBatch = 200;
    private static readonly TimeSpan s_deadline = TimeSpan.FromSeconds(90);

    // Checkpoints far apart: the SIGKILL lands while the accumulator holds applied but uncheckpointed evidence,
    // which the restarted ingest must rebuild from the WAL without counting anything twice.
    private static readonly Dictionary<string, string> s_environment = new() { ["FGW_Evidence__CheckpointInterval"] = "00:00:03" };

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_ledger_after_a_sigkill_of_the_ingest_equals_the_ledger_of_a_clean_run()
    {
        // The same lines for both runs: samples from three hours ago on, one a second, four machines.
        long start = ((DateTimeOffset.UtcNow.ToUnixTimeSeconds() - (3 * 3600)) / 60 * 60) * 1_000_000_000L;

        string[] clean = await RunAsync(start, killAfter: null);
        string[] killed = await RunAsync(start, killAfter: Batches / 2);

        Assert.Equal(clean, killed);
        Assert.NotEmpty(clean);
    }

    [Fact]
    public async Task Ledger_verify_prints_the_roots_and_names_a_tampered_row()
    {
        using var dir = new TempDirectory("fgw-ledger-verify");
        int day = LocalDays.DayOf(new DateOnly(2026, 7, 1));
        using (EvidenceStore store = EvidenceStore.Open(dir.Path))
        {
            var evidence = new EvidenceAccumulation(new LedgerParameters(), DefaultShiftCalendar.Instance);
            using var reader = new Telemetry.LineProtocol.LineProtocolReader(new Telemetry.LineProtocol.LineProtocolLimits());
            long t = LocalDays.StartOf(day, LocalDays.DefaultOffsetMinutes) + (9 * 3600 * 1_000_000_000L);
            var body = new StringBuilder();
            for (int i = 0; i < 120; i++)
            {
                body.Append(CultureInfo.InvariantCulture, $"telemetry,ent={Enterprise},dev=m{i % 2} state={3 + (i / 10 % 2)}i,parts_total={i}i {t + (i * 30_000_000_000L)}\n");
            }

            evidence.Apply(new System.Buffers.ReadOnlySequence<byte>(Encoding.UTF8.GetBytes(body.ToString())), t, reader);
            evidence.AdvanceWatermark(LocalDays.StartOf(day + 3, LocalDays.DefaultOffsetMinutes));
            store.Ledger.Save("evidence", 0, evidence.TakeChanges());
        }

        CommandResult intact = await FgwProcess.RunAsync(Ct, "ledger", "verify", "--data-dir", dir.Path);
        Assert.True(intact.ExitCode == 0, intact.Output);
        Assert.Contains("ledger intact: 2 sealed row(s) in 1 enterprise-day root(s), 0 flag resolution(s)", intact.Output, StringComparison.Ordinal);
        Assert.Matches($"{Enterprise}  2026-07-01  [0-9a-f]{{64}}  2 row\\(s\\)", intact.Output);

        using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(dir.Path, EvidenceStore.FileName)}"))
        {
            connection.Open();
            using Microsoft.Data.Sqlite.SqliteCommand tamper = connection.CreateCommand();
            tamper.CommandText = $"DROP TRIGGER ledger_rows_sealed_update; UPDATE ledger_rows SET parts_delta = parts_delta + 1 WHERE device = 'm1' AND day = {day};";
            Assert.Equal(1, tamper.ExecuteNonQuery());
        }

        CommandResult broken = await FgwProcess.RunAsync(Ct, "ledger", "verify", "--data-dir", dir.Path);
        Assert.Equal(1, broken.ExitCode);
        Assert.StartsWith($"ledger broken: enterprise {Enterprise}, device m1, day 2026-07-01: its content does not match its hash", broken.Output, StringComparison.Ordinal);
    }

    // Sends every batch through a fresh ingest (killed with SIGKILL after `killAfter` batches and restarted),
    // waits until the ledger holds everything, stops the ingest and returns the ledger's rows.
    private static async Task<string[]> RunAsync(long start, int? killAfter)
    {
        using var dir = new TempDirectory("fgw-ledger");
        string token = await FgwProcess.CreateTokenAsync(dir.Path, "enterprise", Enterprise, Ct);
        int port = FreeTcpPort.Next();
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(30) };
        ServerProcess ingest = await FgwProcess.StartIngestAsync(port, dir.Path, Ct, s_environment);
        try
        {
            for (int batch = 1; batch <= Batches; batch++)
            {
                if (batch - 1 == killAfter)
                {
                    // Kill -9 with this batch in flight: the edge does not know its outcome and sends it again.
                    Task<HttpStatusCode?> inFlight = TrySendAsync(client, token, start, batch);
                    await ingest.KillAsync();
                    await ingest.DisposeAsync();
                    await inFlight;
                    ingest = await FgwProcess.StartIngestAsync(port, dir.Path, Ct, s_environment);
                }

                Assert.Equal(HttpStatusCode.NoContent, await TrySendAsync(client, token, start, batch));
                if (batch == Batches / 3)
                {
                    // A checkpoint covers the first third; the batches after it until the kill are applied but
                    // not yet checkpointed (the interval is 3 s) when the ingest dies.
                    await WaitForLedgerAsync(client, ingest);
                }
            }

            await WaitForLedgerAsync(client, ingest);
            await ingest.StopAsync(TimeSpan.FromSeconds(30));
        }
        finally
        {
            await ingest.DisposeAsync();
        }

        using EvidenceStore store = EvidenceStore.Open(dir.Path);
        IReadOnlyList<DeviceDayRow> rows = store.Ledger.ReadRows(Enterprise, int.MinValue, int.MaxValue);
        Assert.Equal((long)Batches * PointsPerBatch * 2, rows.Sum(r => r.Samples)); // two fields a line, each line once
        return [.. rows.Select(Describe)];
    }

    private static async Task<HttpStatusCode?> TrySendAsync(HttpClient client, string token, long start, int sequence)
    {
        var body = new StringBuilder(PointsPerBatch * 100);
        for (int i = 0; i < PointsPerBatch; i++)
        {
            long n = ((sequence - 1) * (long)PointsPerBatch) + i;
            long t = start + (n * 1_000_000_000L);
            body.Append(CultureInfo.InvariantCulture, $"telemetry,ent={Enterprise},dev=cnc-{n % 4} state={(n / 40 % 2 == 0 ? 4 : 3)}i,parts_total={n / 4}i {t}\n");
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v2/write?org=f&bucket=factory&precision=ns") { Content = new StringContent(body.ToString()) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Token", token);
        request.Headers.Add("X-FG-Edge", "edge-ledger");
        request.Headers.Add("X-FG-Seq", sequence.ToString(CultureInfo.InvariantCulture));
        try
        {
            using HttpResponseMessage response = await client.SendAsync(request, Ct);
            return response.StatusCode;
        }
        catch (HttpRequestException)
        {
            return null;
        }
    }

    // Until /metrics says the ledger holds every WAL byte (a completion check with a deadline).
    private static async Task WaitForLedgerAsync(HttpClient client, ServerProcess ingest)
    {
        DateTime deadline = DateTime.UtcNow + s_deadline;
        string metrics = "";
        while (DateTime.UtcNow < deadline)
        {
            metrics = await client.GetStringAsync("/metrics", Ct);
            if (metrics.Contains("\nfgw_evidence_lag_bytes 0\n", StringComparison.Ordinal))
            {
                return;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(50), Ct); // polling interval of a deadline loop
        }

        Assert.Fail($"the ledger did not catch up within {s_deadline.TotalSeconds} s.{Environment.NewLine}{metrics}{Environment.NewLine}{ingest.Describe()}");
    }

    // Every evidence field except the arrival lag, which depends on when each run sent the lines.
    private static string Describe(DeviceDayRow r) => string.Join('|',
        r.Enterprise, r.Device, r.Date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), r.Samples, r.Substantive, r.Events, r.NonGoodSamples,
        string.Join(',', r.StateNanoseconds), r.PartsDelta, r.GoodDelta, r.CyclesDelta, r.PowerOnDeltaSeconds, r.EnergyDeltaKwh, r.CounterResets,
        r.ProgramChanges, r.FirstNanoseconds, r.LastNanoseconds, r.Late, r.Backfill, r.OutOfOrder, r.Transitions, r.RegularTransitions,
        string.Join(',', r.Identities), Convert.ToHexString(MinuteStates.Encode(r.Minutes)), r.ScheduledMinutes, r.CoveredShiftMinutes);
}
