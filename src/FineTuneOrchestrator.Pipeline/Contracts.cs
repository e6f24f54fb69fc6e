using System.Text.Json;
using System.Text.Json.Serialization;

namespace FineTuneOrchestrator.Pipeline;

/// <summary>Names of the pipeline's orchestrations and external events (stable: HTTP routes and operators use them).</summary>
public static class PipelineNames
{
    /// <summary>The longest instance ID the Azure Storage backend accepts (a run id, and the clean-up id derived from it, stay within it).</summary>
    public const int MaxInstanceIdLength = 256;

    /// <summary>The pipeline orchestration.</summary>
    public const string Orchestrator = "FineTunePipeline";

    /// <summary>The sub-orchestration that polls the provider job for one bounded batch of polls.</summary>
    public const string PollBatchOrchestrator = "FineTunePipeline_PollBatch";

    /// <summary>
    /// The orchestration that cleans up after a run ended from outside (terminated): cancels its unfinished provider jobs
    /// and removes its evaluation deployment. See <see cref="PipelineCleanup"/>.
    /// </summary>
    public const string CleanupOrchestrator = "FineTunePipeline_Cleanup";

    /// <summary>
    /// The orchestration that watches for terminated runs while any run is active (one instance, <see cref="RunWatchInstanceId"/>).
    /// See <see cref="RunWatch"/>.
    /// </summary>
    public const string RunWatchOrchestrator = "FineTunePipeline_RunWatch";

    /// <summary>The one instance of <see cref="RunWatchOrchestrator"/> per task hub.</summary>
    public const string RunWatchInstanceId = "fine-tune-run-watch";

    /// <summary>External event carrying an <see cref="ApprovalDecision"/>.</summary>
    public const string ApprovalEvent = "approval";

    /// <summary>External event carrying a <see cref="CancelRequest"/> (payload optional): cancels the provider job and ends the run.</summary>
    public const string CancelEvent = "cancel";
}

/// <summary>Final outcomes of a run (<see cref="PipelineResult.Outcome"/>).</summary>
public static class PipelineOutcomes
{
    /// <summary>The fine-tuned model passed the gates (and approval) and the alias now points to it.</summary>
    public const string Promoted = "Promoted";

    /// <summary>Training and evaluation finished but the gates refused the model (or no alias was configured).</summary>
    public const string NotPromoted = "NotPromoted";

    /// <summary>The dataset failed validation (the orchestration fails; the report is stored next to the dataset).</summary>
    public const string ValidationFailed = "ValidationFailed";

    /// <summary>The estimated training cost is over <see cref="BudgetSpec.MaxCostUsd"/> (the orchestration fails).</summary>
    public const string BudgetExceeded = "BudgetExceeded";

    /// <summary>The provider job failed (the orchestration fails).</summary>
    public const string JobFailed = "JobFailed";

    /// <summary>A <c>cancel</c> event ended the run; the provider job was cancelled.</summary>
    public const string Cancelled = "Cancelled";

    /// <summary>An approver rejected the model.</summary>
    public const string Rejected = "Rejected";

    /// <summary>No approval decision arrived in time.</summary>
    public const string ApprovalTimedOut = "ApprovalTimedOut";

    /// <summary>The job did not finish before <see cref="PollingSpec.DeadlineHours"/>; it was cancelled (the orchestration fails).</summary>
    public const string DeadlineExceeded = "DeadlineExceeded";

    /// <summary>An unexpected error (storage, provider, configuration) ended the run; the message says which stage.</summary>
    public const string Failed = "Failed";
}

/// <summary>Stages reported in <see cref="PipelineStatus.Stage"/>.</summary>
public static class PipelineStages
{
    /// <summary>Validating the dataset.</summary>
    public const string Validating = "Validating";

    /// <summary>Writing normalized, content-addressed copies to the staging container.</summary>
    public const string Staging = "Staging";

