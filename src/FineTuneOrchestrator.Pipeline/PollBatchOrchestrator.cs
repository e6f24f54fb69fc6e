using Microsoft.DurableTask;

namespace FineTuneOrchestrator.Pipeline;

/// <summary>
/// <c>FineTunePipeline_PollBatch</c>: up to <see cref="PollBatchInput.MaxPolls"/> polls of the job with durable timers between
/// them (back-off from the minimum to the maximum interval, sooner when the provider's estimated finish is near), returning
/// early on any status change so the parent can update its custom status. Its history stays bounded by the batch size.
/// </summary>
[DurableTask(PipelineNames.PollBatchOrchestrator)]
internal sealed class PollBatchOrchestrator : TaskOrchestrator<PollBatchInput, PollBatchResult>
{
    public override async Task<PollBatchResult> RunAsync(TaskOrchestrationContext context, PollBatchInput input)
    {
        TaskOptions retry = RunState.Retry(input.Retry);
        double interval = Math.Max(input.MinIntervalSeconds, input.IntervalSeconds);
        JobSnapshot? job = null;
        ProgressMetrics? metrics = null;
        string? lastEvent = input.LastEventId;
        int failures = 0;
        for (int i = 0; i < input.MaxPolls; i++)
        {
            if (i > 0 || !input.PollImmediately)
            {
                DateTime now = context.CurrentUtcDateTime;
                if (now >= input.Deadline) return new PollBatchResult(job, metrics, lastEvent, interval, DeadlinePassed: true);
                var wait = TimeSpan.FromSeconds(interval);
                if (job?.EstimatedFinish is { } finish)
                {
                    TimeSpan untilFinish = finish.UtcDateTime - now;
                    if (untilFinish > TimeSpan.Zero && untilFinish < wait) wait = TimeSpan.FromSeconds(Math.Max(input.MinIntervalSeconds, untilFinish.TotalSeconds));
                }

                if (now + wait > input.Deadline) wait = input.Deadline - now;
                await context.CreateTimer(now + wait, CancellationToken.None);
            }

            ProgressOutput progress;
            try
            {
                progress = await context.CallActivityAsync<ProgressOutput>(GetJobProgressActivity.Name, new ProgressInput(input.JobId, lastEvent), retry);
            }
            catch (TaskFailedException) when (++failures < input.MaxPolls)
            {
                // A poll that failed after its retries is not a failed job: wait longer and poll again.
                interval = Math.Min(input.MaxIntervalSeconds, interval * 2);
                continue;
            }

            job = progress.Job;
            lastEvent = progress.LastEventId ?? lastEvent;
            metrics = metrics is null ? progress.Metrics : metrics.Merge(progress.Metrics);
            if (job.IsTerminal) return new PollBatchResult(job, metrics, lastEvent, interval, DeadlinePassed: false);
            if (!string.Equals(job.StatusText, input.LastStatusText, StringComparison.Ordinal))
            {
                return new PollBatchResult(job, metrics, lastEvent, input.MinIntervalSeconds, DeadlinePassed: false);
            }

            interval = Math.Min(input.MaxIntervalSeconds, interval * 1.5);
        }

        return new PollBatchResult(job, metrics, lastEvent, interval, context.CurrentUtcDateTime >= input.Deadline);
    }
}
