using System.Text.Json;
using System.Text.Json.Nodes;
using FineTuneOrchestrator.Evaluation;

namespace FineTuneOrchestrator.Pipeline;

/// <summary>
/// What a run's <see cref="EvaluationSpec"/> asks of the evaluation, resolved once: its graders, the primary metric the
/// candidate is compared and chosen by, and the request every case is sent as (the consuming app's shape).
/// </summary>
internal sealed class EvaluationPlan
{
    /// <summary>Exact-match accuracy on the accuracy field (pass/fail per case).</summary>
    public const string Accuracy = "accuracy";

    /// <summary>Validity against the JSON schema (pass/fail per case).</summary>
    public const string SchemaAdherence = "schemaAdherence";

    /// <summary>Whether the answer parses as JSON (pass/fail per case).</summary>
    public const string JsonValid = "jsonValid";

    /// <summary>The default largest share of failed calls before an evaluation is inconclusive.</summary>
    public const double DefaultMaxFailedCallShare = 0.05;

    /// <summary>The default largest p-value of the significance gate.</summary>
    public const double DefaultMaxPValue = 0.05;

    private EvaluationPlan(EvaluationSpec spec, IReadOnlyList<Grader> graders)
    {
        Spec = spec;
        Graders = graders;
        PrimaryMetric = spec.PrimaryMetric
            ?? graders.FirstOrDefault()?.Name
            ?? (spec.AccuracyField is not null ? Accuracy : spec.JsonSchema is not null ? SchemaAdherence : null);
        PrimaryIsBinary = PrimaryMetric is null || graders.FirstOrDefault(g => g.Name == PrimaryMetric) is not { } g || g.IsBinary;
    }

    public EvaluationSpec Spec { get; }

    public IReadOnlyList<Grader> Graders { get; }

    public string? PrimaryMetric { get; }

    public bool PrimaryIsBinary { get; }

    /// <summary>The field classes (and stratified samples) are read from: the class field, else the accuracy field.</summary>
    public string? ClassField => Spec.ClassField ?? Spec.AccuracyField;

    public bool UsesJudge => Graders.Any(g => g.UsesJudge);

    /// <summary>The plan of <paramref name="spec"/>; its graders must have passed <see cref="Check"/>.</summary>
    public static EvaluationPlan From(EvaluationSpec? spec)
    {
        spec ??= new EvaluationSpec();
        var errors = new List<(string Field, string Message)>();
        List<Grader> graders = ParseGraders(spec, errors);
        if (errors.Count > 0)
        {
            throw new PipelineInputException("The evaluation graders are invalid: " + string.Join("; ", errors.Select(e => $"{e.Field}: {e.Message}")));
        }

        return new EvaluationPlan(spec, graders);
    }

    /// <summary>Problems with the evaluation settings, as (field, message); none when the plan can run.</summary>
    public static List<(string Field, string Message)> Check(EvaluationSpec spec)
    {
        var errors = new List<(string Field, string Message)>();
        List<Grader> graders = ParseGraders(spec, errors);
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < graders.Count; i++)
        {
            string name = graders[i].Name;
            if (name is Accuracy or SchemaAdherence or JsonValid) errors.Add(($"evaluation.graders[{i}].name", $"'{name}' is the name of a built-in metric; name the grader otherwise."));
            else if (!names.Add(name)) errors.Add(($"evaluation.graders[{i}].name", $"Two graders are named '{name}'; names must be unique."));
        }

        if (spec.PrimaryMetric is { } metric)
        {
            bool known = names.Contains(metric)
                || (metric == Accuracy && spec.AccuracyField is not null)
                || (metric == SchemaAdherence && spec.JsonSchema is not null)
                || metric == JsonValid;
            if (!known)
            {
                errors.Add(("evaluation.primaryMetric", $"primaryMetric '{metric}' is not measured: use a grader's name ({(names.Count == 0 ? "none configured" : string.Join(", ", names))}), accuracy (with accuracyField), schemaAdherence (with jsonSchema) or jsonValid."));
            }
        }

        string format = spec.ResponseFormat ?? (spec.JsonSchema is not null ? "json_schema" : "text");
        if (format is not ("json_schema" or "json_object" or "text"))
        {
            errors.Add(("evaluation.responseFormat", $"responseFormat '{format}' is not one of json_schema, json_object, text."));
        }
        else if (format == "json_schema")
        {
            if (spec.JsonSchema is null)
            {
                errors.Add(("evaluation.responseFormat", "responseFormat json_schema needs evaluation.jsonSchema."));
            }
            else if (spec.StrictSchema != false && spec.JsonSchema is { ValueKind: JsonValueKind.Object } schema && StrictSchema.Problem(schema) is { } problem)
            {
                errors.Add(("evaluation.jsonSchema", $"Evaluation sends the schema as strict structured output (response_format json_schema, strict: true), as a consuming app would, and the service refuses it: {problem}. Fix the schema, or set evaluation.strictSchema to false if your app sends it without strict."));
            }
        }

