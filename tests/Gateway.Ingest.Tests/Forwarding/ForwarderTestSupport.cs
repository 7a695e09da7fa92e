using System.Buffers;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using FactoryGateway.Ingest.Forwarding;
using FactoryGateway.Ingest.Wal;
using FactoryGateway.Telemetry.Influx;
using FactoryGateway.Telemetry.Storage;
using FactoryGateway.Testing;
using Microsoft.Extensions.Logging;

namespace FactoryGateway.Ingest.Tests.Forwarding;

/// <summary>A WAL in a temporary directory, a dead-letter directory beside it, and helpers to fill the WAL with ingest records.</summary>
internal sealed class ForwarderRig : IAsyncDisposable
{
    public const long StartNanoseconds = 1_795_000_000_000_000_000;

    /// <summary>How long a test waits for something that should happen within seconds on a loaded machine.</summary>
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    private readonly TempDirectory _dir = new("forwarder");

    /// <param name="handler">Answers the forwarder's HTTP requests in place of a server; null for real HTTP.</param>
    public ForwarderRig(HttpMessageHandler? handler = null)
    {
        Log = OpenLog();
        Http = handler is null ? new HttpClient() : new HttpClient(handler);
    }

    public SegmentLog Log { get; private set; }

    public HttpClient Http { get; }

    public string DeadLetterDirectory => _dir.Combine("deadletter");

    /// <summary>The canonical line of point <paramref name="index"/>: its own timestamp, <c>seq</c> = index.</summary>
    public static string Line(int index, string measurement = "telemetry") => string.Create(CultureInfo.InvariantCulture,
        $"{measurement},ent=91330402MA2B3C4D5E,dev=cnc-{index % 8:D2},edge=edge-01 seq={index}i,spindle_current_a={12.5 + (index % 17 / 4.0)} {StartNanoseconds + (index * 1_000_000L)}");

    public ForwarderOptions Options(Action<ForwarderOptions>? configure = null)
    {
        var options = new ForwarderOptions
        {
            DeadLetterDirectory = DeadLetterDirectory,
            // Short waits against a real server: the tests do not wait for seconds of backoff or linger.
            InitialBackoff = TimeSpan.FromMilliseconds(20),
            MaxBackoff = TimeSpan.FromMilliseconds(250),
            FlushInterval = TimeSpan.FromMilliseconds(50),
        };
        configure?.Invoke(options);
        return options;
    }

    public InfluxForwarder Forwarder(InfluxTarget target, ForwarderOptions options, TimeProvider? timeProvider = null, TimeSpan? requestTimeout = null)
    {
        TimeProvider time = timeProvider ?? TimeProvider.System;
        var client = new InfluxWriteClient(Http, target, time, requestTimeout);
        return new InfluxForwarder(Log, client, options, time, new TestLogger<InfluxForwarder>());
    }

    /// <summary>Appends points [<paramref name="first"/>, first + count) as ingest records of <paramref name="perRecord"/> points each.</summary>
    public async Task<List<long>> AppendPointsAsync(int first, int count, int perRecord, Func<int, string>? line = null)
    {
        var positions = new List<long>();
        for (int start = first; start < first + count; start += perRecord)
        {
            int end = Math.Min(first + count, start + perRecord);
            var body = new StringBuilder();
            for (int i = start; i < end; i++)
            {
                body.Append(line?.Invoke(i) ?? Line(i)).Append('\n');
            }

            positions.Add(await AppendBodyAsync(body.ToString(), end - start));
        }

        return positions;
    }

    /// <summary>Appends one ingest record holding <paramref name="body"/> (newline-terminated lines).</summary>
    public async Task<long> AppendBodyAsync(string body, int points)
    {
        var record = new IngestRecord
        {
            ArrivalNanoseconds = StartNanoseconds,
            EdgeId = "edge-01",
            EdgeSequence = 1,
            Enterprise = "91330402MA2B3C4D5E",
            Target = "raw",
            PointCount = points,
            Body = Encoding.UTF8.GetBytes(body),
        };
        var buffer = new ArrayBufferWriter<byte>(record.EncodedLength);
        record.Encode(buffer);
        LogAppendResult result = await Log.AppendAsync(buffer.WrittenMemory);
        Assert.Equal(LogAppendStatus.Appended, result.Status);
        return result.Position;
    }

    /// <summary>Closes the WAL and opens it again, as a process restart would.</summary>
    public async Task ReopenAsync()
    {
        await Log.DisposeAsync();
        Log = OpenLog();
    }

    public async ValueTask DisposeAsync()
    {
        await Log.DisposeAsync();
        Http.Dispose();
        _dir.Dispose();
    }

    private SegmentLog OpenLog() => SegmentLog.Open(new SegmentLogOptions
    {
        Directory = _dir.Combine("wal"),
        SegmentBytes = 1024 * 1024,
        MaxTotalBytes = 256L * 1024 * 1024,
    });
}

