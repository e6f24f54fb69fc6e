using FineTuneOrchestrator.Api.Models;
using FineTuneOrchestrator.Providers;
using FineTuneOrchestrator.Registry;
using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;

namespace FineTuneOrchestrator.Functions;

/// <summary>
/// <c>/api/models…</c> as HTTP functions: reads with the function key, rollback and promote with the admin (master) key,
/// as the in-process host asks.
/// </summary>
public sealed class ModelHttpFunctions(ModelRegistry registry, IFineTuningProvider provider, TimeProvider time)
{
    /// <summary><c>GET /api/models</c>.</summary>
    [Function("Models_List")]
    public Task<IResult> ListAsync(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "models")] HttpRequest request,
        CancellationToken cancellationToken) =>
        ModelHandlers.ListAsync(registry, cancellationToken);

    /// <summary><c>GET /api/models/{alias}</c>.</summary>
    [Function("Models_Get")]
    public Task<IResult> GetAsync(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "models/{alias}")] HttpRequest request,
        string alias,
        CancellationToken cancellationToken) =>
        ModelHandlers.GetAsync(alias, registry, cancellationToken);

    /// <summary><c>GET /api/models/{alias}/history</c>.</summary>
    [Function("Models_History")]
    public Task<IResult> HistoryAsync(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "models/{alias}/history")] HttpRequest request,
        string alias,
        CancellationToken cancellationToken) =>
        ModelHandlers.GetHistoryAsync(alias, registry, cancellationToken);

    /// <summary><c>POST /api/models/{alias}/rollback</c> (master key).</summary>
    [Function("Models_Rollback")]
    public Task<IResult> RollbackAsync(
        [HttpTrigger(AuthorizationLevel.Admin, "post", Route = "models/{alias}/rollback")] HttpRequest request,
        string alias,
        CancellationToken cancellationToken) =>
        ModelHandlers.RollbackAsync(alias, registry, provider, time, cancellationToken);

    /// <summary><c>POST /api/models/{alias}/promote</c> (master key).</summary>
    [Function("Models_Promote")]
    public Task<IResult> PromoteAsync(
        [HttpTrigger(AuthorizationLevel.Admin, "post", Route = "models/{alias}/promote")] HttpRequest request,
        string alias,
        CancellationToken cancellationToken) =>
        ModelHandlers.PromoteAsync(alias, request, registry, provider, time, cancellationToken);
}
