using FactoryGateway.Edge.Signals;
using FactoryGateway.Edge.Sources.OpcUa;
using FactoryGateway.OpcUa.Client;
using FactoryGateway.OpcUa.Encoding;

namespace FactoryGateway.Edge.Tests.OpcUa;

/// <summary>How OPC UA values become samples, and the configuration's node notation.</summary>
public sealed class OpcUaValueTests
{
    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }

    private static readonly double[] s_vector = [1.0, 2.0];
    private static readonly DateTime s_source = new(2026, 3, 2, 8, 0, 0, 123, DateTimeKind.Utc);
    private static readonly DateTime s_server = s_source.AddSeconds(1);
    private static readonly DateTimeOffset s_now = new(s_source.AddSeconds(5));

    private static long Nanos(DateTime t) => (t.Ticks - DateTime.UnixEpoch.Ticks) * 100;

    [Fact]
    public void The_sample_time_is_the_source_timestamp_else_the_server_timestamp_else_the_receive_time()
    {
        var time = new FixedTime(s_now);
        Assert.Equal(Nanos(s_source), OpcUaSource.TimeOf(new DataValue(new Variant(1.0), default, s_source, s_server), time));
        Assert.Equal(Nanos(s_server), OpcUaSource.TimeOf(new DataValue(new Variant(1.0), default, default, s_server), time));
        Assert.Equal(Nanos(s_now.UtcDateTime), OpcUaSource.TimeOf(new DataValue(new Variant(1.0)), time));
    }

    private static DeviceItem Item(string signal, double scale = 1) =>
        new("x", UaNodeReference.Parse("ns=1;s=x"), ItemRole.Signal, signal, scale);

    [Fact]
    public void Values_keep_their_type_counters_are_integers_and_power_on_time_is_seconds()
    {
        EdgeSample? S(string signal, Variant v, double scale = 1) => OpcUaSource.ToSample("d", Item(signal, scale), new DataValue(v), 7);
        Assert.Equal(SignalValue.Float(2.5), S("temp", new Variant(2.5))!.Value.Value);
        Assert.Equal(SignalValue.Integer(-3), S("offset", new Variant((short)-3))!.Value.Value);
        Assert.Equal(SignalValue.Unsigned(ulong.MaxValue), S("big", new Variant(ulong.MaxValue))!.Value.Value);
        Assert.Equal(SignalValue.Boolean(true), S("door", new Variant(true))!.Value.Value);
        Assert.Equal(SignalValue.String("O100"), S("program", new Variant(new LocalizedText("en", "O100")))!.Value.Value);
        Assert.Equal(SignalValue.Integer(42), S(CanonicalSignals.PartsTotal, new Variant(42.0))!.Value.Value);
        Assert.Equal(SignalValue.Float(7200), S(CanonicalSignals.PowerOnSeconds, new Variant(2u), 3600)!.Value.Value);
        Assert.Null(S("empty", Variant.Null));
    }

    [Fact]
    public void A_bad_status_is_kept_and_a_value_the_line_protocol_cannot_hold_is_a_type_mismatch()
    {
        EdgeSample bad = OpcUaSource.ToSample("d", Item("temp"), new DataValue(new Variant(1.0), new StatusCode(0x808C_0000)), 7)!.Value;
        Assert.Equal((0x808C_0000u, 7L), (bad.Status, bad.SourceTimeNanoseconds));
        EdgeSample array = OpcUaSource.ToSample("d", Item("vector"), new DataValue(Variant.FromArray(BuiltInType.Double, s_vector)), 7)!.Value;
        Assert.Equal(0x8074_0000u, array.Status);
    }

    [Theory]
    [InlineData("nsu=urn:plant;s=Mill1.Speed", "nsu=urn:plant;s=Mill1.Speed")]
    [InlineData("ns=2;i=7", "ns=2;i=7")]
    [InlineData("/{http://opcfoundation.org/UA/Machinery/}Machines/{urn:plant}Mill1", "/{http://opcfoundation.org/UA/Machinery/}Machines/{urn:plant}Mill1")]
    [InlineData("./{urn:plant}Spindle/Speed", "./{urn:plant}Spindle/Speed")]
    public void Node_notation_round_trips(string text, string expected) => Assert.Equal(expected, OpcUaNodeText.Parse(text).ToString());

    [Theory]
    [InlineData("")]
    [InlineData("/")]
    [InlineData("/{urn:x")]
    [InlineData("/a//b")]
    [InlineData("/a/")]
    [InlineData("nonsense")]
    public void Bad_node_notation_is_refused(string text) => Assert.False(OpcUaNodeText.TryParse(text, out _, out _));

    [Fact]
    public void A_relative_path_starts_at_the_root_and_names_are_qualified_by_namespace_uri()
    {
        OpcUaNodeText path = OpcUaNodeText.Parse("./{urn:plant}Spindle/Speed");
        Assert.Equal([new UaBrowseName("urn:plant", "Spindle"), new UaBrowseName(OpcUaNodeText.UaNamespace, "Speed")], path.Path);
        UaNodeReference reference = path.ToReference(ExpandedNodeId.Parse("nsu=urn:plant;s=Mill1"));
        Assert.Equal("nsu=urn:plant;s=Mill1", reference.StartingNode!.ToString());
    }

    [Theory]
    [InlineData("Motor Current/A", "Motor_Current_A")]
    [InlineData("  temp ", "temp")]
    [InlineData("温度", null)]
    [InlineData("a__b", "a__b")]
    public void Free_text_becomes_a_signal_name(string text, string? expected) => Assert.Equal(expected, OpcUaNodeText.SanitizeSignal(text));
}
