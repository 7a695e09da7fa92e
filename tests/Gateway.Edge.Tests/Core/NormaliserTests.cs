using FactoryGateway.Edge.Buffer;
using FactoryGateway.Edge.Config;
using FactoryGateway.Edge.Health;
using FactoryGateway.Edge.Signals;
using FactoryGateway.Edge.Sources;
using FactoryGateway.Testing;

namespace FactoryGateway.Edge.Tests.Core;

/// <summary>What the normaliser writes to the buffer for each thing a source says, read back from the buffer's log.</summary>
public sealed class NormaliserTests : IAsyncLifetime
{
    private const long T0 = 1_782_864_000_000_000_000; // 2026-07-01T00:00:00Z in ns
    private static readonly DateTimeOffset s_now = DateTimeOffset.UnixEpoch.AddTicks(T0 / 100).AddMinutes(1);

    private readonly TempDirectory _directory = new("edge-normaliser");
    private readonly ManualTimeProvider _clock = new(s_now);
    private EdgeBuffer _buffer = null!;
    private Normaliser _normaliser = null!;

    public ValueTask InitializeAsync()
    {
        _buffer = EdgeBuffer.Open(_directory.Path, new BufferOptions { FlushInterval = TimeSpan.FromMinutes(1), SegmentBytes = 1024 * 1024, MaxBytes = 8 * 1024 * 1024 }, 1_000, _clock);
        _normaliser = new Normaliser("edge-1", "91330402MA2B3C4D53", [("cnc-01", "opcua"), ("robot 2", "mqtt")], _buffer, TimeSpan.FromSeconds(30), _clock);
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        _normaliser.Dispose();
        await _buffer.DisposeAsync();
        _directory.Dispose();
    }

    [Fact]
    public async Task A_good_sample_is_a_telemetry_line_with_the_canonical_tags_at_its_source_time()
    {
        Assert.Equal(SampleAcceptance.Accepted, _normaliser.Sample(new EdgeSample("cnc-01", CanonicalSignals.State, SignalValue.Integer((long)MachineState.Run), SignalQuality.Good, T0)));
        Assert.Equal(SampleAcceptance.Accepted, _normaliser.Sample(new EdgeSample("robot 2", "program", SignalValue.String("weld \"A\"\nstep"), SignalQuality.Good, T0 + 1)));
        Assert.Equal(SampleAcceptance.Accepted, _normaliser.Sample(new EdgeSample("cnc-01", "spindle_speed", SignalValue.Float(1200.5), SignalQuality.Good, T0 + 2)));

        Assert.Equal(
            [
                $"telemetry,dev=cnc-01,edge=edge-1,ent=91330402MA2B3C4D53 state=4i {T0}",
                $"telemetry,dev=robot\\ 2,edge=edge-1,ent=91330402MA2B3C4D53 program=\"weld \\\"A\\\" step\" {T0 + 1}",
                $"telemetry,dev=cnc-01,edge=edge-1,ent=91330402MA2B3C4D53 spindle_speed=1200.5 {T0 + 2}",
            ],
            await LinesAsync());
    }

    [Fact]
    public async Task An_uncertain_or_bad_sample_carries_its_status_code_instead_of_a_value()
    {
        _normaliser.Sample(new EdgeSample("cnc-01", "spindle_speed", SignalValue.Float(99), 0x4000_0000, T0));
        _normaliser.Sample(new EdgeSample("cnc-01", "spindle_speed", SignalValue.Float(99), 0x8031_0000, T0 + 1));

        Assert.Equal(
            [
                $"telemetry,dev=cnc-01,edge=edge-1,ent=91330402MA2B3C4D53 spindle_speed__status=1073741824i {T0}",
                $"telemetry,dev=cnc-01,edge=edge-1,ent=91330402MA2B3C4D53 spindle_speed__status=2150694912i {T0 + 1}",
            ],
            await LinesAsync());
    }

    [Fact]
    public async Task A_value_re_sent_with_a_source_time_not_after_the_last_is_stale_and_not_taken_again()
    {
        var sample = new EdgeSample("cnc-01", "parts_total", SignalValue.Integer(41), SignalQuality.Good, T0 + 10);
        Assert.Equal(SampleAcceptance.Accepted, _normaliser.Sample(sample));
        Assert.Equal(SampleAcceptance.Stale, _normaliser.Sample(sample)); // re-sent after a reconnect
        Assert.Equal(SampleAcceptance.Stale, _normaliser.Sample(sample with { SourceTimeNanoseconds = T0 })); // an older copy
        Assert.Equal(SampleAcceptance.Accepted, _normaliser.Sample(sample with { SourceTimeNanoseconds = T0 + 20 })); // republished: a new sample
        Assert.Equal(SampleAcceptance.Accepted, _normaliser.Sample(sample with { Value = SignalValue.Integer(40), SourceTimeNanoseconds = T0 + 5 })); // another value: data

        Assert.Equal(3, (await LinesAsync()).Count);
        Assert.Equal(2, _normaliser.GetHealth().Single(d => d.Device == "cnc-01").Stale);
    }

