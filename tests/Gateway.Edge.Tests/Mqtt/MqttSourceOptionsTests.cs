using FactoryGateway.Edge.Config;
using FactoryGateway.Edge.Signals;
using Microsoft.Extensions.Configuration;

namespace FactoryGateway.Edge.Tests.Mqtt;

public sealed class MqttSourceOptionsTests
{
    private static readonly Dictionary<string, string?> s_base = new()
    {
        ["EdgeId"] = "edge 1",
        ["Enterprise"] = "91330402MA2B3C4D5E",
        ["DataDirectory"] = "data",
        ["Ingest:Url"] = "https://ingest.example:9086",
        ["Ingest:Token"] = "secret",
    };

    [Fact]
    public void A_broker_with_json_mappings_sparkplug_and_a_current_sensor_binds_with_its_defaults()
    {
        EdgeOptions options = Bind(new()
        {
            ["Mqtt:0:Host"] = "broker.local",
            ["Mqtt:0:Json:0:Topic"] = "factory/{device}/telemetry",
            ["Mqtt:0:Json:0:Signals:count"] = "data.count",
            ["Mqtt:0:Json:0:SignalNames:count"] = "parts_total",
            ["Mqtt:0:Json:0:TimestampFormat"] = "Iso8601",
            ["Mqtt:0:Devices:0:Id"] = "lathe-3",
            ["Mqtt:0:Devices:0:CurrentSensor:IdleThreshold"] = "0.5",
            ["Mqtt:0:Devices:0:CurrentSensor:RunThreshold"] = "4",
            ["Mqtt:0:Sparkplug:Enabled"] = "true",
            ["Mqtt:0:Sparkplug:GroupIds:0"] = "plant",
            ["Mqtt:0:Sparkplug:Devices:0:EdgeNode"] = "node1",
            ["Mqtt:0:Sparkplug:Devices:0:Device"] = "press",
            ["Mqtt:0:Sparkplug:Devices:0:Id"] = "press-7",
            ["Mqtt:0:Sparkplug:MetricNames:Counter"] = "parts_total",
        });

        MqttSourceOptions mqtt = Assert.Single(options.Mqtt);
        Assert.Equal(("broker.local:1883", "5.0", true, 1, TimeSpan.FromMinutes(2)), (mqtt.DisplayName, mqtt.Protocol, mqtt.PersistentSession, mqtt.SubscriptionQos, mqtt.SilenceTimeout));
        Assert.Equal("fgw-edge-1-broker-local-1883", mqtt.EffectiveClientId(options.EdgeId));
        Assert.Equal("fgw-edge-1", mqtt.Sparkplug.EffectiveHostId(options.EdgeId));
        MqttJsonMappingOptions json = Assert.Single(mqtt.Json);
        Assert.Equal(("data.count", CanonicalSignals.PartsTotal), (json.Signals["count"], json.SignalNames["count"]));
        Assert.Equal((0.5, 4.0), (mqtt.Devices[0].CurrentSensor!.IdleThreshold, mqtt.Devices[0].CurrentSensor!.RunThreshold));
        Assert.Equal(("node1", "press", "press-7"), (mqtt.Sparkplug.Devices[0].EdgeNode, mqtt.Sparkplug.Devices[0].Device, mqtt.Sparkplug.Devices[0].Id));
        Assert.Equal("parts_total", mqtt.Sparkplug.MetricNames["Counter"]);
    }

