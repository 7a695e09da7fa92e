namespace FactoryGateway.Evidence;

/// <summary>Who an authenticated request comes from: the token's non-secret id and its scope.</summary>
public sealed record TokenPrincipal
{
    /// <summary>The token's id (16 lower-case hex characters), safe to log.</summary>
    public required string TokenId { get; init; }

    public required TokenRole Role { get; init; }

    /// <summary>The enterprise's unified social credit code for <see cref="TokenRole.Enterprise"/>; otherwise null.</summary>
    public required string? Enterprise { get; init; }

    /// <summary>The GB/T 2260 region code for <see cref="TokenRole.Bureau"/>; otherwise null.</summary>
    public required string? Region { get; init; }

    /// <summary>
    /// True when this principal may write telemetry tagged with <paramref name="enterprise"/>: an admin for
    /// any enterprise, an enterprise token for its own credit code only, a bureau never.
    /// </summary>
    public bool MayWrite(string enterprise) => Role switch
    {
        TokenRole.Admin => true,
        TokenRole.Enterprise => string.Equals(Enterprise, enterprise, StringComparison.Ordinal),
        _ => false,
    };
}
