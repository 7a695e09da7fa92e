using System.Buffers;
using FactoryGateway.Edge.Buffer;
using FactoryGateway.Edge.Health;
using FactoryGateway.Edge.Signals;
using FactoryGateway.Edge.Sources;
using FactoryGateway.Telemetry.LineProtocol;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace FactoryGateway.Edge;

/// <summary>
/// Turns what the sources read into canonical lines (architecture: "Edge → Ingest wire contract") in the disk
/// buffer, and keeps each device's health.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item><c>telemetry,dev,edge,ent</c> with one field per sample at the device's source time; a sample whose
/// status is not Good (Uncertain or Bad) is written as <c>&lt;signal&gt;__status=&lt;code&gt;i</c>, never as a value.</item>
/// <item>A sample that repeats the last value taken for its signal (same value and status) with a source time
/// not after it is stale — a value re-sent after a reconnect, or a server's cached value — and is not taken
/// again (<see cref="SampleAcceptance.Stale"/>).</item>
/// <item><c>connection … up=true</c> when a device connects and as a heartbeat at least every
/// <c>HeartbeatInterval</c> while it stays connected; <c>up=false</c> with the reason when it disconnects.</item>
/// <item><c>identity</c> with the nameplate and certificate thumbprint on first sight and on every change.</item>
/// </list>
/// Thread-safe: one lock orders a device's lines as they are written.
/// </remarks>
public sealed class Normaliser : IEdgeSink, IDisposable
{
    // Samples-per-second window: one cumulative count per second over the last minute.
    private const int RateWindowSeconds = 60;

    private readonly string _edgeId;
    private readonly string _enterprise;
    private readonly EdgeBuffer _buffer;
    private readonly TimeSpan _heartbeat;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Dictionary<string, DeviceTrack> _devices = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();
    private readonly ArrayBufferWriter<byte> _scratch = new(256);
    private readonly LineProtocolWriter _writer;
    private ITimer? _timer;
    private IReadOnlyList<DeviceHealth> _lastHealth = [];
    private long _unknownDevice;
    private long _invalid;

    public Normaliser(
        string edgeId,
        string enterprise,
        IEnumerable<(string Device, string Source)> devices,
        EdgeBuffer buffer,
        TimeSpan heartbeatInterval,
        TimeProvider? time = null,
        ILogger? logger = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(edgeId);
        ArgumentException.ThrowIfNullOrEmpty(enterprise);
        ArgumentNullException.ThrowIfNull(devices);
        ArgumentNullException.ThrowIfNull(buffer);
        _edgeId = edgeId;
        _enterprise = enterprise;
        _buffer = buffer;
        _heartbeat = heartbeatInterval;
        _time = time ?? TimeProvider.System;
        _logger = logger ?? NullLogger.Instance;
        _writer = new LineProtocolWriter(_scratch);
        foreach ((string device, string source) in devices)
        {
            if (!_devices.TryAdd(device, new DeviceTrack(device, source)))
            {
                throw new ArgumentException($"device \"{device}\" is configured twice (sources {_devices[device].Source} and {source}); a device id names one device.", nameof(devices));
            }
        }
    }

    /// <summary>Samples naming a device that is not configured.</summary>
    public long UnknownDeviceSamples => Interlocked.Read(ref _unknownDevice);

    /// <summary>Samples that could not be written (a signal name or value the line protocol cannot carry).</summary>
    public long InvalidSamples => Interlocked.Read(ref _invalid);

    /// <summary>Starts the heartbeat and rate clock (every second, or half the heartbeat interval when shorter).</summary>
    public void Start()
    {
        TimeSpan period = TimeSpan.FromTicks(Math.Min(TimeSpan.TicksPerSecond, _heartbeat.Ticks / 2));
        _timer = _time.CreateTimer(_ => Tick(), null, period, period);
    }

