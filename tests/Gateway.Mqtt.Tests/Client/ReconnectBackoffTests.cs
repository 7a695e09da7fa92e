using FactoryGateway.Mqtt.Client;

namespace FactoryGateway.Mqtt.Tests.Client;

public sealed class ReconnectBackoffTests
{
    [Fact]
    public void The_nominal_delay_doubles_up_to_the_maximum()
    {
        var backoff = new ReconnectBackoff(TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(30), new Random(1));

        Assert.Equal(
            [100, 200, 400, 800, 1_600, 3_200, 6_400, 12_800, 25_600, 30_000, 30_000],
            Enumerable.Range(0, 11).Select(a => backoff.Nominal(a).TotalMilliseconds));
        Assert.Equal(TimeSpan.FromSeconds(30), backoff.Nominal(int.MaxValue));
    }

    [Fact]
    public void Every_delay_lies_in_half_to_full_nominal_and_the_jitter_spreads_them()
    {
        var backoff = new ReconnectBackoff(TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(30), new Random(42));

        for (int attempt = 0; attempt < 12; attempt++)
        {
            TimeSpan nominal = backoff.Nominal(attempt);
            TimeSpan[] delays = [.. Enumerable.Range(0, 200).Select(_ => backoff.Delay(attempt))];
            Assert.All(delays, d => Assert.InRange(d, nominal / 2, nominal));
            Assert.True(delays.Distinct().Count() > 100, $"attempt {attempt}: only {delays.Distinct().Count()} distinct delays");
        }
    }
}
