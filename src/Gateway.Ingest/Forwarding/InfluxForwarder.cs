using System.Collections.Concurrent;
using System.Globalization;
using FactoryGateway.Ingest.Wal;
using FactoryGateway.Telemetry.Influx;
using FactoryGateway.Telemetry.Storage;
using Microsoft.Extensions.Logging;

namespace FactoryGateway.Ingest.Forwarding;

/// <summary>
/// Forwards the points of the ingest's WAL to InfluxDB through its own WAL cursor: reads
/// <see cref="IngestRecord"/>s, concatenates their bodies into batches of at most
/// <see cref="ForwarderOptions.MaxBatchLines"/> lines and <see cref="ForwarderOptions.MaxBatchBytes"/> bytes,
/// and writes each batch with retry until InfluxDB has acknowledged it or its rejected lines are in the
/// dead-letter file. Only then does the cursor move past the batch's records.
/// </summary>
/// <remarks>
/// <para><b>Delivery.</b> At least once: a crash or a stop re-sends at most the batches after the persisted
/// cursor, and a 400 partial write is resolved by re-sending halves. InfluxDB stores one value per
/// (measurement, tag set, field, timestamp) and a later write of the same point overwrites it with the
/// same value, so a re-sent point is idempotent: InfluxDB never holds duplicate points. A point rejected
/// twice (a crash between the dead-letter append and the cursor move) appears twice in the dead-letter file.</para>
/// <para><b>Outcomes.</b> 2xx: done. 413: split in halves, recursively, down to one line (a single line over
/// the server's limit is dead-lettered). 400 and 422 (bad or partially written lines): split in halves to
/// isolate the rejected lines, which are dead-lettered with InfluxDB's message; lines InfluxDB already took are
/// re-sent harmlessly (when InfluxDB 1.x reports <c>dropped=N</c> with N covering the whole run, it is
/// dead-lettered without splitting). Other 4xx (401, 403, 404, …): the whole batch is dead-lettered and
/// forwarding moves on. 429 and 503: retried after <c>Retry-After</c> (up to
/// <see cref="ForwarderOptions.MaxRetryAfter"/>, at least <see cref="ForwarderOptions.InitialBackoff"/>), or after the backoff when absent. Other 5xx, network
/// errors and timeouts: retried forever with jittered exponential backoff; the cursor does not move.</para>
/// <para><b>Flush interval.</b> <see cref="RunAsync"/> is the host's entry point. It reads the WAL itself and
/// sends a batch as soon as it is full; when it has caught up with the durable tail it holds a partial batch
/// for more points until <see cref="ForwarderOptions.FlushInterval"/> has passed since the batch's first
/// line, then sends it. Under backlog batches are full and nothing waits; under light load a point waits at
/// most the interval. As an <see cref="ILogConsumer"/> run by <see cref="SegmentLog.RunConsumerAsync"/>,
/// the forwarder cannot hold lines across calls (the log moves the cursor as soon as
/// <see cref="ConsumeAsync"/> returns), so there every delivered batch is sent before the call returns and
/// the flush interval does not apply: batch sizes then follow the WAL read bounds.</para>
/// <para>One instance runs one loop at a time (a second concurrent run throws). All points go to the one
/// <see cref="InfluxTarget"/> of the write client; <see cref="IngestRecord.Target"/> is not used for routing.</para>
/// </remarks>
public sealed class InfluxForwarder : ILogConsumer, IWalConsumerService, IWalPriorityConsumer
{
    // One WAL read in RunAsync takes up to this many records (and MaxBatchBytes bytes): enough to fill a
    // batch from small ingest requests without holding a huge read buffer.
    private const int ReadMaxRecords = 4096;

    private readonly SegmentLog _log;
    private readonly InfluxWriteClient _client;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly string _name;
    private readonly string _targetText;
    private readonly int _maxLines;
    private readonly int _maxBytes;
    private readonly TimeSpan _flushInterval;
    private readonly bool _gzip;
    private readonly TimeSpan _maxRetryAfter;
    private readonly TimeSpan _initialBackoff;
    private readonly Backoff _backoff;
    private readonly DeadLetterFile _deadLetter;
    private readonly Lock _deadLetterLock = new();
    private readonly int _maxInFlight;

