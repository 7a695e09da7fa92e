namespace FactoryGateway.Telemetry.LineProtocol;

/// <summary>How much of a line <see cref="LineProtocolReader"/> checks.</summary>
public enum LineProtocolValidation
{
    /// <summary>Everything: structure, escapes, limits, UTF-8 and every field value's syntax and range. For input from clients.</summary>
    Full,

    /// <summary>
    /// Structure, escapes, limits and timestamps only: UTF-8 and field values are not checked again. For bodies
    /// this process validated with <see cref="Full"/> before storing them (the ingest's WAL), where the second
    /// check would only repeat the first.
    /// </summary>
    Structure,
}
