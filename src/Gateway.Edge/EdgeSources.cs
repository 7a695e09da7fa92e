using FactoryGateway.Edge.Config;
using FactoryGateway.Edge.Sources;
using FactoryGateway.Edge.Sources.Mqtt;
using FactoryGateway.Edge.Sources.OpcUa;
using Microsoft.Extensions.Logging;

namespace FactoryGateway.Edge;

/// <summary>Builds the sources a configuration names: one per OPC UA server and one per MQTT broker.</summary>
public static class EdgeSources
{
    public static IReadOnlyList<IEdgeSource> Create(EdgeOptions options, ILoggerFactory loggers, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(loggers);
        var sources = new List<IEdgeSource>();
        foreach (OpcUaSourceOptions opcUa in options.OpcUa)
        {
            sources.Add(new OpcUaSource(opcUa, options.DataDirectory, loggers, time));
        }

        foreach (MqttSourceOptions mqtt in options.Mqtt)
        {
            sources.Add(new MqttSource(mqtt, options.EdgeId, loggers, time));
        }

        return sources;
    }
}
