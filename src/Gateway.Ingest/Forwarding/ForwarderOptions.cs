using System.Buffers;

namespace FactoryGateway.Ingest.Forwarding;

/// <summary>Options of an <see cref="InfluxForwarder"/>; checked by <see cref="Validate"/> when it is created.</summary>
public sealed class ForwarderOptions
{
    /// <summary>The most lines <see cref="MaxBatchLines"/> may be set to.</summary>
    public const int MaxBatchLinesLimit = 1_000_000;

    /// <summary>The most bytes <see cref="MaxBatchBytes"/> may be set to: 256 MiB, ten times InfluxDB 1.x's default body limit.</summary>
    public const int MaxBatchBytesLimit = 256 * 1024 * 1024;

    // The segment log's rule for cursor names (they become file names).
    private static readonly SearchValues<char> s_cursorNameChars = SearchValues.Create("abcdefghijklmnopqrstuvwxyz0123456789-_");

    /// <summary>
    /// The WAL cursor's name (lowercase letters, digits, '-' and '_'). It must stay the same across restarts:
    /// the cursor is where forwarding resumes, and it pins the WAL. It also prefixes the dead-letter files.
    /// "forwarder", the name docs/architecture.md uses.
    /// </summary>
    public string CursorName { get; set; } = "forwarder";

    /// <summary>
    /// The most lines (points) in one write request. 5,000 is InfluxData's recommended batch size for
    /// InfluxDB writes (the shared design note's "batches ~5,000 lines"): large enough that request
    /// overhead is negligible, small enough that a rejected or retried request stays cheap.
    /// </summary>
    public int MaxBatchLines { get; set; } = 5_000;

    /// <summary>
    /// The most line-protocol bytes (before gzip) in one write request; a single longer line goes alone.
    /// 4 MiB: 5,000 canonical lines of up to ~800 bytes fit, so <see cref="MaxBatchLines"/> is normally the
    /// bound, and it stays far below InfluxDB 1.x's default <c>[http] max-body-size</c> of 25 MB. A server
    /// with a lower limit answers 413, and the forwarder splits.
    /// </summary>
    public int MaxBatchBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>
    /// How long a partial batch may wait for more points once the forwarder has caught up with the WAL
    /// (<see cref="InfluxForwarder.RunAsync"/> only; see the remarks on <see cref="InfluxForwarder"/>).
    /// A backlog never waits: full batches go at once. 1 s is the flush interval of InfluxData's client
    /// libraries; it bounds the added latency of a point to a second while turning many small ingest
    /// requests into few writes. Zero sends whatever is read at once.
    /// </summary>
    public TimeSpan FlushInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Write requests the forwarder keeps in flight at once (<see cref="InfluxForwarder.RunAsync"/> only).
    /// 4: InfluxDB 1.x parses and writes one request on about one core and then waits for its WAL fsync, so
    /// with fewer requests under way its cores idle while the forwarder waits (measured: ingest → InfluxDB at
    /// 0.37–0.70 of direct writes with 1; with 4 against 2, sharing 2 cores with InfluxDB, total-rate ratios
    /// 0.93 and 0.84 against 0.84 and 0.81 in two pairs of 5-round series; with InfluxDB on its own core no
    /// difference beyond the noise). 4 is also what a client with 4 connections keeps. The WAL cursor still moves only over the
    /// contiguous acknowledged prefix. Batches in flight may reach InfluxDB in either order: of two writes of
    /// the same series and timestamp with different values, either may be the one kept (as with any
    /// concurrent writers). 1 restores strict order.
    /// </summary>
    public int MaxBatchesInFlight { get; set; } = 4;

    /// <summary>
    /// Send bodies with <c>Content-Encoding: gzip</c> (fastest level): <c>true</c> always, <c>false</c> never,
    /// unset (the default) unless InfluxDB's URL names a loopback host (<c>localhost</c>, 127.0.0.0/8, <c>::1</c>).
    /// Over a network line protocol shrinks 5-10x for a few milliseconds of CPU per batch, and InfluxDB 1.x and
    /// 2.x accept gzip. On the same host it saves no time and costs both processes CPU: the forwarder ~0.2 µs a
    /// point to compress, InfluxDB more to decompress (docs/performance.md measured about a tenth more
    /// throughput into a co-located InfluxDB without it). Note that InfluxDB 1.x applies <c>max-body-size</c> to
    /// the compressed body.
    /// </summary>
    public bool? Gzip { get; set; }

