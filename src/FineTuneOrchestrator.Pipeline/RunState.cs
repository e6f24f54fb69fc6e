using Microsoft.DurableTask;

namespace FineTuneOrchestrator.Pipeline;

/// <summary>What the orchestration has learned so far, and its custom status. Lives only in orchestrator memory (rebuilt by replay).</summary>
internal sealed class RunState
{
    public RunState(TaskOrchestrationContext context, PipelineRunRequest input, PipelineOptions options)
    {
        Context = context;
        Input = input;
        // The instance id is the run id (and the provider's idempotency key): an input naming another run (a restart or a copy
        // under a new id) is refused by the orchestrator, and its files are written under this instance's id, never the other's.
        RunId = context.InstanceId;
        StartedAt = context.CurrentUtcDateTime;
        CancelTask = PipelineEvents.NextCancelAsync(context, Ignore);
        RetrySettings = RetrySettings.ForProvider(options);
        ProviderRetry = Retry(RetrySettings);
        StorageRetry = Retry(new RetrySettings(5, Math.Min(1, RetrySettings.FirstIntervalSeconds), Math.Min(30, RetrySettings.MaxIntervalSeconds)));
        WebhookRetry = Retry(new RetrySettings(3, Math.Min(2, RetrySettings.FirstIntervalSeconds), Math.Min(30, RetrySettings.MaxIntervalSeconds)));
    }

    public TaskOrchestrationContext Context { get; }
    public PipelineRunRequest Input { get; }
    public string RunId { get; }
    public DateTime StartedAt { get; }
    public Task<CancelRequest?> CancelTask { get; }
    public string Stage { get; private set; } = PipelineStages.Validating;
    public RetrySettings RetrySettings { get; }
    public TaskOptions ProviderRetry { get; }
    public TaskOptions StorageRetry { get; }
    public TaskOptions WebhookRetry { get; }
    public ValidationSummary? Validation { get; set; }
    public string? ReportBlob { get; set; }
    public JobSummary? Job { get; set; }
    public EvaluationSummary? Evaluation { get; set; }
    public PromotionSummary? Promotion { get; set; }
    public ApprovalDecision? Approval { get; set; }
    public List<string> Warnings { get; } = [];
    private JobSnapshot? _job;
    private ProgressMetrics? _metrics;
    private string? _message;

    /// <summary>Only transient failures are retried: a validation error or a 4xx from the provider fails at once.</summary>
    public static TaskOptions Retry(RetrySettings s) => TaskOptions.FromRetryPolicy(new RetryPolicy(
        s.Attempts, TimeSpan.FromSeconds(s.FirstIntervalSeconds), 2.0, TimeSpan.FromSeconds(Math.Max(s.FirstIntervalSeconds, s.MaxIntervalSeconds)))
    {
        HandleFailure = f => f.IsCausedBy<TransientPipelineException>(),
    });

    /// <summary>Records an ignored (malformed) event: in the run's warnings, and in its status until the next stage.</summary>
    public void Ignore(string warning)
    {
        Warnings.Add(warning);
        _message = warning;
        Publish(null, null);
    }

    public void SetStage(string stage, string? message = null)
    {
        Stage = stage;
        _message = message;
        Publish(null, null);
    }

    public void SetJob(JobSnapshot job, ProgressMetrics? metrics = null)
    {
        _job = job;
        _metrics = metrics ?? _metrics;
        Job = (Job ?? new JobSummary()) with
        {
            Id = job.Id,
            Status = job.StatusText,
            FineTunedModel = job.FineTunedModel,
            TrainedTokens = job.TrainedTokens,
            TrainingFileId = job.TrainingFileId ?? Job?.TrainingFileId,
            ValidationFileId = job.ValidationFileId ?? Job?.ValidationFileId,
            ErrorCode = job.ErrorCode,
            Error = job.ErrorMessage,
        };
        Publish(null, null);
    }

    public void SetFinal(string stage, string outcome, string? resultBlob, string? message)
    {
        Stage = stage;
        _message = message;
        Publish(outcome, resultBlob);
    }

    /// <summary>Ends the run as Cancelled when a <c>cancel</c> event has arrived (checked between stages).</summary>
    public void ThrowIfCancelled()
    {
        if (!CancelTask.IsCompleted) return;
        var request = CancelTask.IsCompletedSuccessfully ? CancelTask.Result : null;
        string who = request?.By is { Length: > 0 } by ? $" by {by}" : "";
        string why = request?.Reason is { Length: > 0 } reason ? $": {reason}" : "";
        string job = _job is null ? " No provider job had been created." : $" Provider job {_job.Id} is {_job.StatusText}.";
        throw new PipelineFailedException(PipelineOutcomes.Cancelled, $"Run cancelled{who}{why} during {Stage}.{job}");
    }