    /// <summary>Uploading staged files to the provider and waiting until processed.</summary>
    public const string Uploading = "Uploading";

    /// <summary>Creating the provider job.</summary>
    public const string CreatingJob = "CreatingJob";

    /// <summary>Training (polling the job).</summary>
    public const string Training = "Training";

    /// <summary>Evaluating the candidate and the baseline.</summary>
    public const string Evaluating = "Evaluating";

    /// <summary>Waiting for an approval decision.</summary>
    public const string AwaitingApproval = "AwaitingApproval";

    /// <summary>Promoting the alias.</summary>
    public const string Promoting = "Promoting";

    /// <summary>Sending the notification.</summary>
    public const string Notifying = "Notifying";

    /// <summary>Finished (successfully or not).</summary>
    public const string Completed = "Completed";

    /// <summary>Ended with a failure.</summary>
    public const string Failed = "Failed";
}

/// <summary>
/// The run configuration: the orchestration's input (camelCase JSON). Only <see cref="Dataset"/> and <see cref="BaseModel"/>
/// are required; see the README for defaults and limits. Check it with <see cref="PipelineRunRequestValidator.Validate(PipelineRunRequest)"/>.
/// </summary>
public sealed record PipelineRunRequest
{
    /// <summary>Run id (also the orchestration instance id and the provider job's idempotency key). Generated by the starter when null.</summary>
    public string? RunId { get; init; }

    /// <summary>
    /// The run this one restarts (set by the app when it restarts a run: pipeline run ids are never reused, so a restart is a
    /// new run with its own id, linked to the old one). Not accepted from a start request.
    /// </summary>
    public string? RestartOf { get; init; }

    /// <summary>Where the data is.</summary>
    public DatasetSpec Dataset { get; init; } = new();

    /// <summary>
    /// The model to fine-tune: a name or alias from the validation library's model catalog, a fine-tuned model id
    /// (continuous fine-tuning), or <c>alias:NAME</c> for the alias's current model (the app resolves it at start).
    /// </summary>
    public string BaseModel { get; init; } = "";

    /// <summary>Where a fine-tuned base model came from (set by the app when <see cref="BaseModel"/> is a fine-tune; not accepted from a start request).</summary>
    public LineageSpec? Lineage { get; init; }

    /// <summary>The catalog model whose tokenizer, context limit and prices apply: the lineage's root base, else <see cref="BaseModel"/>.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public string CatalogModel => Lineage?.RootBaseModel ?? ModelLineage.RootBaseOf(BaseModel) ?? BaseModel;

    /// <summary><c>supervised</c> (default) or <c>dpo</c>.</summary>
    public string Method { get; init; } = "supervised";

    /// <summary>
    /// Azure OpenAI's training type: <c>Standard</c> (regional), <c>GlobalStandard</c> or <c>Developer</c> (sent as Microsoft's
    /// <c>developerTier</c>: half the Global price, pre-emptible). Null: the service's default, Standard. Azure only.
    /// </summary>
    public string? TrainingType { get; init; }

    /// <summary>Training hyperparameters; null values mean "auto".</summary>
    public HyperparametersSpec? Hyperparameters { get; init; }

    /// <summary>Suffix of the fine-tuned model name (1..40 characters; letters, digits, '-', '_', '.').</summary>
    public string? Suffix { get; init; }

    /// <summary>Training seed.</summary>
    public int? Seed { get; init; }

    /// <summary>Evaluation settings.</summary>
    public EvaluationSpec? Evaluation { get; init; }

    /// <summary>Promotion thresholds.</summary>
    public GateSpec? Gates { get; init; }

    /// <summary>Model alias to promote (registry alias rules). Without it nothing is promoted.</summary>
    public string? Alias { get; init; }

    /// <summary>Human approval before promotion.</summary>
    public ApprovalSpec? Approval { get; init; }

    /// <summary>Cost limit.</summary>
    public BudgetSpec? Budget { get; init; }

