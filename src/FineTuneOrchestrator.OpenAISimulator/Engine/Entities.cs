using System.Text.Json.Nodes;

namespace FineTuneOrchestrator.OpenAISimulator.Engine;

/// <summary>A stored file (uploaded directly, assembled from an upload, or produced by a job).</summary>
internal sealed class StoredFile
{
    public required string Id { get; init; }
    public required string FileName { get; init; }
    public required string Purpose { get; init; }
    public required byte[] Content { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public required DateTimeOffset ProcessedAt { get; init; }
}

/// <summary>A multi-part upload in progress.</summary>
internal sealed class StoredUpload
{
    public required string Id { get; init; }
    public required string FileName { get; init; }
    public required string Purpose { get; init; }
    public required long Bytes { get; init; }
    public required string MimeType { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public required DateTimeOffset ExpiresAt { get; init; }
    public string Status { get; set; } = "pending";
    public Dictionary<string, byte[]> Parts { get; } = new(StringComparer.Ordinal);
    public string? FileId { get; set; }
}

/// <summary>One event of a job's event log.</summary>
internal sealed record JobEvent(string Id, DateTimeOffset CreatedAt, string Level, string Message, string Type, JsonObject? Data);

/// <summary>One checkpoint of a job.</summary>
internal sealed record JobCheckpoint(string Id, DateTimeOffset CreatedAt, string ModelName, int Step, JsonObject Metrics);

/// <summary>The error a failed job carries.</summary>
internal sealed record JobFailure(string Code, string Message, string? Param);

/// <summary>Requested hyperparameters: null means "auto".</summary>
internal sealed record Hyperparameters(int? NEpochs, int? BatchSize, double? LearningRateMultiplier, double? Beta);

/// <summary>A fine-tuning job and everything the simulator tracks to move it along.</summary>
internal sealed class SimJob
{
    public required string Id { get; init; }
    public required string Model { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public required string TrainingFile { get; init; }
    public string? ValidationFile { get; init; }
    public string? Suffix { get; init; }
    public required int Seed { get; init; }
    public Dictionary<string, string>? Metadata { get; init; }
    public required string MethodType { get; init; }
    public required Hyperparameters Requested { get; init; }
    public required string PlannedModelName { get; init; }
    public required bool Azure { get; init; }

    /// <summary>
    /// The root base model id: <see cref="Model"/> itself for a base model, else the base its parent chain started from
    /// (the new model's name, tokenizer, retirement dates and fallback answers are the root's).
    /// </summary>
    public required string BaseModel { get; init; }

    /// <summary>For continuous fine-tuning: the fine-tuned model's job this job trains on, and the checkpoint step when a checkpoint was named.</summary>
    public SimJob? Parent { get; init; }
    public int? ParentCheckpointStep { get; init; }

    /// <summary>The Azure <c>trainingType</c> as sent (null: not given, which means Standard); always null on the OpenAI face.</summary>
    public string? TrainingType { get; init; }

    public string Status { get; set; } = "validating_files";
    public DateTimeOffset? FinishedAt { get; set; }
    public string? FineTunedModel { get; set; }

    /// <summary>The fine-tuned model was deleted (DELETE /models/{model}); the job and its checkpoints stay.</summary>
    public bool ModelDeleted { get; set; }
    public long? TrainedTokens { get; set; }
    public JobFailure? Error { get; set; }
    public List<string> ResultFiles { get; } = [];
    public List<JobEvent> Events { get; } = [];
    public List<JobCheckpoint> Checkpoints { get; } = [];

    // Lifecycle internals.
    public DateTimeOffset FilesReadyAt { get; init; }
    public JobFailure? ValidationFailure { get; init; }
    public IReadOnlyList<TrainingExample> Examples { get; init; } = [];
    public int ValidationExampleCount { get; init; }
    public long TokensPerEpoch { get; init; }
    public int Epochs { get; init; }
    public int BatchSize { get; init; }
    public double LearningRateMultiplier { get; init; }
    public int StepsPerEpoch { get; init; }
    public int TotalSteps { get; init; }
    public bool FailsDuringTraining { get; init; }
    public double InitialLoss { get; init; }
    public double FinalLoss { get; init; }
    public int Step { get; set; }
    public DateTimeOffset NextAt { get; set; }
    public TimeSpan PausedRemaining { get; set; }
    public bool HyperparametersResolved { get; set; }
    public List<double[]> StepMetrics { get; } = [];

    public bool IsTerminal => Status is "succeeded" or "failed" or "cancelled";
}

/// <summary>
/// An Azure deployment created through the ARM stand-in (or pre-installed for a base model). Its life follows Microsoft
/// Learn: <c>Creating</c> (or <c>Updating</c>, still serving the previous model) until ready, then <c>Succeeded</c>; see
/// <see cref="DeploymentLifecycle"/> for the not-ready window, Developer-tier expiry and idle deletion.
/// </summary>
internal sealed class SimDeployment
{
    public required string Name { get; init; }
    public required string Account { get; init; }
    public required string Id { get; init; }
    public required string ModelName { get; set; }
    public required string ModelVersion { get; set; }

    /// <summary>The SKU name as the caller sent it (SKU names are compared case-insensitively, echoed as sent).</summary>
    public required string SkuName { get; set; }
    public required int Capacity { get; set; }
    public required DateTimeOffset ReadyAt { get; set; }
    public required DateTimeOffset CreatedAt { get; init; }
    public required DateTimeOffset LastModifiedAt { get; set; }

    /// <summary>One of the base-model deployments added at start: it never expires.</summary>
    public bool Preinstalled { get; init; }

    /// <summary>The deployed model is a fine-tuned model (or checkpoint), so the idle-deletion rule applies.</summary>
    public bool ServesFineTunedModel { get; set; }

    /// <summary>The pending change is an update of a deployment that had been ready; it keeps serving <see cref="PreviousModelName"/>.</summary>
    public bool Updating { get; set; }

    /// <summary>The model served while an update is pending.</summary>
    public string? PreviousModelName { get; set; }

    /// <summary>Until this instant chat by the deployment's name answers DeploymentNotFound (new deployments only).</summary>
    public DateTimeOffset NotReadyUntil { get; set; } = DateTimeOffset.MinValue;

    /// <summary>When the deployment got its <c>DeveloperTier</c> SKU; null for other SKUs.</summary>
    public DateTimeOffset? DeveloperTierSince { get; set; }

    /// <summary>The start of the idle clock: when it last became ready, or its last chat completion.</summary>
    public DateTimeOffset IdleSince { get; set; }

    public string ProvisioningState(DateTimeOffset now) => now >= ReadyAt ? "Succeeded" : Updating ? "Updating" : "Creating";

    /// <summary>The model that answers chat by this deployment's name now; null while it cannot be called.</summary>
    public string? ServingModel(DateTimeOffset now)
    {
        if (now < NotReadyUntil)
        {
            return null;
        }

        return now >= ReadyAt ? ModelName : Updating ? PreviousModelName : null;
    }
}
