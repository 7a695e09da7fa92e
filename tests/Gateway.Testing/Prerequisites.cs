namespace FactoryGateway.Testing;

/// <summary>
/// Locates the external programs the fixtures start. A missing program fails the test with the
/// exact command that installs it: nothing is skipped silently.
/// </summary>
public static class Prerequisites
{
    // Debian installs daemons (mosquitto) under sbin, which a non-root PATH may lack.
    private static readonly string[] s_extraDirectories = ["/usr/local/sbin", "/usr/sbin", "/sbin"];

    public static string InfluxD => Require("influxd", "apt-get install -y influxdb");

    public static string Mosquitto => Require("mosquitto", "apt-get install -y mosquitto");

    public static string MosquittoPub => Require("mosquitto_pub", "apt-get install -y mosquitto-clients");

    public static string MosquittoSub => Require("mosquitto_sub", "apt-get install -y mosquitto-clients");

    public static string Node => Require("node", "apt-get install -y nodejs");

    /// <summary>The installed npm peers; fails with the command that installs them.</summary>
    public static string PeerModule(string module)
    {
        string path = Path.Combine(RepositoryLayout.PeersDirectory, "node_modules", module);
        if (!Directory.Exists(path))
        {
            throw new MissingPrerequisiteException(
                $"npm package '{module}' is not installed under tests/peers. Install it with: npm ci --prefix tests/peers");
        }

        return path;
    }

    /// <summary>Returns the full path of <paramref name="program"/> or throws with the install command.</summary>
    public static string Require(string program, string installCommand)
    {
        return Find(program) ?? throw new MissingPrerequisiteException(
            $"'{program}' was not found on PATH or in {string.Join(", ", s_extraDirectories)}. Install it with: {installCommand}");
    }

    public static string? Find(string program)
    {
        IEnumerable<string> path = (Environment.GetEnvironmentVariable("PATH") ?? string.Empty)
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries);
        foreach (string dir in path.Concat(s_extraDirectories))
        {
            string candidate = Path.Combine(dir, program);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }
}

/// <summary>A program or package a test needs is not installed; the message says how to install it.</summary>
public sealed class MissingPrerequisiteException : Exception
{
    public MissingPrerequisiteException(string message)
        : base(message)
    {
    }

    public MissingPrerequisiteException()
    {
    }

    public MissingPrerequisiteException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
