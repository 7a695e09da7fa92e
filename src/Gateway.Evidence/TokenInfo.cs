using System.Text.Json.Serialization;

namespace FactoryGateway.Evidence;

/// <summary>A stored token as listed for operators: everything but the hash (the plaintext is never stored).</summary>
public sealed record TokenInfo
{
    [JsonPropertyName("id")]
    public required string Id { get; init; }

    [JsonPropertyName("role")]
    public required TokenRole Role { get; init; }

    [JsonPropertyName("enterprise")]
    public required string? Enterprise { get; init; }

    [JsonPropertyName("region")]
    public required string? Region { get; init; }

    [JsonPropertyName("description")]
    public required string? Description { get; init; }

    /// <summary>When the token was created, Unix nanoseconds.</summary>
    [JsonPropertyName("created_ns")]
    public required long CreatedUnixNanoseconds { get; init; }

    /// <summary>When the token was revoked, Unix nanoseconds; null while it is active.</summary>
    [JsonPropertyName("revoked_ns")]
    public required long? RevokedUnixNanoseconds { get; init; }

    [JsonIgnore]
    public bool Revoked => RevokedUnixNanoseconds is not null;
}
