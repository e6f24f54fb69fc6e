using System.Text.Json;
using System.Text.Json.Nodes;

namespace FineTuneOrchestrator.Evaluation;

/// <summary><c>text_similarity</c>: a <see cref="TextSimilarity"/> metric; passes at <c>pass_threshold</c> when one is given.</summary>
public sealed record TextSimilarityGrader(string Name, string Input, string Reference, string Metric, double? PassThreshold) : Grader(Name)
{
    /// <inheritdoc/>
    public override bool IsBinary => false;

    /// <inheritdoc/>
    public override Task<Grade> GradeAsync(JsonObject context, IJudge? judge, CancellationToken cancellationToken)
    {
        string input = GraderTemplate.Render(Input, context), reference = GraderTemplate.Render(Reference, context);
        double score = Metric switch
        {
            "bleu" => TextSimilarity.Bleu(input, reference),
            "fuzzy_match" => TextSimilarity.FuzzyMatch(input, reference),
            "rouge_l" => TextSimilarity.RougeL(input, reference),
            "exact" => TextSimilarity.Exact(input, reference),
            _ => TextSimilarity.RougeN(input, reference, Metric[^1] - '0'),
        };
        return Task.FromResult(new Grade(score, PassThreshold is { } t ? score >= t : null));
    }

    internal static TextSimilarityGrader? Read(JsonElement o, string path, string name, List<(string, string)> errors)
    {
        string input = RequireTemplate(o, path, "input", errors), reference = RequireTemplate(o, path, "reference", errors);
        string? metric = Str(o, "evaluation_metric");
        if (metric is null || !Metrics.Contains(metric))
        {
            errors.Add(($"{path}.evaluation_metric", metric is "gleu" or "meteor" or "cosine"
                ? $"evaluation_metric {metric} is not computed by this app (it needs data or embeddings it does not have); use one of {string.Join(", ", Metrics)}."
                : $"evaluation_metric must be one of {string.Join(", ", Metrics)}."));
        }

        double? threshold = Num(o, "pass_threshold");
        if (threshold is { } t && !(t >= 0 && t <= 1))
        {
            errors.Add(($"{path}.pass_threshold", "pass_threshold must be between 0 and 1."));
        }

        return new TextSimilarityGrader(name, input, reference, metric ?? "exact", threshold);
    }
}
