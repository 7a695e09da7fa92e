namespace FactoryGateway.OpcUa.Encoding;

/// <summary>
/// The ExtensionObject bodies the decoder turns into typed values, by the numeric namespace-0 id of
/// their DefaultBinary encoding. Everything else keeps its bytes.
/// </summary>
internal static class KnownStructures
{
    public static bool IsKnown(uint encodingId) => Services.StructureCodec.IsKnown(encodingId);

    public static object? Decode(uint encodingId, ref UaBinaryDecoder decoder) => Services.StructureCodec.Decode(encodingId, ref decoder);
}
