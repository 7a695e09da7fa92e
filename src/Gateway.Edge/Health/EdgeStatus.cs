using FactoryGateway.Edge.Uplink;

namespace FactoryGateway.Edge.Health;

/// <summary>The disk buffer as the operator sees it.</summary>
/// <param name="BytesOnDisk">Bytes the buffer's segment files take.</param>
/// <param name="MaxBytes">The configured bound.</param>
/// <param name="PendingMemoryBytes">Lines waiting in memory for the next flush.</param>
/// <param name="Full">Whether new data is refused (or held back) now.</param>
/// <param name="Overflow">The overflow policy.</param>
/// <param name="Refused">Sample lines refused because the buffer was full.</param>
/// <param name="Records">Records appended since start.</param>
/// <param name="Lines">Lines appended since start.</param>
public sealed record BufferStatus(long BytesOnDisk, long MaxBytes, long PendingMemoryBytes, bool Full, string Overflow, long Refused, long Records, long Lines);

/// <summary>Everything <c>fgw edge status</c> and <c>/status</c> show.</summary>
public sealed record EdgeStatus(string EdgeId, string Enterprise, DateTimeOffset Time, BufferStatus Buffer, UplinkStats Uplink, IReadOnlyList<DeviceHealth> Devices);
