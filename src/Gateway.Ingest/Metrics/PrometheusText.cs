using System.Collections.Concurrent;
using System.Globalization;
using System.Text;

namespace FactoryGateway.Ingest.Metrics;

/// <summary>A monotonically increasing counter, lock-free.</summary>
public sealed class Counter
{
    private long _value;

    public long Value => Volatile.Read(ref _value);

    public void Add(long amount) => Interlocked.Add(ref _value, amount);

    public void Increment() => Interlocked.Increment(ref _value);
}

/// <summary>A counter family with one label (for example <c>reason</c> or <c>status</c>).</summary>
public sealed class LabeledCounter(string label)
{
    private readonly ConcurrentDictionary<string, Counter> _counters = new(StringComparer.Ordinal);

    public string Label { get; } = label;

    public Counter this[string value] => _counters.GetOrAdd(value, static _ => new Counter());

    public IEnumerable<KeyValuePair<string, long>> Values =>
        _counters.OrderBy(c => c.Key, StringComparer.Ordinal).Select(c => new KeyValuePair<string, long>(c.Key, c.Value.Value));

    public long Total => _counters.Values.Sum(c => c.Value);
}

/// <summary>Writes the Prometheus text exposition format (version 0.0.4).</summary>
public sealed class PrometheusTextWriter
{
    private readonly StringBuilder _text = new();

    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    public PrometheusTextWriter Counter(string name, string help, long value) => Sample(name, help, "counter", value);

    /// <summary>A counter of a measured quantity (seconds, for one).</summary>
    public PrometheusTextWriter Counter(string name, string help, double value) => Sample(name, help, "counter", value);

    public PrometheusTextWriter Gauge(string name, string help, double value) => Sample(name, help, "gauge", value);

    public PrometheusTextWriter Counter(string name, string help, LabeledCounter counter)
    {
        Header(name, help, "counter");
        foreach ((string labelValue, long value) in counter.Values)
        {
            _text.Append(name).Append('{').Append(counter.Label).Append("=\"").Append(Escape(labelValue)).Append("\"} ")
                .Append(value.ToString(CultureInfo.InvariantCulture)).Append('\n');
        }

        return this;
    }

    public override string ToString() => _text.ToString();

    private PrometheusTextWriter Sample(string name, string help, string type, double value)
    {
        Header(name, help, type);
        _text.Append(name).Append(' ').Append(value.ToString("R", CultureInfo.InvariantCulture)).Append('\n');
        return this;
    }

    private void Header(string name, string help, string type)
    {
        _text.Append("# HELP ").Append(name).Append(' ').Append(help).Append('\n');
        _text.Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n');
    }

    private static string Escape(string value) =>
        value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);
}
