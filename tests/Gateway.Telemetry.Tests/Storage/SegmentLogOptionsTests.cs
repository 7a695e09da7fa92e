using FactoryGateway.Telemetry.Storage;
using FactoryGateway.Testing;

namespace FactoryGateway.Telemetry.Tests.Storage;

public sealed class SegmentLogOptionsTests
{
    [Fact]
    public void The_defaults_are_valid_once_a_directory_is_given()
    {
        var options = new SegmentLogOptions { Directory = "wal" };
        options.Validate();
        Assert.Equal(64L << 20, options.SegmentBytes);
        Assert.Equal(4L << 30, options.MaxTotalBytes);
        Assert.Equal(FsyncPolicy.Always, options.FsyncPolicy);
    }

    public static TheoryData<string, Action<SegmentLogOptions>, string> InvalidOptions => new()
    {
        { "Directory", o => o.Directory = " ", "SegmentLogOptions.Directory must name the log's directory (was  )." },
        { "SegmentBytes", o => o.SegmentBytes = 1000, "SegmentLogOptions.SegmentBytes must be between 4096 and 1073741824 bytes (was 1000)." },
        { "SegmentBytes", o => o.SegmentBytes = 2L << 30, "SegmentLogOptions.SegmentBytes must be between 4096 and 1073741824 bytes (was 2147483648)." },
        { "MaxTotalBytes", o => o.MaxTotalBytes = 100L << 20, "SegmentLogOptions.MaxTotalBytes must be at least twice SegmentBytes (134217728 bytes), or a full log could hold no sealed segment to free (was 104857600)." },
        { "FsyncPolicy", o => o.FsyncPolicy = (FsyncPolicy)7, "SegmentLogOptions.FsyncPolicy must be Always or None (was 7)." },
        { "AppendQueueCapacity", o => o.AppendQueueCapacity = 0, "SegmentLogOptions.AppendQueueCapacity must be between 1 and 1000000 (was 0)." },
        { "MaxBatchBytes", o => o.MaxBatchBytes = 0, "SegmentLogOptions.MaxBatchBytes must be positive (was 0)." },
    };

    [Theory]
    [MemberData(nameof(InvalidOptions))]
    public void An_invalid_option_is_named_with_the_reason(string option, Action<SegmentLogOptions> breakIt, string message)
    {
        var options = new SegmentLogOptions { Directory = "wal" };
        breakIt(options);

        ArgumentException error = Assert.Throws<ArgumentException>(options.Validate);

        Assert.Equal(option, error.ParamName);
        Assert.Equal($"{message} (Parameter '{option}')", error.Message);
    }

    [Fact]
    public void Open_validates_the_options_before_touching_the_disk()
    {
        using var directory = new TempDirectory("wal");
        string path = directory.Combine("never-created");
        Assert.Throws<ArgumentException>(() => SegmentLog.Open(new SegmentLogOptions { Directory = path, SegmentBytes = 1 }));
        Assert.False(Directory.Exists(path));
    }
}
