using System.Text.Json;

namespace FactoryGateway.Testing;

/// <summary>Waits for a JSON status endpoint (the edge's <c>/status</c>) to show a state, within a deadline.</summary>
public static class StatusPolling
{
    /// <summary>
    /// Reads <paramref name="path"/> every <paramref name="interval"/> until <paramref name="condition"/> holds and
    /// returns that document's root (cloned). Past <paramref name="deadline"/> throws <see cref="TimeoutException"/>
    /// with <paramref name="failure"/> applied to the last body read.
    /// </summary>
    public static async Task<JsonElement> WaitAsync(
        HttpClient http, string path, Func<JsonElement, bool> condition, TimeSpan deadline, TimeSpan interval, Func<string, string> failure, CancellationToken cancellationToken)
    {
        using var expiry = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        expiry.CancelAfter(deadline);
        string last = "";
        while (!expiry.IsCancellationRequested)
        {
            last = await http.GetStringAsync(path, cancellationToken);
            using JsonDocument document = JsonDocument.Parse(last);
            if (condition(document.RootElement))
            {
                return document.RootElement.Clone();
            }

            try
            {
                await Task.Delay(interval, expiry.Token); // polling interval within the deadline
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                break;
            }
        }

        throw new TimeoutException(failure(last));
    }
}
