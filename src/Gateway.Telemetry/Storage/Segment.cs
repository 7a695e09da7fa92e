using Microsoft.Win32.SafeHandles;

namespace FactoryGateway.Telemetry.Storage;

/// <summary>
/// One segment file and its open handle. The handle stays open while the segment exists: readers use it
/// with positional reads (thread-safe), the writer appends through it while the segment is active.
/// </summary>
internal sealed class Segment
{
    // Others may read (tools, backups); Delete lets a consumed segment be deleted while open (Windows).
    private const FileShare SegmentSharing = FileShare.Read | FileShare.Delete;

    private Segment(string path, long basePosition, long baseSequence, SafeFileHandle handle, long length)
    {
        Path = path;
        BasePosition = basePosition;
        BaseSequence = baseSequence;
        Handle = handle;
        Length = length;
    }

    public string Path { get; }

    public string FileName => System.IO.Path.GetFileName(Path);

    public long BasePosition { get; }

    /// <summary>From the header; set for existing segments once the header has been checked.</summary>
    public long BaseSequence { get; private set; }

    public SafeFileHandle Handle { get; }

    /// <summary>
    /// The file length. Owned by the writer while the segment is active; final once a newer segment exists
    /// (and then equal to the newer segment's base position minus this one's).
    /// </summary>
    public long Length { get; set; }

    /// <summary>
    /// Creates a segment file with its header. With <paramref name="durable"/>, the header is fsynced and
    /// then the directory, so the segment exists after a crash before any record is written into it
    /// (two fsyncs).
    /// </summary>
    public static Segment Create(string directory, long basePosition, long baseSequence, bool durable)
    {
        string path = System.IO.Path.Combine(directory, LogFormat.SegmentFileName(basePosition));
        SafeFileHandle handle = File.OpenHandle(path, FileMode.CreateNew, FileAccess.ReadWrite, SegmentSharing);
        try
        {
            Span<byte> header = stackalloc byte[LogFormat.SegmentHeaderSize];
            LogFormat.WriteSegmentHeader(header, basePosition, baseSequence);
            RandomAccess.Write(handle, header, 0);
            if (durable)
            {
                RandomAccess.FlushToDisk(handle);
                DirectorySync.Flush(directory);
            }

            return new Segment(path, basePosition, baseSequence, handle, LogFormat.SegmentHeaderSize);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>Opens an existing segment file; its header is not checked yet (see <see cref="CheckHeader"/>).</summary>
    public static Segment OpenExisting(string path, long basePosition)
    {
        SafeFileHandle handle = File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite, SegmentSharing);
        try
        {
            return new Segment(path, basePosition, baseSequence: -1, handle, RandomAccess.GetLength(handle));
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>Reads and checks the header; on success sets <see cref="BaseSequence"/>. Returns null or the reason.</summary>
    public string? CheckHeader()
    {
        Span<byte> header = stackalloc byte[LogFormat.SegmentHeaderSize];
        int read = ReadAtMost(Handle, header, 0);
        string? problem = LogFormat.CheckSegmentHeader(header[..read], BasePosition, out long baseSequence);
        if (problem is null)
        {
            BaseSequence = baseSequence;
        }

        return problem;
    }

    /// <summary>Reads until <paramref name="buffer"/> is full or the file ends; returns the bytes read.</summary>
    public static int ReadAtMost(SafeFileHandle handle, Span<byte> buffer, long fileOffset)
    {
        int total = 0;
        while (total < buffer.Length)
        {
            int read = RandomAccess.Read(handle, buffer[total..], fileOffset + total);
            if (read == 0)
            {
                break;
            }

            total += read;
        }

        return total;
    }
}
