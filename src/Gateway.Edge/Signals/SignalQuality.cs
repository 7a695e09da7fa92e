namespace FactoryGateway.Edge.Signals;

/// <summary>
/// The quality of a sample from its 32-bit status code (OPC 10000-4 §7.39: the two top bits are the
/// severity — 00 Good, 01 Uncertain, 10 and 11 Bad). MQTT sources map their own quality to a code.
/// </summary>
public static class SignalQuality
{
    /// <summary>Good (0x00000000).</summary>
    public const uint Good = 0;

    /// <summary>Uncertain, no more detail (0x40000000).</summary>
    public const uint Uncertain = 0x4000_0000;

    /// <summary>Bad, no more detail (0x80000000).</summary>
    public const uint Bad = 0x8000_0000;

    /// <summary>BadNoCommunication (0x80310000): the source lost the device.</summary>
    public const uint BadNoCommunication = 0x8031_0000;

    /// <summary>BadTypeMismatch (0x80740000): the value is not of the type the signal is mapped as.</summary>
    public const uint BadTypeMismatch = 0x8074_0000;

    /// <summary>BadOutOfRange (0x803C0000): the value cannot be held without changing it.</summary>
    public const uint BadOutOfRange = 0x803C_0000;

    /// <summary>BadConfigurationError (0x80890000): the item maps to nothing under a strict mapping.</summary>
    public const uint BadConfigurationError = 0x8089_0000;

    public static bool IsGood(uint status) => (status & 0xC000_0000) == 0;

    public static bool IsUncertain(uint status) => (status & 0xC000_0000) == 0x4000_0000;

    public static bool IsBad(uint status) => (status & 0x8000_0000) != 0;
}
