using System.Text.Json.Serialization;

namespace FactoryGateway.Evidence;

/// <summary>What a token may do. Stored in SQLite as its lower-case name; JSON as its name.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<TokenRole>))]
public enum TokenRole
{
    /// <summary>Writes telemetry for one enterprise (its unified social credit code) and reads that enterprise's own data.</summary>
    Enterprise = 1,

    /// <summary>A supervising bureau: reads the enterprises of one region (a GB/T 2260 county or city code); never writes.</summary>
    Bureau = 2,

    /// <summary>Operates the gateway: may write for any enterprise and read everything.</summary>
    Admin = 3,
}
