using System.Buffers;
using System.Globalization;
using System.Text;
using BenchmarkDotNet.Attributes;
using FactoryGateway.Evidence.Ledger;
using FactoryGateway.Telemetry.LineProtocol;

namespace FactoryGateway.Benchmarks;

/// <summary>
/// The evidence accumulator's cost per sample: machine-shaped canonical lines (state, two counters and a
/// process value: four samples a line) from 500 devices, one line per device a second, applied in WAL
/// batches of 5,000 lines to a fresh accumulation (tracker creation is amortised over 160 seconds of data).
/// Times and allocations are per line; divide by four for a sample.
/// <c>dotnet run -c Release --project benchmarks/Gateway.Benchmarks -- --filter '*EvidenceAccumulation*'</c>
/// </summary>
[MemoryDiagnoser]
public class EvidenceAccumulationBenchmarks : IDisposable
{
    private const int Devices = 500;
    private const int LinesPerBatch = 5_000;
    private const int Batches = 16;

    private readonly List<(ReadOnlySequence<byte> Body, long Arrival)> _batches = [];
    private LineProtocolReader? _reader;

    [GlobalSetup]
    public void Setup()
    {
        _reader = new LineProtocolReader(new LineProtocolLimits(), LineProtocolValidation.Structure); // as the ingest's accumulator reads its WAL
        long start = LocalDays.StartOf(LocalDays.DayOf(new DateOnly(2026, 7, 1)), LocalDays.DefaultOffsetMinutes) + (9 * 3600 * 1_000_000_000L);
        long line = 0;
        for (int b = 0; b < Batches; b++)
        {
            var body = new StringBuilder(LinesPerBatch * 140);
            long arrival = 0;
            for (int i = 0; i < LinesPerBatch; i++, line++)
            {
                long device = line % Devices;
                long t = start + (line / Devices * 1_000_000_000L);
                arrival = t;
                body.Append(CultureInfo.InvariantCulture,
                    $"telemetry,ent=91330402MA2B3C4D53,dev=cnc-{device},edge=edge-{device % 4},cls=cnc state={(line / Devices / 30 % 2 == 0 ? 4 : 3)}i,parts_total={line / Devices}i,spindle_speed={12000.5 + (line % 97)},energy_kwh={line * 0.01} {t}\n");
            }

            _batches.Add((new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes(body.ToString())), arrival));
        }
    }

    [GlobalCleanup]
    public void Dispose()
    {
        _reader?.Dispose();
        GC.SuppressFinalize(this);
    }

    [Benchmark(OperationsPerInvoke = LinesPerBatch * Batches)]
    public long ApplyLine()
    {
        var evidence = new EvidenceAccumulation(new LedgerParameters(), DefaultShiftCalendar.Instance);
        foreach ((ReadOnlySequence<byte> body, long arrival) in _batches)
        {
            evidence.Apply(body, arrival, _reader!);
        }

        return evidence.LinesApplied;
    }
}
