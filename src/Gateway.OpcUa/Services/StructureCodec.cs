using FactoryGateway.OpcUa.Encoding;

namespace FactoryGateway.OpcUa.Services;

internal static class StructureCodec
{
    public static bool IsKnown(uint encodingId) => false;

    public static object? Decode(uint encodingId, ref UaBinaryDecoder decoder) => null;
}
