using System.Buffers;
using System.Net.Http.Headers;
using System.Text;

namespace FactoryGateway.Telemetry.Influx;

/// <summary>What the write and query clients share: endpoints, credentials, timeouts and error bodies.</summary>
internal static class InfluxHttp
{
    /// <summary>
    /// The default per-request timeout. InfluxDB answers a 5,000-line write in tens of milliseconds; 30 s
    /// leaves room for a compaction or GC stall, while a connection that hangs is abandoned and retried
    /// about twice a minute rather than after HttpClient's 100 s default.
    /// </summary>
    public static readonly TimeSpan DefaultRequestTimeout = TimeSpan.FromSeconds(30);

    /// <summary>The base URL with a trailing slash, so that relative endpoints keep a path prefix.</summary>
    public static Uri Root(Uri baseUrl) =>
        baseUrl.AbsolutePath.EndsWith('/') ? baseUrl : new Uri(baseUrl.GetLeftPart(UriPartial.Path) + "/");

    public static AuthenticationHeaderValue? Authorization(InfluxTarget target)
    {
        if (target.ApiVersion == InfluxApiVersion.V2)
        {
            return new AuthenticationHeaderValue("Token", target.Token);
        }

        if (target.Username is null)
        {
            return null;
        }

        string credentials = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{target.Username}:{target.Password}"));
        return new AuthenticationHeaderValue("Basic", credentials);
    }

    public static void CheckTimeout(TimeSpan requestTimeout, string parameterName)
    {
        if (requestTimeout != Timeout.InfiniteTimeSpan && requestTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(parameterName, requestTimeout, "The request timeout must be positive or Timeout.InfiniteTimeSpan.");
        }
    }

    /// <summary>A token that fires on the caller's cancellation or after <paramref name="requestTimeout"/> on <paramref name="timeProvider"/>'s clock.</summary>
    public static RequestDeadline StartDeadline(TimeSpan requestTimeout, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        if (requestTimeout == Timeout.InfiniteTimeSpan)
        {
            return new RequestDeadline(null, null, cancellationToken);
        }

        var timeout = new CancellationTokenSource(requestTimeout, timeProvider);
        var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        return new RequestDeadline(timeout, linked, linked.Token);
    }

    /// <summary>The <c>Retry-After</c> header as a delay; an HTTP date in the past gives zero.</summary>
    public static TimeSpan? RetryAfter(HttpResponseMessage response, TimeProvider timeProvider)
    {
        RetryConditionHeaderValue? retryAfter = response.Headers.RetryAfter;
        if (retryAfter?.Delta is { } delta)
        {
            return delta < TimeSpan.Zero ? TimeSpan.Zero : delta;
        }

        if (retryAfter?.Date is { } date)
        {
            TimeSpan delay = date - timeProvider.GetUtcNow();
            return delay < TimeSpan.Zero ? TimeSpan.Zero : delay;
        }

        return null;
    }

    /// <summary>
    /// Reads at most <see cref="InfluxWriteResult.MaxErrorBytes"/> of an error body as UTF-8 text, cut at a
    /// character boundary and followed by "…" when the body was longer. Never throws for I/O: a body that
    /// cannot be read is described instead.
    /// </summary>
    public static async Task<string> ReadErrorAsync(HttpContent content, CancellationToken cancellationToken)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(InfluxWriteResult.MaxErrorBytes + 1);
        try
        {
            using Stream stream = await content.ReadAsStreamAsync(cancellationToken);
            int length = 0;
            int read;
            while (length < InfluxWriteResult.MaxErrorBytes + 1
                && (read = await stream.ReadAsync(buffer.AsMemory(length, InfluxWriteResult.MaxErrorBytes + 1 - length), cancellationToken)) > 0)
            {
                length += read;
            }

            bool truncated = length > InfluxWriteResult.MaxErrorBytes;
            if (truncated)
            {
                length = Utf8Boundary(buffer.AsSpan(0, InfluxWriteResult.MaxErrorBytes));
            }

            string text = Encoding.UTF8.GetString(buffer, 0, length).TrimEnd();
            return truncated ? text + "…" : text;
        }
        catch (Exception ex) when (ex is IOException or HttpRequestException)
        {
            return $"(the error body could not be read: {ex.Message})";
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Describes a failure that produced no HTTP answer.</summary>
    public static string DescribeNetworkError(Exception error)
    {
        var text = new StringBuilder(error.GetType().Name).Append(": ").Append(error.Message);
        for (Exception? inner = error.InnerException; inner is not null; inner = inner.InnerException)
        {
            text.Append(" ---> ").Append(inner.GetType().Name).Append(": ").Append(inner.Message);
        }

        return text.ToString();
    }

    // The length of the longest prefix that does not end inside a multi-byte UTF-8 sequence.
    private static int Utf8Boundary(ReadOnlySpan<byte> bytes)
    {
        int end = bytes.Length;
        int start = end;
        while (start > 0 && end - start < 4 && (bytes[start - 1] & 0xC0) == 0x80)
        {
            start--; // continuation bytes
        }

        if (start == 0)
        {
            return end;
        }

        byte lead = bytes[start - 1];
        int sequenceLength = lead < 0x80 ? 1 : lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
        return end - (start - 1) >= sequenceLength ? end : start - 1;
    }
}

/// <summary>The cancellation of one request: the caller's token, plus a timeout on an injected clock.</summary>
internal readonly struct RequestDeadline : IDisposable
{
    private readonly CancellationTokenSource? _timeout;
    private readonly CancellationTokenSource? _linked;

    public RequestDeadline(CancellationTokenSource? timeout, CancellationTokenSource? linked, CancellationToken token)
    {
        _timeout = timeout;
        _linked = linked;
        Token = token;
    }

    public CancellationToken Token { get; }

    public void Dispose()
    {
        _linked?.Dispose();
        _timeout?.Dispose();
    }
}