    // Owned by the running loop: the batch being filled, sends under way (oldest first) and spare batches.
    private readonly Queue<InFlight> _inFlight = new();
    private readonly Stack<LineBatch> _spare = new();
    private LineBatch _pending;

    // Owned by the running loop.
    private long _pendingSince;
    private long _persisted;
    private int _running;

    private long _pointsForwarded;
    private long _batches;
    private long _lineProtocolBytes;
    private long _wireBytes;
    private long _retries4xx;
    private long _retries5xx;
    private long _retriesNetwork;
    private long _retriesOther;
    private readonly ConcurrentDictionary<string, long> _errorsByStatus = new(StringComparer.Ordinal);
    private long _splits413;
    private long _splitsRejected;
    private long _pointsDeadLettered;
    private long _batchesDeadLettered;
    private long _undecodableRecords;
    private long _lastSuccessTicks;
    private int _sendsFailing;
    private volatile ErrorNote? _lastError;

    /// <param name="log">The WAL; <see cref="RunAsync"/> reads it, and the stats report the lag behind its tail.</param>
    /// <param name="client">The InfluxDB writer (the caller owns its HttpClient).</param>
    /// <param name="options">Validated here; later changes to the object have no effect.</param>
    /// <param name="timeProvider">The clock for backoff delays, the flush interval and the dead-letter file dates.</param>
    /// <param name="logger">Where the forwarder's events (ids 2100–2149) go.</param>
    public InfluxForwarder(SegmentLog log, InfluxWriteClient client, ForwarderOptions options, TimeProvider timeProvider, ILogger<InfluxForwarder> logger)
    {
        ArgumentNullException.ThrowIfNull(log);
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentNullException.ThrowIfNull(logger);
        options.Validate();
        _log = log;
        _client = client;
        _timeProvider = timeProvider;
        _logger = logger;
        _name = options.CursorName;
        _targetText = client.Target.ToString();
        _maxLines = options.MaxBatchLines;
        _maxBytes = options.MaxBatchBytes;
        _flushInterval = options.FlushInterval;
        _gzip = options.GzipFor(client.Target.BaseUrl);
        _maxRetryAfter = options.MaxRetryAfter;
        _initialBackoff = options.InitialBackoff;
        _backoff = new Backoff(options.InitialBackoff, options.MaxBackoff, Random.Shared);
        _deadLetter = new DeadLetterFile(options.DeadLetterDirectory, options.CursorName, timeProvider);
        _maxInFlight = options.MaxBatchesInFlight;
        _pending = NewBatch();
    }

    /// <summary>The WAL cursor's name (<see cref="ForwarderOptions.CursorName"/>).</summary>
    public string Name => _name;

    /// <summary>
    /// True while <see cref="RunAsync"/> runs, no send is waiting to retry, and the WAL holds at least
    /// <see cref="ForwarderOptions.MaxBatchBytes"/> (one full batch) past the cursor.
    /// </summary>
    public bool IsDeliveringBacklog =>
        Volatile.Read(ref _running) != 0
        && Volatile.Read(ref _sendsFailing) == 0
        && LagBytes(PersistedCursor()) >= _maxBytes;

    /// <summary>The dead-letter file that rejections at <paramref name="time"/> go to.</summary>
    public string DeadLetterPath(DateTimeOffset time) => _deadLetter.PathFor(time);

