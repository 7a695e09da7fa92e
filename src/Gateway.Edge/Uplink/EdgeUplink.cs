using System.Collections.Concurrent;
using System.Globalization;
using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using FactoryGateway.Edge.Buffer;
using FactoryGateway.Edge.Config;
using FactoryGateway.Telemetry.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace FactoryGateway.Edge.Uplink;

/// <summary>
/// Sends the disk buffer to the ingest in order: gzip line-protocol batches to <c>/api/v2/write</c> with
/// <c>X-FG-Edge</c> and <c>X-FG-Seq</c>. A batch is a run of whole buffer records, planned and saved
/// (<see cref="UplinkState"/>) before its first send, so a resend after any failure or crash carries the same
/// lines under the same sequence number and the ingest counts it once. Data leaves the buffer (the
/// <c>uplink</c> cursor moves) only after the ingest's 204.
/// </summary>
/// <remarks>
/// Failures: no response, 5xx → retry with jittered exponential backoff; 429/503 → wait the
/// <c>Retry-After</c> the ingest gave; 401/403 → retry slowly and say the token is wrong; 413 → split the batch
/// in halves (same sequence number: nothing of it was applied); any other 4xx → the ingest will never take
/// these lines: when its message names the line (<c>line N: …</c>), that line goes to the batch's dead-letter file
/// with the reason and the rest is sent again; otherwise the whole batch does, and the uplink moves on. Either
/// way the sequence number is reused, as nothing of a refused request is applied, so the ingest sees no gap.
/// </remarks>
public sealed partial class EdgeUplink : IAsyncDisposable
{
    /// <summary>The buffer cursor the uplink keeps: segments behind it are deleted.</summary>
    public const string CursorName = "uplink";

    private readonly UplinkOptions _options;
    private readonly string _stateDirectory;
    private readonly EdgeBuffer _buffer;
    private readonly SegmentLog _log;
    private readonly HttpClient _http;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Uri _writeUri;
    private readonly string _edgeHeader;
    private readonly ConcurrentDictionary<int, long> _responses = new();
    private readonly MemoryStream _body = new();
    private UplinkState _state;
    private long _batches;
    private long _lines;
    private long _bytesSent;
    private long _retries;
    private long _deadBatches;
    private long _deadLines;
    private long _splits;
    private long _oldestUnsent; // append time (Unix ns) of the oldest unacknowledged record; 0 when none
    private string? _lastError;

