using System.Text.Json;

namespace FineTuneOrchestrator.Pipeline;

/// <summary>
/// The rules strict structured outputs put on a schema (OpenAI, "Structured Outputs: supported schemas"): the root is an
/// object, and every object sets <c>additionalProperties: false</c> and lists every property in <c>required</c>.
/// Checked when a run is configured, so a schema the service would refuse fails the run config, not every evaluation call.
/// </summary>
internal static class StrictSchema
{
    /// <summary>The first rule <paramref name="schema"/> breaks, naming where; null when it keeps them all.</summary>
    public static string? Problem(JsonElement schema)
    {
        if (schema.TryGetProperty("type", out JsonElement type) && type.ValueKind == JsonValueKind.String && type.GetString() != "object")
        {
            return $"the root must be an object (type: \"object\"), not type \"{type.GetString()}\"";
        }

        return Check(schema, "");
    }

    private static string? Check(JsonElement schema, string path)
    {
        if (schema.ValueKind != JsonValueKind.Object) return null;
        if (schema.TryGetProperty("properties", out JsonElement properties) && properties.ValueKind == JsonValueKind.Object)
        {
            string where = path.Length == 0 ? "the root" : path;
            if (!schema.TryGetProperty("additionalProperties", out JsonElement additional) || additional.ValueKind != JsonValueKind.False)
            {
                return $"{where} must set additionalProperties: false";
            }

            HashSet<string?> required = schema.TryGetProperty("required", out JsonElement r) && r.ValueKind == JsonValueKind.Array
                ? r.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.String).Select(e => e.GetString()).ToHashSet()
                : [];
            foreach (JsonProperty property in properties.EnumerateObject())
            {
                if (!required.Contains(property.Name)) return $"{where} must list '{property.Name}' in required (strict mode requires every property)";
            }

            foreach (JsonProperty property in properties.EnumerateObject())
            {
                if (Check(property.Value, $"{path}/properties/{property.Name}") is { } problem) return problem;
            }
        }

        if (schema.TryGetProperty("items", out JsonElement items) && Check(items, path + "/items") is { } itemProblem) return itemProblem;
        foreach (string combinator in new[] { "anyOf", "allOf" })
        {
            if (schema.TryGetProperty(combinator, out JsonElement options) && options.ValueKind == JsonValueKind.Array)
            {
                int i = 0;
                foreach (JsonElement option in options.EnumerateArray())
                {
                    if (Check(option, $"{path}/{combinator}/{i++}") is { } problem) return problem;
                }
            }
        }

        return null;
    }
}
