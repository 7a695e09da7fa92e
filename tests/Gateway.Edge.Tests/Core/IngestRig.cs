using FactoryGateway.Evidence;
using FactoryGateway.Ingest;
using FactoryGateway.Ingest.Http;
using FactoryGateway.Ingest.Wal;
using FactoryGateway.Telemetry.Storage;
using FactoryGateway.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace FactoryGateway.Edge.Tests.Core;

/// <summary>
/// A real ingest (Kestrel, WAL, token store) in this process on a fixed free loopback port, so it can be
/// stopped and started again at the same URL while an edge keeps sending.
/// </summary>
internal sealed class IngestRig : IAsyncDisposable
{
    public const string Enterprise = "91330402MA2B3C4D53";

    private readonly TempDirectory _directory = new("edge-ingest");
    private readonly EvidenceStore _evidence;
    private readonly Action<IngestOptions>? _configure;
    private IngestServer? _server;

    public IngestRig(Action<IngestOptions>? configure = null)
    {
        _configure = configure;
        _evidence = EvidenceStore.Open(_directory.Path);
        Token = _evidence.Tokens.CreateToken(TokenRole.Enterprise, Enterprise, null, "edge tests");
        Url = $"http://127.0.0.1:{FreeTcpPort.Next()}";
    }

    public string Url { get; }

    public string Token { get; }

    public IngestServer Server => _server ?? throw new InvalidOperationException("the ingest is not running");

    public bool IsRunning => _server is not null;

    public async Task StartAsync()
    {
        var options = new IngestOptions { DataDirectory = _directory.Path };
        _configure?.Invoke(options);
        _server = await IngestServer.StartAsync(
            Url, options, _evidence.Tokens, _evidence.Devices, consumers: null, metrics: null,
            TimeProvider.System, NullLoggerFactory.Instance, TestContext.Current.CancellationToken);
    }

    public async Task StopAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
            _server = null;
        }
    }

    /// <summary>Every record in the WAL, decoded, in order.</summary>
    public List<IngestRecord> ReadWal()
    {
        SegmentLog wal = Server.Service.Wal;
        var records = new List<IngestRecord>();
        long position = wal.HeadPosition;
        while (position < wal.TailPosition)
        {
            using LogReadBatch batch = wal.ReadBatch(position, 1000, 1 << 24);
            foreach (LogRecord record in batch)
            {
                records.Add(IngestRecord.Decode(record.Payload.ToArray()));
            }

            position = batch.NextPosition;
        }

        return records;
    }

    /// <summary>The lines of the WAL in order (what the ingest made durable and acknowledged).</summary>
    public List<string> WalLines() =>
        [.. ReadWal().SelectMany(r => System.Text.Encoding.UTF8.GetString(r.Body.Span).Split('\n', StringSplitOptions.RemoveEmptyEntries))];

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _evidence.Dispose();
        _directory.Dispose();
    }
}
