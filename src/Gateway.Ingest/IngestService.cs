using System.Buffers;
using System.Collections.Concurrent;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Threading.Channels;
using FactoryGateway.Evidence;
using FactoryGateway.Ingest.Buffers;
using FactoryGateway.Ingest.Edges;
using FactoryGateway.Ingest.Metrics;
using FactoryGateway.Ingest.Wal;
using FactoryGateway.Telemetry.LineProtocol;
using FactoryGateway.Telemetry.Storage;
using Microsoft.Extensions.Logging;

namespace FactoryGateway.Ingest;

/// <summary>A write as the HTTP layer hands it over: who, where to, and how to read the timestamps.</summary>
public sealed record WriteRequest
{
    public required TokenPrincipal Principal { get; init; }

    /// <summary>The v2 bucket or v1 <c>db</c>[/<c>rp</c>] the client named.</summary>
    public required string Target { get; init; }

    public TimestampPrecision Precision { get; init; } = TimestampPrecision.Nanoseconds;

    public string? EdgeId { get; init; }

    public long? EdgeSequence { get; init; }
}

/// <summary>The answer to a write: 204, or an InfluxDB-shaped error with its status.</summary>
public sealed record WriteOutcome
{
    public required int StatusCode { get; init; }

    /// <summary>InfluxDB error code: <c>invalid</c>, <c>unauthorized</c>, <c>forbidden</c>, <c>request too large</c>, <c>too many requests</c>, <c>unavailable</c>.</summary>
    public string? ErrorCode { get; init; }

    public string? Message { get; init; }

    public TimeSpan? RetryAfter { get; init; }

    /// <summary>Points accepted (0 for a duplicate batch or an error).</summary>
    public int Points { get; init; }

    /// <summary>The batch repeated an acknowledged <c>X-FG-Seq</c> and was not applied again.</summary>
    public bool Duplicate { get; init; }

    public static WriteOutcome Error(int status, string code, string message, TimeSpan? retryAfter = null) =>
        new() { StatusCode = status, ErrorCode = code, Message = message, RetryAfter = retryAfter };
}

/// <summary>
/// The ingest core, independent of HTTP: validates a write completely (nothing of a rejected write
/// is applied), deduplicates edge batches, makes the batch durable in the WAL (group commit, fsync)
/// and only then acknowledges it. The WAL is read by the forwarder and, later, the evidence
/// accumulator, each through its own cursor.
/// </summary>
public sealed class IngestService : IAsyncDisposable
{
    /// <summary>The WAL cursor that pins records not yet covered by the edge-sequence checkpoint.</summary>
    public const string EdgeCursorName = "edge-sequences";

    // Unregistered sightings go to SQLite off the request path. Overflow policy: drop the newest
    // sighting and count it — the register tally is diagnostic; the points themselves are in the WAL.
    private const int SightingQueueCapacity = 1024;

    private static readonly byte[] s_entKey = "ent"u8.ToArray();
    private static readonly byte[] s_devKey = "dev"u8.ToArray();

    private readonly IngestOptions _options;
    private readonly DeviceRegister? _register;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly SequenceWatermark _watermark;
    private readonly ConcurrentQueue<WriteContext> _contexts = new();
    private readonly Channel<(string Enterprise, string Device, long Points, long AtUnixNanoseconds)[]> _sightings;
    private readonly Channel<(string Enterprise, string Device, long AtUnixNanoseconds)> _futureRefusals;
    private readonly Task _futureLoop;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _checkpointLoop;
    private readonly Task _sightingLoop;
    private readonly Counter _sightingsDropped = new();
    private bool _walFull;

    private readonly Task[] _consumerTasks;

