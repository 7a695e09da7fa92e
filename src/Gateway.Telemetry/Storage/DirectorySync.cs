using System.Runtime.InteropServices;
using System.Text;

namespace FactoryGateway.Telemetry.Storage;

/// <summary>
/// fsync of a directory, which makes a file's creation, rename or deletion durable on POSIX file systems
/// (an fsynced file whose directory entry is not yet durable can vanish in a power loss). .NET has no API
/// for it (a directory cannot be opened as a <see cref="Microsoft.Win32.SafeHandles.SafeFileHandle"/>), so
/// this calls libc's open/fsync/close. On Windows it does nothing: NTFS journals directory metadata.
/// </summary>
public static class DirectorySync
{
    private const int ReadOnly = 0; // O_RDONLY, the same on every POSIX system

    public static void Flush(string directory)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        byte[] path = Encoding.UTF8.GetBytes(directory + "\0");
        int fd = NativeMethods.Open(path, ReadOnly);
        if (fd < 0)
        {
            throw Error("open", directory, Marshal.GetLastPInvokeError());
        }

        try
        {
            if (NativeMethods.FSync(fd) != 0)
            {
                throw Error("fsync", directory, Marshal.GetLastPInvokeError());
            }
        }
        finally
        {
            _ = NativeMethods.Close(fd);
        }
    }

    private static IOException Error(string call, string directory, int errno) =>
        new($"{call}(\"{directory}\") failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno}).");

    private static class NativeMethods
    {
        [DllImport("libc", EntryPoint = "open", SetLastError = true)]
        internal static extern int Open(byte[] path, int flags);

        [DllImport("libc", EntryPoint = "fsync", SetLastError = true)]
        internal static extern int FSync(int fd);

        [DllImport("libc", EntryPoint = "close", SetLastError = true)]
        internal static extern int Close(int fd);
    }
}