/// <summary>A forwarder's <see cref="InfluxForwarder.RunAsync"/> on the thread pool, stopped (and its failure surfaced) on dispose.</summary>
internal sealed class RunningForwarder : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _run;

    public RunningForwarder(InfluxForwarder forwarder)
    {
        Forwarder = forwarder;
        _run = Task.Run(() => forwarder.RunAsync(_stop.Token));
    }

    public InfluxForwarder Forwarder { get; }

    public ForwarderStats Stats => Forwarder.GetStats();

    /// <summary>Waits until the forwarder has caught up with the WAL and forwarded at least <paramref name="points"/> points.</summary>
    public Task WaitForwardedAsync(long points) =>
        WaitUntilAsync(s => s.LagBytes == 0 && s.PointsForwarded + s.PointsDeadLettered >= points, $"{points} points forwarded and no lag");

    /// <summary>Polls the stats until <paramref name="condition"/> holds, failing at <see cref="ForwarderRig.Deadline"/> with the last stats.</summary>
    public async Task WaitUntilAsync(Func<ForwarderStats, bool> condition, string what)
    {
        using var deadline = new CancellationTokenSource(ForwarderRig.Deadline);
        while (!condition(Stats))
        {
            if (_run.IsCompleted)
            {
                await _run; // surfaces the forwarder's failure
                Assert.Fail($"The forwarder stopped before {what}: {Stats}");
            }

            try
            {
                await Task.WhenAny(_run, Task.Delay(TimeSpan.FromMilliseconds(20), deadline.Token));
            }
            catch (OperationCanceledException)
            {
            }

            if (deadline.IsCancellationRequested)
            {
                Assert.Fail($"Not {what} within {ForwarderRig.Deadline}: {Stats}");
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await _run;
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            _stop.Dispose();
        }
    }
}

/// <summary>Queries against the real InfluxDB that the forwarder tests assert with.</summary>
internal static class InfluxAssert
{
    /// <summary>The distinct timestamps of every point of <paramref name="measurement"/> that has <paramref name="field"/>.</summary>
    public static async Task<HashSet<long>> TimestampsAsync(InfluxDbServer influx, string database, string measurement, string field)
    {
        using JsonDocument result = await influx.QueryAsync(database, $"SELECT \"{field}\" FROM \"{measurement}\"", TestContext.Current.CancellationToken);
        var timestamps = new HashSet<long>();
        JsonElement statement = result.RootElement.GetProperty("results")[0];
        if (statement.TryGetProperty("series", out JsonElement series))
        {
            foreach (JsonElement s in series.EnumerateArray())
            {
                foreach (JsonElement row in s.GetProperty("values").EnumerateArray())
                {
                    timestamps.Add(row[0].GetInt64());
                }
            }
        }

        return timestamps;
    }

    /// <summary>Asserts that InfluxDB holds exactly points [0, <paramref name="count"/>) of <see cref="ForwarderRig.Line"/>: the count and every timestamp once.</summary>
    public static async Task ExactlyAsync(InfluxDbServer influx, string database, int count, string measurement = "telemetry")
    {
        Assert.Equal(count, await influx.CountAsync(database, measurement, "seq", TestContext.Current.CancellationToken));
        HashSet<long> timestamps = await TimestampsAsync(influx, database, measurement, "seq");
        Assert.Equal(count, timestamps.Count);
        Assert.True(timestamps.SetEquals(Enumerable.Range(0, count).Select(i => ForwarderRig.StartNanoseconds + (i * 1_000_000L))),
            "InfluxDB holds other timestamps than the ones written.");
    }
}

/// <summary>
/// An HTTP handler that answers write requests from a script, for the outcomes InfluxDB 1.6.7 never produces
/// (429/503 with Retry-After) and for exact timing under a manual clock. Each received request is published.
/// </summary>
internal sealed class ScriptedInflux : HttpMessageHandler
{
    private readonly Channel<(string Body, int Status)> _received = Channel.CreateUnbounded<(string, int)>();
    private readonly Func<int, HttpResponseMessage> _answer;
    private int _requests;

    public ScriptedInflux(Func<int, HttpResponseMessage> answer)
    {
        _answer = answer;
    }

    public int Requests => Volatile.Read(ref _requests);

    public static HttpResponseMessage Status(HttpStatusCode status, TimeSpan? retryAfter = null)
    {
        var response = new HttpResponseMessage(status) { Content = new StringContent(status == HttpStatusCode.NoContent ? "" : $"{{\"error\":\"scripted {(int)status}\"}}") };
        if (retryAfter is { } delay)
        {
            response.Headers.RetryAfter = new System.Net.Http.Headers.RetryConditionHeaderValue(delay);
        }

        return response;
    }

    /// <summary>The next request's (decompressed) body and the status it was answered with.</summary>
    public async Task<(string Body, int Status)> NextAsync()
    {
        using var deadline = new CancellationTokenSource(ForwarderRig.Deadline);
        return await _received.Reader.ReadAsync(deadline.Token);
    }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        Stream content = await request.Content!.ReadAsStreamAsync(cancellationToken);
        if (request.Content.Headers.ContentEncoding.Contains("gzip"))
        {
            content = new System.IO.Compression.GZipStream(content, System.IO.Compression.CompressionMode.Decompress);
        }

        using var reader = new StreamReader(content, Encoding.UTF8);
        string body = await reader.ReadToEndAsync(cancellationToken);
        int index = Interlocked.Increment(ref _requests) - 1;
        HttpResponseMessage response = _answer(index);
        _received.Writer.TryWrite((body, (int)response.StatusCode));
        return response;
    }
}

/// <summary>A logger that writes to the running test's output.</summary>
internal sealed class TestLogger<T> : ILogger<T>
{
    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Debug;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        try
        {
            TestContext.Current.TestOutputHelper?.WriteLine($"{DateTimeOffset.UtcNow:HH:mm:ss.fff} {logLevel} [{eventId.Id}] {formatter(state, exception)}");
        }
        catch (InvalidOperationException)
        {
            // The test that owns the output has finished.
        }
    }
}
