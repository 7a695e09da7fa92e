using System.Buffers;

namespace FactoryGateway.Testing;

/// <summary>
/// Multi-segment <see cref="ReadOnlySequence{T}"/>s over one array, as a PipeReader hands them out: for
/// parser tests (a cut at every offset) and benchmarks (fixed-size segments).
/// </summary>
public static class SequenceSegments
{
    /// <summary>A sequence of <paramref name="data"/> cut at the given offsets (out-of-range and repeated cuts ignored).</summary>
    public static ReadOnlySequence<byte> Split(byte[] data, params int[] cuts)
    {
        int[] bounds = [0, .. cuts.Where(c => c > 0 && c < data.Length).Distinct().Order(), data.Length];
        Segment? first = null;
        Segment? last = null;
        for (int i = 0; i + 1 < bounds.Length; i++)
        {
            ReadOnlyMemory<byte> memory = data.AsMemory(bounds[i], bounds[i + 1] - bounds[i]);
            last = last is null ? first = new Segment(memory, 0) : last.Append(memory);
        }

        return first is null ? ReadOnlySequence<byte>.Empty : new ReadOnlySequence<byte>(first, 0, last!, last!.Memory.Length);
    }

    /// <summary>A sequence of <paramref name="data"/> in segments of <paramref name="segmentBytes"/> (the last may be shorter).</summary>
    public static ReadOnlySequence<byte> Every(byte[] data, int segmentBytes) =>
        Split(data, [.. Enumerable.Range(1, Math.Max(0, (data.Length - 1) / segmentBytes)).Select(i => i * segmentBytes)]);

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
