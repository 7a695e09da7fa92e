using System.Net.Http.Headers;
using FactoryGateway.Ingest.Auth;
using FactoryGateway.Ingest.Http;
using FactoryGateway.Ingest.Wal;
using FactoryGateway.Telemetry.Storage;
using FactoryGateway.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace FactoryGateway.Ingest.Tests.Http;

/// <summary>Tokens the test authenticator knows.</summary>
internal static class TestTokens
{
    public const string EnterpriseA = "91330402MA2B3C4D5E";
    public const string EnterpriseB = "91330421MA2C3D4E5F";
    public const string TokenA = "token-enterprise-a";
    public const string TokenB = "token-enterprise-b";
    public const string Bureau = "token-bureau-330402";
    public const string Admin = "token-admin";
}

/// <summary>
/// A fixed token table: the ingest's own tests exercise the HTTP contract; the SQLite token store is
/// tested in Gateway.Evidence and composed with the ingest in the fgw command's tests.
/// </summary>
internal sealed class TestAuthenticator : IIngestAuthenticator
{
    public IngestPrincipal? Authenticate(ReadOnlySpan<char> token) => token switch
    {
        TestTokens.TokenA => new IngestPrincipal { TokenId = "a", Role = IngestRole.Enterprise, Enterprise = TestTokens.EnterpriseA },
        TestTokens.TokenB => new IngestPrincipal { TokenId = "b", Role = IngestRole.Enterprise, Enterprise = TestTokens.EnterpriseB },
        TestTokens.Bureau => new IngestPrincipal { TokenId = "bureau", Role = IngestRole.Bureau, Region = "330402" },
        TestTokens.Admin => new IngestPrincipal { TokenId = "admin", Role = IngestRole.Admin },
        _ => null,
    };
}

/// <summary>A real ingest server (Kestrel on a free loopback port) over a temporary data directory.</summary>
internal sealed class IngestTestHost : IAsyncDisposable
{
    private readonly TempDirectory? _ownedDirectory;

    private IngestTestHost(IngestServer server, HttpClient client, TempDirectory? ownedDirectory, IngestOptions options)
    {
        Server = server;
        Client = client;
        _ownedDirectory = ownedDirectory;
        Options = options;
    }

    public IngestServer Server { get; }

    public HttpClient Client { get; }

    public IngestOptions Options { get; }

    public SegmentLog Wal => Server.Service.Wal;

    public static async Task<IngestTestHost> StartAsync(Action<IngestOptions>? configure = null, string? dataDirectory = null, TimeProvider? time = null)
    {
        TempDirectory? owned = dataDirectory is null ? new TempDirectory("ingest") : null;
        var options = new IngestOptions { DataDirectory = dataDirectory ?? owned!.Path };
        configure?.Invoke(options);
        IngestServer server = await IngestServer.StartAsync(
            "http://127.0.0.1:0", options, new TestAuthenticator(), register: null, consumers: [], metrics: null,
            time ?? TimeProvider.System, NullLoggerFactory.Instance, TestContext.Current.CancellationToken);
        var client = new HttpClient { BaseAddress = server.Addresses[0], Timeout = TimeSpan.FromSeconds(30) };
        return new IngestTestHost(server, client, owned, options);
    }

    public static HttpRequestMessage Write(string path, string body, string? token = TestTokens.TokenA)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(body) };
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Token", token);
        }

        return request;
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
        _ownedDirectory?.Dispose();
    }
}
