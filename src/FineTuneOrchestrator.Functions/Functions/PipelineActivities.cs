using FineTuneOrchestrator.Pipeline;
using FineTuneOrchestrator.Providers;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;

namespace FineTuneOrchestrator.Functions;

/// <summary>
/// The pipeline's activities as activity functions, each one line into the pipeline's activity class (written by hand,
/// held to <see cref="PipelineTasks.Activities"/> by a test: same names, same input and output types).
/// </summary>
public sealed class PipelineActivities
{
    /// <summary>Validates the dataset and writes the report.</summary>
    [Function(ValidateDatasetActivity.Name)]
    public Task<ValidateOutput> ValidateDataset([ActivityTrigger] ValidateInput input, FunctionContext function) =>
        ActivityInvoker.RunAsync<ValidateDatasetActivity, ValidateInput, ValidateOutput>(function, ValidateDatasetActivity.Name, input);

    /// <summary>Stages normalized, content-addressed copies.</summary>
    [Function(StageDatasetActivity.Name)]
    public Task<StageOutput> StageDataset([ActivityTrigger] StageInput input, FunctionContext function) =>
        ActivityInvoker.RunAsync<StageDatasetActivity, StageInput, StageOutput>(function, StageDatasetActivity.Name, input);

    /// <summary>Uploads a staged file to the provider once.</summary>
    [Function(UploadFileActivity.Name)]
    public Task<string> UploadFile([ActivityTrigger] UploadInput input, FunctionContext function) =>
        ActivityInvoker.RunAsync<UploadFileActivity, UploadInput, string>(function, UploadFileActivity.Name, input);

    /// <summary>Creates the provider job exactly once (refused for a terminated run).</summary>
    [Function(CreateJobActivity.Name)]
    public Task<JobSnapshot> CreateJob([ActivityTrigger] JobRequest input, [DurableClient] DurableTaskClient client, FunctionContext function) =>
        ActivityInvoker.RunAsync<CreateJobActivity, JobRequest, JobSnapshot>(function, CreateJobActivity.Name, input, client);

    /// <summary>Reads the job and its new events.</summary>
    [Function(GetJobProgressActivity.Name)]
    public Task<ProgressOutput> GetJobProgress([ActivityTrigger] ProgressInput input, FunctionContext function) =>
        ActivityInvoker.RunAsync<GetJobProgressActivity, ProgressInput, ProgressOutput>(function, GetJobProgressActivity.Name, input);

    /// <summary>Cancels the provider job.</summary>
    [Function(CancelJobActivity.Name)]
    public Task<JobSnapshot> CancelJob([ActivityTrigger] string input, FunctionContext function) =>
        ActivityInvoker.RunAsync<CancelJobActivity, string, JobSnapshot>(function, CancelJobActivity.Name, input);

    /// <summary>Makes a model callable (Azure: a deployment; refused for a terminated run).</summary>
    [Function(EnsureModelAvailableActivity.Name)]
    public Task<string> EnsureModelAvailable([ActivityTrigger] EnsureModelInput input, [DurableClient] DurableTaskClient client, FunctionContext function) =>
        ActivityInvoker.RunAsync<EnsureModelAvailableActivity, EnsureModelInput, string>(function, EnsureModelAvailableActivity.Name, input, client);

    /// <summary>Removes a deployment no longer needed.</summary>
    [Function(RemoveDeploymentActivity.Name)]
    public Task<bool> RemoveDeployment([ActivityTrigger] string input, FunctionContext function) =>
        ActivityInvoker.RunAsync<RemoveDeploymentActivity, string, bool>(function, RemoveDeploymentActivity.Name, input);

    /// <summary>Cancels the unfinished jobs of a run.</summary>
    [Function(CancelRunJobsActivity.Name)]
    public Task<IReadOnlyList<string>> CancelRunJobs([ActivityTrigger] string input, FunctionContext function) =>
        ActivityInvoker.RunAsync<CancelRunJobsActivity, string, IReadOnlyList<string>>(function, CancelRunJobsActivity.Name, input);