    /// <summary>Job polling.</summary>
    public PollingSpec? Polling { get; init; }

    /// <summary>Notification when the run ends.</summary>
    public NotifySpec? Notify { get; init; }
}

/// <summary>
/// The dataset: either <see cref="Name"/> (blobs <c>{name}/train.jsonl</c>, optional <c>{name}/validation.jsonl</c> and
/// <c>{name}/eval.jsonl</c> in the datasets container) or an explicit <see cref="Container"/> and <see cref="TrainBlob"/>.
/// </summary>
public sealed record DatasetSpec
{
    /// <summary>Dataset name: 1..63 of lowercase letters, digits, '-', '_', '.', no "..".</summary>
    public string? Name { get; init; }

    /// <summary>Container (default: the configured datasets container, <c>datasets</c>).</summary>
    public string? Container { get; init; }

    /// <summary>Training blob (default <c>{name}/train.jsonl</c>).</summary>
    public string? TrainBlob { get; init; }

    /// <summary>Validation blob (default <c>{name}/validation.jsonl</c> when it exists; otherwise a deterministic split of the training file).</summary>
    public string? ValidationBlob { get; init; }

    /// <summary>Held-out evaluation blob (default <c>{name}/eval.jsonl</c> when it exists; otherwise the validation set).</summary>
    public string? EvalBlob { get; init; }

    /// <summary>ETag of the training blob this run is for (set by the blob trigger); the run fails if the blob changed.</summary>
    public string? Version { get; init; }

    /// <summary>Share of examples split off for validation when no validation blob exists (0 = no split). Default 0.1.</summary>
    public double? ValidationFraction { get; init; }
}

/// <summary>Hyperparameters; null means "auto".</summary>
public sealed record HyperparametersSpec
{
    /// <summary>Epochs, 1..50.</summary>
    public int? Epochs { get; init; }

    /// <summary>Batch size, 1..256.</summary>
    public int? BatchSize { get; init; }

    /// <summary>Learning-rate multiplier, &gt; 0 (at most 10).</summary>
    public double? LearningRateMultiplier { get; init; }

    /// <summary>DPO beta, in (0, 2].</summary>
    public double? Beta { get; init; }
}

/// <summary>Evaluation settings.</summary>
public sealed record EvaluationSpec
{
    /// <summary>Most held-out cases evaluated (default 200, at most 5000).</summary>
    public int? MaxCases { get; init; }

    /// <summary>
    /// A ceiling on evaluation calls in flight per model (default 16, 1..64). Below it the pace follows the provider's
    /// quota (<c>x-ratelimit-*</c> headers, <c>retry-after</c> on 429), so this rarely needs setting.
    /// </summary>
    public int? MaxParallelism { get; init; }

    /// <summary>Most chat calls per second per model (null: no limit).</summary>
    public double? RequestsPerSecond { get; init; }

    /// <summary>JSON Schema (inline object) the model's output must satisfy, for the schema adherence metric.</summary>
    public JsonElement? JsonSchema { get; init; }

    /// <summary>Top-level field of the JSON output compared for exact-match accuracy (e.g. <c>category</c>).</summary>
    public string? AccuracyField { get; init; }

    /// <summary>Top-level field used for per-class precision/recall/F1 (default: <see cref="AccuracyField"/>).</summary>
    public string? ClassField { get; init; }

    /// <summary>Most output tokens per evaluation call (default: twice the longest expected answer, see the README).</summary>
    public int? MaxOutputTokens { get; init; }

    /// <summary>Evaluate the baseline (the alias's current model, else the base model) too. Default true.</summary>
    public bool? CompareWithBaseline { get; init; }

    /// <summary>
    /// Graders in OpenAI's shapes (a JSON array of <c>string_check</c>, <c>text_similarity</c>, <c>score_model</c>,
    /// <c>label_model</c> and <c>multi</c> graders); each scores every case of every model evaluated.
    /// </summary>
    public JsonElement? Graders { get; init; }

