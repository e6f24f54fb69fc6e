using System.Text.Json.Serialization;

namespace FineTuneOrchestrator.Providers;

// What the provider's fine-tuning jobs API takes and returns.

/// <summary>The fine-tuning method.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<TrainingMethod>))]
public enum TrainingMethod
{
    /// <summary>Supervised fine-tuning on chat examples.</summary>
    Supervised,

    /// <summary>Direct preference optimization on preferred/non-preferred pairs.</summary>
    Dpo,
}

/// <summary>Hyperparameters; a null value means "auto" (the service chooses).</summary>
/// <param name="Epochs">Number of epochs, 1..50.</param>
/// <param name="BatchSize">Batch size, 1..256.</param>
/// <param name="LearningRateMultiplier">Learning-rate multiplier, &gt; 0.</param>
/// <param name="Beta">DPO beta, in (0, 2].</param>
public sealed record JobHyperparameters(int? Epochs = null, int? BatchSize = null, double? LearningRateMultiplier = null, double? Beta = null);

/// <summary>What to fine-tune. <see cref="RunId"/> is the idempotency key: one run, one job.</summary>
public sealed record JobRequest
{
    /// <summary>The pipeline run this job belongs to; stored in the job's metadata under <see cref="RunIdMetadataKey"/>.</summary>
    public required string RunId { get; init; }

    /// <summary>The base model to fine-tune (e.g. <c>gpt-4.1-mini</c>).</summary>
    public required string Model { get; init; }

    /// <summary>The processed training file id.</summary>
    public required string TrainingFileId { get; init; }

    /// <summary>The processed validation file id, if any.</summary>
    public string? ValidationFileId { get; init; }

    /// <summary>Added to the fine-tuned model's name (1..64 characters on OpenAI, at most 40 on Azure).</summary>
    public string? Suffix { get; init; }

    /// <summary>Training seed, for reproducibility.</summary>
    public int? Seed { get; init; }

    /// <summary>Supervised or DPO.</summary>
    public TrainingMethod Method { get; init; } = TrainingMethod.Supervised;

    /// <summary>
    /// Azure OpenAI's training type (<c>Standard</c>, <c>GlobalStandard</c> or <c>developerTier</c>, sent as <c>trainingType</c>);
    /// null leaves it to the service (Standard). Other providers refuse a value.
    /// </summary>
    public string? TrainingType { get; init; }

    /// <summary>Hyperparameters (null: all auto).</summary>
    public JobHyperparameters? Hyperparameters { get; init; }

    /// <summary>Extra metadata (at most 15 keys: the run id takes one of the service's 16).</summary>
    public IReadOnlyDictionary<string, string>? Metadata { get; init; }

    /// <summary>The metadata key that carries the run id.</summary>
    public const string RunIdMetadataKey = "fto_run_id";
}

/// <summary>A job's status.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ProviderJobStatus>))]
public enum ProviderJobStatus
{
    /// <summary>A status this client does not know.</summary>
    Unknown,

    /// <summary>Checking the files.</summary>
    ValidatingFiles,

    /// <summary>Waiting for capacity.</summary>
    Queued,

    /// <summary>Training.</summary>
    Running,

    /// <summary>Paused by the user.</summary>
    Paused,

    /// <summary>Done; <see cref="ProviderJob.FineTunedModel"/> is set.</summary>
    Succeeded,

    /// <summary>Failed; <see cref="ProviderJob.Error"/> says why.</summary>
    Failed,

    /// <summary>Cancelled.</summary>
    Cancelled,
}

/// <summary>Why a job failed, as the service said it.</summary>
/// <param name="Code">Machine-readable code (e.g. <c>invalid_training_file</c>).</param>
/// <param name="Message">The service's message, unchanged.</param>
/// <param name="Param">The parameter at fault, if any.</param>
public sealed record JobError(string? Code, string Message, string? Param);

/// <summary>A fine-tuning job.</summary>
public sealed record ProviderJob
{
    /// <summary>The job id.</summary>
    public required string Id { get; init; }

    /// <summary>Status.</summary>
    public required ProviderJobStatus Status { get; init; }

