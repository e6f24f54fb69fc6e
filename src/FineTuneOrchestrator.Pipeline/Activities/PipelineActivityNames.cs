
namespace FineTuneOrchestrator.Pipeline;

/// <summary>Activity names (registered by <see cref="PipelineTasks"/>; they double as Azure Functions function names).</summary>
public static class PipelineActivityNames
{
    /// <summary>Validates the dataset and writes the report.</summary>
    public const string ValidateDataset = "FineTunePipeline_ValidateDataset";

    /// <summary>Writes normalized, content-addressed copies to the staging container.</summary>
    public const string StageDataset = "FineTunePipeline_StageDataset";

    /// <summary>Uploads a staged file to the provider (once per content and provider kind) and waits until processed.</summary>
    public const string UploadFile = "FineTunePipeline_UploadFile";

    /// <summary>Creates the provider job exactly once for the run.</summary>
    public const string CreateJob = "FineTunePipeline_CreateJob";

    /// <summary>Reads the job and its new events.</summary>
    public const string GetJobProgress = "FineTunePipeline_GetJobProgress";

    /// <summary>Cancels the provider job.</summary>
    public const string CancelJob = "FineTunePipeline_CancelJob";

    /// <summary>Makes a model callable (Azure: a deployment).</summary>
    public const string EnsureModelAvailable = "FineTunePipeline_EnsureModelAvailable";

    /// <summary>Starts the clean-up of terminated runs that have none, and counts the runs still active (for <see cref="RunWatch"/>).</summary>
    public const string SweepTerminatedRuns = "FineTunePipeline_SweepTerminatedRuns";

    /// <summary>Removes a deployment that is no longer needed (Azure: the evaluation deployment; OpenAI: nothing).</summary>
    public const string RemoveDeployment = "FineTunePipeline_RemoveDeployment";

    /// <summary>Cancels every unfinished provider job tagged with a run id (the clean-up after a terminated run).</summary>
    public const string CancelRunJobs = "FineTunePipeline_CancelRunJobs";

    /// <summary>Finds the baseline model (the alias's current model, else the base model).</summary>
    public const string ResolveBaseline = "FineTunePipeline_ResolveBaseline";

    /// <summary>Lists the job's models to evaluate: the final model and the checkpoints before it.</summary>
    public const string ListCandidates = "FineTunePipeline_ListCandidates";

    /// <summary>Cuts the held-out set into chunks of cases.</summary>
    public const string PrepareEvaluation = "FineTunePipeline_PrepareEvaluation";

    /// <summary>Evaluates one model on one chunk of cases.</summary>
    public const string EvaluateChunk = "FineTunePipeline_EvaluateChunk";

    /// <summary>Computes metrics and writes the per-case results and the summary.</summary>
    public const string SummarizeEvaluation = "FineTunePipeline_SummarizeEvaluation";

    /// <summary>Promotes the alias.</summary>
    public const string Promote = "FineTunePipeline_Promote";

    /// <summary>Posts the run summary to the webhook.</summary>
    public const string Notify = "FineTunePipeline_Notify";

    /// <summary>Writes the run result blob.</summary>
    public const string WriteResult = "FineTunePipeline_WriteResult";
}
