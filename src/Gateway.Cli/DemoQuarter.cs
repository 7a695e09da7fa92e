using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using FactoryGateway.Evidence;
using FactoryGateway.Evidence.Ledger;
using FactoryGateway.Ingest;
using FactoryGateway.Ingest.Evidence;
using FactoryGateway.Ingest.Http;
using FactoryGateway.Metrics.Indicators;
using Microsoft.Extensions.Logging.Abstractions;

namespace FactoryGateway.Cli;

/// <summary>
/// The demo's quarter: two enterprises in two counties of Jiaxing, two dozen devices of every class (one
/// sending heartbeats only, one a copy of another's stream, one that stops reporting), a quarter of
/// canonical telemetry sent day by day through the real ingest on an accelerated clock, accumulated into
/// the sealed ledger, verified, and reported as indicators with counted and excluded devices and flags.
/// </summary>
internal static class DemoQuarter
{
    private const string EnterpriseA = "91330402MA2B3C4D53"; // 南湖区 330402
    private const string EnterpriseB = "91330421MA2C3D4E5E"; // 嘉善县 330421
    private const long Second = 1_000_000_000;
    private const int Slots = 360; // every 2 minutes, 08:00–19:58

    private static readonly Window s_quarter = Window.Parse("2026Q3");

    private sealed record Device(string Enterprise, string Id, string Class, string Signal, bool Nc, bool Key, string? Retrofit = null, string? CopyOf = null, bool HeartbeatOnly = false, DateOnly? StopsAfter = null, int? Axes = null);

    private static readonly Device[] s_devices =
    [
        new(EnterpriseA, "cnc-01", "cnc_machine_tool", "parts_total", Nc: true, Key: true),
        new(EnterpriseA, "cnc-02", "cnc_machine_tool", "parts_total", Nc: true, Key: true),
        new(EnterpriseA, "cnc-03", "cnc_machine_tool", "parts_total", Nc: true, Key: true),
        new(EnterpriseA, "cnc-04", "cnc_machine_tool", "parts_total", Nc: true, Key: false),
        new(EnterpriseA, "cnc-05", "cnc_machine_tool", "parts_total", Nc: true, Key: true, StopsAfter: new DateOnly(2026, 7, 31)),
        new(EnterpriseA, "cnc-06", "cnc_machine_tool", "parts_total", Nc: true, Key: true, HeartbeatOnly: true),
        new(EnterpriseA, "robot-01", "industrial_robot", "cycles", Nc: true, Key: true, Axes: 6),
        new(EnterpriseA, "robot-02", "industrial_robot", "cycles", Nc: true, Key: false, Axes: 6),
        new(EnterpriseA, "robot-03", "industrial_robot", "cycles", Nc: true, Key: false, Axes: 4),
        new(EnterpriseA, "plc-01", "plc_automated", "cycles", Nc: true, Key: true),
        new(EnterpriseA, "plc-02", "plc_automated", "cycles", Nc: true, Key: false),
        new(EnterpriseA, "lathe-01", "conventional", "parts_total", Nc: false, Key: true, Retrofit: "JX-2026-001"),
        new(EnterpriseA, "lathe-02", "conventional", "parts_total", Nc: false, Key: false, Retrofit: "JX-2026-001"),
        new(EnterpriseA, "meter-01", "instrument", "temperature_c", Nc: false, Key: false),
        new(EnterpriseA, "agv-01", "agv", "cycles", Nc: false, Key: false),
        new(EnterpriseB, "cnc-11", "cnc_machine_tool", "parts_total", Nc: true, Key: true),
        new(EnterpriseB, "cnc-12", "cnc_machine_tool", "parts_total", Nc: true, Key: true),
        new(EnterpriseB, "cnc-13", "cnc_machine_tool", "parts_total", Nc: true, Key: true),
        new(EnterpriseB, "cnc-14", "cnc_machine_tool", "parts_total", Nc: true, Key: true, CopyOf: "cnc-11"),
        new(EnterpriseB, "robot-11", "industrial_robot", "cycles", Nc: true, Key: true, Axes: 6),
        new(EnterpriseB, "robot-12", "industrial_robot", "cycles", Nc: true, Key: false, Axes: 6),
        new(EnterpriseB, "plc-11", "plc_automated", "cycles", Nc: true, Key: true),
        new(EnterpriseB, "lathe-11", "conventional", "parts_total", Nc: false, Key: true, Retrofit: "JS-2026-007"),
        new(EnterpriseB, "meter-11", "instrument", "temperature_c", Nc: false, Key: false),
    ];

