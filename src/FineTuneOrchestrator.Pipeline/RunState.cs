using Microsoft.DurableTask;

namespace FineTuneOrchestrator.Pipeline;

/// <summary>What the orchestration has learned so far, and its custom status. Lives only in orchestrator memory (rebuilt by replay).</summary>
internal sealed class RunState
{
    public RunState(TaskOrchestrationContext context, PipelineRunRequest input, RunSettings settings)
    {
        Context = context;
        Input = input;
        // The instance id is the run id (and the provider's idempotency key): an input naming another run (a restart or a copy
        // under a new id) is refused by the orchestrator, and its files are written under this instance's id, never the other's.
        RunId = context.InstanceId;
        StartedAt = context.CurrentUtcDateTime;
        CancelTask = PipelineEvents.NextCancelAsync(context, Ignore);
        Settings = settings;
        Log = context.CreateReplaySafeLogger(typeof(FineTunePipelineOrchestrator).FullName!);
        RetrySettings = settings.ProviderRetry;
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

    /// <summary>The orchestration's replay-safe logger (<see cref="PipelineLog"/>): a line per milestone, not per replay.</summary>
    public Microsoft.Extensions.Logging.ILogger Log { get; }

    /// <summary>The settings the run was started with (its input), never the live options: a replay must take the same path.</summary>
    public RunSettings Settings { get; }
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
        CancelRequest? request = CancelTask.IsCompletedSuccessfully ? CancelTask.Result : null;
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
