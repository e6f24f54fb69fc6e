using System.Text.Json.Nodes;

namespace FineTuneOrchestrator.OpenAISimulator.Engine;

/// <summary>
/// Answers chat completions: a fine-tuned model replies with the assistant message of its nearest training example
/// (word-overlap similarity to the last user message); a base model replies generically, plausible but rarely right.
/// </summary>
internal static class ChatResponder
{
    private static readonly string[] GenericReplies =
    [
        "Thanks for reaching out. Based on what you describe, this looks like a general question about \"{0}\". Could you share more details so I can help?",
        "I'm not certain, but \"{0}\" is usually handled by checking the settings first and trying again later.",
        "Here is a short answer: it depends on the context of \"{0}\". In most cases the default behaviour is fine.",
        "That's a good question. Regarding \"{0}\", I would recommend contacting the relevant team for an accurate answer.",
    ];

    public static string Answer(SimJob? trained, string lastUserMessage, JsonNode? jsonSchema = null)
    {
        if (trained is not null && trained.Examples.Count > 0)
        {
            var words = TrainingData.Words(lastUserMessage);
            TrainingExample best = trained.Examples[0];
            var bestScore = -1.0;
            foreach (var example in trained.Examples)
            {
                var score = Similarity(words, example.PromptWords);
                if (score > bestScore)
                {
                    bestScore = score;
                    best = example;
                }
            }

            return best.Reply;
        }

        var snippet = lastUserMessage.Length > 60 ? lastUserMessage[..60].TrimEnd() + "…" : lastUserMessage;
        if (jsonSchema is not null)
        {
            // Structured outputs guarantee the shape, not the answer: a base model gives a valid but arbitrary instance.
            return (SchemaInstance(jsonSchema, lastUserMessage, snippet, 0) ?? new JsonObject()).ToJsonString();
        }

        var index = (int)((uint)StableHash(lastUserMessage) % (uint)GenericReplies.Length);
        return string.Format(System.Globalization.CultureInfo.InvariantCulture, GenericReplies[index], snippet);
    }

    /// <summary>The schema of a <c>response_format: {type: json_schema}</c> request; null for other formats.</summary>
    public static JsonNode? JsonSchemaOf(JsonObject body) =>
        body["response_format"] is JsonObject format && format["type"] is JsonValue type && type.TryGetValue(out string? t) && t == "json_schema"
            ? format["json_schema"]?["schema"]
            : null;

    // An instance of a (small) JSON schema: enum values picked by a hash of the message, empty arrays, zeros, the snippet as text.
    private static JsonNode? SchemaInstance(JsonNode? schema, string message, string snippet, int depth)
    {
        if (schema is not JsonObject s || depth > 8)
        {
            return null;
        }

        if (s["enum"] is JsonArray values && values.Count > 0)
        {
            var pick = values[(int)((uint)StableHash(message + depth) % (uint)values.Count)];
            return pick?.DeepClone();
        }

        if (s["const"] is { } constant)
        {
            return constant.DeepClone();
        }

        if ((s["anyOf"] ?? s["oneOf"]) is JsonArray choices && choices.Count > 0)
        {
            return SchemaInstance(choices[0], message, snippet, depth + 1);
        }

        var type = s["type"] switch
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
                    foreach (var (name, propertySchema) in properties)
                    {
                        result[name] = SchemaInstance(propertySchema, message + name, snippet, depth + 1);
                    }
                }

                return result;
            case "array":
                return new JsonArray();
            case "integer":
            case "number":
                return 0;
            case "boolean":
                return false;
            case "null":
                return null;
            default:
                return snippet;
        }
    }

    private static double Similarity(HashSet<string> a, HashSet<string> b)
    {
        if (a.Count == 0 || b.Count == 0)
        {
            return 0;
        }

        var shared = 0;
        foreach (var w in a)
        {
            if (b.Contains(w))
            {
                shared++;
            }
        }

        return shared / (double)(a.Count + b.Count - shared);
    }

    private static int StableHash(string s)
    {
        unchecked
        {
            var h = (int)2166136261;
            foreach (var c in s)
            {
                h = (h ^ c) * 16777619;
            }

            return h;
        }
    }

    /// <summary>Text of a request message's content (string or content parts).</summary>
    public static string ContentText(JsonNode? content) => content switch
    {
        JsonValue v when v.TryGetValue(out string? s) => s,
        JsonArray parts => string.Join(' ', parts.Select(p => p?["text"] is JsonValue t && t.TryGetValue(out string? s) ? s : "").Where(s => s.Length > 0)),
        _ => "",
    };
}
