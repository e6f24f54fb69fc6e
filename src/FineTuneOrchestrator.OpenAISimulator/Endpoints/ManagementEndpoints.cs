using System.Text.Json.Nodes;
using FineTuneOrchestrator.OpenAISimulator.Engine;

namespace FineTuneOrchestrator.OpenAISimulator.Endpoints;

/// <summary>
/// A minimal stand-in for the Azure Resource Manager deployments API of Microsoft.CognitiveServices accounts:
/// create or update, get (with <c>provisioningState</c>), list and delete.
/// </summary>
internal static class ManagementEndpoints
{
    private const string Prefix = "/subscriptions/{subscription}/resourceGroups/{resourceGroup}/providers/Microsoft.CognitiveServices/accounts/{account}/deployments";

    public static void Map(IEndpointRouteBuilder app)
    {
        RouteGroupBuilder deployments = app.MapGroup(Prefix);
        deployments.MapPut("/{name}", async (string subscription, string resourceGroup, string account, string name, HttpRequest request, SimulatorState state, CancellationToken ct) =>
        {
            RequireApiVersion(request);
            JsonObject body = await Http.ReadBodyAsync(request, ct).ConfigureAwait(false);
            JsonObject model = body["properties"]?["model"] as JsonObject
                ?? throw Arm(400, "InvalidRequestContent", "The request content is missing 'properties.model'.");
            string modelName = model["name"] is JsonValue nv && nv.TryGetValue(out string? n) && n.Length > 0 ? n : throw Arm(400, "InvalidRequestContent", "'properties.model.name' is required.");
            string version = model["version"] is JsonValue vv && vv.TryGetValue(out string? v) ? v : "1";
            var skuNode = body["sku"] as JsonObject;
            string sku = skuNode?["name"] is JsonValue sn && sn.TryGetValue(out string? s) ? s : "Standard";
            int capacity = Capacity(skuNode?["capacity"]);
            string id = $"/subscriptions/{subscription}/resourceGroups/{resourceGroup}/providers/Microsoft.CognitiveServices/accounts/{account}/deployments/{name}";
            (SimDeployment? deployment, bool created) = state.PutDeployment(account, name, id, modelName, version, sku, capacity);
            return Http.Json(Shapes.Deployment(deployment, state.Now), created ? StatusCodes.Status201Created : StatusCodes.Status200OK);
        });
        deployments.MapGet("/{name}", (string account, string name, HttpRequest request, SimulatorState state) =>
        {
            RequireApiVersion(request);
            SimDeployment deployment = state.GetDeployment(account, name)
                ?? throw Arm(404, "DeploymentNotFound", $"Deployment '{name}' not found in account '{account}'.");
            return Http.Json(Shapes.Deployment(deployment, state.Now));
        });
        deployments.MapGet("/", (string account, HttpRequest request, SimulatorState state) =>
        {
            RequireApiVersion(request);
            DateTimeOffset now = state.Now;
            var value = new JsonArray(state.ListDeployments(account).Select(d => (JsonNode?)Shapes.Deployment(d, now)).ToArray());
            return Http.Json(new JsonObject { ["value"] = value });
        });
        deployments.MapDelete("/{name}", (string account, string name, HttpRequest request, SimulatorState state) =>
        {
            RequireApiVersion(request);
            return state.DeleteDeployment(account, name) ? Results.Ok() : Results.NoContent();
        });
    }

    /// <summary>The SKU capacity: an integer of at least 1, 1 when absent; anything else is 400 <c>InvalidCapacity</c>.</summary>
    private static int Capacity(JsonNode? node)
    {
        if (node is null)
        {
            return 1;
        }

        if (node is JsonValue v && v.GetValueKind() == System.Text.Json.JsonValueKind.Number && v.TryGetValue(out int c) && c >= 1)
        {
            return c;
        }

        throw Arm(400, "InvalidCapacity", $"The capacity {node.ToJsonString()} is invalid: sku.capacity must be an integer of at least 1.");
    }

    private static void RequireApiVersion(HttpRequest request)
    {
        if (string.IsNullOrEmpty(request.Query["api-version"]))
        {
            throw Arm(400, "MissingApiVersionParameter", "The api-version query parameter (?api-version=) is required for all requests.");
        }
    }

    private static ApiException Arm(int status, string code, string message) => new(status, message, code: code) { AzureShape = true };
}
