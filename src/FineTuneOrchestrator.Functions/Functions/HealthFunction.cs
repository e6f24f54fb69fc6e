using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Configuration;

namespace FineTuneOrchestrator.Functions;

/// <summary><c>GET /api/health</c>, open without a key, as on the in-process host.</summary>
public sealed class HealthFunction(IConfiguration configuration)
{
    /// <summary>The health answer: the task hub and the backend.</summary>
    [Function("Health")]
    public IResult Run([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "health")] HttpRequest request) =>
        TypedResults.Ok(new { status = "Healthy", taskHub = configuration["extensions:durableTask:hubName"] ?? "TestHubName", durableBackend = "AzureStorage" });
}
