namespace FactoryGateway.Edge.Signals;

/// <summary>
/// What a device says it is: the nameplate (OPC 40001-1 Identification: ProductInstanceUri, Manufacturer,
/// Model, SerialNumber) and, for OPC UA, the server certificate's SHA-1 thumbprint. It travels with the data
/// as an <c>identity</c> line, sent on first sight and whenever it changes.
/// </summary>
public sealed record DeviceIdentity
{
    public string? ProductInstanceUri { get; init; }

    public string? Manufacturer { get; init; }

    public string? Model { get; init; }

    public string? SerialNumber { get; init; }

    /// <summary>Hex SHA-1 thumbprint of the OPC UA server certificate the data came through.</summary>
    public string? CertificateThumbprint { get; init; }

    /// <summary>True when nothing is known.</summary>
    public bool IsEmpty => ProductInstanceUri is null && Manufacturer is null && Model is null && SerialNumber is null && CertificateThumbprint is null;

    /// <summary>This identity with the non-null parts of <paramref name="other"/> laid over it.</summary>
    public DeviceIdentity Merge(DeviceIdentity other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return new DeviceIdentity
        {
            ProductInstanceUri = other.ProductInstanceUri ?? ProductInstanceUri,
            Manufacturer = other.Manufacturer ?? Manufacturer,
            Model = other.Model ?? Model,
            SerialNumber = other.SerialNumber ?? SerialNumber,
            CertificateThumbprint = other.CertificateThumbprint ?? CertificateThumbprint,
        };
    }
}
