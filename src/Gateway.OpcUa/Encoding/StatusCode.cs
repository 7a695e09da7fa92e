using System.Globalization;

namespace FactoryGateway.OpcUa.Encoding;

/// <summary>
/// A 32-bit OPC UA status code (OPC 10000-4 §7.39): the top two bits give the severity (00 Good,
/// 01 Uncertain, 10 Bad), bits 16–27 the sub-code. Symbolic names cover the codes this stack uses
/// (values from the specification's StatusCode.csv).
/// </summary>
public readonly record struct StatusCode(uint Code)
{
    public const uint Good = 0x0000_0000;
    public const uint GoodSubscriptionTransferred = 0x002D_0000;
    public const uint UncertainInitialValue = 0x4092_0000;
    public const uint BadUnexpectedError = 0x8001_0000;
    public const uint BadInternalError = 0x8002_0000;
    public const uint BadOutOfMemory = 0x8003_0000;
    public const uint BadResourceUnavailable = 0x8004_0000;
    public const uint BadCommunicationError = 0x8005_0000;
    public const uint BadEncodingError = 0x8006_0000;
    public const uint BadDecodingError = 0x8007_0000;
    public const uint BadEncodingLimitsExceeded = 0x8008_0000;
    public const uint BadUnknownResponse = 0x8009_0000;
    public const uint BadTimeout = 0x800A_0000;
    public const uint BadServiceUnsupported = 0x800B_0000;
    public const uint BadShutdown = 0x800C_0000;
    public const uint BadServerNotConnected = 0x800D_0000;
    public const uint BadServerHalted = 0x800E_0000;
    public const uint BadNothingToDo = 0x800F_0000;
    public const uint BadTooManyOperations = 0x8010_0000;
    public const uint BadCertificateInvalid = 0x8012_0000;
    public const uint BadSecurityChecksFailed = 0x8013_0000;
    public const uint BadCertificateTimeInvalid = 0x8014_0000;
    public const uint BadCertificateIssuerTimeInvalid = 0x8015_0000;
    public const uint BadCertificateHostNameInvalid = 0x8016_0000;
    public const uint BadCertificateUriInvalid = 0x8017_0000;
    public const uint BadCertificateUseNotAllowed = 0x8018_0000;
    public const uint BadCertificateIssuerUseNotAllowed = 0x8019_0000;
    public const uint BadCertificateUntrusted = 0x801A_0000;
    public const uint BadSecurityModeRejected = 0x8054_0000;
    public const uint BadSecurityPolicyRejected = 0x8055_0000;
    public const uint BadUserSignatureInvalid = 0x8057_0000;
    public const uint BadApplicationSignatureInvalid = 0x8058_0000;
    public const uint BadCertificateChainIncomplete = 0x810D_0000;
    public const uint BadCertificatePolicyCheckFailed = 0x8114_0000;
    public const uint BadUserAccessDenied = 0x801F_0000;
    public const uint BadIdentityTokenInvalid = 0x8020_0000;
    public const uint BadIdentityTokenRejected = 0x8021_0000;
    public const uint BadSecureChannelIdInvalid = 0x8022_0000;
    public const uint BadNonceInvalid = 0x8024_0000;
    public const uint BadSessionIdInvalid = 0x8025_0000;
    public const uint BadSessionClosed = 0x8026_0000;
    public const uint BadSessionNotActivated = 0x8027_0000;
    public const uint BadSubscriptionIdInvalid = 0x8028_0000;
    public const uint BadRequestHeaderInvalid = 0x802A_0000;
    public const uint BadNodeIdInvalid = 0x8033_0000;
    public const uint BadNodeIdUnknown = 0x8034_0000;
    public const uint BadAttributeIdInvalid = 0x8035_0000;
    public const uint BadContinuationPointInvalid = 0x804A_0000;
    public const uint BadNoContinuationPoints = 0x804B_0000;
    public const uint BadTooManySessions = 0x8056_0000;
    public const uint BadTooManySubscriptions = 0x8077_0000;
    public const uint BadTooManyPublishRequests = 0x8078_0000;
    public const uint BadNoSubscription = 0x8079_0000;
    public const uint BadSequenceNumberUnknown = 0x807A_0000;
    public const uint BadMessageNotAvailable = 0x807B_0000;
    public const uint BadTcpMessageTypeInvalid = 0x807E_0000;
    public const uint BadTcpSecureChannelUnknown = 0x807F_0000;
    public const uint BadTcpMessageTooLarge = 0x8080_0000;
    public const uint BadTcpNotEnoughResources = 0x8081_0000;
    public const uint BadTcpInternalError = 0x8082_0000;
    public const uint BadTcpEndpointUrlInvalid = 0x8083_0000;
    public const uint BadRequestInterrupted = 0x8084_0000;
    public const uint BadRequestTimeout = 0x8085_0000;
    public const uint BadSecureChannelClosed = 0x8086_0000;
    public const uint BadSecureChannelTokenUnknown = 0x8087_0000;
    public const uint BadSequenceNumberInvalid = 0x8088_0000;
    public const uint BadConnectionClosed = 0x80AE_0000;
    public const uint BadInvalidState = 0x80AF_0000;
    public const uint BadRequestTooLarge = 0x80B8_0000;
    public const uint BadResponseTooLarge = 0x80B9_0000;
    public const uint BadProtocolVersionUnsupported = 0x80BE_0000;

    private static readonly Dictionary<uint, string> s_names = new()
    {
        [Good] = nameof(Good),
        [GoodSubscriptionTransferred] = nameof(GoodSubscriptionTransferred),
        [UncertainInitialValue] = nameof(UncertainInitialValue),
        [BadUnexpectedError] = nameof(BadUnexpectedError),
        [BadInternalError] = nameof(BadInternalError),
        [BadOutOfMemory] = nameof(BadOutOfMemory),
        [BadResourceUnavailable] = nameof(BadResourceUnavailable),
        [BadCommunicationError] = nameof(BadCommunicationError),
        [BadEncodingError] = nameof(BadEncodingError),
        [BadDecodingError] = nameof(BadDecodingError),
        [BadEncodingLimitsExceeded] = nameof(BadEncodingLimitsExceeded),
        [BadUnknownResponse] = nameof(BadUnknownResponse),
        [BadTimeout] = nameof(BadTimeout),
        [BadServiceUnsupported] = nameof(BadServiceUnsupported),
        [BadShutdown] = nameof(BadShutdown),
        [BadServerNotConnected] = nameof(BadServerNotConnected),
        [BadServerHalted] = nameof(BadServerHalted),
        [BadNothingToDo] = nameof(BadNothingToDo),
        [BadTooManyOperations] = nameof(BadTooManyOperations),
        [BadCertificateInvalid] = nameof(BadCertificateInvalid),
        [BadSecurityChecksFailed] = nameof(BadSecurityChecksFailed),
        [BadCertificateTimeInvalid] = nameof(BadCertificateTimeInvalid),
        [BadCertificateIssuerTimeInvalid] = nameof(BadCertificateIssuerTimeInvalid),
        [BadCertificateHostNameInvalid] = nameof(BadCertificateHostNameInvalid),
        [BadCertificateIssuerUseNotAllowed] = nameof(BadCertificateIssuerUseNotAllowed),
        [BadCertificateUriInvalid] = nameof(BadCertificateUriInvalid),
        [BadCertificateUseNotAllowed] = nameof(BadCertificateUseNotAllowed),
        [BadCertificateUntrusted] = nameof(BadCertificateUntrusted),
        [BadSecurityModeRejected] = nameof(BadSecurityModeRejected),
        [BadSecurityPolicyRejected] = nameof(BadSecurityPolicyRejected),
        [BadUserSignatureInvalid] = nameof(BadUserSignatureInvalid),
        [BadApplicationSignatureInvalid] = nameof(BadApplicationSignatureInvalid),
        [BadCertificateChainIncomplete] = nameof(BadCertificateChainIncomplete),
        [BadCertificatePolicyCheckFailed] = nameof(BadCertificatePolicyCheckFailed),
        [BadUserAccessDenied] = nameof(BadUserAccessDenied),
        [BadIdentityTokenInvalid] = nameof(BadIdentityTokenInvalid),
        [BadIdentityTokenRejected] = nameof(BadIdentityTokenRejected),
        [BadSecureChannelIdInvalid] = nameof(BadSecureChannelIdInvalid),
        [BadNonceInvalid] = nameof(BadNonceInvalid),
        [BadSessionIdInvalid] = nameof(BadSessionIdInvalid),
        [BadSessionClosed] = nameof(BadSessionClosed),
        [BadSessionNotActivated] = nameof(BadSessionNotActivated),
        [BadSubscriptionIdInvalid] = nameof(BadSubscriptionIdInvalid),
        [BadRequestHeaderInvalid] = nameof(BadRequestHeaderInvalid),
        [BadNodeIdInvalid] = nameof(BadNodeIdInvalid),
        [BadNodeIdUnknown] = nameof(BadNodeIdUnknown),
        [BadAttributeIdInvalid] = nameof(BadAttributeIdInvalid),
        [BadContinuationPointInvalid] = nameof(BadContinuationPointInvalid),
        [BadNoContinuationPoints] = nameof(BadNoContinuationPoints),
        [BadTooManySessions] = nameof(BadTooManySessions),
        [BadTooManySubscriptions] = nameof(BadTooManySubscriptions),
        [BadTooManyPublishRequests] = nameof(BadTooManyPublishRequests),
        [BadNoSubscription] = nameof(BadNoSubscription),
        [BadSequenceNumberUnknown] = nameof(BadSequenceNumberUnknown),
        [BadMessageNotAvailable] = nameof(BadMessageNotAvailable),
        [BadTcpMessageTypeInvalid] = nameof(BadTcpMessageTypeInvalid),
        [BadTcpSecureChannelUnknown] = nameof(BadTcpSecureChannelUnknown),
        [BadTcpMessageTooLarge] = nameof(BadTcpMessageTooLarge),
        [BadTcpNotEnoughResources] = nameof(BadTcpNotEnoughResources),
        [BadTcpInternalError] = nameof(BadTcpInternalError),
        [BadTcpEndpointUrlInvalid] = nameof(BadTcpEndpointUrlInvalid),
        [BadRequestInterrupted] = nameof(BadRequestInterrupted),
        [BadRequestTimeout] = nameof(BadRequestTimeout),
        [BadSecureChannelClosed] = nameof(BadSecureChannelClosed),
        [BadSecureChannelTokenUnknown] = nameof(BadSecureChannelTokenUnknown),
        [BadSequenceNumberInvalid] = nameof(BadSequenceNumberInvalid),
        [BadConnectionClosed] = nameof(BadConnectionClosed),
        [BadInvalidState] = nameof(BadInvalidState),
        [BadRequestTooLarge] = nameof(BadRequestTooLarge),
        [BadResponseTooLarge] = nameof(BadResponseTooLarge),
        [BadProtocolVersionUnsupported] = nameof(BadProtocolVersionUnsupported),
    };

    public bool IsGood => (Code & 0xC000_0000) == 0;

    public bool IsUncertain => (Code & 0xC000_0000) == 0x4000_0000;

    public bool IsBad => (Code & 0x8000_0000) != 0;

    /// <summary>The code without its info bits (the low 16 bits), for comparing with the constants.</summary>
    public uint CodeBits => Code & 0xFFFF_0000;

    /// <summary>The symbolic name (for example <c>BadNodeIdUnknown</c>), or null for a code this stack does not name.</summary>
    public string? Name => s_names.GetValueOrDefault(CodeBits);

    public static implicit operator StatusCode(uint code) => new(code);

    public override string ToString()
    {
        string hex = "0x" + Code.ToString("X8", CultureInfo.InvariantCulture);
        return Name is { } name ? $"{name} ({hex})" : hex;
    }
}