    private IngestService(IngestOptions options, SegmentLog wal, EdgeSequenceTracker edges, SequenceWatermark watermark, IReadOnlyList<IWalConsumerService> consumers, DeviceRegister? register, TimeProvider time, ILogger logger)
    {
        _options = options;
        Wal = wal;
        Edges = edges;
        _watermark = watermark;
        _register = register;
        _time = time;
        _logger = logger;
        _sightings = Channel.CreateBounded<(string Enterprise, string Device, long Points, long AtUnixNanoseconds)[]>(new BoundedChannelOptions(SightingQueueCapacity)
        {
            FullMode = BoundedChannelFullMode.DropWrite,
            SingleReader = true,
        });
        // Same overflow policy as the sightings: drop the newest and count it (the request itself was refused
        // with its reason; this tally only feeds the future_timestamp flag).
        _futureRefusals = Channel.CreateBounded<(string Enterprise, string Device, long AtUnixNanoseconds)>(new BoundedChannelOptions(SightingQueueCapacity)
        {
            FullMode = BoundedChannelFullMode.DropWrite,
            SingleReader = true,
        });
        _checkpointLoop = CheckpointLoopAsync(_stopping.Token);
        _sightingLoop = SightingLoopAsync();
        _futureLoop = FutureRefusalLoopAsync();
        Consumers = consumers;
        _consumerTasks = [.. consumers.Select(consumer => Task.Run(() => RunConsumerAsync(consumer, _stopping.Token), CancellationToken.None))];
    }

    /// <summary>The WAL consumers this service runs.</summary>
    public IReadOnlyList<IWalConsumerService> Consumers { get; }

    public SegmentLog Wal { get; }

    public EdgeSequenceTracker Edges { get; }

    public IngestMetrics Metrics { get; } = new();

    public IngestOptions Options => _options;

    /// <summary>True from a write refused because the WAL was full until the next append that fits.</summary>
    public bool WalFull => Volatile.Read(ref _walFull);

    /// <summary>Unregistered-device sightings and future-timestamp refusals dropped because their queue was full.</summary>
    public long SightingsDropped => _sightingsDropped.Value;

    /// <summary>Opens (and recovers) the WAL and restores the edge sequences from checkpoint + WAL replay.</summary>
    /// <param name="options">Validated here.</param>
    /// <param name="consumers">
    /// Creates the WAL consumers (forwarder, evidence accumulator) once the WAL is open. Their cursors are
    /// registered before the first write (a cursor registered later would start behind segments already
    /// deleted); the service runs them until it is disposed.
    /// </param>
    /// <param name="register">The asset register, for listing unregistered devices; null to skip.</param>
    /// <param name="time">The clock for arrival times and checkpoints.</param>
    /// <param name="logger">Where recovery and rejections are logged.</param>
    public static IngestService Start(IngestOptions options, Func<SegmentLog, IReadOnlyList<IWalConsumerService>>? consumers, DeviceRegister? register, TimeProvider time, ILogger logger)
    {
        options.Validate();
        Directory.CreateDirectory(options.DataDirectory);
        SegmentLog wal = SegmentLog.Open(
            new SegmentLogOptions
            {
                Directory = options.WalDirectory,
                SegmentBytes = options.WalSegmentBytes,
                MaxTotalBytes = options.WalMaxBytes,
            },
            time);
        try
        {
            RecoveryReport recovery = wal.Recovery;
            IngestLog.WalOpened(logger, options.WalDirectory, wal.HeadPosition, wal.TailPosition, recovery.SegmentsFound, recovery.IsClean ? "clean" : recovery.Reason ?? "cursors rewound");
            if (recovery.BytesTruncated > 0)
            {
                IngestLog.WalTailCut(logger, recovery.BytesTruncated, recovery.TruncatedAt, recovery.Reason);
            }

            var edges = new EdgeSequenceTracker(time);
            long? checkpointed = edges.LoadCheckpoint(options.EdgeCheckpointPath);
            long start = Math.Max(checkpointed ?? wal.HeadPosition, wal.HeadPosition);
            wal.RegisterCursor(EdgeCursorName);
            IReadOnlyList<IWalConsumerService> walConsumers = consumers?.Invoke(wal) ?? [];
            foreach (IWalConsumerService consumer in walConsumers)
            {
                wal.RegisterCursor(consumer.Name);
            }

            (int replayed, long lastPosition) = Replay(wal, edges, start);
            IngestLog.EdgesRestored(logger, edges.EdgeCount, replayed, start);

            var watermark = new SequenceWatermark(wal.GetStats().NextSequence, lastPosition);
            edges.SaveCheckpoint(options.EdgeCheckpointPath, watermark.ResumePosition);
            wal.SetCursor(EdgeCursorName, watermark.ResumePosition);
            return new IngestService(options, wal, edges, watermark, walConsumers, register, time, logger);
        }
        catch
        {
            wal.DisposeAsync().AsTask().GetAwaiter().GetResult();
            throw;
        }
    }

