using System.Text.Json.Nodes;

namespace FineTuneOrchestrator.OpenAISimulator.Engine;

/// <summary>Reading a create-job request's optional fields, metadata and method the way the service validates them.</summary>
public sealed partial class SimulatorState
{
    private static string? OptionalString(JsonObject body, string name) =>
        body[name] switch
        {
            null => null,
            JsonValue v when v.TryGetValue(out string? s) => s,
            _ => throw ApiException.BadRequest($"{name} must be a string.", name),
        };

    private static Dictionary<string, string>? ReadMetadata(JsonNode? node)
    {
        if (node is null)
        {
            return null;
        }

        if (node is not JsonObject obj)
        {
            throw ApiException.BadRequest("metadata must be an object of string values.", "metadata");
        }

        if (obj.Count > 16)
        {
            throw ApiException.BadRequest("metadata can have at most 16 keys.", "metadata");
        }

        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in obj)
        {
            if (key.Length > 64)
            {
                throw ApiException.BadRequest($"metadata key '{key[..16]}…' is longer than 64 characters.", "metadata");
            }

            if (value is not JsonValue v || !v.TryGetValue(out string? s))
            {
                throw ApiException.BadRequest($"metadata value for '{key}' must be a string.", "metadata");
            }

            if (s.Length > 512)
            {
                throw ApiException.BadRequest($"metadata value for '{key}' is longer than 512 characters.", "metadata");
            }

            result[key] = s;
        }

        return result;
    }

    private static (string Type, Hyperparameters Hyper) ReadMethod(JsonObject body)
    {
        var type = "supervised";
        JsonNode? hyperNode = body["hyperparameters"];
        if (body["method"] is JsonObject method)
        {
            type = method["type"] is JsonValue tv && tv.TryGetValue(out string? t) ? t : throw ApiException.BadRequest("Missing required parameter: 'method.type'.", "method.type");
            if (type is not ("supervised" or "dpo"))
            {
                throw ApiException.BadRequest(type == "reinforcement"
                    ? "The simulator does not support reinforcement fine-tuning."
                    : $"Invalid value for 'method.type': '{type}'. Expected supervised, dpo or reinforcement.", "method.type");
            }

            hyperNode = method[type]?["hyperparameters"] ?? hyperNode;
        }

        var hyper = hyperNode as JsonObject;
        var epochs = ReadAutoNumber(hyper, "n_epochs", 1, 50, integer: true, param: $"method.{type}.hyperparameters.n_epochs");
        var batch = ReadAutoNumber(hyper, "batch_size", 1, 256, integer: true, param: $"method.{type}.hyperparameters.batch_size");
        var lrm = ReadAutoNumber(hyper, "learning_rate_multiplier", 0, double.MaxValue, integer: false, param: $"method.{type}.hyperparameters.learning_rate_multiplier", exclusiveMin: true);
        var beta = type == "dpo" ? ReadAutoNumber(hyper, "beta", 0, 2, integer: false, param: "method.dpo.hyperparameters.beta", exclusiveMin: true) : null;
        return (type, new Hyperparameters((int?)epochs, (int?)batch, lrm, beta));
    }

    private static double? ReadAutoNumber(JsonObject? hyper, string name, double min, double max, bool integer, string param, bool exclusiveMin = false)
    {
        var node = hyper?[name];
        if (node is null || (node is JsonValue sv && sv.TryGetValue(out string? s) && s == "auto"))
        {
            return null;
        }

        if (node is JsonValue v && v.GetValueKind() == System.Text.Json.JsonValueKind.Number)
        {
            var d = v.GetValue<double>();
            var ok = (exclusiveMin ? d > min : d >= min) && d <= max && (!integer || Math.Abs(d - Math.Round(d)) < 1e-9);
            if (ok)
            {
                return d;
            }
        }

        var range = integer ? $"an integer between {min} and {max}" : exclusiveMin ? $"a number greater than {min}" + (max < double.MaxValue ? $" and at most {max}" : "") : $"a number between {min} and {max}";
        throw ApiException.BadRequest($"Invalid value for '{name}': must be 'auto' or {range}.", param);
    }
}
