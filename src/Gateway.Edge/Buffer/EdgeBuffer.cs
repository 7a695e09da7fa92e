using System.Buffers;
using FactoryGateway.Edge.Config;
using FactoryGateway.Telemetry.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace FactoryGateway.Edge.Buffer;

/// <summary>
/// The edge's disk buffer: canonical lines gather in memory and are appended, as one record, to a
/// <see cref="SegmentLog"/> (group commit: written and fsynced before the append completes) every
/// <see cref="BufferOptions.FlushInterval"/>, or sooner when a record's worth of lines is waiting. The uplink
/// reads the log; nothing reaches it before it is on disk. A SIGKILL or power loss therefore costs at most the
/// lines of one flush interval, and the open after it reports what the log cut (<see cref="Recovery"/>) and
/// when the last record that survived was written (<see cref="LastRecordTime"/>).
/// </summary>
/// <remarks>
/// Bounded twice: the log by <see cref="BufferOptions.MaxBytes"/> on disk, and the lines waiting in memory by
/// <see cref="MaxPendingBytes"/>. When the disk bound is reached the overflow policy decides:
/// <see cref="BufferOverflowPolicy.RefuseNew"/> refuses new lines (counted in <see cref="Refused"/>) until the
/// uplink has freed room; <see cref="BufferOverflowPolicy.Block"/> makes the writer wait. When only the memory
/// bound is reached (a burst faster than a flush), the writer waits for the flush under way. Unsent data is never
/// evicted.
/// </remarks>
public sealed class EdgeBuffer : IAsyncDisposable
{
    /// <summary>Lines waiting in memory at most, in bytes, before the overflow policy applies. 16 MiB: several flushes' worth at 10k lines/s.</summary>
    public const int MaxPendingBytes = 16 * 1024 * 1024;

    private readonly BufferOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly SegmentLog _log;
    private readonly int _recordLines;
    private readonly int _recordBytes;
    private readonly Lock _lock = new();
    private readonly SemaphoreSlim _flushGate = new(1, 1);
    private readonly CancellationTokenSource _stop = new();
    private ArrayBufferWriter<byte> _pending = new(64 * 1024);
    private ArrayBufferWriter<byte> _spare = new(64 * 1024);
    private int _pendingLines;
    private bool _full;
    private long _refused;
    private long _blockedWaits;
    private long _records;
    private long _lines;
    private Task? _flusher;
    private TaskCompletionSource _room = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource _flushNow = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private EdgeBuffer(BufferOptions options, SegmentLog log, int recordLines, TimeProvider time, ILogger logger)
    {
        _options = options;
        _log = log;
        _time = time;
        _logger = logger;
        _recordLines = recordLines;
        _recordBytes = Math.Min(log.MaxPayloadBytes, 4 * 1024 * 1024);
    }

    /// <summary>What the log found and cut when it opened (a torn tail after a crash).</summary>
    public RecoveryReport Recovery => _log.Recovery;

    /// <summary>When the newest record already on disk at open was appended (null for an empty buffer): data after it, up to one flush interval, was lost if the process died.</summary>
    public DateTimeOffset? LastRecordTime { get; private set; }

    /// <summary>
    /// True when the previous run did not stop cleanly (a kill, a crash, a power loss): it left data in the buffer and
    /// no <see cref="CleanStopFile"/>. What it held in memory then — at most one flush interval of samples after
    /// <see cref="LastRecordTime"/> — was lost.
    /// </summary>
    public bool UncleanStop { get; private set; }

    /// <summary>Written in the buffer directory by a clean stop, removed at open.</summary>
    public const string CleanStopFile = "clean-stop";

    /// <summary>The log the uplink reads.</summary>
    public SegmentLog Log => _log;

    public BufferOverflowPolicy Overflow => _options.Overflow;

    /// <summary>Lines refused because the buffer was full (<see cref="BufferOverflowPolicy.RefuseNew"/>).</summary>
    public long Refused => Interlocked.Read(ref _refused);

    /// <summary>Times a writer waited for room (<see cref="BufferOverflowPolicy.Block"/>).</summary>
    public long BlockedWaits => Interlocked.Read(ref _blockedWaits);

    /// <summary>True while the buffer refuses (or holds back) new lines.</summary>
    public bool IsFull => Volatile.Read(ref _full);

    /// <summary>Records appended since open.</summary>
    public long Records => Interlocked.Read(ref _records);

