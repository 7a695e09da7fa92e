using System.Net.Http.Headers;
using FactoryGateway.Evidence;
using FactoryGateway.Ingest.Http;
using FactoryGateway.Ingest.Wal;
using FactoryGateway.Telemetry.Storage;
using FactoryGateway.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace FactoryGateway.Ingest.Tests.Http;

/// <summary>The enterprises and tokens every test host has: names a test can put in attributes.</summary>
internal static class TestTokens
{
    public const string EnterpriseA = "91330402MA2B3C4D53";
    public const string EnterpriseB = "91330421MA2C3D4E5E";
    public const string TokenA = "enterprise-a";
    public const string TokenB = "enterprise-b";
    public const string Bureau = "bureau-330402";
    public const string Admin = "admin";
}

/// <summary>A real ingest server (Kestrel on a free loopback port) over a temporary data directory.</summary>
internal sealed class IngestTestHost : IAsyncDisposable
{
    private readonly TempDirectory? _ownedDirectory;

    private readonly EvidenceStore _evidence;
    private readonly Dictionary<string, string> _tokens;

    private IngestTestHost(IngestServer server, HttpClient client, TempDirectory? ownedDirectory, IngestOptions options, EvidenceStore evidence, Dictionary<string, string> tokens)
    {
        Server = server;
        Client = client;
        _ownedDirectory = ownedDirectory;
        Options = options;
        _evidence = evidence;
        _tokens = tokens;
    }

    public DeviceRegister Register => _evidence.Devices;

    public IngestServer Server { get; }

    public HttpClient Client { get; }

    public IngestOptions Options { get; }

    public SegmentLog Wal => Server.Service.Wal;

    public static async Task<IngestTestHost> StartAsync(
        Action<IngestOptions>? configure = null, string? dataDirectory = null, TimeProvider? time = null, Func<SegmentLog, IReadOnlyList<IWalConsumerService>>? consumers = null)
    {
        TempDirectory? owned = dataDirectory is null ? new TempDirectory("ingest") : null;
        var options = new IngestOptions { DataDirectory = dataDirectory ?? owned!.Path };
        configure?.Invoke(options);
        // The real token store (SQLite in the data directory): the tokens are created, hashed and
        // checked exactly as in production. Reopening a data directory keeps its tokens.
        EvidenceStore evidence = EvidenceStore.Open(options.DataDirectory);
        Dictionary<string, string> tokens = LoadOrCreateTokens(evidence, options.DataDirectory);
        IngestServer server = await IngestServer.StartAsync(
            "http://127.0.0.1:0", options, evidence.Tokens, evidence.Devices, consumers, metrics: null,
            time ?? TimeProvider.System, NullLoggerFactory.Instance, TestContext.Current.CancellationToken);
        var client = new HttpClient { BaseAddress = server.Addresses[0], Timeout = TimeSpan.FromSeconds(30) };
        return new IngestTestHost(server, client, owned, options, evidence, tokens);
    }

    /// <summary>The plaintext of a named token (<see cref="TestTokens"/>); any other name is returned as is (an unknown token).</summary>
    public string Token(string name) => _tokens.TryGetValue(name, out string? token) ? token : name;

    public HttpRequestMessage Write(string path, string body, string? token = TestTokens.TokenA)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(body) };
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Token", Token(token));
        }

        return request;
    }

    private static Dictionary<string, string> LoadOrCreateTokens(EvidenceStore evidence, string dataDirectory)
    {
        string file = Path.Combine(dataDirectory, "test-tokens.txt");
        if (File.Exists(file))
        {
            return File.ReadAllLines(file).Select(l => l.Split('=', 2)).ToDictionary(p => p[0], p => p[1]);
        }

        var tokens = new Dictionary<string, string>
        {
            [TestTokens.TokenA] = evidence.Tokens.CreateToken(TokenRole.Enterprise, TestTokens.EnterpriseA, null, "test A"),
            [TestTokens.TokenB] = evidence.Tokens.CreateToken(TokenRole.Enterprise, TestTokens.EnterpriseB, null, "test B"),
            [TestTokens.Bureau] = evidence.Tokens.CreateToken(TokenRole.Bureau, null, "330402", "test bureau"),
            [TestTokens.Admin] = evidence.Tokens.CreateToken(TokenRole.Admin, null, null, "test admin"),
        };
        File.WriteAllLines(file, tokens.Select(t => $"{t.Key}={t.Value}"));
        return tokens;
    }

    /// <summary>Every record in the WAL, decoded.</summary>
    public List<IngestRecord> ReadWal()
    {
        var records = new List<IngestRecord>();
        long position = Wal.HeadPosition;
        while (position < Wal.TailPosition)
        {
            using LogReadBatch batch = Wal.ReadBatch(position, 1000, 1 << 24);
            foreach (LogRecord record in batch)
            {
                records.Add(IngestRecord.Decode(record.Payload.ToArray()));
            }

            position = batch.NextPosition;
        }

        return records;
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await Server.DisposeAsync();
        _evidence.Dispose();
        _ownedDirectory?.Dispose();
    }
}
