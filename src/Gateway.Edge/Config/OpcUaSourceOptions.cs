namespace FactoryGateway.Edge.Config;

/// <summary>One OPC UA server the edge reads (configuration key <c>OpcUa:N</c>).</summary>
public sealed class OpcUaSourceOptions
{
    /// <summary>A name for logs and health; defaults to the endpoint URL.</summary>
    public string? Name { get; set; }

    /// <summary>The server's endpoint URL, <c>opc.tcp://host:port/path</c>.</summary>
    public string Endpoint { get; set; } = "";

    /// <summary>The devices this server serves.</summary>
    public IList<OpcUaDeviceOptions> Devices { get; init; } = [];

    internal void Validate(string key, EdgeConfigurationErrors errors)
    {
        if (errors.Required($"{key}:Endpoint", Endpoint) && !Endpoint.StartsWith("opc.tcp://", StringComparison.OrdinalIgnoreCase))
        {
            errors.Add($"{key}:Endpoint", $"\"{Endpoint}\" is not an opc.tcp:// URL");
        }

        if (Devices.Count == 0)
        {
            errors.Add($"{key}:Devices", "lists no device");
        }

        for (int i = 0; i < Devices.Count; i++)
        {
            errors.Required($"{key}:Devices:{i}:Id", Devices[i].Id);
        }
    }
}

/// <summary>One device behind an OPC UA server (configuration key <c>OpcUa:N:Devices:M</c>).</summary>
public sealed class OpcUaDeviceOptions
{
    /// <summary>The device id (the <c>dev</c> tag), as in the asset register.</summary>
    public string Id { get; set; } = "";
}
