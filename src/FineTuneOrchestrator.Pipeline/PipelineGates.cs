using FineTuneOrchestrator.Evaluation;

namespace FineTuneOrchestrator.Pipeline;

/// <summary>
/// Promotion gates. An inconclusive evaluation refuses on that alone (its scores measure the service). Otherwise every
/// configured threshold is checked, and whenever a baseline was compared, the significance gate (<see cref="GateSpec.MaxPValue"/>).
/// </summary>
internal static class PipelineGates
{
    public static List<string> Check(GateSpec? gates, EvaluationSummary evaluation)
    {
        var reasons = new List<string>();
        ModelMetrics? c = evaluation.Candidate;
        if (c is null)
        {
            reasons.Add("The candidate was not evaluated.");
            return reasons;
        }

        if (evaluation.Inconclusive is { } inconclusive)
        {
            reasons.Add(inconclusive);
            return reasons;
        }

        if (c.Cases > 0 && c.FailedCalls == c.Cases) reasons.Add($"Every evaluation call to {c.Model} failed.");
        Comparison? comparison = evaluation.Comparison;
        string metric = evaluation.PrimaryMetric ?? "accuracy";
        if (gates?.MinJsonValidRate is { } j && c.JsonValidRate < j) reasons.Add($"JSON validity {c.JsonValidRate:0.####} is below the minimum {j:0.####}.");
        if (gates?.MinSchemaAdherence is { } s && (c.SchemaAdherence ?? 0) < s) reasons.Add($"Schema adherence {c.SchemaAdherence ?? 0:0.####} is below the minimum {s:0.####}.");
        if (gates?.MinAccuracy is { } a && (c.Accuracy ?? 0) < a) reasons.Add($"Accuracy {c.Accuracy ?? 0:0.####} is below the minimum {a:0.####}.");
        if (gates?.MinScore is { } minScore && (c.PrimaryScore ?? 0) < minScore) reasons.Add($"{metric} {c.PrimaryScore ?? 0:0.####} is below the minimum {minScore:0.####}.");
        if (gates?.MinImprovementOverBaseline is { } imp)
        {
            ModelMetrics? baseline = evaluation.Baseline;
            if (baseline is null || comparison is null)
            {
                reasons.Add($"No baseline {metric} to compare with.");
            }
            else if (comparison.Difference < imp)
            {
                reasons.Add($"The {metric} gain over the baseline {baseline.Model} is {comparison.Difference:0.####} ({comparison.Candidate:0.####} vs {comparison.Baseline:0.####} on {comparison.N} paired cases); the minimum is {imp:0.####}.");
            }
        }

        double maxP = gates?.MaxPValue ?? EvaluationPlan.DefaultMaxPValue;
        // A two-sided test: a small p with the candidate behind is a significant regression, refused all the more.
        if (comparison is not null && maxP < 1 && (comparison.Difference <= 0 || comparison.PValue > maxP))
        {
            reasons.Add(NotSignificant(comparison, maxP));
        }

        return reasons;
    }

    private static string NotSignificant(FineTuneOrchestrator.Evaluation.Comparison c, double maxP)
    {
        string test = c.Test == FineTuneOrchestrator.Evaluation.Comparison.McNemar ? "the exact McNemar test" : "a paired bootstrap";
        string interval = $"95 % interval [{c.Ci95[0]:+0.####;-0.####;0}, {c.Ci95[1]:+0.####;-0.####;0}]";
        if (c.Difference <= 0)
        {
            return $"The candidate is not better than the baseline on {c.Metric}: {c.Candidate:0.####} vs {c.Baseline:0.####} ({c.Difference:+0.####;-0.####;0}, {interval}, p = {c.PValue:0.####} by {test} on {c.N} paired cases).";
        }

        string more = c.CandidateOnly is { } b && c.BaselineOnly is { } d && c.N > 0
            ? $" About {EvaluationChecks.CasesToDetect(c.Difference, Math.Max(c.Difference, (b + d) / (double)c.N))} cases would show a real gain of this size."
            : "";
        return $"The improvement on {c.Metric} is not statistically significant: {c.Candidate:0.####} vs {c.Baseline:0.####} ({c.Difference:+0.####}, {interval}), p = {c.PValue:0.####} by {test} on {c.N} paired cases, above gates.maxPValue {maxP:0.####}. A gain this size on this many cases could be chance, so the candidate is not promoted.{more}";
    }
}
