using System.Globalization;
using System.Text;
using System.Text.Json;

namespace FineTuneOrchestrator.Pipeline.IntegrationTests;

/// <summary>
/// Datasets for the evaluation's own tests, made for the simulator's realistic models: a four-class ticket task whose
/// messages carry some words that resemble their label (so a base model guesses better than chance but far from perfect),
/// and a free-text support task answered in templated sentences.
/// </summary>
internal static class EvaluationDatasets
{
    public static readonly string[] Labels = ["billing", "shipping", "account", "technical"];

    private static readonly Dictionary<string, string[]> Templates = new()
    {
        ["billing"] = ["I was billed twice for my {0} plan, please refund one charge", "The invoice for my {0} subscription shows the wrong amount", "My card was charged after I cancelled the {0} plan", "Why did the price of my {0} plan go up this month"],
        ["shipping"] = ["My {0} has not shipped yet, the label was created a week ago", "The parcel with my {0} arrived damaged", "Can you change the delivery address for my {0} order", "The courier lost the box with my {0}"],
        ["account"] = ["I cannot log in to my account on the {0}", "Please change the email address on my account for the {0}", "My account was locked after using the {0} app", "How do I delete my profile and data from the {0} service"],
        ["technical"] = ["The {0} keeps crashing after the firmware update", "The {0} does not turn on, the light blinks red", "Bluetooth pairing fails on my {0}", "The {0} app freezes when I open the settings page"],
    };

    private static readonly string[] Products = ["router", "smart plug", "fitness band", "laptop", "desk lamp", "webcam", "speaker", "tablet", "doorbell", "thermostat"];

    public const string SystemPrompt = "Classify the support ticket into billing, shipping, account or technical.";

    public const string Schema = """
        {"type": "object", "required": ["category"], "additionalProperties": false,
         "properties": {"category": {"type": "string", "enum": ["billing", "shipping", "account", "technical"]}}}
        """;

    public static JsonElement SchemaElement() => JsonDocument.Parse(Schema).RootElement.Clone();

    /// <summary>Ticket <paramref name="i"/>: its text and true label (ticket numbers keep every text distinct).</summary>
    public static (string Text, string Label) Ticket(int i)
    {
        string label = Labels[i % 4];
        string[] templates = Templates[label];
        string product = Products[(i / 4) % Products.Length];
        return (string.Format(CultureInfo.InvariantCulture, templates[(i / 40) % templates.Length], product) + $". Ticket {1000 + i}.", label);
    }

    private static string Line(string text, string label) => JsonSerializer.Serialize(new
    {
        messages = new object[]
        {
            new { role = "system", content = SystemPrompt },
            new { role = "user", content = text },
            new { role = "assistant", content = $$"""{"category":"{{label}}"}""" },
        },
    });

    /// <summary>Tickets of the given texts and labels as JSONL.</summary>
    public static string Lines(IEnumerable<(string Text, string Label)> tickets) => string.Concat(tickets.Select(t => Line(t.Text, t.Label) + "\n"));

    /// <summary>Tickets <paramref name="from"/>.. as JSONL; <paramref name="label"/> may replace the true labels (noise).</summary>
    public static string Tickets(int from, int count, Func<int, string, string>? label = null)
    {
        var sb = new StringBuilder();
        for (int i = from; i < from + count; i++)
        {
            (string? text, string? truth) = Ticket(i);
            sb.Append(Line(text, label?.Invoke(i, truth) ?? truth)).Append('\n');
        }

        return sb.ToString();
    }

    /// <summary>The same tickets with labels drawn at random (seeded): nothing left to learn.</summary>
    public static string ShuffledTickets(int from, int count, int seed)
    {
        var random = new Random(seed);
        return Tickets(from, count, (_, _) => Labels[random.Next(Labels.Length)]);
    }

    public static PipelineRunRequest Classification(string dataset, string alias, string suffix, int epochs = 2) => new()
    {
        Dataset = new DatasetSpec { Name = dataset },
        BaseModel = "gpt-4o-mini",
        Suffix = suffix,
        Seed = 42,
        Hyperparameters = new HyperparametersSpec { Epochs = epochs },
        Evaluation = new EvaluationSpec { AccuracyField = "category", JsonSchema = SchemaElement(), SchemaName = "ticket" },
        Gates = new GateSpec { MinImprovementOverBaseline = 0 },
        Alias = alias,
        Polling = new PollingSpec { MinIntervalSeconds = 0.2, MaxIntervalSeconds = 0.5, DeadlineHours = 1 },
    };

    private static readonly (string Intent, string Question, string Answer)[] Intents =
    [
        ("reset", "How do I reset my {0}?", "To reset the {0}, hold the power button for ten seconds until the light blinks white, then set it up again in the app."),
        ("refund", "Can I get my money back for the {0}?", "You can return the {0} within thirty days for a full refund; start the return from your orders page and we email a prepaid label."),
        ("battery", "The battery of my {0} drains fast, what can I do?", "Update the {0} to the latest firmware, turn off always-on features you do not use, and recalibrate by charging it fully once."),
        ("wifi", "My {0} will not connect to wifi.", "Move the {0} closer to the router, make sure the network is 2.4 GHz, and forget and re-add the network in the app."),
        ("warranty", "Is my {0} still under warranty?", "Every {0} has a two-year warranty from the delivery date; enter the serial number on the warranty page to see yours."),
    ];

    /// <summary>Free-text questions and their reference answers (JSONL).</summary>
    public static string FreeText(int from, int count)
    {
        var sb = new StringBuilder();
        for (int i = from; i < from + count; i++)
        {
            (string _, string? question, string? answer) = Intents[i % Intents.Length];
            string product = Products[(i / Intents.Length) % Products.Length];
            sb.Append(JsonSerializer.Serialize(new
            {
                messages = new object[]
                {
                    new { role = "system", content = "You are the support assistant. Answer the customer in one or two sentences." },
                    new { role = "user", content = string.Format(CultureInfo.InvariantCulture, question, product) + $" (order {5000 + i})" },
                    new { role = "assistant", content = string.Format(CultureInfo.InvariantCulture, answer, product) },
                },
            })).Append('\n');
        }

        return sb.ToString();
    }

    /// <summary>The graders of the free-text task: ROUGE-L (primary), BLEU, and a judge scoring 1 to 5 against the reference.</summary>
    public static JsonElement FreeTextGraders() => JsonDocument.Parse("""
        [
          {"type": "text_similarity", "name": "rouge", "input": "{{ sample.output_text }}", "reference": "{{ item.reference }}", "evaluation_metric": "rouge_l", "pass_threshold": 0.5},
          {"type": "text_similarity", "name": "bleu", "input": "{{ sample.output_text }}", "reference": "{{ item.reference }}", "evaluation_metric": "bleu"},
          {"type": "score_model", "name": "judge", "model": "gpt-4.1", "range": [1, 5], "pass_threshold": 4,
           "input": [
             {"role": "system", "content": "Score the answer against the reference on a scale from 1 to 5: 5 means it says the same."},
             {"role": "user", "content": "<reference>{{ item.reference }}</reference>\n<answer>{{ sample.output_text }}</answer>"}
           ]}
        ]
        """).RootElement.Clone();
}
