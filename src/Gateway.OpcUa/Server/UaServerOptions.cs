using System.Net;
using FactoryGateway.OpcUa.Pki;
using FactoryGateway.OpcUa.Transport.Security;

namespace FactoryGateway.OpcUa.Server;

/// <summary>Checks a user name and password for ActivateSession; true accepts the login.</summary>
public delegate bool UaUserValidator(string userName, string password);

/// <summary>What the server listens on, offers and allows. Validate with <see cref="Validate"/> at start-up.</summary>
public sealed class UaServerOptions
{
    /// <summary>Address to listen on. Default loopback: the simulator and the tests run on one machine.</summary>
    public IPAddress ListenAddress { get; set; } = IPAddress.Loopback;

    /// <summary>TCP port; 0 picks a free one (read it from <see cref="UaServer.Port"/>). Default 0.</summary>
    public int Port { get; set; }

    /// <summary>Host name in the endpoint URL the server advertises. Default "localhost".</summary>
    public string HostName { get; set; } = "localhost";

    /// <summary>ApplicationUri (also namespace 1). Default a FactoryGateway URN.</summary>
    public string ApplicationUri { get; set; } = "urn:factorygateway:simulator";

    public string ProductUri { get; set; } = "urn:factorygateway";

    public string ApplicationName { get; set; } = "FactoryGateway simulator";

    /// <summary>
    /// Largest chunk the server accepts and sends, in bytes (lowered to the client's in Acknowledge).
    /// Default 65,536: what node-opcua and the OPC Foundation .NET stack offer; OPC 10000-6 §7.1.2.3 asks at least 8,192.
    /// </summary>
    public int BufferSize { get; set; } = 65_536;

    /// <summary>Largest request after reassembly. Default 4 MiB: a 10,000-node Read request is about 300 KB.</summary>
    public int MaxMessageSize { get; set; } = 4 * 1024 * 1024;

    /// <summary>Most chunks in one request. Default 64: 4 MiB in 64 KiB chunks.</summary>
    public int MaxChunkCount { get; set; } = 64;

    /// <summary>Requests being reassembled at once on one connection. Default 16: clients send one request's chunks back to back.</summary>
    public int MaxPartialMessages { get; set; } = 16;

    /// <summary>
    /// Messages waiting to be written on one connection. Overflow policy <c>CloseConnection</c>: a
    /// client that does not read its responses is disconnected (counter <see cref="UaServer.SendQueueOverflows"/>),
    /// so it cannot make the server hold unbounded memory. Default 1,024: far above a well-behaved
    /// client's outstanding requests plus Publish responses.
    /// </summary>
    public int SendQueueCapacity { get; set; } = 1024;

