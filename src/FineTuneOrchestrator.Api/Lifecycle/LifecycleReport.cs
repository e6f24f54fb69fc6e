namespace FineTuneOrchestrator.Api.Lifecycle;

/// <summary>What one sweep did.</summary>
/// <param name="Skipped">Why nothing was done (another sweep holds the lock), or null.</param>
/// <param name="Aliases">Per alias, what was found and done.</param>
public sealed record LifecycleReport(string? Skipped, IReadOnlyList<AliasSweepResult> Aliases);

/// <summary>What the sweep found and did for one alias.</summary>
/// <param name="Alias">The alias.</param>
/// <param name="Model">Its current model.</param>
/// <param name="RetiresAt">When the model's root base retires, if published.</param>
/// <param name="Actions">What was done (<c>redeployed</c>, <c>retrain-started</c>, ...), in order.</param>
public sealed record AliasSweepResult(string Alias, string Model, DateTimeOffset? RetiresAt, IReadOnlyList<string> Actions);
