using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace FactoryGateway.Ingest.Edges;

/// <summary>What the ingest does with an edge batch, given its <c>X-FG-Seq</c>.</summary>
public enum EdgeBatchDecision
{
    /// <summary>The next batch in order: append it.</summary>
    Next,

    /// <summary>Sequence numbers were skipped: record the gap, then append.</summary>
    AfterGap,

    /// <summary>Already acknowledged: answer 204 without appending or counting it again.</summary>
    Duplicate,
}

/// <summary>Sequence numbers an edge skipped: batches the ingest never received.</summary>
public sealed record SequenceGap(long From, long To, DateTimeOffset DetectedAt);

/// <summary>An edge agent as the ingest knows it.</summary>
public sealed record EdgeStatus
{
    public required string EdgeId { get; init; }

    public required long LastSequence { get; init; }

    public required long Batches { get; init; }

    public required long Duplicates { get; init; }

    public required long MissingBatches { get; init; }

    public required IReadOnlyList<SequenceGap> RecentGaps { get; init; }
}

/// <summary>
/// Exactly-once acceptance of edge batches. Per edge it remembers the last acknowledged
/// <c>X-FG-Seq</c>: a replay of an acknowledged batch is a duplicate, a jump is a gap. The state is
/// rebuilt after a restart from a checkpoint file plus the WAL records after it, so a batch
/// acknowledged just before a crash is still recognised when the edge sends it again.
/// </summary>
public sealed class EdgeSequenceTracker
{
    // Gaps kept per edge for the API; older ones are only counted. An edge that loses its buffer
    // repeatedly is diagnosed from the newest gaps.
    private const int MaxGapsKept = 64;

    private readonly ConcurrentDictionary<string, EdgeState> _edges = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;

    public EdgeSequenceTracker(TimeProvider time)
    {
        _time = time;
    }

    public int EdgeCount => _edges.Count;

    /// <summary>Total sequence numbers skipped over all edges.</summary>
    public long MissingBatches => _edges.Values.Sum(e => Volatile.Read(ref e.MissingBatches));

    public long Duplicates => _edges.Values.Sum(e => Volatile.Read(ref e.Duplicates));

    /// <summary>
    /// Serialises the batches of one edge: decide, append, then <see cref="EdgeLease.Commit"/>. Edges
    /// send one batch at a time, so the wait is only for a retry racing its own original.
    /// </summary>
    public async ValueTask<EdgeLease> AcquireAsync(string edgeId, CancellationToken cancellationToken)
    {
        EdgeState state = _edges.GetOrAdd(edgeId, static id => new EdgeState(id));
        await state.Gate.WaitAsync(cancellationToken);
        return new EdgeLease(this, state);
    }

    public IReadOnlyList<EdgeStatus> Snapshot() =>
        [.. _edges.Values.OrderBy(e => e.EdgeId, StringComparer.Ordinal).Select(e => e.ToStatus())];

    /// <summary>Applies a batch found in the WAL during recovery; idempotent.</summary>
    public void Replay(string edgeId, long sequence, long arrivalUnixNanoseconds)
    {
        EdgeState state = _edges.GetOrAdd(edgeId, static id => new EdgeState(id));
        lock (state)
        {
            if (sequence > state.LastSequence)
            {
                state.Apply(sequence, DateTimeOffset.UnixEpoch.AddTicks(arrivalUnixNanoseconds / 100));
            }
        }
    }

    /// <summary>Writes the state atomically (temp file, fsync, rename) with the WAL position replay resumes from.</summary>
    public void SaveCheckpoint(string path, long resumePosition)
    {
        var checkpoint = new Checkpoint
        {
            ResumePosition = resumePosition,
            Edges = [.. _edges.Values.Select(e => e.ToStatus())],
        };
        string temp = path + ".tmp";
        using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            JsonSerializer.Serialize(stream, checkpoint, CheckpointJson.Default.Checkpoint);
            stream.Flush(flushToDisk: true);
        }

