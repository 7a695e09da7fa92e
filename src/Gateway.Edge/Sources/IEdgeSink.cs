using FactoryGateway.Edge.Signals;

namespace FactoryGateway.Edge.Sources;

/// <summary>What <see cref="IEdgeSink.Sample"/> did with a sample.</summary>
public enum SampleAcceptance
{
    /// <summary>Taken: it goes to the disk buffer.</summary>
    Accepted = 0,

    /// <summary>Not new: the same value with a source time not after the last one taken (a re-sent or stale value). Counted.</summary>
    Stale = 1,

    /// <summary>Refused because the disk buffer is full and its overflow policy is to stop taking data. Counted.</summary>
    BufferFull = 2,

    /// <summary>Refused: the device is not configured, or the signal name cannot be written. Counted.</summary>
    Invalid = 3,
}

/// <summary>
/// Where sources put what they read: the normaliser, which turns it into canonical lines in the disk buffer
/// and keeps the health of each device. Thread-safe: sources call it from their own threads.
/// </summary>
public interface IEdgeSink
{
    /// <summary>Hands over one sample. A non-Good sample is written as <c>&lt;signal&gt;__status</c>.</summary>
    SampleAcceptance Sample(in EdgeSample sample);

    /// <summary>
    /// The source's connection to <paramref name="device"/> came up or went down (server or broker connection,
    /// Sparkplug birth or death). While up, the normaliser sends a heartbeat at least every
    /// <c>HeartbeatInterval</c>; the ingest's coverage depends on it.
    /// </summary>
    void Connection(string device, bool up, string? reason = null);

    /// <summary>What the device says it is; an <c>identity</c> line is written on first sight and on any change.</summary>
    void Identity(string device, DeviceIdentity identity);

    /// <summary>
    /// An item of <paramref name="device"/> (a node, a topic, a metric) is unavailable with <paramref name="status"/>
    /// and the server's reason, or available again when <paramref name="status"/> is Good. Shown in health.
    /// </summary>
    void ItemStatus(string device, string item, uint status, string? reason = null);
}
