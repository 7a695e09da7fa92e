using System.Buffers;
using System.IO.Compression;
using System.Net.Http.Headers;

namespace FactoryGateway.Telemetry.Influx;

/// <summary>
/// Writes line protocol to one <see cref="InfluxTarget"/> over HTTP: <c>POST /write?db=…&amp;precision=ns</c>
/// (v1) or <c>POST /api/v2/write?org=…&amp;bucket=…&amp;precision=ns</c> with <c>Authorization: Token …</c>
/// (v2), optionally gzip-compressed. Every expected outcome — success, any HTTP error status, a network
/// failure or a timeout — is an <see cref="InfluxWriteResult"/>; only misuse throws, and cancellation
/// through the caller's token throws <see cref="OperationCanceledException"/>. Safe for concurrent use.
/// </summary>
/// <remarks>
/// The caller owns the <see cref="HttpClient"/> (its handler, connection pool and lifetime); this class
/// never disposes it. InfluxDB 1.x answers a write with 204 once the points are in its WAL; a 400
/// "partial write" means the points that parsed and fit the schema were written and the others dropped.
/// </remarks>
public sealed class InfluxWriteClient
{
    private readonly HttpClient _http;
    private readonly TimeProvider _timeProvider;
    private readonly TimeSpan _requestTimeout;
    private readonly AuthenticationHeaderValue? _authorization;

    /// <param name="httpClient">The caller's client; its own <see cref="HttpClient.Timeout"/> applies as well.</param>
    /// <param name="target">Where to write; validated here.</param>
    /// <param name="timeProvider">The clock for request timeouts and for <c>Retry-After</c> dates.</param>
    /// <param name="requestTimeout">
    /// How long one request may take before it ends as <see cref="InfluxResultKind.NetworkError"/>; null for
    /// 30 s (see the remarks on the default), <see cref="Timeout.InfiniteTimeSpan"/> to rely on the
    /// HttpClient's timeout alone.
    /// </param>
    public InfluxWriteClient(HttpClient httpClient, InfluxTarget target, TimeProvider timeProvider, TimeSpan? requestTimeout = null)
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
        WriteUri = BuildWriteUri(target);
        _authorization = InfluxHttp.Authorization(target);
    }

    public InfluxTarget Target { get; }

    /// <summary>The write endpoint with its query string (no credentials: those go in the Authorization header).</summary>
    public Uri WriteUri { get; }

    /// <summary>
    /// Posts <paramref name="lineProtocol"/> (newline-separated lines with nanosecond timestamps). With
    /// <paramref name="gzip"/> the body is compressed first (fastest level, into a pooled buffer) and sent
    /// with <c>Content-Encoding: gzip</c>. <paramref name="lineProtocol"/> must stay unchanged until the
    /// returned task completes.
    /// </summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> fired.</exception>
    public async Task<InfluxWriteResult> WriteAsync(ReadOnlyMemory<byte> lineProtocol, bool gzip, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        byte[]? compressed = null;
        int compressedLength = 0;
        HttpContent content;
        if (gzip)
        {
            compressed = Compress(lineProtocol.Span, out compressedLength);
            content = new ByteArrayContent(compressed, 0, compressedLength);
            content.Headers.ContentEncoding.Add("gzip");
        }
        else
        {
            content = new ReadOnlyMemoryContent(lineProtocol);
        }

        content.Headers.ContentType = new MediaTypeHeaderValue("text/plain") { CharSet = "utf-8" };
        long requestBytes = gzip ? compressedLength : lineProtocol.Length;
        InfluxWriteResult? result = null;
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, WriteUri) { Content = content };
            request.Headers.Authorization = _authorization;
            result = await SendAsync(request, requestBytes, cancellationToken);
            return result;
        }
        finally
        {
            // A server may answer an error before it has read the whole body, and the handler may still be
            // sending from the buffer then; only a success proves the body was consumed. Otherwise the
            // buffer is left to the GC rather than handed to another renter while it might be read.
            if (compressed is not null && result is { IsSuccess: true })
            {
                ArrayPool<byte>.Shared.Return(compressed);
            }
        }
    }

    private async Task<InfluxWriteResult> SendAsync(HttpRequestMessage request, long requestBytes, CancellationToken cancellationToken)
    {
        using RequestDeadline deadline = InfluxHttp.StartDeadline(_requestTimeout, _timeProvider, cancellationToken);
        try
        {
            using HttpResponseMessage response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, deadline.Token);
            int status = (int)response.StatusCode;
            InfluxResultKind kind = InfluxWriteResult.Classify(status);
            return new InfluxWriteResult
            {
                Kind = kind,
                StatusCode = status,
                RetryAfter = InfluxHttp.RetryAfter(response, _timeProvider),
                Error = kind == InfluxResultKind.Success ? null : await InfluxHttp.ReadErrorAsync(response.Content, deadline.Token),
                RequestBytes = requestBytes,
            };
        }
        catch (HttpRequestException ex)
        {
            return NetworkError(InfluxHttp.DescribeNetworkError(ex), requestBytes);
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            // Our deadline or HttpClient.Timeout, not the caller.
            return NetworkError($"the request timed out ({InfluxHttp.DescribeNetworkError(ex)})", requestBytes);
        }
    }

    private static InfluxWriteResult NetworkError(string error, long requestBytes) => new()
    {
        Kind = InfluxResultKind.NetworkError,
        StatusCode = 0,
        Error = error,
        RequestBytes = requestBytes,
    };

    private static byte[] Compress(ReadOnlySpan<byte> lineProtocol, out int length)
    {
        // Line protocol compresses 5-10x at the fastest level; a quarter of the input avoids most regrowth.
        var output = new PooledBufferStream(lineProtocol.Length / 4);
        try
        {
            using (var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true))
            {
                gzip.Write(lineProtocol);
            }

            return output.Detach(out length);
        }
        finally
        {
            output.Dispose();
        }
    }

    private static Uri BuildWriteUri(InfluxTarget target)
    {
        Uri root = InfluxHttp.Root(target.BaseUrl);
        string relative = target.ApiVersion == InfluxApiVersion.V2
            ? $"api/v2/write?org={Uri.EscapeDataString(target.Organization!)}&bucket={Uri.EscapeDataString(target.Bucket!)}&precision=ns"
            : target.RetentionPolicy is null
                ? $"write?db={Uri.EscapeDataString(target.Database!)}&precision=ns"
                : $"write?db={Uri.EscapeDataString(target.Database!)}&rp={Uri.EscapeDataString(target.RetentionPolicy)}&precision=ns";
        return new Uri(root, relative);
    }
}