    public PipelineResult Result(string outcome, IReadOnlyList<string> reasons, bool promoted = false) => new()
    {
        RunId = RunId,
        Outcome = outcome,
        Promoted = promoted,
        Reasons = reasons,
        Warnings = [.. Warnings],
        Validation = Validation,
        Job = Job,
        Evaluation = Evaluation,
        Promotion = Promotion,
        StartedAt = StartedAt,
        CompletedAt = Context.CurrentUtcDateTime,
    };

    private void Publish(string? outcome, string? resultBlob) => Context.SetCustomStatus(new PipelineStatus
    {
        Stage = Stage,
        Message = _message,
        JobId = _job?.Id,
        JobStatus = _job?.StatusText,
        Step = _metrics?.Step,
        TotalSteps = _metrics?.TotalSteps,
        TrainLoss = _metrics?.TrainLoss,
        ValidLoss = _metrics?.ValidLoss,
        TrainedTokens = _job?.TrainedTokens,
        EstimatedCostUsd = Validation?.EstimatedCostUsd,
        EstimatedFinish = _job?.EstimatedFinish,
        ReportBlob = ReportBlob,
        Outcome = outcome,
        ResultBlob = resultBlob,
        UpdatedAt = Context.CurrentUtcDateTime,
    });
}

/// <summary>Promotion gates.</summary>
internal static class PipelineGates
{
    public static List<string> Check(GateSpec? gates, EvaluationSummary evaluation)
    {
        var reasons = new List<string>();
        var c = evaluation.Candidate;
        if (c is null)
        {
            reasons.Add("The candidate was not evaluated.");
            return reasons;
        }

        if (c.Cases > 0 && c.FailedCalls == c.Cases) reasons.Add($"Every evaluation call to {c.Model} failed.");
        if (gates is null) return reasons;
        if (gates.MinJsonValidRate is { } j && c.JsonValidRate < j) reasons.Add($"JSON validity {c.JsonValidRate:0.####} is below the minimum {j:0.####}.");
        if (gates.MinSchemaAdherence is { } s && (c.SchemaAdherence ?? 0) < s) reasons.Add($"Schema adherence {c.SchemaAdherence ?? 0:0.####} is below the minimum {s:0.####}.");
        if (gates.MinAccuracy is { } a && (c.Accuracy ?? 0) < a) reasons.Add($"Accuracy {c.Accuracy ?? 0:0.####} is below the minimum {a:0.####}.");
        if (gates.MinImprovementOverBaseline is { } imp)
        {
            var baseline = evaluation.Baseline;
            if (baseline?.Accuracy is not { } b)
            {
                reasons.Add("No baseline accuracy to compare with.");
            }
            else if (baseline.FailedCalls * 10 > baseline.Cases)
            {
                // A baseline that could not be called scores zero; a gain over it would promote any candidate.
                reasons.Add($"{baseline.FailedCalls} of {baseline.Cases} evaluation calls to the baseline {baseline.Model} failed (first: {baseline.FirstError}), "
                    + "so the gain over it cannot be measured; at most 10 % may fail.");
            }
            else
            {
                double gain = Math.Round((c.Accuracy ?? 0) - b, 4);
                if (gain < imp) reasons.Add($"Accuracy gain over the baseline {baseline.Model} is {gain:0.####} ({c.Accuracy ?? 0:0.####} vs {b:0.####}); the minimum is {imp:0.####}.");
            }
        }

        return reasons;
    }
}

/// <summary>
/// <c>FineTunePipeline_PollBatch</c>: up to <see cref="PollBatchInput.MaxPolls"/> polls of the job with durable timers between
/// them (back-off from the minimum to the maximum interval, sooner when the provider's estimated finish is near), returning
/// early on any status change so the parent can update its custom status. Its history stays bounded by the batch size.
/// </summary>
internal sealed class PollBatchOrchestrator : TaskOrchestrator<PollBatchInput, PollBatchResult>
{
    public override async Task<PollBatchResult> RunAsync(TaskOrchestrationContext context, PollBatchInput input)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(input);
        var retry = RunState.Retry(input.Retry);
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
                    var untilFinish = finish.UtcDateTime - now;
                    if (untilFinish > TimeSpan.Zero && untilFinish < wait) wait = TimeSpan.FromSeconds(Math.Max(input.MinIntervalSeconds, untilFinish.TotalSeconds));
                }

                if (now + wait > input.Deadline) wait = input.Deadline - now;
                await context.CreateTimer(now + wait, CancellationToken.None);
            }

            ProgressOutput progress;
            try
            {
                progress = await context.CallActivityAsync<ProgressOutput>(PipelineActivityNames.GetJobProgress, new ProgressInput(input.JobId, lastEvent), retry);
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