    /// <summary>Starts the clean-up of runs terminated from outside and tells whether runs are active (the run watch).</summary>
    [Function(SweepTerminatedRunsActivity.Name)]
    public Task<RunWatchSweep> SweepTerminatedRuns([ActivityTrigger] RunWatchSweepInput input, [DurableClient] DurableTaskClient client, FunctionContext function) =>
        ActivityInvoker.RunAsync<SweepTerminatedRunsActivity, RunWatchSweepInput, RunWatchSweep>(function, SweepTerminatedRunsActivity.Name, input, client);

    /// <summary>Finds the baseline model.</summary>
    [Function(ResolveBaselineActivity.Name)]
    public Task<BaselineOutput> ResolveBaseline([ActivityTrigger] BaselineInput input, FunctionContext function) =>
        ActivityInvoker.RunAsync<ResolveBaselineActivity, BaselineInput, BaselineOutput>(function, ResolveBaselineActivity.Name, input);

    /// <summary>Lists the job's models to evaluate (the final model and checkpoints before it).</summary>
    [Function(ListCandidatesActivity.Name)]
    public Task<IReadOnlyList<CandidateModel>> ListCandidates([ActivityTrigger] ListCandidatesInput input, FunctionContext function) =>
        ActivityInvoker.RunAsync<ListCandidatesActivity, ListCandidatesInput, IReadOnlyList<CandidateModel>>(function, ListCandidatesActivity.Name, input);

    /// <summary>Cuts the held-out set into chunks.</summary>
    [Function(PrepareEvaluationActivity.Name)]
    public Task<PrepareEvaluationOutput> PrepareEvaluation([ActivityTrigger] PrepareEvaluationInput input, FunctionContext function) =>
        ActivityInvoker.RunAsync<PrepareEvaluationActivity, PrepareEvaluationInput, PrepareEvaluationOutput>(function, PrepareEvaluationActivity.Name, input);

    /// <summary>Evaluates one model on one chunk.</summary>
    [Function(EvaluateChunkActivity.Name)]
    public Task<int> EvaluateChunk([ActivityTrigger] EvaluateChunkInput input, FunctionContext function) =>
        ActivityInvoker.RunAsync<EvaluateChunkActivity, EvaluateChunkInput, int>(function, EvaluateChunkActivity.Name, input);

    /// <summary>Computes the evaluation metrics.</summary>
    [Function(SummarizeEvaluationActivity.Name)]
    public Task<EvaluationSummary> SummarizeEvaluation([ActivityTrigger] SummarizeInput input, FunctionContext function) =>
        ActivityInvoker.RunAsync<SummarizeEvaluationActivity, SummarizeInput, EvaluationSummary>(function, SummarizeEvaluationActivity.Name, input);

    /// <summary>Promotes the alias.</summary>
    [Function(PromoteActivity.Name)]
    public Task<PromotionSummary> Promote([ActivityTrigger] PromoteInput input, FunctionContext function) =>
        ActivityInvoker.RunAsync<PromoteActivity, PromoteInput, PromotionSummary>(function, PromoteActivity.Name, input);

    /// <summary>Posts the run summary to the webhook.</summary>
    [Function(NotifyActivity.Name)]
    public Task<bool> Notify([ActivityTrigger] NotifyInput input, FunctionContext function) =>
        ActivityInvoker.RunAsync<NotifyActivity, NotifyInput, bool>(function, NotifyActivity.Name, input);

    /// <summary>Writes the run result blob.</summary>
    [Function(WriteResultActivity.Name)]
    public Task<string> WriteResult([ActivityTrigger] WriteResultInput input, FunctionContext function) =>
        ActivityInvoker.RunAsync<WriteResultActivity, WriteResultInput, string>(function, WriteResultActivity.Name, input);
}
