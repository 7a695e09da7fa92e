namespace FactoryGateway.Mqtt.Client;

/// <summary>
/// Jittered exponential backoff: attempt <c>n</c> (0-based) waits a uniformly random time in [d/2, d]
/// with d = min(max, initial × 2^n): never less than half the nominal delay, yet spread so that a plant's
/// gateways do not reconnect to a restarted broker in lockstep.
/// </summary>
public sealed class ReconnectBackoff
{
    // 2^30 × any positive initial delay exceeds any sensible maximum; a larger exponent only overflows.
    private const int MaxExponent = 30;

    private readonly TimeSpan _initial;
    private readonly TimeSpan _max;
    private readonly Random _random;

    public ReconnectBackoff(TimeSpan initial, TimeSpan max, Random random)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(initial, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(max, initial);
        _initial = initial;
        _max = max;
        _random = random;
    }

    public TimeSpan Nominal(int attempt)
    {
        double ticks = _initial.Ticks * Math.Pow(2, Math.Clamp(attempt, 0, MaxExponent));
        return ticks >= _max.Ticks ? _max : TimeSpan.FromTicks((long)ticks);
    }

    public TimeSpan Delay(int attempt)
    {
        long nominal = Nominal(attempt).Ticks;
        long half = nominal / 2;
        return TimeSpan.FromTicks(half + _random.NextInt64(nominal - half + 1));
    }
}
