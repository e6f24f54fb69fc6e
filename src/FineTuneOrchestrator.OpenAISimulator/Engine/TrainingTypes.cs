using System.Text.Json.Nodes;

namespace FineTuneOrchestrator.OpenAISimulator.Engine;

/// <summary>
/// Azure's <c>trainingType</c> on job creation (Microsoft Learn): <c>Standard</c> (regional), <c>GlobalStandard</c> and
/// <c>developerTier</c>, compared case-insensitively, Standard when absent. Developer training is offered for the GPT-4.1
/// family only. The OpenAI API has no such parameter and refuses it as an unrecognized argument.
/// </summary>
internal static class TrainingTypes
{
    public const string Parameter = "trainingType";

    public static readonly IReadOnlyList<string> All = ["Standard", "GlobalStandard", "developerTier"];

    /// <summary>The training type as sent, or null when absent.</summary>
    public static string? Read(JsonObject body, bool azure)
    {
        if (!body.ContainsKey(Parameter))
        {
            return null;
        }

        if (!azure)
        {
            // OpenAI's answer to any argument it does not know.
            throw new ApiException(400, $"Unrecognized request argument supplied: {Parameter}", "invalid_request_error", Parameter, null);
        }

        if (body[Parameter] is JsonValue v && v.TryGetValue(out string? type) && All.Contains(type, StringComparer.OrdinalIgnoreCase))
        {
            return type;
        }

        var sent = body[Parameter]?.ToJsonString() ?? "null";
        throw ApiException.BadRequest($"Invalid value for '{Parameter}': {sent}. Supported values: {string.Join(", ", All)}.", Parameter, "invalid_training_type");
    }

    /// <summary>400 <c>training_type_not_supported</c> when <paramref name="model"/> is not offered with <paramref name="type"/>.</summary>
    public static void CheckOffered(string? type, BaseModels.Info model)
    {
        if (type is null || !string.Equals(type, "developerTier", StringComparison.OrdinalIgnoreCase) || model.DeveloperTraining)
        {
            return;
        }

        throw ApiException.BadRequest(
            $"Training type '{type}' is not supported for model {model.Id}. Supported training types for it: {string.Join(", ", Offered(model))}.",
            Parameter, "training_type_not_supported");
    }

    private static IEnumerable<string> Offered(BaseModels.Info model) =>
        All.Where(t => model.DeveloperTraining || !string.Equals(t, "developerTier", StringComparison.Ordinal));
}
