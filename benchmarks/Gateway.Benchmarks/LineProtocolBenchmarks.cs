using System.Buffers;
using System.Text;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using FactoryGateway.Telemetry.LineProtocol;
using FactoryGateway.Testing;

namespace FactoryGateway.Benchmarks;

/// <summary>
/// Line-protocol read (parse + validate) and write on machine-shaped lines (~150 B). Results are per
/// line: lines/s = 1e9 / Mean(ns); the goals are ≥ 2M lines/s per thread reading with 0 B allocated,
/// and ≥ 1 GB/s writing. Each category has its own baseline; the setup prints the bytes per written
/// line, so that GB/s = bytes per line / Mean(ns).
/// </summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class LineProtocolBenchmarks : IDisposable
{
    private const int Lines = 10_000;

    private readonly LineProtocolReader _reader = new(new LineProtocolLimits());
    private readonly ArrayBufferWriter<byte> _output = new(4 * 1024 * 1024);
    private LineProtocolWriter _writer = null!;
    private LineProtocolSeriesKey _seriesKey = null!;
    private ReadOnlySequence<byte> _contiguous;
    private ReadOnlySequence<byte> _segmented;

    /// <summary>Bytes in the benchmark body, to turn ns/line into bytes/s.</summary>
    public static int BodyBytes { get; private set; }

    /// <summary>Bytes in the body the Write benchmarks produce, to turn ns/line into bytes/s.</summary>
    public static int WriteBodyBytes { get; private set; }

    [GlobalSetup]
    public void Setup()
    {
        var body = new StringBuilder();
        for (int i = 0; i < Lines; i++)
        {
            body.Append("telemetry,ent=91330402MA2B3C4D53,dev=cnc-").Append(i % 500).Append(",edge=edge-01,cls=cnc spindle_speed=")
                .Append(12000.5 + (i % 97)).Append(",feed_rate=").Append(850.25 + (i % 13)).Append(",parts_total=").Append(100_000 + i)
                .Append("i 1795000000").Append(123_456_789 + i).Append('\n');
        }

        byte[] bytes = Encoding.UTF8.GetBytes(body.ToString());
        BodyBytes = bytes.Length;
        _contiguous = new ReadOnlySequence<byte>(bytes);
        // 4 KiB segments, the shape of a Kestrel request body read through a PipeReader.
        _segmented = SequenceSegments.Every(bytes, 4096);
        _writer = new LineProtocolWriter(_output);
        // The edge agent's shape: one key per device, built when its profile loads.
        _seriesKey = new LineProtocolSeriesKey("telemetry", new("ent", "91330402MA2B3C4D53"), new("dev", "cnc-0001"), new("edge", "edge-01"), new("cls", "cnc"));

        WriteBodyBytes = Write();
        byte[] written = _output.WrittenSpan.ToArray();
        if (WriteSeriesKey() != WriteBodyBytes || !_output.WrittenSpan.SequenceEqual(written))
        {
            throw new InvalidOperationException("WriteSeriesKey does not write the body Write writes.");
        }

        Console.WriteLine($"// Write body: {WriteBodyBytes} bytes for {Lines} lines, {(double)WriteBodyBytes / Lines} bytes per line; first line: {Encoding.UTF8.GetString(written.AsSpan(0, Array.IndexOf(written, (byte)'\n')))}");
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Lines)]
    [BenchmarkCategory("Read")]
    public int ReadContiguous() => Read(_contiguous);

    [Benchmark(OperationsPerInvoke = Lines)]
    [BenchmarkCategory("Read")]
    public int ReadSegmented4K() => Read(_segmented);

    /// <summary>
    /// Read, then each line's series key written with its tags in key order (ent, dev, edge, cls becomes cls, dev, edge,
    /// ent), as the ingest's canonical form does for a sender that does not sort them: the cost of sparing InfluxDB its sort.
    /// </summary>
    [Benchmark(OperationsPerInvoke = Lines)]
    [BenchmarkCategory("Read")]
    public int ReadAndPutTagsInKeyOrder()
    {
        _output.ResetWrittenCount();
        _reader.Reset(TimestampPrecision.Nanoseconds);
        var sequence = new SequenceReader<byte>(_contiguous);
        while (_reader.TryRead(ref sequence, isFinalBlock: true, out LineProtocolLine line))
        {
            line.WriteSeriesKeyInKeyOrder(_output, default, default);
        }

        return _output.WrittenCount;
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Lines)]
    [BenchmarkCategory("Write")]
    public int Write()
    {
        _output.ResetWrittenCount();
        _writer.Reset(_output);
        for (int i = 0; i < Lines; i++)
        {
            _writer.WriteMeasurement("telemetry"u8).WriteTag("ent"u8, "91330402MA2B3C4D53"u8).WriteTag("dev"u8, "cnc-0001"u8)
                .WriteTag("edge"u8, "edge-01"u8).WriteTag("cls"u8, "cnc"u8)
                .WriteField("spindle_speed"u8, 12000.5 + (i % 97)).WriteField("feed_rate"u8, 850.25).WriteField("parts_total"u8, 100_000L + i)
                .WriteTimestamp(1_795_000_000_123_456_789 + i);
        }

        return _output.WrittenCount;
    }

    /// <summary>The same body as <see cref="Write"/>, with the measurement and tags from a cached <see cref="LineProtocolSeriesKey"/>.</summary>
    [Benchmark(OperationsPerInvoke = Lines)]
    [BenchmarkCategory("Write")]
    public int WriteSeriesKey()
    {
        _output.ResetWrittenCount();
        _writer.Reset(_output);
        for (int i = 0; i < Lines; i++)
        {
            _writer.WriteSeriesKey(_seriesKey)
                .WriteField("spindle_speed"u8, 12000.5 + (i % 97)).WriteField("feed_rate"u8, 850.25).WriteField("parts_total"u8, 100_000L + i)
                .WriteTimestamp(1_795_000_000_123_456_789 + i);
        }

        return _output.WrittenCount;
    }

    public void Dispose()
    {
        _reader.Dispose();
        GC.SuppressFinalize(this);
    }

    private int Read(ReadOnlySequence<byte> body)
    {
        _reader.Reset(TimestampPrecision.Nanoseconds);
        var sequence = new SequenceReader<byte>(body);
        int fields = 0;
        while (_reader.TryRead(ref sequence, isFinalBlock: true, out LineProtocolLine line))
        {
            fields += line.FieldCount;
        }

        return fields;
    }
}
