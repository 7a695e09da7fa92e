namespace FactoryGateway.Testing;

/// <summary>Finds files of the repository from a test's output directory.</summary>
public static class RepositoryLayout
{
    private static readonly Lazy<string> s_root = new(FindRoot);

    /// <summary>The directory that holds <c>FactoryGateway.sln</c>.</summary>
    public static string Root => s_root.Value;

    /// <summary>The npm package of third-party peers the tests run (node-opcua and others).</summary>
    public static string PeersDirectory => Path.Combine(Root, "tests", "peers");

    private static string FindRoot()
    {
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "FactoryGateway.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException(
            $"FactoryGateway.sln was not found above '{AppContext.BaseDirectory}'; run the tests from a checkout of the repository.");
    }
}
