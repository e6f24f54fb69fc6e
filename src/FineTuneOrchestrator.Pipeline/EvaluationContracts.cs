using FineTuneOrchestrator.Evaluation;

namespace FineTuneOrchestrator.Pipeline;

/// <summary>Evaluation of the candidate (the best of the job's evaluated models) and the baseline.</summary>
public sealed record EvaluationSummary
{
    /// <summary>Cases evaluated.</summary>
    public int CaseCount { get; init; }

    /// <summary>Cases in the held-out set (before sampling down to <see cref="EvaluationSpec.MaxCases"/>).</summary>
    public int SetSize { get; init; }

    /// <summary>How the cases were chosen: all, or a stratified sample (by which label, with which seed).</summary>
    public string? Sampling { get; init; }

    /// <summary>The metric the candidate was compared and chosen by (null when the task has none, e.g. free text without graders).</summary>
    public string? PrimaryMetric { get; init; }

    /// <summary>The candidate's metrics: the fine-tuned model, or the checkpoint chosen (<see cref="Choice"/>).</summary>
    public ModelMetrics? Candidate { get; init; }

    /// <summary>The baseline's metrics (the alias's current model, else the base model).</summary>
    public ModelMetrics? Baseline { get; init; }

    /// <summary>Every model of the job evaluated, when more than one was (<see cref="EvaluationSpec.Checkpoints"/>), newest first.</summary>
    public IReadOnlyList<ModelMetrics>? Candidates { get; init; }

    /// <summary>Which model was chosen among <see cref="Candidates"/>, and why, in words.</summary>
    public string? Choice { get; init; }

    /// <summary>Candidate against baseline on the primary metric, paired (null without a baseline or a primary metric).</summary>
    public FineTuneOrchestrator.Evaluation.Comparison? Comparison { get; init; }

    /// <summary>The significance level the comparison is judged at (<see cref="GateSpec.MaxPValue"/>; null when that gate is off).</summary>
    public double? SignificanceLevel { get; init; }

    /// <summary>Classes (or slices) where the candidate scores below the baseline, worst first.</summary>
    public IReadOnlyList<SliceComparison>? Regressions { get; init; }

    /// <summary>Why the evaluation cannot judge the candidate (too many failed calls), when it cannot; null when it can.</summary>
    public string? Inconclusive { get; init; }

    /// <summary>Evaluation prompts also found in the training data.</summary>
    public OverlapReport? Overlap { get; init; }

    /// <summary>Per-case results (JSONL): <c>{container}/{blob}</c>.</summary>
    public string? ResultsBlob { get; init; }

    /// <summary>This summary as JSON: <c>{container}/{blob}</c>.</summary>
    public string? SummaryBlob { get; init; }
}

/// <summary>Metrics of one model on the held-out cases.</summary>
public sealed record ModelMetrics
{
    /// <summary>The model evaluated (the name it was called by).</summary>
    public required string Model { get; init; }

    /// <summary>Its role: <c>candidate</c> (the job's final model), <c>checkpoint-{step}</c> or <c>baseline</c>.</summary>
    public string? Role { get; init; }

    /// <summary>The training step of a checkpoint (null for the final model and the baseline).</summary>
    public int? Step { get; init; }

    /// <summary>Cases evaluated.</summary>
    public int Cases { get; init; }

    /// <summary>Calls that failed after their retries (transport, 429, 5xx, deployment not ready, request refused): not answers, not scored.</summary>
    public int FailedCalls { get; init; }

    /// <summary>Failed calls by kind (<c>rate_limited</c>, <c>server_error</c>, <c>transport</c>, <c>not_ready</c>, <c>rejected</c>).</summary>
    public IReadOnlyDictionary<string, int>? FailureKinds { get; init; }

    /// <summary>The error of the first failed call, if any (e.g. <c>404 DeploymentNotFound: …</c>).</summary>
    public string? FirstError { get; init; }

