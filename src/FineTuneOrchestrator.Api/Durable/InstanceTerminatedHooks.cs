using FineTuneOrchestrator.Pipeline;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FineTuneOrchestrator.Api.Durable;

/// <summary>
/// What must follow the termination of a pipeline run, because a terminated orchestration runs none of its own code
/// again: its clean-up (cancel the provider job, remove the evaluation deployment). The in-process host calls
/// <see cref="OnTerminatedAsync"/> right after its management API terminates an instance; both hosts also run
/// <see cref="SweepAsync"/> periodically, which catches terminations made any other way (the Functions host's own
/// management API, a script using the client).
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

    /// <summary>
    /// Finds terminated pipeline runs updated since <paramref name="since"/> whose clean-up was never started, and starts it.
    /// Returns the runs it started a clean-up for.
    /// </summary>
    public async Task<IReadOnlyList<string>> SweepAsync(DurableTaskClient client, DateTimeOffset since, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(client);
        var started = new List<string>();
        var query = new OrchestrationQuery
        {
            Statuses = [OrchestrationRuntimeStatus.Terminated],
            CreatedFrom = since,
            PageSize = 100,
            FetchInputsAndOutputs = false,
        };
        await foreach (OrchestrationMetadata run in client.GetAllInstancesAsync(query).WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            if (!string.Equals(run.Name, PipelineNames.Orchestrator, StringComparison.Ordinal))
            {
                continue;
            }

            string cleanupId = PipelineCleanup.InstanceIdFor(run.InstanceId);
            if (await client.GetInstanceAsync(cleanupId, getInputsAndOutputs: false, cancellationToken).ConfigureAwait(false) is not null)
            {
                continue;
            }

            await OnTerminatedAsync(client, run.InstanceId, cancellationToken).ConfigureAwait(false);
            started.Add(run.InstanceId);
        }

        if (started.Count > 0)
        {
            LogSwept(logger, started.Count);
        }

        return started;
    }

    [LoggerMessage(1, LogLevel.Information, "Run {RunId} was terminated; clean-up {CleanupId} cancels its provider jobs")]
    private static partial void LogCleanupStarted(ILogger logger, string runId, string cleanupId);

    [LoggerMessage(2, LogLevel.Warning, "Found {Count} terminated runs without a clean-up; started their clean-up")]
    private static partial void LogSwept(ILogger logger, int count);
}