    public ForwarderStats GetStats()
    {
        long cursor = PersistedCursor();
        long lastSuccess = Interlocked.Read(ref _lastSuccessTicks);
        ErrorNote? lastError = _lastError;
        return new ForwarderStats(
            PointsForwarded: Interlocked.Read(ref _pointsForwarded),
            Batches: Interlocked.Read(ref _batches),
            LineProtocolBytes: Interlocked.Read(ref _lineProtocolBytes),
            WireBytes: Interlocked.Read(ref _wireBytes),
            Retries4xx: Interlocked.Read(ref _retries4xx),
            Retries5xx: Interlocked.Read(ref _retries5xx),
            RetriesNetwork: Interlocked.Read(ref _retriesNetwork),
            RetriesOther: Interlocked.Read(ref _retriesOther),
            Splits413: Interlocked.Read(ref _splits413),
            SplitsRejected: Interlocked.Read(ref _splitsRejected),
            PointsDeadLettered: Interlocked.Read(ref _pointsDeadLettered),
            BatchesDeadLettered: Interlocked.Read(ref _batchesDeadLettered),
            UndecodableRecords: Interlocked.Read(ref _undecodableRecords),
            LastError: lastError?.Text,
            LastErrorTime: lastError?.Time,
            LastSuccessTime: lastSuccess == 0 ? null : new DateTimeOffset(lastSuccess, TimeSpan.Zero),
            CursorPosition: cursor,
            LagBytes: LagBytes(cursor))
        {
            ErrorsByStatus = new SortedDictionary<string, long>(_errorsByStatus, StringComparer.Ordinal),
        };
    }

    private long PersistedCursor() => _log.GetCursor(_name) ?? _log.HeadPosition;

    private long LagBytes(long cursor) => Math.Max(0, _log.TailPosition - cursor);

