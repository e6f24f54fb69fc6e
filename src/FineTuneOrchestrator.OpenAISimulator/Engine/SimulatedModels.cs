using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace FineTuneOrchestrator.OpenAISimulator.Engine;

/// <summary>
/// The simulated models. Deterministic: a model answers the same prompt the same way (at a fixed temperature and seed), so
/// candidate and baseline can be compared case by case and a replayed evaluation sees the same answers.
/// <list type="bullet">
/// <item>A <b>base model</b> follows the system prompt and <c>response_format</c> but knows nothing of the task: for a
/// label (an <c>enum</c> in the schema, or <c>a|b|c</c> alternatives in a JSON template in the system prompt) it picks the
/// label most like the message's words (character trigrams) plus noise, so it lands between chance and perfect; free text
/// is a plausible, generic reply.</item>
/// <item>A <b>fine-tuned model</b> (or checkpoint) votes among the training examples nearest to the message (word Jaccard,
/// weights squared), for a share of prompts that grows with examples × epochs seen; for the rest it answers as its base.
/// Label noise, too few examples or a shifted evaluation set therefore show up as lower scores.</item>
/// <item>A <b>judge</b> (<see cref="SimulatedJudge"/>): a request whose messages hold a reference and an answer (<c>&lt;reference&gt;…&lt;/reference&gt;</c>
/// and <c>&lt;answer&gt;</c>/<c>&lt;output&gt;</c>/<c>&lt;response&gt;</c>, or lines starting <c>Reference:</c> and
/// <c>Answer:</c>/<c>Output:</c>/<c>Response:</c>) is graded by their word-level ROUGE-L: a number scaled to the range the
/// prompt names ("score from 1 to 5"; default 0 to 1), or for an <c>enum</c> result the label at that position, the labels
/// read as best first.</item>
/// </list>
/// </summary>
internal static partial class SimulatedModels
{
    private static readonly string[] GenericReplies =
    [
        "Thanks for reaching out. Based on what you describe, this looks like a general question about \"{0}\". Could you share more details so I can help?",
        "I'm not certain, but \"{0}\" is usually handled by checking the settings first and trying again later.",
        "Here is a short answer: it depends on the context of \"{0}\". In most cases the default behaviour is fine.",
        "That's a good question. Regarding \"{0}\", I would recommend contacting the relevant team for an accurate answer.",
    ];

    /// <summary>The answer of base model <paramref name="baseModel"/> (its id: the noise is keyed by it).</summary>
    public static ModelReply AnswerAsBase(ChatInput input, string baseModel, ModelOptions options)
    {
        if (SimulatedJudge.Verdict(input) is { } verdict)
        {
            return new ModelReply(verdict, null);
        }

        string snippet = input.LastUser.Length > 60 ? input.LastUser[..60].TrimEnd() + "…" : input.LastUser;
        JsonObject? schema = input.Schema ?? SchemaFromPrompt(input);
        if (schema is not null)
        {
            return new ModelReply((Instance(schema, input, baseModel, options, snippet, "", 0) ?? new JsonObject()).ToJsonString(), null);
        }

        if (input.JsonObject)
        {
            return new ModelReply(new JsonObject { ["answer"] = snippet }.ToJsonString(), null);
        }

        int index = (int)(Hash(baseModel, input.LastUser) % (ulong)GenericReplies.Length);
        return new ModelReply(string.Format(CultureInfo.InvariantCulture, GenericReplies[index], snippet), null);
    }

    /// <summary>The answer of a fine-tuned model <paramref name="model"/> of <paramref name="job"/> (at <paramref name="checkpointStep"/>, or the final model).</summary>
    public static ModelReply AnswerAsFineTuned(ChatInput input, SimJob job, string model, int? checkpointStep, ModelOptions options)
    {
        (List<TrainingExample>? knowledge, double inheritedSeen) = Knowledge(job);
        if (SimulatedJudge.Verdict(input) is not null || knowledge.Count == 0)
        {
            return AnswerAsBase(input, job.BaseModel, options);
        }

        bool Scenario(string? suffix) => !string.IsNullOrEmpty(suffix) && job.Suffix?.Contains(suffix, StringComparison.Ordinal) == true;
        if (Scenario(options.NoGainSuffix))
        {
            return AnswerAsBase(input, job.BaseModel, options);
        }

        if (Scenario(options.RegressSuffix))
        {
            return Reply(knowledge[(int)(Hash(model, input.LastUser, "regress") % (ulong)knowledge.Count)], input);
        }

        int epochs = EpochsAt(job, checkpointStep);
        if (Scenario(options.OverfitSuffix) && epochs == job.Epochs && Unit(model, input.LastUser, "overfit") < options.OverfitShare)
        {
            return Reply(knowledge[(int)(Hash(model, input.LastUser, "overfit-pick") % (ulong)knowledge.Count)], input);
        }

        double seen = (job.Examples.Count * (double)epochs) + inheritedSeen;
        double learned = seen / (seen + Math.Max(0, options.LearningHalfPoint));
        if (Unit(model, input.LastUser, "learned") >= learned)
        {
            return AnswerAsBase(input, job.BaseModel, options);
        }

        return Reply(Vote(knowledge, TrainingData.Words(input.LastUser), Math.Max(1, options.Neighbours)), input);
    }

