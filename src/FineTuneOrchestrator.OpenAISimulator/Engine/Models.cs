namespace FineTuneOrchestrator.OpenAISimulator.Engine;

/// <summary>The base models the simulator knows, with the aliases the real service resolves.</summary>
internal static class BaseModels
{
    public sealed record Info(string Id, string Alias, DateOnly? ShutdownDate, long Created);

    public static readonly IReadOnlyList<Info> All =
    [
        new("gpt-4o-mini-2024-07-18", "gpt-4o-mini", new DateOnly(2027, 1, 14), 1721172741),
        new("gpt-4o-2024-08-06", "gpt-4o", new DateOnly(2027, 1, 14), 1722814719),
        new("gpt-4.1-2025-04-14", "gpt-4.1", new DateOnly(2027, 1, 14), 1744316542),
        new("gpt-4.1-mini-2025-04-14", "gpt-4.1-mini", new DateOnly(2027, 1, 14), 1744317547),
        new("gpt-4.1-nano-2025-04-14", "gpt-4.1-nano", null, 1744321707),
        new("gpt-3.5-turbo-0125", "gpt-3.5-turbo", null, 1706048358),
    ];

    /// <summary>Resolves an alias or dated name to the dated model id, or null when unknown.</summary>
    public static Info? Resolve(string name) =>
        All.FirstOrDefault(m => string.Equals(m.Id, name, StringComparison.Ordinal) || string.Equals(m.Alias, name, StringComparison.Ordinal));
}
