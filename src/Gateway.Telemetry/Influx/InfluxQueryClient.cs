using System.Net.Http.Headers;

namespace FactoryGateway.Telemetry.Influx;

/// <summary>
/// Runs InfluxQL through <c>POST /query</c> (form fields <c>q</c>, <c>db</c>, <c>rp</c>, <c>epoch=ns</c>) on one
/// <see cref="InfluxTarget"/>. A v1 target queries its database; a v2 target uses InfluxDB 2.x's 1.x
/// compatibility endpoint with the bucket as <c>db</c> and the token (the bucket needs a DBRP mapping
/// there). Outcomes are <see cref="InfluxQueryResult"/> values, as with <see cref="InfluxWriteClient"/>.
/// </summary>
public sealed class InfluxQueryClient
{
    private readonly HttpClient _http;
    private readonly TimeProvider _timeProvider;
    private readonly TimeSpan _requestTimeout;
    private readonly AuthenticationHeaderValue? _authorization;
    private readonly Uri _queryUri;

    /// <inheritdoc cref="InfluxWriteClient(HttpClient, InfluxTarget, TimeProvider, TimeSpan?)"/>
    public InfluxQueryClient(HttpClient httpClient, InfluxTarget target, TimeProvider timeProvider, TimeSpan? requestTimeout = null)
    {
        ArgumentNullException.ThrowIfNull(httpClient);
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(timeProvider);
        target.Validate();
        _requestTimeout = requestTimeout ?? InfluxHttp.DefaultRequestTimeout;
        InfluxHttp.CheckTimeout(_requestTimeout, nameof(requestTimeout));
        _http = httpClient;
        _timeProvider = timeProvider;
        Target = target;
        _queryUri = new Uri(InfluxHttp.Root(target.BaseUrl), "query");
        _authorization = InfluxHttp.Authorization(target);
    }

    public InfluxTarget Target { get; }

    /// <summary>Runs <paramref name="influxQl"/>; timestamps in the answer are Unix nanoseconds.</summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> fired.</exception>
    public async Task<InfluxQueryResult> QueryAsync(string influxQl, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(influxQl);
        cancellationToken.ThrowIfCancellationRequested();
        var form = new List<KeyValuePair<string, string>>
        {
            new("q", influxQl),
            new("db", Target.ApiVersion == InfluxApiVersion.V2 ? Target.Bucket! : Target.Database!),
            new("epoch", "ns"),
        };
        if (Target.RetentionPolicy is not null)
        {
            form.Add(new("rp", Target.RetentionPolicy));
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, _queryUri) { Content = new FormUrlEncodedContent(form) };
        request.Headers.Authorization = _authorization;
        using RequestDeadline deadline = InfluxHttp.StartDeadline(_requestTimeout, _timeProvider, cancellationToken);
        try
        {
            using HttpResponseMessage response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, deadline.Token);
            int status = (int)response.StatusCode;
            InfluxResultKind kind = InfluxWriteResult.Classify(status);
            return new InfluxQueryResult
            {
                Kind = kind,
                StatusCode = status,
                RetryAfter = InfluxHttp.RetryAfter(response, _timeProvider),
                Json = kind == InfluxResultKind.Success ? await response.Content.ReadAsStringAsync(deadline.Token) : null,
                Error = kind == InfluxResultKind.Success ? null : await InfluxHttp.ReadErrorAsync(response.Content, deadline.Token),
            };
        }
        catch (HttpRequestException ex)
        {
            return new InfluxQueryResult { Kind = InfluxResultKind.NetworkError, Error = InfluxHttp.DescribeNetworkError(ex) };
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            return new InfluxQueryResult { Kind = InfluxResultKind.NetworkError, Error = $"the request timed out ({InfluxHttp.DescribeNetworkError(ex)})" };
        }
    }
}
