using System.Security.Cryptography.X509Certificates;

namespace FactoryGateway.OpcUa.Transport.Security;

/// <summary>
/// How a secure channel is protected: the SecurityPolicy, whether MSG/CLO chunks are encrypted as
/// well as signed (MessageSecurityMode SignAndEncrypt rather than Sign), the client's application
/// certificate with its private key, and the server certificate the endpoint published (already
/// validated against the trust list by the caller).
/// </summary>
public sealed record UaChannelSecurity(UaSecurityPolicy Policy, bool Encrypt, X509Certificate2 ClientCertificate, X509Certificate2 ServerCertificate)
{
    /// <summary>The MessageSecurityMode value sent in OpenSecureChannel (OPC 10000-4 §7.20): 2 Sign, 3 SignAndEncrypt.</summary>
    public int MessageSecurityMode => Encrypt ? 3 : 2;

    public override string ToString() => $"{Policy} {(Encrypt ? "SignAndEncrypt" : "Sign")}";
}
