using FineTuneOrchestrator.Pipeline;
using FineTuneOrchestrator.Validation;

namespace FineTuneOrchestrator.Api.Pipelines;

/// <summary>
/// What a run costs: the estimate made from the dataset before anything was spent, and what was spent once known
/// (training billed by trained tokens at the base model's training price, plus the evaluation's inference calls).
/// </summary>
/// <param name="EstimatedUsd">The validation's estimate of the training cost (null before validation, or without a price).</param>
/// <param name="TrainingUsd">Trained tokens × the base model's training price (null until the provider reports trained tokens).</param>
/// <param name="EvaluationUsd">Inference cost of the evaluation, candidate and baseline (null when not evaluated or not priced).</param>
/// <param name="ActualUsd">Training plus evaluation, as far as known (null until the training cost is known).</param>
public sealed record RunCostView(decimal? EstimatedUsd, decimal? TrainingUsd, decimal? EvaluationUsd, decimal? ActualUsd)
{
    /// <summary>The cost view of a run, or null when nothing about its cost is known yet.</summary>
    /// <param name="baseModel">The run's base model (its training price comes from <see cref="ModelCatalog.Default"/>, as the estimate's does).</param>
    /// <param name="estimatedUsd">The validation's estimate.</param>
    /// <param name="trainedTokens">Trained tokens reported by the provider.</param>
    /// <param name="evaluation">The evaluation, once done.</param>
    public static RunCostView? From(string? baseModel, decimal? estimatedUsd, long? trainedTokens, EvaluationSummary? evaluation)
    {
        decimal? training = null;
        if (trainedTokens is { } tokens && baseModel is not null && ModelCatalog.Default.TryGet(baseModel, out ModelInfo? model) && model.TrainingPricePerMillionTokens is { } price)
        {
            training = Math.Round(tokens * price / 1_000_000m, 6);
        }

        decimal? evaluationCost = (evaluation?.Candidate?.CostUsd, evaluation?.Baseline?.CostUsd) switch
        {
            (null, null) => null,
            var (c, b) => (c ?? 0) + (b ?? 0),
        };

        if (estimatedUsd is null && training is null && evaluationCost is null)
        {
            return null;
        }

        return new RunCostView(estimatedUsd, training, evaluationCost, training is null ? null : training + (evaluationCost ?? 0));
    }
}