    /// <summary>The epochs a job's model had seen at <paramref name="checkpointStep"/> (all of them for the final model).</summary>
    private static int EpochsAt(SimJob job, int? checkpointStep) =>
        checkpointStep is { } step ? Math.Clamp((int)Math.Ceiling(step / (double)Math.Max(1, job.StepsPerEpoch)), 1, job.Epochs) : job.Epochs;

    /// <summary>
    /// What a model knows: its own job's examples, then (continuous fine-tuning) its parent's, grandparent's and so on, with
    /// the example-epochs those ancestors saw (a checkpoint parent: up to its step). Own examples come first so that, among
    /// equally near examples, the newest training wins the vote.
    /// </summary>
    private static (List<TrainingExample> Examples, double InheritedSeen) Knowledge(SimJob job)
    {
        var examples = new List<TrainingExample>(job.Examples);
        double seen = 0;
        var visited = new HashSet<SimJob>(ReferenceEqualityComparer.Instance) { job };
        SimJob child = job;
        while (child.Parent is { } parent && visited.Add(parent))
        {
            examples.AddRange(parent.Examples);
            seen += parent.Examples.Count * (double)EpochsAt(parent, child.ParentCheckpointStep);
            child = parent;
        }

        return (examples, seen);
    }

    private static ModelReply Reply(TrainingExample example, ChatInput input) =>
        example.ReplyToolCalls is { } calls && input.HasTools ? new ModelReply(null, calls) : new ModelReply(example.Reply, null);

    /// <summary>The reply with the most similarity-squared weight among the <paramref name="k"/> nearest examples.</summary>
    private static TrainingExample Vote(IReadOnlyList<TrainingExample> examples, HashSet<string> words, int k)
    {
        var nearest = examples
            .Select((e, i) => (Example: e, Index: i, Similarity: Jaccard(words, e.PromptWords)))
            .OrderByDescending(x => x.Similarity).ThenBy(x => x.Index)
            .Take(k)
            .ToList();
        var votes = new Dictionary<string, (double Weight, TrainingExample Example, int Rank)>(StringComparer.Ordinal);
        for (int rank = 0; rank < nearest.Count; rank++)
        {
            (TrainingExample? example, int _, double similarity) = nearest[rank];
            string key = example.Reply + "\u0001" + example.ReplyToolCalls;
            double weight = (similarity * similarity) + 1e-9;
            votes[key] = votes.TryGetValue(key, out (double Weight, TrainingExample Example, int Rank) v) ? (v.Weight + weight, v.Example, v.Rank) : (weight, example, rank);
        }

        return votes.Values.OrderByDescending(v => v.Weight).ThenBy(v => v.Rank).First().Example;
    }

    // ------------------------------------------------------------------ base model: schemas and labels

    /// <summary>A schema read from a JSON template in the system prompt, with <c>a|b|c</c> alternatives as enums; null without one.</summary>
    private static JsonObject? SchemaFromPrompt(ChatInput input)
    {
        foreach ((string? role, string? text) in input.Messages)
        {
            if (role is not ("system" or "developer")) continue;
            foreach (Match m in JsonTemplate().Matches(text))
            {
                JsonObject? template;
                try
                {
                    template = JsonNode.Parse(m.Value) as JsonObject;
                }
                catch (JsonException)
                {
                    continue;
                }

                if (template is null || template.Count == 0) continue;
                var properties = new JsonObject();
                foreach ((string? name, JsonNode? value) in template)
                {
                    properties[name] = value is JsonValue v && v.TryGetValue(out string? s) && s.Contains('|', StringComparison.Ordinal)
                        ? new JsonObject { ["enum"] = new JsonArray([.. s.Split('|').Select(x => (JsonNode)JsonValue.Create(x.Trim())!)]) }
                        : new JsonObject { ["type"] = value is JsonValue n && n.TryGetValue(out double _) ? "number" : "string" };
                }

                return new JsonObject { ["type"] = "object", ["properties"] = properties };
            }
        }

        return null;
    }

