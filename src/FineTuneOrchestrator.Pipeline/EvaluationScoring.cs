using System.Text.Json;
using NJsonSchema;

namespace FineTuneOrchestrator.Pipeline;

/// <summary>Scoring helpers of the evaluation (pure functions).</summary>
public static class EvaluationScoring
{
    /// <summary>Parses a JSON Schema; null (with the reason in <paramref name="problem"/>) when it cannot be used.</summary>
    public static JsonSchema? TryParseSchema(JsonElement schema, out string? problem)
    {
        problem = null;
        try
        {
            // NJsonSchema only offers an async parser; with no external references it completes synchronously.
            return JsonSchema.FromJsonAsync(schema.GetRawText()).GetAwaiter().GetResult();
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            problem = ex.Message;
            return null;
        }
    }
}
