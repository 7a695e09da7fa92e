using FactoryGateway.Testing;

namespace FactoryGateway.Evidence.Tests;

/// <summary>A clock the test moves by hand: wall time and timestamps advance together, in 100 ns ticks.</summary>
internal sealed class ManualTimeProvider : TimeProvider
{
    private long _utcTicks;

    public ManualTimeProvider(DateTimeOffset start)
    {
        _utcTicks = start.UtcTicks;
    }

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override DateTimeOffset GetUtcNow() => new(Interlocked.Read(ref _utcTicks), TimeSpan.Zero);

    public override long GetTimestamp() => Interlocked.Read(ref _utcTicks);

    public void Advance(TimeSpan by) => Interlocked.Add(ref _utcTicks, by.Ticks);
}

/// <summary>Shared values and helpers of the evidence tests.</summary>
internal static class EvidenceTest
{
    /// <summary>How long a test waits for something that should happen at once.</summary>
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    /// <summary>2026-07-01T00:00:00Z, the manual clock's start.</summary>
    public static readonly DateTimeOffset Start = new(2026, 7, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>Unix nanoseconds of <see cref="Start"/>.</summary>
    public const long StartUnixNanoseconds = 1_782_864_000_000_000_000;

    /// <summary>
    /// A valid credit code in region 330402 (嘉兴市南湖区): the demo code's body with its correct check
    /// character (see CreditCodeTests).
    /// </summary>
    public const string Enterprise = "91330402MA2B3C4D53";

    /// <summary>The known-valid code of GB 32100 examples, region 350100 (福州市).</summary>
    public const string OtherEnterprise = "91350100M000100Y43";

    public static EvidenceStore Open(TempDirectory directory, TimeProvider time, Action<EvidenceStoreOptions>? configure = null)
    {
        var options = new EvidenceStoreOptions { DataDirectory = directory.Path, TimeProvider = time };
        configure?.Invoke(options);
        return EvidenceStore.Open(options);
    }
}