    [Fact]
    public void Every_bad_mqtt_key_is_named()
    {
        var e = Assert.Throws<EdgeConfigurationException>(() => Bind(new()
        {
            ["Mqtt:0:Host"] = "broker.local",
            ["Mqtt:0:Protocol"] = "4",
            ["Mqtt:0:SubscriptionQos"] = "3",
            ["Mqtt:0:Json:0:Topic"] = "factory/telemetry",
            ["Mqtt:0:Json:0:Signals:count"] = "count",
            ["Mqtt:0:Json:1:Topic"] = "factory/{device}/x",
            ["Mqtt:0:Json:1:Signals:count"] = "count[x]",
            ["Mqtt:0:Devices:0:Id"] = "lathe-3",
            ["Mqtt:0:Devices:0:CurrentSensor:IdleThreshold"] = "5",
            ["Mqtt:0:Devices:0:CurrentSensor:RunThreshold"] = "1",
            ["Mqtt:0:Sparkplug:Enabled"] = "true",
            ["Mqtt:0:Sparkplug:HostId"] = "a/b",
        }));

        Assert.Equal(
            [
                "Mqtt:0:Protocol",
                "Mqtt:0:SubscriptionQos",
                "Mqtt:0:Json:0:DeviceIdTopicVariable",
                "Mqtt:0:Json:1",
                "Mqtt:0:Sparkplug:HostId",
                "Mqtt:0:Sparkplug:Devices",
                "Mqtt:0:Devices:0:CurrentSensor:RunThreshold",
            ],
            e.Errors.Select(error => error.Key));
        Assert.Contains("the run threshold 1 is not above the idle threshold 5", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_fixed_device_id_on_a_literal_topic_is_valid_and_an_unknown_key_is_refused()
    {
        EdgeOptions options = Bind(new()
        {
            ["Mqtt:0:Host"] = "broker.local",
            ["Mqtt:0:Json:0:Topic"] = "line3/current",
            ["Mqtt:0:Json:0:DeviceId"] = "lathe-3",
            ["Mqtt:0:Json:0:Signals:current"] = "amps",
        });
        Assert.Equal("lathe-3", options.Mqtt[0].Json[0].DeviceId);

        var e = Assert.Throws<EdgeConfigurationException>(() => Bind(new()
        {
            ["Mqtt:0:Host"] = "broker.local",
            ["Mqtt:0:Json:0:Topic"] = "line3/current",
            ["Mqtt:0:Json:0:DeviceId"] = "lathe-3",
            ["Mqtt:0:Json:0:Signals:current"] = "amps",
            ["Mqtt:0:Json:0:Qualty"] = "q",
        }));
        Assert.Equal(new EdgeConfigurationError("Qualty", "is not a setting of MqttJsonMappingOptions (a misspelt key is refused, never ignored)"), Assert.Single(e.Errors));
    }

    [Fact]
    public void The_program_and_the_listed_string_signals_are_text_and_a_string_signal_that_is_not_mapped_is_named()
    {
        EdgeOptions options = Bind(new()
        {
            ["Mqtt:0:Host"] = "broker.local",
            ["Mqtt:0:Json:0:Topic"] = "factory/{device}/telemetry",
            ["Mqtt:0:Json:0:Signals:prog"] = "nc.prog",
            ["Mqtt:0:Json:0:Signals:recipe"] = "recipe",
            ["Mqtt:0:Json:0:Signals:rpm"] = "rpm",
            ["Mqtt:0:Json:0:SignalNames:prog"] = "program",
            ["Mqtt:0:Json:0:StringSignals:0"] = "recipe",
            ["Mqtt:0:Json:0:Strict"] = "true",
            ["Mqtt:0:Sparkplug:Enabled"] = "true",
            ["Mqtt:0:Sparkplug:Strict"] = "true",
            ["Mqtt:0:Sparkplug:Devices:0:EdgeNode"] = "node1",
            ["Mqtt:0:Sparkplug:Devices:0:Id"] = "press-7",
        });
        MqttJsonMappingOptions json = Assert.Single(options.Mqtt[0].Json);
        Assert.Equal((true, true), (json.Strict, options.Mqtt[0].Sparkplug.Strict));
        Assert.Equal(["prog", "recipe"], json.ToMapping().StringSignals.Order(StringComparer.Ordinal));

        var e = Assert.Throws<EdgeConfigurationException>(() => Bind(new()
        {
            ["Mqtt:0:Host"] = "broker.local",
            ["Mqtt:0:Json:0:Topic"] = "factory/{device}/telemetry",
            ["Mqtt:0:Json:0:Signals:rpm"] = "rpm",
            ["Mqtt:0:Json:0:StringSignals:0"] = "recipe",
        }));
        Assert.Equal(new EdgeConfigurationError("Mqtt:0:Json:0:StringSignals", "\"recipe\" is not a signal of Signals"), Assert.Single(e.Errors));
    }

    private static EdgeOptions Bind(Dictionary<string, string?> values)
    {
        foreach ((string key, string? value) in s_base)
        {
            values[key] = value;
        }

        return EdgeConfiguration.Bind(new ConfigurationBuilder().AddInMemoryCollection(values).Build());
    }
}
