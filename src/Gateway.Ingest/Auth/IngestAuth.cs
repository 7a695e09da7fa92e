namespace FactoryGateway.Ingest.Auth;

/// <summary>What a write token may do.</summary>
public enum IngestRole
{
    /// <summary>Writes its own enterprise's data only.</summary>
    Enterprise,

    /// <summary>A bureau (工信局): reads the enterprises of its region; never writes.</summary>
    Bureau,

    /// <summary>Operates the service; may write for any enterprise.</summary>
    Admin,
}

/// <summary>The authenticated caller of a request.</summary>
public sealed record IngestPrincipal
{
    public required string TokenId { get; init; }

    public required IngestRole Role { get; init; }

    /// <summary>Unified social credit code, for <see cref="IngestRole.Enterprise"/> tokens.</summary>
    public string? Enterprise { get; init; }

    /// <summary>Region code, for <see cref="IngestRole.Bureau"/> tokens.</summary>
    public string? Region { get; init; }
}

/// <summary>Checks a presented token. Implementations compare secrets in constant time and never log them.</summary>
public interface IIngestAuthenticator
{
    /// <summary>The principal of <paramref name="token"/>, or null when it is unknown, revoked or malformed.</summary>
    IngestPrincipal? Authenticate(ReadOnlySpan<char> token);
}

/// <summary>The asset register as the ingest sees it: is a device registered, and which are not.</summary>
public interface IDeviceRegister
{
    bool IsRegistered(string enterprise, string device);

    /// <summary>Records devices seen in accepted data that are not in the register.</summary>
    void RecordUnregistered(IReadOnlyCollection<UnregisteredSighting> sightings);

    IReadOnlyList<UnregisteredDevice> ListUnregistered(string? enterprise);
}

/// <summary>Points from a device that is not in the register, seen in one accepted batch.</summary>
public sealed record UnregisteredSighting(string Enterprise, string Device, long Points, long SeenAtUnixNanoseconds);

/// <summary>A device that sent data but is not in the register.</summary>
public sealed record UnregisteredDevice
{
    public required string Enterprise { get; init; }

    public required string Device { get; init; }

    public required long Points { get; init; }

    public required DateTimeOffset FirstSeen { get; init; }

    public required DateTimeOffset LastSeen { get; init; }
}
