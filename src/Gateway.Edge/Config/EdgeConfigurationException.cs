namespace FactoryGateway.Edge.Config;

/// <summary>One problem with the edge configuration: the key (as a configuration path, e.g. <c>OpcUa:0:Endpoint</c>) and the reason.</summary>
public sealed record EdgeConfigurationError(string Key, string Reason)
{
    public override string ToString() => $"{Key}: {Reason}";
}

/// <summary>The edge configuration cannot be used; <see cref="Errors"/> names every key at fault and why.</summary>
public sealed class EdgeConfigurationException : Exception
{
    public EdgeConfigurationException()
        : this([])
    {
    }

    public EdgeConfigurationException(string message)
        : base(message)
    {
        Errors = [];
    }

    public EdgeConfigurationException(string message, Exception innerException)
        : base(message, innerException)
    {
        Errors = [];
    }

    public EdgeConfigurationException(IReadOnlyList<EdgeConfigurationError> errors, string? source = null, Exception? innerException = null)
        : base(Describe(errors, source), innerException)
    {
        Errors = errors;
    }

    public IReadOnlyList<EdgeConfigurationError> Errors { get; }

    private static string Describe(IReadOnlyList<EdgeConfigurationError> errors, string? source) =>
        $"the edge configuration{(source is null ? "" : $" ({source})")} is not valid:{Environment.NewLine}{string.Join(Environment.NewLine, errors.Select(e => $"  {e}"))}";
}

/// <summary>Collects configuration errors under key paths while options validate themselves.</summary>
public sealed class EdgeConfigurationErrors
{
    private readonly List<EdgeConfigurationError> _errors = [];

    public IReadOnlyList<EdgeConfigurationError> All => _errors;

    public void Add(string key, string reason) => _errors.Add(new EdgeConfigurationError(key, reason));

    /// <summary>Adds "is required" when <paramref name="value"/> is null or blank; returns whether it was present.</summary>
    public bool Required(string key, string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            Add(key, "is required");
            return false;
        }

        return true;
    }

    /// <summary>Throws <see cref="EdgeConfigurationException"/> when any error was added.</summary>
    public void ThrowIfAny(string? source = null)
    {
        if (_errors.Count > 0)
        {
            throw new EdgeConfigurationException([.. _errors], source);
        }
    }
}
