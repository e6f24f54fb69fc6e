using FineTuneOrchestrator.Providers;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;

namespace FineTuneOrchestrator.Pipeline;

[DurableTask(Name)]
internal sealed class CreateJobActivity(IFineTuningProvider provider, DurableTaskClient client, ActivityCancellation cancellation) : PipelineActivity<JobRequest, JobSnapshot>(cancellation)
{
    /// <summary>The activity's name (also its Azure Functions function name).</summary>
    internal const string Name = "FineTunePipeline_CreateJob";

    protected override async Task<JobSnapshot> ExecuteAsync(JobRequest input, CancellationToken ct)
    {
        await TerminatedRuns.ThrowIfTerminatedAsync(client, Context, ct).ConfigureAwait(false);
        return JobSnapshot.From(await provider.CreateJobOnceAsync(input, ct).ConfigureAwait(false));
    }
}

/// <summary>
/// Activities still queued when their run is terminated run anyway (the engine does not recall them); the ones that
/// would start something billable check first, so the clean-up is not racing new spending.
/// </summary>
internal static class TerminatedRuns
{
    public static async Task ThrowIfTerminatedAsync(DurableTaskClient client, TaskActivityContext context, CancellationToken ct)
    {
        OrchestrationMetadata? run = await client.GetInstanceAsync(context.InstanceId, getInputsAndOutputs: false, ct).ConfigureAwait(false);
        if (run?.RuntimeStatus == OrchestrationRuntimeStatus.Terminated)
        {
            throw new PipelineInputException($"Run {context.InstanceId} was terminated; {context.Name} did nothing.");
        }
    }
}

[DurableTask(Name)]
internal sealed class GetJobProgressActivity(IFineTuningProvider provider, ActivityCancellation cancellation) : PipelineActivity<ProgressInput, ProgressOutput>(cancellation)
{
    /// <summary>The activity's name (also its Azure Functions function name).</summary>
    internal const string Name = "FineTunePipeline_GetJobProgress";

    private const int PageSize = 100;
    private const int MaxPages = 20;

    protected override async Task<ProgressOutput> ExecuteAsync(ProgressInput input, CancellationToken ct)
    {
        ProviderJob job = await provider.GetJobAsync(input.JobId, ct).ConfigureAwait(false);
        string? cursor = input.AfterEventId;
        ProgressMetrics? metrics = null;
        for (int page = 0; page < MaxPages; page++)
        {
            IReadOnlyList<ProviderJobEvent> events = await provider.ListEventsAsync(input.JobId, cursor, PageSize, ct).ConfigureAwait(false);
            foreach (ProviderJobEvent e in events)
            {
                if (e.Metrics is { } m)
                {
                    var latest = new ProgressMetrics(m.Step, m.TotalSteps, m.TrainLoss, m.ValidLoss ?? m.FullValidLoss);
                    metrics = metrics is null ? latest : metrics.Merge(latest);
                }
            }

            if (events.Count > 0) cursor = events[^1].Id;
            if (events.Count < PageSize) break;
        }

        return new ProgressOutput(JobSnapshot.From(job), metrics, cursor);
    }
}

[DurableTask(Name)]
internal sealed class CancelJobActivity(IFineTuningProvider provider, ActivityCancellation cancellation) : PipelineActivity<string, JobSnapshot>(cancellation)
{
    /// <summary>The activity's name (also its Azure Functions function name).</summary>
    internal const string Name = "FineTunePipeline_CancelJob";

    protected override async Task<JobSnapshot> ExecuteAsync(string input, CancellationToken ct) =>
        JobSnapshot.From(await provider.CancelJobAsync(input, ct).ConfigureAwait(false));
}

[DurableTask(Name)]
internal sealed class CancelRunJobsActivity(IFineTuningProvider provider, ActivityCancellation cancellation) : PipelineActivity<string, IReadOnlyList<string>>(cancellation)
{
    /// <summary>The activity's name (also its Azure Functions function name).</summary>
    internal const string Name = "FineTunePipeline_CancelRunJobs";

    protected override async Task<IReadOnlyList<string>> ExecuteAsync(string input, CancellationToken ct)
    {
        var cancelled = new List<string>();
        foreach (ProviderJob job in await provider.FindJobsByRunIdAsync(input, ct).ConfigureAwait(false))
        {
            if (!job.IsTerminal)
            {
                // Cancelling an already cancelled job answers with the job, so a repeated attempt is harmless; a job
                // that finished in the meantime keeps its status and is not reported as cancelled.
                ProviderJob after = await provider.CancelJobAsync(job.Id, ct).ConfigureAwait(false);
                if (after.Status == ProviderJobStatus.Cancelled)
                {
                    cancelled.Add(job.Id);
                }
            }
        }

        return cancelled;
    }
}