    public SampleAcceptance Sample(in EdgeSample sample)
    {
        lock (_lock)
        {
            if (!_devices.TryGetValue(sample.Device, out DeviceTrack? device))
            {
                if (Interlocked.Increment(ref _unknownDevice) == 1)
                {
                    EdgeLog.UnknownDevice(_logger, sample.Device);
                }

                return SampleAcceptance.Invalid;
            }

            bool good = SignalQuality.IsGood(sample.Status);
            if (device.Last.TryGetValue(sample.Signal, out LastValue last)
                && sample.SourceTimeNanoseconds <= last.Time
                && sample.Status == last.Status
                && (!good || sample.Value == last.Value))
            {
                device.Stale++;
                return SampleAcceptance.Stale;
            }

            _scratch.ResetWrittenCount();
            try
            {
                Series("telemetry", device);
                if (good)
                {
                    WriteValue(sample.Signal, sample.Value);
                }
                else
                {
                    Span<char> key = stackalloc char[sample.Signal.Length + 8];
                    sample.Signal.AsSpan().CopyTo(key);
                    "__status".AsSpan().CopyTo(key[sample.Signal.Length..]);
                    _writer.WriteField(key, (long)sample.Status);
                }

                _writer.WriteTimestamp(sample.SourceTimeNanoseconds);
            }
            catch (LineProtocolWriteException)
            {
                _writer.Reset(_scratch); // drop the half-written point
                Interlocked.Increment(ref _invalid);
                return SampleAcceptance.Invalid;
            }

            if (!_buffer.TryAdd(_scratch.WrittenSpan))
            {
                device.Refused++;
                return SampleAcceptance.BufferFull;
            }

            device.Last[sample.Signal] = new LastValue(sample.Value, sample.Status, Math.Max(sample.SourceTimeNanoseconds, last.Time));
            device.Samples++;
            device.LastData = _time.GetUtcNow();
            return SampleAcceptance.Accepted;
        }
    }

    public void Connection(string device, bool up, string? reason = null)
    {
        lock (_lock)
        {
            if (!_devices.TryGetValue(device, out DeviceTrack? track))
            {
                EdgeLog.UnknownDevice(_logger, device);
                return;
            }

            DateTimeOffset now = _time.GetUtcNow();
            if (up == track.Connected && up)
            {
                return; // already up: the heartbeat carries on
            }

            track.Connected = up;
            track.Since = now;
            if (up)
            {
                EdgeLog.DeviceUp(_logger, device);
                WriteConnection(track, true, null, now);
            }
            else
            {
                // Values held for staleness belong to the old connection; after it a source re-sends what it has.
                EdgeLog.DeviceDown(_logger, device, reason ?? "no reason given");
                WriteConnection(track, false, reason, now);
            }
        }
    }

    public void Identity(string device, DeviceIdentity identity)
    {
        ArgumentNullException.ThrowIfNull(identity);
        lock (_lock)
        {
            if (!_devices.TryGetValue(device, out DeviceTrack? track))
            {
                EdgeLog.UnknownDevice(_logger, device);
                return;
            }

            DeviceIdentity merged = track.Identity is null ? identity : track.Identity.Merge(identity);
            if (merged == track.Identity || merged.IsEmpty)
            {
                return;
            }

            EdgeLog.IdentityChanged(_logger, device, merged);
            _scratch.ResetWrittenCount();
            try
            {
                Series("identity", track);
                WriteText("product_instance_uri", merged.ProductInstanceUri);
                WriteText("manufacturer", merged.Manufacturer);
                WriteText("model", merged.Model);
                WriteText("serial_number", merged.SerialNumber);
                WriteText("cert_thumbprint", merged.CertificateThumbprint);
                _writer.WriteTimestamp(_time.GetUtcNow());
            }
            catch (LineProtocolWriteException)
            {
                _writer.Reset(_scratch); // text the line protocol cannot carry (a lone surrogate): counted, not written
                Interlocked.Increment(ref _invalid);
                return;
            }

            if (_buffer.TryAdd(_scratch.WrittenSpan))
            {
                track.Identity = merged;
            }
        }
    }

    public void ItemStatus(string device, string item, uint status, string? reason = null)
    {
        lock (_lock)
        {
            if (!_devices.TryGetValue(device, out DeviceTrack? track))
            {
                EdgeLog.UnknownDevice(_logger, device);
                return;
            }

            if (SignalQuality.IsGood(status))
            {
                track.BadItems.Remove(item);
            }
            else
            {
                if (!track.BadItems.TryGetValue(item, out BadItem? known) || known.Status != status)
                {
                    EdgeLog.ItemBad(_logger, device, item, status, reason ?? "");
                }

                track.BadItems[item] = new BadItem(item, status, reason, known?.Since ?? _time.GetUtcNow());
            }
        }
    }

    /// <summary>Every device's health now.</summary>
    public IReadOnlyList<DeviceHealth> GetHealth()
    {
        // A source may hold the lock while it waits for room in a full buffer (overflow policy Block): health then
        // shows the last picture taken rather than hang the status endpoint.
        if (!_lock.TryEnter(TimeSpan.FromMilliseconds(500)))
        {
            return Volatile.Read(ref _lastHealth);
        }

        try
        {
            DateTimeOffset now = _time.GetUtcNow();
            IReadOnlyList<DeviceHealth> health = [.. _devices.Values.Select(d => new DeviceHealth(
                d.Device,
                d.Source,
                d.Connected,
                d.Since,
                d.LastData is { } last ? now - last : null,
                d.Rate(),
                d.Samples,
                d.Stale,
                d.Refused,
                [.. d.BadItems.Values.OrderBy(b => b.Item, StringComparer.Ordinal)],
                d.Identity))];
            Volatile.Write(ref _lastHealth, health);
            return health;
        }
        finally
        {
            _lock.Exit();
        }
    }

