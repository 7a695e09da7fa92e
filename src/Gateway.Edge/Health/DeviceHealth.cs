using FactoryGateway.Edge.Signals;

namespace FactoryGateway.Edge.Health;

/// <summary>An item of a device (node, topic, metric) that is not Good, with the server's reason.</summary>
public sealed record BadItem(string Item, uint Status, string? Reason, DateTimeOffset Since);

/// <summary>What the operator sees of one device.</summary>
/// <param name="Device">The device id.</param>
/// <param name="Source">The source that feeds it.</param>
/// <param name="Connected">Whether its source connection is up.</param>
/// <param name="Since">When it last connected or disconnected (null before either).</param>
/// <param name="LastDataAge">Time since its last sample (null before any).</param>
/// <param name="SamplesPerSecond">Samples taken per second over the last minute.</param>
/// <param name="Samples">Samples taken since start.</param>
/// <param name="Stale">Samples not taken because they repeated a value already taken.</param>
/// <param name="Refused">Samples refused because the buffer was full.</param>
/// <param name="BadItems">Items not Good now.</param>
/// <param name="Identity">What the device last said it is.</param>
public sealed record DeviceHealth(
    string Device,
    string Source,
    bool Connected,
    DateTimeOffset? Since,
    TimeSpan? LastDataAge,
    double SamplesPerSecond,
    long Samples,
    long Stale,
    long Refused,
    IReadOnlyList<BadItem> BadItems,
    DeviceIdentity? Identity);
