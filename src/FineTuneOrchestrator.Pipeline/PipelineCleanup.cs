using System.Security.Cryptography;
using System.Text;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Options;

namespace FineTuneOrchestrator.Pipeline;

/// <summary>Input of the <c>FineTunePipeline_Cleanup</c> orchestration.</summary>
/// <param name="RunId">The run (pipeline instance) to clean up after.</param>
/// <param name="SecondSweepAfterSeconds">
/// When above zero, the jobs are swept once more after this long: a create activity that was in flight when the run was
/// terminated can still create the job afterwards.
/// </param>
public sealed record PipelineCleanupInput(string RunId, double SecondSweepAfterSeconds);

/// <summary>Output of the <c>FineTunePipeline_Cleanup</c> orchestration.</summary>
/// <param name="RunId">The run.</param>
/// <param name="CancelledJobIds">Provider jobs that were still live and have been cancelled.</param>
/// <param name="EvaluationDeploymentRemoved">Whether an evaluation deployment (Azure OpenAI) existed and was removed.</param>
/// <param name="Errors">Steps that failed after their retries (the other steps still ran); empty when all went well.</param>
public sealed record PipelineCleanupResult(string RunId, IReadOnlyList<string> CancelledJobIds, bool EvaluationDeploymentRemoved, IReadOnlyList<string> Errors);

/// <summary>
/// Clean-up after a run that was ended from outside. A terminated orchestration runs no more code of its own (as in
/// Durable Functions), so whatever terminates a pipeline run also starts this clean-up, which cancels the run's
/// unfinished provider jobs (found by the run id in their metadata) and removes its evaluation deployment.
/// </summary>
public static class PipelineCleanup
{
    private const string Suffix = ":cleanup";

    /// <summary>The clean-up instance id for a run: one per run, so repeated terminations do not pile up.</summary>
    public static string InstanceIdFor(string runId)
    {
        ArgumentException.ThrowIfNullOrEmpty(runId);
        if (runId.Length + Suffix.Length <= PipelineNames.MaxInstanceIdLength)
        {
            return runId + Suffix;
        }

        // Instance ids may be as long as the limit itself: keep a prefix and make it unique with a hash of the whole id.
        string hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(runId)))[..16];
        return runId[..(PipelineNames.MaxInstanceIdLength - Suffix.Length - hash.Length - 1)] + "~" + hash + Suffix;
    }

    /// <summary>
    /// Starts the clean-up of <paramref name="runId"/> when the instance is a pipeline run; returns the clean-up's
    /// instance id, or null when the instance is not a pipeline run (or unknown). A clean-up already under way is reused.
    /// </summary>
    public static async Task<string?> StartIfPipelineRunAsync(DurableTaskClient client, string runId, TimeSpan secondSweepAfter, CancellationToken cancellationToken)
    {
        OrchestrationMetadata? instance = await client.GetInstanceAsync(runId, getInputsAndOutputs: false, cancellationToken).ConfigureAwait(false);
        if (instance is null || !string.Equals(instance.Name, PipelineNames.Orchestrator, StringComparison.Ordinal))
        {
            return null;
        }

        string id = InstanceIdFor(runId);
        // Terminated twice: a clean-up already under way covers both.
        _ = await client.TryScheduleAsync(PipelineNames.CleanupOrchestrator, new PipelineCleanupInput(runId, secondSweepAfter.TotalSeconds), new StartOrchestrationOptions(id), cancellationToken).ConfigureAwait(false);

        return id;
    }
}

/// <summary>
/// <c>FineTunePipeline_Cleanup</c>: sweep the run's jobs and remove its evaluation deployment, then do both again later
/// (an activity of the run that was queued or in flight at termination can still create either). A step that fails after
/// its retries is reported and the others still run.
/// </summary>
[DurableTask(PipelineNames.CleanupOrchestrator)]
internal sealed class PipelineCleanupOrchestrator(IOptions<PipelineOptions> options) : TaskOrchestrator<PipelineCleanupInput, PipelineCleanupResult>
{
    public override async Task<PipelineCleanupResult> RunAsync(TaskOrchestrationContext context, PipelineCleanupInput input)
    {
        TaskOptions retry = RunState.Retry(RetrySettings.ForProvider(options.Value));
        IReadOnlyList<string> deployments = EvaluationStage.EvaluationDeploymentNames(input.RunId);
        var cancelled = new List<string>();
        var errors = new List<string>();
        bool removed = false;

        async Task SweepAsync()
        {
            try
            {
                foreach (string id in await context.CallActivityAsync<IReadOnlyList<string>>(CancelRunJobsActivity.Name, input.RunId, retry))
                {
                    if (!cancelled.Contains(id))
                    {
                        cancelled.Add(id);
                    }
                }
            }
            catch (TaskFailedException e)
            {
                errors.Add($"Cancelling the jobs of run {input.RunId} failed: {e.FailureDetails.ErrorMessage}");
            }

            foreach (string deployment in deployments)
            {
                try
                {
                    removed |= await context.CallActivityAsync<bool>(RemoveDeploymentActivity.Name, deployment, retry);
                }
                catch (TaskFailedException e)
                {
                    errors.Add($"Removing the evaluation deployment '{deployment}' failed: {e.FailureDetails.ErrorMessage}");
                }
            }
        }

        await SweepAsync();
        if (input.SecondSweepAfterSeconds > 0)
        {
            await context.CreateTimer(context.CurrentUtcDateTime.AddSeconds(input.SecondSweepAfterSeconds), CancellationToken.None);
            await SweepAsync();
        }

        return new PipelineCleanupResult(input.RunId, cancelled, removed, errors);
    }
}
