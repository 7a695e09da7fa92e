using System.Collections.Concurrent;
using FactoryGateway.Evidence.Ledger;

namespace FactoryGateway.Evidence;

/// <summary>
/// The asset register as the ledger's <see cref="IShiftCalendarSource"/>: each enterprise's shift calendar
/// and time zone (spec §1), the default calendar (Monday to Friday 08:00–20:00, Asia/Shanghai) for an
/// enterprise that is not in the register. Thread-safe.
/// </summary>
/// <remarks>
/// The accumulation asks once per enterprise-day, so answers are cached per enterprise for
/// <see cref="CacheLifetime"/>: a calendar change (through this store or by the <c>fgw</c> command in
/// another process) is used from at most that long after it is written. The cache holds at most
/// <see cref="CacheCapacity"/> enterprises and is emptied when full.
/// </remarks>
public sealed class RegisterShiftCalendars : IShiftCalendarSource
{
    /// <summary>How long a cached calendar is used: 60 s, a few accumulation checkpoints; one small read per enterprise per minute.</summary>
    public static readonly TimeSpan CacheLifetime = TimeSpan.FromSeconds(60);

    /// <summary>The most enterprises cached: 10,000, every enterprise of a city-level deployment (as the token cache).</summary>
    public const int CacheCapacity = 10_000;

    private readonly AssetRegister _register;
    private readonly TimeProvider _timeProvider;
    private readonly long _lifetimeTicks;
    private readonly ConcurrentDictionary<string, Entry> _cache = new(StringComparer.Ordinal);

    internal RegisterShiftCalendars(AssetRegister register, TimeProvider timeProvider)
    {
        _register = register;
        _timeProvider = timeProvider;
        _lifetimeTicks = TokenStore.TimestampTicks(CacheLifetime, timeProvider);
    }

    /// <inheritdoc />
    public int OffsetMinutes(string enterprise) => Get(enterprise).OffsetMinutes;

    /// <inheritdoc />
    public void GetShiftMinutes(string enterprise, DateOnly day, Span<bool> minutes) => Get(enterprise).Calendar.GetShiftMinutes(day, minutes);

    private Entry Get(string enterprise)
    {
        ArgumentNullException.ThrowIfNull(enterprise);
        long now = _timeProvider.GetTimestamp();
        if (_cache.TryGetValue(enterprise, out Entry? entry) && now < entry.ExpiresAt)
        {
            return entry;
        }

        (ShiftCalendar Calendar, int UtcOffsetMinutes)? read = _register.ReadCalendarAndOffset(enterprise);
        entry = read is { } found
            ? new Entry(found.Calendar, found.UtcOffsetMinutes, now + _lifetimeTicks)
            : new Entry(ShiftCalendar.Default, TimeZones.ChinaStandardTimeOffsetMinutes, now + _lifetimeTicks);
        if (_cache.Count >= CacheCapacity)
        {
            _cache.Clear();
        }

        _cache[enterprise] = entry;
        return entry;
    }

    private sealed record Entry(ShiftCalendar Calendar, int OffsetMinutes, long ExpiresAt);
}
