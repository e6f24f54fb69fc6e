using FineTuneOrchestrator.DurableTask.Hosting;
using FineTuneOrchestrator.Host.Security;
using Microsoft.Extensions.Options;

namespace FineTuneOrchestrator.Host.Hosting;

/// <summary>The health route, <c>GET /{prefix}/health</c>, open without a key.</summary>
public static class HealthApi
{
    /// <summary>Maps the health route.</summary>
    public static RouteHandlerBuilder MapHealthApi(this IEndpointRouteBuilder endpoints, string prefixPath)
    {
        return endpoints.MapGet(prefixPath + "/health", (IOptions<DurableTaskHostOptions> durable) =>
                TypedResults.Ok(new HealthReport("Healthy", durable.Value.HubName, "AzureStorage")))
            .RequireKey(AuthorizationLevel.Anonymous)
            .WithTags("Health");
    }

    /// <summary>The health answer.</summary>
    /// <param name="Status">Always "Healthy" when the app answers.</param>
    /// <param name="TaskHub">The task hub name.</param>
    /// <param name="DurableBackend">The durable backend in use (Microsoft's Azure Storage provider).</param>
    public sealed record HealthReport(string Status, string TaskHub, string DurableBackend);
}
