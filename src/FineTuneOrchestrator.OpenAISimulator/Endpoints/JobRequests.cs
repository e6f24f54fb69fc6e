using System.Text.Json;
using System.Text.Json.Nodes;
using FineTuneOrchestrator.OpenAISimulator.Engine;

namespace FineTuneOrchestrator.OpenAISimulator.Endpoints;

/// <summary>
/// Reading a create-job request's body the way the service validates it (400 in its words for a missing, mistyped or
/// out-of-range field), into the <see cref="JobCreateRequest"/> the state takes.
/// </summary>
internal static class JobRequests
{
    public static JobCreateRequest Read(JsonObject body, bool azure)
    {
        // OpenAI refuses an argument it does not know before looking at any other.
        string? trainingType = ReadTrainingType(body, azure);
        string model = body["model"] is JsonValue mv && mv.TryGetValue(out string? m) ? m : throw ApiException.BadRequest("Missing required parameter: 'model'.", "model");
        string trainingFile = body["training_file"] is JsonValue tv && tv.TryGetValue(out string? t) ? t : throw ApiException.BadRequest("Missing required parameter: 'training_file'.", "training_file");
        string? validationFile = OptionalString(body, "validation_file");
        string? suffix = OptionalString(body, "suffix");
        int maxSuffix = azure ? 40 : 64;
        if (suffix is not null && (suffix.Length < 1 || suffix.Length > maxSuffix))
        {
            throw ApiException.BadRequest($"suffix must be between 1 and {maxSuffix} characters long.", "suffix");
        }

        int? seed = null;
        if (body["seed"] is JsonValue sv && sv.GetValueKind() == JsonValueKind.Number)
        {
            seed = sv.TryGetValue(out int s) ? s : throw ApiException.BadRequest("seed must be an integer.", "seed");
        }

        Dictionary<string, string>? metadata = ReadMetadata(body["metadata"]);
        (string? methodType, Hyperparameters? hyper) = ReadMethod(body);
        return new JobCreateRequest(model, trainingFile, validationFile, suffix, seed, metadata, methodType, hyper, trainingType);
    }

    /// <summary>Azure's <c>trainingType</c> as sent (see <see cref="TrainingTypes"/>), or null when absent; refused on the OpenAI face.</summary>
    private static string? ReadTrainingType(JsonObject body, bool azure)
    {
        if (!body.ContainsKey(TrainingTypes.Parameter))
        {
            return null;
        }

        if (!azure)
        {
            // OpenAI's answer to any argument it does not know.
            throw new ApiException(400, $"Unrecognized request argument supplied: {TrainingTypes.Parameter}", "invalid_request_error", TrainingTypes.Parameter, null);
        }

        if (body[TrainingTypes.Parameter] is JsonValue v && v.TryGetValue(out string? type) && TrainingTypes.All.Contains(type, StringComparer.OrdinalIgnoreCase))
        {
            return type;
        }

        string sent = body[TrainingTypes.Parameter]?.ToJsonString() ?? "null";
        throw ApiException.BadRequest($"Invalid value for '{TrainingTypes.Parameter}': {sent}. Supported values: {string.Join(", ", TrainingTypes.All)}.", TrainingTypes.Parameter, "invalid_training_type");
    }

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
        foreach ((string? key, JsonNode? value) in obj)
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
        string type = "supervised";
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
        double? epochs = ReadAutoNumber(hyper, "n_epochs", 1, 50, integer: true, param: $"method.{type}.hyperparameters.n_epochs");
        double? batch = ReadAutoNumber(hyper, "batch_size", 1, 256, integer: true, param: $"method.{type}.hyperparameters.batch_size");
        double? lrm = ReadAutoNumber(hyper, "learning_rate_multiplier", 0, double.MaxValue, integer: false, param: $"method.{type}.hyperparameters.learning_rate_multiplier", exclusiveMin: true);
        double? beta = type == "dpo" ? ReadAutoNumber(hyper, "beta", 0, 2, integer: false, param: "method.dpo.hyperparameters.beta", exclusiveMin: true) : null;
        return (type, new Hyperparameters((int?)epochs, (int?)batch, lrm, beta));
    }

    private static double? ReadAutoNumber(JsonObject? hyper, string name, double min, double max, bool integer, string param, bool exclusiveMin = false)
    {
        JsonNode? node = hyper?[name];
        if (node is null || (node is JsonValue sv && sv.TryGetValue(out string? s) && s == "auto"))
        {
            return null;
        }

        if (node is JsonValue v && v.GetValueKind() == JsonValueKind.Number)
        {
            double d = v.GetValue<double>();
            bool ok = (exclusiveMin ? d > min : d >= min) && d <= max && (!integer || Math.Abs(d - Math.Round(d)) < 1e-9);
            if (ok)
            {
                return d;
            }
        }

        string range = integer ? $"an integer between {min} and {max}" : exclusiveMin ? $"a number greater than {min}" + (max < double.MaxValue ? $" and at most {max}" : "") : $"a number between {min} and {max}";
        throw ApiException.BadRequest($"Invalid value for '{name}': must be 'auto' or {range}.", param);
    }
}
