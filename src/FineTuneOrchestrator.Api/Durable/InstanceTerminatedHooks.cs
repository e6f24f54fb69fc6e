using FineTuneOrchestrator.Pipeline;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Options;

namespace FineTuneOrchestrator.Api.Durable;

/// <summary>
/// What must follow the termination of a pipeline run, because a terminated orchestration runs none of its own code
/// again: its clean-up (cancel the provider job, remove the evaluation deployment). The in-process host calls
/// <see cref="OnTerminatedAsync"/> right after its management API terminates an instance; terminations made any other way
/// (the Functions host's own management API, a script using the client) are found by the run watch (<see cref="RunWatch"/>).
/// </summary>
public sealed partial class PipelineTerminations(IOptions<PipelineOptions> options, ILogger<PipelineTerminations> logger)
{
    /// <summary>Starts the clean-up of a terminated run (a no-op for other instances; an existing clean-up is reused).</summary>
    public async Task OnTerminatedAsync(DurableTaskClient client, string instanceId, CancellationToken cancellationToken)
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
