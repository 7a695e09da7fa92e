namespace FactoryGateway.OpcUa.Transport;

/// <summary>
/// Transport and secure-channel settings the client proposes in Hello and OpenSecureChannel, and its
/// own limits. Validate with <see cref="Validate"/> at start-up.
/// </summary>
public sealed class UaChannelOptions
{
    /// <summary>
    /// Largest chunk the client accepts, in bytes. Default 65,536: the value node-opcua and the OPC
    /// Foundation .NET stack offer; OPC 10000-6 §7.1.2.3 requires at least 8,192.
    /// </summary>
    public int ReceiveBufferSize { get; set; } = 65_536;

    /// <summary>Largest chunk the client sends (lowered to the server's ReceiveBufferSize). Default 65,536, as above.</summary>
    public int SendBufferSize { get; set; } = 65_536;

    /// <summary>
    /// Largest response message the client accepts after reassembly, in bytes. Default 16 MiB:
    /// node-opcua's default maximum message size; a 10,000-item Read response is about 400 KB.
    /// </summary>
    public int MaxMessageSize { get; set; } = 16 * 1024 * 1024;

    /// <summary>Most chunks in one response. Default 512: 16 MiB in 32 KiB chunks, twice the size limit's need at 64 KiB.</summary>
    public int MaxChunkCount { get; set; } = 512;

    /// <summary>
    /// Security token lifetime requested in OpenSecureChannel. Default 1 hour: the OPC Foundation .NET
    /// stack's <c>SecurityTokenLifetime</c>. The channel renews at 75% of the lifetime the server grants.
    /// </summary>
    public TimeSpan RequestedTokenLifetime { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// Per-request timeout when the caller gives none; also sent as the request's TimeoutHint.
    /// Default 15 s: a 1,000-item Read or CreateMonitoredItems on a busy PLC answers in well under a
    /// second, and a dead link must be noticed quickly for reconnect.
    /// </summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>TCP connect plus Hello/Acknowledge/OpenSecureChannel. Default 10 s: the same order as the request timeout.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Most requests awaiting a response on one channel. Overflow policy: a caller waits for a free
    /// slot, bounded by its own timeout (backpressure, nothing dropped). Default 256: several
    /// outstanding Publish requests plus batched Reads; node-opcua limits a session to far fewer
    /// concurrent Publish requests anyway.
    /// </summary>
    public int MaxPendingRequests { get; set; } = 256;

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first setting that is out of range.</summary>
    public UaChannelOptions Validate()
    {
        Check(ReceiveBufferSize, 8_192, 16 * 1024 * 1024, nameof(ReceiveBufferSize));
        Check(SendBufferSize, 8_192, 16 * 1024 * 1024, nameof(SendBufferSize));
        Check(MaxMessageSize, ReceiveBufferSize, int.MaxValue, nameof(MaxMessageSize));
        Check(MaxChunkCount, 1, 1_000_000, nameof(MaxChunkCount));
        Check((long)RequestedTokenLifetime.TotalMilliseconds, 10_000, uint.MaxValue, nameof(RequestedTokenLifetime));
        Check((long)RequestTimeout.TotalMilliseconds, 1, uint.MaxValue, nameof(RequestTimeout));
        Check((long)ConnectTimeout.TotalMilliseconds, 1, int.MaxValue, nameof(ConnectTimeout));
        Check(MaxPendingRequests, 1, 65_536, nameof(MaxPendingRequests));
        return this;
    }

    private static void Check(long value, long min, long max, string name)
    {
        if (value < min || value > max)
        {
            throw new ArgumentOutOfRangeException(name, value, $"UaChannelOptions.{name} must be between {min} and {max}; it is {value}.");
        }
    }
}