    /// <summary>The status string the service sent.</summary>
    public required string StatusText { get; init; }

    /// <summary>The base model (aliases resolved).</summary>
    public required string Model { get; init; }

    /// <summary>The fine-tuned model, once the job succeeded.</summary>
    public string? FineTunedModel { get; init; }

    /// <summary>Billable tokens trained, once known.</summary>
    public long? TrainedTokens { get; init; }

    /// <summary>When the service expects the job to finish.</summary>
    public DateTimeOffset? EstimatedFinish { get; init; }

    /// <summary>Creation time.</summary>
    public required DateTimeOffset CreatedAt { get; init; }

    /// <summary>Finish time.</summary>
    public DateTimeOffset? FinishedAt { get; init; }

    /// <summary>The failure, for failed jobs (null otherwise, including the service's <c>"error": {}</c>).</summary>
    public JobError? Error { get; init; }

    /// <summary>Training file id.</summary>
    public string? TrainingFileId { get; init; }

    /// <summary>Validation file id.</summary>
    public string? ValidationFileId { get; init; }

    /// <summary>Result files (e.g. step_metrics.csv).</summary>
    public IReadOnlyList<string> ResultFileIds { get; init; } = [];

    /// <summary>The training seed.</summary>
    public int? Seed { get; init; }

    /// <summary>The job's metadata (includes the run id tag).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; init; } = new Dictionary<string, string>();

    /// <summary>Hyperparameters as the service resolved them (null values: still "auto").</summary>
    public JobHyperparameters? Hyperparameters { get; init; }

    /// <summary>The run id tag, when present.</summary>
    [JsonIgnore]
    public string? RunId => Metadata.TryGetValue(JobRequest.RunIdMetadataKey, out string? runId) ? runId : null;

    /// <summary>Whether the job has reached a final state.</summary>
    [JsonIgnore]
    public bool IsTerminal => Status is ProviderJobStatus.Succeeded or ProviderJobStatus.Failed or ProviderJobStatus.Cancelled;
}

/// <summary>Training metrics at a step (from metrics events and checkpoints).</summary>
public sealed record JobMetrics
{
    /// <summary>Step number.</summary>
    public int Step { get; init; }

    /// <summary>Total steps of the job, when the service says.</summary>
    public int? TotalSteps { get; init; }

    /// <summary>Training loss.</summary>
    public double? TrainLoss { get; init; }

    /// <summary>Training mean token accuracy.</summary>
    public double? TrainMeanTokenAccuracy { get; init; }

    /// <summary>Validation loss (on a validation batch).</summary>
    public double? ValidLoss { get; init; }

    /// <summary>Validation mean token accuracy.</summary>
    public double? ValidMeanTokenAccuracy { get; init; }

    /// <summary>Validation loss over the whole validation file (checkpoints).</summary>
    public double? FullValidLoss { get; init; }

    /// <summary>Validation accuracy over the whole validation file (checkpoints).</summary>
    public double? FullValidMeanTokenAccuracy { get; init; }
}

/// <summary>One job event.</summary>
/// <param name="Id">Event id (the cursor for <see cref="IFineTuningProvider.ListEventsAsync"/>).</param>
/// <param name="CreatedAt">When it happened.</param>
/// <param name="Level">info, warn or error.</param>
/// <param name="Message">The service's message.</param>
/// <param name="Type">message or metrics.</param>
/// <param name="Metrics">Parsed metrics for metrics events.</param>
public sealed record ProviderJobEvent(string Id, DateTimeOffset CreatedAt, string Level, string Message, string Type, JobMetrics? Metrics);

/// <summary>A job checkpoint (a callable model at a step).</summary>
/// <param name="Id">Checkpoint id.</param>
/// <param name="CreatedAt">When it was created.</param>
/// <param name="FineTunedModelCheckpoint">The callable model name of the checkpoint.</param>
/// <param name="StepNumber">Step.</param>
/// <param name="Metrics">Metrics at that step.</param>
public sealed record ProviderCheckpoint(string Id, DateTimeOffset CreatedAt, string FineTunedModelCheckpoint, int StepNumber, JobMetrics Metrics);
