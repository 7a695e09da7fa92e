using System.Globalization;
using System.Net;
using System.Text;

namespace FactoryGateway.Telemetry.Tests.Influx;

/// <summary>Line protocol and helpers shared by the InfluxDB client tests.</summary>
internal static class InfluxTestData
{
    public const long StartNanoseconds = 1_795_000_000_000_000_000;

    /// <summary>
    /// <paramref name="count"/> canonical lines of one measurement, each with its own timestamp, spread over
    /// eight devices so that the body looks like real telemetry (and compresses like it).
    /// </summary>
    public static byte[] Lines(string measurement, int count, long startNanoseconds = StartNanoseconds)
    {
        var text = new StringBuilder(count * 96);
        for (int i = 0; i < count; i++)
        {
            text.Append(CultureInfo.InvariantCulture,
                $"{measurement},ent=91330402MA2B3C4D5E,dev=cnc-{i % 8:D2},edge=edge-01 seq={i}i,spindle_current_a={12.5 + (i % 17 / 4.0)},state=4i {startNanoseconds + (i * 1_000_000L)}\n");
        }

        return Encoding.UTF8.GetBytes(text.ToString());
    }
}

/// <summary>A clock fixed at one instant (timers still run on real time).</summary>
internal sealed class FixedTimeProvider(DateTimeOffset now) : TimeProvider
{
    public override DateTimeOffset GetUtcNow() => now;
}

/// <summary>
/// An HTTP handler that answers from a function, for what InfluxDB 1.6.7 never sends (429/503 with
/// Retry-After, huge error bodies) and for the shape of v2 requests, which 1.6.7 cannot serve.
/// </summary>
internal sealed class StubHandler(Func<HttpRequestMessage, CancellationToken, Task<HttpResponseMessage>> answer) : HttpMessageHandler
{
    public List<(HttpRequestMessage Request, byte[] Body)> Requests { get; } = [];

    public static StubHandler Answering(HttpStatusCode status, string body = "", Action<HttpResponseMessage>? configure = null) =>
        new((_, _) =>
        {
            var response = new HttpResponseMessage(status) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
            configure?.Invoke(response);
            return Task.FromResult(response);
        });

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        byte[] body = request.Content is null ? [] : await request.Content.ReadAsByteArrayAsync(cancellationToken);
        Requests.Add((request, body));
        return await answer(request, cancellationToken);
    }
}
