using System.Globalization;
using System.Text;
using FactoryGateway.Telemetry.Storage;

namespace FactoryGateway.Ingest.Forwarding;

/// <summary>
/// The forwarder's dead-letter files: <c>&lt;directory&gt;/&lt;prefix&gt;-YYYYMMDD.lp</c> (UTC date of the rejection),
/// appended to and fsynced before the WAL cursor moves past the rejected lines. Each rejected run of lines is
/// a <c>#</c> comment line — <c># rejected &lt;UTC time&gt; status=&lt;HTTP status&gt; points=&lt;lines&gt;
/// wal-position=&lt;WAL position of the first line's ingest record&gt; error: &lt;InfluxDB's error body on one line&gt;</c> —
/// followed by the lines unchanged. Line protocol readers skip comment lines, so a file can be replayed as it is (for
/// example with <c>curl --data-binary @file '…/write?db=…&amp;precision=ns'</c>) once the cause is fixed.
/// </summary>
internal sealed class DeadLetterFile
{
    private readonly string _directory;
    private readonly string _prefix;
    private readonly TimeProvider _timeProvider;

    public DeadLetterFile(string directory, string prefix, TimeProvider timeProvider)
    {
        _directory = Path.GetFullPath(directory);
        _prefix = prefix;
        _timeProvider = timeProvider;
    }

    /// <summary>The file rejections at <paramref name="time"/> go to.</summary>
    public string PathFor(DateTimeOffset time) =>
        Path.Combine(_directory, $"{_prefix}-{time.UtcDateTime.ToString("yyyyMMdd", CultureInfo.InvariantCulture)}.lp");

    /// <summary>Appends a rejected run of lines under a comment header; returns the file's path once the data is durable.</summary>
    public string AppendRejected(int status, string? error, int points, long walPosition, ReadOnlySpan<byte> lines)
    {
        DateTimeOffset now = _timeProvider.GetUtcNow();
        string header = string.Create(CultureInfo.InvariantCulture,
            $"# rejected {now.UtcDateTime:yyyy-MM-ddTHH:mm:ss.fffZ} status={status} points={points} wal-position={walPosition} error: {OneLine(error)}\n");
        return Append(now, header, lines);
    }

    /// <summary>Keeps a WAL record that is not an ingest record, as a comment line with its payload in base64.</summary>
    public string AppendUndecodable(long walPosition, long sequenceNumber, string error, ReadOnlySpan<byte> payload)
    {
        DateTimeOffset now = _timeProvider.GetUtcNow();
        string header = string.Create(CultureInfo.InvariantCulture,
            $"# undecodable {now.UtcDateTime:yyyy-MM-ddTHH:mm:ss.fffZ} wal-position={walPosition} sequence={sequenceNumber} error: {OneLine(error)} payload-base64: {Convert.ToBase64String(payload)}\n");
        return Append(now, header, []);
    }

    private string Append(DateTimeOffset now, string header, ReadOnlySpan<byte> lines)
    {
        string path = PathFor(now);
        bool created = !File.Exists(path);
        if (created && !Directory.Exists(_directory))
        {
            Directory.CreateDirectory(_directory);
            DirectorySync.Flush(Path.GetDirectoryName(_directory) ?? _directory);
        }

        using (var file = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read, bufferSize: 0))
        {
            file.Write(Encoding.UTF8.GetBytes(header));
            file.Write(lines);
            if (lines.Length > 0 && lines[^1] != (byte)'\n')
            {
                file.WriteByte((byte)'\n');
            }

            file.Flush(flushToDisk: true);
        }

        if (created)
        {
            DirectorySync.Flush(_directory); // the new file's directory entry
        }

        return path;
    }

    private static string OneLine(string? text) =>
        string.IsNullOrEmpty(text) ? "(no error text)" : text.ReplaceLineEndings(" ");
}
