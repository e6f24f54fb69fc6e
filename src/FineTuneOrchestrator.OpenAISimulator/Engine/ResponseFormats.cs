using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace FineTuneOrchestrator.OpenAISimulator.Engine;

/// <summary>
/// <c>response_format</c> as the service checks it before answering: the type, the schema's name, and for
/// <c>strict: true</c> the structured-outputs rules (the root is an object; every object sets
/// <c>additionalProperties: false</c> and lists every property in <c>required</c>), refused with the service's wording.
/// </summary>
internal static partial class ResponseFormats
{
    /// <summary>Reads <paramref name="body"/>'s response_format: the schema (json_schema), whether it is json_object; 400 when invalid.</summary>
    public static (JsonObject? Schema, bool JsonObject) Read(JsonObject body)
    {
        if (body["response_format"] is not { } format || format.GetValueKind() == System.Text.Json.JsonValueKind.Null)
        {
            return (null, false);
        }

        string? type = format["type"] is JsonValue t && t.TryGetValue(out string? s) ? s : null;
        switch (type)
        {
            case "text":
                return (null, false);
            case "json_object":
                return (null, true);
            case "json_schema":
                break;
            case null:
                throw ApiException.BadRequest("Missing required parameter: 'response_format.type'.", "response_format.type", "missing_required_parameter");
            default:
                throw ApiException.BadRequest($"Invalid value: '{type}'. Supported values are: 'text', 'json_object', and 'json_schema'.", "response_format.type", "invalid_value");
        }

        if (format["json_schema"] is not JsonObject spec)
        {
            throw ApiException.BadRequest("Missing required parameter: 'response_format.json_schema'.", "response_format.json_schema", "missing_required_parameter");
        }

        string? name = spec["name"] is JsonValue n && n.TryGetValue(out string? ns) ? ns : null;
        if (name is null)
        {
            throw ApiException.BadRequest("Missing required parameter: 'response_format.json_schema.name'.", "response_format.json_schema.name", "missing_required_parameter");
        }

        if (!SchemaName().IsMatch(name))
        {
            throw ApiException.BadRequest("Invalid 'response_format.json_schema.name': string does not match pattern. Expected a string that matches the pattern '^[a-zA-Z0-9_-]+$'.", "response_format.json_schema.name", "invalid_value");
        }

        JsonObject schema = spec["schema"] as JsonObject ?? new JsonObject();
        if (spec["strict"] is JsonValue strict && strict.TryGetValue(out bool isStrict) && isStrict)
        {
            if (schema["type"] is JsonValue rt && rt.TryGetValue(out string? rootType) && rootType != "object")
            {
                throw Invalid(name, $"schema must be a JSON Schema of 'type: \"object\"', got 'type: \"{rootType}\"'.");
            }

            CheckStrict(schema, name, []);
        }

        return (schema, false);
    }

    private static void CheckStrict(JsonObject schema, string name, List<string> context)
    {
        if (schema["properties"] is JsonObject properties)
        {
            if (schema["additionalProperties"] is not JsonValue ap || !ap.TryGetValue(out bool allowed) || allowed)
            {
                throw Invalid(name, $"In context={Context(context)}, 'additionalProperties' is required to be supplied and to be false.");
            }

            HashSet<string?> required = (schema["required"] as JsonArray)?.Select(r => r is JsonValue v && v.TryGetValue(out string? s) ? s : null).ToHashSet() ?? [];
            if (properties.Select(p => p.Key).FirstOrDefault(k => !required.Contains(k)) is { } missing)
            {
                throw Invalid(name, $"In context={Context(context)}, 'required' is required to be supplied and to be an array including every key in properties. Missing '{missing}'.");
            }

            foreach ((string? key, JsonNode? child) in properties)
            {
                if (child is JsonObject c) CheckStrict(c, name, [.. context, "properties", key]);
            }
        }

        if (schema["items"] is JsonObject items) CheckStrict(items, name, [.. context, "items"]);
        foreach (string combinator in new[] { "anyOf", "allOf" })
        {
            if (schema[combinator] is JsonArray options)
            {
                for (int i = 0; i < options.Count; i++)
                {
                    if (options[i] is JsonObject o) CheckStrict(o, name, [.. context, combinator, i.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
                }
            }
        }
    }

    // The service prints the path as a Python tuple: () for the root, ('properties', 'address') below it.
    private static string Context(List<string> path) => path.Count switch
    {
        0 => "()",
        1 => $"('{path[0]}',)",
        _ => "(" + string.Join(", ", path.Select(p => $"'{p}'")) + ")",
    };

    private static ApiException Invalid(string name, string problem) =>
        ApiException.BadRequest($"Invalid schema for response_format '{name}': {problem}", "response_format", "invalid_json_schema");

    [GeneratedRegex("^[a-zA-Z0-9_-]{1,64}$")]
    private static partial Regex SchemaName();
}
