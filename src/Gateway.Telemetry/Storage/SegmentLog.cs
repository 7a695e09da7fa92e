using System.Buffers;
using System.Threading.Channels;
using Microsoft.Win32.SafeHandles;

namespace FactoryGateway.Telemetry.Storage;

/// <summary>
/// An append-only log of records in segment files: the ingest's write-ahead log and the edge agent's
/// disk buffer. The on-disk format is described on <c>LogFormat</c> and in docs/architecture.md.
/// <list type="bullet">
/// <item>Appends are group-committed: a single writer takes every queued append (up to
/// <see cref="SegmentLogOptions.MaxBatchBytes"/>), writes them with one write per segment, fsyncs once,
/// and only then completes each with its position.</item>
/// <item>Readers see durable records only, every one CRC-checked.</item>
/// <item>Named cursors are persisted atomically and pin the log: whole segments are deleted only behind
/// the slowest cursor.</item>
/// <item><see cref="Open"/> recovers a torn tail and reports it in <see cref="Recovery"/>.</item>
/// </list>
/// One process opens a log directory at a time (a lock file enforces it).
/// </summary>
public sealed partial class SegmentLog : IAsyncDisposable
{
    private const int InitialStagingBytes = 64 * 1024;

    private readonly string _directory;
    private readonly long _segmentBytes;
    private readonly long _maxTotalBytes;
    private readonly int _maxBatchBytes;
    private readonly bool _fsync;
    private readonly bool _deleteConsumedSegments;
    private readonly TimeProvider _time;
    private readonly SafeFileHandle _lockFile;
    private readonly Channel<AppendRequest> _queue;
    private readonly AppendRequestPool _requests;
    private readonly List<AppendRequest> _batch = [];
    private readonly Lock _segmentsLock = new();
    private readonly Task _writer;

    // Replaced whole (copy on write) under _segmentsLock; readers take a snapshot without the lock.
    private Segment[] _segments;

    // Owned by the writer loop.
    private Segment _active;
    private long _nextSequence;
    private byte[] _staging = new byte[InitialStagingBytes];

    // Published by the writer after each commit (and read lock-free): readers see data before _durableEnd.
    private long _durableEnd;
    private long _durableNextSequence;
    private TaskCompletionSource _appended = NewSignal();

    private long _bytesOnDisk;
    private long _appends;
    private long _appendedBytes;
    private long _commits;
    private long _fsyncs;
    private long _fullRejections;
    private long _segmentsDeleted;

    private volatile Exception? _fault;
    private int _disposing;
    private volatile bool _closed;

    private SegmentLog(SegmentLogOptions options, string directory, TimeProvider time, SafeFileHandle lockFile, Recovered recovered)
    {
        _directory = directory;
        _segmentBytes = options.SegmentBytes;
        _maxTotalBytes = options.MaxTotalBytes;
        _maxBatchBytes = options.MaxBatchBytes;
        _fsync = options.FsyncPolicy == FsyncPolicy.Always;
        _deleteConsumedSegments = options.DeleteConsumedSegments;
        _time = time;
        _lockFile = lockFile;
        _segments = recovered.Segments;
        _active = recovered.Segments[^1];
        _nextSequence = recovered.Report.NextSequence;
        _durableNextSequence = _nextSequence;
        _durableEnd = _active.BasePosition + _active.Length;
        _bytesOnDisk = recovered.BytesOnDisk;
        _fsyncs = recovered.Fsyncs;
        _cursors = recovered.Cursors;
        Recovery = recovered.Report;
        MaxPayloadBytes = (int)(_segmentBytes - LogFormat.SegmentHeaderSize - LogFormat.RecordHeaderSize);

        _requests = new AppendRequestPool(options.AppendQueueCapacity);
        _queue = Channel.CreateBounded<AppendRequest>(new BoundedChannelOptions(options.AppendQueueCapacity)
        {
            // The named overflow policy: a full queue makes appenders wait (asynchronously, cancellably).
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = true,
            SingleWriter = false,
            AllowSynchronousContinuations = false,
        });
        _writer = Task.Run(RunWriterAsync);
    }

    /// <summary>What the open found and repaired.</summary>
    public RecoveryReport Recovery { get; }

    /// <summary>The full path of the log's directory.</summary>
    public string DirectoryPath => _directory;

    /// <summary>
    /// The largest payload a record can hold: <see cref="SegmentLogOptions.SegmentBytes"/> minus the segment
    /// and record headers. A record never spans segments; a larger payload is rejected.
    /// </summary>
    public int MaxPayloadBytes { get; }

    /// <summary>The disk bound over all segment files (<see cref="SegmentLogOptions.MaxTotalBytes"/>).</summary>
    public long MaxTotalBytes => _maxTotalBytes;

    /// <summary>The first position still on disk.</summary>
    public long HeadPosition => Volatile.Read(ref _segments)[0].BasePosition;

