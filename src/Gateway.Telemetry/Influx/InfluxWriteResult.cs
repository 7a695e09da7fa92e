namespace FactoryGateway.Telemetry.Influx;

/// <summary>How an InfluxDB request ended. Every expected outcome is a kind; only programming errors throw.</summary>
public enum InfluxResultKind
{
    /// <summary>2xx: InfluxDB took the request (a write answered 204 is durable in InfluxDB's WAL).</summary>
    Success = 0,

    /// <summary>413: the body exceeds the server's limit (InfluxDB 1.x <c>[http] max-body-size</c>); send less per request.</summary>
    TooLarge = 1,

    /// <summary>429 or 503: the server is saturated or unavailable for now; retry, after <see cref="InfluxWriteResult.RetryAfter"/> when given.</summary>
    Throttled = 2,

    /// <summary>
    /// Any other 4xx: the server refused the request as it is (400 bad or partially written line protocol,
    /// 401/403 credentials, 404 database or bucket not found, 422 unprocessable); sending it again unchanged fails again.
    /// </summary>
    Rejected = 3,

    /// <summary>Any other 5xx: a server fault; retry.</summary>
    ServerError = 4,

    /// <summary>No HTTP answer: connection refused or reset, DNS, TLS, or the request timed out; retry.</summary>
    NetworkError = 5,

    /// <summary>A status outside 2xx/4xx/5xx (an unfollowed 3xx, say): not InfluxDB's answer; retry.</summary>
    UnexpectedStatus = 6,
}

/// <summary>The outcome of <see cref="InfluxWriteClient.WriteAsync"/>.</summary>
public sealed record InfluxWriteResult
{
    /// <summary>The most bytes of an error body kept in <see cref="Error"/>.</summary>
    public const int MaxErrorBytes = 2 * 1024;

    public required InfluxResultKind Kind { get; init; }

    /// <summary>The HTTP status code; 0 when no response arrived (<see cref="InfluxResultKind.NetworkError"/>).</summary>
    public int StatusCode { get; init; }

    /// <summary>The <c>Retry-After</c> header as a delay (an HTTP date is converted against the client's clock), when present.</summary>
    public TimeSpan? RetryAfter { get; init; }

    /// <summary>
    /// InfluxDB's error body as text, at most <see cref="MaxErrorBytes"/> bytes of it (then "…"), for an
    /// unsuccessful status; the exception's message for a network error; null on success.
    /// </summary>
    public string? Error { get; init; }

    /// <summary>The request body's size on the wire (after gzip).</summary>
    public long RequestBytes { get; init; }

    public bool IsSuccess => Kind == InfluxResultKind.Success;

    /// <summary>True when sending the same request later may succeed: throttled, server errors, network errors, unexpected statuses.</summary>
    public bool IsRetryable => Kind is InfluxResultKind.Throttled or InfluxResultKind.ServerError or InfluxResultKind.NetworkError or InfluxResultKind.UnexpectedStatus;

    /// <summary>Maps an HTTP status code to its kind.</summary>
    public static InfluxResultKind Classify(int statusCode) => statusCode switch
    {
        >= 200 and < 300 => InfluxResultKind.Success,
        413 => InfluxResultKind.TooLarge,
        429 or 503 => InfluxResultKind.Throttled,
        >= 400 and < 500 => InfluxResultKind.Rejected,
        >= 500 and < 600 => InfluxResultKind.ServerError,
        _ => InfluxResultKind.UnexpectedStatus,
    };
}
