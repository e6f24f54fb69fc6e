using System.Text.Json;
using System.Text.Json.Nodes;

namespace FineTuneOrchestrator.Evaluation;

/// <summary>
/// The structured output the model graders ask their judge for. OpenAI describes its score model grader as asking for
/// <c>{"result": number, "steps": [{"description", "conclusion"}]}</c>; the label grader here asks for the same shape with
/// <c>result</c> one of the labels. Strict schemas: every property required, no others.
/// </summary>
public static class JudgeFormat
{
    /// <summary>The response format of a <c>score_model</c> judge call.</summary>
    public static JsonObject Score() => Format("score", new JsonObject { ["type"] = "number" });

    /// <summary>The response format of a <c>label_model</c> judge call: <c>result</c> is one of <paramref name="labels"/>.</summary>
    public static JsonObject Label(IReadOnlyList<string> labels)
    {
        ArgumentNullException.ThrowIfNull(labels);
        return Format("label", new JsonObject { ["type"] = "string", ["enum"] = new JsonArray([.. labels.Select(l => (JsonNode)JsonValue.Create(l))]) });
    }

    /// <summary>The <c>result</c> of a judge's JSON answer; null when the answer is not such an object.</summary>
    public static JsonNode? Result(string answer)
    {
        try
        {
            return JsonNode.Parse(answer) is JsonObject o ? o["result"] : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    internal static string Cut(string text) => text.Length > 80 ? text[..80] + "…" : text;

    private static JsonObject Format(string name, JsonObject result) => new()
    {
        ["type"] = "json_schema",
        ["json_schema"] = new JsonObject
        {
            ["name"] = name,
            ["strict"] = true,
            ["schema"] = new JsonObject
            {
                ["type"] = "object",
                ["properties"] = new JsonObject
                {
                    ["steps"] = new JsonObject
                    {
                        ["type"] = "array",
                        ["items"] = new JsonObject
                        {
                            ["type"] = "object",
                            ["properties"] = new JsonObject { ["description"] = new JsonObject { ["type"] = "string" }, ["conclusion"] = new JsonObject { ["type"] = "string" } },
                            ["required"] = new JsonArray("description", "conclusion"),
                            ["additionalProperties"] = false,
                        },
                    },
                    ["result"] = result,
                },
                ["required"] = new JsonArray("steps", "result"),
                ["additionalProperties"] = false,
            },
        },
    };
}
