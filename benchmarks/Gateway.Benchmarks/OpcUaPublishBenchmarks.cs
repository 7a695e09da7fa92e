using System.Buffers;
using BenchmarkDotNet.Attributes;
using FactoryGateway.OpcUa.Encoding;
using FactoryGateway.OpcUa.Services;

namespace FactoryGateway.Benchmarks;

/// <summary>
/// Decoding one Publish response of 1,000 data-change notifications (the client's hot path: every
/// sample of a subscribed machine passes through it). Each notification is a Double with status Good
/// and source and server timestamps, as node-opcua sends them. Mean and Allocated are per
/// notification (OperationsPerInvoke = 1,000).
/// <c>dotnet run -c Release --project benchmarks/Gateway.Benchmarks -- --filter '*OpcUaPublish*'</c>
/// </summary>
[MemoryDiagnoser]
public class OpcUaPublishBenchmarks
{
    private const int Notifications = 1000;

    private byte[] _message = [];

    /// <summary>Bytes of the encoded message, to turn ns/notification into MB/s.</summary>
    public static int MessageBytes { get; private set; }

    [GlobalSetup]
    public void Setup()
    {
        var start = new DateTime(2026, 11, 21, 8, 0, 0, DateTimeKind.Utc);
        var items = new MonitoredItemNotification[Notifications];
        for (int i = 0; i < items.Length; i++)
        {
            items[i] = new MonitoredItemNotification((uint)i + 1, new DataValue(new Variant(1200.5 + i), default, start.AddMilliseconds(i), start.AddMilliseconds(i + 1)));
        }

        var message = new NotificationMessage(1, start, [new ExtensionObject(new DataChangeNotificationBody(new DataChangeNotification(items)))]);
        var buffer = new ArrayBufferWriter<byte>();
        StructureCodec.WritePublishResponse(new UaBinaryEncoder(buffer), 7, start, 1, message);
        _message = buffer.WrittenSpan.ToArray();
        MessageBytes = _message.Length;
        Console.WriteLine($"// Publish response: {MessageBytes} bytes, {MessageBytes / (double)Notifications:0.0} B per notification");
        if (Decode() != Notifications)
        {
            throw new InvalidOperationException("the benchmark message does not decode to its notifications.");
        }
    }

    [Benchmark(OperationsPerInvoke = Notifications)]
    public int Decode()
    {
        var decoder = new UaBinaryDecoder(_message.AsMemory());
        decoder.ReadNodeId("type");
        decoder.ReadDateTime("ResponseHeader.Timestamp");
        decoder.ReadUInt32("ResponseHeader.RequestHandle");
        decoder.ReadStatusCode("ResponseHeader.ServiceResult");
        decoder.ReadDiagnosticInfo("ResponseHeader.ServiceDiagnostics");
        decoder.ReadStringArray("ResponseHeader.StringTable");
        decoder.ReadExtensionObject("ResponseHeader.AdditionalHeader");
        PublishResult result = StructureCodec.ReadPublishResult(ref decoder);
        return ((DataChangeNotification)result.Message.NotificationData[0].Value!).MonitoredItems.Count;
    }
}
