using System.Text.Json.Serialization;

namespace FactoryGateway.Evidence;

/// <summary>
/// A device that sent data but is not in the register: what <c>GET /api/v1/unregistered</c> lists so that
/// an operator can register it.
/// </summary>
public sealed record UnregisteredDevice
{
    /// <summary>The enterprise credit code the data was tagged with (<c>ent</c>).</summary>
    [JsonPropertyName("enterprise")]
    public required string Enterprise { get; init; }

    /// <summary>The device id the data was tagged with (<c>dev</c>).</summary>
    [JsonPropertyName("device")]
    public required string Device { get; init; }

    /// <summary>The earliest time it was recorded, Unix nanoseconds.</summary>
    [JsonPropertyName("first_seen_ns")]
    public required long FirstSeenUnixNanoseconds { get; init; }

    /// <summary>The latest time it was recorded, Unix nanoseconds.</summary>
    [JsonPropertyName("last_seen_ns")]
    public required long LastSeenUnixNanoseconds { get; init; }

    /// <summary>The points recorded for it.</summary>
    [JsonPropertyName("points")]
    public required long Points { get; init; }
}
