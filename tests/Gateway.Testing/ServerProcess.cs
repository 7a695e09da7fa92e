using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace FactoryGateway.Testing;

/// <summary>
/// A server process a fixture started: its output is kept (bounded) for failure messages, lines can
/// be awaited, and it is stopped with SIGTERM (then SIGKILL after a grace period) on dispose, when
/// the test host exits, or when the test that owns it fails.
/// </summary>
public sealed partial class ServerProcess : IAsyncDisposable
{
    // Enough of the tail to see why a server failed without flooding a failure message.
    private const int MaxKeptLines = 400;
    private const int Sigterm = 15;
    private const int Sigcont = 18;
    private const int Sigstop = 19;

    private static readonly ConcurrentDictionary<ServerProcess, byte> s_live = new();

    private readonly Process _process;
    private readonly ConcurrentQueue<string> _lines = new();
    private readonly List<(Func<string, bool> Match, TaskCompletionSource<string> Done)> _watchers = [];
    private readonly Lock _watchLock = new();
    private readonly TaskCompletionSource _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _droppedLines;

    static ServerProcess()
    {
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            foreach (ServerProcess server in s_live.Keys)
            {
                server.KillNow();
            }
        };
    }

    private ServerProcess(string name, Process process)
    {
        Name = name;
        _process = process;
    }

    /// <summary>A short name for messages ("influxd", "mosquitto").</summary>
    public string Name { get; }

    public int Id => _process.Id;

    /// <summary>Completes when the process has exited and all of its output has been read.</summary>
    public Task Exited => _exited.Task;

    public bool HasExited => _exited.Task.IsCompleted;

    /// <summary>The exit code, once <see cref="Exited"/> has completed.</summary>
    public int ExitCode => _process.ExitCode;

    public static ServerProcess Start(
        string name, string fileName, IEnumerable<string> arguments, string? workingDirectory = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        var startInfo = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        foreach (string argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        foreach ((string key, string value) in environment ?? new Dictionary<string, string>())
        {
            startInfo.Environment[key] = value;
        }

        var process = new Process { StartInfo = startInfo, EnableRaisingEvents = true };
        var server = new ServerProcess(name, process);
        process.OutputDataReceived += (_, e) => server.OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => server.OnLine(e.Data);
        process.Exited += (_, _) => server.OnExited();
        if (!process.Start())
        {
            throw new InvalidOperationException($"{name} ({fileName}) did not start.");
        }

        s_live.TryAdd(server, 0);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return server;
    }

    /// <summary>The kept tail of the process's stdout and stderr, for failure messages.</summary>
    public string Output
    {
        get
        {
            var text = new StringBuilder();
            int dropped = Volatile.Read(ref _droppedLines);
            if (dropped > 0)
            {
                text.Append("[… ").Append(dropped).AppendLine(" earlier lines not kept …]");
            }

            foreach (string line in _lines)
            {
                text.AppendLine(line);
            }

            return text.ToString();
        }
    }

    /// <summary>Describes the process and its output tail for an exception message.</summary>
    public string Describe() =>
        $"--- {Name} (pid {Id}) output ---{Environment.NewLine}{Output}{(HasExited ? $"[exited with code {_process.ExitCode}]" : "[running]")}";

    /// <summary>
    /// Completes with the first output line (already seen or future) that matches; fails when the
    /// process exits first or <paramref name="cancellationToken"/> fires.
    /// </summary>
    public async Task<string> WaitForLineAsync(Func<string, bool> match, CancellationToken cancellationToken)
    {
        var done = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_watchLock)
        {
            string? seen = _lines.FirstOrDefault(match);
            if (seen is not null)
            {
                return seen;
            }

            _watchers.Add((match, done));
        }

        try
        {
            Task finished = await Task.WhenAny(done.Task, Exited).WaitAsync(cancellationToken);
            if (finished == done.Task)
            {
                return await done.Task;
            }

            // The process may have printed the line just before exiting.
            return done.Task.IsCompletedSuccessfully
                ? done.Task.Result
                : throw new ServerStartException($"{Name} exited before printing the expected line.{Environment.NewLine}{Describe()}");
        }
        finally
        {
            lock (_watchLock)
            {
                _watchers.RemoveAll(w => w.Done == done);
            }
        }
    }

    /// <summary>Writes one line to the process's standard input (for peers driven by commands).</summary>
    public async Task SendLineAsync(string line)
    {
        await _process.StandardInput.WriteLineAsync(line);
        await _process.StandardInput.FlushAsync();
    }

    /// <summary>Freezes the process (SIGSTOP): its sockets stay open and nothing answers until <see cref="Thaw"/>.</summary>
    public void Freeze() => Signal(Sigstop);

    /// <summary>Lets a frozen process run on (SIGCONT).</summary>
    public void Thaw() => Signal(Sigcont);

    /// <summary>Sends SIGTERM and waits up to <paramref name="grace"/> for a clean exit, then kills the process tree.</summary>
    public async Task StopAsync(TimeSpan grace)
    {
        if (!HasExited)
        {
            if (Kill(_process.Id, Sigterm) != 0)
            {
                KillNow();
            }

            try
            {
                await Exited.WaitAsync(grace);
            }
            catch (TimeoutException)
            {
                KillNow();
                await Exited.WaitAsync(TimeSpan.FromSeconds(30));
            }
        }

        // Make sure the asynchronous readers have delivered the last lines.
        await _process.WaitForExitAsync();
        s_live.TryRemove(this, out _);
    }

    /// <summary>Kills the process tree at once (SIGKILL), as a crash would.</summary>
    public async Task KillAsync()
    {
        KillNow();
        await Exited.WaitAsync(TimeSpan.FromSeconds(30));
        await _process.WaitForExitAsync();
        s_live.TryRemove(this, out _);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(TimeSpan.FromSeconds(10));
        _process.Dispose();
    }

    private void KillNow()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
    }

    private void OnLine(string? line)
    {
        if (line is null)
        {
            return;
        }

        List<TaskCompletionSource<string>>? matched = null;
        lock (_watchLock)
        {
            _lines.Enqueue(line);
            while (_lines.Count > MaxKeptLines && _lines.TryDequeue(out _))
            {
                Interlocked.Increment(ref _droppedLines);
            }

            foreach ((Func<string, bool> match, TaskCompletionSource<string> done) in _watchers)
            {
                if (match(line))
                {
                    (matched ??= []).Add(done);
                }
            }
        }

        matched?.ForEach(done => done.TrySetResult(line));
    }

    // Exited fires before the asynchronous readers have delivered the last lines; WaitForExitAsync
    // also waits for end-of-stream on stdout and stderr, so Exited completes with the whole output.
    private void OnExited() =>
        _ = _process.WaitForExitAsync().ContinueWith(_ => _exited.TrySetResult(), TaskScheduler.Default);

    private void Signal(int signal)
    {
        if (Kill(_process.Id, signal) != 0)
        {
            throw new InvalidOperationException($"kill({_process.Id}, {signal}) failed with errno {Marshal.GetLastPInvokeError()}: {Describe()}");
        }
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}

/// <summary>A server a fixture started did not become ready; the message carries its output.</summary>
public sealed class ServerStartException : Exception
{
    public ServerStartException(string message)
        : base(message)
    {
    }

    public ServerStartException()
    {
    }

    public ServerStartException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
