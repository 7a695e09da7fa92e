using System.Xml.Linq;
using FactoryGateway.Testing;

namespace FactoryGateway.Cli.Tests;

/// <summary>
/// The dependency rules of docs/architecture.md, checked on the project files: each project references
/// only what its row allows, the protocol stacks reference nothing of ours, and there is no cycle.
/// </summary>
public sealed class ArchitectureTests
{
    // docs/architecture.md, "Projects and what each may reference".
    private static readonly Dictionary<string, string[]> s_allowedProjectReferences = new()
    {
        ["Gateway.Telemetry"] = [],
        ["Gateway.OpcUa"] = [],
        ["Gateway.Mqtt"] = [],
        ["Gateway.Edge"] = ["Gateway.Telemetry", "Gateway.OpcUa", "Gateway.Mqtt"],
        ["Gateway.Ingest"] = ["Gateway.Telemetry", "Gateway.Evidence"],
        ["Gateway.Evidence"] = ["Gateway.Telemetry"],
        ["Gateway.Metrics"] = ["Gateway.Evidence", "Gateway.Telemetry"],
        ["Gateway.Simulator"] = ["Gateway.OpcUa", "Gateway.Mqtt", "Gateway.Telemetry"],
        ["Gateway.Cli"] = ["Gateway.Telemetry", "Gateway.OpcUa", "Gateway.Mqtt", "Gateway.Edge", "Gateway.Ingest", "Gateway.Evidence", "Gateway.Metrics", "Gateway.Simulator"],
    };

    // The protocol stacks and the telemetry core depend on the BCL only, plus the logging abstractions for
    // the stacks that log (Mqtt also on Google.Protobuf for Sparkplug B payloads). No shared framework
    // beyond the BCL: a protocol stack does not pull ASP.NET Core into an edge agent.
    private static readonly Dictionary<string, string[]> s_allowedPackages = new()
    {
        ["Gateway.Telemetry"] = [],
        ["Gateway.OpcUa"] = ["Microsoft.Extensions.Logging.Abstractions"],
        ["Gateway.Mqtt"] = ["Google.Protobuf", "Grpc.Tools", "Microsoft.Extensions.Logging.Abstractions"],
    };

    public static TheoryData<string> SourceProjects => [.. s_allowedProjectReferences.Keys];

    [Theory]
    [MemberData(nameof(SourceProjects))]
    public void A_project_references_only_what_the_architecture_allows(string project)
    {
        IReadOnlyList<string> references = ProjectReferences(project);

        Assert.All(references, reference => Assert.True(
            s_allowedProjectReferences[project].Contains(reference),
            $"{project} references {reference}, which docs/architecture.md does not allow."));
    }

    [Theory]
    [InlineData("Gateway.Telemetry")]
    [InlineData("Gateway.OpcUa")]
    [InlineData("Gateway.Mqtt")]
    public void A_protocol_stack_uses_no_package_beyond_its_allowance(string project)
    {
        IEnumerable<string> packages = ProjectFile(project).Descendants("PackageReference").Select(e => (string)e.Attribute("Include")!);

        Assert.All(packages, package => Assert.Contains(package, s_allowedPackages[project]));
        Assert.Empty(ProjectFile(project).Descendants("FrameworkReference").Select(e => (string)e.Attribute("Include")!));
    }

    [Fact]
    public void The_project_graph_has_no_cycle()
    {
        var graph = s_allowedProjectReferences.Keys.ToDictionary(p => p, ProjectReferences);
        var state = new Dictionary<string, bool>(); // false = on the current path, true = done
        foreach (string project in graph.Keys)
        {
            Visit(project, []);
        }

        void Visit(string project, List<string> path)
        {
            if (state.TryGetValue(project, out bool done))
            {
                Assert.True(done, $"cycle: {string.Join(" -> ", path.Append(project))}");
                return;
            }

            state[project] = false;
            foreach (string reference in graph[project])
            {
                Visit(reference, [.. path, project]);
            }

            state[project] = true;
        }
    }

    [Fact]
    public void Every_source_project_has_a_test_project_and_all_are_in_the_solution()
    {
        string root = RepositoryLayout.Root;
        string solution = File.ReadAllText(Path.Combine(root, "FactoryGateway.sln"));
        string[] sourceProjects = Directory.GetDirectories(Path.Combine(root, "src")).Select(Path.GetFileName).OfType<string>().Order().ToArray();

        Assert.Equal(s_allowedProjectReferences.Keys.Order(), sourceProjects);
        foreach (string project in sourceProjects)
        {
            Assert.True(File.Exists(Path.Combine(root, "tests", $"{project}.Tests", $"{project}.Tests.csproj")), $"{project} has no test project.");
            Assert.Contains($"{project}.csproj", solution, StringComparison.Ordinal);
            Assert.Contains($"{project}.Tests.csproj", solution, StringComparison.Ordinal);
        }

        Assert.Contains("Gateway.Testing.csproj", solution, StringComparison.Ordinal);
        Assert.Contains("Gateway.Benchmarks.csproj", solution, StringComparison.Ordinal);
    }

    private static XDocument ProjectFile(string project) =>
        XDocument.Load(Path.Combine(RepositoryLayout.Root, "src", project, $"{project}.csproj"));

    private static string[] ProjectReferences(string project) =>
        [.. ProjectFile(project).Descendants("ProjectReference")
            .Select(e => Path.GetFileNameWithoutExtension((string)e.Attribute("Include")!.Value.Replace('\\', '/')))];
}
