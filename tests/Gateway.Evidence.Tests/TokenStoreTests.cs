using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using FactoryGateway.Testing;
using Microsoft.Data.Sqlite;

namespace FactoryGateway.Evidence.Tests;

public sealed partial class TokenStoreTests : IDisposable
{
    private readonly TempDirectory _directory = new("evidence");
    private readonly ManualTimeProvider _time = new(EvidenceTest.Start);
    private readonly EvidenceStore _store;

    public TokenStoreTests()
    {
        _store = EvidenceTest.Open(_directory, _time);
    }

    public void Dispose()
    {
        _store.Dispose();
        _directory.Dispose();
    }

    [GeneratedRegex("^fgw_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$")]
    private static partial Regex TokenFormat();

    [Fact]
    public void A_created_token_has_the_documented_format_and_authenticates_as_its_principal()
    {
        string token = _store.Tokens.CreateToken(TokenRole.Enterprise, EvidenceTest.Enterprise, null, "line 3 edge");

        Assert.Matches(TokenFormat(), token);
        Assert.Equal(TokenStore.TokenLength, token.Length);
        Assert.True(TokenStore.TryGetId(token, out string? id));
        Assert.Equal(token[4..20], id);

        TokenPrincipal? principal = _store.Tokens.Authenticate(token);

        Assert.Equal(new TokenPrincipal { TokenId = id, Role = TokenRole.Enterprise, Enterprise = EvidenceTest.Enterprise, Region = null }, principal);
        Assert.True(principal!.MayWrite(EvidenceTest.Enterprise));
        Assert.False(principal.MayWrite(EvidenceTest.OtherEnterprise));
    }

    [Fact]
    public void Bureau_and_admin_tokens_carry_their_scope()
    {
        string bureau = _store.Tokens.CreateToken(TokenRole.Bureau, null, "330400", "Jiaxing bureau");
        string admin = _store.Tokens.CreateToken(TokenRole.Admin, null, null, null);

        TokenPrincipal? bureauPrincipal = _store.Tokens.Authenticate(bureau);
        TokenPrincipal? adminPrincipal = _store.Tokens.Authenticate(admin);

        Assert.NotNull(bureauPrincipal);
        Assert.Equal(TokenRole.Bureau, bureauPrincipal.Role);
        Assert.Equal("330400", bureauPrincipal.Region);
        Assert.Null(bureauPrincipal.Enterprise);
        Assert.False(bureauPrincipal.MayWrite(EvidenceTest.Enterprise));

        Assert.NotNull(adminPrincipal);
        Assert.Equal(TokenRole.Admin, adminPrincipal.Role);
        Assert.Null(adminPrincipal.Enterprise);
        Assert.Null(adminPrincipal.Region);
        Assert.True(adminPrincipal.MayWrite(EvidenceTest.OtherEnterprise));
    }

    [Fact]
    public void Two_tokens_never_share_an_id_or_a_secret()
    {
        var tokens = Enumerable.Range(0, 200).Select(_ => _store.Tokens.CreateToken(TokenRole.Admin, null, null, null)).ToList();

        Assert.Equal(200, tokens.Select(t => t[4..20]).Distinct().Count());
        Assert.Equal(200, tokens.Select(t => t[21..]).Distinct().Count());
    }

    [Fact]
    public void Wrong_tampered_and_unknown_tokens_do_not_authenticate_cached_or_not()
    {
        string token = _store.Tokens.CreateToken(TokenRole.Enterprise, EvidenceTest.Enterprise, null, null);
        string other = _store.Tokens.CreateToken(TokenRole.Enterprise, EvidenceTest.OtherEnterprise, null, null);
        string tamperedSecret = token[..30] + (token[30] == 'A' ? 'B' : 'A') + token[31..];
        string otherSecret = token[..21] + other[21..];
        string unknownId = "fgw_" + new string('0', 16) + token[20..];
        string unknownIdWithOtherSecret = other[..4] + (other[4] == 'a' ? 'b' : 'a') + other[5..];

        foreach (bool cached in new[] { false, true })
        {
            Assert.Null(_store.Tokens.Authenticate(tamperedSecret));
            Assert.Null(_store.Tokens.Authenticate(otherSecret));
            Assert.Null(_store.Tokens.Authenticate(unknownId));
            Assert.Null(_store.Tokens.Authenticate(unknownIdWithOtherSecret));
            Assert.NotNull(_store.Tokens.Authenticate(token)); // the second round runs against the cache
            Assert.NotNull(_store.Tokens.Authenticate(other));
            // Round one reads each id once (token, other, two unknown ids); round two only the unknown ids,
            // which are never cached.
            Assert.Equal(cached ? 6 : 4, _store.Tokens.DatabaseReads);
        }
    }

