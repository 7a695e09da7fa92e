using FactoryGateway.Testing;

namespace FactoryGateway.Cli.Tests;

/// <summary>What every server fixture promises: a clear error when something is missing or broken.</summary>
public sealed class FixtureContractTests
{
    [Fact]
    public void A_missing_program_fails_with_the_command_that_installs_it()
    {
        var error = Assert.Throws<MissingPrerequisiteException>(
            () => Prerequisites.Require("fgw-no-such-program", "apt-get install -y fgw-no-such-package"));

        Assert.EndsWith("Install it with: apt-get install -y fgw-no-such-package", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_server_that_dies_before_ready_fails_with_its_output()
    {
        await using ServerProcess server = ServerProcess.Start("broken-server", "/bin/sh", ["-c", "echo 'fatal: cannot open port' >&2; exit 3"]);

        var error = await Assert.ThrowsAsync<ServerStartException>(() => Readiness.WaitAsync(
            server, TimeSpan.FromSeconds(30), _ => Task.FromResult<string?>("not listening"), TestContext.Current.CancellationToken));

        Assert.Contains("broken-server exited before it was ready (not listening)", error.Message, StringComparison.Ordinal);
        Assert.Contains("fatal: cannot open port", error.Message, StringComparison.Ordinal);
        Assert.Contains("[exited with code 3]", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_server_that_never_gets_ready_fails_at_the_deadline_with_the_last_reason()
    {
        await using ServerProcess server = ServerProcess.Start("silent-server", "/bin/sh", ["-c", "echo started; exec tail -f /dev/null"]);

        var error = await Assert.ThrowsAsync<ServerStartException>(() => Readiness.WaitAsync(
            server, TimeSpan.FromMilliseconds(300), _ => Task.FromResult<string?>("GET /ping answered 503"), TestContext.Current.CancellationToken));

        Assert.Contains("silent-server was not ready within 0.3 s: GET /ping answered 503", error.Message, StringComparison.Ordinal);
        Assert.Contains("started", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Stopping_a_server_ends_its_process()
    {
        ServerProcess server = ServerProcess.Start("sleeper", "/bin/sh", ["-c", "exec tail -f /dev/null"]);

        await server.DisposeAsync();

        Assert.True(server.HasExited);
    }
}
