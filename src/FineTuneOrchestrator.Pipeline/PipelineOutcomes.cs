namespace FineTuneOrchestrator.Pipeline;

/// <summary>Final outcomes of a run (<see cref="PipelineResult.Outcome"/>).</summary>
public static class PipelineOutcomes
{
    /// <summary>The fine-tuned model passed the gates (and approval) and the alias now points to it.</summary>
    public const string Promoted = "Promoted";

    /// <summary>Training and evaluation finished but the gates refused the model (or no alias was configured).</summary>
    public const string NotPromoted = "NotPromoted";

    /// <summary>The dataset failed validation (the orchestration fails; the report is stored next to the dataset).</summary>
    public const string ValidationFailed = "ValidationFailed";

    /// <summary>The estimated training cost is over <see cref="BudgetSpec.MaxCostUsd"/> (the orchestration fails).</summary>
    public const string BudgetExceeded = "BudgetExceeded";

    /// <summary>The provider job failed (the orchestration fails).</summary>
    public const string JobFailed = "JobFailed";

    /// <summary>A <c>cancel</c> event ended the run; the provider job was cancelled.</summary>
    public const string Cancelled = "Cancelled";

    /// <summary>An approver rejected the model.</summary>
    public const string Rejected = "Rejected";

    /// <summary>No approval decision arrived in time.</summary>
    public const string ApprovalTimedOut = "ApprovalTimedOut";

    /// <summary>The job did not finish before <see cref="PollingSpec.DeadlineHours"/>; it was cancelled (the orchestration fails).</summary>
    public const string DeadlineExceeded = "DeadlineExceeded";

    /// <summary>An unexpected error (storage, provider, configuration) ended the run; the message says which stage.</summary>
    public const string Failed = "Failed";
}
