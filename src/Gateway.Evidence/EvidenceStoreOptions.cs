namespace FactoryGateway.Evidence;

/// <summary>Options of an <see cref="EvidenceStore"/>; checked by <see cref="Validate"/> when the store opens.</summary>
public sealed class EvidenceStoreOptions
{
    /// <summary>
    /// The directory holding <c>evidence.db</c> (and SQLite's <c>-wal</c> and <c>-shm</c> files beside it);
    /// created when missing. No default: the host decides where its data lives.
    /// </summary>
    public string DataDirectory { get; set; } = "";

    /// <summary>The clock for created/revoked times and cache expiry. Default <see cref="TimeProvider.System"/>.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>
    /// The most tokens the authentication cache holds; when it is full it is emptied and refills from
    /// SQLite. 10,000 covers every enterprise of a city-level deployment plus its bureaus, so in practice
    /// each token is read from SQLite once per <see cref="TokenCacheLifetime"/>.
    /// </summary>
    public int TokenCacheCapacity { get; set; } = 10_000;

    /// <summary>
    /// How long a cached token is trusted before it is read from SQLite again. A revocation through this
    /// store takes effect at once; this bounds how long a revocation written by another process sharing
    /// the database (the <c>fgw</c> command while the ingest runs) takes to be seen. 30 s is shorter than an
    /// edge agent's retry backoff, and costs one indexed read per token per 30 s.
    /// </summary>
    public TimeSpan TokenCacheLifetime { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The most (enterprise, device) answers the device cache holds; when it is full it is emptied and
    /// refills from SQLite. 100,000 is ten times the devices of a city's register, so the cache is emptied
    /// only by a flood of made-up device ids.
    /// </summary>
    public int DeviceCacheCapacity { get; set; } = 100_000;

    /// <summary>
    /// How long a "not registered" answer is trusted before SQLite is asked again ("registered" answers
    /// are kept: devices are not removed from the register). A registration through this store takes effect
    /// at once; this bounds how long one written by another process takes to be seen. 10 s is a few edge
    /// batches, and costs one indexed read per unregistered device per 10 s.
    /// </summary>
    public TimeSpan UnregisteredRecheckInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long an operation waits for another connection's write lock before it fails
    /// (SQLite <c>busy_timeout</c>, Microsoft.Data.Sqlite's <c>Default Timeout</c>). Writes here are short
    /// transactions; 30 s is Microsoft.Data.Sqlite's default and is only reached when the disk stalls.
    /// </summary>
    public TimeSpan BusyTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid option and why.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(DataDirectory))
        {
            throw Invalid(nameof(DataDirectory), "must name the store's data directory", DataDirectory);
        }

        if (TimeProvider is null)
        {
            throw Invalid(nameof(TimeProvider), "must be set", "null");
        }

        if (TokenCacheCapacity is < 1 or > 10_000_000)
        {
            throw Invalid(nameof(TokenCacheCapacity), "must be between 1 and 10000000", TokenCacheCapacity);
        }

        if (TokenCacheLifetime <= TimeSpan.Zero || TokenCacheLifetime > TimeSpan.FromDays(1))
        {
            throw Invalid(nameof(TokenCacheLifetime), "must be positive and at most 1 day", TokenCacheLifetime);
        }

        if (DeviceCacheCapacity is < 1 or > 10_000_000)
        {
            throw Invalid(nameof(DeviceCacheCapacity), "must be between 1 and 10000000", DeviceCacheCapacity);
        }

        if (UnregisteredRecheckInterval <= TimeSpan.Zero || UnregisteredRecheckInterval > TimeSpan.FromDays(1))
        {
            throw Invalid(nameof(UnregisteredRecheckInterval), "must be positive and at most 1 day", UnregisteredRecheckInterval);
        }

        if (BusyTimeout < TimeSpan.FromSeconds(1) || BusyTimeout > TimeSpan.FromHours(1))
        {
            throw Invalid(nameof(BusyTimeout), "must be between 1 s and 1 h", BusyTimeout);
        }
    }

    private static ArgumentException Invalid(string option, string reason, object value) =>
        new($"EvidenceStoreOptions.{option} {reason} (was {value}).", option);
}