    /// <summary>The end of the durable data; readers see every record before it.</summary>
    public long TailPosition => Volatile.Read(ref _durableEnd);

    /// <summary>
    /// Appends one record. Completes once the record is durable (per <see cref="SegmentLogOptions.FsyncPolicy"/>),
    /// with its position, or with <see cref="LogAppendStatus.Full"/> when the disk bound leaves no room.
    /// The payload must stay unchanged until the returned task completes. The token cancels only the wait
    /// for room in the append queue; once queued, an append runs to completion.
    /// </summary>
    /// <exception cref="ArgumentException">The payload is larger than <see cref="MaxPayloadBytes"/>.</exception>
    /// <exception cref="ObjectDisposedException">The log is closed.</exception>
    /// <exception cref="IOException">The log stopped after an I/O failure; reopen it to recover.</exception>
    public ValueTask<LogAppendResult> AppendAsync(ReadOnlyMemory<byte> payload, CancellationToken cancellationToken = default) =>
        AppendAsync(new ReadOnlySequence<byte>(payload), cancellationToken);

    /// <inheritdoc cref="AppendAsync(ReadOnlyMemory{byte}, CancellationToken)"/>
    public ValueTask<LogAppendResult> AppendAsync(ReadOnlySequence<byte> payload, CancellationToken cancellationToken = default)
    {
        if (payload.Length > MaxPayloadBytes)
        {
            throw new ArgumentException(
                $"A {payload.Length}-byte payload exceeds the segment log's limit of {MaxPayloadBytes} bytes (SegmentLogOptions.SegmentBytes {_segmentBytes} minus {LogFormat.SegmentHeaderSize + LogFormat.RecordHeaderSize} bytes of headers); a record never spans segments.",
                nameof(payload));
        }

        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<LogAppendResult>(cancellationToken);
        }

        AppendRequest request = _requests.Rent();
        request.Payload = payload;
        if (_queue.Writer.TryWrite(request))
        {
            return request.AsValueTask();
        }

