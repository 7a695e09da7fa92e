using FactoryGateway.OpcUa.Encoding;
using FactoryGateway.OpcUa.Services;

namespace FactoryGateway.OpcUa.Tests;

/// <summary>
/// The allocation budget of the client's hot path (docs/performance.md): decoding a Publish response
/// allocates the two objects each notification is delivered as, and nothing per byte or per field.
/// </summary>
public sealed class AllocationBudgetTests
{
    // DataValue (80 B) + MonitoredItemNotification (32 B) + its array slot (8 B) = 120 B; the rest is per message.
    private const int BudgetBytesPerNotification = 128;

    [Fact]
    public void Decoding_a_Publish_response_of_Double_notifications_stays_within_budget()
    {
        const int Notifications = 1000;
        var start = new DateTime(2026, 11, 21, 8, 0, 0, DateTimeKind.Utc);
        var items = new MonitoredItemNotification[Notifications];
        for (int i = 0; i < items.Length; i++)
        {
            items[i] = new MonitoredItemNotification((uint)i + 1, new DataValue(new Variant(1200.5 + i), default, start.AddMilliseconds(i), start.AddMilliseconds(i + 1)));
        }

        var message = new NotificationMessage(1, start, [new ExtensionObject(new DataChangeNotificationBody(new DataChangeNotification(items)))]);
        byte[] bytes = BinaryEncodingTests.Encode(e => StructureCodec.WritePublishResponse(e, 7, start, 1, message));
        Decode(bytes); // warm up (JIT, static tables)

        long before = GC.GetAllocatedBytesForCurrentThread();
        int count = Decode(bytes);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(Notifications, count);
        Assert.True(allocated <= BudgetBytesPerNotification * Notifications, $"{allocated / (double)Notifications:0.0} B per notification exceeds the budget of {BudgetBytesPerNotification} B");
    }

    private static int Decode(byte[] bytes)
    {
        var decoder = new UaBinaryDecoder(bytes.AsMemory());
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