    /// <summary>Lines appended to disk since open.</summary>
    public long Lines => Interlocked.Read(ref _lines);

    /// <summary>Bytes waiting in memory for the next flush.</summary>
    public int PendingBytes
    {
        get
        {
            lock (_lock)
            {
                return _pending.WrittenCount;
            }
        }
    }

    /// <summary>Lines waiting in memory for the next flush.</summary>
    public int PendingLines
    {
        get
        {
            lock (_lock)
            {
                return _pendingLines;
            }
        }
    }

    /// <summary>Opens (or creates) the buffer under <paramref name="directory"/>; <paramref name="recordLines"/> caps the lines in one record (the uplink's batch size).</summary>
    public static EdgeBuffer Open(string directory, BufferOptions options, int recordLines, TimeProvider? time = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(recordLines, 1);
        time ??= TimeProvider.System;
        logger ??= NullLogger.Instance;
        SegmentLog log = SegmentLog.Open(
            new SegmentLogOptions
            {
                Directory = directory,
                SegmentBytes = options.SegmentBytes,
                MaxTotalBytes = options.MaxBytes,
                FsyncPolicy = FsyncPolicy.Always,
                DeleteConsumedSegments = true,
            },
            time);
        var buffer = new EdgeBuffer(options, log, recordLines, time, logger);
        RecoveryReport recovery = log.Recovery;
        buffer.LastRecordTime = recovery.LastRecordTimestamp is long ns ? DateTimeOffset.UnixEpoch.AddTicks(ns / 100) : null;
        string cleanStop = Path.Combine(directory, CleanStopFile);
        buffer.UncleanStop = !File.Exists(cleanStop) && recovery.NextSequence > 0;
        File.Delete(cleanStop);
        DirectorySync.Flush(directory);
        if (!recovery.IsClean || buffer.UncleanStop)
        {
            EdgeLog.BufferRecovered(logger, recovery.BytesTruncated, recovery.Reason ?? "a torn tail", buffer.LastRecordTime?.ToString("O") ?? "none");
        }

        buffer._flusher = Task.Run(buffer.FlushLoopAsync);
        return buffer;
    }

    /// <summary>
    /// Adds one complete line (ending with '\n'). False when the buffer is full and the policy is
    /// <see cref="BufferOverflowPolicy.RefuseNew"/> (the line is counted in <see cref="Refused"/>); with
    /// <see cref="BufferOverflowPolicy.Block"/> it waits for room instead.
    /// </summary>
    public bool TryAdd(ReadOnlySpan<byte> line)
    {
        while (true)
        {
            Task room;
            lock (_lock)
            {
                if (!_full && _pending.WrittenCount + line.Length <= MaxPendingBytes)
                {
                    _pending.Write(line);
                    _pendingLines++;
                    if (_pendingLines >= _recordLines || _pending.WrittenCount >= _recordBytes)
                    {
                        SignalFlush();
                    }

                    return true;
                }

                // The disk is full: the overflow policy decides. Only memory is full (a burst faster than one flush):
                // the writer waits for the flush under way, whatever the policy, as the disk still has room.
                if ((_full && _options.Overflow == BufferOverflowPolicy.RefuseNew) || _stop.IsCancellationRequested)
                {
                    Interlocked.Increment(ref _refused);
                    return false;
                }

                room = _room.Task;
            }

            Interlocked.Increment(ref _blockedWaits);
            SignalFlush();
            room.Wait();
        }
    }

    /// <summary>Appends what is waiting now (tests, and shutdown), and completes when it is on disk or the buffer is full.</summary>
    public async Task FlushAsync(CancellationToken cancellationToken = default)
    {
        await FlushOnceAsync(cancellationToken);
    }

    /// <summary>Called by the uplink after it moved its cursor: the log may have room again.</summary>
    public void RoomMayHaveFreed()
    {
        if (Volatile.Read(ref _full))
        {
            SignalFlush();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_stop.IsCancellationRequested)
        {
            await _stop.CancelAsync();
            OpenRoom(ifNotFull: false);
            if (_flusher is not null)
            {
                await _flusher;
            }

            // What is still waiting goes to disk, when there is room.
            await FlushOnceAsync(CancellationToken.None);
            await _log.DisposeAsync();
            await File.WriteAllBytesAsync(Path.Combine(_log.DirectoryPath, CleanStopFile), []);
            DirectorySync.Flush(_log.DirectoryPath);
            _stop.Dispose();
        }
    }

