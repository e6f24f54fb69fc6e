using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace FineTuneOrchestrator.Evaluation;

/// <summary>A message of a model grader's prompt (its content a template).</summary>
public sealed record JudgeMessage(string Role, string Content);

/// <summary>Sampling of a judge call.</summary>
public sealed record JudgeSampling(double? Temperature, int? MaxTokens, int? Seed, double? TopP);

/// <summary>The model behind <c>score_model</c> and <c>label_model</c> graders (the provider's chat).</summary>
public interface IJudge
{
    /// <summary>
    /// The judge's answer to <paramref name="messages"/>, asked for with <paramref name="responseFormat"/> (a chat
    /// completions <c>response_format</c>: the graders ask for structured output, as OpenAI's own model graders do).
    /// Service errors propagate: the caller counts them as failed calls, not as grades.
    /// </summary>
    Task<string> CompleteAsync(string model, IReadOnlyList<JudgeMessage> messages, JudgeSampling sampling, JsonObject responseFormat, CancellationToken cancellationToken);
}

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

/// <summary><c>string_check</c>: eq, ne, like (the input contains the reference), ilike (the same, ignoring case). Score 1 or 0.</summary>
public sealed record StringCheckGrader(string Name, string Input, string Reference, string Operation) : Grader(Name)
{
    /// <inheritdoc/>
    public override bool IsBinary => true;

    /// <inheritdoc/>
    public override Task<Grade> GradeAsync(JsonObject context, IJudge? judge, CancellationToken cancellationToken)
    {
        string input = GraderTemplate.Render(Input, context), reference = GraderTemplate.Render(Reference, context);
        bool pass = Operation switch
        {
            "eq" => string.Equals(input, reference, StringComparison.Ordinal),
            "ne" => !string.Equals(input, reference, StringComparison.Ordinal),
            "like" => input.Contains(reference, StringComparison.Ordinal),
            _ => input.Contains(reference, StringComparison.OrdinalIgnoreCase),
        };
        return Task.FromResult(new Grade(pass ? 1 : 0, pass));
    }

    internal static StringCheckGrader? Read(JsonElement o, string path, string name, List<(string, string)> errors)
    {
        string input = RequireTemplate(o, path, "input", errors), reference = RequireTemplate(o, path, "reference", errors);
        string? operation = Str(o, "operation");
        if (operation is not ("eq" or "ne" or "like" or "ilike"))
        {
            errors.Add(($"{path}.operation", "operation must be eq, ne, like or ilike."));
        }

        return new StringCheckGrader(name, input, reference, operation ?? "eq");
    }
}

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

/// <summary>
/// <c>score_model</c>: the judge answers with a number, which is clamped to <c>range</c> (default [0, 1]); an answer without a
/// number scores the range's minimum. Passes at <c>pass_threshold</c> when one is given.
/// </summary>
public sealed partial record ScoreModelGrader(string Name, string Model, IReadOnlyList<JudgeMessage> Input, double Min, double Max, double? PassThreshold, JudgeSampling Sampling) : Grader(Name)
{
    /// <inheritdoc/>
    public override bool IsBinary => false;

    /// <inheritdoc/>
    public override bool UsesJudge => true;

    /// <inheritdoc/>
    public override async Task<Grade> GradeAsync(JsonObject context, IJudge? judge, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(judge);
        string answer = await judge.CompleteAsync(Model, Render(Input, context), Sampling, JudgeFormat.Score(), cancellationToken).ConfigureAwait(false);
        double? value = JudgeFormat.Result(answer) is JsonValue result && result.TryGetValue(out double number) ? number : FirstNumberIn(answer);
        if (value is not { } v || !double.IsFinite(v))
        {
            return new Grade(Min, PassThreshold is null ? null : false, $"the judge answered '{JudgeFormat.Cut(answer)}', which holds no score");
        }

        // OpenAI: "The output of the grader will be truncated to the given range".
        double score = Math.Clamp(v, Min, Max);
        return new Grade(score, PassThreshold is { } t ? score >= t : null);
    }

