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

/// <summary>An Azure deployment created through the ARM stand-in.</summary>
internal sealed class SimDeployment
{
    public required string Name { get; init; }
    public required string Account { get; init; }
    public required string Id { get; init; }
    public required string ModelName { get; set; }
    public required string ModelVersion { get; set; }
    public required string SkuName { get; set; }
    public required int Capacity { get; set; }
    public required DateTimeOffset ReadyAt { get; set; }
    public string ProvisioningState(DateTimeOffset now) => now >= ReadyAt ? "Succeeded" : "Creating";
}