    /// <summary>Answers the service refused to give (content filter): scored as wrong answers.</summary>
    public int Refusals { get; init; }

    /// <summary>429s met on the way (each retried after its retry-after).</summary>
    public int Throttled { get; init; }

    /// <summary>Share of answers that parse as JSON (of the answered cases).</summary>
    public double JsonValidRate { get; init; }

    /// <summary>Share of answers valid against the schema (null without a schema).</summary>
    public double? SchemaAdherence { get; init; }

    /// <summary>Exact-match accuracy on the accuracy field (null without one).</summary>
    public double? Accuracy { get; init; }

    /// <summary>Macro-averaged F1 over the classes of the class field (null without one).</summary>
    public double? MacroF1 { get; init; }

    /// <summary>Per-class precision, recall, F1 and support.</summary>
    public IReadOnlyDictionary<string, ClassMetrics>? PerClass { get; init; }

    /// <summary>Each grader's mean score, pass rate and counts.</summary>
    public IReadOnlyDictionary<string, GraderMetrics>? Graders { get; init; }

    /// <summary>The mean of the primary metric over the answered cases.</summary>
    public double? PrimaryScore { get; init; }

    /// <summary>Median latency (ms).</summary>
    public double LatencyP50Ms { get; init; }

    /// <summary>95th percentile latency (ms).</summary>
    public double LatencyP95Ms { get; init; }

    /// <summary>Prompt tokens, all cases.</summary>
    public long PromptTokens { get; init; }

    /// <summary>Completion tokens, all cases.</summary>
    public long CompletionTokens { get; init; }

    /// <summary>Inference cost in USD (null when no price is configured for the model).</summary>
    public decimal? CostUsd { get; init; }
}

/// <summary>Precision, recall and F1 of one class.</summary>
/// <param name="Precision">TP / (TP + FP).</param>
/// <param name="Recall">TP / (TP + FN).</param>
/// <param name="F1">Harmonic mean of precision and recall.</param>
/// <param name="Support">Cases whose expected class is this one.</param>
public sealed record ClassMetrics(double Precision, double Recall, double F1, int Support);

/// <summary>One grader's results for one model.</summary>
/// <param name="Type">The grader's type (<c>string_check</c>, ...).</param>
/// <param name="Mean">Mean score over the graded cases.</param>
/// <param name="PassRate">Share of graded cases that passed (null when the grader has no pass threshold).</param>
/// <param name="N">Cases graded.</param>
/// <param name="Errors">Cases the grader could not grade (a failed judge call, an answer it could not read).</param>
/// <param name="Binary">Whether the scores are pass/fail.</param>
public sealed record GraderMetrics(string Type, double Mean, double? PassRate, int N, int Errors, bool Binary);

/// <summary>The primary metric on one class of cases, candidate against baseline.</summary>
/// <param name="Slice">The class, as <c>{field}={value}</c>.</param>
/// <param name="Metric">The metric.</param>
/// <param name="Candidate">The candidate's mean on the slice.</param>
/// <param name="Baseline">The baseline's mean on the slice.</param>
/// <param name="Difference">Candidate − baseline.</param>
/// <param name="N">Paired cases in the slice.</param>
/// <param name="PValue">The paired test's two-sided p-value within the slice.</param>
public sealed record SliceComparison(string Slice, string Metric, double Candidate, double Baseline, double Difference, int N, double PValue);

/// <summary>Evaluation prompts that also occur in the training data.</summary>
/// <param name="Exact">Cases whose user messages are a training example's, word for word.</param>
/// <param name="Near">Cases whose user messages are a near duplicate of a training example's.</param>
/// <param name="Share">(Exact + near) / cases checked.</param>
/// <param name="Threshold">The near-duplicate similarity used.</param>
/// <param name="Examples">The first few matches.</param>
public sealed record OverlapReport(int Exact, int Near, double Share, double Threshold, IReadOnlyList<OverlapMatch> Examples);
