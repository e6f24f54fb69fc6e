using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace FineTuneOrchestrator.Pipeline;

/// <summary>
/// One held-out case, as stored in the run's case chunks: the prompt messages exactly as the dataset line has them (images,
/// tool calls and tool results included), the tools the line offers, the expected answer (text and/or tool calls), the
/// label it is stratified by, and the grader item (<c>{{item.…}}</c>).
/// </summary>
internal sealed record EvalCase
{
    /// <summary>Position among the evaluated cases.</summary>
    public int Index { get; init; }

    /// <summary>The 1-based line of the held-out file.</summary>
    public int Line { get; init; }

    /// <summary>The messages sent (everything before the expected assistant message).</summary>
    public required JsonArray Messages { get; init; }

    /// <summary>The line's <c>tools</c>, sent with the request (null when none).</summary>
    public JsonArray? Tools { get; init; }

    /// <summary>The expected assistant text (null when the expected answer is only tool calls).</summary>
    public string? Expected { get; init; }

    /// <summary>The expected tool calls (JSON), when the expected answer calls tools.</summary>
    public string? ExpectedToolCalls { get; init; }

    /// <summary>The expected label (the class or accuracy field of a JSON answer), for stratified sampling and per-class results.</summary>
    public string? Label { get; init; }

    /// <summary>The last user message's text (what a person reads as "the prompt").</summary>
    public string? Prompt { get; init; }

    /// <summary>
    /// The grader item: the line's own fields other than the messages, plus <c>reference</c> (the expected text),
    /// <c>reference_json</c> (it parsed, when it is JSON), <c>reference_tools</c> and <c>input</c> (the last user message).
    /// </summary>
    public required JsonObject Item { get; init; }
}

/// <summary>Reading held-out lines into <see cref="EvalCase"/>s, and the blob layout of an evaluation.</summary>
internal static class EvalCases
{
    public const string CandidateRole = "candidate";
    public const string BaselineRole = "baseline";

    public static string CheckpointRole(int step) => "checkpoint-" + step.ToString(CultureInfo.InvariantCulture);

    public static string ChunkBlob(string runId, int chunk) => $"{runId}/evaluation/cases/{chunk.ToString("D5", CultureInfo.InvariantCulture)}.jsonl";

    public static string ResultBlob(string runId, string role, int chunk) => $"{runId}/evaluation/{role}/{chunk.ToString("D5", CultureInfo.InvariantCulture)}.jsonl";

    /// <summary>
    /// A chat line: the messages before the last assistant message are the prompt, that message is the expected answer.
    /// A preference (DPO) line: <c>input.messages</c> and the preferred output. Null, with the reason, for a line that is
    /// no case (no assistant answer, not an object).
    /// </summary>
    public static EvalCase? TryParse(string line, int lineNumber, string? labelField, out string? skipped)
    {
        skipped = null;
        JsonObject? root;
        try
        {
            root = JsonNode.Parse(line) as JsonObject;
        }
        catch (JsonException)
        {
            skipped = "not JSON";
            return null;
        }

        if (root is null)
        {
            skipped = "not a JSON object";
            return null;
        }

        JsonArray prompt;
        JsonObject? answer;
        if (root["input"] is JsonObject input && input["messages"] is JsonArray preferenceMessages)
        {
            var preferred = (root["preferred_output"] ?? root["preferred_completion"]) as JsonArray;
            answer = preferred is { Count: > 0 } ? preferred[0] as JsonObject : null;
            prompt = (JsonArray)preferenceMessages.DeepClone();
        }
        else if (root["messages"] is JsonArray messages)
        {
            int last = -1;
            for (int i = 0; i < messages.Count; i++)
            {
                if (messages[i]?["role"] is JsonValue r && r.TryGetValue(out string? role) && role == "assistant") last = i;
            }

            answer = last > 0 ? messages[last] as JsonObject : null;
            prompt = new JsonArray([.. messages.Take(Math.Max(0, last)).Select(m => m?.DeepClone())]);
        }
        else
        {
            skipped = "no messages";
            return null;
        }

        if (answer is null || prompt.Count == 0)
        {
            skipped = "no assistant answer after the prompt";
            return null;
        }

        string? expected = Text(answer["content"]);
        string? toolCalls = answer["tool_calls"] is JsonArray calls && calls.Count > 0 ? calls.ToJsonString() : null;
        if (expected is null && toolCalls is null)
        {
            skipped = "the assistant answer has neither text nor tool calls";
            return null;
        }

        string? lastUser = prompt.Where(m => m?["role"] is JsonValue r && r.TryGetValue(out string? role) && role == "user").Select(m => Text(m!["content"])).LastOrDefault();
        var item = new JsonObject();
        foreach ((string? key, JsonNode? value) in root)
        {
            if (key is not ("messages" or "input" or "preferred_output" or "non_preferred_output" or "preferred_completion" or "non_preferred_completion" or "tools"))
            {
                item[key] = value?.DeepClone();
            }
        }

        item["reference"] = expected ?? "";
        if (expected is not null && TryParseJson(expected) is { } json) item["reference_json"] = json;
        if (toolCalls is not null) item["reference_tools"] = JsonNode.Parse(toolCalls);
        item["input"] = lastUser ?? "";
        return new EvalCase
        {
            Line = lineNumber,
            Messages = prompt,
            Tools = root["tools"] is JsonArray tools && tools.Count > 0 ? (JsonArray)tools.DeepClone() : null,
            Expected = expected,
            ExpectedToolCalls = toolCalls,
            Label = labelField is null ? null : EvaluationScoring.ReadLabel(expected, labelField),
            Prompt = lastUser,
            Item = item,
        };
    }

    /// <summary>The user messages' text of a training or held-out line (what overlap is judged on); null when none.</summary>
    public static string? UserText(string line)
    {
        try
        {
            var root = JsonNode.Parse(line) as JsonObject;
            JsonArray? messages = (root?["input"] as JsonObject)?["messages"] as JsonArray ?? root?["messages"] as JsonArray;
            if (messages is null) return null;
            var texts = messages.Where(m => m?["role"] is JsonValue r && r.TryGetValue(out string? role) && role == "user").Select(m => Text(m!["content"])).OfType<string>().ToList();
            return texts.Count == 0 ? null : string.Join("\n", texts);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>Text of a message's content: a string, or the text parts of a content array joined.</summary>
    public static string? Text(JsonNode? content)
    {
        if (content is JsonValue v && v.TryGetValue(out string? s)) return s;
        if (content is not JsonArray parts) return null;
        var sb = new StringBuilder();
        foreach (JsonNode? part in parts)
        {
            if (part?["type"] is JsonValue t && t.TryGetValue(out string? type) && type == "text" && part["text"] is JsonValue text && text.TryGetValue(out string? value))
            {
                sb.Append(value);
            }
        }

        return sb.Length == 0 ? null : sb.ToString();
    }

    private static JsonNode? TryParseJson(string text)
    {
        try
        {
            return JsonNode.Parse(text);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
