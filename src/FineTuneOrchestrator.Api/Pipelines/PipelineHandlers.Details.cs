using System.Globalization;
using System.Text.Json;
using Azure.Storage.Blobs;
using FineTuneOrchestrator.Api.Http;
using FineTuneOrchestrator.Pipeline;
using FineTuneOrchestrator.Providers;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Options;

namespace FineTuneOrchestrator.Api.Pipelines;

// The routes an operator's view of one run needs beyond its summary: the training curve, the stored evaluation with its
// worst cases, and the validation report. Read-only, function key, same refusals as the other run routes.
public static partial class PipelineHandlers
{
    private const int DefaultWorstCases = 10;
    private const int MaxWorstCases = 100;
    private const int MaxEventIdLength = 200;

    // The provider lists at most this many events per call; a longer job is followed with ?after= like any other.
    private const int MaxMetricEvents = 10_000;

    /// <summary>
    /// <c>GET /pipelines/{runId}/metrics[?after={eventId}]</c>: the job's training and validation loss per step, read from the
    /// provider's <c>metrics</c> events (<see cref="TrainingMetricsView"/>). Before the run has a job: no points.
    /// </summary>
    public static async Task<IResult> GetMetricsAsync(string runId, HttpRequest request, DurableTaskClient client, IFineTuningProvider provider, CancellationToken ct)
    {
        if (CheckRunId(runId) is { } bad)
        {
            return bad;
        }

        string? after = null;
        if (request.Query["after"] is { Count: > 0 } afterValues)
        {
            after = afterValues[0];
            if (afterValues.Count > 1 || string.IsNullOrWhiteSpace(after) || after.Length > MaxEventIdLength || after.Any(char.IsControl))
            {
                return Problems.BadRequest($"after must be one event id (at most {MaxEventIdLength} characters), the lastEventId of an earlier answer.", "after");
            }
        }

        (RunSummary? run, ProblemHttpResult? problem) = await FindRunAsync(client, runId, ct).ConfigureAwait(false);
        if (run is null)
        {
            return problem!;
        }

        if (run.Job?.Id is not { } jobId)
        {
            return TypedResults.Json(new TrainingMetricsView(runId, null, null, [], after), PipelineJson.Default);
        }

        try
        {
            IReadOnlyList<ProviderJobEvent> events = await provider.ListEventsAsync(jobId, after, MaxMetricEvents, ct).ConfigureAwait(false);
            return TypedResults.Json(TrainingMetricsView.From(runId, jobId, events, after), PipelineJson.Default);
        }
        catch (ProviderException ex)
        {
            // Status and error code only: the provider's own message may quote request data.
            string answered = ex.StatusCode is { } status ? $"answered {status}{(ex.ErrorCode is null ? "" : " " + ex.ErrorCode)}" : "could not be reached";
            return ex.IsRetryable || ex.StatusCode is null or >= 500
                ? Problems.Create(StatusCodes.Status503ServiceUnavailable, "The fine-tuning provider is unavailable", $"Reading the events of job {jobId}: the provider {answered}. Try again later.")
                : Problems.Create(StatusCodes.Status502BadGateway, "The fine-tuning provider refused the request", $"Reading the events of job {jobId}: the provider {answered}.");
        }
    }

    /// <summary>
    /// <c>GET /pipelines/{runId}/evaluation[?top=10]</c>: the stored evaluation summary (candidate and baseline) and the
    /// candidate's worst cases beside the baseline's answers (<see cref="EvaluationView"/>); no summary until evaluated.
    /// </summary>
    public static async Task<IResult> GetEvaluationAsync(string runId, HttpRequest request, DurableTaskClient client, BlobServiceClient storage, IOptions<PipelineOptions> pipeline, CancellationToken ct)
    {
        if (CheckRunId(runId) is { } bad)
        {
            return bad;
        }

        int top = DefaultWorstCases;
        if (request.Query["top"] is { Count: > 0 } topText && (topText.Count > 1 || !int.TryParse(topText[0], NumberStyles.None, CultureInfo.InvariantCulture, out top) || top is < 1 or > MaxWorstCases))
        {
            return Problems.BadRequest($"top is '{topText}'; use a whole number from 1 to {MaxWorstCases}.", "top");
        }

        (RunSummary? run, ProblemHttpResult? problem) = await FindRunAsync(client, runId, ct).ConfigureAwait(false);
        if (run is null)
        {
            return problem!;
        }

        try
        {
            EvaluationView view = await EvaluationDetails.ReadAsync(storage.GetBlobContainerClient(pipeline.Value.RunsContainer), runId, top, ct).ConfigureAwait(false);
            return TypedResults.Json(view, PipelineJson.Default);
        }
        catch (Exception ex) when (StorageFailures.Find(ex) is { } failure)
        {
            return RunStorageUnavailable(failure, "the evaluation");
        }
    }

