using BenchmarkDotNet.Attributes;
using FactoryGateway.Telemetry.Storage;

namespace FactoryGateway.Benchmarks;

/// <summary>
/// Segment log appends of 16 KiB records (a typical gzip-inflated ingest batch): no fsync versus group
/// commit, one appender versus four concurrent ones. Times are per append.
/// <c>dotnet run -c Release --project benchmarks/Gateway.Benchmarks -- --filter '*SegmentLogAppend*'</c>
/// </summary>
[MemoryDiagnoser]
public class SegmentLogAppendBenchmarks
{
    private const int RecordBytes = 16 * 1024;
    private const int AppendsPerInvocation = 256;

    private readonly byte[] _payload = new byte[RecordBytes];
    private string _directory = "";
    private SegmentLog? _log;

    [Params(FsyncPolicy.None, FsyncPolicy.Always)]
    public FsyncPolicy Fsync { get; set; }

    [Params(1, 4)]
    public int Appenders { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        Random.Shared.NextBytes(_payload);
        _directory = Directory.CreateTempSubdirectory("fgw-bench-wal-").FullName;
        _log = SegmentLog.Open(new SegmentLogOptions { Directory = _directory, FsyncPolicy = Fsync });
    }

    // Keeps the disk use bounded: everything behind the tail is deleted between iterations (no cursors).
    [IterationCleanup]
    public void DeleteSealedSegments() => _log!.TruncateBefore(_log.TailPosition);

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        await _log!.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    [Benchmark(OperationsPerInvoke = AppendsPerInvocation)]
    public async Task Append()
    {
        if (Appenders == 1)
        {
            await AppendManyAsync(AppendsPerInvocation);
            return;
        }

        var appenders = new Task[Appenders];
        for (int i = 0; i < appenders.Length; i++)
        {
            appenders[i] = Task.Run(() => AppendManyAsync(AppendsPerInvocation / Appenders));
        }

        await Task.WhenAll(appenders);
    }

    private async Task AppendManyAsync(int count)
    {
        for (int i = 0; i < count; i++)
        {
            LogAppendResult result = await _log!.AppendAsync(_payload);
            if (!result.IsAppended)
            {
                throw new InvalidOperationException($"append {i} returned {result.Status}");
            }
        }
    }
}

/// <summary>
/// Reading 16 KiB records back in batches of up to 64 records / 1 MiB (page cache warm: this is the
/// CRC check and copy cost, not the disk's). Times are per record.
/// </summary>
[MemoryDiagnoser]
public class SegmentLogReadBenchmarks
{
    private const int RecordBytes = 16 * 1024;
    private const int Records = 1024;

    private string _directory = "";
    private SegmentLog? _log;

    [GlobalSetup]
    public async Task SetupAsync()
    {
        _directory = Directory.CreateTempSubdirectory("fgw-bench-wal-").FullName;
        _log = SegmentLog.Open(new SegmentLogOptions { Directory = _directory, FsyncPolicy = FsyncPolicy.None });
        byte[] payload = new byte[RecordBytes];
        Random.Shared.NextBytes(payload);
        for (int i = 0; i < Records; i++)
        {
            await _log.AppendAsync(payload);
        }
    }

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        await _log!.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    [Benchmark(OperationsPerInvoke = Records)]
    public long ReadAll()
    {
        long bytes = 0;
        long position = _log!.HeadPosition;
        long tail = _log.TailPosition;
        while (position < tail)
        {
            using LogReadBatch batch = _log.ReadBatch(position, maxRecords: 64, maxBytes: 1 << 20);
            foreach (LogRecord record in batch)
            {
                bytes += record.Payload.Length;
            }

            position = batch.NextPosition;
        }

        return bytes;
    }
}