    private async Task FlushLoopAsync()
    {
        CancellationToken stop = _stop.Token;
        while (!stop.IsCancellationRequested)
        {
            Task signal = Volatile.Read(ref _flushNow).Task;
            using (var tick = CancellationTokenSource.CreateLinkedTokenSource(stop))
            {
                Task delay = Task.Delay(_options.FlushInterval, _time, tick.Token);
                await Task.WhenAny(signal, delay);
                await tick.CancelAsync();
            }

            if (stop.IsCancellationRequested)
            {
                return;
            }

            if (signal.IsCompleted)
            {
                Interlocked.Exchange(ref _flushNow, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
            }

            try
            {
                await FlushOnceAsync(stop);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (IOException e)
            {
                // The log stopped after an I/O failure: nothing more can be made durable; the agent reports it.
                EdgeLog.BufferFailed(_logger, e);
                return;
            }
        }
    }

    private async Task FlushOnceAsync(CancellationToken cancellationToken)
    {
        await _flushGate.WaitAsync(CancellationToken.None);
        try
        {
            ArrayBufferWriter<byte> batch;
            int lines;
            lock (_lock)
            {
                if (_pending.WrittenCount == 0)
                {
                    return;
                }

                batch = _pending;
                lines = _pendingLines;
                _pending = _spare;
                _pendingLines = 0;
            }

            // Writers fill the other buffer meanwhile: memory room is there again at once (unless the disk is full).
            OpenRoom(ifNotFull: true);

            // Whole lines, at most a record's worth per record, in order; on a full disk the rest goes back in front.
            int offset = 0;
            while (offset < batch.WrittenCount)
            {
                (ReadOnlyMemory<byte> record, int recordLines) = TakeRecord(batch.WrittenMemory[offset..], lines);
                LogAppendResult result = await _log.AppendAsync(record, CancellationToken.None);
                if (!result.IsAppended)
                {
                    PutBack(batch.WrittenSpan[offset..], lines);
                    MarkFull();
                    break;
                }

                Interlocked.Increment(ref _records);
                Interlocked.Add(ref _lines, recordLines);
                offset += record.Length;
                lines -= recordLines;
            }

            batch.ResetWrittenCount();
            lock (_lock)
            {
                _spare = batch;
            }

            if (offset > 0)
            {
                OpenRoom(ifNotFull: false);
            }

            cancellationToken.ThrowIfCancellationRequested();
        }
        finally
        {
            _flushGate.Release();
        }
    }

    private (ReadOnlyMemory<byte> Record, int Lines) TakeRecord(ReadOnlyMemory<byte> data, int lines)
    {
        if (lines <= _recordLines && data.Length <= _recordBytes)
        {
            return (data, lines);
        }

        ReadOnlySpan<byte> span = data.Span;
        int end = 0;
        int taken = 0;
        while (taken < _recordLines)
        {
            int next = span[end..].IndexOf((byte)'\n');
            if (next < 0 || end + next + 1 > _recordBytes && taken > 0)
            {
                break;
            }

            end += next + 1;
            taken++;
        }

        return (data[..end], taken);
    }

    // Lines that could not be appended go back in front of what arrived meanwhile, so order is kept.
    private void PutBack(ReadOnlySpan<byte> data, int lines)
    {
        lock (_lock)
        {
            var merged = new ArrayBufferWriter<byte>(Math.Max(64 * 1024, data.Length + _pending.WrittenCount));
            merged.Write(data);
            merged.Write(_pending.WrittenSpan);
            _pending = merged;
            _pendingLines += lines;
        }
    }

    private void MarkFull()
    {
        lock (_lock)
        {
            if (!_full)
            {
                _full = true;
                EdgeLog.BufferFull(_logger, _options.MaxBytes, _options.Overflow);
            }
        }
    }

    // Wakes writers waiting for room. After records reached the disk, the disk has room too (ifNotFull false clears
    // the full state); after a swap of the memory buffers only memory has room (ifNotFull true keeps it).
    private void OpenRoom(bool ifNotFull)
    {
        TaskCompletionSource room;
        lock (_lock)
        {
            if (ifNotFull && _full)
            {
                return;
            }

            if (_full)
            {
                _full = false;
                EdgeLog.BufferHasRoom(_logger, _refused);
            }

            room = _room;
            _room = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        room.TrySetResult();
    }

    private void SignalFlush() => Volatile.Read(ref _flushNow).TrySetResult();
}
