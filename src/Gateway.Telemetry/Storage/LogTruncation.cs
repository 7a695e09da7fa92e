namespace FactoryGateway.Telemetry.Storage;

/// <summary>What a truncation deleted.</summary>
/// <param name="SegmentsDeleted">Whole segments deleted.</param>
/// <param name="BytesDeleted">Their size on disk.</param>
/// <param name="HeadPosition">The first position still on disk afterwards.</param>
public sealed record LogTruncation(int SegmentsDeleted, long BytesDeleted, long HeadPosition);
