using Microsoft.Win32.SafeHandles;

namespace FactoryGateway.Telemetry.Storage;

public sealed partial class SegmentLog
{
    /// <summary>
    /// Opens (or creates) the log in <see cref="SegmentLogOptions.Directory"/> and recovers it:
    /// <list type="number">
    /// <item>A tail segment shorter than its header with no valid header (its creation was cut short; it
    /// cannot hold an acknowledged record) is removed.</item>
    /// <item>Every sealed segment's header and length are checked (contiguous positions, ascending
    /// sequence numbers), and with <see cref="SegmentLogOptions.VerifyAllSegmentsOnOpen"/> every record.
    /// A failure throws <see cref="SegmentLogCorruptException"/>: only the tail can be torn by a crash.</item>
    /// <item>The tail segment is scanned from its start; every record's length, CRC and sequence number is
    /// checked, and the file is cut (and fsynced) at the end of the last valid record.</item>
    /// </list>
    /// What was cut, where and why is in <see cref="Recovery"/>.
    /// </summary>
    /// <exception cref="ArgumentException">An option is invalid.</exception>
    /// <exception cref="SegmentLogCorruptException">A sealed segment or a cursor file is damaged.</exception>
    /// <exception cref="IOException">The directory is already open (in this or another process), or I/O failed.</exception>
    public static SegmentLog Open(SegmentLogOptions options, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        string directory = Path.GetFullPath(options.Directory);
        long fsyncs = CreateDirectoryDurably(directory, options.FsyncPolicy == FsyncPolicy.Always);
        SafeFileHandle lockFile = AcquireLock(directory);
        try
        {
            Recovered recovered = Recover(directory, options, fsyncs);
            return new SegmentLog(options, directory, time ?? TimeProvider.System, lockFile, recovered);
        }
        catch
        {
            lockFile.Dispose();
            throw;
        }
    }

    // A new directory's entry is durable only once its parent is fsynced: without that, a power loss could
    // take a fresh log directory, acknowledged records and all. Returns the fsyncs made.
    private static long CreateDirectoryDurably(string directory, bool fsync)
    {
        var created = new List<string>();
        for (string? missing = directory; missing is not null && !Directory.Exists(missing); missing = Path.GetDirectoryName(missing))
        {
            created.Add(missing);
        }

        Directory.CreateDirectory(directory);
        if (!fsync)
        {
            return 0;
        }

        foreach (string made in created)
        {
            DirectorySync.Flush(Path.GetDirectoryName(made)!);
        }

        return created.Count;
    }

