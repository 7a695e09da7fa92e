using System.Globalization;
using System.Text.Json;

namespace FactoryGateway.Mqtt.Json;

/// <summary>
/// A simple JSON path: dotted member names with array indexes, <c>data.values[2].v</c>, <c>[0].t</c>;
/// empty or <c>$</c> is the document root. A leading <c>$.</c> is accepted. Member names cannot contain
/// <c>.</c>, <c>[</c> or <c>]</c>.
/// </summary>
public sealed class JsonPath
{
    private readonly object[] _segments; // string member or int index

    private JsonPath(string text, object[] segments)
    {
        Text = text;
        _segments = segments;
    }

    public string Text { get; }

    public static JsonPath Root { get; } = new("$", []);

    public override string ToString() => Text;

    /// <summary>Parses <paramref name="text"/>; throws <see cref="ArgumentException"/> naming the character at fault.</summary>
    public static JsonPath Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        string body = text;
        if (body is "" or "$")
        {
            return new JsonPath(text, []);
        }

        if (body.StartsWith("$.", StringComparison.Ordinal))
        {
            body = body[2..];
        }
        else if (body.StartsWith("$[", StringComparison.Ordinal))
        {
            body = body[1..];
        }

        var segments = new List<object>();
        int i = 0;
        while (i < body.Length)
        {
            if (body[i] == '[')
            {
                int close = body.IndexOf(']', i);
                if (close < 0 || !int.TryParse(body.AsSpan(i + 1, close - i - 1), NumberStyles.None, CultureInfo.InvariantCulture, out int index))
                {
                    throw new ArgumentException($"JSON path \"{text}\": an array index at character {i} is not [<digits>].", nameof(text));
                }

                segments.Add(index);
                i = close + 1;
                if (i < body.Length && body[i] == '.')
                {
                    i++;
                    if (i == body.Length)
                    {
                        throw new ArgumentException($"JSON path \"{text}\" ends with '.'.", nameof(text));
                    }
                }

                continue;
            }

            int end = body.IndexOfAny(['.', '['], i);
            if (end < 0)
            {
                end = body.Length;
            }

            if (end == i)
            {
                throw new ArgumentException($"JSON path \"{text}\": empty member name at character {i}.", nameof(text));
            }

            string member = body[i..end];
            if (member.Contains(']', StringComparison.Ordinal))
            {
                throw new ArgumentException($"JSON path \"{text}\": unexpected ']' in member \"{member}\".", nameof(text));
            }

            segments.Add(member);
            i = end;
            if (i < body.Length && body[i] == '.')
            {
                i++;
                if (i == body.Length)
                {
                    throw new ArgumentException($"JSON path \"{text}\" ends with '.'.", nameof(text));
                }
            }
        }

        return new JsonPath(text, [.. segments]);
    }

    /// <summary>Finds the element at this path; false when a member or index is absent or the shape differs.</summary>
    public bool TryFind(JsonElement root, out JsonElement found)
    {
        found = root;
        foreach (object segment in _segments)
        {
            if (segment is string member)
            {
                if (found.ValueKind != JsonValueKind.Object || !found.TryGetProperty(member, out found))
                {
                    return false;
                }
            }
            else
            {
                int index = (int)segment;
                if (found.ValueKind != JsonValueKind.Array || index >= found.GetArrayLength())
                {
                    return false;
                }

                found = found[index];
            }
        }

        return true;
    }
}
