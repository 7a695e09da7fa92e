namespace FactoryGateway.Telemetry.Influx;

/// <summary>The outcome of <see cref="InfluxQueryClient.QueryAsync"/>.</summary>
public sealed record InfluxQueryResult
{
    public required InfluxResultKind Kind { get; init; }

    /// <summary>The HTTP status code; 0 when no response arrived.</summary>
    public int StatusCode { get; init; }

    /// <summary>
    /// The JSON answer on success. InfluxQL reports a failed statement inside a 200 answer
    /// (<c>{"results":[{"statement_id":0,"error":"…"}]}</c>), so a caller checks each result's <c>error</c>.
    /// </summary>
    public string? Json { get; init; }

    /// <summary>The <c>Retry-After</c> header as a delay, when present.</summary>
    public TimeSpan? RetryAfter { get; init; }

    /// <summary>The error body (at most <see cref="InfluxWriteResult.MaxErrorBytes"/> bytes of it) or the network error's message.</summary>
    public string? Error { get; init; }

    public bool IsSuccess => Kind == InfluxResultKind.Success;
}
