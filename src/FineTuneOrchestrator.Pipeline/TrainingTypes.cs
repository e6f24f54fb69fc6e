namespace FineTuneOrchestrator.Pipeline;

/// <summary>
/// Azure OpenAI's training types, as a run config names them and as the fine-tuning jobs API takes them
/// (<c>trainingType</c>: <c>Standard</c>, <c>GlobalStandard</c>, <c>developerTier</c>, per Microsoft Learn's fine-tuning REST
/// guide and the Azure SDK's fine-tuning tests, which read the value back from the job).
/// </summary>
public static class TrainingTypes
{
    /// <summary>Regional training (the service's default).</summary>
    public const string Standard = "Standard";

    /// <summary>Global training: 10–30 % cheaper than regional; data may be processed outside the resource's geography.</summary>
    public const string GlobalStandard = "GlobalStandard";

    /// <summary>Developer training: half the Global price on pre-emptible capacity (jobs may pause and resume); no SLA.</summary>
    public const string Developer = "developerTier";

    /// <summary>
    /// Base models Azure offers Developer training for (Microsoft Learn lists the GPT-4.1 family). Others take Standard and
    /// GlobalStandard only.
    /// </summary>
    private static readonly string[] DeveloperModels = ["gpt-4.1-2025-04-14", "gpt-4.1-mini-2025-04-14", "gpt-4.1-nano-2025-04-14"];

    /// <summary>The names a run config may use.</summary>
    public const string Accepted = "Standard, GlobalStandard or Developer";

    /// <summary>Microsoft's wire value for a run config's name (case-insensitive; <c>developerTier</c> is taken too); null when unknown.</summary>
    public static string? ToWire(string? name) => name?.Trim().ToLowerInvariant() switch
    {
        "standard" => Standard,
        "globalstandard" or "global" => GlobalStandard,
        "developer" or "developertier" => Developer,
        _ => null,
    };

    /// <summary>True when Azure offers <paramref name="wireType"/> for the (dated) base model <paramref name="rootBaseModel"/>.</summary>
    public static bool IsOffered(string wireType, string rootBaseModel) =>
        wireType != Developer || DeveloperModels.Contains(rootBaseModel, StringComparer.OrdinalIgnoreCase);
}
