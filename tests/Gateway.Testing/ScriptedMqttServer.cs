using System.Globalization;
using System.Text.Json;

namespace FactoryGateway.Testing;

/// <summary>
/// A scripted MQTT server (<c>tests/peers/mqtt-scripted-server.mjs</c>, packets encoded and decoded by npm
/// <c>mqtt-packet</c>) on a free loopback port: it sends only what the test tells it and reports every packet
/// the client sends, in order, so a test can drive a protocol exchange step by step — topic aliases towards
/// a subscriber, a QoS 2 PUBLISH sent twice, a connection cut between two chosen packets. One per test.
/// </summary>
public sealed class ScriptedMqttServer : IAsyncDisposable
{
    private static readonly TimeSpan s_startDeadline = TimeSpan.FromSeconds(30);

    // Null members are left out, so one anonymous shape serves packets with and without an optional field.
    private static readonly JsonSerializerOptions s_json = new() { DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull };

    private readonly SemaphoreSlim _commandGate = new(1, 1);
    private ServerProcess? _process;
    private int _nextPacket = 1;
    private int _commands;

    private ScriptedMqttServer()
    {
    }

    public static string Host => "127.0.0.1";

    public int Port { get; private set; }

    /// <summary>How long each step waits for the client (a packet, a closed connection) before failing.</summary>
    public TimeSpan StepDeadline { get; init; } = TimeSpan.FromSeconds(30);

    public ServerProcess Process => _process ?? throw new InvalidOperationException("The scripted server is not running.");

    public static async Task<ScriptedMqttServer> StartAsync(CancellationToken cancellationToken)
    {
        string node = Prerequisites.Node;
        Prerequisites.PeerModule("mqtt-packet");
        var server = new ScriptedMqttServer();
        string script = Path.Combine(RepositoryLayout.PeersDirectory, "mqtt-scripted-server.mjs");
        for (int attempt = 1; ; attempt++)
        {
            server.Port = FreeTcpPort.Next();
            server._process = ServerProcess.Start("mqtt-scripted-server", node, [script, "--port", server.Port.ToString(CultureInfo.InvariantCulture)], RepositoryLayout.PeersDirectory);
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(s_startDeadline);
            try
            {
                await server._process.WaitForLineAsync(line => line.StartsWith("READY ", StringComparison.Ordinal), deadline.Token);
                return server;
            }
            catch (ServerStartException) when (attempt < 3 && server._process.Output.Contains("EADDRINUSE", StringComparison.Ordinal))
            {
                await server._process.DisposeAsync();
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                await server._process.DisposeAsync();
                throw new ServerStartException($"The scripted MQTT server did not print READY within {s_startDeadline.TotalSeconds} s.{Environment.NewLine}{server._process.Describe()}");
            }
        }
    }

    /// <summary>The next packet the client sent (in order over all connections).</summary>
    public async Task<ScriptedPacket> NextAsync(CancellationToken cancellationToken)
    {
        string prefix = $"RECV {_nextPacket} ";
        string line = await WaitForLineAsync(l => l.StartsWith(prefix, StringComparison.Ordinal), $"packet {_nextPacket} from the client", cancellationToken);
        _nextPacket++;
        string rest = line[prefix.Length..];
        int space = rest.IndexOf(' ', StringComparison.Ordinal);
        using JsonDocument json = JsonDocument.Parse(rest[(space + 1)..]);
        return new ScriptedPacket(int.Parse(rest[..space], CultureInfo.InvariantCulture), json.RootElement.Clone());
    }

    /// <summary>The next packet, which must be a <paramref name="command"/> (mqtt-packet's name: "publish", "pubrec", …).</summary>
    public async Task<ScriptedPacket> ExpectAsync(string command, CancellationToken cancellationToken)
    {
        ScriptedPacket packet = await NextAsync(cancellationToken);
        return packet.Command == command
            ? packet
            : throw new InvalidOperationException($"Expected {command} from the client, got {packet.Json.GetRawText()}.{Environment.NewLine}{Process.Describe()}");
    }

