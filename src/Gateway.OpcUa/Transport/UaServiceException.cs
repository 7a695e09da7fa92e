using FactoryGateway.OpcUa.Encoding;

namespace FactoryGateway.OpcUa.Transport;

/// <summary>
/// A service or transport failure reported with an OPC UA status code: a ServiceFault or bad
/// ServiceResult from the server, an Error message, a timeout (<c>BadTimeout</c>), a closed channel
/// (<c>BadConnectionClosed</c>) or a negotiated limit (<c>BadRequestTooLarge</c>).
/// </summary>
public sealed class UaServiceException : Exception
{
    public UaServiceException(StatusCode status, string message)
        : base($"{status}: {message}")
    {
        Status = status;
    }

    public UaServiceException(StatusCode status, string message, Exception innerException)
        : base($"{status}: {message}", innerException)
    {
        Status = status;
    }

    public UaServiceException()
    {
    }

    public UaServiceException(string message)
        : base(message)
    {
    }

    public UaServiceException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public StatusCode Status { get; }
}
