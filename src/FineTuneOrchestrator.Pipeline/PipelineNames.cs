namespace FineTuneOrchestrator.Pipeline;

/// <summary>Names of the pipeline's orchestrations and external events (stable: HTTP routes and operators use them).</summary>
public static class PipelineNames
{
    /// <summary>The longest instance ID the Azure Storage backend accepts (a run id, and the clean-up id derived from it, stay within it).</summary>
    public const int MaxInstanceIdLength = 256;

    /// <summary>The pipeline orchestration.</summary>
    public const string Orchestrator = "FineTunePipeline";

    /// <summary>The sub-orchestration that polls the provider job for one bounded batch of polls.</summary>
    public const string PollBatchOrchestrator = "FineTunePipeline_PollBatch";

    /// <summary>
    /// The orchestration that cleans up after a run ended from outside (terminated): cancels its unfinished provider jobs
    /// and removes its evaluation deployment. See <see cref="PipelineCleanup"/>.
    /// </summary>
    public const string CleanupOrchestrator = "FineTunePipeline_Cleanup";

    /// <summary>
    /// The orchestration that watches for terminated runs while any run is active (one instance, <see cref="RunWatchInstanceId"/>).
    /// See <see cref="RunWatch"/>.
    /// </summary>
    public const string RunWatchOrchestrator = "FineTunePipeline_RunWatch";

    /// <summary>The one instance of <see cref="RunWatchOrchestrator"/> per task hub.</summary>
    public const string RunWatchInstanceId = "fine-tune-run-watch";

    /// <summary>External event carrying an <see cref="ApprovalDecision"/>.</summary>
    public const string ApprovalEvent = "approval";

    /// <summary>External event carrying a <see cref="CancelRequest"/> (payload optional): cancels the provider job and ends the run.</summary>
    public const string CancelEvent = "cancel";
}
