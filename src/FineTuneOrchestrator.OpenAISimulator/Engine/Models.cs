namespace FineTuneOrchestrator.OpenAISimulator.Engine;

/// <summary>The base models the simulator knows, with the aliases the real service resolves.</summary>
internal static class BaseModels
{
    /// <summary>A base model.</summary>
    /// <param name="Id">The dated model id.</param>
    /// <param name="Alias">The undated alias the services resolve.</param>
    /// <param name="ShutdownDate">The OpenAI face's shutdown date (OpenAI's deprecations page); null when none is announced.</param>
    /// <param name="Created">The model's <c>created</c> Unix time.</param>
    /// <param name="AzureRetirement">The Azure face's inference retirement date (Microsoft Learn, "Model retirement schedule", updated 2026-09-02); null when none is listed.</param>
    /// <param name="DeveloperTraining">Whether Azure offers the <c>developerTier</c> training type for it (Microsoft Learn: the GPT-4.1 family only).</param>
    public sealed record Info(string Id, string Alias, DateOnly? ShutdownDate, long Created, DateOnly? AzureRetirement = null, bool DeveloperTraining = false);

    private static readonly DateOnly AzureGpt4oAnd41Retirement = new(2027, 4, 14);

    public static readonly IReadOnlyList<Info> All =
    [
        new("gpt-4o-mini-2024-07-18", "gpt-4o-mini", new DateOnly(2027, 1, 14), 1721172741, AzureGpt4oAnd41Retirement),
        new("gpt-4o-2024-08-06", "gpt-4o", new DateOnly(2027, 1, 14), 1722814719, AzureGpt4oAnd41Retirement),
        new("gpt-4.1-2025-04-14", "gpt-4.1", new DateOnly(2027, 1, 14), 1744316542, AzureGpt4oAnd41Retirement, DeveloperTraining: true),
        new("gpt-4.1-mini-2025-04-14", "gpt-4.1-mini", new DateOnly(2027, 1, 14), 1744317547, AzureGpt4oAnd41Retirement, DeveloperTraining: true),

        // OpenAI shut gpt-4.1-nano down on 2026-10-23 (OpenAI's deprecations page); Azure keeps it until 2027-04-14.
        new("gpt-4.1-nano-2025-04-14", "gpt-4.1-nano", new DateOnly(2026, 10, 23), 1744321707, AzureGpt4oAnd41Retirement, DeveloperTraining: true),
        new("gpt-3.5-turbo-0125", "gpt-3.5-turbo", null, 1706048358),
    ];

    /// <summary>Resolves an alias or dated name to the dated model id, or null when unknown.</summary>
    public static Info? Resolve(string name) =>
        All.FirstOrDefault(m => string.Equals(m.Id, name, StringComparison.Ordinal) || string.Equals(m.Alias, name, StringComparison.Ordinal));
}