    public static async Task RunAsync(TextWriter output, string dataDirectory, CancellationToken cancellationToken)
    {
        // The simulated clock starts at the quarter's first morning, before the ingest starts: arrival stamps and
        // the accumulator's watermark only ever move forward from there, as on a real ingest.
        var clock = new DemoClock();
        clock.JumpTo(Window.LocalMidnightUnixNanoseconds(s_quarter.FirstDay, s_quarter.UtcOffsetMinutes) + (7 * 3600 * Second));
        using EvidenceStore store = EvidenceStore.Open(dataDirectory);
        RegisterImportResult imported = store.Register.ImportJson(Encoding.UTF8.GetBytes(RegisterJson()), "demo-register.json");
        if (!imported.Succeeded)
        {
            throw new InvalidOperationException("the demo register does not import: " + string.Join("; ", imported.Errors));
        }

        var tokens = new Dictionary<string, string>
        {
            [EnterpriseA] = store.Tokens.CreateToken(TokenRole.Enterprise, EnterpriseA, null, "demo edge A"),
            [EnterpriseB] = store.Tokens.CreateToken(TokenRole.Enterprise, EnterpriseB, null, "demo edge B"),
        };
        EvidenceAccumulator? accumulator = null;
        await using IngestServer server = await IngestServer.StartAsync(
            "http://127.0.0.1:0",
            new IngestOptions { DataDirectory = dataDirectory },
            store.Tokens,
            store.Devices,
            wal =>
            {
                accumulator = new EvidenceAccumulator(wal, store.Ledger, new EvidenceAccumulatorOptions(), store.Register.ShiftCalendars,
                    new Telemetry.LineProtocol.LineProtocolLimits(), clock, NullLogger<EvidenceAccumulator>.Instance);
                return [new ParkedConsumer("forwarder"), accumulator];
            },
            metrics: null,
            clock,
            NullLoggerFactory.Instance,
            cancellationToken);
        using var http = new HttpClient { BaseAddress = server.Addresses[0] };

        // Day by day: the clock jumps to 20:05 of the day, and each enterprise's edge sends the day's lines.
        int sequence = 0;
        var counters = new Dictionary<string, long>(StringComparer.Ordinal);
        long lines = 0;
        long wire = 0;
        for (DateOnly day = s_quarter.FirstDay; day < s_quarter.EndDay; day = day.AddDays(1))
        {
            if (day.DayOfWeek is DayOfWeek.Saturday or DayOfWeek.Sunday)
            {
                continue;
            }

            long eight = Window.LocalMidnightUnixNanoseconds(day, s_quarter.UtcOffsetMinutes) + (8 * 3600 * Second);
            clock.JumpTo(eight + (12 * 3600 * Second) + (5 * 60 * Second));
            sequence++;
            foreach (string enterprise in new[] { EnterpriseA, EnterpriseB })
            {
                byte[] body = Day(enterprise, day, eight, counters, out int count);
                byte[] gzip = DemoCommand.Gzip(body);
                await SendAsync(http, tokens[enterprise], gzip, enterprise == EnterpriseA ? "edge-a" : "edge-b", sequence, cancellationToken);
                lines += count;
                wire += gzip.Length;
            }
        }

        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  {sequence} working days of 2026Q3 sent by two edges on an accelerated clock: {lines:N0} lines, {wire / 1e6:0.0} MB gzip, every batch 204"));

        // Three days after the quarter the late window has passed: the accumulator seals every day.
        clock.JumpTo(Window.LocalMidnightUnixNanoseconds(s_quarter.EndDay.AddDays(3), s_quarter.UtcOffsetMinutes));
        await accumulator!.WaitForCheckpointAsync(server.Service.Wal.TailPosition, cancellationToken);
        int lastDay = LocalDays.DayOf(s_quarter.EndDay) - 1;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(TimeSpan.FromSeconds(60));
        while ((store.Ledger.SealedThrough(EnterpriseA) ?? int.MinValue) < lastDay || (store.Ledger.SealedThrough(EnterpriseB) ?? int.MinValue) < lastDay)
        {
            if (server.Service.ConsumerFailures.TryGetValue(accumulator.Name, out string? failure))
            {
                throw new InvalidOperationException($"the evidence accumulator stopped: {failure}");
            }

            if (deadline.IsCancellationRequested)
            {
                throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                    $"the ledger was not sealed through {s_quarter.EndDay.AddDays(-1):yyyy-MM-dd} within 60 s (sealed through day {store.Ledger.SealedThrough(EnterpriseA)} and {store.Ledger.SealedThrough(EnterpriseB)}, needed {lastDay}; accumulator {accumulator.GetStats()})"));
            }