    /// <summary>
    /// <c>GET /pipelines/{runId}/validation</c>: the validation report the run stored (every checked file with its counts,
    /// errors and warnings) and the run's validation summary once it ended (<see cref="ValidationView"/>).
    /// </summary>
    public static async Task<IResult> GetValidationAsync(string runId, DurableTaskClient client, BlobServiceClient storage, IOptions<PipelineOptions> pipeline, CancellationToken ct)
    {
        if (CheckRunId(runId) is { } bad)
        {
            return bad;
        }

        (RunSummary? run, ProblemHttpResult? problem) = await FindRunAsync(client, runId, ct).ConfigureAwait(false);
        if (run is null)
        {
            return problem!;
        }

        JsonElement? report = null;
        try
        {
            BlobClient blob = storage.GetBlobContainerClient(pipeline.Value.RunsContainer).GetBlobClient($"{runId}/validation-report.json");
            BinaryData content = (await blob.DownloadContentAsync(ct).ConfigureAwait(false)).Value.Content;
            using var doc = JsonDocument.Parse(content.ToMemory());
            report = doc.RootElement.Clone();
        }
        catch (Azure.RequestFailedException ex) when (ex.Status == StatusCodes.Status404NotFound)
        {
            // Not validated yet (or the run failed before validating): no report.
        }
        catch (JsonException)
        {
            return Problems.Create(StatusCodes.Status500InternalServerError, "The validation report is unreadable", $"The stored validation report of run '{runId}' is not JSON.");
        }
        catch (Exception ex) when (StorageFailures.Find(ex) is { } failure)
        {
            return RunStorageUnavailable(failure, "the validation report");
        }

        return TypedResults.Json(new ValidationView(runId, run.Validation, run.ReportBlob, report), PipelineJson.Default);
    }

    private static async Task<(RunSummary? Run, ProblemHttpResult? Problem)> FindRunAsync(DurableTaskClient client, string runId, CancellationToken ct)
    {
        OrchestrationMetadata? instance = await client.GetInstanceAsync(runId, getInputsAndOutputs: true, ct).ConfigureAwait(false);
        return instance is null || instance.Name != PipelineNames.Orchestrator
            ? (null, RunNotFound(runId))
            : (RunSummary.From(instance, links: null), null);
    }

    private static ProblemHttpResult RunStorageUnavailable(Azure.RequestFailedException ex, string what) =>
        Problems.Create(StatusCodes.Status503ServiceUnavailable, "The run storage is unavailable", ex.Status == 0
            ? $"The storage account could not be reached to read {what}. Try again later."
            : $"The storage account answered {ex.Status} while reading {what}. Try again later.");

    /// <summary>The answer of <c>GET /pipelines/{runId}/validation</c>.</summary>
    /// <param name="RunId">The run.</param>
    /// <param name="Summary">The validation summary, once the run has ended.</param>
    /// <param name="ReportBlob">Where the report is kept next to the dataset (<c>{container}/{blob}</c>).</param>
    /// <param name="Report">The report the run stored: <c>valid</c> and, per checked file (<c>train</c>, <c>validation</c>, <c>eval</c>), its counts, token statistics, errors and warnings. Null before validation.</param>
    public sealed record ValidationView(string RunId, ValidationSummary? Summary, string? ReportBlob, JsonElement? Report);
}
