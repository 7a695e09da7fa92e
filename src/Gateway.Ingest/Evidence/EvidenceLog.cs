using Microsoft.Extensions.Logging;

namespace FactoryGateway.Ingest.Evidence;

/// <summary>Log messages of the evidence accumulator (event ids 2200–2249).</summary>
internal static partial class EvidenceLog
{
    [LoggerMessage(2200, LogLevel.Information, "Evidence accumulator {Name} resumes at WAL position {Position} with {Devices} device(s) and {OpenRows} open row(s)")]
    public static partial void Resumed(ILogger logger, string name, long position, int devices, int openRows);

    [LoggerMessage(2201, LogLevel.Error, "Evidence accumulator {Name}: its checkpoint is at WAL position {Checkpoint} but the WAL starts at {Head}; the records in between are gone and not in the ledger")]
    public static partial void CheckpointBehindWal(ILogger logger, string name, long checkpoint, long head);

    [LoggerMessage(2202, LogLevel.Error, "Evidence accumulator {Name}: WAL record at {Position} is not evidence ({Reason}); skipped")]
    public static partial void RecordSkipped(ILogger logger, string name, long position, string reason);

    [LoggerMessage(2203, LogLevel.Information, "Evidence accumulator {Name} sealed {Rows} row(s) and {Roots} enterprise-day root(s)")]
    public static partial void Sealed(ILogger logger, string name, int rows, int roots);

    [LoggerMessage(2205, LogLevel.Debug, "Evidence accumulator {Name} gives way to {Consumer}, which is delivering a backlog; evidence is {LagBytes} WAL bytes behind")]
    public static partial void GivingWay(ILogger logger, string name, string consumer, long lagBytes);

    [LoggerMessage(2206, LogLevel.Debug, "Evidence accumulator {Name} resumes after giving way for {Duration}; evidence is {LagBytes} WAL bytes behind")]
    public static partial void GaveWay(ILogger logger, string name, TimeSpan duration, long lagBytes);

    [LoggerMessage(2204, LogLevel.Information, "Evidence accumulator {Name} stopped at WAL position {Position}")]
    public static partial void Stopped(ILogger logger, string name, long position);
}
