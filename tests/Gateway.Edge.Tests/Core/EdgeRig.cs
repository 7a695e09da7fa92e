using FactoryGateway.Edge.Config;
using FactoryGateway.Edge.Sources;
using FactoryGateway.Testing;

namespace FactoryGateway.Edge.Tests.Core;

/// <summary>Edge options over a temporary data directory, and waits on an agent's progress with a deadline.</summary>
internal static class EdgeRig
{
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    public static EdgeOptions Options(TempDirectory directory, string ingestUrl, string token, Action<EdgeOptions>? configure = null)
    {
        var options = new EdgeOptions
        {
            EdgeId = "edge-test",
            Enterprise = IngestRig.Enterprise,
            DataDirectory = directory.Path,
            Ingest = new UplinkOptions
            {
                Url = ingestUrl,
                Token = token,
                BatchLines = 1_000,
                InitialRetryDelay = TimeSpan.FromMilliseconds(50),
                MaxRetryDelay = TimeSpan.FromMilliseconds(400),
            },
            Buffer = new BufferOptions { FlushInterval = TimeSpan.FromMilliseconds(50), SegmentBytes = 1024 * 1024, MaxBytes = 64L * 1024 * 1024 },
            Health = new HealthOptions { Urls = "http://127.0.0.1:0" },
        };
        configure?.Invoke(options);
        return options;
    }

    public static EdgeAgent Start(EdgeOptions options, params IEdgeSource[] sources)
    {
        EdgeAgent agent = EdgeAgent.Create(options, sources);
        agent.Start();
        return agent;
    }

    /// <summary>Polls <paramref name="condition"/> every 20 ms until it holds, failing with <paramref name="describe"/> at the deadline.</summary>
    public static async Task WaitUntilAsync(Func<bool> condition, Func<string> describe, TimeSpan? deadline = null)
    {
        using var timeout = new CancellationTokenSource(deadline ?? Deadline);
        while (!condition())
        {
            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(20), timeout.Token); // polling interval within the deadline
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"not reached within {(deadline ?? Deadline).TotalSeconds:0} s: {describe()}");
            }
        }
    }

    /// <summary>Waits until everything the buffer took has been acknowledged by the ingest.</summary>
    public static Task DrainedAsync(EdgeAgent agent, long lines) => WaitUntilAsync(
        () => agent.Buffer.Lines >= lines && agent.Buffer.PendingBytes == 0 && agent.Uplink.GetStats().PendingBytes == 0,
        () => $"buffer lines {agent.Buffer.Lines}/{lines}, in memory {agent.Buffer.PendingBytes} B, uplink {agent.Uplink.GetStats()}");
}