    private static SafeFileHandle AcquireLock(string directory)
    {
        string path = Path.Combine(directory, LogFormat.LockFileName);
        try
        {
            // FileShare.None is an exclusive advisory lock (flock) on Unix and a share lock on Windows.
            return File.OpenHandle(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException ex)
        {
            throw new IOException($"The segment log in {directory} is already open (by this or another process): {path} is locked.", ex);
        }
    }

    private static Recovered Recover(string directory, SegmentLogOptions options, long fsyncs)
    {
        bool fsync = options.FsyncPolicy == FsyncPolicy.Always;

        // Cursor writes interrupted before their rename.
        foreach (string temp in Directory.EnumerateFiles(directory, "*" + LogFormat.CursorExtension + LogFormat.TempExtension))
        {
            File.Delete(temp);
        }

        Dictionary<string, long> cursors = LoadCursors(directory);

        var found = new List<(long BasePosition, string Path)>();
        foreach (string path in Directory.EnumerateFiles(directory, "*" + LogFormat.SegmentExtension))
        {
            if (LogFormat.TryParseSegmentFileName(Path.GetFileName(path), out long basePosition))
            {
                found.Add((basePosition, path));
            }
        }

        found.Sort((a, b) => a.BasePosition.CompareTo(b.BasePosition));

        var segments = new List<Segment>(found.Count + 1);
        var reasons = new List<string>();
        long bytesTruncated = 0;
        long? truncatedAt = null;
        try
        {
            foreach ((long basePosition, string path) in found)
            {
                segments.Add(Segment.OpenExisting(path, basePosition));
            }

            // 1. A tail segment whose creation was cut short. Its header is fsynced before any record goes
            // in, so one no longer than a header and without a valid header holds nothing acknowledged.
            while (segments.Count > 0 && segments[^1].Length <= LogFormat.SegmentHeaderSize && segments[^1].CheckHeader() is { } problem)
            {
                Segment torn = segments[^1];
                if (segments.Count == 1 && torn.BasePosition != 0)
                {
                    throw Corrupt(torn, torn.BasePosition, $"the only segment's header is torn ({problem}), so the log's sequence numbers cannot be recovered");
                }

                reasons.Add($"torn segment header in {torn.FileName} ({torn.Length} bytes: {problem}); segment removed");
                bytesTruncated += torn.Length;
                truncatedAt = torn.BasePosition;
                torn.Handle.Dispose();
                File.Delete(torn.Path);
                segments.RemoveAt(segments.Count - 1);
                if (fsync)
                {
                    DirectorySync.Flush(directory);
                    fsyncs++;
                }
            }

            if (segments.Count == 0)
            {
                segments.Add(Segment.Create(directory, 0, 0, fsync));
                fsyncs += fsync ? 2 : 0;
            }

            // 2. Headers of all segments; lengths and (optionally) records of the sealed ones.
            for (int i = 0; i < segments.Count; i++)
            {
                Segment segment = segments[i];
                if (segment.CheckHeader() is { } problem)
                {
                    throw Corrupt(segment, segment.BasePosition, problem);
                }

                if (i > 0)
                {
                    CheckSealed(segments[i - 1], segment, options.VerifyAllSegmentsOnOpen);
                }
            }

            // 3. The tail.
            Segment tail = segments[^1];
            ScanResult scan = SegmentScanner.Scan(tail);
            if (scan.Failure is not null)
            {
                long cut = tail.Length - scan.ValidLength;
                RandomAccess.SetLength(tail.Handle, scan.ValidLength);
                RandomAccess.FlushToDisk(tail.Handle);
                fsyncs++;
                tail.Length = scan.ValidLength;
                bytesTruncated += cut;
                truncatedAt = tail.BasePosition + scan.ValidLength;
                reasons.Insert(0, $"{scan.Failure}; {cut} bytes truncated from {tail.FileName}");
            }

            long tailPosition = tail.BasePosition + tail.Length;
            var rewound = new List<string>();
            foreach ((string name, long position) in cursors)
            {
                if (position > tailPosition)
                {
                    rewound.Add(name);
                }
            }

            foreach (string name in rewound)
            {
                PersistCursor(directory, name, tailPosition);
                fsyncs += 2;
                cursors[name] = tailPosition;
            }

            long bytesOnDisk = 0;
            foreach (Segment segment in segments)
            {
                bytesOnDisk += segment.Length;
            }

            var report = new RecoveryReport
            {
                SegmentsFound = found.Count,
                TailSegmentRecords = scan.Records,
                BytesTruncated = bytesTruncated,
                TruncatedAt = truncatedAt,
                Reason = reasons.Count == 0 ? null : string.Join("; ", reasons),
                HeadPosition = segments[0].BasePosition,
                TailPosition = tailPosition,
                NextSequence = scan.NextSequence,
                LastRecordTimestamp = scan.LastTimestamp,
                CursorsRewound = rewound,
            };
            return new Recovered([.. segments], cursors, report, bytesOnDisk, fsyncs);
        }
        catch
        {
            foreach (Segment segment in segments)
            {
                segment.Handle.Dispose();
            }

            throw;
        }
    }

    // A sealed segment must end exactly where the next begins; its records are checked when asked to.
    private static void CheckSealed(Segment sealedSegment, Segment next, bool verifyRecords)
    {
        long end = sealedSegment.BasePosition + sealedSegment.Length;
        if (end != next.BasePosition)
        {
            throw Corrupt(sealedSegment, Math.Min(end, next.BasePosition),
                $"sealed segment ends at position {end} but the next segment {next.FileName} begins at {next.BasePosition}; it was cut short, extended or overwritten");
        }

        if (next.BaseSequence < sealedSegment.BaseSequence)
        {
            throw Corrupt(next, next.BasePosition,
                $"base sequence number {next.BaseSequence} is below the previous segment's {sealedSegment.BaseSequence}");
        }

        if (!verifyRecords)
        {
            return;
        }

        ScanResult scan = SegmentScanner.Scan(sealedSegment);
        if (scan.Failure is not null)
        {
            throw Corrupt(sealedSegment, sealedSegment.BasePosition + scan.ValidLength, $"sealed segment: {scan.Failure}");
        }

        if (scan.NextSequence != next.BaseSequence)
        {
            throw Corrupt(next, next.BasePosition,
                $"base sequence number {next.BaseSequence} does not follow the previous segment's last record ({scan.NextSequence - 1})");
        }
    }

    private static SegmentLogCorruptException Corrupt(Segment segment, long position, string reason) => new(segment.Path, position, reason);

    private sealed record Recovered(Segment[] Segments, Dictionary<string, long> Cursors, RecoveryReport Report, long BytesOnDisk, long Fsyncs);
}
