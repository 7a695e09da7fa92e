using FactoryGateway.Telemetry.LineProtocol;

namespace FactoryGateway.Ingest;

/// <summary>Options of the ingest service; <see cref="Validate"/> names the first bad one and why.</summary>
public sealed class IngestOptions
{
    /// <summary>Where the WAL, the edge checkpoint and the evidence store live. No default: the host decides.</summary>
    public string DataDirectory { get; set; } = "";

    /// <summary>Line-protocol limits (line bytes, tags, fields, body bytes); see <see cref="LineProtocolLimits"/>.</summary>
    public LineProtocolLimits Limits { get; set; } = new();

    /// <summary>WAL segment size. 64 MiB: the segment log's default (bounded recovery scan, deletion granularity).</summary>
    public long WalSegmentBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>
    /// Disk bound of the WAL; past it writes get 503 + Retry-After. 4 GiB: about two hours of an
    /// InfluxDB outage at 500 KB/s of line protocol.
    /// </summary>
    public long WalMaxBytes { get; set; } = 4L * 1024 * 1024 * 1024;

    /// <summary>
    /// Fraction of <see cref="WalMaxBytes"/> above which writes get 429 + Retry-After, so that edges back
    /// off (their disk buffers hold the data) before the WAL is full. 0.9 leaves the last tenth for
    /// requests already under way.
    /// </summary>
    public double WalBackpressureFraction { get; set; } = 0.9;

    /// <summary>Sent with 429 and 503. 5 s: long enough for the forwarder to drain a few batches.</summary>
    public TimeSpan RetryAfter { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>A source time further ahead of the ingest clock is refused (spec §6 <c>future_timestamp</c>: 5 min).</summary>
    public TimeSpan FutureTolerance { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Samples older than this on arrival are accepted and counted as late (spec §2 late window: 48 h).</summary>
    public TimeSpan LateWindow { get; set; } = TimeSpan.FromHours(48);

    /// <summary>How often the edge-sequence state is checkpointed. 10 s bounds the WAL replayed on start.</summary>
    public TimeSpan CheckpointInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Longest <c>X-FG-Edge</c> value. 128: edge ids are host names or GUIDs.</summary>
    public int MaxEdgeIdBytes { get; set; } = 128;

    public string WalDirectory => Path.Combine(DataDirectory, "wal");

    public string EdgeCheckpointPath => Path.Combine(DataDirectory, "edge-sequences.json");

    public IngestOptions Validate()
    {
        if (string.IsNullOrWhiteSpace(DataDirectory))
        {
            throw new ArgumentException("IngestOptions.DataDirectory is required: the directory for the WAL and the evidence store.", nameof(DataDirectory));
        }

        Limits.Validate();
        Require(WalMaxBytes >= 2 * WalSegmentBytes, nameof(WalMaxBytes), $"must be at least twice WalSegmentBytes ({WalSegmentBytes}); it is {WalMaxBytes}");
        Require(Limits.MaxBodyBytes < WalSegmentBytes - 4096, nameof(WalSegmentBytes), $"must exceed Limits.MaxBodyBytes ({Limits.MaxBodyBytes}) by 4 KiB so that a whole request fits in one WAL record");
        Require(WalBackpressureFraction is > 0 and <= 1, nameof(WalBackpressureFraction), $"must be in (0, 1]; it is {WalBackpressureFraction}");
        Require(RetryAfter >= TimeSpan.FromSeconds(1), nameof(RetryAfter), "must be at least 1 s (Retry-After is in whole seconds)");
        Require(FutureTolerance >= TimeSpan.Zero, nameof(FutureTolerance), "must not be negative");
        Require(LateWindow > TimeSpan.Zero, nameof(LateWindow), "must be positive");
        Require(CheckpointInterval > TimeSpan.Zero, nameof(CheckpointInterval), "must be positive");
        Require(MaxEdgeIdBytes is > 0 and <= 1024, nameof(MaxEdgeIdBytes), "must be between 1 and 1024");
        return this;
    }

    private static void Require(bool condition, string name, string reason)
    {
        if (!condition)
        {
            throw new ArgumentException($"IngestOptions.{name} {reason}.", name);
        }
    }
}
