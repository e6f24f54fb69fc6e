using FineTuneOrchestrator.Providers;

namespace FineTuneOrchestrator.Pipeline;

// Payloads between the orchestration and the evaluation activities: case counts, model names and chunk indexes; the
// cases and answers stay in blobs. Public so that the Functions app's trigger functions can name them in their signatures.

/// <summary>
/// Input of the evaluation preparation activity: the staged held-out file, how many cases (a stratified sample by
/// <paramref name="LabelField"/> when the file holds more), in chunks of <paramref name="CasesPerChunk"/>.
/// </summary>
public sealed record PrepareEvaluationInput(string RunId, string EvalBlob, int MaxCases, int CasesPerChunk, string? LabelField = null, int Seed = 0);

/// <summary>Cases written for evaluation.</summary>
/// <param name="CaseCount">Cases written.</param>
/// <param name="ChunkCount">Chunks written.</param>
/// <param name="SkippedLines">Lines that are no case (no assistant answer).</param>
/// <param name="SetSize">Cases in the file before sampling.</param>
/// <param name="Sampling">How the cases were chosen, in words.</param>
/// <param name="LongestExpectedTokens">A generous estimate of the longest expected answer, in tokens (for the default output limit).</param>
public sealed record PrepareEvaluationOutput(int CaseCount, int ChunkCount, int SkippedLines, int SetSize = 0, string? Sampling = null, int LongestExpectedTokens = 0);

/// <summary>Input of the model availability activity.</summary>
/// <param name="Model">The model (or checkpoint) to make callable.</param>
/// <param name="DeploymentName">The Azure deployment name it gets.</param>
/// <param name="Purpose">Evaluation (Developer tier by default) or serving (the alias's SKU).</param>
public sealed record EnsureModelInput(string Model, string DeploymentName, DeploymentPurpose Purpose = DeploymentPurpose.Evaluation);

/// <summary>Input of the baseline activity.</summary>
public sealed record BaselineInput(string? Alias, string BaseModel);

/// <summary>The baseline: the model and the name to call it by.</summary>
public sealed record BaselineOutput(string Model, string CallableName, string Source);

/// <summary>Input of the activity listing the job's models to evaluate: the final model and up to <paramref name="Count"/> − 1 checkpoints before it.</summary>
public sealed record ListCandidatesInput(string JobId, string FineTunedModel, int Count);

/// <summary>
/// A model of the job that can be evaluated and promoted: <paramref name="Model"/> is what is deployed or called (on Azure a
/// checkpoint's id, elsewhere its model name), <paramref name="Name"/> the name people read, <paramref name="Step"/> the
/// training step (null for the final model).
/// </summary>
public sealed record CandidateModel(string Model, string Name, int? Step);

/// <summary>Input of the chunk evaluation activity.</summary>
public sealed record EvaluateChunkInput(
    string RunId,
    string Role,
    string Model,
    string CallableName,
    int ChunkIndex,
    int MaxOutputTokens,
    double? RequestsPerSecond,
    int? Seed,
    string? JsonSchema,
    string? AccuracyField,
    string? ClassField,
    EvaluationSpec? Spec = null,
    int MaxConcurrency = 16);

/// <summary>A model evaluated under a role (candidate, checkpoint-{step} or baseline).</summary>
public sealed record EvaluatedModel(string Role, string Model, string CallableName, int? Step = null);

/// <summary>Input of the summary activity.</summary>
public sealed record SummarizeInput(
    string RunId,
    int ChunkCount,
    int CaseCount,
    IReadOnlyList<EvaluatedModel> Models,
    bool HasSchema,
    string? AccuracyField,
    string? ClassField,
    EvaluationSpec? Spec = null,
    int Seed = 0,
    int SetSize = 0,
    string? Sampling = null,
    OverlapReport? Overlap = null,
    double? SignificanceLevel = null);

/// <summary>One evaluated case as stored in the per-case results.</summary>
internal sealed record CaseResult
{
    public int Index { get; init; }
    public required string Role { get; init; }
    public required string Model { get; init; }
    public string? Expected { get; init; }
    public string? Output { get; init; }
    public string? ToolCalls { get; init; }

    /// <summary>Why the call failed (after its retries); null when the model answered.</summary>
    public string? Error { get; init; }

    /// <summary>The kind of failure (<see cref="CallOutcome.FailureKind"/>).</summary>
    public string? FailureKind { get; init; }

    /// <summary>The service's refusal to answer (content filter): an answer, scored as wrong.</summary>
    public string? Refusal { get; init; }

    public int Throttled { get; init; }
    public bool JsonValid { get; init; }
    public bool? SchemaValid { get; init; }
    public string? SchemaErrors { get; init; }
    public string? ExpectedLabel { get; init; }
    public string? PredictedLabel { get; init; }
    public bool? Correct { get; init; }
    public string? ExpectedClass { get; init; }
    public string? PredictedClass { get; init; }

    /// <summary>Each grader's verdict on this answer.</summary>
    public Dictionary<string, CaseGrade>? Grades { get; init; }

    public double LatencyMs { get; init; }
    public int PromptTokens { get; init; }
    public int CompletionTokens { get; init; }

    /// <summary>True when the model answered (not a failed call).</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public bool Answered => Error is null;
}

/// <summary>A grader's verdict on one answer: its score, whether it passed, or why it could not grade.</summary>
public sealed record CaseGrade(double Score, bool? Passed, string? Error = null);