    [Fact]
    public async Task A_connected_device_gets_a_heartbeat_every_interval_and_a_disconnect_says_why()
    {
        _normaliser.Connection("cnc-01", up: true);
        _clock.Advance(TimeSpan.FromSeconds(29));
        _normaliser.Tick();
        _clock.Advance(TimeSpan.FromSeconds(1));
        _normaliser.Tick(); // 30 s after the connect: a heartbeat
        _clock.Advance(TimeSpan.FromSeconds(30));
        _normaliser.Tick();
        _normaliser.Connection("cnc-01", up: false, "BadServerHalted");
        _clock.Advance(TimeSpan.FromSeconds(60));
        _normaliser.Tick(); // down: no heartbeat

        long t = (s_now - DateTimeOffset.UnixEpoch).Ticks * 100;
        Assert.Equal(
            [
                $"connection,dev=cnc-01,edge=edge-1,ent=91330402MA2B3C4D53 up=true {t}",
                $"connection,dev=cnc-01,edge=edge-1,ent=91330402MA2B3C4D53 up=true {t + 30_000_000_000}",
                $"connection,dev=cnc-01,edge=edge-1,ent=91330402MA2B3C4D53 up=true {t + 60_000_000_000}",
                $"connection,dev=cnc-01,edge=edge-1,ent=91330402MA2B3C4D53 up=false,reason=\"BadServerHalted\" {t + 60_000_000_000}",
            ],
            await LinesAsync());
        DeviceHealth health = _normaliser.GetHealth().Single(d => d.Device == "cnc-01");
        Assert.False(health.Connected);
        Assert.Equal(s_now.AddSeconds(60), health.Since);
    }

    [Fact]
    public async Task An_identity_is_written_on_first_sight_and_again_only_when_it_changes()
    {
        var nameplate = new DeviceIdentity { Manufacturer = "Dalian", Model = "VDL-850", SerialNumber = "SN-1", CertificateThumbprint = "AB12" };
        _normaliser.Identity("cnc-01", nameplate);
        _normaliser.Identity("cnc-01", nameplate with { }); // read again after a reconnect: the same
        _normaliser.Identity("cnc-01", new DeviceIdentity { SerialNumber = "SN-2" }); // another machine behind the same server

        long t = (s_now - DateTimeOffset.UnixEpoch).Ticks * 100;
        Assert.Equal(
            [
                $"identity,dev=cnc-01,edge=edge-1,ent=91330402MA2B3C4D53 manufacturer=\"Dalian\",model=\"VDL-850\",serial_number=\"SN-1\",cert_thumbprint=\"AB12\" {t}",
                $"identity,dev=cnc-01,edge=edge-1,ent=91330402MA2B3C4D53 manufacturer=\"Dalian\",model=\"VDL-850\",serial_number=\"SN-2\",cert_thumbprint=\"AB12\" {t}",
            ],
            await LinesAsync());
    }

    [Fact]
    public async Task A_device_that_is_not_configured_and_a_value_the_line_protocol_cannot_carry_are_refused_and_counted()
    {
        Assert.Equal(SampleAcceptance.Invalid, _normaliser.Sample(new EdgeSample("unknown", "v", SignalValue.Integer(1), SignalQuality.Good, T0)));
        Assert.Equal(SampleAcceptance.Invalid, _normaliser.Sample(new EdgeSample("cnc-01", "v", SignalValue.Float(double.NaN), SignalQuality.Good, T0)));
        Assert.Equal(SampleAcceptance.Accepted, _normaliser.Sample(new EdgeSample("cnc-01", "v", SignalValue.Float(1), SignalQuality.Good, T0)));

        Assert.Equal(1, _normaliser.UnknownDeviceSamples);
        Assert.Equal(1, _normaliser.InvalidSamples);
        Assert.Single(await LinesAsync());
    }

    [Fact]
    public void Bad_items_show_in_health_with_the_servers_reason_until_they_are_good_again()
    {
        _normaliser.ItemStatus("cnc-01", "ns=2;s=Spindle", 0x8034_0000, "BadNodeIdUnknown");
        Assert.Equal("BadNodeIdUnknown", Assert.Single(_normaliser.GetHealth().Single(d => d.Device == "cnc-01").BadItems).Reason);
        _normaliser.ItemStatus("cnc-01", "ns=2;s=Spindle", SignalQuality.Good);
        Assert.Empty(_normaliser.GetHealth().Single(d => d.Device == "cnc-01").BadItems);
    }

    private Task<List<string>> LinesAsync() => BufferedLines.ReadAsync(_buffer, TestContext.Current.CancellationToken);
}