    /// <summary>Shortest security token lifetime granted. Default 10 s: the shortest the client stack requests.</summary>
    public TimeSpan MinTokenLifetime { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Longest security token lifetime granted. Default 1 hour: the OPC Foundation .NET stack's default.</summary>
    public TimeSpan MaxTokenLifetime { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Shortest and longest session timeouts granted. Defaults 10 s and 1 hour (node-opcua's bounds).</summary>
    public TimeSpan MinSessionTimeout { get; set; } = TimeSpan.FromSeconds(10);

    public TimeSpan MaxSessionTimeout { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Sessions at once. Default 100: a factory simulator serves a handful of edges.</summary>
    public int MaxSessions { get; set; } = 100;

    /// <summary>Subscriptions per session. Default 100.</summary>
    public int MaxSubscriptionsPerSession { get; set; } = 100;

    /// <summary>Queued Publish requests per session; more are refused with BadTooManyPublishRequests. Default 10 (node-opcua's).</summary>
    public int MaxPublishRequestsPerSession { get; set; } = 10;

    /// <summary>
    /// Sent NotificationMessages kept per subscription for Republish until acknowledged. Overflow policy
    /// <c>DropOldest</c>. Default 100: ten seconds at a 100 ms publishing interval.
    /// </summary>
    public int MaxRetransmissionQueue { get; set; } = 100;

    /// <summary>Nodes per Read/Write/Browse/TranslateBrowsePaths call (OperationLimits). Default 10,000.</summary>
    public int MaxNodesPerCall { get; set; } = 10_000;

    /// <summary>Monitored items per CreateMonitoredItems/DeleteMonitoredItems call. Default 1,000.</summary>
    public int MaxMonitoredItemsPerCall { get; set; } = 1_000;

    /// <summary>Browse continuation points per session (MaxBrowseContinuationPoints). Default 10.</summary>
    public int MaxBrowseContinuationPoints { get; set; } = 10;

    /// <summary>Largest monitored-item queue granted. Default 1,000.</summary>
    public int MaxQueueSize { get; set; } = 1_000;

    /// <summary>Shortest publishing interval granted. Default 50 ms: the simulator's fastest change rate.</summary>
    public TimeSpan MinPublishingInterval { get; set; } = TimeSpan.FromMilliseconds(50);

    /// <summary>
    /// Shortest sampling interval granted. Default 0: the address space reports every change, so a client
    /// asking for the fastest rate gets each value (exception-based sampling, OPC 10000-4 §5.12.1.2).
    /// </summary>
    public TimeSpan MinSamplingInterval { get; set; } = TimeSpan.Zero;

    /// <summary>Time from connect to an open secure channel before the connection is closed. Default 10 s: the client's connect timeout.</summary>
    public TimeSpan HelloTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How often sessions and channel tokens are checked for expiry. Default 1 s.</summary>
    public TimeSpan HousekeepingInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>On shutdown, how long connections may take to send what they have queued before they are dropped. Default 2 s.</summary>
    public TimeSpan ShutdownGrace { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Whether anonymous sessions are allowed. Default true.</summary>
    public bool AllowAnonymous { get; set; } = true;

    /// <summary>Checks user-name logins; null offers no user-name token policy. Default null.</summary>
    public UaUserValidator? UserValidator { get; set; }

    /// <summary>
    /// Secure SecurityPolicy URIs offered besides None, each with MessageSecurityMode Sign and
    /// SignAndEncrypt (OPC 10000-7; <see cref="UaSecurityPolicy.Find"/> names the implemented ones).
    /// Needs <see cref="Pki"/>. Default empty: the simulator on loopback needs no security.
    /// </summary>
    public IList<string> SecurityPolicyUris { get; } = [];

    /// <summary>
    /// Whether the SecurityPolicy None endpoint is offered for sessions. Default true. When false a None
    /// channel still serves GetEndpoints and FindServers (OPC 10000-4 §5.4), but CreateSession on it is refused.
    /// </summary>
    public bool AllowSecurityNone { get; set; } = true;

    /// <summary>
    /// The server's certificate store: its application certificate (sent in the secure endpoints,
    /// signing and decrypting OpenSecureChannel and CreateSession) and the trust list client certificates
    /// are checked against; refused ones go to its <c>rejected/</c>. Owned by the caller. Default null (None only).
    /// </summary>
    public CertificateStore? Pki { get; set; }

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first setting that is out of range.</summary>
    public UaServerOptions Validate()
    {
        ArgumentNullException.ThrowIfNull(ListenAddress);
        ArgumentException.ThrowIfNullOrEmpty(HostName);
        ArgumentException.ThrowIfNullOrEmpty(ApplicationUri);
        Check(Port, 0, 65_535, nameof(Port));
        Check(BufferSize, 8_192, 16 * 1024 * 1024, nameof(BufferSize));
        Check(MaxMessageSize, BufferSize, int.MaxValue, nameof(MaxMessageSize));
        Check(MaxChunkCount, 1, 100_000, nameof(MaxChunkCount));
        Check(MaxPartialMessages, 1, 1_000, nameof(MaxPartialMessages));
        Check(SendQueueCapacity, 8, 1_000_000, nameof(SendQueueCapacity));
        Check((long)MinTokenLifetime.TotalMilliseconds, 1_000, uint.MaxValue, nameof(MinTokenLifetime));
        Check((long)MaxTokenLifetime.TotalMilliseconds, (long)MinTokenLifetime.TotalMilliseconds, uint.MaxValue, nameof(MaxTokenLifetime));
        Check((long)MinSessionTimeout.TotalMilliseconds, 1_000, uint.MaxValue, nameof(MinSessionTimeout));
        Check((long)MaxSessionTimeout.TotalMilliseconds, (long)MinSessionTimeout.TotalMilliseconds, uint.MaxValue, nameof(MaxSessionTimeout));
        Check(MaxSessions, 1, 100_000, nameof(MaxSessions));
        Check(MaxSubscriptionsPerSession, 1, 10_000, nameof(MaxSubscriptionsPerSession));
        Check(MaxPublishRequestsPerSession, 1, 1_000, nameof(MaxPublishRequestsPerSession));
        Check(MaxRetransmissionQueue, 1, 100_000, nameof(MaxRetransmissionQueue));
        Check(MaxNodesPerCall, 1, 1_000_000, nameof(MaxNodesPerCall));
        Check(MaxMonitoredItemsPerCall, 1, 1_000_000, nameof(MaxMonitoredItemsPerCall));
        Check(MaxBrowseContinuationPoints, 1, ushort.MaxValue, nameof(MaxBrowseContinuationPoints));
        Check(MaxQueueSize, 1, 1_000_000, nameof(MaxQueueSize));
        Check((long)MinPublishingInterval.TotalMilliseconds, 1, 3_600_000, nameof(MinPublishingInterval));
        Check((long)MinSamplingInterval.TotalMilliseconds, 0, 3_600_000, nameof(MinSamplingInterval));
        Check((long)HelloTimeout.TotalMilliseconds, 100, 3_600_000, nameof(HelloTimeout));
        Check((long)ShutdownGrace.TotalMilliseconds, 0, 3_600_000, nameof(ShutdownGrace));
        Check((long)HousekeepingInterval.TotalMilliseconds, 10, 3_600_000, nameof(HousekeepingInterval));
        foreach (string uri in SecurityPolicyUris)
        {
            if (UaSecurityPolicy.Find(uri) is null)
            {
                throw new ArgumentException($"UaServerOptions.SecurityPolicyUris: '{uri}' is not an implemented secure policy.", nameof(SecurityPolicyUris));
            }
        }

        if (SecurityPolicyUris.Count > 0 && Pki is null)
        {
            throw new ArgumentException("UaServerOptions.Pki is required when SecurityPolicyUris offers a secure policy.", nameof(Pki));
        }

        if (SecurityPolicyUris.Count == 0 && !AllowSecurityNone)
        {
            throw new ArgumentException("UaServerOptions: with AllowSecurityNone false, SecurityPolicyUris must offer a secure policy.", nameof(AllowSecurityNone));
        }

        return this;
    }

    private static void Check(long value, long min, long max, string name)
    {
        if (value < min || value > max)
        {
            throw new ArgumentOutOfRangeException(name, value, $"UaServerOptions.{name} must be between {min} and {max}; it is {value}.");
        }
    }
}
