using BenchmarkDotNet.Running;

namespace FactoryGateway.Benchmarks;

/// <summary>
/// Runs the benchmark suites non-interactively: <c>dotnet run -c Release --project benchmarks/Gateway.Benchmarks -- --filter '*'</c>.
/// </summary>
public static class Program
{
    public static void Main(string[] args) => BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
}
