using Azure.Storage.Blobs;
using FineTuneOrchestrator.Api;
using FineTuneOrchestrator.Api.Durable;
using FineTuneOrchestrator.Api.Lifecycle;
using FineTuneOrchestrator.Api.Models;
using FineTuneOrchestrator.Api.Pipelines;
using FineTuneOrchestrator.Dashboard;
using FineTuneOrchestrator.Host.Security;
using FineTuneOrchestrator.Pipeline;
using FineTuneOrchestrator.Providers;
using FineTuneOrchestrator.Registry;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Options;

namespace FineTuneOrchestrator.Host.Hosting;

/// <summary>
/// The routes of the shared handlers (FineTuneOrchestrator.Api) with the keys they need, as the Functions app's HTTP
/// functions declare them: <c>/{prefix}/pipelines…</c> (function key) and <c>/{prefix}/models…</c> (function key to read,
/// master key to change).
/// </summary>
public static class ApiEndpoints
{
    /// <summary>Maps <c>/{prefix}/pipelines</c>.</summary>
    public static RouteGroupBuilder MapPipelineApi(this IEndpointRouteBuilder endpoints, string prefixPath)
    {
        RouteGroupBuilder group = endpoints.MapGroup(prefixPath + "/pipelines").WithTags("Pipelines").RequireKey(AuthorizationLevel.Function);
        group.MapPost("/", (HttpRequest request, DurableTaskClient client, PipelineRunPreparer preparer, DurableHttpManagement management, IOptions<HttpApiOptions> http, ILoggerFactory loggers, CancellationToken ct) =>
            PipelineHandlers.StartAsync(request, client, preparer, management, http, loggers, ct));
        group.MapGet("/", (HttpRequest request, DurableTaskClient client, RunRecords records, CancellationToken ct) => PipelineHandlers.ListAsync(request, client, records, ct));
        group.MapGet("/{runId}", (string runId, HttpRequest request, DurableTaskClient client, DurableHttpManagement management, BlobServiceClient storage, IOptions<PipelineOptions> pipeline, CancellationToken ct) =>
            PipelineHandlers.GetAsync(runId, request, client, management, storage, pipeline, ct));
        group.MapGet("/{runId}/metrics", (string runId, HttpRequest request, DurableTaskClient client, IFineTuningProvider provider, CancellationToken ct) =>
            PipelineHandlers.GetMetricsAsync(runId, request, client, provider, ct));
        group.MapGet("/{runId}/evaluation", (string runId, HttpRequest request, DurableTaskClient client, BlobServiceClient storage, IOptions<PipelineOptions> pipeline, CancellationToken ct) =>
            PipelineHandlers.GetEvaluationAsync(runId, request, client, storage, pipeline, ct));
        group.MapGet("/{runId}/validation", (string runId, DurableTaskClient client, BlobServiceClient storage, IOptions<PipelineOptions> pipeline, CancellationToken ct) =>
            PipelineHandlers.GetValidationAsync(runId, client, storage, pipeline, ct));
        group.MapPost("/{runId}/approve", (string runId, HttpRequest request, DurableTaskClient client, RunRecords records, CancellationToken ct) => PipelineHandlers.DecideAsync(runId, approved: true, request, client, records, ct));
        group.MapPost("/{runId}/reject", (string runId, HttpRequest request, DurableTaskClient client, RunRecords records, CancellationToken ct) => PipelineHandlers.DecideAsync(runId, approved: false, request, client, records, ct));
        group.MapPost("/{runId}/cancel", (string runId, HttpRequest request, DurableTaskClient client, CancellationToken ct) => PipelineHandlers.CancelAsync(runId, request, client, ct));
        return group;
    }

    /// <summary>
    /// Maps the operator dashboard to <c>/</c> and its files to <c>/assets/…</c>, without a key: the page holds no data and
    /// asks for the operator's key, which it sends to the API routes only.
    /// </summary>
    public static IEndpointConventionBuilder MapDashboard(this IEndpointRouteBuilder endpoints, string prefixPath)
    {
        var options = new DashboardOptions(prefixPath, DurableHttpManagement.WebhookPath);
        RouteGroupBuilder group = endpoints.MapGroup("/").RequireKey(AuthorizationLevel.Anonymous).WithTags("Dashboard");
        group.MapGet("/", (HttpRequest request) => DashboardHandlers.Serve(request, null, options));
        group.MapGet("/" + DashboardHandlers.AssetsFolder + "{*path}", (string path, HttpRequest request) => DashboardHandlers.Serve(request, DashboardHandlers.AssetsFolder + path, options));
        return group;
    }

    /// <summary>Maps <c>/{prefix}/models</c>.</summary>
    public static RouteGroupBuilder MapModelRegistryApi(this IEndpointRouteBuilder endpoints, string prefixPath)
    {
        RouteGroupBuilder group = endpoints.MapGroup(prefixPath + "/models").WithTags("Model registry");
        group.MapGet("/", (ModelRegistry registry, CancellationToken ct) => ModelHandlers.ListAsync(registry, ct)).RequireKey(AuthorizationLevel.Function);
        group.MapGet("/{alias}", (string alias, ModelRegistry registry, CancellationToken ct) => ModelHandlers.GetAsync(alias, registry, ct)).RequireKey(AuthorizationLevel.Function);
        group.MapGet("/{alias}/history", (string alias, ModelRegistry registry, CancellationToken ct) => ModelHandlers.GetHistoryAsync(alias, registry, ct)).RequireKey(AuthorizationLevel.Function);
        group.MapPost("/{alias}/rollback", (string alias, ModelRegistry registry, IFineTuningProvider provider, TimeProvider time, CancellationToken ct) => ModelHandlers.RollbackAsync(alias, registry, provider, time, ct)).RequireKey(AuthorizationLevel.Admin);
        endpoints.MapPost(prefixPath + "/lifecycle/sweep", (LifecycleSweep sweep, DurableTaskClient client, CancellationToken ct) => LifecycleHandlers.SweepAsync(sweep, client, ct)).RequireKey(AuthorizationLevel.Admin).WithTags("Model registry");
        group.MapPost("/{alias}/promote", (string alias, HttpRequest request, ModelRegistry registry, IFineTuningProvider provider, TimeProvider time, CancellationToken ct) => ModelHandlers.PromoteAsync(alias, request, registry, provider, time, ct)).RequireKey(AuthorizationLevel.Admin);
        return group;
    }
}
