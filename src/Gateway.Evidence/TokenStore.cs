using System.Buffers;
using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Data.Sqlite;

namespace FactoryGateway.Evidence;

/// <summary>
/// API tokens: <c>fgw_&lt;id&gt;_&lt;secret&gt;</c>, where the id is 16 lower-case hex characters (8 random
/// bytes, not secret: it names the row and may be logged) and the secret is 32 random bytes in base64url
/// without padding (43 characters); 64 characters in all. Only the SHA-256 of the whole token is stored.
/// </summary>
/// <remarks>
/// <para>
/// <see cref="Authenticate"/> finds the row by the id and compares the SHA-256 of the presented token with
/// the stored hash in constant time. A plain SHA-256 (not a slow password hash) is right here: the secret is
/// 256 random bits, so the hash cannot be reversed by guessing.
/// </para>
/// <para>
/// Authenticated rows are cached in memory (at most <see cref="EvidenceStoreOptions.TokenCacheCapacity"/>,
/// each for <see cref="EvidenceStoreOptions.TokenCacheLifetime"/>), so the ingest's hot path computes one
/// SHA-256 and reads no SQLite. <see cref="RevokeToken"/> removes the token from the cache at once, also
/// when a concurrent cache miss read the row just before the revocation. The plaintext is returned once by
/// <see cref="CreateToken"/> and is never stored, cached or logged.
/// </para>
/// </remarks>
public sealed class TokenStore
{
    /// <summary>What every token starts with.</summary>
    public const string Prefix = "fgw_";

    /// <summary>The length of the id: 8 random bytes in lower-case hex.</summary>
    public const int IdLength = 16;

    /// <summary>The length of the secret: 32 random bytes in base64url without padding.</summary>
    public const int SecretLength = 43;

    /// <summary>The length of a whole token: <c>fgw_</c> + id + <c>_</c> + secret.</summary>
    public const int TokenLength = 4 + IdLength + 1 + SecretLength;

    /// <summary>The longest description a token may carry.</summary>
    public const int MaxDescriptionLength = 200;

    private const int IdBytes = IdLength / 2;
    private const int SecretBytes = 32;
    private const int SecretStart = 4 + IdLength + 1;
    private const int SqliteConstraintPrimaryKey = 1555;

    private static readonly SearchValues<char> s_lowerHex = SearchValues.Create("0123456789abcdef");
    private static readonly SearchValues<char> s_base64Url = SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_");

    private readonly EvidenceStore _store;
    private readonly TimeProvider _timeProvider;
    private readonly int _cacheCapacity;
    private readonly long _cacheLifetimeTimestampTicks;
    private readonly ConcurrentDictionary<string, CachedToken> _cache = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, CachedToken>.AlternateLookup<ReadOnlySpan<char>> _cacheBySpan;
    // Orders a cache miss's insertion against a revocation's count and removal (see RevokeToken).
    private readonly Lock _cacheLock = new();
    private long _revocations;
    private long _databaseReads;

