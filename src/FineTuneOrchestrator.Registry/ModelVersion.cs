using System.Text.Json.Serialization;

namespace FineTuneOrchestrator.Registry;

/// <summary>A model to promote to an alias: what the pipeline knows about a fine-tuned model when it passes evaluation.</summary>
public sealed record ModelVersion
{
    /// <summary>The provider's model ID (for example <c>ft:gpt-4o-mini-2024-07-18:org::abc123</c> or an Azure deployment name).</summary>
    public required string Model { get; init; }

    /// <summary>The provider that serves the model (for example <c>openai</c>, <c>azure-openai</c>, <c>simulator</c>).</summary>
    public required string Provider { get; init; }

    /// <summary>The pipeline run (orchestration instance ID) that produced the model.</summary>
    public string? RunId { get; init; }

    /// <summary>The provider's fine-tuning job ID.</summary>
    public string? JobId { get; init; }

    /// <summary>The base model the job fine-tuned (for continuous fine-tuning, the fine-tuned model it started from).</summary>
    public string? BaseModel { get; init; }

    /// <summary>The catalog base model at the root of the lineage (equal to <see cref="BaseModel"/> unless it was a fine-tune).</summary>
    public string? RootBaseModel { get; init; }

    /// <summary>Evaluation metrics by name (finite numbers).</summary>
    public IReadOnlyDictionary<string, double>? Metrics { get; init; }
}

/// <summary>One model as recorded under an alias: the promoted version plus when it was promoted and retired.</summary>
public sealed record ModelRecord
{
    /// <summary>The provider's model ID.</summary>
    public required string Model { get; init; }

    /// <summary>The provider that serves the model.</summary>
    public required string Provider { get; init; }

    /// <summary>The pipeline run that produced the model.</summary>
    public string? RunId { get; init; }

    /// <summary>The provider's fine-tuning job ID.</summary>
    public string? JobId { get; init; }

    /// <summary>The base model (for continuous fine-tuning, the fine-tuned model the job started from).</summary>
    public string? BaseModel { get; init; }

    /// <summary>The catalog base model at the root of the lineage, when it differs from <see cref="BaseModel"/>.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? RootBaseModel { get; init; }

    /// <summary>Evaluation metrics by name.</summary>
    public IReadOnlyDictionary<string, double> Metrics { get; init; } = new Dictionary<string, double>();

    /// <summary>When the model became the alias's current model (UTC).</summary>
    public required DateTimeOffset PromotedAt { get; init; }

    /// <summary>When it stopped being current (UTC); null while current.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public DateTimeOffset? RetiredAt { get; init; }

    /// <summary>Why it stopped being current: <c>promotion</c> (replaced by a newer model) or <c>rollback</c>.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? RetiredBy { get; init; }

    /// <summary>Creates the record of a newly promoted version.</summary>
    public static ModelRecord From(ModelVersion version, DateTimeOffset promotedAt)
    {
        ArgumentNullException.ThrowIfNull(version);
        return new ModelRecord
        {
            Model = version.Model,
            Provider = version.Provider,
            RunId = version.RunId,
            JobId = version.JobId,
            BaseModel = version.BaseModel,
            RootBaseModel = version.RootBaseModel is { } root && root != version.BaseModel ? root : null,
            Metrics = version.Metrics is null ? new Dictionary<string, double>() : new Dictionary<string, double>(version.Metrics, StringComparer.Ordinal),
            PromotedAt = promotedAt,
        };
    }
}

/// <summary>
/// An alias and its models, as stored in <c>aliases/{alias}.json</c>: the current model, the models it replaced (most
/// recent first) and the models removed by rollbacks (most recent first).
/// </summary>
public sealed record ModelAlias
{
    /// <summary>The document format version.</summary>
    public int SchemaVersion { get; init; } = 1;

    /// <summary>The alias name.</summary>
    public required string Alias { get; init; }

    /// <summary>The model the alias points to.</summary>
    public required ModelRecord Current { get; init; }

    /// <summary>Previous models, most recent first; <see cref="ModelRegistry.RollbackAsync(string, CancellationToken)"/> returns to the first one.</summary>
    public IReadOnlyList<ModelRecord> History { get; init; } = [];

    /// <summary>Models taken off the alias by rollbacks, most recent first (kept for audit; never rolled back to).</summary>
    public IReadOnlyList<ModelRecord> RolledBack { get; init; } = [];

    /// <summary>The Azure OpenAI deployment serving the alias (null on providers without deployments).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public AliasDeployment? Deployment { get; init; }

    /// <summary>What the lifecycle sweep last found (retirement of the base, re-training); null until it has run.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public AliasLifecycle? Lifecycle { get; init; }

    /// <summary>Incremented by every change of the alias's model (promotion, rollback).</summary>
    public long Revision { get; init; }

    /// <summary>When the alias last changed (UTC).</summary>
    public DateTimeOffset UpdatedAt { get; init; }

    /// <summary>The blob's ETag when read (not stored in the document).</summary>
    [JsonIgnore]
    public string? ETag { get; init; }
}
