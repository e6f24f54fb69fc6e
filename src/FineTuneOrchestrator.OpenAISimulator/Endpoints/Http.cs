using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using FineTuneOrchestrator.OpenAISimulator.Engine;

namespace FineTuneOrchestrator.OpenAISimulator.Endpoints;

/// <summary>Small helpers shared by the endpoint groups.</summary>
internal static class Http
{
    // The real service writes quotes and apostrophes unescaped; so do we.
    private static readonly JsonSerializerOptions Relaxed = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static JsonSerializerOptions RelaxedOptions => Relaxed;

    public static IResult Json(JsonNode node, int status = StatusCodes.Status200OK) =>
        TypedResults.Content(node.ToJsonString(Relaxed), "application/json", Encoding.UTF8, status);

    public static async Task<JsonObject> ReadBodyAsync(HttpRequest request, CancellationToken ct)
    {
        try
        {
            JsonNode? node = await JsonNode.ParseAsync(request.Body, cancellationToken: ct).ConfigureAwait(false);
            return node as JsonObject ?? throw new JsonException("not an object");
        }
        catch (JsonException)
        {
            throw ApiException.BadRequest(
                "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)");
        }
    }

    public static int Limit(HttpRequest request, int fallback, int max)
    {
        string raw = request.Query["limit"].ToString();
        if (raw.Length == 0)
        {
            return fallback;
        }

        return int.TryParse(raw, System.Globalization.CultureInfo.InvariantCulture, out int limit) && limit >= 1 && limit <= max
            ? limit
            : throw ApiException.BadRequest($"Invalid 'limit': must be an integer between 1 and {max}.", "limit");
    }

    public static string? Query(HttpRequest request, string name)
    {
        string value = request.Query[name].ToString();
        return value.Length == 0 ? null : value;
    }

    /// <summary>Writes an error in the service's shape.</summary>
    public static async Task WriteErrorAsync(HttpContext context, ApiException error)
    {
        context.Response.StatusCode = error.Status;
        context.Response.ContentType = "application/json";
        foreach ((string? name, string? value) in error.Headers)
        {
            context.Response.Headers[name] = value;
        }

        JsonObject body = error.AzureShape
            ? new JsonObject { ["error"] = new JsonObject { ["code"] = error.Code, ["message"] = error.Message } }
            : new JsonObject { ["error"] = new JsonObject { ["message"] = error.Message, ["type"] = error.Type, ["param"] = error.Param, ["code"] = error.Code } };
        await context.Response.WriteAsync(body.ToJsonString(Relaxed), context.RequestAborted).ConfigureAwait(false);
    }
}
