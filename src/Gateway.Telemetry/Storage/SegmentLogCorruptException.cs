namespace FactoryGateway.Telemetry.Storage;

/// <summary>
/// Data the segment log cannot trust outside the tail a crash may tear: a sealed segment that fails its
/// checks, a record that fails its CRC when read, a damaged cursor file. The log never repairs these
/// silently; an operator decides (restore, or move the damaged files away).
/// </summary>
public sealed class SegmentLogCorruptException : IOException
{
    public SegmentLogCorruptException()
    {
        FilePath = "";
    }

    public SegmentLogCorruptException(string message)
        : base(message)
    {
        FilePath = "";
    }

    public SegmentLogCorruptException(string message, Exception innerException)
        : base(message, innerException)
    {
        FilePath = "";
    }

    public SegmentLogCorruptException(string filePath, long position, string reason)
        : base($"Segment log corrupt in {filePath}: {reason}.")
    {
        FilePath = filePath;
        Position = position;
        Reason = reason;
    }

    /// <summary>The damaged file.</summary>
    public string FilePath { get; }

    /// <summary>The logical position of the damage (-1 for a cursor file).</summary>
    public long Position { get; }

    /// <summary>What is wrong, without the file name.</summary>
    public string? Reason { get; }
}
