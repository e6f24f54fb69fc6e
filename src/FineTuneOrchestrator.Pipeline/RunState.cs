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

    /// <summary>Held-out prompts found in the training data (from staging).</summary>
    public OverlapReport? Overlap { get; set; }

    /// <summary>The model the evaluation chose (the final model or a checkpoint); what is promoted.</summary>
    public string? ChosenModel { get; set; }
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

/// <summary>
/// Promotion gates. An inconclusive evaluation refuses on that alone (its scores measure the service). Otherwise every
/// configured threshold is checked, and whenever a baseline was compared, the significance gate (<see cref="GateSpec.MaxPValue"/>).
/// </summary>
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

        if (evaluation.Inconclusive is { } inconclusive)
        {
            reasons.Add(inconclusive);
            return reasons;
        }

        if (c.Cases > 0 && c.FailedCalls == c.Cases) reasons.Add($"Every evaluation call to {c.Model} failed.");
        var comparison = evaluation.Comparison;
        string metric = evaluation.PrimaryMetric ?? "accuracy";
        if (gates?.MinJsonValidRate is { } j && c.JsonValidRate < j) reasons.Add($"JSON validity {c.JsonValidRate:0.####} is below the minimum {j:0.####}.");
        if (gates?.MinSchemaAdherence is { } s && (c.SchemaAdherence ?? 0) < s) reasons.Add($"Schema adherence {c.SchemaAdherence ?? 0:0.####} is below the minimum {s:0.####}.");
        if (gates?.MinAccuracy is { } a && (c.Accuracy ?? 0) < a) reasons.Add($"Accuracy {c.Accuracy ?? 0:0.####} is below the minimum {a:0.####}.");
        if (gates?.MinScore is { } minScore && (c.PrimaryScore ?? 0) < minScore) reasons.Add($"{metric} {c.PrimaryScore ?? 0:0.####} is below the minimum {minScore:0.####}.");
        if (gates?.MinImprovementOverBaseline is { } imp)
        {
            var baseline = evaluation.Baseline;
            if (baseline is null || comparison is null)
            {
                reasons.Add($"No baseline {metric} to compare with.");
            }
            else if (comparison.Difference < imp)
            {
                reasons.Add($"The {metric} gain over the baseline {baseline.Model} is {comparison.Difference:0.####} ({comparison.Candidate:0.####} vs {comparison.Baseline:0.####} on {comparison.N} paired cases); the minimum is {imp:0.####}.");
            }
        }

        double maxP = gates?.MaxPValue ?? EvaluationPlan.DefaultMaxPValue;
        // A two-sided test: a small p with the candidate behind is a significant regression, refused all the more.
        if (comparison is not null && maxP < 1 && (comparison.Difference <= 0 || comparison.PValue > maxP))
        {
            reasons.Add(NotSignificant(comparison, maxP));
        }

        return reasons;
    }

    private static string NotSignificant(FineTuneOrchestrator.Evaluation.Comparison c, double maxP)
    {
        string test = c.Test == FineTuneOrchestrator.Evaluation.Comparison.McNemar ? "the exact McNemar test" : "a paired bootstrap";
        string interval = $"95 % interval [{c.Ci95[0]:+0.####;-0.####;0}, {c.Ci95[1]:+0.####;-0.####;0}]";
        if (c.Difference <= 0)
        {
            return $"The candidate is not better than the baseline on {c.Metric}: {c.Candidate:0.####} vs {c.Baseline:0.####} ({c.Difference:+0.####;-0.####;0}, {interval}, p = {c.PValue:0.####} by {test} on {c.N} paired cases).";
        }

        string more = c.CandidateOnly is { } b && c.BaselineOnly is { } d && c.N > 0
            ? $" About {EvaluationChecks.CasesToDetect(c.Difference, Math.Max(c.Difference, (b + d) / (double)c.N))} cases would show a real gain of this size."
            : "";
        return $"The improvement on {c.Metric} is not statistically significant: {c.Candidate:0.####} vs {c.Baseline:0.####} ({c.Difference:+0.####}, {interval}), p = {c.PValue:0.####} by {test} on {c.N} paired cases, above gates.maxPValue {maxP:0.####}. A gain this size on this many cases could be chance, so the candidate is not promoted.{more}";
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
