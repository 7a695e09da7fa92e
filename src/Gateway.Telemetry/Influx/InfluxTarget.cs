using System.Diagnostics.CodeAnalysis;
using System.Text;

namespace FactoryGateway.Telemetry.Influx;

/// <summary>Which InfluxDB HTTP API a <see cref="InfluxTarget"/> speaks.</summary>
public enum InfluxApiVersion
{
    /// <summary>InfluxDB 1.x: <c>/write?db=…[&amp;rp=…]</c> and <c>/query</c>, optional user and password.</summary>
    V1 = 1,

    /// <summary>InfluxDB 2.x/3.x: <c>/api/v2/write?org=…&amp;bucket=…</c> with <c>Authorization: Token …</c>.</summary>
    V2 = 2,
}

/// <summary>
/// Where points go: an InfluxDB base URL and either a v1 database (with optional retention policy and
/// credentials) or a v2 organisation, bucket and token. Create one with <see cref="ForV1"/> or
/// <see cref="ForV2"/>; the clients call <see cref="Validate"/>. <see cref="object.ToString"/> never prints
/// the password or the token.
/// </summary>
public sealed record InfluxTarget
{
    /// <summary>The server's base URL, for example <c>http://127.0.0.1:8086/</c>; a path prefix (a reverse proxy's) is kept.</summary>
    public required Uri BaseUrl { get; init; }

    public required InfluxApiVersion ApiVersion { get; init; }

    /// <summary>v1: the database (<c>db</c>).</summary>
    public string? Database { get; init; }

    /// <summary>v1: the retention policy (<c>rp</c>); null for the database's default.</summary>
    public string? RetentionPolicy { get; init; }

    /// <summary>
    /// v1: the user (<c>u</c>); null when authentication is off. Sent with <see cref="Password"/> as HTTP
    /// Basic authentication, which InfluxDB 1.x accepts as well as the <c>u</c>/<c>p</c> query parameters
    /// and which keeps the password out of URLs and access logs.
    /// </summary>
    public string? Username { get; init; }

    /// <summary>v1: the password (<c>p</c>).</summary>
    public string? Password { get; init; }

    /// <summary>v2: the organisation (<c>org</c>).</summary>
    public string? Organization { get; init; }

    /// <summary>v2: the bucket.</summary>
    public string? Bucket { get; init; }

    /// <summary>v2: the API token, sent as <c>Authorization: Token …</c>.</summary>
    public string? Token { get; init; }

    /// <summary>A v1 target: <c>/write?db=…</c> and <c>/query</c>.</summary>
    public static InfluxTarget ForV1(Uri baseUrl, string database, string? retentionPolicy = null, string? username = null, string? password = null) => new()
    {
        BaseUrl = baseUrl,
        ApiVersion = InfluxApiVersion.V1,
        Database = database,
        RetentionPolicy = retentionPolicy,
        Username = username,
        Password = password,
    };

    /// <summary>A v2 target: <c>/api/v2/write?org=…&amp;bucket=…</c> with a token.</summary>
    public static InfluxTarget ForV2(Uri baseUrl, string organization, string bucket, string token) => new()
    {
        BaseUrl = baseUrl,
        ApiVersion = InfluxApiVersion.V2,
        Organization = organization,
        Bucket = bucket,
        Token = token,
    };

    /// <summary>Throws <see cref="ArgumentException"/> naming the member that is missing or wrong, and why.</summary>
    public void Validate()
    {
        if (BaseUrl is null || !BaseUrl.IsAbsoluteUri || (BaseUrl.Scheme != Uri.UriSchemeHttp && BaseUrl.Scheme != Uri.UriSchemeHttps))
        {
            throw Invalid(nameof(BaseUrl), "must be an absolute http or https URL", BaseUrl);
        }

        if (BaseUrl.Query.Length > 0 || BaseUrl.Fragment.Length > 0)
        {
            throw Invalid(nameof(BaseUrl), "must not carry a query or fragment (the client adds the parameters)", BaseUrl);
        }

        switch (ApiVersion)
        {
            case InfluxApiVersion.V1:
                if (string.IsNullOrEmpty(Database))
                {
                    throw Invalid(nameof(Database), "is required by the v1 API", Database);
                }

                if (Password is not null && Username is null)
                {
                    throw Invalid(nameof(Username), "is required when a password is set", Username);
                }

                if (Organization is not null || Bucket is not null || Token is not null)
                {
                    throw Invalid(nameof(ApiVersion), "is V1, so Organization, Bucket and Token must be null", ApiVersion);
                }

                break;
            case InfluxApiVersion.V2:
                if (string.IsNullOrEmpty(Organization))
                {
                    throw Invalid(nameof(Organization), "is required by the v2 API", Organization);
                }

                if (string.IsNullOrEmpty(Bucket))
                {
                    throw Invalid(nameof(Bucket), "is required by the v2 API", Bucket);
                }

                if (string.IsNullOrEmpty(Token))
                {
                    throw Invalid(nameof(Token), "is required by the v2 API", "(empty)");
                }

                if (Database is not null || RetentionPolicy is not null || Username is not null || Password is not null)
                {
                    throw Invalid(nameof(ApiVersion), "is V2, so Database, RetentionPolicy, Username and Password must be null", ApiVersion);
                }

                break;
            default:
                throw Invalid(nameof(ApiVersion), "must be V1 or V2", ApiVersion);
        }
    }

    // Records print every property; this one leaves the secrets out. The compiler calls it from ToString.
    [SuppressMessage("Style", "IDE0051:Remove unused private members", Justification = "Called by the record's synthesized ToString.")]
    private bool PrintMembers(StringBuilder builder)
    {
        builder.Append("BaseUrl = ").Append(BaseUrl).Append(", ApiVersion = ").Append(ApiVersion);
        if (ApiVersion == InfluxApiVersion.V1)
        {
            builder.Append(", Database = ").Append(Database);
            if (RetentionPolicy is not null)
            {
                builder.Append(", RetentionPolicy = ").Append(RetentionPolicy);
            }

            if (Username is not null)
            {
                builder.Append(", Username = ").Append(Username).Append(", Password = ").Append(Password is null ? "(none)" : "***");
            }
        }
        else
        {
            builder.Append(", Organization = ").Append(Organization).Append(", Bucket = ").Append(Bucket).Append(", Token = ***");
        }

        return true;
    }

    private static ArgumentException Invalid(string member, string reason, object? value) =>
        new($"InfluxTarget.{member} {reason} (was {value?.ToString() ?? "null"}).", member);
}