    /// <summary>
    /// The metric the candidate is compared and chosen by: a grader's name, <c>accuracy</c>, <c>schemaAdherence</c> or
    /// <c>jsonValid</c>. Default: the first grader, else <c>accuracy</c> with an accuracy field, else <c>schemaAdherence</c>
    /// with a schema; free text without graders has none.
    /// </summary>
    public string? PrimaryMetric { get; init; }

    /// <summary>
    /// The <c>response_format</c> evaluation calls send: <c>json_schema</c> (the default with a <see cref="JsonSchema"/>:
    /// strict structured output, as a consuming app sends it), <c>json_object</c> or <c>text</c> (none).
    /// </summary>
    public string? ResponseFormat { get; init; }

    /// <summary>
    /// Send the schema with <c>strict: true</c> (default), which guarantees the shape and needs a schema that follows the
    /// structured-outputs rules; false sends it with <c>strict: false</c>, as an app whose schema does not would.
    /// </summary>
    public bool? StrictSchema { get; init; }

    /// <summary>The schema's name in <c>response_format.json_schema.name</c> (default <c>answer</c>).</summary>
    public string? SchemaName { get; init; }

    /// <summary>Sampling temperature of evaluation calls (default 0).</summary>
    public double? Temperature { get; init; }

    /// <summary>
    /// The largest share of calls to one model that may fail (after retries: transport, 429, 5xx, deployment not ready)
    /// before the evaluation is inconclusive (default 0.05).
    /// </summary>
    public double? MaxFailedCallShare { get; init; }

    /// <summary>How many of the newest models of the job to evaluate (1..3: the final model and the checkpoints before it; default 1).</summary>
    public int? Checkpoints { get; init; }

    /// <summary>Word-trigram similarity at which an evaluation prompt counts as a near duplicate of a training prompt (default 0.9).</summary>
    public double? OverlapSimilarity { get; init; }

    /// <summary>The largest share of evaluation cases that may duplicate training prompts before the run fails (default 0.1; 1: only warn).</summary>
    public double? MaxOverlapShare { get; init; }
}

/// <summary>Promotion thresholds (rates in [0, 1]); a missing threshold is not checked.</summary>
public sealed record GateSpec
{
    /// <summary>Least share of answers that parse as JSON.</summary>
    public double? MinJsonValidRate { get; init; }

    /// <summary>Least share of answers valid against <see cref="EvaluationSpec.JsonSchema"/>.</summary>
    public double? MinSchemaAdherence { get; init; }

    /// <summary>Least exact-match accuracy on <see cref="EvaluationSpec.AccuracyField"/>.</summary>
    public double? MinAccuracy { get; init; }

    /// <summary>Least gain of the primary metric over the baseline (candidate − baseline), in [-1, 1]; normally [0, 1].</summary>
    public double? MinImprovementOverBaseline { get; init; }

    /// <summary>Least mean score of the primary metric.</summary>
    public double? MinScore { get; init; }

    /// <summary>
    /// Largest p-value of the paired test of candidate against baseline (default 0.05, applied whenever a baseline was
    /// evaluated; 1 turns it off): a candidate whose gain could be chance is not promoted.
    /// </summary>
    public double? MaxPValue { get; init; }
}

/// <summary>Human approval.</summary>
public sealed record ApprovalSpec
{
    /// <summary>Wait for an <c>approval</c> event before promoting.</summary>
    public bool Required { get; init; }

    /// <summary>How long to wait (default 86400 = 24 h; 1 .. 30 days).</summary>
    public double? TimeoutSeconds { get; init; }
}

/// <summary>Cost limit.</summary>
public sealed record BudgetSpec
{
    /// <summary>Refuse to train when the estimated training cost is over this (USD).</summary>
    public decimal? MaxCostUsd { get; init; }
}