    /// <summary>Whether writes to <paramref name="influxUrl"/> are compressed: <see cref="Gzip"/>, or when unset, unless the host is loopback.</summary>
    public bool GzipFor(Uri influxUrl)
    {
        ArgumentNullException.ThrowIfNull(influxUrl);
        return Gzip ?? !influxUrl.IsLoopback;
    }

    /// <summary>
    /// The first retry delay after a failed write (5xx, network error, 429/503 without Retry-After).
    /// 100 ms: a brief InfluxDB hiccup costs little latency. Each further retry doubles it up to
    /// <see cref="MaxBackoff"/>; every delay is jittered to a uniform random value in [delay/2, delay] so
    /// that many gateways recovering from one outage do not retry in lockstep.
    /// </summary>
    public TimeSpan InitialBackoff { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// The cap of the exponential backoff. 30 s: during a long outage each forwarder probes InfluxDB about
    /// twice a minute, a negligible load, and resumes within 30 s of its recovery. Retries never stop: the
    /// WAL holds the points.
    /// </summary>
    public TimeSpan MaxBackoff { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The longest <c>Retry-After</c> (on 429/503) that is honoured as given; a longer one is cut to this (and
    /// one shorter than <see cref="InitialBackoff"/>, "0" say, is raised to it so that retries cannot spin).
    /// 5 min: a server asking for more is more likely misconfigured than precise, and the WAL keeps filling
    /// meanwhile.
    /// </summary>
    public TimeSpan MaxRetryAfter { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Where rejected lines go: <c>&lt;DeadLetterDirectory&gt;/&lt;CursorName&gt;-YYYYMMDD.lp</c> (UTC date); created
    /// when missing. No default: the host decides where its data lives (conventionally
    /// <c>&lt;data&gt;/deadletter</c>).
    /// </summary>
    public string DeadLetterDirectory { get; set; } = "";

    /// <summary>Throws <see cref="ArgumentException"/> naming the option and the reason.</summary>
    public void Validate()
    {
        if (string.IsNullOrEmpty(CursorName) || CursorName.Length > 64 || CursorName.AsSpan().ContainsAnyExcept(s_cursorNameChars))
        {
            throw Invalid(nameof(CursorName), "must be 1 to 64 lowercase letters, digits, '-' and '_' (it names a WAL cursor file)", CursorName);
        }

        if (MaxBatchesInFlight is < 1 or > 16)
        {
            throw Invalid(nameof(MaxBatchesInFlight), "must be between 1 and 16", MaxBatchesInFlight);
        }

        if (MaxBatchLines is < 1 or > MaxBatchLinesLimit)
        {
            throw Invalid(nameof(MaxBatchLines), $"must be between 1 and {MaxBatchLinesLimit}", MaxBatchLines);
        }

        if (MaxBatchBytes is < 1024 or > MaxBatchBytesLimit)
        {
            throw Invalid(nameof(MaxBatchBytes), $"must be between 1024 and {MaxBatchBytesLimit} bytes", MaxBatchBytes);
        }

        if (FlushInterval < TimeSpan.Zero || FlushInterval > TimeSpan.FromHours(1))
        {
            throw Invalid(nameof(FlushInterval), "must be between zero and one hour", FlushInterval);
        }

        if (InitialBackoff <= TimeSpan.Zero)
        {
            throw Invalid(nameof(InitialBackoff), "must be positive", InitialBackoff);
        }

        if (MaxBackoff < InitialBackoff || MaxBackoff > TimeSpan.FromHours(1))
        {
            throw Invalid(nameof(MaxBackoff), $"must be at least InitialBackoff ({InitialBackoff}) and at most one hour", MaxBackoff);
        }

        if (MaxRetryAfter < InitialBackoff)
        {
            throw Invalid(nameof(MaxRetryAfter), $"must be at least InitialBackoff ({InitialBackoff}), the shortest wait after a 429/503", MaxRetryAfter);
        }

        if (string.IsNullOrWhiteSpace(DeadLetterDirectory))
        {
            throw Invalid(nameof(DeadLetterDirectory), "must name the directory for rejected lines", DeadLetterDirectory);
        }
    }

    private static ArgumentException Invalid(string option, string reason, object value) =>
        new($"ForwarderOptions.{option} {reason} (was {value}).", option);
}
