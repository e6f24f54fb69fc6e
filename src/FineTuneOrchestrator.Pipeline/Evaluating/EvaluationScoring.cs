using System.Text.Json;
using FineTuneOrchestrator.Evaluation;
using Json.Schema;

namespace FineTuneOrchestrator.Pipeline;

/// <summary>Scoring helpers of the evaluation (pure functions).</summary>
public static class EvaluationScoring
{
    /// <summary>Parses a JSON Schema; null (with the reason in <paramref name="problem"/>) when it cannot be used.</summary>
    public static JsonSchema? TryParseSchema(JsonElement schema, out string? problem)
    {
        problem = null;
        try
        {
            // A registry of its own per schema: two runs' schemas with the same $id must not collide in a shared one.
            return JsonSchema.Build(schema, new BuildOptions { SchemaRegistry = new SchemaRegistry() });
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            problem = ex.Message;
            return null;
        }
    }

    /// <summary>
    /// Reads a top-level field of a JSON object as a label: strings as they are, numbers and booleans as their JSON text.
    /// Null when the text is not a JSON object or has no such field (or it is null, an object or an array).
    /// </summary>
    public static string? ReadLabel(string? json, string field)
    {
        if (json is null) return null;
        try
        {
            using var doc = JsonDocument.Parse(json);
            if (doc.RootElement.ValueKind != JsonValueKind.Object || !doc.RootElement.TryGetProperty(field, out JsonElement value)) return null;
            return value.ValueKind switch
            {
                JsonValueKind.String => value.GetString(),
                JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False => value.GetRawText(),
                _ => null,
            };
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>True when the whole text (surrounding whitespace aside) is one JSON value.</summary>
    public static bool IsJson(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return false;
        try
        {
            using var _ = JsonDocument.Parse(text);
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    internal static CaseResult Score(EvalCase evalCase, string? output, JsonSchema? schema, string? accuracyField, string? classField)
    {
        bool jsonValid = IsJson(output);
        bool? schemaValid = null;
        string? schemaErrors = null;
        if (schema is not null)
        {
            if (jsonValid)
            {
                using var instance = JsonDocument.Parse(output!);
                EvaluationResults results = schema.Evaluate(instance.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List });
                schemaValid = results.IsValid;
                if (!results.IsValid) schemaErrors = DescribeErrors(results);
            }
            else
            {
                schemaValid = false;
            }
        }

        string? expectedLabel = accuracyField is null ? null : ReadLabel(evalCase.Expected, accuracyField);
        string? predictedLabel = accuracyField is null || !jsonValid ? null : ReadLabel(output, accuracyField);
        string? classFieldName = classField ?? accuracyField;
        return new CaseResult
        {
            Index = evalCase.Index,
            Role = "",
            Model = "",
            Expected = evalCase.Expected,
            Output = output,
            JsonValid = jsonValid,
            SchemaValid = schemaValid,
            SchemaErrors = schemaErrors,
            ExpectedLabel = expectedLabel,
            PredictedLabel = predictedLabel,
            Correct = expectedLabel is null ? null : string.Equals(expectedLabel, predictedLabel, StringComparison.Ordinal),
            ExpectedClass = classFieldName is null ? null : ReadLabel(evalCase.Expected, classFieldName),
            PredictedClass = classFieldName is null || !jsonValid ? null : ReadLabel(output, classFieldName),
        };
    }

    /// <summary>The first few failed checks as "location: message" (the root for errors on the whole document).</summary>
    private static string DescribeErrors(EvaluationResults results)
    {
        var errors = new List<string>();
        foreach (EvaluationResults detail in (IEnumerable<EvaluationResults>?)results.Details ?? [results])
        {
            if (detail.Errors is not { Count: > 0 } messages) continue;
            string location = detail.InstanceLocation.ToString() is { Length: > 0 } l ? l : "/";
            foreach (string message in messages.Values)
            {
                errors.Add($"{location}: {message}");
            }
        }

        if (errors.Count == 0 && results.Errors is { Count: > 0 } top) errors.AddRange(top.Values.Select(m => $"/: {m}"));
        return string.Join("; ", errors.Distinct().Take(5));
    }

    internal static ModelMetrics Aggregate(EvaluatedModel model, IReadOnlyList<CaseResult> cases, bool hasSchema, EvaluationPlan plan, IReadOnlyDictionary<string, InferencePrice> prices)
    {
        double Rate(int count, int of) => of == 0 ? 0 : Math.Round((double)count / of, 4);
        var answered = cases.Where(c => c.Answered).ToList();
        int n = answered.Count;

        double? accuracy = null;
        if (plan.Spec.AccuracyField is not null)
        {
            var scored = answered.Where(c => c.Correct is not null).ToList();
            accuracy = Rate(scored.Count(c => c.Correct == true), scored.Count);
        }

        Dictionary<string, ClassMetrics>? perClass = null;
        double? macroF1 = null;
        if (plan.ClassField is not null)
        {
            perClass = PerClass(answered.Where(c => c.ExpectedClass is not null).ToList());
            var supported = perClass.Values.Where(c => c.Support > 0).ToList();
            macroF1 = supported.Count == 0 ? 0 : Math.Round(supported.Average(c => c.F1), 4);
        }

        Dictionary<string, GraderMetrics>? graders = null;
        if (plan.Graders.Count > 0)
        {
            graders = new Dictionary<string, GraderMetrics>(StringComparer.Ordinal);
            foreach (Grader grader in plan.Graders)
            {
                var grades = answered.Select(c => c.Grades?.GetValueOrDefault(grader.Name)).OfType<CaseGrade>().ToList();
                var ok = grades.Where(g => g.Error is null).ToList();
                double? passRate = ok.Any(g => g.Passed is not null) ? Rate(ok.Count(g => g.Passed == true), ok.Count) : null;
                graders[grader.Name] = new GraderMetrics(TypeOf(grader), ok.Count == 0 ? 0 : Math.Round(ok.Average(g => g.Score), 4), passRate, ok.Count, grades.Count - ok.Count, grader.IsBinary);
            }
        }

        double? primary = null;
        if (plan.PrimaryMetric is { } metric)
        {
            var scores = answered.Select(c => EvaluationPlan.Score(c, metric)).OfType<double>().ToList();
            primary = scores.Count == 0 ? 0 : Math.Round(scores.Average(), 4);
        }

        var failed = cases.Where(c => !c.Answered).ToList();
        var latencies = answered.Select(c => c.LatencyMs).Order().ToList();
        long prompt = cases.Sum(c => (long)c.PromptTokens), completion = cases.Sum(c => (long)c.CompletionTokens);
        decimal? cost = FindPrice(model.Model, prices) is { } price
            ? Math.Round((prompt * price.InputPerMillion + completion * price.OutputPerMillion) / 1_000_000m, 6)
            : null;

        return new ModelMetrics
        {
            Model = model.Model,
            Role = model.Role,
            Step = model.Step,
            Cases = cases.Count,
            FailedCalls = failed.Count,
            FailureKinds = failed.Count == 0 ? null : failed.GroupBy(c => c.FailureKind ?? "unknown").ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal),
            FirstError = failed.FirstOrDefault()?.Error,
            Refusals = answered.Count(c => c.Refusal is not null),
            Throttled = cases.Sum(c => c.Throttled),
            JsonValidRate = Rate(answered.Count(c => c.JsonValid), n),
            SchemaAdherence = hasSchema ? Rate(answered.Count(c => c.SchemaValid == true), n) : null,
            Accuracy = accuracy,
            MacroF1 = macroF1,
            PerClass = perClass,
            Graders = graders,
            PrimaryScore = primary,
            LatencyP50Ms = Percentile(latencies, 0.50),
            LatencyP95Ms = Percentile(latencies, 0.95),
            PromptTokens = prompt,
            CompletionTokens = completion,
            CostUsd = cost,
        };
    }

    private static string TypeOf(FineTuneOrchestrator.Evaluation.Grader grader) => grader switch
    {
        FineTuneOrchestrator.Evaluation.StringCheckGrader => "string_check",
        FineTuneOrchestrator.Evaluation.TextSimilarityGrader => "text_similarity",
        FineTuneOrchestrator.Evaluation.ScoreModelGrader => "score_model",
        FineTuneOrchestrator.Evaluation.LabelModelGrader => "label_model",
        _ => "multi",
    };

    /// <summary>Per-class precision, recall and F1 from (expected, predicted) pairs; a missing prediction counts against recall only.</summary>
    internal static Dictionary<string, ClassMetrics> PerClass(IReadOnlyList<CaseResult> cases)
    {
        IOrderedEnumerable<string> classes = cases.Select(c => c.ExpectedClass!).Concat(cases.Where(c => c.PredictedClass is not null).Select(c => c.PredictedClass!))
            .Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal);
        var result = new Dictionary<string, ClassMetrics>(StringComparer.Ordinal);
        foreach (string label in classes)
        {
            int tp = cases.Count(c => c.ExpectedClass == label && c.PredictedClass == label);
            int fp = cases.Count(c => c.ExpectedClass != label && c.PredictedClass == label);
            int fn = cases.Count(c => c.ExpectedClass == label && c.PredictedClass != label);
            double precision = tp + fp == 0 ? 0 : (double)tp / (tp + fp);
            double recall = tp + fn == 0 ? 0 : (double)tp / (tp + fn);
            double f1 = precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall);
            result[label] = new ClassMetrics(Math.Round(precision, 4), Math.Round(recall, 4), Math.Round(f1, 4), tp + fn);
        }

        return result;
    }

    /// <summary>Nearest-rank percentile of sorted values (0 for none).</summary>
    internal static double Percentile(IReadOnlyList<double> sorted, double p)
    {
        if (sorted.Count == 0) return 0;
        int rank = (int)Math.Ceiling(p * sorted.Count);
        return Math.Round(sorted[Math.Clamp(rank - 1, 0, sorted.Count - 1)], 2);
    }

    /// <summary>
    /// Price of a model: exact name, then for fine-tuned names (<c>ft:{base}:…</c>, Azure's <c>{base}.ft-…</c>) the entry
    /// <c>ft:{base}</c> (fine-tuned inference is priced apart) and then <c>{base}</c>.
    /// </summary>
    internal static InferencePrice? FindPrice(string model, IReadOnlyDictionary<string, InferencePrice> prices)
    {
        if (prices.TryGetValue(model, out InferencePrice? price)) return price;
        if (ModelLineage.RootBaseOf(model) is { } root && root != model
            && (prices.TryGetValue($"ft:{root}", out price) || prices.TryGetValue(root, out price)))
        {
            return price;
        }

        return null;
    }
}