    public static TheoryData<string> MalformedTokens => new()
    {
        "",
        "fgw_",
        "Token fgw_0123456789abcdef_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "fgw_0123456789abcdef_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", // one short
        "fgw_0123456789abcdef_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", // one long
        "fgw_0123456789ABCDEF_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", // upper-case id
        "fgx_0123456789abcdef_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "fgw_0123456789abcdef-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "fgw_0123456789abcdef_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", // padding
        "fgw_0123456789abcdef_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\u00C4", // non-ASCII
        "fgw_0123456789abcdef_AAAAAAAAAAAAAAAAAAAAA AAAAAAAAAAAAAAAAAAAAA",
    };

    [Theory]
    [MemberData(nameof(MalformedTokens))]
    public void A_malformed_token_is_refused_without_reading_sqlite(string token)
    {
        Assert.Null(_store.Tokens.Authenticate(token));
        Assert.False(TokenStore.TryGetId(token, out _));
        Assert.Equal(0, _store.Tokens.DatabaseReads);
    }

    [Fact]
    public void The_database_files_hold_the_hash_and_never_the_plaintext()
    {
        string token = _store.Tokens.CreateToken(TokenRole.Enterprise, EvidenceTest.Enterprise, null, "plaintext check");
        Assert.NotNull(_store.Tokens.Authenticate(token));
        string secret = token[21..];
        byte[] hash = SHA256.HashData(Encoding.ASCII.GetBytes(token));

        // Read every file SQLite keeps (evidence.db, and -wal/-shm while connections are open), with the
        // store still open so the WAL is there, and again after it closed and checkpointed.
        AssertFiles(mustContainHash: true);
        _store.Dispose();
        AssertFiles(mustContainHash: true);

        void AssertFiles(bool mustContainHash)
        {
            byte[] all = [.. Directory.GetFiles(_directory.Path).SelectMany(File.ReadAllBytes)];
            Assert.Equal(-1, all.AsSpan().IndexOf(Encoding.ASCII.GetBytes(secret)));
            Assert.Equal(-1, all.AsSpan().IndexOf(Encoding.Unicode.GetBytes(secret)));
            Assert.Equal(-1, all.AsSpan().IndexOf(Encoding.ASCII.GetBytes(token[21..40])));
            Assert.Equal(mustContainHash, all.AsSpan().IndexOf(hash) >= 0);
        }

        using var connection = new SqliteConnection($"Data Source={Path.Combine(_directory.Path, EvidenceStore.FileName)};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = "SELECT id, hash, role, enterprise, region, description, revoked FROM tokens;";
        using SqliteDataReader reader = command.ExecuteReader();
        Assert.True(reader.Read());
        Assert.Equal(token[4..20], reader.GetString(0));
        Assert.Equal(hash, (byte[])reader.GetValue(1));
        Assert.Equal("enterprise", reader.GetString(2));
        Assert.Equal(EvidenceTest.Enterprise, reader.GetString(3));
        Assert.True(reader.IsDBNull(4));
        Assert.Equal("plaintext check", reader.GetString(5));
        Assert.Equal(0, reader.GetInt64(6));
        Assert.False(reader.Read());
    }

    [Fact]
    public void Authentication_reads_sqlite_once_per_token_per_cache_lifetime()
    {
        string token = _store.Tokens.CreateToken(TokenRole.Enterprise, EvidenceTest.Enterprise, null, null);

        for (int i = 0; i < 1000; i++)
        {
            Assert.NotNull(_store.Tokens.Authenticate(token));
        }

        Assert.Equal(1, _store.Tokens.DatabaseReads);

        _time.Advance(new EvidenceStoreOptions().TokenCacheLifetime);
        Assert.NotNull(_store.Tokens.Authenticate(token));
        Assert.NotNull(_store.Tokens.Authenticate(token));
        Assert.Equal(2, _store.Tokens.DatabaseReads);
    }

    [Fact]
    public void Revoking_a_cached_token_stops_it_at_once()
    {
        string token = _store.Tokens.CreateToken(TokenRole.Enterprise, EvidenceTest.Enterprise, null, null);
        string kept = _store.Tokens.CreateToken(TokenRole.Admin, null, null, null);
        Assert.NotNull(_store.Tokens.Authenticate(token));
        Assert.NotNull(_store.Tokens.Authenticate(token));
        Assert.Equal(1, _store.Tokens.DatabaseReads); // the second came from the cache
        _time.Advance(TimeSpan.FromSeconds(5));

        Assert.True(_store.Tokens.RevokeToken(token[4..20]));

        Assert.Null(_store.Tokens.Authenticate(token));
        Assert.NotNull(_store.Tokens.Authenticate(kept));
        Assert.False(_store.Tokens.RevokeToken(token[4..20])); // already revoked
        Assert.False(_store.Tokens.RevokeToken("0000000000000000")); // unknown

        TokenInfo revoked = Assert.Single(_store.Tokens.ListTokens(), t => t.Id == token[4..20]);
        Assert.True(revoked.Revoked);
        Assert.Equal(EvidenceTest.StartUnixNanoseconds, revoked.CreatedUnixNanoseconds);
        Assert.Equal(EvidenceTest.StartUnixNanoseconds + 5_000_000_000, revoked.RevokedUnixNanoseconds);
    }

    [Fact]
    public void A_revocation_by_another_process_is_seen_within_the_cache_lifetime()
    {
        string token = _store.Tokens.CreateToken(TokenRole.Enterprise, EvidenceTest.Enterprise, null, null);
        Assert.NotNull(_store.Tokens.Authenticate(token));

        // A second store on the same file stands for the fgw command revoking while the ingest runs.
        using (EvidenceStore other = EvidenceTest.Open(_directory, _time))
        {
            Assert.NotNull(other.Tokens.Authenticate(token));
            Assert.True(other.Tokens.RevokeToken(token[4..20]));
            Assert.Null(other.Tokens.Authenticate(token));
        }

        _time.Advance(new EvidenceStoreOptions().TokenCacheLifetime - TimeSpan.FromTicks(1));
        Assert.NotNull(_store.Tokens.Authenticate(token)); // still cached: the documented bound, not a leak
        _time.Advance(TimeSpan.FromTicks(1));
        Assert.Null(_store.Tokens.Authenticate(token));
    }

    [Fact]
    public void Tokens_survive_reopening_the_store()
    {
        string token = _store.Tokens.CreateToken(TokenRole.Bureau, null, "330402", "Nanhu district");
        _store.Dispose();

        using EvidenceStore reopened = EvidenceTest.Open(_directory, _time);

        TokenPrincipal? principal = reopened.Tokens.Authenticate(token);
        Assert.NotNull(principal);
        Assert.Equal("330402", principal.Region);
        TokenInfo info = Assert.Single(reopened.Tokens.ListTokens());
        Assert.Equal(
            new TokenInfo
            {
                Id = token[4..20],
                Role = TokenRole.Bureau,
                Enterprise = null,
                Region = "330402",
                Description = "Nanhu district",
                CreatedUnixNanoseconds = EvidenceTest.StartUnixNanoseconds,
                RevokedUnixNanoseconds = null,
            },
            info);
    }

    public static TheoryData<TokenRole, string?, string?, string, string> InvalidScopes => new()
    {
        {
            TokenRole.Enterprise, null, null, "enterprise",
            "enterprise is required for an Enterprise token: the enterprise's 18-character unified social credit code."
        },
        {
            TokenRole.Enterprise, "91330402MA2B3C4D5E", null, "enterprise",
            "enterprise \"91330402MA2B3C4D5E\" is not a valid unified social credit code: the check character is 'E' but the GB 32100-2015 checksum of the first 17 characters gives '3'."
        },
        {
            TokenRole.Enterprise, "91330402ma2b3c4d53", null, "enterprise",
            "enterprise \"91330402ma2b3c4d53\" is not a valid unified social credit code: character 9 is 'm', lower case; credit codes are written in upper case."
        },
        {
            TokenRole.Enterprise, "9133040", null, "enterprise",
            "enterprise \"9133040\" is not a valid unified social credit code: a credit code has 18 characters, this one has 7."
        },
        {
            TokenRole.Enterprise, EvidenceTest.Enterprise, "330402", "region",
            "region must be null for an Enterprise token: only Bureau tokens are region-scoped."
        },
        {
            TokenRole.Bureau, null, null, "region",
            "region is required for a Bureau token: the 6-digit GB/T 2260 code of the county or city it may read."
        },
        {
            TokenRole.Bureau, null, "33040", "region",
            "region \"33040\" is not a GB/T 2260 region code: a region code has 6 digits, this one has 5 characters."
        },
        {
            TokenRole.Bureau, EvidenceTest.Enterprise, "330402", "enterprise",
            "enterprise must be null for a Bureau token: a bureau reads a region and writes for no enterprise."
        },
        {
            TokenRole.Admin, EvidenceTest.Enterprise, null, "enterprise",
            "enterprise must be null for an Admin token: an admin is not scoped to one enterprise."
        },
        {
            TokenRole.Admin, null, "330402", "region",
            "region must be null for an Admin token: an admin is not scoped to one region."
        },
    };

    [Theory]
    [MemberData(nameof(InvalidScopes))]
    public void A_scope_that_does_not_fit_the_role_is_refused_naming_the_field(TokenRole role, string? enterprise, string? region, string field, string message)
    {
        ArgumentException error = Assert.Throws<ArgumentException>(() => _store.Tokens.CreateToken(role, enterprise, region, null));

        Assert.Equal(field, error.ParamName);
        Assert.Equal($"{message} (Parameter '{field}')", error.Message);
        Assert.Empty(_store.Tokens.ListTokens());
    }

    [Fact]
    public void An_unknown_role_or_a_bad_description_is_refused()
    {
        Assert.Equal("role", Assert.Throws<ArgumentOutOfRangeException>(() => _store.Tokens.CreateToken((TokenRole)9, null, null, null)).ParamName);

        ArgumentException tooLong = Assert.Throws<ArgumentException>(() => _store.Tokens.CreateToken(TokenRole.Admin, null, null, new string('x', 201)));
        Assert.Equal("description must be at most 200 characters (was 201). (Parameter 'description')", tooLong.Message);

        ArgumentException control = Assert.Throws<ArgumentException>(() => _store.Tokens.CreateToken(TokenRole.Admin, null, null, "two\nlines"));
        Assert.Equal("description must not contain control characters (U+000A at index 3). (Parameter 'description')", control.Message);
    }

    [Fact]
    public async Task Concurrent_authentication_from_many_tasks_gets_every_answer_right()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        string[] tokens =
        [
            _store.Tokens.CreateToken(TokenRole.Enterprise, EvidenceTest.Enterprise, null, null),
            _store.Tokens.CreateToken(TokenRole.Enterprise, EvidenceTest.OtherEnterprise, null, null),
            _store.Tokens.CreateToken(TokenRole.Bureau, null, "330400", null),
            _store.Tokens.CreateToken(TokenRole.Admin, null, null, null),
        ];
        string revoked = _store.Tokens.CreateToken(TokenRole.Admin, null, null, null);
        Assert.True(_store.Tokens.RevokeToken(revoked[4..20]));
        TokenPrincipal[] expected = [.. tokens.Select(t => _store.Tokens.Authenticate(t)!)];

        const int Tasks = 16;
        const int Iterations = 2_000;
        Task[] workers = [.. Enumerable.Range(0, Tasks).Select(worker => Task.Run(() =>
        {
            for (int i = 0; i < Iterations; i++)
            {
                int which = (worker + i) % tokens.Length;
                Assert.Same(expected[which], _store.Tokens.Authenticate(tokens[which]));
                Assert.Null(_store.Tokens.Authenticate(revoked));
                Assert.Null(_store.Tokens.Authenticate(tokens[which][..21] + tokens[(which + 1) % tokens.Length][21..]));
            }
        }, ct))];
        await Task.WhenAll(workers).WaitAsync(EvidenceTest.Deadline, ct);
    }