        if (spec.SchemaName is { } schemaName && (schemaName.Length is 0 or > 64 || !schemaName.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-')))
        {
            errors.Add(("evaluation.schemaName", "schemaName must be 1 to 64 letters, digits, '_' or '-' (the service's pattern ^[a-zA-Z0-9_-]+$)."));
        }

        if (spec.Temperature is { } t && !(t >= 0 && t <= 2)) errors.Add(("evaluation.temperature", $"temperature is {t}; it must be between 0 and 2."));
        if (spec.MaxFailedCallShare is { } f && !(f >= 0 && f <= 1)) errors.Add(("evaluation.maxFailedCallShare", $"maxFailedCallShare is {f}; it must be between 0 and 1."));
        if (spec.Checkpoints is { } k && k is < 1 or > 3) errors.Add(("evaluation.checkpoints", $"checkpoints is {k}; it must be 1 to 3 (the services keep the final model and the two checkpoints before it)."));
        if (spec.OverlapSimilarity is { } o && !(o > 0 && o <= 1)) errors.Add(("evaluation.overlapSimilarity", $"overlapSimilarity is {o}; it must be greater than 0 and at most 1."));
        if (spec.MaxOverlapShare is { } m && !(m >= 0 && m <= 1)) errors.Add(("evaluation.maxOverlapShare", $"maxOverlapShare is {m}; it must be between 0 and 1."));
        return errors;
    }

    private static List<Grader> ParseGraders(EvaluationSpec spec, List<(string Field, string Message)> errors)
    {
        var graders = new List<Grader>();
        if (spec.Graders is not { } json || json.ValueKind == JsonValueKind.Null)
        {
            return graders;
        }

        if (json.ValueKind != JsonValueKind.Array)
        {
            errors.Add(("evaluation.graders", "graders must be an array of graders ({\"type\": \"string_check\", ...})."));
            return graders;
        }

        int i = 0;
        foreach (JsonElement element in json.EnumerateArray())
        {
            if (Grader.Parse(element, $"evaluation.graders[{i}]", errors) is { } grader) graders.Add(grader);
            i++;
        }

        if (i > 20) errors.Add(("evaluation.graders", $"{i} graders; at most 20."));
        return graders;
    }

    /// <summary>The chat completions body for <paramref name="evalCase"/> (without the model): what the consuming app sends.</summary>
    public JsonObject RequestBody(EvalCase evalCase, int maxOutputTokens, int? seed)
    {
        var body = new JsonObject
        {
            ["messages"] = evalCase.Messages.DeepClone(),
            ["temperature"] = Spec.Temperature ?? 0,
            ["max_completion_tokens"] = maxOutputTokens,
        };
        if (seed is { } s) body["seed"] = s;
        if (evalCase.Tools is { } tools) body["tools"] = tools.DeepClone();
        string format = Spec.ResponseFormat ?? (Spec.JsonSchema is not null ? "json_schema" : "text");
        if (format == "json_schema" && Spec.JsonSchema is { } schema)
        {
            body["response_format"] = new JsonObject
            {
                ["type"] = "json_schema",
                ["json_schema"] = new JsonObject { ["name"] = Spec.SchemaName ?? "answer", ["strict"] = Spec.StrictSchema != false, ["schema"] = JsonNode.Parse(schema.GetRawText()) },
            };
        }
        else if (format == "json_object")
        {
            body["response_format"] = new JsonObject { ["type"] = "json_object" };
        }

        return body;
    }

    /// <summary>A case's score on <paramref name="metric"/> (null when it was not scored: a failed call, a grader error, no label).</summary>
    public static double? Score(CaseResult result, string metric)
    {
        if (!result.Answered) return null;
        return metric switch
        {
            Accuracy => result.Correct is { } c ? (c ? 1 : 0) : null,
            SchemaAdherence => result.SchemaValid is { } v ? (v ? 1 : 0) : null,
            JsonValid => result.JsonValid ? 1 : 0,
            _ => result.Grades?.TryGetValue(metric, out CaseGrade? grade) == true && grade.Error is null ? grade.Score : null,
        };
    }

    /// <summary>Whether <paramref name="metric"/> is pass/fail.</summary>
    public bool IsBinary(string metric) => Graders.FirstOrDefault(g => g.Name == metric) is not { } g || g.IsBinary;

    /// <summary>The grader item and sample of a case, for templates.</summary>
    public static JsonObject Context(EvalCase evalCase, string? output, string? toolCalls)
    {
        JsonObject sample = GraderTemplate.Sample(output);
        if (toolCalls is not null) sample["output_tools"] = JsonNode.Parse(toolCalls);
        return new JsonObject { ["item"] = evalCase.Item.DeepClone(), ["sample"] = sample };
    }
}