            await Task.Delay(TimeSpan.FromMilliseconds(50), CancellationToken.None); // the accumulator seals within a checkpoint interval
        }

        LedgerVerification verification = store.Ledger.Verify();
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  ledger: {verification.RowsVerified:N0} device-day rows sealed into {verification.Roots.Count} enterprise-day Merkle roots; fgw ledger verify: {(verification.IsIntact ? "intact" : verification.FirstBreak!.ToString())}"));
        output.WriteLine();

        foreach ((IndicatorScope scope, string? enterprise) in new (IndicatorScope, string?)[]
        {
            (IndicatorScope.Enterprise(EnterpriseA), EnterpriseA),
            (IndicatorScope.Enterprise(EnterpriseB), EnterpriseB),
            (IndicatorScope.Region("330400"), null),
        })
        {
            IndicatorReport report = IndicatorReports.Compute(store, scope, s_quarter, enterprise);
            if (enterprise is null)
            {
                PrintRegion(report, output);
            }
            else
            {
                IndicatorsCommand.Print(report, output);
            }

            output.WriteLine();
        }
    }

    private static void PrintRegion(IndicatorReport report, TextWriter output)
    {
        output.WriteLine($"{report.Scope} (嘉兴市: numerators and denominators of {string.Join(" and ", report.Enterprises)} added) — window {report.Window.Label}");
        foreach (IndicatorValue value in report.Indicators.Where(v => v.Id is "digital_networked_ratio" or "key_process_nc_ratio" or "equipment_nc_ratio" or "robots_in_service" or "robot_density" or "retrofitted_devices" or "connected_devices"))
        {
            string shown = value.Value is { } v ? v.ToString("0.####", CultureInfo.InvariantCulture) : "n/a";
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {value.Id,-26} {shown,10}  ({value.Numerator:0.####} / {value.Denominator:0.####})"));
        }
    }

    // One enterprise's lines of one day: a line per device every 2 minutes of the shift. Counters carry on
    // from day to day (a copied stream copies its source's counter too); machine tools reject 1 part in 50.
    private static byte[] Day(string enterprise, DateOnly day, long eight, Dictionary<string, long> counters, out int count)
    {
        var text = new StringBuilder(64 * 1024);
        count = 0;
        foreach (Device device in s_devices.Where(d => d.Enterprise == enterprise))
        {
            if (device.StopsAfter is { } stop && day > stop)
            {
                continue;
            }

            int[] states = States(device.CopyOf ?? device.Id, day);
            long output = counters.GetValueOrDefault(device.Id);
            for (int slot = 0; slot < Slots; slot++)
            {
                long t = eight + (slot * 120 * Second);
                if (device.HeartbeatOnly)
                {
                    text.Append(CultureInfo.InvariantCulture, $"connection,ent={enterprise},dev={device.Id},edge=demo up=true {t}\n");
                }
                else if (device.Class == "instrument")
                {
                    text.Append(CultureInfo.InvariantCulture, $"telemetry,ent={enterprise},dev={device.Id},edge=demo temperature_c={21.5 + (states[slot] * 0.25) + (slot % 7 * 0.1):0.00} {t}\n");
                }
                else
                {
                    output += states[slot] == 4 ? 1 : 0;
                    string good = device.Signal == "parts_total" ? $",parts_good={output - (output / 50)}i" : "";
                    text.Append(CultureInfo.InvariantCulture, $"telemetry,ent={enterprise},dev={device.Id},edge=demo state={states[slot]}i,{device.Signal}={output}i{good} {t}\n");
                }

                count++;
            }

            counters[device.Id] = output;
        }

        return Encoding.UTF8.GetBytes(text.ToString());
    }

    // A day's state per 2-minute slot: runs of 10–90 minutes, idle and setup between them, seeded by device and day.
    private static int[] States(string device, DateOnly day)
    {
        var random = new Random(Seed(device) + day.DayNumber); // deterministic: the same quarter every run
        var states = new int[Slots];
        int slot = 0;
        while (slot < Slots)
        {
            int roll = random.Next(100);
            int state = roll < 70 ? 4 : roll < 95 ? 3 : 2;
            int length = state == 4 ? random.Next(5, 46) : random.Next(2, 15);
            for (int i = 0; i < length && slot < Slots; i++)
            {
                states[slot++] = state;
            }
        }

        return states;
    }

    private static int Seed(string device)
    {
        int seed = 17;
        foreach (char c in device)
        {
            seed = unchecked((seed * 31) + c);
        }

        return seed;
    }

    private static string RegisterJson()
    {
        var devices = new Dictionary<string, List<string>> { [EnterpriseA] = [], [EnterpriseB] = [] };
        int serial = 1000;
        foreach (Device d in s_devices)
        {
            bool digital = d.Class is not ("conventional");
            devices[d.Enterprise].Add(string.Create(CultureInfo.InvariantCulture,
                $$"""{ "device": "{{d.Id}}", "manufacturer": "Demo", "model": "{{d.Class}}", "serial_number": "SN-{{serial++}}", "class": "{{d.Class}}", "production": {{(d.Class == "instrument" ? "false" : "true")}}, "digital": {{(digital ? "true" : "false")}}, "nc": {{(d.Nc ? "true" : "false")}}, "key_process": {{(d.Key ? "true" : "false")}}{{(d.Key ? ", \"process\": \"精加工\"" : "")}}{{(d.Axes is int axes ? $", \"robot_axes\": {axes}" : "")}}, "commissioned": "2025-01-01"{{(d.Retrofit is { } r ? $", \"retrofit_project\": \"{r}\"" : "")}} }"""));
        }

        string Enterprise(string code, string name, string region, int headcount) => $$"""
            {
              "credit_code": "{{code}}", "name": "{{name}}", "region": "{{region}}",
              "employees": [ { "month": "2026-07", "average_headcount": {{headcount}} }, { "month": "2026-08", "average_headcount": {{headcount}} }, { "month": "2026-09", "average_headcount": {{headcount}} } ],
              "key_processes": [ { "process": "精加工", "key": true } ],
              "devices": [ {{string.Join(",\n", devices[code])}} ]
            }
            """;

        return $$"""
            { "format": "fgw-register/1", "enterprises": [
            {{Enterprise(EnterpriseA, "嘉兴示例精密机械有限公司", "330402", 200)}},
            {{Enterprise(EnterpriseB, "嘉善示例智能装备有限公司", "330421", 120)}}
            ] }
            """;
    }

    private static async Task SendAsync(HttpClient http, string token, byte[] gzip, string edge, int sequence, CancellationToken cancellationToken)
    {
        using var content = new ByteArrayContent(gzip);
        content.Headers.ContentEncoding.Add("gzip");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v2/write?org=demo&bucket=factory&precision=ns") { Content = content };
        request.Headers.Authorization = new AuthenticationHeaderValue("Token", token);
        request.Headers.Add("X-FG-Edge", edge);
        request.Headers.Add("X-FG-Seq", sequence.ToString(CultureInfo.InvariantCulture));
        using HttpResponseMessage response = await http.SendAsync(request, cancellationToken);
        if ((int)response.StatusCode != 204)
        {
            throw new InvalidOperationException($"the ingest answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(cancellationToken)}");
        }
    }

    /// <summary>Wall time moved by the demo: the system clock plus an offset the demo jumps; timers run in real time.</summary>
    private sealed class DemoClock : TimeProvider
    {
        private long _offsetTicks;

        public override DateTimeOffset GetUtcNow() => System.GetUtcNow().AddTicks(Interlocked.Read(ref _offsetTicks));

        public void JumpTo(long unixNanoseconds)
        {
            long target = DateTimeOffset.UnixEpoch.UtcTicks + (unixNanoseconds / 100);
            Interlocked.Exchange(ref _offsetTicks, target - System.GetUtcNow().UtcTicks);
        }
    }
}
