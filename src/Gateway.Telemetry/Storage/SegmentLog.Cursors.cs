using System.Buffers;
using Microsoft.Win32.SafeHandles;

namespace FactoryGateway.Telemetry.Storage;

public sealed partial class SegmentLog
{
    private const int MaxCursorNameLength = 64;

    // Cursor names become file names: lowercase so they cannot collide on a case-insensitive file system.
    private static readonly SearchValues<char> s_cursorNameChars = SearchValues.Create("abcdefghijklmnopqrstuvwxyz0123456789-_");

    // Guards _cursors, cursor files and segment deletion (which depends on the cursors).
    private readonly Lock _cursorLock = new();
    private readonly Dictionary<string, long> _cursors;

    /// <summary>
    /// Returns the named cursor's persisted position, creating it at <see cref="HeadPosition"/> when it does not
    /// exist. From then on the cursor pins the log (see <see cref="ILogConsumer"/>).
    /// </summary>
    public long RegisterCursor(string name)
    {
        CheckCursorName(name);
        lock (_cursorLock)
        {
            ObjectDisposedException.ThrowIf(_closed, this);
            if (_cursors.TryGetValue(name, out long position))
            {
                return position;
            }

            position = HeadPosition;
            PersistCursor(_directory, name, position);
            Interlocked.Add(ref _fsyncs, 2);
            _cursors[name] = position;
            return position;
        }
    }

    /// <summary>
    /// Moves (or creates) the named cursor and persists it atomically: temp file, fsync, rename over the
    /// old file, fsync the directory. Then, with <see cref="SegmentLogOptions.DeleteConsumedSegments"/>,
    /// deletes the whole segments behind the slowest cursor. <paramref name="position"/> must lie between
    /// <see cref="HeadPosition"/> and <see cref="TailPosition"/> and should be a record boundary (a
    /// <see cref="LogReadBatch.NextPosition"/> or a record's position); moving a cursor backwards is allowed.
    /// </summary>
    public void SetCursor(string name, long position)
    {
        CheckCursorName(name);
        lock (_cursorLock)
        {
            ObjectDisposedException.ThrowIf(_closed, this);
            long head = HeadPosition;
            long tail = TailPosition;
            if (position < head || position > tail)
            {
                throw new ArgumentOutOfRangeException(nameof(position), position, $"Cursor '{name}' must lie between the head {head} and the durable tail {tail}.");
            }

            PersistCursor(_directory, name, position);
            Interlocked.Add(ref _fsyncs, 2);
            _cursors[name] = position;
            if (_deleteConsumedSegments)
            {
                DeleteSegmentsBefore(MinimumCursor());
            }
        }
    }

    /// <summary>The named cursor's position, or null when no such cursor is registered.</summary>
    public long? GetCursor(string name)
    {
        CheckCursorName(name);
        lock (_cursorLock)
        {
            return _cursors.TryGetValue(name, out long position) ? position : null;
        }
    }

    /// <summary>A snapshot of every registered cursor.</summary>
    public IReadOnlyDictionary<string, long> GetCursors()
    {
        lock (_cursorLock)
        {
            return new Dictionary<string, long>(_cursors);
        }
    }

    /// <summary>Unregisters a cursor (deletes its file) so that it no longer pins the log. Returns false when it did not exist.</summary>
    public bool RemoveCursor(string name)
    {
        CheckCursorName(name);
        lock (_cursorLock)
        {
            ObjectDisposedException.ThrowIf(_closed, this);
            if (!_cursors.Remove(name))
            {
                return false;
            }

            File.Delete(CursorPath(_directory, name));
            if (_fsync)
            {
                DirectorySync.Flush(_directory);
                Interlocked.Increment(ref _fsyncs);
            }

            if (_deleteConsumedSegments && _cursors.Count > 0)
            {
                DeleteSegmentsBefore(MinimumCursor());
            }

            return true;
        }
    }

    /// <summary>
    /// Deletes the whole segments that lie entirely before <paramref name="position"/> and before every
    /// registered cursor. The active segment is never deleted.
    /// </summary>
    public LogTruncation TruncateBefore(long position)
    {
        lock (_cursorLock)
        {
            ObjectDisposedException.ThrowIf(_closed, this);
            return DeleteSegmentsBefore(Math.Min(position, MinimumCursor()));
        }
    }

