namespace FactoryGateway.Ingest.Edges;

/// <summary>
/// The WAL position up to which every appended record has been applied to in-memory state. Appends
/// complete (and are applied) in any order; WAL sequence numbers are contiguous, so the watermark is
/// the position of the last record of the contiguous applied prefix. Replaying from that position
/// re-applies at most that one record, which the trackers ignore.
/// </summary>
internal sealed class SequenceWatermark
{
    private readonly Lock _lock = new();
    private readonly SortedDictionary<long, long> _pending = [];
    private long _next;
    private long _position;

    /// <param name="nextSequence">The WAL sequence number of the next record to be appended.</param>
    /// <param name="position">Where replay would start now (the last applied record, or the log head).</param>
    public SequenceWatermark(long nextSequence, long position)
    {
        _next = nextSequence;
        _position = position;
    }

    /// <summary>The position replay must start from to see every record not yet reflected in a checkpoint.</summary>
    public long ResumePosition
    {
        get
        {
            lock (_lock)
            {
                return _position;
            }
        }
    }

    public void Applied(long sequence, long position)
    {
        lock (_lock)
        {
            if (sequence != _next)
            {
                _pending[sequence] = position;
                return;
            }

            _position = position;
            _next++;
            while (_pending.Remove(_next, out long next))
            {
                _position = next;
                _next++;
            }
        }
    }
}
