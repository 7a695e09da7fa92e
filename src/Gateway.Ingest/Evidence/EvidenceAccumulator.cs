using FactoryGateway.Evidence.Ledger;
using FactoryGateway.Ingest.Wal;
using FactoryGateway.Telemetry.LineProtocol;
using FactoryGateway.Telemetry.Storage;
using Microsoft.Extensions.Logging;

namespace FactoryGateway.Ingest.Evidence;

/// <summary>
/// The ingest's second WAL consumer: feeds every accepted record, in WAL order, to an
/// <see cref="EvidenceAccumulation"/> and checkpoints the result — changed device-day rows, sealed rows and
/// roots, device states, and the WAL position after the last applied record — in one SQLite transaction.
/// Only after that commit does its WAL cursor move.
/// </summary>
/// <remarks>
/// <para><b>Exactly once.</b> The ledger and the position are one transaction, so after a crash at any
/// instant the ledger is exactly the state after the checkpointed position, and the records after it are
/// applied again from the WAL: nothing is lost or counted twice. The WAL cursor lags the checkpoint (it is
/// set after the commit), which only keeps WAL data a little longer.</para>
/// <para><b>Watermark.</b> Records carry the ingest's arrival stamp. The accumulator holds every record
/// stamped before (latest stamp applied − <see cref="EvidenceAccumulatorOptions.ArrivalSkew"/>) as in; when
/// it has caught up with the WAL, also everything before (now − skew). Days are sealed against that
/// watermark, so an idle ingest still seals yesterday's rows.</para>
/// <para><b>Giving way.</b> With a priority consumer (the InfluxDB forwarder), the accumulator waits while
/// that consumer delivers a backlog of at least a batch, and applies the records afterwards: a burst reaches
/// InfluxDB without the accumulator's parse competing for the same cores. It never waits further than
/// <see cref="EvidenceAccumulatorOptions.MaxDeferredBytes"/> behind the WAL tail, nor for a forwarder that is
/// failing or stopped, so an InfluxDB outage does not hold evidence back.</para>
/// </remarks>
public sealed class EvidenceAccumulator : IWalConsumerService
{
    // One WAL read: enough records to amortise the read, few enough bytes to keep the read buffer small.
    private const int ReadMaxRecords = 1024;
    private const int ReadMaxBytes = 16 * 1024 * 1024;

    // While giving way, how often the accumulator looks at the forwarder again: short against a burst's
    // seconds, long against the cost of a look (two reads).
    private static readonly TimeSpan s_givingWayPoll = TimeSpan.FromMilliseconds(10);

    private readonly SegmentLog _wal;
    private readonly LedgerStore _ledger;
    private readonly EvidenceAccumulatorOptions _options;
    private readonly IShiftCalendarSource _calendar;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly LineProtocolLimits _limits;
    private readonly long _skewNs;
    private readonly IWalPriorityConsumer? _giveWayTo;
    private readonly long _maxDeferredBytes;
    private readonly Lock _waitersLock = new();
    private readonly List<(long Position, TaskCompletionSource Done)> _waiters = [];

    private long _checkpointed = -1;
    private long _records;
    private long _linesApplied;
    private long _linesIgnored;
    private long _recordsSkipped;
    private long _rowsSealed;
    private long _checkpoints;
    private long _gaveWayTicks;
    private long _givingWaySince;
    private int _running;

    /// <param name="giveWayTo">
    /// The consumer to give way to while it delivers a backlog (the InfluxDB forwarder), up to
    /// <see cref="EvidenceAccumulatorOptions.MaxDeferredBytes"/> behind; null to never wait.
    /// </param>
    public EvidenceAccumulator(
        SegmentLog wal,
        LedgerStore ledger,
        EvidenceAccumulatorOptions options,
        IShiftCalendarSource calendar,
        LineProtocolLimits limits,
        TimeProvider time,
        ILogger<EvidenceAccumulator> logger,
        IWalPriorityConsumer? giveWayTo = null)
    {
        ArgumentNullException.ThrowIfNull(wal);
        ArgumentNullException.ThrowIfNull(ledger);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(calendar);
        ArgumentNullException.ThrowIfNull(limits);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(logger);
        _wal = wal;
        _ledger = ledger;
        _options = options.Validate();
        _calendar = calendar;
        _time = time;
        _logger = logger;
        _skewNs = options.ArrivalSkew.Ticks * 100;
        _giveWayTo = giveWayTo;
        _maxDeferredBytes = Math.Min(options.MaxDeferredBytes, wal.MaxTotalBytes / 4);
        // Canonical lines are the accepted lines plus an ent tag and a timestamp at most.
        _limits = new LineProtocolLimits
        {
            MaxLineBytes = limits.MaxLineBytes + 128,
            MaxTagsPerLine = limits.MaxTagsPerLine + 1,
            MaxFieldsPerLine = limits.MaxFieldsPerLine,
            MaxBodyBytes = (limits.MaxBodyBytes * 2) + 4096,
        };
    }

