using FineTuneOrchestrator.Client.Internal;
using FineTuneOrchestrator.Testing;
using Microsoft.Extensions.Logging;

namespace FineTuneOrchestrator.Client.Tests;

public sealed partial class RedactingLoggerTests
{
    [Fact]
    public void Log_MessageValuesAndException_AreRedactedBeforeTheProvider()
    {
        var capture = new CapturingLoggerProvider();
        using ILoggerFactory factory = LoggerFactory.Create(b => b.AddProvider(capture).SetMinimumLevel(LogLevel.Trace));
        ILogger logger = new RedactingLoggerFactory(factory).CreateLogger("test");

        LogTicket(logger, "please mail jane.doe@example.com", 42, new InvalidOperationException("rejected key sk-abcdefghijklmnopqrstuvwxyz01"));

        string line = Assert.Single(capture.Lines);
        Assert.DoesNotContain("jane.doe@example.com", line, StringComparison.Ordinal);
        Assert.DoesNotContain("sk-abcdefghijklmnopqrstuvwxyz01", line, StringComparison.Ordinal);
        Assert.Contains("please mail [redacted-email]", line, StringComparison.Ordinal);
        Assert.Contains("Count=42", line, StringComparison.Ordinal);
        Assert.Contains("System.InvalidOperationException: rejected key [redacted-secret]", line, StringComparison.Ordinal);
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Ticket {Text} ({Count} words)")]
    private static partial void LogTicket(ILogger logger, string text, int count, Exception error);
}
