using FineTuneOrchestrator.Api;
using FineTuneOrchestrator.Dashboard;
using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Options;

namespace FineTuneOrchestrator.Functions;

/// <summary>
/// The operator dashboard at <c>/api/dashboard/</c> (under host.json's route prefix): the page and its assets, the same files the in-process host serves at
/// <c>/</c>. Anonymous because a browser asks for the assets without the key; the page sends the operator's key to the API
/// only, and every API route it calls needs it. The Durable management API is the extension's, at its usual path.
/// </summary>
public sealed class DashboardFunction(IOptions<HttpApiOptions> http)
{
    private readonly DashboardOptions _options = new(http.Value.PrefixPath, "/runtime/webhooks/durabletask");

    /// <summary>Serves <paramref name="path"/> of the dashboard (the page for an empty path).</summary>
    [Function("Dashboard")]
    public IResult Run(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "dashboard/{*path}")] HttpRequest request,
        string? path) =>
        DashboardHandlers.Serve(request, path, _options);
}
