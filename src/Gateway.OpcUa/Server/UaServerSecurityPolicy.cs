using FactoryGateway.OpcUa.Services;
using FactoryGateway.OpcUa.Transport;

namespace FactoryGateway.OpcUa.Server;

/// <summary>
/// What a secure channel asks of a security policy (OPC 10000-6 §6.7, OPC 10000-7): the mode it
/// provides, the nonce it returns at Issue/Renew (from which a signing policy derives its keys), and
/// how it turns a received chunk into plain bytes and an outgoing chunk into protected ones. The
/// server's channel calls these at fixed points, so a signing/encrypting policy can be added without
/// changing the channel; this server ships <see cref="UaSecurityPolicyNone"/> only.
/// </summary>
public interface IUaServerSecurityPolicy
{
    string PolicyUri { get; }

    MessageSecurityMode SecurityMode { get; }

    /// <summary>Bytes a chunk carries beyond its plain body (padding and signature); None: 0.</summary>
    int SymmetricOverhead { get; }

    /// <summary>Called at Issue and Renew with the client's nonce; returns the server nonce (None: empty).</summary>
    byte[] CreateServerNonce(ReadOnlySpan<byte> clientNonce);

    /// <summary>
    /// Verifies (and decrypts) the part of a received chunk after its security header; returns the
    /// plain sequence header and body. Throws <see cref="UaServiceException"/> with BadSecurityChecksFailed on failure.
    /// </summary>
    ReadOnlySpan<byte> Unprotect(UaTcpMessageType messageType, ReadOnlySpan<byte> afterSecurityHeader);

    /// <summary>Signs (and encrypts) an outgoing chunk in place; returns its final length (None: unchanged).</summary>
    int Protect(UaTcpMessageType messageType, Span<byte> chunk, int securedFrom, int plainLength);
}

/// <summary>SecurityPolicy None: no signature, no encryption, no nonces.</summary>
public sealed class UaSecurityPolicyNone : IUaServerSecurityPolicy
{
    public static UaSecurityPolicyNone Instance { get; } = new();

    public string PolicyUri => UaTcpChannel.SecurityPolicyNone;

    public MessageSecurityMode SecurityMode => MessageSecurityMode.None;

    public int SymmetricOverhead => 0;

    public byte[] CreateServerNonce(ReadOnlySpan<byte> clientNonce) => [];

    public ReadOnlySpan<byte> Unprotect(UaTcpMessageType messageType, ReadOnlySpan<byte> afterSecurityHeader) => afterSecurityHeader;

    public int Protect(UaTcpMessageType messageType, Span<byte> chunk, int securedFrom, int plainLength) => plainLength;
}