        return AppendWhenQueueHasRoomAsync(request, cancellationToken);
    }

    private async ValueTask<LogAppendResult> AppendWhenQueueHasRoomAsync(AppendRequest request, CancellationToken cancellationToken)
    {
        try
        {
            await _queue.Writer.WriteAsync(request, cancellationToken);
        }
        catch (ChannelClosedException)
        {
            request.Payload = default;
            _requests.Return(request);
            throw Stopped();
        }
        catch (OperationCanceledException)
        {
            request.Payload = default;
            _requests.Return(request);
            throw;
        }

        return await request.AsValueTask();
    }

    /// <summary>
    /// Completes with true when durable data exists beyond <paramref name="position"/> (that is, when
    /// <see cref="TailPosition"/> &gt; position), or with false when the log closes first.
    /// </summary>
    public async Task<bool> WaitForAppendAsync(long position, CancellationToken cancellationToken = default)
    {
        while (true)
        {
            // Take the signal before checking the tail: every commit publishes the tail first, then replaces
            // the signal and completes the old one, so a tail this check misses completes this signal.
            Task signal = Volatile.Read(ref _appended).Task;
            if (Volatile.Read(ref _durableEnd) > position)
            {
                return true;
            }

            if (_closed)
            {
                return false;
            }

            await signal.WaitAsync(cancellationToken);
        }
    }

    public SegmentLogStats GetStats()
    {
        Segment[] segments = Volatile.Read(ref _segments);
        return new SegmentLogStats(
            BytesOnDisk: Interlocked.Read(ref _bytesOnDisk),
            Segments: segments.Length,
            HeadPosition: segments[0].BasePosition,
            TailPosition: Volatile.Read(ref _durableEnd),
            NextSequence: Volatile.Read(ref _durableNextSequence),
            Appends: Interlocked.Read(ref _appends),
            AppendedBytes: Interlocked.Read(ref _appendedBytes),
            Commits: Interlocked.Read(ref _commits),
            Fsyncs: Interlocked.Read(ref _fsyncs),
            FullRejections: Interlocked.Read(ref _fullRejections),
            SegmentsDeleted: Interlocked.Read(ref _segmentsDeleted));
    }

    /// <summary>
    /// Closes the log: queued appends are still written and completed, later ones throw
    /// <see cref="ObjectDisposedException"/>, waiters get false, and the files are closed.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposing, 1) != 0)
        {
            return;
        }

        _queue.Writer.TryComplete();
        await _writer;
        _closed = true;
        Interlocked.Exchange(ref _appended, NewSignal()).TrySetResult();
        lock (_segmentsLock)
        {
            foreach (Segment segment in _segments)
            {
                segment.Handle.Dispose();
            }
        }

        _lockFile.Dispose();
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private Exception Stopped() =>
        _fault is { } fault
            ? new IOException($"The segment log in {_directory} stopped after an I/O failure ({fault.Message}); reopen it to recover.", fault)
            : new ObjectDisposedException(nameof(SegmentLog));

    // The single writer: drains the queue into batches and group-commits each.
    private async Task RunWriterAsync()
    {
        ChannelReader<AppendRequest> queue = _queue.Reader;
        while (await queue.WaitToReadAsync())
        {
            long batchBytes = 0;
            while (batchBytes < _maxBatchBytes && queue.TryRead(out AppendRequest? request))
            {
                _batch.Add(request);
                batchBytes += request.Payload.Length;
            }

            if (_fault is null)
            {
                try
                {
                    Commit(_batch);
                }
                catch (Exception ex)
                {
                    // After a failed write or fsync the file's state is unknown (the kernel may have dropped
                    // the dirty pages), so the log stops rather than retry; the next open recovers the tail.
                    // Any other failure stops it too: a writer that died silently would leave appends hanging.
                    _fault = ex;
                    _queue.Writer.TryComplete();
                }
            }

            if (_fault is not null)
            {
                foreach (AppendRequest request in _batch)
                {
                    request.Fail(Stopped());
                }
            }

            _batch.Clear();
        }
    }

    private void Commit(List<AppendRequest> batch)
    {
        long timestamp = LogFormat.ToUnixNanoseconds(_time.GetUtcNow());
        int staged = 0;
        int appended = 0;
        int full = 0;
        long payloadBytes = 0;

        foreach (AppendRequest request in batch)
        {
            int payloadLength = (int)request.Payload.Length;
            int recordSize = LogFormat.RecordHeaderSize + payloadLength;
            bool rotate = _active.Length + staged + recordSize > _segmentBytes;
            long needed = recordSize + (rotate ? LogFormat.SegmentHeaderSize : 0);
            if (Interlocked.Read(ref _bytesOnDisk) + staged + needed > _maxTotalBytes)
            {
                request.Result = LogAppendResult.Full;
                full++;
                continue;
            }

            if (rotate)
            {
                // The old segment is made complete and durable before the new one exists, so after a crash
                // only the newest segment can be torn.
                WriteStaged(ref staged);
                FsyncActive();
                Rotate();
            }

            EnsureStaging(staged + recordSize);
            Span<byte> record = _staging.AsSpan(staged, recordSize);
            request.Payload.CopyTo(record[LogFormat.RecordHeaderSize..]);
            LogFormat.SealRecord(record, _nextSequence, timestamp);
            request.Result = LogAppendResult.Appended(_active.BasePosition + _active.Length + staged, _nextSequence);
            _nextSequence++;
            staged += recordSize;
            appended++;
            payloadBytes += payloadLength;
        }

        if (appended > 0)
        {
            WriteStaged(ref staged);
            FsyncActive();
            Interlocked.Increment(ref _commits);
            Interlocked.Add(ref _appends, appended);
            Interlocked.Add(ref _appendedBytes, payloadBytes);
            Volatile.Write(ref _durableNextSequence, _nextSequence);
            Volatile.Write(ref _durableEnd, _active.BasePosition + _active.Length);
        }

        if (full > 0)
        {
            Interlocked.Add(ref _fullRejections, full);
        }

        // A record far above the batch size grew the staging buffer; do not hold on to it.
        if (_staging.Length > 2L * Math.Max(_maxBatchBytes, InitialStagingBytes))
        {
            _staging = new byte[InitialStagingBytes];
        }

        // Last touch of each request: after Complete it may already be back in the pool.
        foreach (AppendRequest request in batch)
        {
            request.Complete();
        }

        // One small allocation per commit (not per append); skipping it when nobody waits saves ~100 bytes
        // at the price of a subtle handshake in the wake-up path, which is not worth it.
        if (appended > 0)
        {
            Interlocked.Exchange(ref _appended, NewSignal()).TrySetResult();
        }
    }

    private void WriteStaged(ref int staged)
    {
        if (staged == 0)
        {
            return;
        }

        RandomAccess.Write(_active.Handle, _staging.AsSpan(0, staged), _active.Length);
        _active.Length += staged;
        Interlocked.Add(ref _bytesOnDisk, staged);
        staged = 0;
    }

    private void FsyncActive()
    {
        if (_fsync)
        {
            RandomAccess.FlushToDisk(_active.Handle);
            Interlocked.Increment(ref _fsyncs);
        }
    }

    private void Rotate()
    {
        Segment segment = Segment.Create(_directory, _active.BasePosition + _active.Length, _nextSequence, _fsync);
        if (_fsync)
        {
            Interlocked.Add(ref _fsyncs, 2);
        }

        Interlocked.Add(ref _bytesOnDisk, segment.Length);
        lock (_segmentsLock)
        {
            _segments = [.. _segments, segment];
        }

        _active = segment;
    }

    private void EnsureStaging(int bytes)
    {
        if (bytes > _staging.Length)
        {
            Array.Resize(ref _staging, (int)Math.Min(Array.MaxLength, Math.Max(bytes, 2L * _staging.Length)));
        }
    }
}
