namespace FactoryGateway.Edge.Signals;

/// <summary>
/// One sample of one signal of one device, as a source hands it to the normaliser.
/// </summary>
/// <param name="Device">The device id (the <c>dev</c> tag), as configured.</param>
/// <param name="Signal">A canonical signal name (<see cref="CanonicalSignals"/>) or a raw signal name.</param>
/// <param name="Value">The value; ignored when <paramref name="Status"/> is not Good.</param>
/// <param name="Status">The 32-bit status code (<see cref="SignalQuality"/>); 0 is Good.</param>
/// <param name="SourceTimeNanoseconds">The device's own timestamp, Unix nanoseconds UTC (OPC UA SourceTimestamp,
/// Sparkplug timestamp, JSON field); the source falls back to its receive time only when the device gives none.</param>
public readonly record struct EdgeSample(string Device, string Signal, SignalValue Value, uint Status, long SourceTimeNanoseconds);