    [Fact]
    public void A_revocation_between_a_cache_miss_reading_the_row_and_caching_it_still_wins()
    {
        string token = _store.Tokens.CreateToken(TokenRole.Enterprise, EvidenceTest.Enterprise, null, null);
        int revocations = 0;
        _store.Tokens.AfterRowRead = id =>
        {
            // The miss has read the active row; the revocation commits and clears the cache before the miss
            // stores the row.
            _store.Tokens.AfterRowRead = null;
            Assert.True(_store.Tokens.RevokeToken(id));
            revocations++;
        };

        Assert.NotNull(_store.Tokens.Authenticate(token)); // it read the row before the revocation committed

        Assert.Equal(1, revocations);
        Assert.Null(_store.Tokens.Authenticate(token));
        Assert.Equal(2, _store.Tokens.DatabaseReads); // the stale row was not left in the cache
    }

    [Fact]
    public async Task Revocations_racing_many_concurrent_cache_misses_are_never_undone()
    {
        // A one-entry cache with two tokens in turn makes nearly every authentication a cache miss, so misses
        // that read the row before the revocation commit race the revocation's cache removal.
        CancellationToken ct = TestContext.Current.CancellationToken;
        using var directory = new TempDirectory("evidence");
        using EvidenceStore store = EvidenceTest.Open(directory, _time, o => o.TokenCacheCapacity = 1);
        for (int round = 0; round < 20; round++)
        {
            string victim = store.Tokens.CreateToken(TokenRole.Enterprise, EvidenceTest.Enterprise, null, null);
            string bystander = store.Tokens.CreateToken(TokenRole.Admin, null, null, null);
            int revokedFlag = 0;
            int starting = 4;
            var running = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            Task[] workers = [.. Enumerable.Range(0, 4).Select(_ => Task.Run(() =>
            {
                bool signalled = false;
                for (int i = 0; i < 400; i++)
                {
                    bool revokedBefore = Volatile.Read(ref revokedFlag) == 1;
                    TokenPrincipal? principal = store.Tokens.Authenticate(victim);
                    if (revokedBefore)
                    {
                        Assert.Null(principal);
                    }

                    Assert.NotNull(store.Tokens.Authenticate(bystander));
                    if (!signalled)
                    {
                        signalled = true;
                        if (Interlocked.Decrement(ref starting) == 0)
                        {
                            running.SetResult();
                        }
                    }
                }
            }, ct))];

            await running.Task.WaitAsync(EvidenceTest.Deadline, ct);
            Assert.True(store.Tokens.RevokeToken(victim[4..20]));
            Volatile.Write(ref revokedFlag, 1);
            await Task.WhenAll(workers).WaitAsync(EvidenceTest.Deadline, ct);
            Assert.Null(store.Tokens.Authenticate(victim));
        }
    }

    [Fact]
    public async Task Tokens_created_concurrently_all_authenticate()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        string[][] created = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(
            () => Enumerable.Range(0, 25).Select(_ => _store.Tokens.CreateToken(TokenRole.Enterprise, EvidenceTest.Enterprise, null, null)).ToArray(), ct)))
            .WaitAsync(EvidenceTest.Deadline, ct);

        Assert.Equal(200, _store.Tokens.ListTokens().Count);
        Assert.All(created.SelectMany(t => t), token => Assert.NotNull(_store.Tokens.Authenticate(token)));
    }
}