/// <summary>Polling of the provider job.</summary>
public sealed record PollingSpec
{
    /// <summary>First and shortest interval between polls (default 15 s; at least 0.1 s).</summary>
    public double? MinIntervalSeconds { get; init; }

    /// <summary>Longest interval between polls (default 300 s).</summary>
    public double? MaxIntervalSeconds { get; init; }

    /// <summary>Give up (cancel the job, fail the run) after this many hours of training (default 72).</summary>
    public double? DeadlineHours { get; init; }
}

/// <summary>Notification.</summary>
public sealed record NotifySpec
{
    /// <summary>http(s) URL that receives a POST with the <see cref="PipelineResult"/> JSON when the run ends.</summary>
    public string? WebhookUrl { get; init; }
}

/// <summary>Payload of the <c>approval</c> event.</summary>
/// <param name="Approved">True to promote.</param>
/// <param name="By">Who decided.</param>
/// <param name="Comment">Why.</param>
public sealed record ApprovalDecision(bool Approved, string? By = null, string? Comment = null);

/// <summary>Payload of the <c>cancel</c> event (optional).</summary>
/// <param name="By">Who cancelled.</param>
/// <param name="Reason">Why.</param>
public sealed record CancelRequest(string? By = null, string? Reason = null);

/// <summary>The orchestration's output.</summary>
public sealed record PipelineResult
{
    /// <summary>The run id.</summary>
    public required string RunId { get; init; }

    /// <summary>One of <see cref="PipelineOutcomes"/>.</summary>
    public required string Outcome { get; init; }

    /// <summary>Whether the alias now points to the fine-tuned model.</summary>
    public bool Promoted { get; init; }

    /// <summary>Why the run ended as it did (gate failures, rejection, ...).</summary>
    public IReadOnlyList<string> Reasons { get; init; } = [];

    /// <summary>Things an operator should look at that did not change the outcome (e.g. a deployment that could not be removed).</summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];

    /// <summary>Dataset validation.</summary>
    public ValidationSummary? Validation { get; init; }

    /// <summary>The provider job.</summary>
    public JobSummary? Job { get; init; }

    /// <summary>Evaluation metrics.</summary>
    public EvaluationSummary? Evaluation { get; init; }

    /// <summary>Promotion, when it happened.</summary>
    public PromotionSummary? Promotion { get; init; }

    /// <summary>When the run started (orchestration time).</summary>
    public DateTime StartedAt { get; init; }

    /// <summary>When the run ended (orchestration time).</summary>
    public DateTime CompletedAt { get; init; }
}

/// <summary>Validation of the training (and validation) file.</summary>
public sealed record ValidationSummary
{
    /// <summary>Whether the data can be trained on.</summary>
    public bool Valid { get; init; }

    /// <summary>Examples in the training file.</summary>
    public int ExampleCount { get; init; }

    /// <summary>Examples without errors.</summary>
    public int ValidExampleCount { get; init; }

    /// <summary>Errors in all checked files.</summary>
    public int ErrorCount { get; init; }

    /// <summary>Warnings in all checked files.</summary>
    public int WarningCount { get; init; }

    /// <summary>Errors by code.</summary>
    public IReadOnlyDictionary<string, int> ErrorCounts { get; init; } = new Dictionary<string, int>();

    /// <summary>Tokens in the training file.</summary>
    public long TotalTokens { get; init; }

    /// <summary>Estimated epochs.</summary>
    public int EstimatedEpochs { get; init; }

    /// <summary>Estimated trained (billed) tokens.</summary>
    public long EstimatedTrainedTokens { get; init; }

    /// <summary>Estimated training cost in USD (null when the model has no price).</summary>
    public decimal? EstimatedCostUsd { get; init; }

    /// <summary>Where the JSON report is: <c>{container}/{blob}</c>.</summary>
    public string? ReportBlob { get; init; }
}

/// <summary>The provider job.</summary>
public sealed record JobSummary
{
    /// <summary>Job id.</summary>
    public string? Id { get; init; }

