namespace FactoryGateway.Testing;

/// <summary>The result of a command run to completion.</summary>
public sealed record CommandResult(int ExitCode, string Output);

/// <summary>Runs a command-line tool (mosquitto_pub, curl, node …) to completion within a deadline.</summary>
public static class CommandRunner
{
    public static Task<CommandResult> RunAsync(string fileName, IEnumerable<string> arguments, TimeSpan deadline, CancellationToken cancellationToken = default) =>
        RunAsync(fileName, arguments, deadline, environment: null, cancellationToken);

    public static async Task<CommandResult> RunAsync(
        string fileName, IEnumerable<string> arguments, TimeSpan deadline, IReadOnlyDictionary<string, string>? environment, CancellationToken cancellationToken = default)
    {
        ServerProcess process = ServerProcess.Start(Path.GetFileName(fileName), fileName, arguments, environment: environment);
        await using (process)
        {
            try
            {
                await process.Exited.WaitAsync(deadline, cancellationToken);
            }
            catch (TimeoutException)
            {
                throw new TimeoutException($"{fileName} did not finish within {deadline.TotalSeconds:0.#} s.{Environment.NewLine}{process.Describe()}");
            }

            await process.StopAsync(TimeSpan.FromSeconds(5));
            return new CommandResult(process.ExitCode, process.Output);
        }
    }
}