    private static double? FirstNumberIn(string answer)
    {
        Match number = FirstNumber().Match(answer);
        return number.Success && double.TryParse(number.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) ? value : null;
    }

    internal static ScoreModelGrader? Read(JsonElement o, string path, string name, List<(string, string)> errors)
    {
        string? model = Str(o, "model");
        if (string.IsNullOrWhiteSpace(model)) errors.Add(($"{path}.model", "model is required: the judge model (a deployment name on Azure OpenAI)."));
        List<JudgeMessage> input = ReadMessages(o, path, errors);
        double min = 0, max = 1;
        if (o.TryGetProperty("range", out JsonElement range))
        {
            if (range.ValueKind != JsonValueKind.Array || range.GetArrayLength() != 2 || range[0].ValueKind != JsonValueKind.Number || range[1].ValueKind != JsonValueKind.Number || !(range[0].GetDouble() < range[1].GetDouble()))
            {
                errors.Add(($"{path}.range", "range must be [min, max] with min below max."));
            }
            else
            {
                (min, max) = (range[0].GetDouble(), range[1].GetDouble());
            }
        }

        return new ScoreModelGrader(name, model ?? "", input, min, max, Num(o, "pass_threshold"), ReadSampling(o));
    }

    [GeneratedRegex(@"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")]
    private static partial Regex FirstNumber();
}

/// <summary><c>label_model</c>: the judge answers with one of <c>labels</c>; the case passes when it is one of <c>passing_labels</c>.</summary>
public sealed record LabelModelGrader(string Name, string Model, IReadOnlyList<JudgeMessage> Input, IReadOnlyList<string> Labels, IReadOnlyList<string> PassingLabels, JudgeSampling Sampling) : Grader(Name)
{
    /// <inheritdoc/>
    public override bool IsBinary => true;

    /// <inheritdoc/>
    public override bool UsesJudge => true;

    /// <inheritdoc/>
    public override async Task<Grade> GradeAsync(JsonObject context, IJudge? judge, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(judge);
        string raw = await judge.CompleteAsync(Model, Render(Input, context), Sampling, JudgeFormat.Label(Labels), cancellationToken).ConfigureAwait(false);
        string answer = (JudgeFormat.Result(raw) is JsonValue result && result.TryGetValue(out string? text) ? text : raw).Trim().Trim('"', '\'', '.');
        // The whole answer is the label, or else the longest label the answer names as a word.
        string? label = Labels.FirstOrDefault(l => string.Equals(l, answer, StringComparison.OrdinalIgnoreCase))
            ?? Labels.OrderByDescending(l => l.Length).FirstOrDefault(l => Regex.IsMatch(answer, $@"\b{Regex.Escape(l)}\b", RegexOptions.IgnoreCase));
        if (label is null)
        {
            return new Grade(0, false, $"the judge answered '{JudgeFormat.Cut(answer)}', which is none of the labels");
        }

        bool pass = PassingLabels.Contains(label, StringComparer.OrdinalIgnoreCase);
        return new Grade(pass ? 1 : 0, pass);
    }

    internal static LabelModelGrader? Read(JsonElement o, string path, string name, List<(string, string)> errors)
    {
        string? model = Str(o, "model");
        if (string.IsNullOrWhiteSpace(model)) errors.Add(($"{path}.model", "model is required: the judge model."));
        List<JudgeMessage> input = ReadMessages(o, path, errors);
        List<string> labels = Strings(o, "labels"), passing = Strings(o, "passing_labels");
        if (labels.Count == 0) errors.Add(($"{path}.labels", "labels is required: the answers the judge may give."));
        if (passing.Count == 0 || passing.Any(p => !labels.Contains(p, StringComparer.OrdinalIgnoreCase)))
        {
            errors.Add(($"{path}.passing_labels", "passing_labels is required and must be some of labels."));
        }

        return new LabelModelGrader(name, model ?? "", input, labels, passing, ReadSampling(o));
    }

    private static List<string> Strings(JsonElement o, string field) =>
        o.TryGetProperty(field, out JsonElement a) && a.ValueKind == JsonValueKind.Array
            ? [.. a.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.String).Select(e => e.GetString()!)]
            : [];
}

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