    public EdgeUplink(
        UplinkOptions options,
        string edgeId,
        string enterprise,
        string stateDirectory,
        EdgeBuffer buffer,
        HttpMessageHandler? handler = null,
        TimeProvider? time = null,
        ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrEmpty(edgeId);
        ArgumentException.ThrowIfNullOrEmpty(enterprise);
        ArgumentNullException.ThrowIfNull(buffer);
        _options = options;
        _stateDirectory = stateDirectory;
        _buffer = buffer;
        _log = buffer.Log;
        _time = time ?? TimeProvider.System;
        _logger = logger ?? NullLogger.Instance;
        _http = new HttpClient(handler ?? new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(10), PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1) }, disposeHandler: true)
        {
            Timeout = options.RequestTimeout,
        };
        _writeUri = new Uri(
            new Uri(options.Url.EndsWith('/') ? options.Url : options.Url + "/"),
            $"api/v2/write?org={Uri.EscapeDataString(enterprise)}&bucket={Uri.EscapeDataString(options.Bucket)}&precision=ns");
        Directory.CreateDirectory(stateDirectory);
        _state = LoadState();
        _edgeHeader = $"{edgeId}/{_state.Stream}";
    }

    /// <summary>The <c>X-FG-Edge</c> header value: the edge id and this buffer's stream id.</summary>
    public string EdgeHeader => _edgeHeader;

    public UplinkStats GetStats()
    {
        long oldest = Interlocked.Read(ref _oldestUnsent);
        TimeSpan lag = oldest == 0 ? TimeSpan.Zero : _time.GetUtcNow() - DateTimeOffset.UnixEpoch.AddTicks(oldest / 100);
        UplinkState state = Volatile.Read(ref _state);
        return new UplinkStats(
            _edgeHeader,
            state.NextSequence - 1,
            Interlocked.Read(ref _batches),
            Interlocked.Read(ref _lines),
            Interlocked.Read(ref _bytesSent),
            Interlocked.Read(ref _retries),
            Interlocked.Read(ref _deadBatches),
            Interlocked.Read(ref _deadLines),
            Interlocked.Read(ref _splits),
            Math.Max(0, _log.TailPosition - state.Position),
            lag < TimeSpan.Zero ? TimeSpan.Zero : lag,
            Volatile.Read(ref _lastError),
            new Dictionary<int, long>(_responses));
    }

    /// <summary>Sends until <paramref name="cancellationToken"/> fires. A batch in flight at that moment is resent on the next start.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        try
        {
            await SendLoopAsync(cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopped; what is unsent stays in the buffer.
        }
    }

    private async Task SendLoopAsync(CancellationToken cancellationToken)
    {
        EdgeLog.UplinkStarted(_logger, _options.Url, _edgeHeader, _state.Pending?.Sequence ?? _state.NextSequence, _log.TailPosition - _state.Position);
        int attempt = 0;
        DateTimeOffset? outageStart = null;
        while (!cancellationToken.IsCancellationRequested)
        {
            PendingBatch? pending = _state.Pending;
            if (pending is null)
            {
                Interlocked.Exchange(ref _oldestUnsent, 0);
                if (!await _log.WaitForAppendAsync(_state.Position, cancellationToken))
                {
                    return; // the buffer closed
                }

                pending = Plan(_state.Position, _state.NextSequence, out long nothingBefore);
                if (pending is null)
                {
                    // The tail moved into a new segment whose first record is not durable yet: wait for it.
                    if (!await _log.WaitForAppendAsync(nothingBefore, cancellationToken))
                    {
                        return;
                    }

                    continue;
                }

                Save(_state with { Pending = pending });
            }

            if (pending.Skip.Count >= pending.Lines)
            {
                MoveOn(pending, sequenceUsed: false); // every line was refused: nothing to send, the sequence number is still free
                continue;
            }

            Outcome outcome;
            try
            {
                outcome = await SendAsync(pending, cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }

            switch (outcome.Kind)
            {
                case OutcomeKind.Acknowledged:
                    Acknowledge(pending, outcome.CompressedBytes);
                    if (outageStart is { } start)
                    {
                        TimeSpan outage = _time.GetUtcNow() - start;
                        long waiting = _log.TailPosition - _state.Position;
                        EdgeLog.UplinkRecovered(_logger, outage.TotalSeconds, waiting);
                        outageStart = null;
                    }

                    attempt = 0;
                    Volatile.Write(ref _lastError, null);
                    continue;
                case OutcomeKind.TooLarge when pending.Records > 1:
                    PendingBatch half = Plan(pending.From, pending.Sequence, out _, pending.Records / 2)!;
                    Interlocked.Increment(ref _splits);
                    EdgeLog.UplinkSplit(_logger, pending.Sequence, half.Records);
                    Save(_state with { Pending = half });
                    continue;
                case OutcomeKind.Refused when RefusedLine(pending, outcome.Reason) is int line:
                    // The ingest names the line it refused and applied nothing: keep that line aside, send the rest.
                    DeadLetterLines(pending, [line], outcome);
                    Save(_state with { Pending = pending with { Skip = [.. pending.Skip, line] } });
                    continue;
                case OutcomeKind.TooLarge:
                case OutcomeKind.Refused:
                    DeadLetterLines(pending, null, outcome);
                    MoveOn(pending, sequenceUsed: false);
                    continue;
            }

            // Retry: wait, then send the same batch again.
            outageStart ??= _time.GetUtcNow();
            Interlocked.Increment(ref _retries);
            Volatile.Write(ref _lastError, outcome.Reason);
            TimeSpan delay = outcome.RetryAfter ?? Backoff(attempt++, outcome.Kind == OutcomeKind.Unauthorised);
            if (outcome.Kind == OutcomeKind.Unauthorised)
            {
                EdgeLog.UplinkUnauthorised(_logger, outcome.Status, outcome.Reason, (long)delay.TotalMilliseconds);
            }
            else
            {
                EdgeLog.UplinkRetry(_logger, pending.Sequence, outcome.Reason, (long)delay.TotalMilliseconds);
            }

            try
            {
                await Task.Delay(delay, _time, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    public ValueTask DisposeAsync()
    {
        _http.Dispose();
        _body.Dispose();
        return ValueTask.CompletedTask;
    }

    private UplinkState LoadState()
    {
        long cursor = _log.RegisterCursor(CursorName);
        UplinkState? state = UplinkState.Load(_stateDirectory);
        if (state is null)
        {
            state = new UplinkState(Guid.NewGuid().ToString("N")[..12], 1, cursor, null);
            state.Save(_stateDirectory);
            return state;
        }

        long head = _log.HeadPosition;
        long tail = _log.TailPosition;
        if (state.Pending is { } pending && pending.To > tail)
        {
            // The records of the pending batch were lost (a power loss cut the buffer). The ingest may have
            // applied that sequence number: skip it, so new data is never taken for its replay.
            state = state with { NextSequence = pending.Sequence + 1, Pending = null };
        }

        if (state.Position > tail || state.Position < head)
        {
            state = state with { Position = Math.Clamp(state.Position, head, tail), Pending = null };
        }

        state.Save(_stateDirectory);
        return state;
    }

    private void Save(UplinkState state)
    {
        state.Save(_stateDirectory);
        Volatile.Write(ref _state, state);
    }

    // Plans the batch starting at `from`: whole records up to the line and byte limits (at least one record),
    // never across a segment (a read returns one segment's records).
    // Null when no durable record starts at or after `from` yet; `nothingBefore` is then where to wait.
    private PendingBatch? Plan(long from, long sequence, out long nothingBefore, int maxRecords = int.MaxValue)
    {
        using LogReadBatch read = _log.ReadBatch(from, Math.Min(maxRecords, 100_000), _options.BatchBytes);
        nothingBefore = read.NextPosition;
        if (read.Count == 0)
        {
            return null;
        }

        int records = 0;
        int lines = 0;
        long to = from;
        long oldest = 0;
        foreach (LogRecord record in read)
        {
            int recordLines = record.Payload.Span.Count((byte)'\n');
            if (records > 0 && (lines + recordLines > _options.BatchLines || records >= maxRecords))
            {
                break;
            }

            if (records == 0)
            {
                oldest = record.TimestampNanoseconds;
            }

            records++;
            lines += recordLines;
            to = record.Position + record.Payload.Length + LogFormatRecordHeader;
        }

        Interlocked.Exchange(ref _oldestUnsent, oldest);
        return new PendingBatch(sequence, from, to, records, lines);
    }

    // A record's header on disk (SegmentLog's format): length, CRC, sequence number, append time.
    private const int LogFormatRecordHeader = 24;

    private async Task<Outcome> SendAsync(PendingBatch batch, CancellationToken cancellationToken)
    {
        _body.SetLength(0);
        using (LogReadBatch read = _log.ReadBatch(batch.From, batch.Records, (int)(batch.To - batch.From)))
        {
            if (read.Count != batch.Records || read.NextPosition != batch.To)
            {
                throw new SegmentLogCorruptException(_log.DirectoryPath, batch.From, $"batch {batch.Sequence} planned {batch.Records} records up to {batch.To} but the buffer holds {read.Count} up to {read.NextPosition}");
            }

            if (Interlocked.Read(ref _oldestUnsent) == 0)
            {
                foreach (LogRecord record in read)
                {
                    Interlocked.Exchange(ref _oldestUnsent, record.TimestampNanoseconds);
                    break;
                }
            }

            using var gzip = new GZipStream(_body, CompressionLevel.Fastest, leaveOpen: true);
            int line = 0;
            foreach (LogRecord record in read)
            {
                if (batch.Skip.Count == 0)
                {
                    gzip.Write(record.Payload.Span);
                    continue;
                }

                ReadOnlySpan<byte> rest = record.Payload.Span;
                while (rest.Length > 0)
                {
                    int end = rest.IndexOf((byte)'\n') + 1;
                    if (!batch.Skip.Contains(line))
                    {
                        gzip.Write(rest[..end]);
                    }

                    rest = rest[end..];
                    line++;
                }
            }
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, _writeUri);
        var content = new ByteArrayContent(_body.GetBuffer(), 0, (int)_body.Length);
        content.Headers.ContentType = new MediaTypeHeaderValue("text/plain") { CharSet = "utf-8" };
        content.Headers.ContentEncoding.Add("gzip");
        request.Content = content;
        request.Headers.Authorization = new AuthenticationHeaderValue("Token", _options.Token);
        request.Headers.Add("X-FG-Edge", _edgeHeader);
        request.Headers.Add("X-FG-Seq", batch.Sequence.ToString(CultureInfo.InvariantCulture));

        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, cancellationToken);
        }
        catch (HttpRequestException e)
        {
            Count(0);
            return new Outcome(OutcomeKind.Retry, 0, $"no response: {e.Message}", null, 0);
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            Count(0);
            return new Outcome(OutcomeKind.Retry, 0, $"no response within {_options.RequestTimeout.TotalSeconds:0} s", null, 0);
        }

        using (response)
        {
            int status = (int)response.StatusCode;
            Count(status);
            if (response.IsSuccessStatusCode)
            {
                return new Outcome(OutcomeKind.Acknowledged, status, "", null, _body.Length);
            }

            string reason = await ReasonAsync(response, cancellationToken);
            return response.StatusCode switch
            {
                HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable => new Outcome(OutcomeKind.Retry, status, reason, RetryAfter(response), 0),
                HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden => new Outcome(OutcomeKind.Unauthorised, status, reason, null, 0),
                HttpStatusCode.RequestEntityTooLarge => new Outcome(OutcomeKind.TooLarge, status, reason, null, 0),
                HttpStatusCode.RequestTimeout => new Outcome(OutcomeKind.Retry, status, reason, null, 0),
                _ when status >= 500 => new Outcome(OutcomeKind.Retry, status, reason, RetryAfter(response), 0),
                _ => new Outcome(OutcomeKind.Refused, status, reason, null, 0),
            };
        }
    }

    private void Acknowledge(PendingBatch batch, long compressedBytes)
    {
        // The counters first, the state last: GetStats reads the state before the counters, so a snapshot that
        // shows these bytes no longer pending also counts their lines.
        Interlocked.Increment(ref _batches);
        Interlocked.Add(ref _lines, batch.Lines);
        Interlocked.Add(ref _bytesSent, compressedBytes);
        Save(new UplinkState(_state.Stream, batch.Sequence + 1, batch.To, null));
        _log.SetCursor(CursorName, batch.To);
        _buffer.RoomMayHaveFreed();
    }

    // Writes the refused lines (all of the batch when `lines` is null) with the reason to the batch's dead-letter file.
    private void DeadLetterLines(PendingBatch batch, IReadOnlyList<int>? lines, Outcome outcome)
    {
        string directory = Path.Combine(_stateDirectory, "dead-letter");
        Directory.CreateDirectory(directory);
        string file = Path.Combine(directory, $"seq{batch.Sequence.ToString(CultureInfo.InvariantCulture)}-{batch.From.ToString(CultureInfo.InvariantCulture)}.lp");
        int written = 0;
        using (var output = new FileStream(file, FileMode.Append, FileAccess.Write))
        {
            output.Write(Encoding.UTF8.GetBytes($"# {_time.GetUtcNow():O} refused by {_writeUri.GetLeftPart(UriPartial.Path)} with {outcome.Status}: {outcome.Reason.ReplaceLineEndings(" ")} (X-FG-Edge {_edgeHeader}, X-FG-Seq {batch.Sequence})\n"));
            using LogReadBatch read = _log.ReadBatch(batch.From, batch.Records, (int)(batch.To - batch.From));
            int line = 0;
            foreach (LogRecord record in read)
            {
                ReadOnlySpan<byte> rest = record.Payload.Span;
                while (rest.Length > 0)
                {
                    int end = rest.IndexOf((byte)'\n') + 1;
                    if (lines is null ? !batch.Skip.Contains(line) : lines.Contains(line))
                    {
                        output.Write(rest[..end]);
                        written++;
                    }

                    rest = rest[end..];
                    line++;
                }
            }

            output.Flush(flushToDisk: true);
        }

        if (lines is null)
        {
            Interlocked.Increment(ref _deadBatches);
        }

        Interlocked.Add(ref _deadLines, written);
        EdgeLog.UplinkDeadLetter(_logger, batch.Sequence, outcome.Status, outcome.Reason, written, file);
    }

    // Leaves a batch behind without an acknowledgement: the ingest applied none of it, so the next batch takes
    // its sequence number and the ingest sees no gap.
    private void MoveOn(PendingBatch batch, bool sequenceUsed)
    {
        Save(new UplinkState(_state.Stream, sequenceUsed ? batch.Sequence + 1 : batch.Sequence, batch.To, null));
        _log.SetCursor(CursorName, batch.To);
        _buffer.RoomMayHaveFreed();
    }

    // The batch line (0-based, counting skipped lines) the ingest's "line N: …" or "line N col C: …" names.
    private static int? RefusedLine(PendingBatch batch, string reason)
    {
        Match match = LineInError().Match(reason);
        if (!match.Success || !int.TryParse(match.Groups[1].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture, out int sent) || sent < 1)
        {
            return null;
        }

        // Line `sent` of the body that was sent; skipped lines were not in it.
        int seen = 0;
        for (int line = 0; line < batch.Lines; line++)
        {
            if (!batch.Skip.Contains(line) && ++seen == sent)
            {
                return line;
            }
        }

        return null;
    }

    [GeneratedRegex(@"^line (\d+)[ :]")]
    private static partial Regex LineInError();

    private void Count(int status) => _responses.AddOrUpdate(status, 1, (_, n) => n + 1);

    private TimeSpan Backoff(int attempt, bool slow)
    {
        double initial = (slow ? _options.MaxRetryDelay / 4 : _options.InitialRetryDelay).TotalMilliseconds;
        double ceiling = Math.Min(_options.MaxRetryDelay.TotalMilliseconds, initial * Math.Pow(2, Math.Min(attempt, 30)));
        // Jitter: half to the whole of the ceiling, so edges restarted together do not retry together.
        return TimeSpan.FromMilliseconds(ceiling * (0.5 + (Random.Shared.NextDouble() * 0.5)));
    }

    private TimeSpan? RetryAfter(HttpResponseMessage response)
    {
        RetryConditionHeaderValue? retry = response.Headers.RetryAfter;
        TimeSpan? delay = retry?.Delta ?? (retry?.Date is { } date ? date - _time.GetUtcNow() : null);
        return delay is { } d ? TimeSpan.FromTicks(Math.Clamp(d.Ticks, TimeSpan.TicksPerMillisecond * 100, _options.MaxRetryDelay.Ticks)) : null;
    }

    private static async Task<string> ReasonAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        string body;
        try
        {
            body = await response.Content.ReadAsStringAsync(cancellationToken);
        }
        catch (HttpRequestException e)
        {
            return $"{(int)response.StatusCode} {response.ReasonPhrase} (body unreadable: {e.Message})";
        }

        try
        {
            using JsonDocument json = JsonDocument.Parse(body);
            if (json.RootElement.ValueKind == JsonValueKind.Object && json.RootElement.TryGetProperty("message", out JsonElement message))
            {
                return Cap(message.ToString());
            }
        }
        catch (JsonException)
        {
            // Not InfluxDB-shaped: show the text.
        }

        return Cap(body.Length == 0 ? $"{(int)response.StatusCode} {response.ReasonPhrase}" : body);
    }

    private static string Cap(string text) => text.Length <= 300 ? text : text[..300] + "…";

    private enum OutcomeKind
    {
        Acknowledged,
        Retry,
        Unauthorised,
        TooLarge,
        Refused,
    }

    private readonly record struct Outcome(OutcomeKind Kind, int Status, string Reason, TimeSpan? RetryAfter, long CompressedBytes);
}
