using System.Globalization;
using System.Text;
using System.Text.Json;
using FineTuneOrchestrator.Providers;
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
            if (doc.RootElement.ValueKind != JsonValueKind.Object || !doc.RootElement.TryGetProperty(field, out var value)) return null;
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
            foreach (var message in messages.Values)
            {
                errors.Add($"{location}: {message}");
            }
        }

        if (errors.Count == 0 && results.Errors is { Count: > 0 } top) errors.AddRange(top.Values.Select(m => $"/: {m}"));
        return string.Join("; ", errors.Distinct().Take(5));
    }

    internal static ModelMetrics Aggregate(string model, IReadOnlyList<CaseResult> cases, bool hasSchema, string? accuracyField, string? classField, IReadOnlyDictionary<string, InferencePrice> prices)
    {
        int n = cases.Count;
        double Rate(int count, int of) => of == 0 ? 0 : Math.Round((double)count / of, 4);

        double? accuracy = null;
        if (accuracyField is not null)
        {
            var scored = cases.Where(c => c.Correct is not null).ToList();
            accuracy = Rate(scored.Count(c => c.Correct == true), scored.Count);
        }

        Dictionary<string, ClassMetrics>? perClass = null;
        double? macroF1 = null;
        if ((classField ?? accuracyField) is not null)
        {
            perClass = PerClass(cases.Where(c => c.ExpectedClass is not null).ToList());
            var supported = perClass.Values.Where(c => c.Support > 0).ToList();
            macroF1 = supported.Count == 0 ? 0 : Math.Round(supported.Average(c => c.F1), 4);
        }

        var latencies = cases.Select(c => c.LatencyMs).Order().ToList();
        long prompt = cases.Sum(c => (long)c.PromptTokens), completion = cases.Sum(c => (long)c.CompletionTokens);
        decimal? cost = FindPrice(model, prices) is { } price
            ? Math.Round((prompt * price.InputPerMillion + completion * price.OutputPerMillion) / 1_000_000m, 6)
            : null;

        return new ModelMetrics
        {
            Model = model,
            Cases = n,
            FailedCalls = cases.Count(c => c.Error is not null),
            FirstError = cases.FirstOrDefault(c => c.Error is not null)?.Error,
            JsonValidRate = Rate(cases.Count(c => c.JsonValid), n),
            SchemaAdherence = hasSchema ? Rate(cases.Count(c => c.SchemaValid == true), n) : null,
            Accuracy = accuracy,
            MacroF1 = macroF1,
            PerClass = perClass,
            LatencyP50Ms = Percentile(latencies, 0.50),
            LatencyP95Ms = Percentile(latencies, 0.95),
            PromptTokens = prompt,
            CompletionTokens = completion,
            CostUsd = cost,
        };
    }

    /// <summary>Per-class precision, recall and F1 from (expected, predicted) pairs; a missing prediction counts against recall only.</summary>
    internal static Dictionary<string, ClassMetrics> PerClass(IReadOnlyList<CaseResult> cases)
    {
        var classes = cases.Select(c => c.ExpectedClass!).Concat(cases.Where(c => c.PredictedClass is not null).Select(c => c.PredictedClass!))
            .Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal);
        var result = new Dictionary<string, ClassMetrics>(StringComparer.Ordinal);
        foreach (var label in classes)
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

    /// <summary>Price of a model: exact name, then <c>ft:{base}</c> and <c>{base}</c> for fine-tuned names <c>ft:{base}:…</c>.</summary>
    internal static InferencePrice? FindPrice(string model, IReadOnlyDictionary<string, InferencePrice> prices)
    {
        if (prices.TryGetValue(model, out var price)) return price;
        if (model.StartsWith("ft:", StringComparison.Ordinal))
        {
            var parts = model.Split(':');
            if (parts.Length > 1 && (prices.TryGetValue($"ft:{parts[1]}", out price) || prices.TryGetValue(parts[1], out price))) return price;
        }

        return null;
    }
}

/// <summary>Held-out cases: parsing training lines into prompts and expected answers, and the blob layout.</summary>
internal static class EvaluationCases
{
    public const string CandidateRole = "candidate";
    public const string BaselineRole = "baseline";

    public static string ChunkBlob(string runId, int chunk) => $"{runId}/evaluation/cases/{chunk.ToString("D5", CultureInfo.InvariantCulture)}.jsonl";

    public static string ResultBlob(string runId, string role, int chunk) => $"{runId}/evaluation/{role}/{chunk.ToString("D5", CultureInfo.InvariantCulture)}.jsonl";

    /// <summary>
    /// Turns a chat training line into a case: the messages before the last assistant message are the prompt, that
    /// message's text is the expected answer. DPO lines use <c>input.messages</c> and the preferred output. Lines with
    /// tool calls or tool messages are skipped (the evaluation calls plain chat).
    /// </summary>
    public static bool TryParse(string line, int index, out EvalCase? evalCase)
    {
        evalCase = null;
        try
        {
            using var doc = JsonDocument.Parse(line);
            var root = doc.RootElement;
            JsonElement messages;
            string? expected = null;
            if (root.TryGetProperty("input", out var input) && input.TryGetProperty("messages", out messages))
            {
                var preferred = root.TryGetProperty("preferred_output", out var po) ? po : root.TryGetProperty("preferred_completion", out var pc) ? pc : default;
                if (preferred.ValueKind != JsonValueKind.Array || preferred.GetArrayLength() == 0) return false;
                expected = Text(preferred[0]);
                var prompt = ReadMessages(messages, messages.GetArrayLength());
                if (prompt is null || expected is null) return false;
                evalCase = new EvalCase(index, prompt, expected);
                return true;
            }

            if (!root.TryGetProperty("messages", out messages) || messages.ValueKind != JsonValueKind.Array) return false;
            int last = -1;
            for (int i = 0; i < messages.GetArrayLength(); i++)
            {
                if (messages[i].TryGetProperty("role", out var r) && r.ValueEquals("assistant")) last = i;
            }

            if (last <= 0) return false;
            expected = Text(messages[last]);
            var promptMessages = ReadMessages(messages, last);
            if (expected is null || promptMessages is null || promptMessages.Count == 0) return false;
            evalCase = new EvalCase(index, promptMessages, expected);
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static List<ChatMessage>? ReadMessages(JsonElement messages, int count)
    {
        var result = new List<ChatMessage>(count);
        for (int i = 0; i < count; i++)
        {
            var m = messages[i];
            if (!m.TryGetProperty("role", out var roleElement) || roleElement.ValueKind != JsonValueKind.String) return null;
            string role = roleElement.GetString()!;
            if (role is not ("system" or "developer" or "user" or "assistant")) return null;
            if (m.TryGetProperty("tool_calls", out _) || m.TryGetProperty("function_call", out _)) return null;
            string? text = Text(m);
            if (text is null) return null;
            result.Add(new ChatMessage(role, text));
        }

        return result;
    }

    private static string? Text(JsonElement message)
    {
        if (!message.TryGetProperty("content", out var content)) return null;
        if (content.ValueKind == JsonValueKind.String) return content.GetString();
        if (content.ValueKind != JsonValueKind.Array) return null;
        var sb = new StringBuilder();
        foreach (var part in content.EnumerateArray())
        {
            if (part.TryGetProperty("type", out var t) && t.ValueEquals("text") && part.TryGetProperty("text", out var text) && text.ValueKind == JsonValueKind.String)
            {
                sb.Append(text.GetString());
            }
        }

        return sb.Length == 0 ? null : sb.ToString();
    }
}