    internal TokenStore(EvidenceStore store, EvidenceStoreOptions options)
    {
        _store = store;
        _timeProvider = options.TimeProvider;
        _cacheCapacity = options.TokenCacheCapacity;
        _cacheLifetimeTimestampTicks = TimestampTicks(options.TokenCacheLifetime, _timeProvider);
        _cacheBySpan = _cache.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    /// <summary>How many times <see cref="Authenticate"/> read SQLite (a cache miss); for tests.</summary>
    internal long DatabaseReads => Interlocked.Read(ref _databaseReads);

    /// <summary>Test hook: runs after a cache miss read an active row and before it is cached (the race window).</summary>
    internal Action<string>? AfterRowRead { get; set; }

    /// <summary>
    /// Creates a token and returns its plaintext, the only time it exists: store it in the client now. The
    /// scope must fit the role: an <see cref="TokenRole.Enterprise"/> token names a valid unified social
    /// credit code and no region, a <see cref="TokenRole.Bureau"/> token a GB/T 2260 region code and no
    /// enterprise, an <see cref="TokenRole.Admin"/> token neither.
    /// </summary>
    /// <exception cref="ArgumentException">The scope does not fit the role; the message names the field and why.</exception>
    public string CreateToken(TokenRole role, string? enterprise, string? region, string? description)
    {
        ValidateScope(role, enterprise, region);
        ValidateDescription(description);

        long createdNanoseconds = _store.NowUnixNanoseconds();
        Span<byte> random = stackalloc byte[IdBytes + SecretBytes];
        Span<char> token = stackalloc char[TokenLength];
        Span<byte> ascii = stackalloc byte[TokenLength];
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        try
        {
            for (int attempt = 1; ; attempt++)
            {
                RandomNumberGenerator.Fill(random);
                Prefix.CopyTo(token);
                Convert.TryToHexStringLower(random[..IdBytes], token.Slice(Prefix.Length, IdLength), out _);
                token[SecretStart - 1] = '_';
                Base64Url.EncodeToChars(random[IdBytes..], token[SecretStart..]);
                Encoding.ASCII.GetBytes(token, ascii);
                SHA256.HashData(ascii, hash);

                string id = new(token.Slice(Prefix.Length, IdLength));
                try
                {
                    Insert(id, hash, role, enterprise, region, description, createdNanoseconds);
                }
                catch (SqliteException e) when (e.SqliteExtendedErrorCode == SqliteConstraintPrimaryKey && attempt < 3)
                {
                    // A 64-bit id collided with an existing one (about 1 in 10^9 at 200,000 tokens): draw again.
                    continue;
                }

                return new string(token);
            }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(random);
            CryptographicOperations.ZeroMemory(ascii);
            token.Clear();
        }
    }

    /// <summary>
    /// The principal of <paramref name="token"/>, or null when it is malformed, unknown, revoked or its
    /// secret does not match. Thread-safe and, for a cached token, free of I/O.
    /// </summary>
    public TokenPrincipal? Authenticate(ReadOnlySpan<char> token)
    {
        _store.ThrowIfDisposed();
        if (!TryParse(token, out ReadOnlySpan<char> id))
        {
            return null;
        }

        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        Span<byte> ascii = stackalloc byte[TokenLength];
        Encoding.ASCII.GetBytes(token, ascii); // TryParse admitted only ASCII characters
        SHA256.HashData(ascii, hash);
        CryptographicOperations.ZeroMemory(ascii);

        long now = _timeProvider.GetTimestamp();
        if (_cacheBySpan.TryGetValue(id, out CachedToken? cached) && now < cached.ExpiresAt)
        {
            return cached.Match(hash);
        }

        return AuthenticateFromDatabase(new string(id), hash, now);
    }

    /// <summary>
    /// Revokes the token <paramref name="id"/>: from now on it does not authenticate, cached or not. Returns
    /// false when there is no active token with that id (unknown or already revoked).
    /// </summary>
    public bool RevokeToken(string id)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        int changed;
        using (SqliteConnection connection = _store.OpenConnection())
        using (SqliteCommand command = connection.CreateCommand())
        {
            command.CommandText = "UPDATE tokens SET revoked = 1, revoked_ns = $now WHERE id = $id AND revoked = 0;";
            command.Parameters.AddWithValue("$id", id);
            command.Parameters.AddWithValue("$now", _store.NowUnixNanoseconds());
            changed = command.ExecuteNonQuery();
        }

        // After the commit, under the lock a cache miss takes to add its row: count the revocation and drop the
        // cached entry. A miss that read the row before the commit either adds it before this (and the removal
        // follows) or sees the new count and does not add it; no authentication that starts after this returns
        // can find the revoked row in the cache.
        lock (_cacheLock)
        {
            _revocations++;
            _cache.TryRemove(id, out _);
        }

        return changed == 1;
    }

    /// <summary>Every token, active and revoked, oldest first (without hashes).</summary>
    public IReadOnlyList<TokenInfo> ListTokens()
    {
        using SqliteConnection connection = _store.OpenConnection();
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = "SELECT id, role, enterprise, region, description, created_ns, revoked_ns FROM tokens ORDER BY created_ns, id;";
        using SqliteDataReader reader = command.ExecuteReader();
        var tokens = new List<TokenInfo>();
        while (reader.Read())
        {
            tokens.Add(new TokenInfo
            {
                Id = reader.GetString(0),
                Role = ParseRole(reader.GetString(1)),
                Enterprise = reader.IsDBNull(2) ? null : reader.GetString(2),
                Region = reader.IsDBNull(3) ? null : reader.GetString(3),
                Description = reader.IsDBNull(4) ? null : reader.GetString(4),
                CreatedUnixNanoseconds = reader.GetInt64(5),
                RevokedUnixNanoseconds = reader.IsDBNull(6) ? null : reader.GetInt64(6),
            });
        }

        return tokens;
    }

