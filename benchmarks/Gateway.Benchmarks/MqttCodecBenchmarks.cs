using System.Buffers;
using System.Text;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using FactoryGateway.Mqtt.Packets;
using FactoryGateway.Testing;

namespace FactoryGateway.Benchmarks;

/// <summary>
/// MQTT packet codec on the gateway's common packet: an MQTT 5.0 PUBLISH at QoS 1 from a retrofit device
/// (topic <c>factory/line-07/cnc-0042/telemetry</c>, 120-byte JSON payload, one user property). Results are
/// per packet: packets/s = 1e9 / Mean(ns). Decode copies topic, properties and payload out of the buffer
/// (the packet outlives the pipe buffer), so it allocates per packet; encode allocates nothing.
/// </summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class MqttCodecBenchmarks
{
    private const int Packets = 1_000;

    private readonly MqttPacketReader _reader = new(MqttProtocolVersion.V500);
    private readonly ArrayBufferWriter<byte> _output = new(1024 * 1024);
    private PublishPacket[] _packets = [];
    private ReadOnlySequence<byte> _contiguous;
    private ReadOnlySequence<byte> _segmented;

    [GlobalSetup]
    public void Setup()
    {
        _packets = [.. Enumerable.Range(0, Packets).Select(i =>
        {
            var properties = new MqttProperties();
            properties.UserProperties.Add(new MqttUserProperty("schema", "v1"));
            string json = $"{{\"ts\":{1_795_000_000_000 + i},\"spindle_speed\":{12000.5 + (i % 97)},\"feed_rate\":{850.25 + (i % 13)},\"parts_total\":{100_000 + i},\"state\":4}}";
            return new PublishPacket
            {
                Topic = "factory/line-07/cnc-0042/telemetry",
                Qos = MqttQos.AtLeastOnce,
                PacketId = (ushort)(i + 1),
                Properties = properties,
                Payload = Encoding.UTF8.GetBytes(json.PadRight(120)),
            };
        })];
        Encode();
        byte[] bytes = _output.WrittenSpan.ToArray();
        _contiguous = new ReadOnlySequence<byte>(bytes);
        // 4 KiB segments, the shape of a socket read through a PipeReader: about one packet in 20 spans two.
        _segmented = SequenceSegments.Every(bytes, 4096);
        if (Decode(_contiguous) != Packets || Decode(_segmented) != Packets)
        {
            throw new InvalidOperationException("The benchmark body does not decode.");
        }

        Console.WriteLine($"// {bytes.Length / Packets} bytes per PUBLISH");
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Packets)]
    [BenchmarkCategory("Decode")]
    public int DecodeContiguous() => Decode(_contiguous);

    [Benchmark(OperationsPerInvoke = Packets)]
    [BenchmarkCategory("Decode")]
    public int DecodeSegmented4K() => Decode(_segmented);

    [Benchmark(Baseline = true, OperationsPerInvoke = Packets)]
    [BenchmarkCategory("Encode")]
    public int Encode()
    {
        _output.ResetWrittenCount();
        int bytes = 0;
        foreach (PublishPacket packet in _packets)
        {
            bytes += MqttPacketWriter.Write(_output, packet, MqttProtocolVersion.V500);
        }

        return bytes;
    }

    private int Decode(ReadOnlySequence<byte> body)
    {
        var reader = new SequenceReader<byte>(body);
        int count = 0;
        while (_reader.TryRead(ref reader, out MqttPacket? _))
        {
            count++;
        }

        return count;
    }
}
