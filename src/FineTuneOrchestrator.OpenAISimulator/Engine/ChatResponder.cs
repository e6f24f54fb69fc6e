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

    public static string Answer(SimJob? trained, string lastUserMessage)
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
        var index = (int)((uint)StableHash(lastUserMessage) % (uint)GenericReplies.Length);
        return string.Format(System.Globalization.CultureInfo.InvariantCulture, GenericReplies[index], snippet);
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
