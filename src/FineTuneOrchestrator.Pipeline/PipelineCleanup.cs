using FineTuneOrchestrator.Durable;
using FineTuneOrchestrator.Durable.Client;
using Microsoft.Extensions.Options;

namespace FineTuneOrchestrator.Pipeline;

/// <summary>Input of the <c>FineTunePipeline.Cleanup</c> orchestration.</summary>
/// <param name="RunId">The run (pipeline instance) to clean up after.</param>
/// <param name="SecondSweepAfterSeconds">
/// When above zero, the jobs are swept once more after this long: a create activity that was in flight when the run was
/// terminated can still create the job afterwards.
/// </param>
public sealed record PipelineCleanupInput(string RunId, double SecondSweepAfterSeconds);

/// <summary>Output of the <c>FineTunePipeline.Cleanup</c> orchestration.</summary>
/// <param name="RunId">The run.</param>
/// <param name="CancelledJobIds">Provider jobs that were still live and have been cancelled.</param>
/// <param name="EvaluationDeploymentRemoved">Whether an evaluation deployment (Azure OpenAI) existed and was removed.</param>
public sealed record PipelineCleanupResult(string RunId, IReadOnlyList<string> CancelledJobIds, bool EvaluationDeploymentRemoved);

/// <summary>
/// Clean-up after a run that was ended from outside. A terminated orchestration runs no more code of its own (as in
/// Durable Functions), so whatever terminates a pipeline run also starts this clean-up, which cancels the run's
/// unfinished provider jobs (found by the run id in their metadata) and removes its evaluation deployment.
/// </summary>
public static class PipelineCleanup
{
    /// <summary>The clean-up instance id for a run: one per run, so repeated terminations do not pile up.</summary>
    public static string InstanceIdFor(string runId)
    {
        ArgumentException.ThrowIfNullOrEmpty(runId);
        return runId + ":cleanup";
    }

    /// <summary>
    /// Starts the clean-up of <paramref name="runId"/> when the instance is a pipeline run; returns the clean-up's
    /// instance id, or null when the instance is not a pipeline run (or unknown). A clean-up already under way is reused.
    /// </summary>
    public static async Task<string?> StartIfPipelineRunAsync(DurableTaskClient client, string runId, TimeSpan secondSweepAfter, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(client);
        var instance = await client.GetInstanceAsync(runId, getInputsAndOutputs: false, cancellationToken).ConfigureAwait(false);
        if (instance is null || !string.Equals(instance.Name, PipelineNames.Orchestrator, StringComparison.Ordinal))
        {
            return null;
        }

        string id = InstanceIdFor(runId);
        try
        {
            await client.ScheduleNewOrchestrationInstanceAsync(PipelineNames.CleanupOrchestrator,
                new PipelineCleanupInput(runId, secondSweepAfter.TotalSeconds), new StartOrchestrationOptions { InstanceId = id }, cancellationToken).ConfigureAwait(false);
        }
        catch (OrchestrationAlreadyExistsException)
        {
            // Terminated twice: the first clean-up covers both.
        }

        return id;
    }
}

/// <summary><c>FineTunePipeline.Cleanup</c>: sweep the run's jobs, remove its evaluation deployment, sweep again later.</summary>
internal sealed class PipelineCleanupOrchestrator(IOptions<PipelineOptions> options) : TaskOrchestrator<PipelineCleanupInput, PipelineCleanupResult>
{
    public override async Task<PipelineCleanupResult> RunAsync(TaskOrchestrationContext context, PipelineCleanupInput input)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(input);
        var o = options.Value;
        var retry = RunState.Retry(new RetrySettings(o.ProviderRetryAttempts, o.ProviderRetryFirstInterval.TotalSeconds, o.ProviderRetryMaxInterval.TotalSeconds));

        var cancelled = new List<string>(await context.CallActivityAsync<IReadOnlyList<string>>(PipelineActivityNames.CancelRunJobs, input.RunId, retry));
        bool removed = await context.CallActivityAsync<bool>(PipelineActivityNames.RemoveDeployment,
            FineTunePipelineOrchestrator.EvaluationDeploymentName(input.RunId), retry);
        if (input.SecondSweepAfterSeconds > 0)
        {
            await context.CreateTimer(context.CurrentUtcDateTime.AddSeconds(input.SecondSweepAfterSeconds), CancellationToken.None);
            foreach (var id in await context.CallActivityAsync<IReadOnlyList<string>>(PipelineActivityNames.CancelRunJobs, input.RunId, retry))
            {
                if (!cancelled.Contains(id))
                {
                    cancelled.Add(id);
                }
            }
        }

        return new PipelineCleanupResult(input.RunId, cancelled, removed);
    }
}