    private static JsonNode? Instance(JsonNode? schema, ChatInput input, string model, ModelOptions options, string snippet, string path, int depth)
    {
        if (schema is not JsonObject s || depth > 8) return null;
        if (s["enum"] is JsonArray values && values.Count > 0)
        {
            return PickLabel(values, input, model, options, path)?.DeepClone();
        }

        if (s["const"] is { } constant) return constant.DeepClone();
        if ((s["anyOf"] ?? s["oneOf"]) is JsonArray choices && choices.Count > 0)
        {
            return Instance(choices[0], input, model, options, snippet, path, depth + 1);
        }

        string? type = s["type"] switch
        {
            JsonValue v when v.TryGetValue(out string? one) => one,
            JsonArray many => many.Select(x => x?.GetValue<string>()).FirstOrDefault(x => x != "null"),
            _ => s["properties"] is not null ? "object" : "string",
        };
        switch (type)
        {
            case "object":
                var result = new JsonObject();
                if (s["properties"] is JsonObject properties)
                {
                    foreach ((string? name, JsonNode? propertySchema) in properties)
                    {
                        result[name] = Instance(propertySchema, input, model, options, snippet, path + "/" + name, depth + 1);
                    }
                }

                return result;
            case "array":
                return new JsonArray();
            case "integer":
                return FirstNumber().Match(input.LastUser) is { Success: true } i && long.TryParse(i.Value.Split('.')[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out long li) ? li : 0;
            case "number":
                return FirstNumber().Match(input.LastUser) is { Success: true } n && double.TryParse(n.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) ? d : 0;
            case "boolean":
                return false;
            case "null":
                return null;
            default:
                return Extract(path, input.LastUser) ?? snippet;
        }
    }

    /// <summary>A string field read from the message the way a model without training might: an e-mail, or "field: value".</summary>
    private static string? Extract(string path, string message)
    {
        string field = path[(path.LastIndexOf('/') + 1)..];
        if (field.Contains("email", StringComparison.OrdinalIgnoreCase) && Email().Match(message) is { Success: true } email) return email.Value;
        if (field.Length == 0) return null;
        Match labelled = Regex.Match(message, $@"\b{Regex.Escape(field)}\s*(?::|is)\s*([^,.;\n]+)", RegexOptions.IgnoreCase, TimeSpan.FromSeconds(1));
        return labelled.Success ? labelled.Groups[1].Value.Trim() : null;
    }

    /// <summary>The label most like the message's words (character trigram Jaccard), with Gumbel noise of scale <see cref="ModelOptions.BaseNoise"/>.</summary>
    private static JsonNode? PickLabel(JsonArray values, ChatInput input, string model, ModelOptions options, string path)
    {
        HashSet<string> words = TrainingData.Words(input.LastUser);
        JsonNode? best = null;
        double bestScore = double.NegativeInfinity;
        double scale = options.BaseNoise * (1 + Math.Max(0, input.Temperature));
        foreach (JsonNode? value in values)
        {
            string label = value is JsonValue v && v.TryGetValue(out string? text) ? text : value?.ToJsonString() ?? "null";
            double similarity = LabelSimilarity(label, words);
            double u = Math.Clamp(Unit(model, input.LastUser, path, label, input.Seed?.ToString(CultureInfo.InvariantCulture) ?? ""), 1e-12, 1 - 1e-12);
            double score = similarity + (scale * -Math.Log(-Math.Log(u)));
            if (score > bestScore)
            {
                bestScore = score;
                best = value;
            }
        }

        return best;
    }

    private static double LabelSimilarity(string label, HashSet<string> words)
    {
        HashSet<string> parts = TrainingData.Words(label);
        if (parts.Count == 0 || words.Count == 0) return 0;
        return parts.Average(p => words.Max(w => TrigramJaccard(p, w)));
    }

    private static double TrigramJaccard(string a, string b)
    {
        if (a == b) return 1;
        HashSet<string> x = Trigrams(a);
        HashSet<string> y = Trigrams(b);
        if (x.Count == 0 || y.Count == 0) return 0;
        int shared = x.Count(y.Contains);
        return (double)shared / (x.Count + y.Count - shared);
    }

    private static HashSet<string> Trigrams(string word)
    {
        var set = new HashSet<string>(StringComparer.Ordinal);
        string padded = "^" + word + "$";
        for (int i = 0; i + 3 <= padded.Length; i++) set.Add(padded.Substring(i, 3));
        return set;
    }

    // ------------------------------------------------------------------ determinism

    private static ulong Hash(params string[] keys)
    {
        byte[] digest = SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('\u0001', keys)));
        return BitConverter.ToUInt64(digest, 0);
    }

    private static double Unit(params string[] keys) => (Hash(keys) >> 11) * (1.0 / (1UL << 53));

    private static double Jaccard(HashSet<string> a, HashSet<string> b)
    {
        if (a.Count == 0 || b.Count == 0) return 0;
        int shared = a.Count(b.Contains);
        return shared / (double)(a.Count + b.Count - shared);
    }

    [GeneratedRegex(@"\{[^{}]*\}")]
    private static partial Regex JsonTemplate();

    [GeneratedRegex(@"-?\d+(?:\.\d+)?")]
    private static partial Regex FirstNumber();

    [GeneratedRegex(@"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")]
    private static partial Regex Email();
}
