namespace FactoryGateway.Ingest.Forwarding;

/// <summary>
/// Jittered exponential backoff: retry <c>n</c> (0-based) waits a uniformly random time in
/// [d/2, d] with d = min(max, initial × 2^n) ("equal jitter": never less than half the nominal delay, so
/// the load on a recovering server stays bounded, yet spread so that many clients do not retry in lockstep).
/// </summary>
internal sealed class Backoff
{
    // 2^30 × any positive initial delay exceeds any allowed maximum (one hour); a larger exponent only overflows.
    private const int MaxExponent = 30;

    private readonly TimeSpan _initial;
    private readonly TimeSpan _max;
    private readonly Random _random;

    public Backoff(TimeSpan initial, TimeSpan max, Random random)
    {
        _initial = initial;
        _max = max;
        _random = random;
    }

    /// <summary>The nominal (un-jittered) delay of retry <paramref name="attempt"/>.</summary>
    public TimeSpan Nominal(int attempt)
    {
        double ticks = _initial.Ticks * Math.Pow(2, Math.Clamp(attempt, 0, MaxExponent));
        return ticks >= _max.Ticks ? _max : TimeSpan.FromTicks((long)ticks);
    }

    /// <summary>The jittered delay of retry <paramref name="attempt"/>: in [Nominal/2, Nominal].</summary>
    public TimeSpan Delay(int attempt)
    {
        long nominal = Nominal(attempt).Ticks;
        long half = nominal / 2;
        return TimeSpan.FromTicks(half + _random.NextInt64(nominal - half + 1));
    }
}
