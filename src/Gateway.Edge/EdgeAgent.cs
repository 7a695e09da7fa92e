using FactoryGateway.Edge.Buffer;
using FactoryGateway.Edge.Config;
using FactoryGateway.Edge.Health;
using FactoryGateway.Edge.Sources;
using FactoryGateway.Edge.Uplink;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace FactoryGateway.Edge;

/// <summary>
/// The edge agent: sources → normaliser → disk buffer → uplink. The host builds the sources from the
/// configuration and hands them over; the agent owns them from then on and disposes them.
/// </summary>
public sealed class EdgeAgent : IAsyncDisposable
{
    private readonly EdgeOptions _options;
    private readonly IReadOnlyList<IEdgeSource> _sources;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _running = [];
    private bool _disposed;

    private EdgeAgent(EdgeOptions options, IReadOnlyList<IEdgeSource> sources, EdgeBuffer buffer, Normaliser normaliser, EdgeUplink uplink, TimeProvider time, ILogger logger)
    {
        _options = options;
        _sources = sources;
        Buffer = buffer;
        Normaliser = normaliser;
        Uplink = uplink;
        _time = time;
        _logger = logger;
    }

    public EdgeBuffer Buffer { get; }

    public Normaliser Normaliser { get; }

    public EdgeUplink Uplink { get; }

    /// <summary>
    /// Opens the buffer under <see cref="EdgeOptions.DataDirectory"/> (reporting what a crash cut), the uplink state
    /// and the normaliser for the devices of <paramref name="sources"/>. Nothing runs until <see cref="Start"/>.
    /// </summary>
    public static EdgeAgent Create(
        EdgeOptions options,
        IReadOnlyList<IEdgeSource> sources,
        ILoggerFactory? loggers = null,
        TimeProvider? time = null,
        HttpMessageHandler? uplinkHandler = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(sources);
        options.Validate(requireSources: false); // the sources are given; they checked their own options
        loggers ??= NullLoggerFactory.Instance;
        time ??= TimeProvider.System;
        ILogger logger = loggers.CreateLogger("FactoryGateway.Edge");
        Directory.CreateDirectory(options.DataDirectory);
        EdgeBuffer buffer = EdgeBuffer.Open(Path.Combine(options.DataDirectory, "buffer"), options.Buffer, options.Ingest.BatchLines, time, logger);
        try
        {
            var normaliser = new Normaliser(
                options.EdgeId,
                options.Enterprise,
                sources.SelectMany(s => s.Devices.Select(d => (d, s.Name))),
                buffer,
                options.HeartbeatInterval,
                time,
                logger);
            var uplink = new EdgeUplink(options.Ingest, options.EdgeId, options.Enterprise, options.DataDirectory, buffer, uplinkHandler, time, logger);
            return new EdgeAgent(options, sources, buffer, normaliser, uplink, time, logger);
        }
        catch
        {
            buffer.DisposeAsync().AsTask().GetAwaiter().GetResult();
            throw;
        }
    }

    /// <summary>Starts the normaliser's clock, the uplink and every source.</summary>
    public void Start()
    {
        Normaliser.Start();
        CancellationToken stop = _stop.Token;
        _running.Add(Task.Run(() => Uplink.RunAsync(stop), CancellationToken.None));
        foreach (IEdgeSource source in _sources)
        {
            _running.Add(Task.Run(() => RunSourceAsync(source, stop), CancellationToken.None));
        }

        int devices = _sources.Sum(s => s.Devices.Count);
        EdgeLog.AgentStarted(_logger, _options.EdgeId, _sources.Count, devices, _options.Health.Urls);
    }

    /// <summary>The whole picture: buffer, uplink, every device.</summary>
    public EdgeStatus GetStatus()
    {
        Telemetry.Storage.SegmentLogStats log = Buffer.Log.GetStats();
        return new EdgeStatus(
            _options.EdgeId,
            _options.Enterprise,
            _time.GetUtcNow(),
            new BufferStatus(log.BytesOnDisk, _options.Buffer.MaxBytes, Buffer.PendingBytes, Buffer.IsFull, Buffer.Overflow.ToString(), Buffer.Refused, Buffer.Records, Buffer.Lines),
            Uplink.GetStats(),
            Normaliser.GetHealth());
    }

    /// <summary>Stops the sources, flushes what they delivered to disk, stops the uplink (what is unsent stays buffered).</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        await _stop.CancelAsync();
        try
        {
            await Task.WhenAll(_running);
        }
        finally
        {
            foreach (IEdgeSource source in _sources)
            {
                await source.DisposeAsync();
            }

            Normaliser.Dispose();
            await Uplink.DisposeAsync();
            await Buffer.DisposeAsync();
            _stop.Dispose();
        }
    }

    private async Task RunSourceAsync(IEdgeSource source, CancellationToken stop)
    {
        try
        {
            await source.RunAsync(Normaliser, stop);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // Stopping.
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // A source that cannot run does not take the others down; its devices show as disconnected.
            EdgeLog.SourceFailed(_logger, source.Name, e);
            foreach (string device in source.Devices)
            {
                Normaliser.Connection(device, up: false, $"source {source.Name} stopped: {e.Message}");
            }
        }
    }
}
