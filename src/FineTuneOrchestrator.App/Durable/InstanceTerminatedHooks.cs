using FineTuneOrchestrator.Durable.Client;
using FineTuneOrchestrator.Pipeline;
using Microsoft.Extensions.Options;

namespace FineTuneOrchestrator.App.Durable;

/// <summary>
/// Work that must follow a terminate request, because a terminated orchestration runs none of its own code again.
/// The management API calls every registered hook after it has terminated an instance (and again when asked to terminate
/// an instance that is already terminated, so a hook that failed can be retried by repeating the request).
/// </summary>
public interface IInstanceTerminatedHook
{
    /// <summary>Called with the terminated instance's id.</summary>
    Task OnTerminatedAsync(string instanceId, CancellationToken cancellationToken);
}

/// <summary>A terminated pipeline run still has a provider job (and maybe an evaluation deployment): start its clean-up.</summary>
internal sealed partial class PipelineTerminatedHook(DurableTaskClient client, IOptions<PipelineOptions> options, ILogger<PipelineTerminatedHook> logger) : IInstanceTerminatedHook
{
    public async Task OnTerminatedAsync(string instanceId, CancellationToken cancellationToken)
    {
        string? cleanup = await PipelineCleanup.StartIfPipelineRunAsync(client, instanceId, options.Value.CleanupSecondSweepDelay, cancellationToken).ConfigureAwait(false);
        if (cleanup is not null)
        {
            LogCleanupStarted(logger, instanceId, cleanup);
        }
    }

    [LoggerMessage(1, LogLevel.Information, "Run {RunId} was terminated; clean-up {CleanupId} cancels its provider jobs")]
    private static partial void LogCleanupStarted(ILogger logger, string runId, string cleanupId);
}
