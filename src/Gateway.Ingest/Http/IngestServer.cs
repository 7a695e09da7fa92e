using System.Buffers;
using System.Globalization;
using System.IO.Compression;
using System.IO.Pipelines;
using System.Text;
using System.Text.Json;
using FactoryGateway.Evidence;
using FactoryGateway.Ingest.Buffers;
using FactoryGateway.Ingest.Edges;
using FactoryGateway.Ingest.Metrics;
using FactoryGateway.Telemetry.LineProtocol;
using FactoryGateway.Telemetry.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FactoryGateway.Ingest.Http;

/// <summary>
/// The ingest's HTTP face on Kestrel: the InfluxDB-compatible write API (<c>POST /api/v2/write</c>,
/// <c>POST /write</c>), <c>/ping</c>, <c>/health</c>, <c>/ready</c>, <c>/metrics</c> (Prometheus) and
/// <c>GET /api/v1/unregistered</c>, <c>GET /api/v1/edges</c>. WAL consumers (the InfluxDB forwarder)
/// run beside it for its lifetime.
/// </summary>
public sealed class IngestServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private IngestServer(WebApplication app, IngestService service)
    {
        _app = app;
        Service = service;
    }

    public IngestService Service { get; }

    /// <summary>The addresses Kestrel bound (with the real port when 0 was asked for).</summary>
    public IReadOnlyList<Uri> Addresses { get; private set; } = [];

    /// <summary>Starts the service and Kestrel on <paramref name="urls"/> (e.g. <c>http://127.0.0.1:0</c>).</summary>
    /// <param name="consumers">Creates the WAL consumers once the WAL is open; see <see cref="IngestService.Start"/>.</param>
    /// <param name="metrics">Extra <c>/metrics</c> sections (the forwarder's counters).</param>
    public static async Task<IngestServer> StartAsync(
        string urls,
        IngestOptions options,
        TokenStore tokens,
        DeviceRegister? register,
        Func<SegmentLog, IReadOnlyList<IWalConsumerService>>? consumers,
        Action<PrometheusTextWriter>? metrics,
        TimeProvider time,
        ILoggerFactory loggerFactory,
        CancellationToken cancellationToken)
    {
        IngestService service = IngestService.Start(options, consumers, register, time, loggerFactory.CreateLogger<IngestService>());
        try
        {
            // Settings are read once at start. Reloading them on change (the host's default) watches the content
            // root, the working directory, recursively with inotify: every directory and file the service or
            // anything else creates below it then costs a watch and an event.
            WebApplicationBuilder builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = ["--hostBuilder:reloadConfigOnChange=false"] });
            builder.Logging.ClearProviders();
            builder.Services.AddSingleton(loggerFactory);
            builder.WebHost.UseUrls(urls);
            builder.WebHost.ConfigureKestrel(kestrel =>
            {
                kestrel.AddServerHeader = false;
                // The wire body bound; a gzip body is bounded again after decoding (MaxBodyBytes).
                kestrel.Limits.MaxRequestBodySize = options.Limits.MaxBodyBytes;
            });
            WebApplication app = builder.Build();
            var endpoints = new Endpoints(service, tokens, register, metrics);
            endpoints.Map(app);
            var server = new IngestServer(app, service);
            await app.StartAsync(cancellationToken);
            server.Addresses = [.. app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Select(a => new Uri(a))];

            return server;
        }
        catch
        {
            await service.DisposeAsync();
            throw;
        }
    }

    /// <summary>Completes when the host is asked to stop (Ctrl+C, SIGTERM).</summary>
    public Task WaitForShutdownAsync(CancellationToken cancellationToken) => _app.WaitForShutdownAsync(cancellationToken);

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        await Service.DisposeAsync();
    }

    private sealed class Endpoints(IngestService service, TokenStore tokens, DeviceRegister? register, Action<PrometheusTextWriter>? extraMetrics)
    {
        private const string JsonContentType = "application/json; charset=utf-8";

        // Messages quote the offending bytes; keep their quotes readable (\" rather than \u0022). The
        // bodies are application/json, never embedded in HTML.
        private static readonly JsonWriterOptions s_jsonOptions = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

        public void Map(WebApplication app)
        {
            app.MapPost("/api/v2/write", context => WriteAsync(context, v1: false));
            app.MapPost("/write", context => WriteAsync(context, v1: true));
            app.MapMethods("/ping", ["GET", "HEAD"], context =>
            {
                context.Response.Headers["X-Influxdb-Version"] = "FactoryGateway";
                context.Response.StatusCode = 204;
                return Task.CompletedTask;
            });
            app.MapGet("/health", context => WriteJsonAsync(context, 200, w =>
            {
                w.WriteString("name", "factorygateway-ingest");
                w.WriteString("status", "pass");
            }));
            app.MapGet("/ready", ReadyAsync);
            app.MapGet("/metrics", MetricsAsync);
            app.MapGet("/api/v1/unregistered", UnregisteredAsync);
            app.MapGet("/api/v1/edges", EdgesAsync);
        }

        private async Task WriteAsync(HttpContext context, bool v1)
        {
            HttpRequest request = context.Request;
            long? wireBytes = request.ContentLength;
            if (wireBytes is long bytes)
            {
                service.Metrics.BytesReceived.Add(bytes);
            }

            TokenPrincipal? principal = Authenticate(request, v1, out string? authError);
            if (principal is null)
            {
                await ErrorAsync(context, v1, WriteOutcome.Error(401, "unauthorized", authError!), "unauthorized");
                return;
            }

            if (!TryParseTarget(request, v1, out string? target, out string? targetError))
            {
                await ErrorAsync(context, v1, WriteOutcome.Error(400, "invalid", targetError!), "bad_parameters");
                return;
            }

            if (!TimestampPrecisions.TryParse(request.Query["precision"].ToString() is { Length: > 0 } p ? p : null, out TimestampPrecision precision))
            {
                await ErrorAsync(context, v1, WriteOutcome.Error(400, "invalid", $"precision \"{request.Query["precision"]}\" is not one of ns, us, ms, s, m, h"), "bad_parameters");
                return;
            }

            if (!TryParseEdge(request, out string? edge, out long? sequence, out string? edgeError))
            {
                await ErrorAsync(context, v1, WriteOutcome.Error(400, "invalid", edgeError!), "bad_parameters");
                return;
            }

            long limit = service.Options.Limits.MaxBodyBytes;
            var write = new WriteRequest { Principal = principal, Target = target!, Precision = precision, EdgeId = edge, EdgeSequence = sequence };
            WriteOutcome outcome;
            string encoding = request.Headers.ContentEncoding.ToString();
            try
            {
                if (encoding.Length == 0 || encoding.Equals("identity", StringComparison.OrdinalIgnoreCase))
                {
                    outcome = await WritePlainAsync(request.BodyReader, write, limit, context.RequestAborted);
                }
                else if (encoding.Equals("gzip", StringComparison.OrdinalIgnoreCase))
                {
                    outcome = await WriteGzipAsync(request.Body, write, limit, context.RequestAborted);
                }
                else
                {
                    outcome = WriteOutcome.Error(415, "invalid", $"Content-Encoding \"{encoding}\" is not supported; send identity or gzip");
                }
            }
            catch (Microsoft.AspNetCore.Http.BadHttpRequestException error) when (error.StatusCode == 413)
            {
                outcome = TooLarge(limit);
            }

            if (outcome.StatusCode == 204)
            {
                service.Metrics.Requests["204"].Increment();
                if (outcome.Duplicate)
                {
                    context.Response.Headers["X-FG-Duplicate"] = "true";
                }

                context.Response.StatusCode = 204;
                return;
            }

            await ErrorAsync(context, v1, outcome, reason: null);
        }

        private async Task<WriteOutcome> WritePlainAsync(PipeReader reader, WriteRequest write, long limit, CancellationToken cancellationToken)
        {
            ReadResult result;
            while (true)
            {
                result = await reader.ReadAsync(cancellationToken);
                if (result.Buffer.Length > limit)
                {
                    reader.AdvanceTo(result.Buffer.End);
                    return TooLarge(limit);
                }

                if (result.IsCompleted)
                {
                    break;
                }

                // Examined everything, consumed nothing: the next read returns the whole body so far.
                reader.AdvanceTo(result.Buffer.Start, result.Buffer.End);
            }

            try
            {
                return await service.WriteAsync(write, result.Buffer, cancellationToken);
            }
            finally
            {
                reader.AdvanceTo(result.Buffer.End);
            }
        }

        private async Task<WriteOutcome> WriteGzipAsync(Stream body, WriteRequest write, long limit, CancellationToken cancellationToken)
        {
            using var buffer = new PooledBufferWriter(64 * 1024, limit);
            try
            {
                await using var gzip = new GZipStream(body, CompressionMode.Decompress, leaveOpen: true);
                while (true)
                {
                    Memory<byte> memory = buffer.GetMemory(16 * 1024);
                    int read = await gzip.ReadAsync(memory, cancellationToken);
                    if (read == 0)
                    {
                        break;
                    }

                    buffer.Advance(read);
                }
            }
            catch (BufferLimitExceededException)
            {
                return TooLarge(limit);
            }
            catch (InvalidDataException error)
            {
                return WriteOutcome.Error(400, "invalid", $"the gzip body cannot be decoded: {error.Message}");
            }

            return await service.WriteAsync(write, new ReadOnlySequence<byte>(buffer.WrittenMemory), cancellationToken);
        }

        private static WriteOutcome TooLarge(long limit) =>
            WriteOutcome.Error(413, "request too large", string.Create(CultureInfo.InvariantCulture, $"the body exceeds {limit} bytes (MaxBodyBytes) after decoding"));

        private TokenPrincipal? Authenticate(HttpRequest request, bool v1, out string? error)
        {
            string header = request.Headers.Authorization.ToString();
            bool tokenScheme = TokenStore.TryReadAuthorizationHeader(header, out ReadOnlySpan<char> token);
            if (!tokenScheme && v1 && header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
            {
                // InfluxDB 1.x clients send the token as the password of user:password.
                try
                {
                    string decoded = Encoding.UTF8.GetString(Convert.FromBase64String(header[6..].Trim()));
                    int colon = decoded.IndexOf(':', StringComparison.Ordinal);
                    token = colon >= 0 ? decoded.AsSpan(colon + 1) : default;
                }
                catch (FormatException)
                {
                    error = "the Basic authorization header is not valid base64";
                    return null;
                }
            }
            else if (!tokenScheme && v1 && request.Query.TryGetValue("p", out var password))
            {
                token = password.ToString();
            }

            if (token.IsEmpty)
            {
                error = v1
                    ? "missing token: send Authorization: Token <token>, or the token as password (p=, or Basic auth)"
                    : "missing token: send Authorization: Token <token>";
                return null;
            }

            TokenPrincipal? principal = tokens.Authenticate(token);
            error = principal is null ? "invalid or revoked token" : null;
            return principal;
        }

        private static bool TryParseTarget(HttpRequest request, bool v1, out string? target, out string? error)
        {
            error = null;
            if (v1)
            {
                string db = request.Query["db"].ToString();
                string rp = request.Query["rp"].ToString();
                target = rp.Length > 0 ? $"{db}/{rp}" : db;
                error = db.Length == 0 ? "database is required: /write?db=<database>" : null;
            }
            else
            {
                target = request.Query["bucket"].ToString();
                error = target.Length == 0 ? "bucket is required: /api/v2/write?org=<org>&bucket=<bucket>" : null;
            }

            return error is null;
        }

        private bool TryParseEdge(HttpRequest request, out string? edge, out long? sequence, out string? error)
        {
            edge = null;
            sequence = null;
            error = null;
            string edgeHeader = request.Headers["X-FG-Edge"].ToString();
            string sequenceHeader = request.Headers["X-FG-Seq"].ToString();
            if (edgeHeader.Length == 0 && sequenceHeader.Length == 0)
            {
                return true;
            }

            if (edgeHeader.Length == 0 || sequenceHeader.Length == 0)
            {
                error = "X-FG-Edge and X-FG-Seq go together: send both or neither";
                return false;
            }

            if (Encoding.UTF8.GetByteCount(edgeHeader) > service.Options.MaxEdgeIdBytes || edgeHeader.Any(char.IsControl))
            {
                error = $"X-FG-Edge must be at most {service.Options.MaxEdgeIdBytes} bytes without control characters";
                return false;
            }

            if (!long.TryParse(sequenceHeader, NumberStyles.None, CultureInfo.InvariantCulture, out long parsed) || parsed < 1)
            {
                error = $"X-FG-Seq \"{sequenceHeader}\" is not a positive integer";
                return false;
            }

            edge = edgeHeader;
            sequence = parsed;
            return true;
        }

        private async Task ErrorAsync(HttpContext context, bool v1, WriteOutcome outcome, string? reason)
        {
            if (reason is not null)
            {
                service.CountRejected(reason);
            }

            service.Metrics.Requests[outcome.StatusCode.ToString(CultureInfo.InvariantCulture)].Increment();
            if (outcome.RetryAfter is TimeSpan retry)
            {
                context.Response.Headers.RetryAfter = ((int)Math.Ceiling(retry.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
            }

            await WriteJsonAsync(context, outcome.StatusCode, w =>
            {
                w.WriteString("code", outcome.ErrorCode);
                w.WriteString("message", outcome.Message);
                if (v1)
                {
                    // InfluxDB 1.x clients read "error".
                    w.WriteString("error", outcome.Message);
                }
            });
        }

        private async Task ReadyAsync(HttpContext context)
        {
            SegmentLogStats wal = service.Wal.GetStats();
            bool full = service.WalFull || wal.BytesOnDisk > service.Options.WalBackpressureFraction * service.Options.WalMaxBytes;
            bool failed = !service.ConsumerFailures.IsEmpty;
            await WriteJsonAsync(context, full || failed ? 503 : 200, w =>
            {
                w.WriteString("status", full || failed ? "fail" : "ready");
                w.WriteNumber("walBytes", wal.BytesOnDisk);
                w.WriteNumber("walMaxBytes", service.Options.WalMaxBytes);
                if (full)
                {
                    w.WriteString("message", "the WAL is full or above its back-pressure mark; writes get 429/503 until consumers catch up");
                }

                foreach ((string consumer, string error) in service.ConsumerFailures)
                {
                    w.WriteString($"consumer:{consumer}", error);
                }
            });
        }

        private async Task MetricsAsync(HttpContext context)
        {
            IngestMetrics m = service.Metrics;
            SegmentLogStats wal = service.Wal.GetStats();
            var text = new PrometheusTextWriter()
                .Counter("fgw_ingest_requests_total", "Write requests by HTTP status.", m.Requests)
                .Counter("fgw_ingest_points_accepted_total", "Points made durable in the WAL and acknowledged.", m.PointsAccepted.Value)
                .Counter("fgw_ingest_points_rejected_total", "Points in rejected writes, by reason.", m.PointsRejected)
                .Counter("fgw_ingest_requests_rejected_total", "Rejected write requests, by reason.", m.RequestsRejected)
                .Counter("fgw_ingest_bytes_received_total", "Request body bytes on the wire.", m.BytesReceived.Value)
                .Counter("fgw_ingest_bytes_decoded_total", "Accepted body bytes after gzip decoding.", m.BytesDecoded.Value)
                .Counter("fgw_ingest_points_late_total", "Accepted points older than the late window on arrival.", m.PointsLate.Value)
                .Counter("fgw_ingest_points_ent_added_total", "Accepted points that got the token's enterprise as ent tag.", m.PointsEnterpriseTagAdded.Value)
                .Counter("fgw_ingest_points_tags_sorted_total", "Accepted points whose tags the ingest put in key order, as InfluxDB wants them.", m.PointsTagsSorted.Value)
                .Counter("fgw_ingest_points_unregistered_total", "Accepted points from devices not in the register.", m.PointsUnregistered.Value)
                .Counter("fgw_ingest_edge_duplicate_batches_total", "Edge batches replayed after acknowledgement (answered 204, not applied).", m.DuplicateBatches.Value)
                .Counter("fgw_ingest_edge_sequence_gaps_total", "Edge sequence gaps detected.", m.SequenceGaps.Value)
                .Gauge("fgw_ingest_edge_missing_batches", "Edge batches never received (sum of gap sizes).", service.Edges.MissingBatches)
                .Gauge("fgw_wal_bytes", "Bytes of WAL segments on disk.", wal.BytesOnDisk)
                .Gauge("fgw_wal_max_bytes", "The WAL's disk bound.", service.Options.WalMaxBytes)
                .Gauge("fgw_wal_segments", "WAL segment files.", wal.Segments)
                .Counter("fgw_wal_appends_total", "WAL appends.", wal.Appends)
                .Counter("fgw_wal_fsyncs_total", "WAL fsyncs (group commit: fewer than appends under load).", wal.Fsyncs)
                .Counter("fgw_wal_full_rejections_total", "Appends refused because the WAL was full.", wal.FullRejections);
            extraMetrics?.Invoke(text);
            context.Response.ContentType = PrometheusTextWriter.ContentType;
            await context.Response.WriteAsync(text.ToString(), context.RequestAborted);
        }

        private async Task UnregisteredAsync(HttpContext context)
        {
            TokenPrincipal? principal = Authenticate(context.Request, v1: false, out string? error);
            if (principal is null)
            {
                await ErrorAsync(context, false, WriteOutcome.Error(401, "unauthorized", error!), "unauthorized");
                return;
            }

            string? enterprise = context.Request.Query["ent"].ToString() is { Length: > 0 } e ? e : null;
            if (principal.Role == TokenRole.Enterprise)
            {
                if (enterprise is not null && enterprise != principal.Enterprise)
                {
                    await ErrorAsync(context, false, WriteOutcome.Error(403, "forbidden", "enterprise tokens read their own enterprise only"), "forbidden");
                    return;
                }

                enterprise = principal.Enterprise;
            }

            IReadOnlyList<UnregisteredDevice> devices = register?.ListUnregistered(enterprise) ?? [];
            if (principal.Role == TokenRole.Bureau)
            {
                devices = [.. devices.Where(d => RegionOf(d.Enterprise).StartsWith(RegionPrefix(principal.Region!), StringComparison.Ordinal))];
            }

            await WriteJsonAsync(context, 200, w =>
            {
                w.WriteStartArray("devices");
                foreach (UnregisteredDevice device in devices)
                {
                    w.WriteStartObject();
                    w.WriteString("ent", device.Enterprise);
                    w.WriteString("dev", device.Device);
                    w.WriteNumber("points", device.Points);
                    w.WriteString("firstSeen", DateTimeOffset.UnixEpoch.AddTicks(device.FirstSeenUnixNanoseconds / 100));
                    w.WriteString("lastSeen", DateTimeOffset.UnixEpoch.AddTicks(device.LastSeenUnixNanoseconds / 100));
                    w.WriteEndObject();
                }

                w.WriteEndArray();
            });
        }

        private async Task EdgesAsync(HttpContext context)
        {
            TokenPrincipal? principal = Authenticate(context.Request, v1: false, out string? error);
            if (principal is null || principal.Role != TokenRole.Admin)
            {
                await ErrorAsync(context, false, principal is null ? WriteOutcome.Error(401, "unauthorized", error!) : WriteOutcome.Error(403, "forbidden", "admin tokens only"), principal is null ? "unauthorized" : "forbidden");
                return;
            }

            IReadOnlyList<EdgeStatus> edges = service.Edges.Snapshot();
            await WriteJsonAsync(context, 200, w =>
            {
                w.WriteStartArray("edges");
                foreach (EdgeStatus edge in edges)
                {
                    w.WriteStartObject();
                    w.WriteString("edge", edge.EdgeId);
                    w.WriteNumber("lastSequence", edge.LastSequence);
                    w.WriteNumber("batches", edge.Batches);
                    w.WriteNumber("duplicates", edge.Duplicates);
                    w.WriteNumber("missingBatches", edge.MissingBatches);
                    w.WriteStartArray("gaps");
                    foreach (SequenceGap gap in edge.RecentGaps)
                    {
                        w.WriteStartObject();
                        w.WriteNumber("from", gap.From);
                        w.WriteNumber("to", gap.To);
                        w.WriteString("detectedAt", gap.DetectedAt);
                        w.WriteEndObject();
                    }

                    w.WriteEndArray();
                    w.WriteEndObject();
                }

                w.WriteEndArray();
            });
        }

        /// <summary>Positions 3–8 of a unified social credit code: the registering authority's region (GB 32100-2015).</summary>
        private static string RegionOf(string creditCode) => creditCode.Length >= 8 ? creditCode[2..8] : string.Empty;

        /// <summary>A region code without its trailing zero pairs: 330400 (a city) covers 3304xx (its counties).</summary>
        private static string RegionPrefix(string region)
        {
            string prefix = region;
            while (prefix.Length > 2 && prefix.EndsWith("00", StringComparison.Ordinal))
            {
                prefix = prefix[..^2];
            }

            return prefix;
        }

        private static async Task WriteJsonAsync(HttpContext context, int status, Action<Utf8JsonWriter> body)
        {
            context.Response.StatusCode = status;
            context.Response.ContentType = JsonContentType;
            var buffer = new ArrayBufferWriter<byte>(256);
            using (var writer = new Utf8JsonWriter(buffer, s_jsonOptions))
            {
                writer.WriteStartObject();
                body(writer);
                writer.WriteEndObject();
            }

            await context.Response.Body.WriteAsync(buffer.WrittenMemory, context.RequestAborted);
        }
    }
}
