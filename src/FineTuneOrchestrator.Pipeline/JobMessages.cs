using FineTuneOrchestrator.Providers;

namespace FineTuneOrchestrator.Pipeline;

// Payloads between the orchestrations and the job activities (progress, the poll batch, retries). Public so that the
// Functions app's trigger functions can name them in their signatures.

/// <summary>A provider job's state, trimmed for the orchestration.</summary>
public sealed record JobSnapshot(
    string Id,
    ProviderJobStatus Status,
    string StatusText,
    string? FineTunedModel,
    long? TrainedTokens,
    DateTimeOffset? EstimatedFinish,
    string? ErrorCode,
    string? ErrorMessage,
    string? TrainingFileId,
    string? ValidationFileId)
{
    /// <summary>True once the job has succeeded, failed or been cancelled.</summary>
    public bool IsTerminal => Status is ProviderJobStatus.Succeeded or ProviderJobStatus.Failed or ProviderJobStatus.Cancelled;

    /// <summary>The snapshot of a provider job.</summary>
    public static JobSnapshot From(ProviderJob job) => new(
        job.Id, job.Status, job.StatusText, job.FineTunedModel, job.TrainedTokens, job.EstimatedFinish,
        job.Error?.Code, job.Error?.Message, job.TrainingFileId, job.ValidationFileId);
}

/// <summary>Latest training metrics seen.</summary>
public sealed record ProgressMetrics(int? Step, int? TotalSteps, double? TrainLoss, double? ValidLoss)
{
    /// <summary>These metrics updated with every value <paramref name="newer"/> has.</summary>
    public ProgressMetrics Merge(ProgressMetrics? newer) => newer is null ? this : new(
        newer.Step ?? Step, newer.TotalSteps ?? TotalSteps, newer.TrainLoss ?? TrainLoss, newer.ValidLoss ?? ValidLoss);
}

/// <summary>Input of the poll activity.</summary>
public sealed record ProgressInput(string JobId, string? AfterEventId);

/// <summary>Result of one poll.</summary>
public sealed record ProgressOutput(JobSnapshot Job, ProgressMetrics? Metrics, string? LastEventId);

/// <summary>Input of the poll sub-orchestration.</summary>
public sealed record PollBatchInput(
    string JobId,
    string? LastEventId,
    string? LastStatusText,
    double IntervalSeconds,
    double MinIntervalSeconds,
    double MaxIntervalSeconds,
    DateTime Deadline,
    int MaxPolls,
    bool PollImmediately,
    RetrySettings Retry);

/// <summary>Result of a poll batch.</summary>
public sealed record PollBatchResult(JobSnapshot? Job, ProgressMetrics? Metrics, string? LastEventId, double NextIntervalSeconds, bool DeadlinePassed);

/// <summary>Retry settings passed to the sub-orchestration (it has no DI).</summary>
public sealed record RetrySettings(int Attempts, double FirstIntervalSeconds, double MaxIntervalSeconds)
{
    /// <summary>The retries of provider calls configured in <see cref="PipelineOptions"/>.</summary>
    public static RetrySettings ForProvider(PipelineOptions options) =>
        new(options.ProviderRetryAttempts, options.ProviderRetryFirstInterval.TotalSeconds, options.ProviderRetryMaxInterval.TotalSeconds);
}
