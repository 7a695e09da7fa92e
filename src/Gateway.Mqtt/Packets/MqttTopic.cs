namespace FactoryGateway.Mqtt.Packets;

/// <summary>Topic name and topic filter rules (MQTT 5.0 §4.7, §4.8.2).</summary>
public static class MqttTopic
{
    public const string SharedPrefix = "$share/";

    /// <summary>Why <paramref name="topic"/> is not a valid topic name for PUBLISH, or null when it is.</summary>
    public static string? ValidateName(string topic)
    {
        if (topic.Length == 0)
        {
            return "is empty";
        }

        int wildcard = topic.AsSpan().IndexOfAny('+', '#');
        return wildcard >= 0 ? $"contains the wildcard '{topic[wildcard]}'" : null;
    }

    /// <summary>Why <paramref name="filter"/> is not a valid topic filter, or null when it is. Shared subscriptions (<c>$share/group/filter</c>) are checked too.</summary>
    public static string? ValidateFilter(string filter)
    {
        if (filter.Length == 0)
        {
            return "is empty";
        }

        ReadOnlySpan<char> rest = filter;
        if (filter.StartsWith(SharedPrefix, StringComparison.Ordinal))
        {
            rest = rest[SharedPrefix.Length..];
            int slash = rest.IndexOf('/');
            if (slash <= 0)
            {
                return "is a shared subscription without a share name and filter ($share/{ShareName}/{filter})";
            }

            if (rest[..slash].IndexOfAny('+', '#') >= 0)
            {
                return "has a wildcard in the share name";
            }

            rest = rest[(slash + 1)..];
            if (rest.IsEmpty)
            {
                return "is a shared subscription with an empty filter";
            }
        }

        for (int i = 0; i < rest.Length; i++)
        {
            char c = rest[i];
            bool levelStart = i == 0 || rest[i - 1] == '/';
            bool levelEnd = i == rest.Length - 1 || rest[i + 1] == '/';
            if (c == '#' && (!levelStart || i != rest.Length - 1))
            {
                return "has '#' other than as the whole last level";
            }

            if (c == '+' && (!levelStart || !levelEnd))
            {
                return "has '+' other than as a whole level";
            }
        }

        return null;
    }

    /// <summary>True for a <c>$share/…</c> filter.</summary>
    public static bool IsShared(string filter) => filter.StartsWith(SharedPrefix, StringComparison.Ordinal);
}