    /// <summary>Waits for the client's CONNECT and answers CONNACK (success).</summary>
    public async Task<ScriptedPacket> AcceptAsync(CancellationToken cancellationToken, bool sessionPresent = false, object? properties = null)
    {
        ScriptedPacket connect = await ExpectAsync("connect", cancellationToken);
        await SendAsync(properties is null
            ? new { cmd = "connack", returnCode = 0, reasonCode = 0, sessionPresent }
            : new { cmd = "connack", returnCode = 0, reasonCode = 0, sessionPresent, properties });
        return connect;
    }

    /// <summary>Encodes <paramref name="packets"/> (mqtt-packet objects) and writes them in one socket write to the newest connection.</summary>
    public Task SendAsync(params object[] packets) => CommandAsync(JsonSerializer.Serialize(new { send = packets }, s_json));

    /// <summary>Destroys the newest connection without DISCONNECT.</summary>
    public Task DropAsync() => CommandAsync("""{"drop":true}""");

    /// <summary>Waits until connection <paramref name="connection"/> (numbered from 1) has ended.</summary>
    public Task WaitForClosedAsync(int connection, CancellationToken cancellationToken) =>
        WaitForLineAsync(l => l == $"CLOSED {connection}", $"the end of connection {connection}", cancellationToken);

    public async ValueTask DisposeAsync()
    {
        if (_process is not null)
        {
            await _process.DisposeAsync();
            _process = null;
        }

        _commandGate.Dispose();
    }

    private async Task CommandAsync(string json)
    {
        await _commandGate.WaitAsync();
        try
        {
            int n = ++_commands;
            await Process.SendLineAsync(json);
            string done = await WaitForLineAsync(l => l == $"DONE {n}" || l.StartsWith($"DONE {n} ", StringComparison.Ordinal), $"command {n} to be written", CancellationToken.None);
            if (done != $"DONE {n}")
            {
                throw new InvalidOperationException($"The scripted server could not run {json}: {done}.{Environment.NewLine}{Process.Describe()}");
            }
        }
        finally
        {
            _commandGate.Release();
        }
    }

    private async Task<string> WaitForLineAsync(Func<string, bool> match, string what, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(StepDeadline);
        try
        {
            return await Process.WaitForLineAsync(match, deadline.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"No {what} within {StepDeadline.TotalSeconds:0} s.{Environment.NewLine}{Process.Describe()}");
        }
    }
}

/// <summary>A packet the client sent to the <see cref="ScriptedMqttServer"/>: connection number and mqtt-packet's object.</summary>
public sealed record ScriptedPacket(int Connection, JsonElement Json)
{
    public string Command => Json.GetProperty("cmd").GetString()!;

    public int MessageId => Json.GetProperty("messageId").GetInt32();

    public int Qos => Json.TryGetProperty("qos", out JsonElement qos) ? qos.GetInt32() : 0;

    public bool Dup => Json.TryGetProperty("dup", out JsonElement dup) && dup.GetBoolean();

    public string? Topic => Json.TryGetProperty("topic", out JsonElement topic) ? topic.GetString() : null;

    public string? Payload => Json.TryGetProperty("payload", out JsonElement payload) && payload.ValueKind == JsonValueKind.String ? payload.GetString() : null;

    /// <summary>The reason code (MQTT 5.0; mqtt-packet leaves it out when the packet omits it, meaning 0).</summary>
    public int ReasonCode => Json.TryGetProperty("reasonCode", out JsonElement code) ? code.GetInt32() : 0;

    /// <summary>A property by mqtt-packet's name ("topicAliasMaximum", "sessionExpiryInterval", …), or null.</summary>
    public JsonElement? Property(string name) =>
        Json.TryGetProperty("properties", out JsonElement properties) && properties.TryGetProperty(name, out JsonElement value) ? value : null;

    public override string ToString() => $"#{Connection} {Json.GetRawText()}";
}
