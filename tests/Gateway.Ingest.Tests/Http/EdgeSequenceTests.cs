using System.Net;
using System.Text.Json;
using FactoryGateway.Testing;

namespace FactoryGateway.Ingest.Tests.Http;

/// <summary>Exactly-once edge batches: <c>X-FG-Edge</c> + <c>X-FG-Seq</c>.</summary>
public sealed class EdgeSequenceTests
{
    private const string Line = "telemetry,ent=91330402MA2B3C4D53,dev=cnc-01 state=4i ";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_replayed_batch_is_acknowledged_but_not_applied_again_and_a_gap_is_recorded()
    {
        await using IngestTestHost host = await IngestTestHost.StartAsync();

        Assert.Equal(HttpStatusCode.NoContent, await SendAsync(host, "edge-1", 1, Line + "1"));
        using (HttpResponseMessage replay = await host.Client.SendAsync(Batch(host, "edge-1", 1, Line + "1"), Ct))
        {
            Assert.Equal(HttpStatusCode.NoContent, replay.StatusCode);
            Assert.Equal("true", replay.Headers.GetValues("X-FG-Duplicate").Single());
        }

        Assert.Equal(HttpStatusCode.NoContent, await SendAsync(host, "edge-1", 4, Line + "4"));

        Assert.Equal([1L, 4L], host.ReadWal().Select(r => r.EdgeSequence!.Value));
        using HttpRequestMessage request = new(HttpMethod.Get, "/api/v1/edges");
        request.Headers.Authorization = new("Token", host.Token(TestTokens.Admin));
        using HttpResponseMessage edges = await host.Client.SendAsync(request, Ct);
        using JsonDocument json = JsonDocument.Parse(await edges.Content.ReadAsStringAsync(Ct));
        JsonElement edge = json.RootElement.GetProperty("edges")[0];
        Assert.Equal("edge-1", edge.GetProperty("edge").GetString());
        Assert.Equal(4, edge.GetProperty("lastSequence").GetInt64());
        Assert.Equal(1, edge.GetProperty("duplicates").GetInt64());
        Assert.Equal(2, edge.GetProperty("missingBatches").GetInt64());
        JsonElement gap = edge.GetProperty("gaps")[0];
        Assert.Equal((2, 3), (gap.GetProperty("from").GetInt64(), gap.GetProperty("to").GetInt64()));
        Assert.Contains("fgw_ingest_edge_sequence_gaps_total 1\n", await host.Client.GetStringAsync("/metrics", Ct), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_rejected_batch_does_not_advance_the_sequence()
    {
        await using IngestTestHost host = await IngestTestHost.StartAsync();

        Assert.Equal(HttpStatusCode.BadRequest, await SendAsync(host, "edge-1", 1, "bad"));
        Assert.Equal(HttpStatusCode.NoContent, await SendAsync(host, "edge-1", 1, Line + "1"));

        Assert.Equal([1L], host.ReadWal().Select(r => r.EdgeSequence!.Value));
    }

    [Fact]
    public async Task After_a_restart_an_acknowledged_batch_is_still_recognised()
    {
        using var dir = new TempDirectory("ingest-restart");
        await using (IngestTestHost first = await IngestTestHost.StartAsync(dataDirectory: dir.Path))
        {
            Assert.Equal(HttpStatusCode.NoContent, await SendAsync(first, "edge-1", 1, Line + "1"));
            Assert.Equal(HttpStatusCode.NoContent, await SendAsync(first, "edge-1", 2, Line + "2"));
        }

        await using IngestTestHost second = await IngestTestHost.StartAsync(dataDirectory: dir.Path);
        using HttpResponseMessage replay = await second.Client.SendAsync(Batch(second, "edge-1", 2, Line + "2"), Ct);

        Assert.Equal(HttpStatusCode.NoContent, replay.StatusCode);
        Assert.True(replay.Headers.Contains("X-FG-Duplicate"));
        Assert.Equal([1L, 2L], second.ReadWal().Select(r => r.EdgeSequence!.Value));
    }

    [Fact]
    public async Task Edge_state_is_rebuilt_from_the_wal_when_the_checkpoint_is_behind()
    {
        using var dir = new TempDirectory("ingest-replay");
        await using (IngestTestHost first = await IngestTestHost.StartAsync(dataDirectory: dir.Path))
        {
            Assert.Equal(HttpStatusCode.NoContent, await SendAsync(first, "edge-1", 1, Line + "1"));
        }

        // Keep the checkpoint written after batch 1, as if the process died before the next checkpoint.
        string checkpoint = Path.Combine(dir.Path, "edge-sequences.json");
        byte[] old = await File.ReadAllBytesAsync(checkpoint, Ct);
        await using (IngestTestHost second = await IngestTestHost.StartAsync(dataDirectory: dir.Path))
        {
            Assert.Equal(HttpStatusCode.NoContent, await SendAsync(second, "edge-1", 2, Line + "2"));
        }

        await File.WriteAllBytesAsync(checkpoint, old, Ct);
        await using IngestTestHost third = await IngestTestHost.StartAsync(dataDirectory: dir.Path);
        using HttpResponseMessage replay = await third.Client.SendAsync(Batch(third, "edge-1", 2, Line + "2"), Ct);

        Assert.True(replay.Headers.Contains("X-FG-Duplicate"));
    }

    [Theory]
    [InlineData("edge-1", null, "X-FG-Edge and X-FG-Seq go together: send both or neither")]
    [InlineData("edge-1", "0", "X-FG-Seq \"0\" is not a positive integer")]
    [InlineData("edge-1", "-4", "X-FG-Seq \"-4\" is not a positive integer")]
    [InlineData("edge-1", "x", "X-FG-Seq \"x\" is not a positive integer")]
    public async Task Bad_sequence_headers_get_400(string edge, string? sequence, string message)
    {
        await using IngestTestHost host = await IngestTestHost.StartAsync();
        using HttpRequestMessage request = host.Write("/api/v2/write?bucket=b", Line + "1");
        request.Headers.Add("X-FG-Edge", edge);
        if (sequence is not null)
        {
            request.Headers.Add("X-FG-Seq", sequence);
        }

        using HttpResponseMessage response = await host.Client.SendAsync(request, Ct);

        await IngestWriteTests.AssertErrorAsync(response, 400, "invalid", message);
    }

    private static async Task<HttpStatusCode> SendAsync(IngestTestHost host, string edge, long sequence, string body)
    {
        using HttpResponseMessage response = await host.Client.SendAsync(Batch(host, edge, sequence, body), Ct);
        return response.StatusCode;
    }

    private static HttpRequestMessage Batch(IngestTestHost host, string edge, long sequence, string body)
    {
        HttpRequestMessage request = host.Write("/api/v2/write?bucket=b", body);
        request.Headers.Add("X-FG-Edge", edge);
        request.Headers.Add("X-FG-Seq", sequence.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return request;
    }
}
