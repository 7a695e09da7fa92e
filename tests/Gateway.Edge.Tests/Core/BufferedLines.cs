using System.Text;
using FactoryGateway.Edge.Buffer;
using FactoryGateway.Telemetry.Storage;

namespace FactoryGateway.Edge.Tests.Core;

/// <summary>What a normaliser wrote to an edge buffer, read back from the buffer's log after a flush.</summary>
internal static class BufferedLines
{
    public static async Task<List<string>> ReadAsync(EdgeBuffer buffer, CancellationToken cancellationToken)
    {
        await buffer.FlushAsync(cancellationToken);
        var lines = new List<string>();
        SegmentLog log = buffer.Log;
        long position = log.HeadPosition;
        while (position < log.TailPosition)
        {
            using LogReadBatch batch = log.ReadBatch(position, 1000, 1 << 24);
            foreach (LogRecord record in batch)
            {
                lines.AddRange(Encoding.UTF8.GetString(record.Payload.Span).Split('\n', StringSplitOptions.RemoveEmptyEntries));
            }

            position = batch.NextPosition;
        }

        return lines;
    }
}
