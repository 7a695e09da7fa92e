using System.Collections;
using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace FactoryGateway.Edge.Config;

/// <summary>
/// Reads <see cref="EdgeOptions"/> from a JSON or YAML file (by extension: <c>.yaml</c>/<c>.yml</c> is YAML,
/// anything else JSON) with environment overrides: <c>FGW_EDGE_Ingest__Token</c> sets <c>Ingest:Token</c>,
/// <c>FGW_EDGE_OpcUa__0__Endpoint</c> the first server's endpoint. Keys are case-insensitive. An unknown key,
/// a value of the wrong type and every failed check is reported by key in one <see cref="EdgeConfigurationException"/>.
/// </summary>
public static partial class EdgeConfiguration
{
    /// <summary>The prefix of environment variables that override the file.</summary>
    public const string EnvironmentPrefix = "FGW_EDGE_";

    /// <summary>Loads, binds and validates. <paramref name="environment"/> defaults to the process environment.</summary>
    public static EdgeOptions Load(string path, IEnumerable<KeyValuePair<string, string?>>? environment = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path))
        {
            throw new EdgeConfigurationException([new EdgeConfigurationError("(file)", $"{path} does not exist")], path);
        }

        var builder = new ConfigurationBuilder();
        string extension = Path.GetExtension(path);
        if (extension.Equals(".yaml", StringComparison.OrdinalIgnoreCase) || extension.Equals(".yml", StringComparison.OrdinalIgnoreCase))
        {
            builder.AddInMemoryCollection(ReadYaml(path));
        }
        else
        {
            try
            {
                builder.AddInMemoryCollection(ReadJson(path));
            }
            catch (FormatException e)
            {
                throw new EdgeConfigurationException([new EdgeConfigurationError("(file)", e.InnerException?.Message ?? e.Message)], path, e);
            }
        }

        builder.AddInMemoryCollection(Overrides(environment ?? ProcessEnvironment()));
        return Bind(builder.Build(), path);
    }

    /// <summary>Binds and validates options from an already built configuration (for hosts that compose their own).</summary>
    public static EdgeOptions Bind(IConfiguration configuration, string? source = null)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        EdgeOptions options;
        try
        {
            options = configuration.Get<EdgeOptions>(o => o.ErrorOnUnknownConfiguration = true) ?? new EdgeOptions();
        }
        catch (InvalidOperationException e)
        {
            throw new EdgeConfigurationException([BindingError(e)], source, e);
        }

        return options.Validate(source);
    }

    private static EdgeConfigurationError BindingError(InvalidOperationException e)
    {
        // "Failed to convert configuration value '…' at 'Buffer:MaxBytes' to type 'System.Int64'."
        Match convert = ConvertFailure().Match(e.Message);
        if (convert.Success)
        {
            return new EdgeConfigurationError(convert.Groups["key"].Value, $"\"{convert.Groups["value"].Value}\" is not a valid {FriendlyType(convert.Groups["type"].Value)}");
        }

        // "'Tokn' was not found on type 'FactoryGateway.Edge.Config.UplinkOptions'" (unknown keys, one per line).
        MatchCollection unknown = UnknownKey().Matches(e.Message);
        if (unknown.Count > 0)
        {
            return new EdgeConfigurationError(
                string.Join(", ", unknown.Select(m => m.Groups["key"].Value)),
                $"is not a setting of {unknown[0].Groups["type"].Value.Split('.')[^1]} (a misspelt key is refused, never ignored)");
        }

        // Inside a list element the binder wraps it: "… the following properties were not found on the instance of
        // FactoryGateway.Edge.Config.MqttJsonMappingOptions: 'Qualty'" in the innermost exception.
        Exception innermost = e;
        while (innermost.InnerException is not null)
        {
            innermost = innermost.InnerException;
        }

        Match nested = NestedUnknownKeys().Match(innermost.Message);
        if (nested.Success)
        {
            return new EdgeConfigurationError(
                nested.Groups["keys"].Value.Replace("'", "", StringComparison.Ordinal),
                $"is not a setting of {nested.Groups["type"].Value.Split('.')[^1]} (a misspelt key is refused, never ignored)");
        }

        return new EdgeConfigurationError("(binding)", e.InnerException?.Message ?? e.Message);
    }

    [GeneratedRegex(@"not found on the instance of (?<type>[^:]+): (?<keys>.+)$")]
    private static partial Regex NestedUnknownKeys();

    private static string FriendlyType(string type) => type switch
    {
        "System.Int32" or "System.Int64" => "whole number",
        "System.Double" => "number",
        "System.Boolean" => "true/false",
        "System.TimeSpan" => "time span (hh:mm:ss)",
        _ => type.Split('.')[^1],
    };

    [GeneratedRegex(@"configuration value '(?<value>[^']*)' at '(?<key>[^']*)' to type '(?<type>[^']*)'")]
    private static partial Regex ConvertFailure();

    [GeneratedRegex(@"'(?<key>[^']*)' was not found on type '(?<type>[^']*)'")]
    private static partial Regex UnknownKey();

    private static IEnumerable<KeyValuePair<string, string?>> ProcessEnvironment()
    {
        foreach (DictionaryEntry entry in Environment.GetEnvironmentVariables())
        {
            yield return new KeyValuePair<string, string?>((string)entry.Key, (string?)entry.Value);
        }
    }

    private static Dictionary<string, string?> Overrides(IEnumerable<KeyValuePair<string, string?>> environment)
    {
        var result = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach ((string name, string? value) in environment)
        {
            if (name.StartsWith(EnvironmentPrefix, StringComparison.OrdinalIgnoreCase) && name.Length > EnvironmentPrefix.Length)
            {
                result[name[EnvironmentPrefix.Length..].Replace("__", ConfigurationPath.KeyDelimiter, StringComparison.Ordinal)] = value;
            }
        }

        return result;
    }

    private static Dictionary<string, string?> ReadJson(string path)
    {
        // The JSON provider reads the file; its FormatException names the line and position of a syntax error.
        IConfigurationRoot root = new ConfigurationBuilder().AddJsonFile(Path.GetFullPath(path), optional: false, reloadOnChange: false).Build();
        return root.AsEnumerable().Where(p => p.Value is not null).ToDictionary(p => p.Key, p => p.Value, StringComparer.OrdinalIgnoreCase);
    }

    private static Dictionary<string, string?> ReadYaml(string path)
    {
        var stream = new YamlStream();
        try
        {
            using var reader = new StreamReader(path);
            stream.Load(reader);
        }
        catch (YamlException e)
        {
            throw new EdgeConfigurationException(
                [new EdgeConfigurationError($"(line {e.Start.Line.ToString(CultureInfo.InvariantCulture)}, column {e.Start.Column.ToString(CultureInfo.InvariantCulture)})", e.Message)], path, e);
        }

        var values = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        if (stream.Documents.Count > 0)
        {
            Flatten(stream.Documents[0].RootNode, "", values);
        }

        return values;
    }

    private static void Flatten(YamlNode node, string key, Dictionary<string, string?> values)
    {
        switch (node)
        {
            case YamlMappingNode mapping:
                foreach ((YamlNode name, YamlNode child) in mapping.Children)
                {
                    string part = ((YamlScalarNode)name).Value ?? "";
                    Flatten(child, key.Length == 0 ? part : ConfigurationPath.Combine(key, part), values);
                }

                break;
            case YamlSequenceNode sequence:
                for (int i = 0; i < sequence.Children.Count; i++)
                {
                    Flatten(sequence.Children[i], ConfigurationPath.Combine(key, i.ToString(CultureInfo.InvariantCulture)), values);
                }

                break;
            case YamlScalarNode scalar:
                // A YAML null (~, null or nothing) leaves the default in place.
                bool isNull = scalar.Style == ScalarStyle.Plain && (scalar.Value is null or "" or "~" or "null" or "Null" or "NULL");
                if (!isNull)
                {
                    values[key] = scalar.Value;
                }

                break;
        }
    }
}
