using System.Text.Json;
using System.Text.Json.Nodes;

namespace FineTuneOrchestrator.Evaluation;

/// <summary><c>multi</c>: sub-graders by name and a formula over their scores; passes at <c>pass_threshold</c> when one is given.</summary>
public sealed record MultiGrader(string Name, IReadOnlyDictionary<string, Grader> Graders, GraderFormula Formula, double? PassThreshold) : Grader(Name)
{
    /// <inheritdoc/>
    public override bool IsBinary => false;

    /// <inheritdoc/>
    public override bool UsesJudge => Graders.Values.Any(g => g.UsesJudge);

    /// <inheritdoc/>
    public override async Task<Grade> GradeAsync(JsonObject context, IJudge? judge, CancellationToken cancellationToken)
    {
        var scores = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach ((string key, Grader grader) in Graders)
        {
            Grade grade = await grader.GradeAsync(context, judge, cancellationToken).ConfigureAwait(false);
            if (grade.Error is not null)
            {
                return new Grade(0, PassThreshold is null ? null : false, $"{key}: {grade.Error}");
            }

            scores[key] = grade.Score;
        }

        double score = Formula.Evaluate(scores);
        if (!double.IsFinite(score))
        {
            return new Grade(0, PassThreshold is null ? null : false, $"calculate_output gave {score} (a division by zero, or the log of 0)");
        }

        return new Grade(score, PassThreshold is { } t ? score >= t : null);
    }

    internal static MultiGrader? Read(JsonElement o, string path, string name, List<(string, string)> errors)
    {
        var graders = new Dictionary<string, Grader>(StringComparer.Ordinal);
        if (!o.TryGetProperty("graders", out JsonElement map) || map.ValueKind != JsonValueKind.Object || !map.EnumerateObject().Any())
        {
            errors.Add(($"{path}.graders", "graders is required: an object of named sub-graders, {\"similarity\": {...}, \"check\": {...}}."));
        }
        else
        {
            foreach (JsonProperty sub in map.EnumerateObject())
            {
                if (Parse(sub.Value, $"{path}.graders.{sub.Name}", errors, nested: true) is { } grader)
                {
                    graders[sub.Name] = grader;
                }
            }
        }

        GraderFormula? formula = null;
        string? text = Str(o, "calculate_output");
        if (text is null)
        {
            errors.Add(($"{path}.calculate_output", "calculate_output is required: a formula over the graders' names, e.g. 0.5 * similarity + 0.5 * check."));
        }
        else
        {
            try
            {
                formula = GraderFormula.Parse(text);
                if (formula.Names.FirstOrDefault(n => !graders.ContainsKey(n)) is { } unknown)
                {
                    errors.Add(($"{path}.calculate_output", $"calculate_output uses '{unknown}', which is not one of graders ({string.Join(", ", graders.Keys)})."));
                }
            }
            catch (FormatException e)
            {
                errors.Add(($"{path}.calculate_output", e.Message));
            }
        }

        return formula is null ? null : new MultiGrader(name, graders, formula, Num(o, "pass_threshold"));
    }
}
