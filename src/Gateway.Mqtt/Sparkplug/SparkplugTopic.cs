namespace FactoryGateway.Mqtt.Sparkplug;

/// <summary>The message types of a Sparkplug B topic (specification 3.0, §4.1.2.4).</summary>
public enum SparkplugMessageType
{
    NBirth,
    NDeath,
    DBirth,
    DDeath,
    NData,
    DData,
    NCmd,
    DCmd,
    State,
}

/// <summary>
/// A parsed Sparkplug B topic: <c>spBv1.0/&lt;group_id&gt;/&lt;message_type&gt;/&lt;edge_node_id&gt;[/&lt;device_id&gt;]</c>,
/// or the host application's <c>spBv1.0/STATE/&lt;host_id&gt;</c> (3.0, §4.1.3).
/// </summary>
public sealed record SparkplugTopic(SparkplugMessageType Type, string GroupId, string EdgeNodeId, string? DeviceId)
{
    /// <summary>The namespace element of every Sparkplug B topic.</summary>
    public const string Namespace = "spBv1.0";

    /// <summary>For <see cref="SparkplugMessageType.State"/>: the host id (kept in <see cref="EdgeNodeId"/>).</summary>
    public string HostId => EdgeNodeId;

    public static string StateTopic(string hostId) => $"{Namespace}/STATE/{hostId}";

    public static string NodeTopic(string groupId, SparkplugMessageType type, string edgeNodeId) => $"{Namespace}/{groupId}/{Name(type)}/{edgeNodeId}";

    public static string DeviceTopic(string groupId, SparkplugMessageType type, string edgeNodeId, string deviceId) => $"{Namespace}/{groupId}/{Name(type)}/{edgeNodeId}/{deviceId}";

    /// <summary>False for a topic outside the Sparkplug B namespace or with the wrong shape for its message type.</summary>
    public static bool TryParse(string topic, out SparkplugTopic? parsed)
    {
        ArgumentNullException.ThrowIfNull(topic);
        parsed = null;
        string[] parts = topic.Split('/');
        if (parts.Length < 3 || parts[0] != Namespace || parts.Any(p => p.Length == 0))
        {
            return false;
        }

        if (parts[1] == "STATE")
        {
            if (parts.Length != 3)
            {
                return false;
            }

            parsed = new SparkplugTopic(SparkplugMessageType.State, string.Empty, parts[2], null);
            return true;
        }

        if (parts.Length < 4)
        {
            return false;
        }

        SparkplugMessageType? type = parts[2] switch
        {
            "NBIRTH" => SparkplugMessageType.NBirth,
            "NDEATH" => SparkplugMessageType.NDeath,
            "NDATA" => SparkplugMessageType.NData,
            "NCMD" => SparkplugMessageType.NCmd,
            "DBIRTH" => SparkplugMessageType.DBirth,
            "DDEATH" => SparkplugMessageType.DDeath,
            "DDATA" => SparkplugMessageType.DData,
            "DCMD" => SparkplugMessageType.DCmd,
            _ => null,
        };
        if (type is not { } t)
        {
            return false;
        }

        bool deviceLevel = t is SparkplugMessageType.DBirth or SparkplugMessageType.DDeath or SparkplugMessageType.DData or SparkplugMessageType.DCmd;
        if (parts.Length != (deviceLevel ? 5 : 4))
        {
            return false;
        }

        parsed = new SparkplugTopic(t, parts[1], parts[3], deviceLevel ? parts[4] : null);
        return true;
    }

    private static string Name(SparkplugMessageType type) => type switch
    {
        SparkplugMessageType.NBirth => "NBIRTH",
        SparkplugMessageType.NDeath => "NDEATH",
        SparkplugMessageType.NData => "NDATA",
        SparkplugMessageType.NCmd => "NCMD",
        SparkplugMessageType.DBirth => "DBIRTH",
        SparkplugMessageType.DDeath => "DDEATH",
        SparkplugMessageType.DData => "DDATA",
        SparkplugMessageType.DCmd => "DCMD",
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "Not an edge node or device message type."),
    };
}