    /// <summary>Validates, deduplicates and durably appends one write. Never throws for bad input.</summary>
    public async ValueTask<WriteOutcome> WriteAsync(WriteRequest request, ReadOnlySequence<byte> body, CancellationToken cancellationToken)
    {
        TokenPrincipal principal = request.Principal;
        if (principal.Role == TokenRole.Bureau)
        {
            return Reject(request, 403, "forbidden", "forbidden", "bureau tokens are read-only");
        }

        SegmentLogStats wal = Wal.GetStats();
        if (wal.BytesOnDisk > _options.WalBackpressureFraction * _options.WalMaxBytes)
        {
            return Reject(request, 429, "too many requests", "overloaded",
                string.Create(CultureInfo.InvariantCulture, $"the ingest WAL holds {wal.BytesOnDisk} of {_options.WalMaxBytes} bytes; retry later"),
                _options.RetryAfter);
        }

        if (request.EdgeId is null)
        {
            return await ValidateAndAppendAsync(request, body, cancellationToken);
        }

        using EdgeSequenceTracker.EdgeLease lease = await Edges.AcquireAsync(request.EdgeId, cancellationToken);
        long sequence = request.EdgeSequence!.Value;
        EdgeBatchDecision decision = lease.Decide(sequence);
        if (decision == EdgeBatchDecision.Duplicate)
        {
            Metrics.DuplicateBatches.Increment();
            return new WriteOutcome { StatusCode = 204, Duplicate = true };
        }

        long previous = lease.LastSequence;
        WriteOutcome outcome = await ValidateAndAppendAsync(request, body, cancellationToken);
        if (outcome.StatusCode == 204)
        {
            lease.Commit(sequence);
            if (decision == EdgeBatchDecision.AfterGap)
            {
                Metrics.SequenceGaps.Increment();
                IngestLog.SequenceGap(_logger, request.EdgeId, previous + 1, sequence - 1);
            }
        }

        return outcome;
    }

    /// <summary>Counts a request refused before it reached the core (auth, size, parameters).</summary>
    public void CountRejected(string reason) => Metrics.RequestsRejected[reason].Increment();

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        _sightings.Writer.TryComplete();
        _futureRefusals.Writer.TryComplete();
        await Task.WhenAll([_checkpointLoop, _sightingLoop, _futureLoop, .. _consumerTasks]);
        SaveCheckpoint();
        await Wal.DisposeAsync();
        while (_contexts.TryDequeue(out WriteContext? context))
        {
            context.Dispose();
        }

