namespace FactoryGateway.Metrics.Policies;

/// <summary>
/// The policy target data is invalid. <see cref="Errors"/> lists every problem found, each naming the
/// target (or policy) and the rule it breaks; <see cref="Exception.Message"/> carries the first.
/// </summary>
public sealed class PolicyTargetsException : Exception
{
    public PolicyTargetsException(IReadOnlyList<string> errors)
        : base(Describe(errors))
    {
        Errors = errors;
    }

    public PolicyTargetsException()
        : this([])
    {
    }

    public PolicyTargetsException(string message)
        : base(message)
    {
        Errors = [message];
    }

    public PolicyTargetsException(string message, Exception innerException)
        : base(message, innerException)
    {
        Errors = [message];
    }

    /// <summary>Every problem found, in file order.</summary>
    public IReadOnlyList<string> Errors { get; }

    private static string Describe(IReadOnlyList<string> errors) => errors.Count switch
    {
        0 => "invalid policy target data",
        1 => "invalid policy target data: " + errors[0],
        _ => $"invalid policy target data: {errors[0]} (and {errors.Count - 1} more)",
    };
}
