using System.Security.Cryptography.X509Certificates;
using FactoryGateway.OpcUa.Encoding;
using FactoryGateway.OpcUa.Pki;
using FactoryGateway.OpcUa.Services;
using FactoryGateway.OpcUa.Transport;
using FactoryGateway.OpcUa.Transport.Security;

namespace FactoryGateway.OpcUa.Client;

/// <summary>Who the session acts as (OPC 10000-4 §7.41): anonymous, a user name and password, or an X.509 user certificate.</summary>
public sealed class UserIdentity
{
    private UserIdentity(Services.UserTokenType tokenType, string? userName, string? password, X509Certificate2? certificate = null)
    {
        TokenType = tokenType;
        UserName = userName;
        Password = password;
        Certificate = certificate;
    }

    public static UserIdentity Anonymous { get; } = new(Services.UserTokenType.Anonymous, null, null);

    public static UserIdentity FromUserName(string userName, string password)
    {
        ArgumentException.ThrowIfNullOrEmpty(userName);
        ArgumentNullException.ThrowIfNull(password);
        return new UserIdentity(Services.UserTokenType.UserName, userName, password);
    }

    /// <summary>An X.509 user identity: the certificate is sent and its private key signs the server certificate and nonce.</summary>
    public static UserIdentity FromCertificate(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        if (!certificate.HasPrivateKey)
        {
            throw new ArgumentException("the user certificate needs its private key to sign ActivateSession.", nameof(certificate));
        }

        return new UserIdentity(Services.UserTokenType.Certificate, null, null, certificate);
    }

    public Services.UserTokenType TokenType { get; }

    /// <summary>The user certificate of an X.509 identity (with its private key).</summary>
    public X509Certificate2? Certificate { get; }

    public string? UserName { get; }

    internal string? Password { get; }

    /// <summary>The token type and user name; never the password.</summary>
    public override string ToString() => UserName is not null ? $"{TokenType} {UserName}" : Certificate is not null ? $"{TokenType} {Certificate.Subject}" : TokenType.ToString();
}

/// <summary>Settings of a client session. Validate with <see cref="Validate"/> at start-up.</summary>
public sealed class UaSessionOptions
{
    public UaChannelOptions Channel { get; set; } = new();

    public UaDecoderLimits DecoderLimits { get; set; } = UaDecoderLimits.Default;

    public UserIdentity Identity { get; set; } = UserIdentity.Anonymous;

    /// <summary>
    /// The SecurityPolicy of the endpoint to use (<see cref="UaSecurityPolicy"/>'s URIs). Default None,
    /// the behaviour before security existed; a plant network should use Basic256Sha256 or newer.
    /// </summary>
    public string SecurityPolicyUri { get; set; } = UaSecurityPolicy.NoneUri;

    /// <summary>The MessageSecurityMode of the endpoint to use. Default None, to match <see cref="SecurityPolicyUri"/>.</summary>
    public MessageSecurityMode SecurityMode { get; set; } = MessageSecurityMode.None;

    /// <summary>
    /// The application certificate and trust list; required for a secure endpoint. Its certificate
    /// must name <see cref="ApplicationUri"/> (servers check that). No default: a host opens it.
    /// </summary>
    public CertificateStore? Pki { get; set; }

    /// <summary>
    /// Accepts a server certificate whose SubjectAltName does not name the endpoint URL's host.
    /// Default false: OPC 10000-4 §6.1.3 has the client check the host name, so a certificate copied
    /// to another machine is refused (BadCertificateHostNameInvalid); turn on only for a server reached
    /// through an address its certificate cannot know (a NAT or tunnel).
    /// </summary>
    public bool AllowHostNameMismatch { get; set; }

    /// <summary>Default: the product's name; servers show it in their session diagnostics.</summary>
    public string ApplicationName { get; set; } = "FactoryGateway";

    /// <summary>Default: a URN naming the product; with SecurityPolicy None servers do not check it against a certificate.</summary>
    public string ApplicationUri { get; set; } = "urn:factorygateway:client";

    public string ProductUri { get; set; } = "urn:factorygateway";

    public string SessionName { get; set; } = "FactoryGateway session";

    /// <summary>
    /// Session timeout asked for in CreateSession. Default 60 s: the OPC Foundation .NET stack's
    /// default session timeout; Publish traffic keeps the session alive.
    /// </summary>
    public TimeSpan RequestedSessionTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Publish requests kept outstanding while subscriptions exist. Default 3: enough to cover a
    /// round trip while the server holds one back for the next publishing cycle (OPC 10000-4 §5.14.5
    /// recommends more than one); node-opcua accepts up to 10 per session.
    /// </summary>
    public int PublishRequests { get; set; } = 3;