    /// <summary>
    /// Reads the token of an HTTP <c>Authorization</c> header in the <c>Token</c> (InfluxDB) or <c>Bearer</c>
    /// scheme; false for another scheme or none (<paramref name="token"/> is then empty).
    /// </summary>
    public static bool TryReadAuthorizationHeader(string? header, out ReadOnlySpan<char> token)
    {
        if (header is not null && (header.StartsWith("Token ", StringComparison.OrdinalIgnoreCase) || header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)))
        {
            token = header.AsSpan(header.IndexOf(' ', StringComparison.Ordinal) + 1).Trim();
            return true;
        }

        token = default;
        return false;
    }

    /// <summary>
    /// The non-secret id of a well-formed token (<c>fgw_&lt;id&gt;_&lt;secret&gt;</c>), for logs and revocation;
    /// false when <paramref name="token"/> does not have the token format.
    /// </summary>
    public static bool TryGetId(ReadOnlySpan<char> token, [NotNullWhen(true)] out string? id)
    {
        if (TryParse(token, out ReadOnlySpan<char> span))
        {
            id = new string(span);
            return true;
        }

        id = null;
        return false;
    }

    internal static long TimestampTicks(TimeSpan duration, TimeProvider timeProvider) =>
        (long)((Int128)duration.Ticks * timeProvider.TimestampFrequency / TimeSpan.TicksPerSecond);

    private static bool TryParse(ReadOnlySpan<char> token, out ReadOnlySpan<char> id)
    {
        id = default;
        if (token.Length != TokenLength
            || !token.StartsWith(Prefix, StringComparison.Ordinal)
            || token[SecretStart - 1] != '_'
            || token.Slice(Prefix.Length, IdLength).ContainsAnyExcept(s_lowerHex)
            || token[SecretStart..].ContainsAnyExcept(s_base64Url))
        {
            return false;
        }

        id = token.Slice(Prefix.Length, IdLength);
        return true;
    }

    private TokenPrincipal? AuthenticateFromDatabase(string id, ReadOnlySpan<byte> hash, long now)
    {
        long revocations;
        lock (_cacheLock)
        {
            revocations = _revocations;
        }

        Interlocked.Increment(ref _databaseReads);
        CachedToken? row = ReadActiveToken(id, now + _cacheLifetimeTimestampTicks);
        if (row is null)
        {
            // Unknown or revoked (possibly by another process since it was cached).
            _cache.TryRemove(id, out _);
            return null;
        }

        AfterRowRead?.Invoke(id);
        lock (_cacheLock)
        {
            // A revocation committed while the row was read: the row may be stale, so it is not cached (the caller,
            // which started before the revocation returned, still gets what it read).
            if (_revocations == revocations)
            {
                if (_cache.Count >= _cacheCapacity)
                {
                    // Bounded: start over rather than track recency; the active tokens refill it at one read each.
                    _cache.Clear();
                }

                _cache[id] = row;
            }
        }

        return row.Match(hash);
    }

    private CachedToken? ReadActiveToken(string id, long expiresAt)
    {
        using SqliteConnection connection = _store.OpenConnection();
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = "SELECT hash, role, enterprise, region FROM tokens WHERE id = $id AND revoked = 0;";
        command.Parameters.AddWithValue("$id", id);
        using SqliteDataReader reader = command.ExecuteReader();
        if (!reader.Read())
        {
            return null;
        }

        var principal = new TokenPrincipal
        {
            TokenId = id,
            Role = ParseRole(reader.GetString(1)),
            Enterprise = reader.IsDBNull(2) ? null : reader.GetString(2),
            Region = reader.IsDBNull(3) ? null : reader.GetString(3),
        };
        return new CachedToken((byte[])reader.GetValue(0), principal, expiresAt);
    }

    private void Insert(string id, ReadOnlySpan<byte> hash, TokenRole role, string? enterprise, string? region, string? description, long createdNanoseconds)
    {
        using SqliteConnection connection = _store.OpenConnection();
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = """
            INSERT INTO tokens (id, hash, role, enterprise, region, description, created_ns)
            VALUES ($id, $hash, $role, $enterprise, $region, $description, $created);
            """;
        command.Parameters.AddWithValue("$id", id);
        command.Parameters.AddWithValue("$hash", hash.ToArray());
        command.Parameters.AddWithValue("$role", RoleName(role));
        command.Parameters.AddWithValue("$enterprise", (object?)enterprise ?? DBNull.Value);
        command.Parameters.AddWithValue("$region", (object?)region ?? DBNull.Value);
        command.Parameters.AddWithValue("$description", (object?)description ?? DBNull.Value);
        command.Parameters.AddWithValue("$created", createdNanoseconds);
        command.ExecuteNonQuery();
    }

    private static void ValidateScope(TokenRole role, string? enterprise, string? region)
    {
        switch (role)
        {
            case TokenRole.Enterprise:
                if (enterprise is null)
                {
                    throw new ArgumentException("enterprise is required for an Enterprise token: the enterprise's 18-character unified social credit code.", nameof(enterprise));
                }

                if (!CreditCode.TryValidate(enterprise, out string reason))
                {
                    throw new ArgumentException($"enterprise \"{enterprise}\" is not a valid unified social credit code: {reason}.", nameof(enterprise));
                }

                if (region is not null)
                {
                    throw new ArgumentException("region must be null for an Enterprise token: only Bureau tokens are region-scoped.", nameof(region));
                }

                break;

            case TokenRole.Bureau:
                if (region is null)
                {
                    throw new ArgumentException("region is required for a Bureau token: the 6-digit GB/T 2260 code of the county or city it may read.", nameof(region));
                }

                if (!RegionCode.TryValidate(region, out reason))
                {
                    throw new ArgumentException($"region \"{region}\" is not a GB/T 2260 region code: {reason}.", nameof(region));
                }

                if (enterprise is not null)
                {
                    throw new ArgumentException("enterprise must be null for a Bureau token: a bureau reads a region and writes for no enterprise.", nameof(enterprise));
                }

                break;

            case TokenRole.Admin:
                if (enterprise is not null)
                {
                    throw new ArgumentException("enterprise must be null for an Admin token: an admin is not scoped to one enterprise.", nameof(enterprise));
                }

                if (region is not null)
                {
                    throw new ArgumentException("region must be null for an Admin token: an admin is not scoped to one region.", nameof(region));
                }

                break;

            default:
                throw new ArgumentOutOfRangeException(nameof(role), role, "role must be Enterprise, Bureau or Admin.");
        }
    }

    private static void ValidateDescription(string? description)
    {
        if (description is null)
        {
            return;
        }

        if (description.Length > MaxDescriptionLength)
        {
            throw new ArgumentException($"description must be at most {MaxDescriptionLength} characters (was {description.Length}).", nameof(description));
        }

        int control = description.AsSpan().IndexOfAnyInRange('\0', '\u001F');
        if (control >= 0)
        {
            throw new ArgumentException($"description must not contain control characters (U+{(int)description[control]:X4} at index {control}).", nameof(description));
        }
    }

    private static string RoleName(TokenRole role) => role switch
    {
        TokenRole.Enterprise => "enterprise",
        TokenRole.Bureau => "bureau",
        TokenRole.Admin => "admin",
        _ => throw new ArgumentOutOfRangeException(nameof(role), role, null),
    };

    private static TokenRole ParseRole(string name) => name switch
    {
        "enterprise" => TokenRole.Enterprise,
        "bureau" => TokenRole.Bureau,
        "admin" => TokenRole.Admin,
        _ => throw new InvalidDataException($"tokens.role holds '{name}', which is not a role."),
    };

    /// <summary>A token row as cached: its hash, its principal and when to read it again (a TimeProvider timestamp).</summary>
    private sealed class CachedToken
    {
        private readonly byte[] _hash;
        private readonly TokenPrincipal _principal;

        public CachedToken(byte[] hash, TokenPrincipal principal, long expiresAt)
        {
            _hash = hash;
            _principal = principal;
            ExpiresAt = expiresAt;
        }

        public long ExpiresAt { get; }

        public TokenPrincipal? Match(ReadOnlySpan<byte> presentedHash) =>
            CryptographicOperations.FixedTimeEquals(presentedHash, _hash) ? _principal : null;
    }
}