    public void Dispose() => _timer?.Dispose();

    // Heartbeats for connected devices whose last connection line is a heartbeat interval old; the rate clock.
    internal void Tick()
    {
        // Skipped while a source holds the lock waiting for room in a full buffer (overflow policy Block): a timer
        // callback must not park a pool thread for as long as the disk stays full. The next tick tries again.
        if (!_lock.TryEnter())
        {
            return;
        }

        try
        {
            DateTimeOffset now = _time.GetUtcNow();
            foreach (DeviceTrack track in _devices.Values)
            {
                track.RecordRate();
                if (track.Connected && now - track.LastHeartbeat >= _heartbeat)
                {
                    WriteConnection(track, true, null, now);
                }
            }
        }
        finally
        {
            _lock.Exit();
        }
    }

    private void WriteConnection(DeviceTrack track, bool up, string? reason, DateTimeOffset now)
    {
        _scratch.ResetWrittenCount();
        Series("connection", track);
        _writer.WriteField("up", up);
        if (!up && !string.IsNullOrEmpty(reason))
        {
            _writer.WriteStringField("reason", Printable(reason));
        }

        _writer.WriteTimestamp(now);
        if (_buffer.TryAdd(_scratch.WrittenSpan))
        {
            track.LastHeartbeat = now;
        }
    }

    private void Series(string measurement, DeviceTrack device)
    {
        // Tags in key order (dev, edge, ent): InfluxDB's own order, so the ingest and InfluxDB need not sort.
        _writer.WriteMeasurement(measurement).WriteTag("dev", device.Device).WriteTag("edge", _edgeId).WriteTag("ent", _enterprise);
    }

    private void WriteValue(string signal, SignalValue value)
    {
        switch (value.Kind)
        {
            case FieldKind.Float:
                _writer.WriteField(signal, value.AsFloat);
                break;
            case FieldKind.Integer:
                _writer.WriteField(signal, value.AsInteger);
                break;
            case FieldKind.UnsignedInteger:
                _writer.WriteField(signal, value.AsUnsigned);
                break;
            case FieldKind.Boolean:
                _writer.WriteField(signal, value.AsBoolean);
                break;
            default:
                _writer.WriteStringField(signal, Printable(value.AsString));
                break;
        }
    }

    private void WriteText(string key, string? value)
    {
        if (value is not null)
        {
            _writer.WriteStringField(key, Printable(value));
        }
    }

    // The line protocol cannot carry a line break inside a string value: a device's text keeps its content with
    // each control character shown as a space.
    private static string Printable(string text) =>
        text.AsSpan().IndexOfAny('\n', '\r') < 0 ? text : string.Create(text.Length, text, (span, t) =>
        {
            for (int i = 0; i < t.Length; i++)
            {
                span[i] = t[i] is '\n' or '\r' ? ' ' : t[i];
            }
        });

    private readonly record struct LastValue(SignalValue Value, uint Status, long Time);

    private sealed class DeviceTrack(string device, string source)
    {
        private readonly long[] _counts = new long[RateWindowSeconds];
        private int _slot;
        private int _filled;

        public string Device { get; } = device;

        public string Source { get; } = source;

        public Dictionary<string, LastValue> Last { get; } = new(StringComparer.Ordinal);

        public Dictionary<string, BadItem> BadItems { get; } = new(StringComparer.Ordinal);

        public bool Connected { get; set; }

        public DateTimeOffset? Since { get; set; }

        public DateTimeOffset? LastData { get; set; }

        public DateTimeOffset LastHeartbeat { get; set; } = DateTimeOffset.MinValue;

        public DeviceIdentity? Identity { get; set; }

        public long Samples { get; set; }

        public long Stale { get; set; }

        public long Refused { get; set; }

        public void RecordRate()
        {
            _counts[_slot] = Samples;
            _slot = (_slot + 1) % RateWindowSeconds;
            _filled = Math.Min(_filled + 1, RateWindowSeconds);
        }

        public double Rate()
        {
            if (_filled < 2)
            {
                return 0;
            }

            long newest = _counts[(_slot + RateWindowSeconds - 1) % RateWindowSeconds];
            long oldest = _counts[(_slot + RateWindowSeconds - _filled) % RateWindowSeconds];
            return (newest - oldest) / (double)(_filled - 1);
        }
    }
}
