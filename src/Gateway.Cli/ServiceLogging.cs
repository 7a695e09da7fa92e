using Microsoft.Extensions.Logging;

namespace FactoryGateway.Cli;

/// <summary>
/// The log format of the long-running commands: one line per event, UTC timestamps, Information and above; ASP.NET
/// Core's own categories from Warning (its Information level is a line per request, which a health endpoint polled
/// every few seconds turns into noise).
/// </summary>
internal static class ServiceLogging
{
    public static ILoggerFactory CreateConsole() => LoggerFactory.Create(logging => logging
        .AddSimpleConsole(console =>
        {
            console.SingleLine = true;
            console.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
            console.UseUtcTimestamp = true;
        })
        .SetMinimumLevel(LogLevel.Information)
        .AddFilter("Microsoft.AspNetCore", LogLevel.Warning));
}