        File.Move(temp, path, overwrite: true);
    }

    /// <summary>Loads a checkpoint; returns the WAL position to replay from, or null when there is none.</summary>
    public long? LoadCheckpoint(string path)
    {
        if (!File.Exists(path))
        {
            return null;
        }

        Checkpoint checkpoint;
        using (var stream = File.OpenRead(path))
        {
            checkpoint = JsonSerializer.Deserialize(stream, CheckpointJson.Default.Checkpoint)
                ?? throw new InvalidDataException($"{path} is empty.");
        }

        foreach (EdgeStatus edge in checkpoint.Edges)
        {
            _edges[edge.EdgeId] = EdgeState.FromCheckpoint(edge);
        }

        return checkpoint.ResumePosition;
    }

    /// <summary>Holds one edge's gate; dispose to release it.</summary>
    public readonly struct EdgeLease : IDisposable
    {
        private readonly EdgeSequenceTracker _tracker;
        private readonly EdgeState _state;

        internal EdgeLease(EdgeSequenceTracker tracker, EdgeState state)
        {
            _tracker = tracker;
            _state = state;
        }

        public long LastSequence => _state.LastSequence;

        public EdgeBatchDecision Decide(long sequence)
        {
            if (sequence <= _state.LastSequence)
            {
                Interlocked.Increment(ref _state.Duplicates);
                return EdgeBatchDecision.Duplicate;
            }

            return sequence == _state.LastSequence + 1 ? EdgeBatchDecision.Next : EdgeBatchDecision.AfterGap;
        }

        /// <summary>Records that the batch <paramref name="sequence"/> is durable in the WAL.</summary>
        public void Commit(long sequence)
        {
            lock (_state)
            {
                _state.Apply(sequence, _tracker._time.GetUtcNow());
            }
        }

        public void Dispose() => _state.Gate.Release();
    }

    [SuppressMessage("Reliability", "CA1001", Justification = "SemaphoreSlim holds no wait handle unless AvailableWaitHandle is read; edge state lives as long as the process.")]
    internal sealed class EdgeState(string edgeId)
    {
        public readonly SemaphoreSlim Gate = new(1, 1);
        public readonly Queue<SequenceGap> Gaps = new();
        public long Duplicates;
        public long MissingBatches;
        public long Batches;

        public string EdgeId { get; } = edgeId;

        public long LastSequence { get; private set; }

        public void Apply(long sequence, DateTimeOffset at)
        {
            if (sequence > LastSequence + 1)
            {
                Gaps.Enqueue(new SequenceGap(LastSequence + 1, sequence - 1, at));
                while (Gaps.Count > MaxGapsKept)
                {
                    Gaps.Dequeue();
                }

                MissingBatches += sequence - LastSequence - 1;
            }

            LastSequence = sequence;
            Batches++;
        }

        public EdgeStatus ToStatus()
        {
            lock (this)
            {
                return new EdgeStatus
                {
                    EdgeId = EdgeId,
                    LastSequence = LastSequence,
                    Batches = Batches,
                    Duplicates = Volatile.Read(ref Duplicates),
                    MissingBatches = MissingBatches,
                    RecentGaps = [.. Gaps],
                };
            }
        }

        public static EdgeState FromCheckpoint(EdgeStatus checkpoint)
        {
            var state = new EdgeState(checkpoint.EdgeId)
            {
                LastSequence = checkpoint.LastSequence,
                Batches = checkpoint.Batches,
                Duplicates = checkpoint.Duplicates,
                MissingBatches = checkpoint.MissingBatches,
            };
            foreach (SequenceGap gap in checkpoint.RecentGaps)
            {
                state.Gaps.Enqueue(gap);
            }

            return state;
        }
    }

    internal sealed record Checkpoint
    {
        public required long ResumePosition { get; init; }

        public required List<EdgeStatus> Edges { get; init; }
    }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true)]
[JsonSerializable(typeof(EdgeSequenceTracker.Checkpoint))]
internal sealed partial class CheckpointJson : JsonSerializerContext;
