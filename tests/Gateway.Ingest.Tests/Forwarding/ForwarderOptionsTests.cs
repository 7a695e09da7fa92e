using FactoryGateway.Ingest.Forwarding;

namespace FactoryGateway.Ingest.Tests.Forwarding;

public sealed class ForwarderOptionsTests
{
    [Fact]
    public void The_defaults_are_valid_once_a_dead_letter_directory_is_named()
    {
        var options = new ForwarderOptions { DeadLetterDirectory = "deadletter" };

        options.Validate();

        Assert.Equal("forwarder", options.CursorName);
        Assert.Equal(5_000, options.MaxBatchLines);
        Assert.Equal(TimeSpan.FromSeconds(1), options.FlushInterval);
        Assert.Null(options.Gzip); // gzip unless InfluxDB is on this host
        Assert.Equal(TimeSpan.FromMilliseconds(100), options.InitialBackoff);
        Assert.Equal(TimeSpan.FromSeconds(30), options.MaxBackoff);
    }

    [Theory]
    [InlineData(null, "http://127.0.0.1:8086", false)]
    [InlineData(null, "http://127.3.2.1:8086/", false)]
    [InlineData(null, "http://localhost:8086", false)]
    [InlineData(null, "http://[::1]:8086", false)]
    [InlineData(null, "http://influxdb.plant.example:8086", true)]
    [InlineData(null, "https://10.0.0.5:8086", true)]
    [InlineData(true, "http://127.0.0.1:8086", true)]
    [InlineData(false, "http://influxdb.plant.example:8086", false)]
    public void Unset_gzip_compresses_except_for_an_influxdb_on_a_loopback_host(bool? gzip, string url, bool compressed)
    {
        var options = new ForwarderOptions { DeadLetterDirectory = "deadletter", Gzip = gzip };

        Assert.Equal(compressed, options.GzipFor(new Uri(url)));
    }

    public static TheoryData<string, string> InvalidOptions => new()
    {
        { nameof(ForwarderOptions.CursorName), "Forwarder" },
        { nameof(ForwarderOptions.CursorName), "" },
        { nameof(ForwarderOptions.MaxBatchLines), "0" },
        { nameof(ForwarderOptions.MaxBatchLines), "1000001" },
        { nameof(ForwarderOptions.MaxBatchBytes), "1023" },
        { nameof(ForwarderOptions.MaxBatchBytes), "268435457" },
        { nameof(ForwarderOptions.FlushInterval), "-00:00:01" },
        { nameof(ForwarderOptions.FlushInterval), "02:00:00" },
        { nameof(ForwarderOptions.InitialBackoff), "00:00:00" },
        { nameof(ForwarderOptions.MaxBackoff), "00:00:00.050" },
        { nameof(ForwarderOptions.MaxBackoff), "02:00:00" },
        { nameof(ForwarderOptions.MaxRetryAfter), "00:00:00.050" },
        { nameof(ForwarderOptions.DeadLetterDirectory), " " },
    };

    [Theory]
    [MemberData(nameof(InvalidOptions))]
    public void Validate_names_the_option_and_the_reason(string option, string value)
    {
        var options = new ForwarderOptions { DeadLetterDirectory = "deadletter" };
        System.Reflection.PropertyInfo property = typeof(ForwarderOptions).GetProperty(option)!;
        object parsed = property.PropertyType == typeof(int) ? int.Parse(value)
            : property.PropertyType == typeof(TimeSpan) ? TimeSpan.Parse(value)
            : value;
        property.SetValue(options, parsed);

        var error = Assert.Throws<ArgumentException>(options.Validate);

        Assert.Equal(option, error.ParamName);
        Assert.StartsWith($"ForwarderOptions.{option} must ", error.Message, StringComparison.Ordinal);
        Assert.EndsWith($"(was {parsed}). (Parameter '{option}')", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Backoff_doubles_from_the_initial_delay_to_the_maximum_with_jitter_in_the_upper_half()
    {
        var backoff = new Backoff(TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(30), new Random(42));

        Assert.Equal(TimeSpan.FromMilliseconds(100), backoff.Nominal(0));
        Assert.Equal(TimeSpan.FromMilliseconds(200), backoff.Nominal(1));
        Assert.Equal(TimeSpan.FromMilliseconds(25_600), backoff.Nominal(8));
        Assert.Equal(TimeSpan.FromSeconds(30), backoff.Nominal(9));
        Assert.Equal(TimeSpan.FromSeconds(30), backoff.Nominal(int.MaxValue));
        for (int attempt = 0; attempt < 40; attempt++)
        {
            TimeSpan nominal = backoff.Nominal(attempt);
            var seen = new HashSet<TimeSpan>();
            for (int i = 0; i < 200; i++)
            {
                TimeSpan delay = backoff.Delay(attempt);
                Assert.InRange(delay, nominal / 2, nominal);
                seen.Add(delay);
            }

            Assert.True(seen.Count > 100, $"attempt {attempt}: only {seen.Count} distinct delays"); // jittered, not fixed
        }
    }
}