    public string Name => _options.CursorName;

    /// <summary>The WAL position up to which the ledger holds every record's evidence; -1 before the first checkpoint of this run.</summary>
    public long CheckpointedPosition => Interlocked.Read(ref _checkpointed);

    public EvidenceAccumulatorStats GetStats()
    {
        long checkpointed = CheckpointedPosition;
        return new EvidenceAccumulatorStats(
            Records: Interlocked.Read(ref _records),
            LinesApplied: Interlocked.Read(ref _linesApplied),
            LinesIgnored: Interlocked.Read(ref _linesIgnored),
            RecordsSkipped: Interlocked.Read(ref _recordsSkipped),
            RowsSealed: Interlocked.Read(ref _rowsSealed),
            Checkpoints: Interlocked.Read(ref _checkpoints),
            GivingWay: Interlocked.Read(ref _givingWaySince) != 0,
            GaveWay: TimeSpan.FromTicks(Interlocked.Read(ref _gaveWayTicks)),
            CheckpointedPosition: checkpointed,
            LagBytes: checkpointed < 0 ? _wal.TailPosition - _wal.HeadPosition : Math.Max(0, _wal.TailPosition - checkpointed));
    }

    /// <summary>Completes once the ledger holds the evidence of every record before <paramref name="position"/> (a WAL position).</summary>
    public Task WaitForCheckpointAsync(long position, CancellationToken cancellationToken)
    {
        lock (_waitersLock)
        {
            if (CheckpointedPosition >= position)
            {
                return Task.CompletedTask;
            }

            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((position, done));
            return done.Task.WaitAsync(cancellationToken);
        }
    }

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _running, 1) != 0)
        {
            throw new InvalidOperationException($"The evidence accumulator '{Name}' is already running.");
        }

        long from = 0;
        // The WAL holds only bodies the ingest validated in full before appending them.
        using var reader = new LineProtocolReader(_limits, LineProtocolValidation.Structure);
        EvidenceAccumulation? accumulation = null;
        try
        {
            accumulation = new EvidenceAccumulation(_options.Parameters, _calendar);
            LedgerSnapshot snapshot = _ledger.LoadSnapshot(Name);
            accumulation.Restore(snapshot);
            long walCursor = _wal.RegisterCursor(Name);
            from = snapshot.Watermark == long.MinValue && snapshot.Position == 0 ? walCursor : snapshot.Position;
            if (from < _wal.HeadPosition)
            {
                EvidenceLog.CheckpointBehindWal(_logger, Name, from, _wal.HeadPosition);
                from = _wal.HeadPosition;
            }

            EvidenceLog.Resumed(_logger, Name, from, accumulation.DeviceCount, snapshot.OpenRows.Count);
            Checkpoint(accumulation, from);
            long maxArrival = long.MinValue;
            long lastCheckpoint = _time.GetTimestamp();
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (ShouldGiveWay(from))
                {
                    // The forwarder first: wait while it delivers its backlog, committing what was applied
                    // before when a checkpoint falls due.
                    if (_time.GetElapsedTime(lastCheckpoint) >= _options.CheckpointInterval)
                    {
                        Checkpoint(accumulation, from);
                        lastCheckpoint = _time.GetTimestamp();
                    }

                    await Task.Delay(s_givingWayPoll, _time, cancellationToken);
                    continue;
                }

                EndGivingWay(from);
                int count;
                using (LogReadBatch? batch = TryRead(from))
                {
                    if (batch is null)
                    {
                        break; // the WAL closed
                    }

                    count = batch.Count;
                    foreach (LogRecord record in batch)
                    {
                        maxArrival = Math.Max(maxArrival, Apply(accumulation, record, reader));
                    }

                    from = batch.NextPosition;
                }

                if (count > 0)
                {
                    if (maxArrival != long.MinValue)
                    {
                        accumulation.AdvanceWatermark(maxArrival - _skewNs);
                    }

                    if (_time.GetElapsedTime(lastCheckpoint) >= _options.CheckpointInterval)
                    {
                        Checkpoint(accumulation, from);
                        lastCheckpoint = _time.GetTimestamp();
                    }

                    continue;
                }

                // Caught up: everything stamped before now − skew is in. Checkpoint at most once an interval
                // (one SQLite transaction with fsync), and wait for more records until the next one is due.
                accumulation.AdvanceWatermark(Math.Max(maxArrival, IngestService.ToUnixNanoseconds(_time.GetUtcNow())) - _skewNs);
                TimeSpan due = _options.CheckpointInterval - _time.GetElapsedTime(lastCheckpoint);
                if (due <= TimeSpan.Zero)
                {
                    Checkpoint(accumulation, from);
                    lastCheckpoint = _time.GetTimestamp();
                    due = _options.CheckpointInterval;
                }

                await WaitForAppendAsync(from, due, cancellationToken); // a closed WAL ends the next read
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested && accumulation is not null && CheckpointedPosition >= 0)
        {
            // Stopping between records (cancellation is only observed there): keep what was applied.
            Checkpoint(accumulation, from);
            throw;
        }
        finally
        {
            EndGivingWay(from);
            EvidenceLog.Stopped(_logger, Name, CheckpointedPosition);
            Volatile.Write(ref _running, 0);
        }
    }

    // True when the accumulator should wait for the priority consumer (and, the first time, notes since when).
    private bool ShouldGiveWay(long from)
    {
        if (_giveWayTo is null || _maxDeferredBytes == 0)
        {
            return false;
        }

        long lag = _wal.TailPosition - from;
        if (lag == 0 || lag >= _maxDeferredBytes || !_giveWayTo.IsDeliveringBacklog)
        {
            return false;
        }

        if (Interlocked.Read(ref _givingWaySince) == 0)
        {
            Interlocked.Exchange(ref _givingWaySince, Math.Max(1, _time.GetTimestamp())); // 0 means not giving way
            EvidenceLog.GivingWay(_logger, Name, _giveWayTo.Name, lag);
        }

        return true;
    }

    private void EndGivingWay(long from)
    {
        long since = Interlocked.Exchange(ref _givingWaySince, 0);
        if (since != 0)
        {
            TimeSpan waited = _time.GetElapsedTime(since);
            Interlocked.Add(ref _gaveWayTicks, waited.Ticks);
            EvidenceLog.GaveWay(_logger, Name, waited, _wal.TailPosition - from);
        }
    }

    // Applies one record; returns its arrival stamp (long.MinValue when it could not be read).
    private long Apply(EvidenceAccumulation accumulation, LogRecord record, LineProtocolReader reader)
    {
        Interlocked.Increment(ref _records);
        IngestRecord ingest;
        try
        {
            ingest = IngestRecord.Decode(record.Payload);
        }
        catch (InvalidDataException error)
        {
            Skip(record, error.Message);
            return long.MinValue;
        }

        long applied = accumulation.LinesApplied;
        long ignored = accumulation.LinesIgnored;
        try
        {
            accumulation.Apply(new System.Buffers.ReadOnlySequence<byte>(ingest.Body), ingest.ArrivalNanoseconds, reader);
        }
        catch (LineProtocolException error)
        {
            // The ingest validated the body before appending it; a failure here means the record is damaged.
            Skip(record, error.Message);
        }

        Interlocked.Add(ref _linesApplied, accumulation.LinesApplied - applied);
        Interlocked.Add(ref _linesIgnored, accumulation.LinesIgnored - ignored);
        return ingest.ArrivalNanoseconds;
    }

    private void Skip(LogRecord record, string reason)
    {
        Interlocked.Increment(ref _recordsSkipped);
        EvidenceLog.RecordSkipped(_logger, Name, record.Position, reason);
    }

    private void Checkpoint(EvidenceAccumulation accumulation, long position)
    {
        LedgerChanges changes = accumulation.TakeChanges();
        if (changes.Rows.Count > 0 || changes.Devices.Count > 0 || changes.SealedThrough.Count > 0 || position != CheckpointedPosition)
        {
            _ledger.Save(Name, position, changes);
            Interlocked.Increment(ref _checkpoints);
            try
            {
                _wal.SetCursor(Name, position);
            }
            catch (ObjectDisposedException)
            {
                // Stopping: the checkpoint in the ledger is what counts; the cursor catches up next run.
            }
        }

        int sealedRows = changes.Rows.Count(r => r.IsSealed);
        if (sealedRows > 0)
        {
            Interlocked.Add(ref _rowsSealed, sealedRows);
            EvidenceLog.Sealed(_logger, Name, sealedRows, changes.Roots.Count);
        }

        Interlocked.Exchange(ref _checkpointed, position);
        lock (_waitersLock)
        {
            for (int i = _waiters.Count - 1; i >= 0; i--)
            {
                if (_waiters[i].Position <= position)
                {
                    _waiters[i].Done.TrySetResult();
                    _waiters.RemoveAt(i);
                }
            }
        }
    }

    private LogReadBatch? TryRead(long from)
    {
        try
        {
            return _wal.ReadBatch(from, ReadMaxRecords, ReadMaxBytes);
        }
        catch (ObjectDisposedException)
        {
            return null;
        }
    }

    private async Task WaitForAppendAsync(long from, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        try
        {
            await _wal.WaitForAppendAsync(from, wait.Token).WaitAsync(timeout, _time, cancellationToken);
        }
        catch (TimeoutException)
        {
            // Time to advance the watermark by the clock.
        }
        finally
        {
            await wait.CancelAsync();
        }
    }
}

/// <summary>Counters of the evidence accumulator for <c>/metrics</c>.</summary>
public sealed record EvidenceAccumulatorStats(
    long Records,
    long LinesApplied,
    long LinesIgnored,
    long RecordsSkipped,
    long RowsSealed,
    long Checkpoints,
    bool GivingWay,
    TimeSpan GaveWay,
    long CheckpointedPosition,
    long LagBytes);
