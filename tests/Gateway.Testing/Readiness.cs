namespace FactoryGateway.Testing;

/// <summary>Waits for a started server to answer its readiness probe, within a deadline.</summary>
public static class Readiness
{
    /// <summary>
    /// Runs <paramref name="probe"/> until it returns <see langword="null"/> (ready) or the deadline
    /// passes; a non-null result is the reason it is not ready yet. Fails as soon as a probe finds the
    /// process exited. The error names the last probe's reason and carries the server's output.
    /// </summary>
    public static async Task WaitAsync(
        ServerProcess server,
        TimeSpan deadline,
        Func<CancellationToken, Task<string?>> probe,
        CancellationToken cancellationToken = default)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(deadline);
        string reason = "no probe finished"; // replaced by the first probe's answer before any error
        // Probe quickly at first (most servers are up within a second), then back off.
        var interval = TimeSpan.FromMilliseconds(25);
        while (true)
        {
            // Probe first, then look at the process: the error of a server that died names what the probe saw.
            try
            {
                string? notReady = await probe(timeout.Token);
                if (notReady is null)
                {
                    return;
                }

                reason = notReady;
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !timeout.IsCancellationRequested)
            {
                reason = $"{ex.GetType().Name}: {ex.Message}";
            }
            catch (OperationCanceledException)
            {
                // Deadline reached during a probe.
            }

            if (server.HasExited)
            {
                throw new ServerStartException($"{server.Name} exited before it was ready ({reason}).{Environment.NewLine}{server.Describe()}");
            }

            try
            {
                await Task.WhenAny(server.Exited, Task.Delay(interval, timeout.Token));
            }
            catch (OperationCanceledException)
            {
            }

            if (timeout.IsCancellationRequested)
            {
                cancellationToken.ThrowIfCancellationRequested();
                throw new ServerStartException(
                    $"{server.Name} was not ready within {deadline.TotalSeconds:0.#} s: {reason}.{Environment.NewLine}{server.Describe()}");
            }

            interval = TimeSpan.FromMilliseconds(Math.Min(interval.TotalMilliseconds * 2, 500));
        }
    }
}