    /// <summary>
    /// Runs <paramref name="consumer"/> until the log closes (returns) or <paramref name="cancellationToken"/>
    /// fires (throws <see cref="OperationCanceledException"/>): registers its cursor, then repeatedly reads a
    /// batch from the cursor, hands it to the consumer, and persists the cursor past it; when caught up it
    /// waits for the next append. Exceptions from the consumer stop the loop with the cursor unmoved.
    /// </summary>
    public async Task RunConsumerAsync(ILogConsumer consumer, int maxRecords, int maxBytes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(consumer);
        long from = RegisterCursor(consumer.Name);
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            LogReadBatch batch;
            try
            {
                batch = ReadBatch(from, maxRecords, maxBytes);
            }
            catch (ObjectDisposedException) when (_closed)
            {
                return;
            }

            using (batch)
            {
                if (batch.Count > 0)
                {
                    await consumer.ConsumeAsync(batch, cancellationToken);
                    SetCursor(consumer.Name, batch.NextPosition);
                    from = batch.NextPosition;
                    continue;
                }

                from = batch.NextPosition;
            }

            if (!await WaitForAppendAsync(from, cancellationToken))
            {
                return;
            }
        }
    }

    private long MinimumCursor()
    {
        long minimum = long.MaxValue;
        foreach (long position in _cursors.Values)
        {
            minimum = Math.Min(minimum, position);
        }

        return minimum;
    }

    // Caller holds _cursorLock.
    private LogTruncation DeleteSegmentsBefore(long limit)
    {
        Segment[] doomed;
        long head;
        lock (_segmentsLock)
        {
            Segment[] segments = _segments;
            int count = 0;
            // A segment lies wholly before `limit` when the next one begins at or before it.
            while (count < segments.Length - 1 && segments[count + 1].BasePosition <= limit)
            {
                count++;
            }

            head = segments[count].BasePosition;
            if (count == 0)
            {
                return new LogTruncation(0, 0, head);
            }

            doomed = segments[..count];
            _segments = segments[count..];
        }

        long bytes = 0;
        foreach (Segment segment in doomed)
        {
            bytes += segment.Length;
            File.Delete(segment.Path);
            segment.Handle.Dispose();
        }

        Interlocked.Add(ref _bytesOnDisk, -bytes);
        Interlocked.Add(ref _segmentsDeleted, doomed.Length);
        if (_fsync)
        {
            DirectorySync.Flush(_directory);
            Interlocked.Increment(ref _fsyncs);
        }

        return new LogTruncation(doomed.Length, bytes, head);
    }

    private static void CheckCursorName(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (name.Length is 0 or > MaxCursorNameLength || name.AsSpan().ContainsAnyExcept(s_cursorNameChars))
        {
            throw new ArgumentException(
                $"Cursor name '{name}' is invalid: use 1 to {MaxCursorNameLength} lowercase letters, digits, '-' and '_'.", nameof(name));
        }
    }

    private static string CursorPath(string directory, string name) => Path.Combine(directory, name + LogFormat.CursorExtension);

    private static void PersistCursor(string directory, string name, long position)
    {
        string path = CursorPath(directory, name);
        string temp = path + LogFormat.TempExtension;
        Span<byte> content = stackalloc byte[LogFormat.CursorFileSize];
        LogFormat.WriteCursor(content, position);
        using (SafeFileHandle handle = File.OpenHandle(temp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            RandomAccess.Write(handle, content, 0);
            RandomAccess.FlushToDisk(handle);
        }

        File.Move(temp, path, overwrite: true); // rename(2): the old or the new cursor, never a mix
        DirectorySync.Flush(directory);
    }

    private static Dictionary<string, long> LoadCursors(string directory)
    {
        var cursors = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (string path in Directory.EnumerateFiles(directory, "*" + LogFormat.CursorExtension))
        {
            string name = Path.GetFileNameWithoutExtension(path);
            if (name.Length is 0 or > MaxCursorNameLength || name.AsSpan().ContainsAnyExcept(s_cursorNameChars))
            {
                continue; // not a file this log wrote
            }

            if (LogFormat.CheckCursor(File.ReadAllBytes(path), out long position) is { } problem)
            {
                throw new SegmentLogCorruptException(path, -1, problem);
            }

            cursors[name] = position;
        }

        return cursors;
    }
}
