using System.Text.Json.Serialization;

namespace FineTuneOrchestrator.Registry;

/// <summary>
/// The Azure OpenAI deployment that serves an alias (named after it): which model it was last pointed at, on which SKU,
/// and when. Apps call the deployment by the alias's name, so it must follow every promotion and rollback.
/// </summary>
public sealed record AliasDeployment
{
    /// <summary>The deployment name (the alias).</summary>
    public required string Name { get; init; }

    /// <summary>The model it serves.</summary>
    public required string Model { get; init; }

    /// <summary>The SKU it was deployed with, when known.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Sku { get; init; }

    /// <summary>When it was last pointed at <see cref="Model"/> (UTC).</summary>
    public DateTimeOffset UpdatedAt { get; init; }
}

/// <summary>
/// What the lifecycle sweep last found for an alias: the root base model of its current model and when that base stops
/// taking fine-tuning jobs and stops serving, the re-training run started on its successor, and what the sweep did.
/// </summary>
public sealed record AliasLifecycle
{
    /// <summary>The root base model of the current model (a fine-tune of a fine-tune has the first one's base).</summary>
    public string? RootBaseModel { get; init; }

    /// <summary>When the root base stops taking fine-tuning jobs, per the provider's models API.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public DateTimeOffset? FineTuningEndsAt { get; init; }

    /// <summary>When the root base (and so the current model) stops serving, per the provider's models API.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public DateTimeOffset? RetiresAt { get; init; }

    /// <summary>The base model a re-training run was started on.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? SuccessorBaseModel { get; init; }

    /// <summary>The re-training run started for the current model's retirement (one per current model and successor).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? RetrainRunId { get; init; }

    /// <summary>The model the re-training run replaces (a later promotion makes the run's record stale).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? RetrainFor { get; init; }

    /// <summary>When the sweep last looked (UTC).</summary>
    public DateTimeOffset CheckedAt { get; init; }

    /// <summary>What the sweep did, most recent first (a redeployed deployment, a started re-training, a warning).</summary>
    public IReadOnlyList<LifecycleEvent> Events { get; init; } = [];
}

/// <summary>One thing the lifecycle sweep did or found.</summary>
/// <param name="At">When (UTC).</param>
/// <param name="Kind"><c>redeployed</c>, <c>retrain-started</c>, <c>no-successor</c>, <c>retired</c> or <c>error</c>.</param>
/// <param name="Detail">What, in a sentence.</param>
public sealed record LifecycleEvent(DateTimeOffset At, string Kind, string Detail);
