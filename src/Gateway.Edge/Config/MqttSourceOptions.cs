namespace FactoryGateway.Edge.Config;

/// <summary>One MQTT broker the edge subscribes to (configuration key <c>Mqtt:N</c>).</summary>
public sealed class MqttSourceOptions
{
    /// <summary>A name for logs and health; defaults to <c>host:port</c>.</summary>
    public string? Name { get; set; }

    /// <summary>The broker's host name or address.</summary>
    public string Host { get; set; } = "";

    /// <summary>The broker's port. 1883: the MQTT default (8883 with TLS).</summary>
    public int Port { get; set; } = 1883;

    internal void Validate(string key, EdgeConfigurationErrors errors)
    {
        errors.Required($"{key}:Host", Host);
        if (Port is < 1 or > 65535)
        {
            errors.Add($"{key}:Port", $"{Port} is not a TCP port");
        }
    }
}
