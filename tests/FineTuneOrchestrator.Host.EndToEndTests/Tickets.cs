using System.Text;
using System.Text.Json;

namespace FineTuneOrchestrator.Host.EndToEndTests;

/// <summary>
/// A small deterministic support-ticket dataset: chat examples answering {"category","priority"} as JSON, with a schema fit
/// for strict structured output. The simulator's fine-tuned models vote among the closest training examples, so held-out
/// tickets written from the same templates are mostly classified right; the base model guesses from the words.
/// </summary>
internal static class Tickets
{
    public const string Schema = """
        { "type": "object", "required": ["category", "priority"], "additionalProperties": false,
          "properties": { "category": { "enum": ["billing", "technical", "account", "shipping", "feedback"] },
                          "priority": { "enum": ["low", "medium", "high"] } } }
        """;

    private const string SystemPrompt = "Classify the support ticket. Answer with JSON only: {\"category\": ..., \"priority\": ...}.";

    private static readonly (string Category, string Priority, string[] Texts)[] Templates =
    [
        ("billing", "medium", ["I was charged twice for my {0} subscription this month", "my invoice for the {0} plan shows the wrong price", "please refund the duplicate payment for {0}"]),
        ("technical", "high", ["the {0} router keeps disconnecting from wifi after the firmware update", "my {0} device does not turn on and the led blinks red", "the app crashes when I open settings on {0}"]),
        ("account", "low", ["I cannot log in because the password reset email for {0} never arrives", "please change the email address on my {0} account", "two factor codes are rejected when I sign in to {0}"]),
        ("shipping", "medium", ["my {0} order has not arrived and tracking has not moved", "the package with my {0} arrived damaged and crushed", "I received the wrong item instead of the {0}"]),
        ("feedback", "low", ["I love the new design of the {0} great job team", "suggestion add a dark mode to the {0} companion app", "the setup guide for {0} was very clear thanks"]),
    ];

    private static readonly string[] Products = ["Nimbus", "Aurora", "Pulse", "Vega", "Orbit", "Echo", "Zephyr", "Atlas"];

    /// <summary>Lines for <paramref name="count"/> examples, cycling through categories; <paramref name="offset"/> shifts products so held-out text differs.</summary>
    public static string Jsonl(int count, int offset = 0, Func<string, string>? relabel = null)
    {
        var sb = new StringBuilder();
        for (int i = 0; i < count; i++)
        {
            (string? category, string? priority, string[]? texts) = Templates[i % Templates.Length];
            string product = Products[(i / Templates.Length + offset) % Products.Length];
            string text = string.Format(System.Globalization.CultureInfo.InvariantCulture, texts[(i / (Templates.Length * Products.Length) + offset) % texts.Length], product) + $" (ref {1000 + i + (offset * 7919)})";
            string answer = JsonSerializer.Serialize(new { category = relabel?.Invoke(category) ?? category, priority });
            sb.Append(JsonSerializer.Serialize(new
            {
                messages = new object[]
                {
                    new { role = "system", content = SystemPrompt },
                    new { role = "user", content = text },
                    new { role = "assistant", content = answer },
                },
            })).Append('\n');
        }

        return sb.ToString();
    }

    /// <summary>Uploads {name}/eval.jsonl, then {name}/train.jsonl (last, since it is what triggers).</summary>
    public static async Task UploadAsync(Azure.Storage.Blobs.BlobContainerClient container, string name, int train = 40, int eval = 15, Func<string, string>? relabelEval = null)
    {
        await AppDeployment.UploadAsync(container, $"{name}/eval.jsonl", Jsonl(eval, offset: 3, relabel: relabelEval));
        await AppDeployment.UploadAsync(container, $"{name}/train.jsonl", Jsonl(train));
    }
}
