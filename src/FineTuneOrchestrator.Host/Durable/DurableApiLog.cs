namespace FineTuneOrchestrator.Host.Durable;

/// <summary>The management API's log messages.</summary>
internal static partial class DurableApiLog
{
    [LoggerMessage(1, LogLevel.Error, "{Hook} failed after instance {InstanceId} was terminated; terminate it again to retry")]
    public static partial void TerminateHookFailed(ILogger logger, string hook, string instanceId, Exception exception);
}