    /// <summary>
    /// Most monitored items in one CreateMonitoredItems call; larger requests are split. Default 500:
    /// well under the MaxMonitoredItemsPerCall operation limit of common servers (KEPServerEX 1,000;
    /// node-opcua unlimited), and a request of that size stays within one 64 KiB chunk for short node ids.
    /// </summary>
    public int MaxMonitoredItemsPerCall { get; set; } = 500;

    /// <summary>Most nodes in one Read or Browse call; larger requests are split. Default 1,000, for the same reason.</summary>
    public int MaxNodesPerCall { get; set; } = 1000;

    public UaSessionOptions Validate()
    {
        Channel.Validate();
        DecoderLimits.Validate();
        ArgumentNullException.ThrowIfNull(Identity);
        bool none = SecurityPolicyUri == UaSecurityPolicy.NoneUri;
        if (!none && UaSecurityPolicy.Find(SecurityPolicyUri) is null)
        {
            throw new ArgumentException($"UaSessionOptions.SecurityPolicyUri '{SecurityPolicyUri}' is not None, Basic256Sha256, Aes128_Sha256_RsaOaep or Aes256_Sha256_RsaPss.", nameof(SecurityPolicyUri));
        }

        if (none != (SecurityMode == MessageSecurityMode.None) || SecurityMode is not (MessageSecurityMode.None or MessageSecurityMode.Sign or MessageSecurityMode.SignAndEncrypt))
        {
            throw new ArgumentException($"UaSessionOptions.SecurityMode {SecurityMode} does not fit SecurityPolicyUri '{SecurityPolicyUri}': None goes with None only.", nameof(SecurityMode));
        }

        if (!none && Pki is null)
        {
            throw new ArgumentException("UaSessionOptions.Pki is required for a secure endpoint.", nameof(Pki));
        }

        if (!none && Pki!.ApplicationUri != ApplicationUri)
        {
            throw new ArgumentException($"the application certificate names '{Pki.ApplicationUri}', not UaSessionOptions.ApplicationUri '{ApplicationUri}'.", nameof(ApplicationUri));
        }
        Check((long)RequestedSessionTimeout.TotalMilliseconds, 1000, 24L * 3600 * 1000, nameof(RequestedSessionTimeout));
        Check(PublishRequests, 1, 100, nameof(PublishRequests));
        Check(MaxMonitoredItemsPerCall, 1, 100_000, nameof(MaxMonitoredItemsPerCall));
        Check(MaxNodesPerCall, 1, 100_000, nameof(MaxNodesPerCall));
        return this;
    }

    private static void Check(long value, long min, long max, string name)
    {
        if (value < min || value > max)
        {
            throw new ArgumentOutOfRangeException(name, value, $"UaSessionOptions.{name} must be between {min} and {max}; it is {value}.");
        }
    }
}

/// <summary>Settings of one subscription (OPC 10000-4 §5.13.2). Validate with <see cref="Validate"/>.</summary>
public sealed class UaSubscriptionOptions
{
    /// <summary>Default 1,000 ms: the usual telemetry cadence; the server revises it.</summary>
    public double PublishingInterval { get; set; } = 1000;

    /// <summary>Publishing intervals without data before the server sends a keep-alive. Default 10, as the .NET stack.</summary>
    public uint MaxKeepAliveCount { get; set; } = 10;

    /// <summary>Publishing intervals without a Publish request before the server drops the subscription. Default 30 (3 × keep-alive, the minimum OPC 10000-4 allows).</summary>
    public uint LifetimeCount { get; set; } = 30;

    /// <summary>0 = no limit per NotificationMessage.</summary>
    public uint MaxNotificationsPerPublish { get; set; }

    public byte Priority { get; set; }

    /// <summary>
    /// NotificationMessages buffered for the consumer. Overflow policy: Wait — the Publish pipeline
    /// stops taking messages until the consumer catches up, so the client drops nothing and the
    /// server's own queues (queue size, discard policy) apply. Default 1,000 messages: about 16 minutes
    /// at 1 s publishing interval.
    /// </summary>
    public int MessageBufferCapacity { get; set; } = 1000;

    public UaSubscriptionOptions Validate()
    {
        if (!(PublishingInterval >= 0) || MaxKeepAliveCount == 0 || LifetimeCount < 3 * MaxKeepAliveCount || MessageBufferCapacity < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(PublishingInterval), "UaSubscriptionOptions: PublishingInterval must be >= 0, MaxKeepAliveCount > 0, LifetimeCount >= 3 x MaxKeepAliveCount and MessageBufferCapacity >= 1.");
        }

        return this;
    }
}
