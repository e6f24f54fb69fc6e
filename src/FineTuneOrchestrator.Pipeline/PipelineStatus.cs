namespace FineTuneOrchestrator.Pipeline;

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
