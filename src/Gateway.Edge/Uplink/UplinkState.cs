using System.Text.Json;
using FactoryGateway.Telemetry.Storage;

namespace FactoryGateway.Edge.Uplink;

/// <summary>
/// A batch planned and possibly sent but not yet acknowledged: resent as exactly these records under this sequence
/// number, less the lines in <see cref="Skip"/> (0-based line numbers the ingest refused, kept in the dead-letter directory).
/// </summary>
internal sealed record PendingBatch(long Sequence, long From, long To, int Records, int Lines)
{
    public IReadOnlyList<int> Skip { get; init; } = [];
}

/// <summary>
/// The uplink's durable state (<c>uplink-state.json</c>): the stream id that, with the edge id, names this buffer
/// to the ingest (<c>X-FG-Edge: &lt;edge&gt;/&lt;stream&gt;</c>), the next batch sequence number, the buffer position
/// acknowledged so far and the pending batch. A pending batch is written before its first send, so after a
/// crash the same records go again under the same <c>X-FG-Seq</c> and the ingest recognises them as a replay.
/// </summary>
internal sealed record UplinkState(string Stream, long NextSequence, long Position, PendingBatch? Pending)
{
    public const string FileName = "uplink-state.json";

    public static UplinkState? Load(string directory)
    {
        string path = Path.Combine(directory, FileName);
        if (!File.Exists(path))
        {
            return null;
        }

        using JsonDocument document = JsonDocument.Parse(File.ReadAllBytes(path));
        JsonElement root = document.RootElement;
        PendingBatch? pending = null;
        if (root.TryGetProperty("pending", out JsonElement p) && p.ValueKind == JsonValueKind.Object)
        {
            pending = new PendingBatch(
                p.GetProperty("seq").GetInt64(),
                p.GetProperty("from").GetInt64(),
                p.GetProperty("to").GetInt64(),
                p.GetProperty("records").GetInt32(),
                p.GetProperty("lines").GetInt32())
            {
                Skip = p.TryGetProperty("skip", out JsonElement skip) ? [.. skip.EnumerateArray().Select(e => e.GetInt32())] : [],
            };
        }

        return new UplinkState(root.GetProperty("stream").GetString()!, root.GetProperty("next_seq").GetInt64(), root.GetProperty("position").GetInt64(), pending);
    }

    /// <summary>Replaces the state file atomically and durably: temp file, fsync, rename, fsync of the directory.</summary>
    public void Save(string directory)
    {
        string path = Path.Combine(directory, FileName);
        string temp = path + ".tmp";
        using (var file = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 4096, FileOptions.None))
        {
            using (var json = new Utf8JsonWriter(file))
            {
                json.WriteStartObject();
                json.WriteString("stream", Stream);
                json.WriteNumber("next_seq", NextSequence);
                json.WriteNumber("position", Position);
                if (Pending is { } pending)
                {
                    json.WriteStartObject("pending");
                    json.WriteNumber("seq", pending.Sequence);
                    json.WriteNumber("from", pending.From);
                    json.WriteNumber("to", pending.To);
                    json.WriteNumber("records", pending.Records);
                    json.WriteNumber("lines", pending.Lines);
                    if (pending.Skip.Count > 0)
                    {
                        json.WriteStartArray("skip");
                        foreach (int line in pending.Skip)
                        {
                            json.WriteNumberValue(line);
                        }

                        json.WriteEndArray();
                    }

                    json.WriteEndObject();
                }

                json.WriteEndObject();
            }

            file.Flush(flushToDisk: true);
        }

        File.Move(temp, path, overwrite: true);
        DirectorySync.Flush(directory);
    }
}