    /// <summary>Final status (provider's text, e.g. <c>succeeded</c>).</summary>
    public string? Status { get; init; }

    /// <summary>The fine-tuned model.</summary>
    public string? FineTunedModel { get; init; }

    /// <summary>Trained tokens.</summary>
    public long? TrainedTokens { get; init; }

    /// <summary>Training file id.</summary>
    public string? TrainingFileId { get; init; }

    /// <summary>Validation file id.</summary>
    public string? ValidationFileId { get; init; }

    /// <summary>Error code, for failed jobs.</summary>
    public string? ErrorCode { get; init; }

    /// <summary>Error message, for failed jobs.</summary>
    public string? Error { get; init; }
}

/// <summary>The promotion.</summary>
public sealed record PromotionSummary
{
    /// <summary>The alias.</summary>
    public required string Alias { get; init; }

    /// <summary>The model the alias now points to (fine-tuned model id).</summary>
    public required string Model { get; init; }

    /// <summary>The name to call it by (Azure: the deployment).</summary>
    public string? CallableName { get; init; }

    /// <summary>The model the alias pointed to before (null for a new alias).</summary>
    public string? PreviousModel { get; init; }

    /// <summary>The alias revision after the promotion.</summary>
    public long Revision { get; init; }
}

/// <summary>The orchestration's custom status, updated at every stage and poll.</summary>
public sealed record PipelineStatus
{
    /// <summary>One of <see cref="PipelineStages"/>.</summary>
    public required string Stage { get; init; }

    /// <summary>Human-readable detail.</summary>
    public string? Message { get; init; }

    /// <summary>Provider job id.</summary>
    public string? JobId { get; init; }

    /// <summary>Provider job status text (e.g. <c>running</c>).</summary>
    public string? JobStatus { get; init; }

    /// <summary>Latest training step.</summary>
    public int? Step { get; init; }

    /// <summary>Total steps, when known.</summary>
    public int? TotalSteps { get; init; }

    /// <summary>Latest training loss.</summary>
    public double? TrainLoss { get; init; }

    /// <summary>Latest validation loss.</summary>
    public double? ValidLoss { get; init; }

    /// <summary>Trained tokens, once known.</summary>
    public long? TrainedTokens { get; init; }

    /// <summary>
    /// The estimated training cost in USD from validation (<see cref="ValidationSummary.EstimatedCostUsd"/>), once validated;
    /// here too so lists of running runs can show it (the validation summary itself is only in the output).
    /// </summary>
    public decimal? EstimatedCostUsd { get; init; }

    /// <summary>The provider's estimated finish.</summary>
    public DateTimeOffset? EstimatedFinish { get; init; }

    /// <summary>Validation report location, once written.</summary>
    public string? ReportBlob { get; init; }

    /// <summary>The outcome (one of <see cref="PipelineOutcomes"/>) once the run has ended, including failed runs.</summary>
    public string? Outcome { get; init; }

    /// <summary>Where the run's <see cref="PipelineResult"/> JSON is stored (<c>{container}/{blob}</c>), once the run has ended.</summary>
    public string? ResultBlob { get; init; }

    /// <summary>When this status was set (orchestration time).</summary>
    public DateTime UpdatedAt { get; init; }
}

/// <summary>JSON settings for pipeline payloads (camelCase; <see cref="Strict"/> refuses unknown fields).</summary>
public static class PipelineJson
{
    /// <summary>Web defaults (camelCase, case-insensitive), nulls omitted.</summary>
    public static JsonSerializerOptions Default { get; } = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>Like <see cref="Default"/>, indented (stored reports).</summary>
    public static JsonSerializerOptions Indented { get; } = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        WriteIndented = true,
    };

    /// <summary>Like <see cref="Default"/> but unknown members are an error (for reading run requests from users).</summary>
    public static JsonSerializerOptions Strict { get; } = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    };
}
