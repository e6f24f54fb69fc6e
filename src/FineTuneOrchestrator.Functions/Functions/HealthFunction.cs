using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;

namespace FineTuneOrchestrator.Functions;

/// <summary><c>GET /api/health</c>, open without a key, as on the in-process host.</summary>
public sealed class HealthFunction
{
    /// <summary>
    /// The health answer: the task hub and the backend. The isolated worker does not read host.json; the task hub reaches it the
    /// way Functions provides it, in the Durable client binding (the extension fills it from host.json's <c>hubName</c>).
    /// </summary>
    [Function("Health")]
    public IResult Run([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "health")] HttpRequest request, [DurableClient] DurableTaskClient client) =>
        TypedResults.Ok(new { status = "Healthy", taskHub = client?.Name, durableBackend = "AzureStorage" });
}
