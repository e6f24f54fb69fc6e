namespace FineTuneOrchestrator.OpenAISimulator.Engine;

/// <summary>
/// Azure's <c>trainingType</c> on job creation (Microsoft Learn): <c>Standard</c> (regional), <c>GlobalStandard</c> and
/// <c>developerTier</c>, compared case-insensitively, Standard when absent. Developer training is offered for the GPT-4.1
/// family only. The OpenAI API has no such parameter and refuses it as an unrecognized argument (read from the request
/// by <c>Endpoints/JobRequests</c>).
/// </summary>
internal static class TrainingTypes
{
    public const string Parameter = "trainingType";

    public static readonly IReadOnlyList<string> All = ["Standard", "GlobalStandard", "developerTier"];

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
