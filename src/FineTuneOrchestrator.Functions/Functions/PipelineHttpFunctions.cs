using Azure.Storage.Blobs;
using FineTuneOrchestrator.Api;
using FineTuneOrchestrator.Api.Durable;
using FineTuneOrchestrator.Api.Pipelines;
using FineTuneOrchestrator.Pipeline;
using FineTuneOrchestrator.Providers;
using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FineTuneOrchestrator.Functions;

/// <summary>
/// <c>/api/pipelines…</c> as HTTP functions (function key), each calling the handler the in-process host maps to the same
/// route, with the client of the invocation's Durable binding.
/// </summary>
public sealed class PipelineHttpFunctions(
    PipelineRunPreparer preparer,
    RunRecords records,
    DurableHttpManagement management,
    BlobServiceClient storage,
    IOptions<HttpApiOptions> http,
    IOptions<PipelineOptions> pipeline,
    IFineTuningProvider provider,
    ILoggerFactory loggers)
{
    /// <summary><c>POST /api/pipelines[?waitForCompletion=seconds]</c>: starts a run.</summary>
    [Function("Pipelines_Start")]
    public Task<IResult> StartAsync(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "pipelines")] HttpRequest request,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken) =>
        PipelineHandlers.StartAsync(request, client, preparer, management, http, loggers, cancellationToken);

    /// <summary><c>GET /api/pipelines</c>: a page of runs.</summary>
    [Function("Pipelines_List")]
    public Task<IResult> ListAsync(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "pipelines")] HttpRequest request,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken) =>
        PipelineHandlers.ListAsync(request, client, records, cancellationToken);

    /// <summary><c>GET /api/pipelines/{runId}</c>: a run's summary.</summary>
    [Function("Pipelines_Get")]
    public Task<IResult> GetAsync(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "pipelines/{runId}")] HttpRequest request,
        string runId,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken) =>
        PipelineHandlers.GetAsync(runId, request, client, management, storage, pipeline, cancellationToken);

    /// <summary><c>POST /api/pipelines/{runId}/approve</c>.</summary>
    [Function("Pipelines_Approve")]
    public Task<IResult> ApproveAsync(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "pipelines/{runId}/approve")] HttpRequest request,
        string runId,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken) =>
        PipelineHandlers.DecideAsync(runId, approved: true, request, client, records, cancellationToken);

    /// <summary><c>POST /api/pipelines/{runId}/reject</c>.</summary>
    [Function("Pipelines_Reject")]
    public Task<IResult> RejectAsync(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "pipelines/{runId}/reject")] HttpRequest request,
        string runId,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken) =>
        PipelineHandlers.DecideAsync(runId, approved: false, request, client, records, cancellationToken);

    /// <summary><c>POST /api/pipelines/{runId}/cancel</c>.</summary>
    [Function("Pipelines_Cancel")]
    public Task<IResult> CancelAsync(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "pipelines/{runId}/cancel")] HttpRequest request,
        string runId,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken) =>
        PipelineHandlers.CancelAsync(runId, request, client, cancellationToken);

    /// <summary><c>GET /api/pipelines/{runId}/metrics[?after=eventId]</c>: train and validation loss per step (the dashboard's chart).</summary>
    [Function("Pipelines_Metrics")]
    public Task<IResult> MetricsAsync(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "pipelines/{runId}/metrics")] HttpRequest request,
        string runId,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken) =>
        PipelineHandlers.GetMetricsAsync(runId, request, client, provider, cancellationToken);

    /// <summary><c>GET /api/pipelines/{runId}/evaluation[?top=10]</c>: the stored evaluation and the worst cases.</summary>
    [Function("Pipelines_Evaluation")]
    public Task<IResult> EvaluationAsync(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "pipelines/{runId}/evaluation")] HttpRequest request,
        string runId,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken) =>
        PipelineHandlers.GetEvaluationAsync(runId, request, client, storage, pipeline, cancellationToken);

    /// <summary><c>GET /api/pipelines/{runId}/validation</c>: the stored validation report.</summary>
    [Function("Pipelines_Validation")]
    public Task<IResult> ValidationAsync(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "pipelines/{runId}/validation")] HttpRequest request,
        string runId,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken) =>
        PipelineHandlers.GetValidationAsync(runId, client, storage, pipeline, cancellationToken);
}
