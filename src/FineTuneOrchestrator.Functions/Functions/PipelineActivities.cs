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
    [Function(PipelineActivityNames.ValidateDataset)]
    public Task<ValidateOutput> ValidateDataset([ActivityTrigger] ValidateInput input, FunctionContext function) =>
        ActivityInvoker.RunAsync<ValidateDatasetActivity, ValidateInput, ValidateOutput>(function, PipelineActivityNames.ValidateDataset, input);

    /// <summary>Stages normalized, content-addressed copies.</summary>
    [Function(PipelineActivityNames.StageDataset)]
    public Task<StageOutput> StageDataset([ActivityTrigger] StageInput input, FunctionContext function) =>
        ActivityInvoker.RunAsync<StageDatasetActivity, StageInput, StageOutput>(function, PipelineActivityNames.StageDataset, input);

    /// <summary>Uploads a staged file to the provider once.</summary>
    [Function(PipelineActivityNames.UploadFile)]
    public Task<string> UploadFile([ActivityTrigger] UploadInput input, FunctionContext function) =>
        ActivityInvoker.RunAsync<UploadFileActivity, UploadInput, string>(function, PipelineActivityNames.UploadFile, input);

    /// <summary>Creates the provider job exactly once (refused for a terminated run).</summary>
    [Function(PipelineActivityNames.CreateJob)]
    public Task<JobSnapshot> CreateJob([ActivityTrigger] JobRequest input, [DurableClient] DurableTaskClient client, FunctionContext function) =>
        ActivityInvoker.RunAsync<CreateJobActivity, JobRequest, JobSnapshot>(function, PipelineActivityNames.CreateJob, input, client);

    /// <summary>Reads the job and its new events.</summary>
    [Function(PipelineActivityNames.GetJobProgress)]
    public Task<ProgressOutput> GetJobProgress([ActivityTrigger] ProgressInput input, FunctionContext function) =>
        ActivityInvoker.RunAsync<GetJobProgressActivity, ProgressInput, ProgressOutput>(function, PipelineActivityNames.GetJobProgress, input);

    /// <summary>Cancels the provider job.</summary>
    [Function(PipelineActivityNames.CancelJob)]
    public Task<JobSnapshot> CancelJob([ActivityTrigger] string input, FunctionContext function) =>
        ActivityInvoker.RunAsync<CancelJobActivity, string, JobSnapshot>(function, PipelineActivityNames.CancelJob, input);

    /// <summary>Makes a model callable (Azure: a deployment; refused for a terminated run).</summary>
    [Function(PipelineActivityNames.EnsureModelAvailable)]
    public Task<string> EnsureModelAvailable([ActivityTrigger] EnsureModelInput input, [DurableClient] DurableTaskClient client, FunctionContext function) =>
        ActivityInvoker.RunAsync<EnsureModelAvailableActivity, EnsureModelInput, string>(function, PipelineActivityNames.EnsureModelAvailable, input, client);

    /// <summary>Removes a deployment no longer needed.</summary>
    [Function(PipelineActivityNames.RemoveDeployment)]
    public Task<bool> RemoveDeployment([ActivityTrigger] string input, FunctionContext function) =>
        ActivityInvoker.RunAsync<RemoveDeploymentActivity, string, bool>(function, PipelineActivityNames.RemoveDeployment, input);

    /// <summary>Cancels the unfinished jobs of a run.</summary>
    [Function(PipelineActivityNames.CancelRunJobs)]
    public Task<IReadOnlyList<string>> CancelRunJobs([ActivityTrigger] string input, FunctionContext function) =>
        ActivityInvoker.RunAsync<CancelRunJobsActivity, string, IReadOnlyList<string>>(function, PipelineActivityNames.CancelRunJobs, input);

    /// <summary>Starts the clean-up of runs terminated from outside and tells whether runs are active (the run watch).</summary>
    [Function(PipelineActivityNames.SweepTerminatedRuns)]
    public Task<RunWatchSweep> SweepTerminatedRuns([ActivityTrigger] RunWatchSweepInput input, [DurableClient] DurableTaskClient client, FunctionContext function) =>
        ActivityInvoker.RunAsync<SweepTerminatedRunsActivity, RunWatchSweepInput, RunWatchSweep>(function, PipelineActivityNames.SweepTerminatedRuns, input, client);

    /// <summary>Finds the baseline model.</summary>
    [Function(PipelineActivityNames.ResolveBaseline)]
    public Task<BaselineOutput> ResolveBaseline([ActivityTrigger] BaselineInput input, FunctionContext function) =>
        ActivityInvoker.RunAsync<ResolveBaselineActivity, BaselineInput, BaselineOutput>(function, PipelineActivityNames.ResolveBaseline, input);

    /// <summary>Lists the job's models to evaluate (the final model and checkpoints before it).</summary>
    [Function(PipelineActivityNames.ListCandidates)]
    public Task<IReadOnlyList<CandidateModel>> ListCandidates([ActivityTrigger] ListCandidatesInput input, FunctionContext function) =>
        ActivityInvoker.RunAsync<ListCandidatesActivity, ListCandidatesInput, IReadOnlyList<CandidateModel>>(function, PipelineActivityNames.ListCandidates, input);

    /// <summary>Cuts the held-out set into chunks.</summary>
    [Function(PipelineActivityNames.PrepareEvaluation)]
    public Task<PrepareEvaluationOutput> PrepareEvaluation([ActivityTrigger] PrepareEvaluationInput input, FunctionContext function) =>
        ActivityInvoker.RunAsync<PrepareEvaluationActivity, PrepareEvaluationInput, PrepareEvaluationOutput>(function, PipelineActivityNames.PrepareEvaluation, input);

    /// <summary>Evaluates one model on one chunk.</summary>
    [Function(PipelineActivityNames.EvaluateChunk)]
    public Task<int> EvaluateChunk([ActivityTrigger] EvaluateChunkInput input, FunctionContext function) =>
        ActivityInvoker.RunAsync<EvaluateChunkActivity, EvaluateChunkInput, int>(function, PipelineActivityNames.EvaluateChunk, input);

    /// <summary>Computes the evaluation metrics.</summary>
    [Function(PipelineActivityNames.SummarizeEvaluation)]
    public Task<EvaluationSummary> SummarizeEvaluation([ActivityTrigger] SummarizeInput input, FunctionContext function) =>
        ActivityInvoker.RunAsync<SummarizeEvaluationActivity, SummarizeInput, EvaluationSummary>(function, PipelineActivityNames.SummarizeEvaluation, input);

    /// <summary>Promotes the alias.</summary>
    [Function(PipelineActivityNames.Promote)]
    public Task<PromotionSummary> Promote([ActivityTrigger] PromoteInput input, FunctionContext function) =>
        ActivityInvoker.RunAsync<PromoteActivity, PromoteInput, PromotionSummary>(function, PipelineActivityNames.Promote, input);

    /// <summary>Posts the run summary to the webhook.</summary>
    [Function(PipelineActivityNames.Notify)]
    public Task<bool> Notify([ActivityTrigger] NotifyInput input, FunctionContext function) =>
        ActivityInvoker.RunAsync<NotifyActivity, NotifyInput, bool>(function, PipelineActivityNames.Notify, input);

    /// <summary>Writes the run result blob.</summary>
    [Function(PipelineActivityNames.WriteResult)]
    public Task<string> WriteResult([ActivityTrigger] WriteResultInput input, FunctionContext function) =>
        ActivityInvoker.RunAsync<WriteResultActivity, WriteResultInput, string>(function, PipelineActivityNames.WriteResult, input);
}
