using System.Text.Json;
using FineTuneOrchestrator.Api.Durable;
using FineTuneOrchestrator.Pipeline;
using Microsoft.DurableTask.Client;

namespace FineTuneOrchestrator.Api.Pipelines;

/// <summary>The provider job as far as the run has seen it.</summary>
/// <param name="Id">Job id.</param>
/// <param name="Status">Provider status text (<c>running</c>, <c>succeeded</c>, ...).</param>
/// <param name="Step">Latest training step.</param>
/// <param name="TotalSteps">Total steps, when known.</param>
/// <param name="TrainLoss">Latest training loss.</param>
/// <param name="ValidLoss">Latest validation loss.</param>
/// <param name="TrainedTokens">Trained tokens, once known.</param>
/// <param name="EstimatedFinish">The provider's estimated finish.</param>
/// <param name="FineTunedModel">The fine-tuned model, once succeeded.</param>
/// <param name="Error">Error code and message of a failed job.</param>
public sealed record RunJobView(
    string? Id,
    string? Status,
    int? Step,
    int? TotalSteps,
    double? TrainLoss,
    double? ValidLoss,
    long? TrainedTokens,
    DateTimeOffset? EstimatedFinish,
    string? FineTunedModel,
    string? Error);

/// <summary>
/// One run, for people and release pipelines: where it is (stage, job progress), what it found (validation, evaluation)
/// and how it ended (outcome, promotion, reasons), read from the orchestration's custom status and output.
/// </summary>
/// <param name="RunId">The run (= instance) id.</param>
/// <param name="RuntimeStatus">The orchestration status (Running, Completed, Failed, Terminated, ...).</param>
/// <param name="Stage">The pipeline stage (<see cref="PipelineStages"/>).</param>
/// <param name="Message">Detail of the stage.</param>
/// <param name="Outcome">How it ended (<see cref="PipelineOutcomes"/>), once ended.</param>
/// <param name="Promoted">Whether the alias now points to the fine-tuned model.</param>
/// <param name="Reasons">Why it ended as it did (gates, rejection, ...).</param>
/// <param name="Warnings">Things to look at that did not change the outcome (e.g. an evaluation deployment left behind).</param>
/// <param name="Failure">The failure message of a failed or terminated run.</param>
/// <param name="Dataset">Dataset name (or training blob).</param>
/// <param name="DatasetVersion">The dataset version (ETag) the run is pinned to.</param>
/// <param name="BaseModel">The base model.</param>
/// <param name="Alias">The alias the run promotes.</param>
/// <param name="ApprovalRequired">Whether promotion waits for an approval.</param>
/// <param name="Job">Provider job and training progress.</param>
/// <param name="Cost">Estimated and actual cost, as far as known.</param>
/// <param name="Validation">Dataset validation.</param>
/// <param name="Evaluation">Evaluation metrics.</param>
/// <param name="Promotion">The promotion.</param>
/// <param name="ReportBlob">Validation report location.</param>
/// <param name="ResultBlob">Where the run's result JSON is stored.</param>
/// <param name="CreatedTime">When the run was created.</param>
/// <param name="LastUpdatedTime">Last status change.</param>
/// <param name="Links">Durable Functions management links (status, raise event, terminate, ...).</param>
/// <param name="Lineage">Where a fine-tuned base model came from (continuous fine-tuning), when it is one.</param>
/// <param name="TrainingType">The Azure OpenAI training type asked for, if any.</param>
public sealed record RunSummary(
    string RunId,
    string RuntimeStatus,
    string? Stage,
    string? Message,
    string? Outcome,
    bool? Promoted,
    IReadOnlyList<string>? Reasons,
    IReadOnlyList<string>? Warnings,
    string? Failure,
    string? Dataset,
    string? DatasetVersion,
    string? BaseModel,
    string? Alias,
    bool? ApprovalRequired,
    RunJobView? Job,
    RunCostView? Cost,
    ValidationSummary? Validation,
    EvaluationSummary? Evaluation,
    PromotionSummary? Promotion,
    string? ReportBlob,
    string? ResultBlob,
    string CreatedTime,
    string LastUpdatedTime,
    HttpManagementPayload? Links,
    LineageSpec? Lineage = null,
    string? TrainingType = null)
{
    /// <summary>Builds the summary of a <c>FineTunePipeline</c> instance read with inputs and outputs.</summary>
    public static RunSummary From(OrchestrationMetadata instance, HttpManagementPayload? links)
    {
        PipelineStatus? status = TryRead<PipelineStatus>(instance.SerializedCustomStatus);
        PipelineResult? result = instance.RuntimeStatus == OrchestrationRuntimeStatus.Completed ? TryRead<PipelineResult>(instance.SerializedOutput) : null;
        PipelineRunRequest? input = TryRead<PipelineRunRequest>(instance.SerializedInput);

        string? failure = instance.RuntimeStatus switch
        {
            OrchestrationRuntimeStatus.Failed => instance.FailureDetails?.ErrorMessage ?? instance.SerializedOutput,
            OrchestrationRuntimeStatus.Terminated => instance.SerializedOutput is { Length: > 0 } reason ? $"Terminated: {reason}" : "Terminated",
            _ => null,
        };

        string? outcome = result?.Outcome ?? status?.Outcome;
        if (outcome is null && instance.RuntimeStatus == OrchestrationRuntimeStatus.Failed && failure is not null)
        {
            // The orchestration fails with "{Outcome}: {detail}" (PipelineFailedException).
            int colon = failure.IndexOf(':', StringComparison.Ordinal);
            string head = colon > 0 ? failure[..colon] : string.Empty;
            outcome = typeof(PipelineOutcomes).GetFields().Any(f => (string?)f.GetRawConstantValue() == head) ? head : PipelineOutcomes.Failed;
        }
        else if (outcome is null && instance.RuntimeStatus == OrchestrationRuntimeStatus.Terminated)
        {
            outcome = "Terminated";
        }

        RunJobView? job = null;
        if (status?.JobId is not null || result?.Job is not null)
        {
            JobSummary? final = result?.Job;
            job = new RunJobView(
                final?.Id ?? status?.JobId,
                final?.Status ?? status?.JobStatus,
                status?.Step,
                status?.TotalSteps,
                status?.TrainLoss,
                status?.ValidLoss,
                final?.TrainedTokens ?? status?.TrainedTokens,
                status?.EstimatedFinish,
                final?.FineTunedModel,
                final?.Error is null ? null : $"{final.ErrorCode}: {final.Error}");
        }

        return new RunSummary(
            RunId: instance.InstanceId,
            RuntimeStatus: instance.RuntimeStatus.ToString(),
            Stage: status?.Stage ?? (instance.RuntimeStatus == OrchestrationRuntimeStatus.Pending ? "Pending" : null),
            Message: status?.Message,
            Outcome: outcome,
            Promoted: result?.Promoted,
            Reasons: result?.Reasons is { Count: > 0 } reasons ? reasons : null,
            Warnings: result?.Warnings is { Count: > 0 } warnings ? warnings : null,
            Failure: failure,
            Dataset: input?.Dataset?.Name ?? input?.Dataset?.TrainBlob,
            DatasetVersion: input?.Dataset?.Version,
            BaseModel: input?.BaseModel,
            Alias: input?.Alias,
            ApprovalRequired: input?.Approval?.Required,
            Job: job,
            Cost: RunCostView.From(input?.CatalogModel, status?.EstimatedCostUsd ?? result?.Validation?.EstimatedCostUsd, job?.TrainedTokens, result?.Evaluation),
            Validation: result?.Validation,
            Evaluation: result?.Evaluation,
            Promotion: result?.Promotion,
            ReportBlob: result?.Validation?.ReportBlob ?? status?.ReportBlob,
            ResultBlob: status?.ResultBlob,
            CreatedTime: InstanceStatusJson.FormatTime(instance.CreatedAt.UtcDateTime),
            LastUpdatedTime: InstanceStatusJson.FormatTime(instance.LastUpdatedAt.UtcDateTime),
            Links: links,
            Lineage: input?.Lineage,
            TrainingType: input?.TrainingType);
    }

    private static T? TryRead<T>(string? json) where T : class
    {
        if (string.IsNullOrEmpty(json))
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize<T>(json, PipelineJson.Default);
        }
        catch (JsonException)
        {
            return null; // an older or foreign payload: show what else is known
        }
        catch (NotSupportedException)
        {
            return null;
        }
    }
}
