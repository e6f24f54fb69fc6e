using System.Globalization;
using FineTuneOrchestrator.Evaluation;

namespace FineTuneOrchestrator.Pipeline;

/// <summary>
/// Turns per-case results into the evaluation's verdicts: whether it can judge at all (failed calls), which of the job's
/// models is the candidate (the best by the primary metric), how it compares with the baseline case by case (paired test,
/// 95 % interval) and where it is worse (per class). Pure: the summary activity reads and writes the blobs.
/// </summary>
internal static class EvaluationReport
{
    public static EvaluationSummary Build(SummarizeInput input, EvaluationPlan plan, IReadOnlyDictionary<string, List<CaseResult>> results, IReadOnlyDictionary<string, ModelMetrics> metrics)
    {
        var candidates = input.Models.Where(m => m.Role != EvalCases.BaselineRole).ToList();
        EvaluatedModel? baselineModel = input.Models.FirstOrDefault(m => m.Role == EvalCases.BaselineRole);
        string? metric = plan.PrimaryMetric;

        EvaluatedModel chosen = candidates[0];
        string? choice = null;
        if (candidates.Count > 1)
        {
            (chosen, choice) = Choose(candidates, metrics, metric);
        }

        Comparison? comparison = null;
        List<SliceComparison>? regressions = null;
        if (baselineModel is not null && metric is not null)
        {
            List<(double Candidate, double Baseline, string? Class)> pairs = Pairs(results[chosen.Role], results[baselineModel.Role], metric);
            comparison = Comparison.Compare(metric, [.. pairs.Select(p => p.Candidate)], [.. pairs.Select(p => p.Baseline)], plan.IsBinary(metric), input.Seed)
                .AdjustedFor(candidates.Count);
            if (plan.ClassField is { } field)
            {
                regressions = Regressions(pairs, field, metric, plan.IsBinary(metric), input.Seed);
            }
        }

        return new EvaluationSummary
        {
            CaseCount = input.CaseCount,
            SetSize = input.SetSize == 0 ? input.CaseCount : input.SetSize,
            Sampling = input.Sampling,
            PrimaryMetric = metric,
            Candidate = metrics[chosen.Role],
            Baseline = baselineModel is null ? null : metrics[baselineModel.Role],
            Candidates = candidates.Count > 1 ? [.. candidates.Select(c => metrics[c.Role])] : null,
            Choice = choice,
            Comparison = comparison,
            SignificanceLevel = comparison is null ? null : input.SignificanceLevel,
            Regressions = regressions,
            Inconclusive = Inconclusive(input, plan, metrics),
            Overlap = input.Overlap,
        };
    }

    private static (EvaluatedModel Chosen, string Choice) Choose(List<EvaluatedModel> candidates, IReadOnlyDictionary<string, ModelMetrics> metrics, string? metric)
    {
        if (metric is null)
        {
            return (candidates[0], "The final model: with no primary metric there is nothing to choose a checkpoint by.");
        }

        // The best score wins; a tie goes to the newer model (the list is newest first).
        EvaluatedModel best = candidates.OrderByDescending(c => metrics[c.Role].PrimaryScore ?? double.NegativeInfinity).ThenBy(candidates.IndexOf).First();
        string Describe(EvaluatedModel m) => $"{(m.Step is { } s ? $"step {s}" : "the final model")} {Pct(metrics[m.Role].PrimaryScore)}";
        string others = string.Join(", ", candidates.Where(c => c != best).Select(Describe));
        string what = best.Step is { } step ? $"The checkpoint at step {step}" : "The final model";
        return (best, $"{what} scored best on {metric} of the {candidates.Count} evaluated ({Describe(best)}; {others}). Chosen on the same cases it is compared on, so its p-value is multiplied by {candidates.Count} (Bonferroni).");
    }

    /// <summary>The cases both models answered and were scored on, by case index.</summary>
    internal static List<(double Candidate, double Baseline, string? Class)> Pairs(List<CaseResult> candidate, List<CaseResult> baseline, string metric)
    {
        var byIndex = baseline.ToDictionary(c => c.Index);
        var pairs = new List<(double, double, string?)>();
        foreach (CaseResult? c in candidate.OrderBy(c => c.Index))
        {
            if (byIndex.TryGetValue(c.Index, out CaseResult? b) && EvaluationPlan.Score(c, metric) is { } cs && EvaluationPlan.Score(b, metric) is { } bs)
            {
                pairs.Add((cs, bs, c.ExpectedClass));
            }
        }

        return pairs;
    }

    private static List<SliceComparison> Regressions(List<(double Candidate, double Baseline, string? Class)> pairs, string field, string metric, bool binary, int seed)
    {
        var slices = new List<SliceComparison>();
        foreach (IGrouping<string, (double Candidate, double Baseline, string? Class)> group in pairs.Where(p => p.Class is not null).GroupBy(p => p.Class!, StringComparer.Ordinal))
        {
            var c = Comparison.Compare(metric, [.. group.Select(p => p.Candidate)], [.. group.Select(p => p.Baseline)], binary, seed);
            if (c.Difference < 0)
            {
                slices.Add(new SliceComparison($"{field}={group.Key}", metric, c.Candidate, c.Baseline, c.Difference, c.N, c.PValue));
            }
        }

        return [.. slices.OrderBy(s => s.Difference).ThenBy(s => s.Slice, StringComparer.Ordinal)];
    }

    private static string? Inconclusive(SummarizeInput input, EvaluationPlan plan, IReadOnlyDictionary<string, ModelMetrics> metrics)
    {
        double limit = plan.Spec.MaxFailedCallShare ?? EvaluationPlan.DefaultMaxFailedCallShare;
        var problems = new List<string>();
        foreach (EvaluatedModel model in input.Models)
        {
            ModelMetrics m = metrics[model.Role];
            if (m.Cases > 0 && m.FailedCalls > limit * m.Cases)
            {
                string kinds = m.FailureKinds is null ? "" : " (" + string.Join(", ", m.FailureKinds.Select(k => $"{k.Value} {k.Key.Replace('_', ' ')}")) + ")";
                problems.Add($"{m.FailedCalls} of {m.Cases} calls to the {model.Role} {m.Model} failed{kinds}; first: {m.FirstError}");
            }

            if (plan.PrimaryMetric is { } metric && m.Graders?.GetValueOrDefault(metric) is { } grader && grader.Errors > limit * Math.Max(1, grader.N + grader.Errors))
            {
                problems.Add($"the grader {metric} could not grade {grader.Errors} of {grader.N + grader.Errors} answers of the {model.Role}");
            }
        }

        return problems.Count == 0
            ? null
            : $"The evaluation is inconclusive: {string.Join("; ", problems)}. More than {Pct(limit)} of calls failed (evaluation.maxFailedCallShare), so the scores would measure the service, not the model; the candidate was not judged worse. Run again when the service answers.";
    }

    internal static string Pct(double? value) => value is { } v ? (v * 100).ToString("0.#", CultureInfo.InvariantCulture) + " %" : "-";
}