    /// <summary>
    /// Forwards from the persisted cursor (created at the WAL's head the first time) until the log closes
    /// (returns) or <paramref name="cancellationToken"/> fires (throws <see cref="OperationCanceledException"/>),
    /// persisting the cursor after every acknowledged batch. Unsent lines stay in the WAL for the next run.
    /// </summary>
    /// <exception cref="InvalidOperationException">The forwarder is already running.</exception>
    /// <exception cref="IOException">The dead-letter file could not be written; the cursor stays before the rejected lines.</exception>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        Enter();
        try
        {
            long from = _log.RegisterCursor(_name);
            _persisted = from;
            ForwarderLog.Started(_logger, _name, from, _log.TailPosition, _targetText, _gzip ? "gzip" : "identity");
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                int records;
                using (LogReadBatch? batch = TryRead(from))
                {
                    if (batch is null)
                    {
                        return; // the log closed
                    }

                    records = batch.Count;
                    if (records > 0)
                    {
                        await AppendAsync(batch, persistCursor: true, cancellationToken);
                    }

                    from = batch.NextPosition;
                }

                if (records > 0)
                {
                    // Full, or due: a steady trickle that never lets the loop catch up still flushes on time.
                    if (_pending.Lines >= _maxLines || (_pending.Lines > 0 && _timeProvider.GetElapsedTime(_pendingSince) >= _flushInterval))
                    {
                        await FlushAsync(from, persistCursor: true, cancellationToken);
                    }

                    continue; // read on while the WAL has more
                }

                // Caught up with the durable tail.
                if (_pending.Lines == 0)
                {
                    await DrainAsync();
                    PersistCursor(from); // past records that held no lines
                    if (!await _log.WaitForAppendAsync(from, cancellationToken))
                    {
                        return;
                    }

                    continue;
                }

                TimeSpan left = _flushInterval - _timeProvider.GetElapsedTime(_pendingSince);
                if (left > TimeSpan.Zero && await WaitForAppendAsync(from, left, cancellationToken))
                {
                    continue; // more points arrived within the interval: add them to the batch
                }

                await FlushAsync(from, persistCursor: true, cancellationToken);
            }
        }
        finally
        {
            await AbandonInFlightAsync();
            _pending.Clear();
            ForwarderLog.Stopped(_logger, _name, _persisted);
            Volatile.Write(ref _running, 0);
        }
    }

    /// <summary>
    /// Forwards every point of <paramref name="batch"/> (acknowledged or dead-lettered) before returning, for
    /// <see cref="SegmentLog.RunConsumerAsync"/>, which then moves the cursor. The flush interval does not
    /// apply here (see the remarks on the class).
    /// </summary>
    public async ValueTask ConsumeAsync(LogReadBatch batch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        Enter();
        try
        {
            await AppendAsync(batch, persistCursor: false, cancellationToken);
            await FlushAsync(batch.NextPosition, persistCursor: false, cancellationToken);
        }
        finally
        {
            _pending.Clear();
            Volatile.Write(ref _running, 0);
        }
    }

    private void Enter()
    {
        if (Interlocked.Exchange(ref _running, 1) != 0)
        {
            throw new InvalidOperationException($"The InfluxDB forwarder '{_name}' is already running; one instance runs one loop at a time.");
        }
    }

    private LogReadBatch? TryRead(long from)
    {
        try
        {
            return _log.ReadBatch(from, ReadMaxRecords, _maxBytes);
        }
        catch (ObjectDisposedException)
        {
            return null;
        }
    }

    // True when durable data past `from` arrived within `timeout`; false on timeout or when the log closed
    // (the next read then notices).
    private async Task<bool> WaitForAppendAsync(long from, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        try
        {
            return await _log.WaitForAppendAsync(from, wait.Token).WaitAsync(timeout, _timeProvider, cancellationToken);
        }
        catch (TimeoutException)
        {
            return false;
        }
        finally
        {
            wait.Cancel(); // ends the abandoned wait
        }
    }

    // Adds the batch's lines to the pending batch, sending it whenever it fills up. A send in the middle of a
    // record acknowledges up to that record's position only: after a crash the whole record comes again.
    private async Task AppendAsync(LogReadBatch batch, bool persistCursor, CancellationToken cancellationToken)
    {
        foreach (LogRecord record in batch)
        {
            IngestRecord ingest;
            try
            {
                ingest = IngestRecord.Decode(record.Payload);
            }
            catch (InvalidDataException ex)
            {
                KeepUndecodable(record, ex);
                continue;
            }

            ReadOnlyMemory<byte> body = ingest.Body;
            int offset = 0;
            while (offset < body.Length)
            {
                if (_pending.Lines == 0)
                {
                    _pendingSince = _timeProvider.GetTimestamp();
                }

                offset += _pending.Append(body.Span[offset..], record.Position, _maxLines, _maxBytes);
                if (offset < body.Length)
                {
                    await FlushAsync(record.Position, persistCursor, cancellationToken);
                }
            }
        }
    }

    // Sends the pending batch. In RunAsync (persistCursor) up to MaxBatchesInFlight sends run at once and the
    // cursor follows the oldest: a position is persisted only when every batch before it is acknowledged.
    private async Task FlushAsync(long acknowledgedPosition, bool persistCursor, CancellationToken cancellationToken)
    {
        if (!persistCursor)
        {
            if (_pending.Lines > 0)
            {
                await SendAsync(_pending, 0, _pending.Lines, cancellationToken);
                _pending.Clear();
            }

            return;
        }

        LineBatch? batch = null;
        Task send = Task.CompletedTask;
        if (_pending.Lines > 0)
        {
            batch = _pending;
            _pending = _spare.Count > 0 ? _spare.Pop() : NewBatch();
            send = SendAsync(batch, 0, batch.Lines, cancellationToken);
        }

        _inFlight.Enqueue(new InFlight(send, acknowledgedPosition, batch));
        while (_inFlight.Count > 0 && (_inFlight.Count >= _maxInFlight || _inFlight.Peek().Send.IsCompleted))
        {
            await CompleteOldestAsync();
        }
    }

    private async Task CompleteOldestAsync()
    {
        InFlight oldest = _inFlight.Peek();
        await oldest.Send; // an exception (cancellation, dead-letter I/O) leaves the cursor before this batch
        _inFlight.Dequeue();
        PersistCursor(oldest.AcknowledgedPosition);
        if (oldest.Batch is { } batch)
        {
            batch.Clear();
            _spare.Push(batch);
        }
    }

    private async Task DrainAsync()
    {
        while (_inFlight.Count > 0)
        {
            await CompleteOldestAsync();
        }
    }

    // On the way out (cancellation or an error): let every send finish, keep the cursor over the
    // acknowledged prefix, and leave the rest to be sent again by the next run.
    private async Task AbandonInFlightAsync()
    {
        try
        {
            await Task.WhenAll(_inFlight.Select(f => f.Send));
        }
        catch (Exception error) when (error is not OutOfMemoryException)
        {
            // Already reported by the send or by the loop's own exception; the next run sends these again.
        }

        while (_inFlight.TryPeek(out InFlight? oldest) && oldest.Send.IsCompletedSuccessfully)
        {
            _inFlight.Dequeue();
            PersistCursor(oldest.AcknowledgedPosition);
        }

        _inFlight.Clear();
    }

    private LineBatch NewBatch() => new(_maxLines, Math.Min(_maxBytes, 256 * 1024));

    private void PersistCursor(long position)
    {
        if (position <= _persisted)
        {
            return;
        }

        try
        {
            _log.SetCursor(_name, position);
            _persisted = position;
        }
        catch (ObjectDisposedException)
        {
            // The log closed under us: the cursor stays, and the next run re-sends from it.
        }
    }

    // Sends lines [first, first + count) of the pending batch until they are acknowledged or dead-lettered.
    private async Task SendAsync(LineBatch batch, int first, int count, CancellationToken cancellationToken)
    {
        ReadOnlyMemory<byte> body = batch.Slice(first, count);
        int attempt = 0;
        long failingSince = 0;
        try
        {
            while (true)
            {
                InfluxWriteResult result = await _client.WriteAsync(body, _gzip, cancellationToken);
                if (result.IsSuccess)
                {
                    Interlocked.Add(ref _pointsForwarded, count);
                    Interlocked.Increment(ref _batches);
                    Interlocked.Add(ref _lineProtocolBytes, body.Length);
                    Interlocked.Add(ref _wireBytes, result.RequestBytes);
                    Interlocked.Exchange(ref _lastSuccessTicks, _timeProvider.GetUtcNow().UtcTicks);
                    if (attempt > 0)
                    {
                        TimeSpan outage = _timeProvider.GetElapsedTime(failingSince);
                        ForwarderLog.WriteRecovered(_logger, attempt, outage);
                    }

                    return;
                }

                string failure = Describe(result);
                _lastError = new ErrorNote(failure, _timeProvider.GetUtcNow());
                if (result.Kind == InfluxResultKind.TooLarge && count > 1)
                {
                    // Warn once: a server whose limit is below MaxBatchBytes makes every batch split.
                    if (Interlocked.Increment(ref _splits413) == 1)
                    {
                        ForwarderLog.SplitTooLarge(_logger, body.Length, count, result.Error);
                    }
                    else
                    {
                        ForwarderLog.SplitTooLargeAgain(_logger, body.Length, count);
                    }
                    await SendHalvesAsync(batch, first, count, cancellationToken);
                    return;
                }

                if (result.Kind == InfluxResultKind.Rejected && count > 1 && result.StatusCode is 400 or 422 && !DroppedAll(result.Error, count))
                {
                    Interlocked.Increment(ref _splitsRejected);
                    ForwarderLog.SplitRejected(_logger, count, result.StatusCode, result.Error);
                    await SendHalvesAsync(batch, first, count, cancellationToken);
                    return;
                }

                if (result.Kind is InfluxResultKind.TooLarge or InfluxResultKind.Rejected)
                {
                    string path;
                    lock (_deadLetterLock)
                    {
                        path = _deadLetter.AppendRejected(result.StatusCode, result.Error, count, batch.RecordPosition(first), body.Span);
                    }

                    Interlocked.Add(ref _pointsDeadLettered, count);
                    Interlocked.Increment(ref _batchesDeadLettered);
                    CountError(result.StatusCode);
                    ForwarderLog.DeadLettered(_logger, count, result.StatusCode, result.Error, path);
                    return;
                }

                // Retryable: throttled, server error, network error, unexpected status.
                CountRetry(result.StatusCode);
                // Retry-After is honoured within [InitialBackoff, MaxRetryAfter]: "Retry-After: 0" must not spin.
                TimeSpan delay = result.Kind == InfluxResultKind.Throttled && result.RetryAfter is { } retryAfter
                    ? TimeSpan.FromTicks(Math.Clamp(retryAfter.Ticks, _initialBackoff.Ticks, _maxRetryAfter.Ticks))
                    : _backoff.Delay(attempt);
                if (attempt == 0)
                {
                    failingSince = _timeProvider.GetTimestamp();
                    Interlocked.Increment(ref _sendsFailing); // until this send ends, one way or another
                    ForwarderLog.WriteFailing(_logger, count, failure, delay);
                }
                else
                {
                    ForwarderLog.WriteRetry(_logger, count, failure, attempt + 1, delay);
                }

                attempt++;
                await Task.Delay(delay, _timeProvider, cancellationToken);
            }
        }
        finally
        {
            if (attempt > 0)
            {
                Interlocked.Decrement(ref _sendsFailing);
            }
        }
    }

    private async Task SendHalvesAsync(LineBatch batch, int first, int count, CancellationToken cancellationToken)
    {
        int half = count / 2;
        await SendAsync(batch, first, half, cancellationToken);
        await SendAsync(batch, first + half, count - half, cancellationToken);
    }

    // InfluxDB 1.x ends a partial-write error with "dropped=N"; when N covers every line sent, none was
    // written and splitting cannot isolate anything.
    private static bool DroppedAll(string? error, int count)
    {
        const string Marker = "dropped=";
        int at = error?.LastIndexOf(Marker, StringComparison.Ordinal) ?? -1;
        if (at < 0)
        {
            return false;
        }

        ReadOnlySpan<char> digits = error.AsSpan(at + Marker.Length);
        int length = 0;
        while (length < digits.Length && char.IsAsciiDigit(digits[length]))
        {
            length++;
        }

        return int.TryParse(digits[..length], NumberStyles.None, CultureInfo.InvariantCulture, out int dropped) && dropped >= count;
    }

    private void KeepUndecodable(LogRecord record, InvalidDataException error)
    {
        string path;
        lock (_deadLetterLock)
        {
            path = _deadLetter.AppendUndecodable(record.Position, record.SequenceNumber, error.Message, record.Payload.Span);
        }

        Interlocked.Increment(ref _undecodableRecords);
        ForwarderLog.Undecodable(_logger, record.Position, record.SequenceNumber, error.Message, path);
    }

    /// <summary>Counts a failed send by its HTTP status ("network" when there was no response).</summary>
    private void CountError(int statusCode) =>
        _errorsByStatus.AddOrUpdate(statusCode == 0 ? "network" : statusCode.ToString(CultureInfo.InvariantCulture), 1, static (_, n) => n + 1);

    private void CountRetry(int statusCode)
    {
        CountError(statusCode);
        switch (statusCode)
        {
            case 0:
                Interlocked.Increment(ref _retriesNetwork);
                break;
            case >= 400 and < 500:
                Interlocked.Increment(ref _retries4xx);
                break;
            case >= 500 and < 600:
                Interlocked.Increment(ref _retries5xx);
                break;
            default:
                Interlocked.Increment(ref _retriesOther);
                break;
        }
    }

    private static string Describe(InfluxWriteResult result) =>
        result.StatusCode == 0 ? $"network error: {result.Error}" : $"{result.StatusCode}: {result.Error}";

    private sealed record ErrorNote(string Text, DateTimeOffset Time);

    /// <summary>A send under way and the WAL position the cursor may take once it (and all before it) succeeded.</summary>
    private sealed record InFlight(Task Send, long AcknowledgedPosition, LineBatch? Batch);
}
