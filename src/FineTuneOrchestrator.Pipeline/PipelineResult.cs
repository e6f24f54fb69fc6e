namespace FineTuneOrchestrator.Pipeline;

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