        _stopping.Dispose();
    }

    private async ValueTask<WriteOutcome> ValidateAndAppendAsync(WriteRequest request, ReadOnlySequence<byte> body, CancellationToken cancellationToken)
    {
        WriteContext context = RentContext();
        try
        {
            long arrival = ToUnixNanoseconds(_time.GetUtcNow());
            WriteOutcome? invalid = Canonicalise(request, body, arrival, context, out int points);
            if (invalid is not null)
            {
                return invalid;
            }

            if (points == 0)
            {
                return new WriteOutcome { StatusCode = 204 };
            }

            var record = new IngestRecord
            {
                ArrivalNanoseconds = arrival,
                EdgeId = request.EdgeId ?? string.Empty,
                EdgeSequence = request.EdgeSequence,
                Enterprise = request.Principal.Enterprise ?? string.Empty,
                Target = request.Target,
                PointCount = points,
                Body = context.Canonical.WrittenMemory,
            };
            context.Record.Clear();
            record.Encode(context.Record);
            LogAppendResult appended = await Wal.AppendAsync(context.Record.WrittenMemory, cancellationToken);
            if (!appended.IsAppended)
            {
                Volatile.Write(ref _walFull, true);
                SegmentLogStats stats = Wal.GetStats();
                IngestLog.WalFull(_logger, stats.BytesOnDisk, _options.WalMaxBytes);
                Metrics.PointsRejected["wal_full"].Add(points);
                return Reject(request, 503, "unavailable", "wal_full",
                    string.Create(CultureInfo.InvariantCulture, $"the ingest WAL is full ({stats.BytesOnDisk} of {_options.WalMaxBytes} bytes); retry later"),
                    _options.RetryAfter);
            }

            Volatile.Write(ref _walFull, false);
            _watermark.Applied(appended.SequenceNumber, appended.Position);
            Metrics.PointsAccepted.Add(points);
            Metrics.BytesDecoded.Add(body.Length);
            QueueUnregistered(context, arrival);
            return new WriteOutcome { StatusCode = 204, Points = points };
        }
        finally
        {
            ReturnContext(context);
        }
    }

    /// <summary>
    /// Reads every line, checks it, and writes the canonical form: the line as sent with its tags in key
    /// order (InfluxDB's; most lines already are), the token's enterprise added as <c>ent</c> where the line
    /// has none, and the timestamp in nanoseconds (the arrival time where the line has none). Returns an
    /// error outcome, or null when all lines are good.
    /// </summary>
    private WriteOutcome? Canonicalise(WriteRequest request, ReadOnlySequence<byte> body, long arrival, WriteContext context, out int points)
    {
        points = 0;
        TokenPrincipal principal = request.Principal;
        byte[]? enterprise = principal.Enterprise is null ? null : context.EnterpriseBytes(principal.Enterprise);
        long futureLimit = arrival + (long)(_options.FutureTolerance.Ticks * 100);
        long lateLimit = arrival - (long)(_options.LateWindow.Ticks * 100);
        LineProtocolReader reader = context.Reader;
        reader.Reset(request.Precision);
        PooledBufferWriter output = context.Canonical;
        output.Clear();
        context.ClearDevices();
        var sequence = new SequenceReader<byte>(body);
        int late = 0;
        int entAdded = 0;
        int sorted = 0;
        try
        {
            while (reader.TryRead(ref sequence, isFinalBlock: true, out LineProtocolLine line))
            {
                long timestamp = line.Timestamp ?? arrival;
                if (timestamp > futureLimit)
                {
                    QueueFutureRefusal(line, enterprise, arrival);
                    return Reject(request, 400, "invalid", "future_timestamp", string.Create(CultureInfo.InvariantCulture,
                        $"line {line.LineNumber}: timestamp {timestamp} is {(timestamp - arrival) / 1_000_000_000} s ahead of the ingest clock (limit {_options.FutureTolerance.TotalSeconds} s)"));
                }

                if (timestamp < lateLimit)
                {
                    late++;
                }

                bool hasEnt = line.TryGetTag(s_entKey, out ReadOnlySpan<byte> ent);
                if (hasEnt && enterprise is not null && principal.Role == TokenRole.Enterprise && !ent.SequenceEqual(enterprise))
                {
                    return Reject(request, 403, "forbidden", "forbidden_enterprise",
                        $"line {line.LineNumber}: ent tag {LineProtocolThrowQuote(ent)} is not the token's enterprise");
                }

                bool addEnt = !hasEnt && enterprise is not null;
                if (line.TagsSorted && !addEnt)
                {
                    output.Write(line.SeriesAndFields);
                }
                else
                {
                    // Tags in InfluxDB's key order, the token's enterprise added in its place: InfluxDB sorts an
                    // unordered tag set on every write, which costs it more than it costs here.
                    line.WriteSeriesKeyInKeyOrder(output, addEnt ? s_entKey : default, addEnt ? enterprise : default);
                    output.Write(" "u8);
                    output.Write(line.FieldSet);
                    if (addEnt)
                    {
                        ent = enterprise;
                        entAdded++;
                    }

                    if (!line.TagsSorted)
                    {
                        sorted++;
                    }
                }

                Span<byte> tail = output.GetSpan(22);
                tail[0] = (byte)' ';
                timestamp.TryFormat(tail[1..], out int written, default, CultureInfo.InvariantCulture);
                tail[written + 1] = (byte)'\n';
                output.Advance(written + 2);

                if (_register is not null && (hasEnt || enterprise is not null) && line.TryGetTag(s_devKey, out ReadOnlySpan<byte> dev))
                {
                    context.CountDevice(ent, dev);
                }

                points++;
            }
        }
        catch (LineProtocolException error)
        {
            Metrics.PointsRejected["malformed"].Add(points + 1);
            return Reject(request, 400, "invalid", "malformed", error.Message);
        }
        catch (BufferLimitExceededException)
        {
            return Reject(request, 413, "request too large", "too_large",
                string.Create(CultureInfo.InvariantCulture, $"the canonical body would exceed {output.MaxBytes} bytes"));
        }

        Metrics.PointsLate.Add(late);
        Metrics.PointsEnterpriseTagAdded.Add(entAdded);
        Metrics.PointsTagsSorted.Add(sorted);
        return null;
    }

    // The device whose line was ahead of the clock, for the future_timestamp flag (lines without a device are
    // refused all the same, and not counted against anyone).
    private void QueueFutureRefusal(in LineProtocolLine line, byte[]? tokenEnterprise, long arrival)
    {
        if (_register is null || !line.TryGetTag(s_devKey, out ReadOnlySpan<byte> dev))
        {
            return;
        }

        ReadOnlySpan<byte> ent = line.TryGetTag(s_entKey, out ReadOnlySpan<byte> tagged) ? tagged : tokenEnterprise;
        if (ent.IsEmpty || dev.IsEmpty)
        {
            return;
        }

        if (!_futureRefusals.Writer.TryWrite((LineProtocolText.Unescape(ent), LineProtocolText.Unescape(dev), arrival)))
        {
            _sightingsDropped.Increment();
        }
    }

    private static string LineProtocolThrowQuote(ReadOnlySpan<byte> bytes) => "\"" + Encoding.UTF8.GetString(bytes) + "\"";

    private void QueueUnregistered(WriteContext context, long arrival)
    {
        if (_register is null || context.Devices.Count == 0)
        {
            return;
        }

        List<(string Enterprise, string Device, long Points, long AtUnixNanoseconds)>? unregistered = null;
        foreach (DeviceCount seen in context.Devices)
        {
            string enterprise = LineProtocolText.Unescape(seen.Enterprise);
            string device = LineProtocolText.Unescape(seen.Device);
            if (!_register.IsRegistered(enterprise, device))
            {
                (unregistered ??= []).Add((enterprise, device, seen.Points, arrival));
                Metrics.PointsUnregistered.Add(seen.Points);
            }
        }

        if (unregistered is not null && !_sightings.Writer.TryWrite([.. unregistered]))
        {
            _sightingsDropped.Increment();
        }
    }

    private WriteOutcome Reject(WriteRequest request, int status, string code, string reason, string message, TimeSpan? retryAfter = null)
    {
        Metrics.RequestsRejected[reason].Increment();
        IngestLog.WriteRejected(_logger, status, reason, request.Principal.TokenId, message);
        return WriteOutcome.Error(status, code, message, retryAfter);
    }

    private async Task CheckpointLoopAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(_options.CheckpointInterval, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                SaveCheckpoint();
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private void SaveCheckpoint()
    {
        try
        {
            long resume = _watermark.ResumePosition;
            Edges.SaveCheckpoint(_options.EdgeCheckpointPath, resume);
            Wal.SetCursor(EdgeCursorName, resume);
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException or ObjectDisposedException)
        {
            IngestLog.CheckpointFailed(_logger, error);
        }
    }

    private async Task RunConsumerAsync(IWalConsumerService consumer, CancellationToken cancellationToken)
    {
        try
        {
            await consumer.RunAsync(cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (Exception error) when (error is not OutOfMemoryException)
        {
            // A consumer that stops leaves its cursor where it was: the WAL keeps its data and /ready says so.
            IngestLog.ConsumerFailed(_logger, consumer.Name, error);
            ConsumerFailures[consumer.Name] = error.Message;
        }
    }

    /// <summary>Consumers that stopped with an error, and why; empty while all run.</summary>
    public ConcurrentDictionary<string, string> ConsumerFailures { get; } = new(StringComparer.Ordinal);

    private async Task FutureRefusalLoopAsync()
    {
        var batch = new List<(string, string, long)>();
        while (await _futureRefusals.Reader.WaitToReadAsync())
        {
            batch.Clear();
            while (batch.Count < SightingQueueCapacity && _futureRefusals.Reader.TryRead(out (string, string, long) refused))
            {
                batch.Add(refused);
            }

            try
            {
                _register!.RecordFutureTimestamps(batch);
            }
            catch (Exception error) when (error is not OutOfMemoryException)
            {
                IngestLog.FutureRefusalsFailed(_logger, error);
            }
        }
    }

    private async Task SightingLoopAsync()
    {
        await foreach ((string, string, long, long)[] batch in _sightings.Reader.ReadAllAsync())
        {
            try
            {
                _register!.RecordUnregistered(batch);
            }
            catch (Exception error) when (error is not OutOfMemoryException)
            {
                IngestLog.UnregisteredFailed(_logger, error);
            }
        }
    }

    private static (int Replayed, long LastPosition) Replay(SegmentLog wal, EdgeSequenceTracker edges, long from)
    {
        int replayed = 0;
        long last = from;
        long position = from;
        while (position < wal.TailPosition)
        {
            using LogReadBatch batch = wal.ReadBatch(position, 1024, 16 * 1024 * 1024);
            if (batch.Count == 0)
            {
                break;
            }

            foreach (LogRecord record in batch)
            {
                IngestRecord decoded = IngestRecord.Decode(record.Payload);
                if (decoded.EdgeSequence is long sequence)
                {
                    edges.Replay(decoded.EdgeId, sequence, decoded.ArrivalNanoseconds);
                }

                last = record.Position;
                replayed++;
            }

            position = batch.NextPosition;
        }

        return (replayed, last);
    }

    internal static long ToUnixNanoseconds(DateTimeOffset time) => (time.UtcTicks - DateTime.UnixEpoch.Ticks) * 100;

    private WriteContext RentContext() =>
        _contexts.TryDequeue(out WriteContext? context) ? context : new WriteContext(_options.Limits);

    private void ReturnContext(WriteContext context)
    {
        // Keep as many contexts as requests run at once, up to a bound; shrink oversized buffers.
        if (_contexts.Count < 2 * Environment.ProcessorCount + 16)
        {
            context.Reset();
            _contexts.Enqueue(context);
        }
        else
        {
            context.Dispose();
        }
    }

    /// <summary>Per-request buffers and the reader, reused across requests.</summary>
    private sealed class WriteContext : IDisposable
    {
        private const int InitialBytes = 64 * 1024;
        private string? _enterprise;
        private byte[] _enterpriseBytes = [];

        public WriteContext(LineProtocolLimits limits)
        {
            Reader = new LineProtocolReader(limits);
            // The canonical body may grow past the request body (an ent tag and a timestamp per line);
            // it is bounded so that one record always fits in a WAL segment.
            Canonical = new PooledBufferWriter(InitialBytes, (limits.MaxBodyBytes * 2) + 4096);
            Record = new PooledBufferWriter(InitialBytes, (limits.MaxBodyBytes * 2) + 8192);
        }

        public LineProtocolReader Reader { get; }

        public PooledBufferWriter Canonical { get; }

        public PooledBufferWriter Record { get; }

        /// <summary>Devices of this batch with their point counts, as raw (escaped) tag bytes.</summary>
        public List<DeviceCount> Devices { get; } = [];

        // Devices by a hash of their raw enterprise and device bytes: an edge batch carries hundreds of
        // devices, so a linear search per line would cost more than parsing the line.
        private Dictionary<int, DeviceCount> DeviceIndex { get; } = [];

        public byte[] EnterpriseBytes(string enterprise)
        {
            if (!string.Equals(enterprise, _enterprise, StringComparison.Ordinal))
            {
                _enterprise = enterprise;
                _enterpriseBytes = Encoding.UTF8.GetBytes(enterprise);
            }

            return _enterpriseBytes;
        }

        public void CountDevice(ReadOnlySpan<byte> enterprise, ReadOnlySpan<byte> device)
        {
            var hash = new HashCode();
            hash.AddBytes(enterprise);
            hash.Add(0xFF);
            hash.AddBytes(device);
            int key = hash.ToHashCode();
            ref DeviceCount? bucket = ref CollectionsMarshal.GetValueRefOrAddDefault(DeviceIndex, key, out _);
            for (DeviceCount? known = bucket; known is not null; known = known.Next)
            {
                if (known.Enterprise.AsSpan().SequenceEqual(enterprise) && known.Device.AsSpan().SequenceEqual(device))
                {
                    known.Points++;
                    return;
                }
            }

            var added = new DeviceCount(enterprise.ToArray(), device.ToArray()) { Next = bucket };
            bucket = added;
            Devices.Add(added);
        }

        public void Reset()
        {
            Canonical.Clear();
            Record.Clear();
            ClearDevices();
        }

        public void ClearDevices()
        {
            Devices.Clear();
            DeviceIndex.Clear();
        }

        public void Dispose()
        {
            Reader.Dispose();
            Canonical.Dispose();
            Record.Dispose();
        }

    }

    private sealed class DeviceCount(byte[] enterprise, byte[] device)
    {
        public byte[] Enterprise { get; } = enterprise;

        public byte[] Device { get; } = device;

        public long Points { get; set; } = 1;

        /// <summary>The next device whose bytes hash the same.</summary>
        public DeviceCount? Next { get; init; }
    }
}
