using System.Text.Json;
using System.Text.Json.Nodes;

namespace FineTuneOrchestrator.Evaluation;

/// <summary>A grader's verdict on one case: a score, whether it passes (null when the grader has no threshold), or why it could not grade.</summary>
public sealed record Grade(double Score, bool? Passed, string? Error = null);

/// <summary>
/// A grader in OpenAI's shape (the evals API's <c>testing_criteria</c>, the reinforcement fine-tuning graders), parsed and
/// checked once: a run config's <c>evaluation.graders</c> is a list of these.
/// </summary>
public abstract record Grader(string Name)
{
    /// <summary>The grader types read.</summary>
    public static readonly IReadOnlyList<string> Types = ["string_check", "text_similarity", "score_model", "label_model", "multi"];

    /// <summary>The <c>text_similarity</c> metrics implemented (<see cref="TextSimilarity"/>).</summary>
    public static readonly IReadOnlyList<string> Metrics = ["fuzzy_match", "bleu", "rouge_1", "rouge_2", "rouge_3", "rouge_4", "rouge_5", "rouge_l", "exact"];

    /// <summary>Whether the grader's verdict is pass/fail (its score is 0 or 1): compared with McNemar's test, else by bootstrap.</summary>
    public abstract bool IsBinary { get; }

    /// <summary>Whether grading needs the judge.</summary>
    public virtual bool UsesJudge => false;

    /// <summary>Grades one case.</summary>
    public abstract Task<Grade> GradeAsync(JsonObject context, IJudge? judge, CancellationToken cancellationToken);

    /// <summary>
    /// Parses <paramref name="json"/>; null with <paramref name="errors"/> (field path, message) when it is not a grader this
    /// app can run. <paramref name="path"/> prefixes the field names (e.g. <c>evaluation.graders[0]</c>).
    /// </summary>
    public static Grader? Parse(JsonElement json, string path, List<(string Field, string Message)> errors, bool nested = false)
    {
        ArgumentNullException.ThrowIfNull(errors);
        if (json.ValueKind != JsonValueKind.Object)
        {
            errors.Add((path, "A grader is an object with a type (" + string.Join(", ", Types) + ")."));
            return null;
        }

        int before = errors.Count;
        string? type = Str(json, "type"), name = Str(json, "name");
        if (name is null || name.Length is 0 or > 64 || name.Any(char.IsControl))
        {
            errors.Add(($"{path}.name", "name is required: 1 to 64 characters."));
        }

        Grader? grader = type switch
        {
            "string_check" => StringCheckGrader.Read(json, path, name ?? "", errors),
            "text_similarity" => TextSimilarityGrader.Read(json, path, name ?? "", errors),
            "score_model" => ScoreModelGrader.Read(json, path, name ?? "", errors),
            "label_model" => LabelModelGrader.Read(json, path, name ?? "", errors),
            "multi" when nested => Fail(errors, $"{path}.type", "a multi grader cannot contain another multi grader."),
            "multi" => MultiGrader.Read(json, path, name ?? "", errors),
            "python" => Fail(errors, $"{path}.type", "python graders are not run by this app (no sandbox); use string_check, text_similarity, score_model, label_model or multi."),
            _ => Fail(errors, $"{path}.type", $"type must be one of {string.Join(", ", Types)}."),
        };
        return errors.Count == before ? grader : null;
    }

    internal static Grader? Fail(List<(string, string)> errors, string field, string message)
    {
        errors.Add((field, message));
        return null;
    }

    internal static string? Str(JsonElement o, string field) => o.TryGetProperty(field, out JsonElement v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    internal static double? Num(JsonElement o, string field) => o.TryGetProperty(field, out JsonElement v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : null;

    internal static string RequireTemplate(JsonElement o, string path, string field, List<(string, string)> errors)
    {
        string? value = Str(o, field);
        if (value is null || value.Length > 20_000)
        {
            errors.Add(($"{path}.{field}", $"{field} is required: a text or a template such as {{{{ sample.output_text }}}}."));
        }

        return value ?? string.Empty;
    }

    internal static List<JudgeMessage> ReadMessages(JsonElement o, string path, List<(string, string)> errors)
    {
        var messages = new List<JudgeMessage>();
        if (!o.TryGetProperty("input", out JsonElement input) || input.ValueKind != JsonValueKind.Array || input.GetArrayLength() == 0)
        {
            errors.Add(($"{path}.input", "input is required: the judge's messages, [{\"role\": \"system\", \"content\": \"...\"}, ...]."));
            return messages;
        }

        int i = 0;
        foreach (JsonElement m in input.EnumerateArray())
        {
            string? role = Str(m, "role"), content = Str(m, "content");
            if (role is not ("system" or "developer" or "user" or "assistant") || content is null)
            {
                errors.Add(($"{path}.input[{i}]", "each message needs a role (system, developer, user, assistant) and a text content."));
            }
            else
            {
                messages.Add(new JudgeMessage(role, content));
            }

            i++;
        }

        return messages;
    }

    internal static JudgeSampling ReadSampling(JsonElement o)
    {
        if (!o.TryGetProperty("sampling_params", out JsonElement s) || s.ValueKind != JsonValueKind.Object)
        {
            return new JudgeSampling(0, null, null, null);
        }

        // OpenAI spells the limit max_completions_tokens in sampling_params; max_tokens is read too.
        int? maxTokens = (int?)(Num(s, "max_completions_tokens") ?? Num(s, "max_tokens"));
        return new JudgeSampling(Num(s, "temperature") ?? 0, maxTokens, (int?)Num(s, "seed"), Num(s, "top_p"));
    }

    internal static List<JudgeMessage> Render(IReadOnlyList<JudgeMessage> messages, JsonObject context) =>
        [.. messages.Select(m => m with { Content = GraderTemplate.Render(m.Content, context) })];
}
